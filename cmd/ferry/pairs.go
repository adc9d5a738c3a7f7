package main

// Named pairs: `ferry sync vault` runs the pair stored under the name
// "vault" in the pairs file, a TOML file a person edits by hand:
//
//	[vault]
//	path1 = '/home/me/vault'
//	path2 = 'vault-s3:notes'
//	mode = 'push'
//	exclude = ['.obsidian/**']
//
// Every key but path1 and path2 is a flag of ferry sync without its
// dashes, and its value is what the command line would take, so the
// stored flags go through sync's own flag parser. The pair commands
// (paircmd.go) edit the file as text, so a person's comments and layout
// survive them.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"

	"github.com/ferry-sync/ferry/backends/rclonefs"
)

// pairsFileEnv names the pairs file when --pairs-file is not given.
const pairsFileEnv = "FERRY_PAIRS"

// defaultPairsFile is $FERRY_PAIRS, else $XDG_CONFIG_HOME/ferry/pairs.toml,
// else ~/.config/ferry/pairs.toml (XDG_CONFIG_HOME counts only when
// absolute, as the XDG spec asks).
func defaultPairsFile() (string, error) {
	if p := os.Getenv(pairsFileEnv); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ferry", "pairs.toml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the default pairs file: %w; pass --pairs-file", err)
	}
	return filepath.Join(home, ".config", "ferry", "pairs.toml"), nil
}

// pairsFilePath is the pairs file to use: flag, if given, else the default.
func pairsFilePath(flag string) (string, error) {
	p := flag
	if p == "" {
		var err error
		if p, err = defaultPairsFile(); err != nil {
			return "", err
		}
	}
	p = expandHome(p)
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("pairs file %s: %w", p, err)
	}
	return abs, nil
}

// pairNameRule is the rule for pair names, as error messages state it. A
// name never holds '/', ':', '.' or '~', so it can never be read as a local
// path or a remote; and ferry sync with one argument always means a pair,
// with two always two paths.
const pairNameRule = "a pair name is 1 to 64 letters, digits, '-' and '_', starting with a letter or digit " +
	"(never '/', ':', '.' or '~', so that it cannot be mistaken for a path)"

var pairNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func validPairName(name string) bool { return pairNameRE.MatchString(name) }

// notStorable are sync's flags that a pair may not store: each is meant for
// one run that a person watches, not for every run of a timer.
var notStorable = map[string]string{
	"dry-run":    "it would make every run of the pair a dry run",
	"resync":     "it would throw the history away on every run",
	"force":      "it would let every run through the safety checks; give it on the command line for the one run that needs it",
	"every":      "it would make 'ferry sync NAME' never end; give it on the command line",
	"pairs-file": "a pair cannot name the file it is in",
}

// localPathFlags take a local path, which a pair stores absolute: a timer
// runs in another folder than the one the pair was added from.
var localPathFlags = []string{"filters-file", "include-from", "exclude-from", "workdir", "config"}

// remotePathFlags take a path that may be local or a remote.
var remotePathFlags = []string{"backup-dir1", "backup-dir2"}

// namedPair is one pair of the pairs file.
type namedPair struct {
	name         string
	path1, path2 string
	flags        []pairFlag // in the order sync --help lists them
	// err says what is wrong with the pair, if anything. A broken pair
	// fails only the commands that use it, so that one typo does not stop
	// every other pair's timer.
	err error
}

// pairFlag is one stored flag: its name and its values, as the command line
// would give them (one per occurrence of a repeatable flag).
type pairFlag struct {
	name   string
	values []string
}

// pairsFile is the pairs file as read: its text, for editing, and its pairs.
type pairsFile struct {
	path   string
	exists bool
	text   []byte
	pairs  map[string]*namedPair
	raw    map[string]any // as decoded, to check edits against
}

// readPairs reads the pairs file at path. A missing file holds no pairs.
// A file that is not TOML, or whose top level is not a set of tables, is
// an error; a pair with a bad key or value is kept with its err set.
func readPairs(path string) (*pairsFile, error) {
	pf := &pairsFile{path: path, pairs: map[string]*namedPair{}, raw: map[string]any{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pairs file: %w", err)
	}
	pf.exists, pf.text = true, b
	if pf.raw, err = decodePairs(path, b); err != nil {
		return nil, err
	}
	for name, v := range pf.raw {
		pf.pairs[name] = parsePair(name, v)
	}
	return pf, nil
}

// decodePairs decodes the pairs file's text, checking that its top level
// holds only tables.
func decodePairs(path string, b []byte) (map[string]any, error) {
	raw := map[string]any{}
	if err := toml.Unmarshal(b, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("pairs file %s: line %d, column %d: %w", path, row, col, err)
		}
		return nil, fmt.Errorf("pairs file %s: %w", path, err)
	}
	for name, v := range raw {
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("pairs file %s: %q is not a pair: each pair is a table that starts with a line [NAME]", path, name)
		}
	}
	return raw, nil
}

