package filters

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/cespare/xxhash/v2"
)

// Options are the filter flags, as given on the command line. Each flag may
// be repeated; the values keep their command-line order.
type Options struct {
	Filter      []string // --filter: "+ pattern", "- pattern" or "!"
	FilterFiles []string // --filters-file (rclone's --filter-from): files of --filter rules
	Include     []string // --include: patterns to include
	Exclude     []string // --exclude: patterns to exclude
	IncludeFrom []string // --include-from: files of patterns to include
	ExcludeFrom []string // --exclude-from: files of patterns to exclude
	MinSize     string   // --min-size: "" or "off" for none; rclone's size syntax ("100k", "1.5M")
	MaxSize     string   // --max-size: as MinSize
}

// A Filter decides which paths a sync sees. Build one with Parse; it is
// read-only afterwards and safe for concurrent use. A nil *Filter has no
// rules: it excludes only what is always excluded.
type Filter struct {
	files, dirs      ruleList
	minSize, maxSize int64 // -1: no limit
}

// rule is one compiled rule.
type rule struct {
	include bool
	pattern string // as rclone matches it: "- dir/" is stored as "dir/**"
	m       *matcher
}

func (r rule) String() string {
	p := r.pattern
	if strings.ContainsFunc(p, unicode.IsControl) {
		p = strconv.Quote(p) // one rule, one line
	}
	if r.include {
		return "+ " + p
	}
	return "- " + p
}

// ruleList is an ordered list of rules, the first match wins.
type ruleList struct {
	rules []rule
	seen  map[ruleKey]bool // to skip repeated rules, as rclone does
}

type ruleKey struct {
	include bool
	pattern string
}

func (l *ruleList) add(r rule) {
	key := ruleKey{r.include, r.pattern}
	if l.seen[key] {
		// A repeated rule can never be the first match.
		return
	}
	if l.seen == nil {
		l.seen = make(map[ruleKey]bool)
	}
	l.seen[key] = true
	l.rules = append(l.rules, r)
}

func (l *ruleList) clear() { *l = ruleList{} }

// include applies the rules to s: the first rule that matches decides, and
// s is included if none does.
func (l *ruleList) include(s string) bool {
	for _, r := range l.rules {
		if r.m.Match(s) {
			return r.include
		}
	}
	return true
}

// Parse builds a Filter from the flags, reading the files they name. Rules
// are taken in rclone's order, whatever their order on the command line:
// --include, --include-from, --exclude, --exclude-from, --filter,
// --filters-file; each flag's values in the order given, and each file from
// top to bottom. If there was any --include or --include-from, a final
// "- /**" excludes everything else. The first rule that matches a path
// decides; a path that matches none is included.
//
// A rule Parse cannot use is a *RuleError naming the file and line (or the
// flag) and the pattern, before anything is listed.
func Parse(opts Options) (*Filter, error) {
	return parse(opts, os.ReadFile)
}