// parsePair turns one table of the pairs file into a pair, checking each
// stored flag with sync's flag parser.
func parsePair(name string, v any) *namedPair {
	p := &namedPair{name: name}
	fail := func(format string, args ...any) *namedPair {
		p.err = fmt.Errorf("pair %q: "+format, append([]any{name}, args...)...)
		return p
	}
	if !validPairName(name) {
		return fail("bad name: %s", pairNameRule)
	}
	table := v.(map[string]any)
	for _, key := range []string{"path1", "path2"} {
		s, ok := table[key].(string)
		if !ok || s == "" {
			return fail("%s is missing: a pair needs path1 and path2, each a string", key)
		}
		s, err := storedPath(key, s, true)
		if err != nil {
			return fail("%w", err)
		}
		if key == "path1" {
			p.path1 = s
		} else {
			p.path2 = s
		}
	}
	_, flags := syncFlagSet()
	for key, val := range table {
		if key == "path1" || key == "path2" {
			continue
		}
		if why, ok := notStorable[key]; ok {
			return fail("%s cannot be stored in a pair: %s", key, why)
		}
		fl := flags.Lookup(key)
		if fl == nil {
			return fail("%s is not a flag of ferry sync (each key of a pair but path1 and path2 is one, without its dashes: see 'ferry sync --help')", key)
		}
		values, err := flagValues(fl, val)
		if err != nil {
			return fail("%s: %w", key, err)
		}
		for i, s := range values {
			if slices.Contains(localPathFlags, key) || slices.Contains(remotePathFlags, key) {
				if values[i], err = storedPath(key, s, slices.Contains(remotePathFlags, key)); err != nil {
					return fail("%w", err)
				}
			}
			if err := flags.Set(key, values[i]); err != nil {
				return fail("%s = %q: %w", key, s, err)
			}
		}
		p.flags = append(p.flags, pairFlag{name: key, values: values})
	}
	sortPairFlags(p.flags)
	return p
}

// storedPath checks a path stored in a pair: a local path must be absolute
// or start with ~/ (expanded here), since a pair runs from any folder.
// maybeRemote says whether the path may also be a remote.
func storedPath(key, s string, maybeRemote bool) (string, error) {
	if maybeRemote && !rclonefs.IsLocal(s) {
		return s, nil
	}
	s = expandHome(s)
	if !filepath.IsAbs(s) {
		return "", fmt.Errorf("%s %q is a relative path: a pair runs from any folder, so write it absolute or starting with ~/", key, s)
	}
	return s, nil
}

// flagValues turns a TOML value into the strings the command line would
// give flag fl: a list only for a repeatable flag.
func flagValues(fl *pflag.Flag, v any) ([]string, error) {
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	} else if fl.Value.Type() != "stringArray" {
		return nil, fmt.Errorf("takes one value, not a list")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		switch e := e.(type) {
		case string:
			out = append(out, e)
		case bool:
			if fl.Value.Type() == "count" {
				// verbose = true reads as -v.
				out = append(out, strconv.Itoa(map[bool]int{false: 0, true: 1}[e]))
				continue
			}
			out = append(out, strconv.FormatBool(e))
		case int64:
			out = append(out, strconv.FormatInt(e, 10))
		case float64:
			out = append(out, strconv.FormatFloat(e, 'f', -1, 64))
		default:
			return nil, fmt.Errorf("%v is not a value ferry can pass to --%s (write a string, a number, true or false)", e, fl.Name)
		}
	}
	return out, nil
}

// syncFlagSet is a fresh set of sync's flags, in --help order.
func syncFlagSet() (*syncFlags, *pflag.FlagSet) {
	f := &syncFlags{}
	flags := pflag.NewFlagSet("sync", pflag.ContinueOnError)
	flags.SortFlags = false
	f.addFlags(flags, nil)
	return f, flags
}

// sortPairFlags puts flags in the order sync --help lists them.
func sortPairFlags(flags []pairFlag) {
	_, all := syncFlagSet()
	order := map[string]int{}
	all.VisitAll(func(fl *pflag.Flag) { order[fl.Name] = len(order) })
	slices.SortFunc(flags, func(a, b pairFlag) int { return order[a.name] - order[b.name] })
}

// exclusiveFlags are flags that cannot be given together: one given on the
// command line overrides the other stored in a pair.
var exclusiveFlags = map[string]string{
	"verbose":               "quiet",
	"quiet":                 "verbose",
	"create-empty-src-dirs": "remove-empty-dirs",
	"remove-empty-dirs":     "create-empty-src-dirs",
}