// parse is Parse with the rule files read by readFile.
func parse(opts Options, readFile func(name string) ([]byte, error)) (*Filter, error) {
	f := &Filter{}
	var err error
	if f.minSize, err = parseSize(opts.MinSize); err != nil {
		return nil, fmt.Errorf("%w: --min-size %q: %v", ErrBadSize, opts.MinSize, err)
	}
	if f.maxSize, err = parseSize(opts.MaxSize); err != nil {
		return nil, fmt.Errorf("%w: --max-size %q: %v", ErrBadSize, opts.MaxSize, err)
	}
	b := builder{f: f, compiled: make(map[string]*matcher), readFile: readFile}
	implicitExclude := false
	for _, p := range opts.Include {
		if err := b.add(true, p); err != nil {
			return nil, &RuleError{Source: "--include", Rule: p, Err: err}
		}
		implicitExclude = true
	}
	for _, name := range opts.IncludeFrom {
		err := b.eachLineOfFile(name, func(text string) error { return b.add(true, text) })
		if err != nil {
			return nil, err
		}
		implicitExclude = true
	}
	for _, p := range opts.Exclude {
		if err := b.add(false, p); err != nil {
			return nil, &RuleError{Source: "--exclude", Rule: p, Err: err}
		}
	}
	for _, name := range opts.ExcludeFrom {
		err := b.eachLineOfFile(name, func(text string) error { return b.add(false, text) })
		if err != nil {
			return nil, err
		}
	}
	for _, r := range opts.Filter {
		// As in rclone, a --filter value is used as is: no trimming, no
		// comments.
		if err := b.addRule(r); err != nil {
			return nil, &RuleError{Source: "--filter", Rule: r, Err: err}
		}
	}
	for _, name := range opts.FilterFiles {
		if err := b.eachLineOfFile(name, b.addRule); err != nil {
			return nil, err
		}
	}
	if implicitExclude {
		if err := b.add(false, "/**"); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// builder adds rules to a Filter the way rclone's filter.Filter.Add does.
type builder struct {
	f        *Filter
	compiled map[string]*matcher
	readFile func(name string) ([]byte, error)
}

func (b *builder) compile(pattern string) (*matcher, error) {
	if m, ok := b.compiled[pattern]; ok {
		return m, nil
	}
	m, err := compilePattern(pattern)
	if err != nil {
		return nil, err
	}
	b.compiled[pattern] = m
	return m, nil
}

// add adds one include or exclude pattern. A pattern ending in "/" is a
// directory rule, which only decides whether directories are listed; an
// excluded "dir/" is "dir/**", so it excludes the files below too; a
// pattern with "**" is both a file and a directory rule; an include file
// rule adds the directory rules for the directories its files can be in.
func (b *builder) add(include bool, pattern string) error {
	isDirRule := strings.HasSuffix(pattern, "/")
	isFileRule := !isDirRule
	if isDirRule && !include {
		pattern += "**"
	}
	if strings.Contains(pattern, "**") {
		isDirRule, isFileRule = true, true
	}
	// Compile everything first: a pattern rclone refuses (ErrBadPattern,
	// here or in its directory part) takes precedence over one that only
	// ferry cannot match (ErrUnsupported).
	m, err := b.compile(pattern)
	if err != nil && !errors.Is(err, ErrUnsupported) {
		return err
	}
	var dirRules []rule
	// An exclude rule cannot rule out a directory, except "*", which
	// excludes them all.
	if isFileRule && (include || pattern == "*") {
		for _, dirPattern := range globToDirGlobs(pattern) {
			if dirPattern == "/" {
				continue // the root is always listed
			}
			dm, derr := b.compile(dirPattern)
			if derr != nil {
				var k *kindError
				if errors.As(derr, &k) {
					derr = &kindError{k.kind, fmt.Sprintf("%s (the directory part of %q)", k.msg, pattern)}
				}
				if !errors.Is(derr, ErrUnsupported) {
					return derr
				}
				if err == nil {
					err = derr
				}
			}
			dirRules = append(dirRules, rule{include, dirPattern, dm})
		}
	}
	if err != nil {
		return err
	}
	if isFileRule {
		b.f.files.add(rule{include, pattern, m})
		for _, r := range dirRules {
			b.f.dirs.add(r)
		}
	}
	if isDirRule {
		b.f.dirs.add(rule{include, pattern, m})
	}
	return nil
}

// addRule adds one --filter rule: "+ pattern", "- pattern", or "!", which
// clears every rule so far (including those of --include and --exclude).
func (b *builder) addRule(text string) error {
	switch {
	case text == "!":
		b.f.files.clear()
		b.f.dirs.clear()
		return nil
	case strings.HasPrefix(text, "- "):
		return b.add(false, text[2:])
	case strings.HasPrefix(text, "+ "):
		return b.add(true, text[2:])
	}
	return malformed(text)
}

// eachLineOfFile calls fn on each rule of a rule file; see eachLine.
func (b *builder) eachLineOfFile(name string, fn func(text string) error) error {
	if name == "-" {
		return fmt.Errorf("filters: reading rules from standard input (%q) is not supported", name)
	}
	data, err := b.readFile(name)
	if err != nil {
		return fmt.Errorf("filters: %w", err)
	}
	return eachLine(name, data, fn)
}

// eachLine calls fn on each line of a rule file, as rclone reads them:
// lines are trimmed of white space, and blank lines and lines starting
// with "#" or ";" are skipped. A UTF-8 byte order mark at the start is
// skipped too (rclone would take it as part of the first rule). An error
// from fn comes back as a *RuleError at the line.
func eachLine(source string, data []byte, fn func(text string) error) error {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	scanner := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for scanner.Scan() {
		line++
		raw := scanner.Text()
		text := strings.TrimSpace(raw)
		if text == "" || text[0] == '#' || text[0] == ';' {
			continue
		}
		if err := fn(text); err != nil {
			return &RuleError{Source: source, Line: line, Rule: raw, Err: err}
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("filters: %s:%d: %w", source, line+1, err)
	}
	return nil
}

// Include reports whether a file is included: it is not ferry's metadata
// or a temporary file (see IsTemporary), its size is within --min-size and
// --max-size, and the file rules include it. path is slash-separated,
// relative to the root, without a leading "/". size -1 (unknown) is below
// any --min-size, as in rclone.
//
// Include does not look at the directories above path: as in rclone, a
// file in a directory that IncludeDir excludes is not listed at all, so a
// caller that does not prune its listing with IncludeDir must check the
// parents itself.
func (f *Filter) Include(path string, size int64) bool {
	if alwaysExcluded(path) {
		return false
	}
	if f == nil {
		return true
	}
	if f.minSize >= 0 && size < f.minSize {
		return false
	}
	if f.maxSize >= 0 && size > f.maxSize {
		return false
	}
	return f.files.include(path)
}

// IncludeDir reports whether a directory should be listed, from the
// directory rules as rclone decides it: false means that no file below dir
// can be included, or that the rules exclude the directory and all it
// holds. dir is relative to the root, with or without a trailing "/"; the
// root ("") is always listed, and ferry's metadata folder never.
func (f *Filter) IncludeDir(dir string) bool {
	dir = strings.Trim(dir, "/")
	if dir == "" {
		return true
	}
	if dir == MetaDir || strings.HasPrefix(dir, MetaDir+"/") {
		return false
	}
	if f == nil {
		return true
	}
	return f.dirs.include(dir + "/")
}

// String lists the effective rules, one a line, in the order they apply:
// the limits, then the file rules and the directory rules, with the rules
// implied by rclone's ordering ("- /**" after an include, the directory
// rules of each include) written out and the rules cleared by "!" left out.
func (f *Filter) String() string {
	var b strings.Builder
	b.WriteString("# always excluded: /" + MetaDir + "/, *.XXXXXXXX.partial, .*.ferry-XXXXXXXXXXXXXXXX.partial\n")
	if f == nil {
		f = &Filter{minSize: -1, maxSize: -1}
	}
	if f.minSize >= 0 {
		fmt.Fprintf(&b, "min size: %d bytes\n", f.minSize)
	}
	if f.maxSize >= 0 {
		fmt.Fprintf(&b, "max size: %d bytes\n", f.maxSize)
	}
	b.WriteString("# file rules\n")
	for _, r := range f.files.rules {
		b.WriteString(r.String() + "\n")
	}
	b.WriteString("# directory rules\n")
	for _, r := range f.dirs.rules {
		b.WriteString(r.String() + "\n")
	}
	return b.String()
}

// Fingerprint returns a short stable hash (16 hex digits) of the
// effective rules, which the history records to tell whether the filters
// changed between runs. It covers what String lists: the limits, the file
// rules and the directory rules after "!" and rclone's ordering are
// applied. Rules that mean the same but are written differently ("*.txt"
// and "{*.txt}") have different fingerprints; the files the rules came
// from, their comments and repeated rules do not count.
func (f *Filter) Fingerprint() string {
	if f == nil {
		f = &Filter{minSize: -1, maxSize: -1}
	}
	// An unambiguous encoding: a pattern may hold any character.
	var b strings.Builder
	fmt.Fprintf(&b, "ferry filters 1\nmin %d\nmax %d\n", f.minSize, f.maxSize)
	for _, list := range []ruleList{f.files, f.dirs} {
		fmt.Fprintf(&b, "rules %d\n", len(list.rules))
		for _, r := range list.rules {
			fmt.Fprintf(&b, "%t %d %s\n", r.include, len(r.pattern), r.pattern)
		}
	}
	return fmt.Sprintf("%016x", xxhash.Sum64String(b.String()))
}