// apply sets the pair's stored flags on flags, the command's own, except
// those given on the command line (and their exclusive partners): the
// command line overrides the pair, flag by flag; a repeatable flag given on
// the command line replaces the pair's values. Flags the command does not
// have are left out (ferry status takes only those that shape the plan).
func (p *namedPair) apply(flags *pflag.FlagSet) error {
	for _, pf := range p.flags {
		fl := flags.Lookup(pf.name)
		if fl == nil || fl.Changed {
			continue
		}
		if other := flags.Lookup(exclusiveFlags[pf.name]); other != nil && other.Changed {
			continue
		}
		for _, v := range pf.values {
			if err := flags.Set(pf.name, v); err != nil {
				return fmt.Errorf("pair %q: %s = %q: %w", p.name, pf.name, v, err)
			}
		}
	}
	return nil
}

// lookup returns the pair called name, or an error that lists the known
// ones (a usage error: nothing was done).
func (pf *pairsFile) lookup(cmdPath, name string) (*namedPair, error) {
	if !validPairName(name) {
		return nil, usageErrorf(cmdPath, "%q is not a pair name: %s; to sync two folders, give both paths", name, pairNameRule)
	}
	p, ok := pf.pairs[name]
	switch {
	case ok && p.err != nil:
		return nil, usageErrorf(cmdPath, "pairs file %s: %w", pf.path, p.err)
	case ok:
		return p, nil
	case !pf.exists:
		return nil, usageErrorf(cmdPath, "no pair %q: there is no pairs file %s yet; add the pair with 'ferry pair add %s PATH1 PATH2 [flags]'", name, pf.path, name)
	case len(pf.pairs) == 0:
		return nil, usageErrorf(cmdPath, "no pair %q: the pairs file %s holds no pairs; add one with 'ferry pair add %s PATH1 PATH2 [flags]'", name, pf.path, name)
	}
	return nil, usageErrorf(cmdPath, "no pair %q in %s; the pairs are: %s", name, pf.path, strings.Join(pf.names(), ", "))
}

// names are the pairs' names, sorted.
func (pf *pairsFile) names() []string {
	names := make([]string, 0, len(pf.pairs))
	for n := range pf.pairs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// expandHome turns a leading ~ or ~/ into the home folder.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

// shellQuote quotes s for a POSIX shell, when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandLine renders the pair's flags as sync's command line would take
// them.
func (p *namedPair) commandLine() string {
	_, all := syncFlagSet()
	var parts []string
	for _, pf := range p.flags {
		fl := all.Lookup(pf.name)
		for _, v := range pf.values {
			n, _ := strconv.Atoi(v)
			switch {
			case fl != nil && fl.Value.Type() == "count" && n > 0 && fl.Shorthand != "":
				// A count flag takes no separate value: -vv, not --verbose 2.
				parts = append(parts, "-"+strings.Repeat(fl.Shorthand, n))
			case fl != nil && fl.Value.Type() == "count":
				parts = append(parts, "--"+pf.name+"="+v)
			case fl != nil && fl.Value.Type() == "bool" && v == "true":
				parts = append(parts, "--"+pf.name)
			case v == "" || strings.HasPrefix(v, "-") || fl != nil && fl.Value.Type() == "bool":
				parts = append(parts, "--"+pf.name+"="+shellQuote(v))
			default:
				parts = append(parts, "--"+pf.name, shellQuote(v))
			}
		}
	}
	return strings.Join(parts, " ")
}

// tomlValue encodes v as a TOML value, with go-toml's quoting.
func tomlValue(v any) (string, error) {
	b, err := toml.Marshal(map[string]any{"v": v})
	if err != nil {
		return "", err
	}
	s, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "v = ")
	if !ok {
		return "", fmt.Errorf("unexpected TOML encoding %q", b)
	}
	return s, nil
}

// block renders the pair as the text of its table in the pairs file.
func (p *namedPair) block() (string, error) {
	_, all := syncFlagSet()
	var b bytes.Buffer
	fmt.Fprintf(&b, "[%s]\n", p.name)
	line := func(key string, v any) error {
		s, err := tomlValue(v)
		if err != nil {
			return fmt.Errorf("pair %q: %s: %w", p.name, key, err)
		}
		fmt.Fprintf(&b, "%s = %s\n", key, s)
		return nil
	}
	if err := line("path1", p.path1); err != nil {
		return "", err
	}
	if err := line("path2", p.path2); err != nil {
		return "", err
	}
	for _, pf := range p.flags {
		var v any = pf.values[len(pf.values)-1]
		switch all.Lookup(pf.name).Value.Type() {
		case "stringArray":
			v = pf.values
		case "bool":
			v, _ = strconv.ParseBool(pf.values[len(pf.values)-1])
		case "int", "count":
			n, err := strconv.ParseInt(pf.values[len(pf.values)-1], 10, 64)
			if err == nil {
				v = n
			}
		}
		if err := line(pf.name, v); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
