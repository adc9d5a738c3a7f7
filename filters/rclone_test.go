package filters

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/filter"
)

// This file checks ferry's filters against rclone's own fs/filter package
// (rclone v1.76) on the same flags and paths. Only the tests import rclone.

type rcloneFilterT = *filter.Filter

func init() {
	// Quiet rclone's advice against mixing --include and --exclude.
	fs.GetConfig(context.Background()).LogLevel = fs.LogLevelCritical
}

// rcloneFilter builds rclone's filter from the same options.
func rcloneFilter(opts Options) (*filter.Filter, error) {
	o := filter.Opt // rclone's defaults: no age or size limits
	o.FilterRule = opts.Filter
	o.FilterFrom = opts.FilterFiles
	o.IncludeRule = opts.Include
	o.ExcludeRule = opts.Exclude
	o.IncludeFrom = opts.IncludeFrom
	o.ExcludeFrom = opts.ExcludeFrom
	for _, s := range []struct {
		in  string
		out *fs.SizeSuffix
	}{{opts.MinSize, &o.MinSize}, {opts.MaxSize, &o.MaxSize}} {
		*s.out = -1
		if s.in != "" {
			if err := s.out.Set(s.in); err != nil {
				return nil, err
			}
		}
	}
	return filter.NewFilter(&o)
}

func rcloneInclude(f *filter.Filter, path string, size int64) bool {
	return f.Include(path, size, time.Unix(0, 0), nil)
}

func rcloneIncludeDir(f *filter.Filter, dir string) bool {
	ok, err := f.IncludeDirectory(context.Background(), nil)(dir)
	if err != nil {
		panic(err)
	}
	return ok
}

// A matchCase is a set of flags and the paths to try: "+a/b.txt" must be
// included and "-a/b.txt" excluded, by ferry and by rclone alike. A file
// may end in "@size" (default 100 bytes). Directories are asked of
// IncludeDir.
type matchCase struct {
	name  string
	opts  Options
	files []string
	dirs  []string
}

var matchCases = []matchCase{
	// Pattern syntax, one include rule (so a final "- /**").
	{"star in a segment", Options{Include: []string{"*.jpg"}},
		[]string{"+file.jpg", "+dir/file.jpg", "+a/b/c/.jpg", "-file.png", "-file.jpg/x.png", "-file.jpgx"},
		[]string{"+dir", "+a/b"}},
	{"plain name matches at the end", Options{Include: []string{"file.jpg"}},
		[]string{"+file.jpg", "+directory/file.jpg", "-afile.jpg", "-directory/afile.jpg", "-file.jpg/x"},
		[]string{"+directory"}},
	{"leading slash anchors", Options{Include: []string{"/file.jpg"}},
		[]string{"+file.jpg", "-afile.jpg", "-directory/file.jpg"},
		[]string{"-directory"}},
	{"anchored star", Options{Include: []string{"/*.jpg"}},
		[]string{"+file.jpg", "+.jpg", "-dir/file.jpg"},
		[]string{"-dir"}},
	{"double star crosses segments", Options{Include: []string{"dir/**"}},
		[]string{"+dir/file.jpg", "+dir/dir1/dir2/file.jpg", "+sub/dir/x/y", "-directory/file.jpg", "-adir/file.jpg", "-dir"},
		[]string{"+dir", "+dir/sub", "+sub/dir", "-adir"}},
	{"double star inside a name", Options{Include: []string{"/a**z"}},
		[]string{"+az", "+a/b/z", "+abz", "-a/b/zz/x", "-b/az"},
		[]string{"+a", "+ab", "-b"}},
	{"question mark", Options{Include: []string{"l?ss"}},
		[]string{"+less", "+lass", "+x/l.ss", "-floss", "-lss", "-l/ss"},
		nil},
	{"question mark is one character, not one byte", Options{Include: []string{"/caf?"}},
		[]string{"+café", "+cafe", "-caféé"},
		nil},
	{"character class", Options{Include: []string{"h[ae]llo"}},
		[]string{"+hello", "+hallo", "-hullo", "-hllo"},
		nil},
	{"character range", Options{Include: []string{"*.[a-z]"}},
		[]string{"+file.a", "+dir/file.b", "-file.0", "-file.A"},
		nil},
	{"several ranges", Options{Include: []string{"/[a-cx-z0-2]"}},
		[]string{"+a", "+y", "+1", "-d", "-9", "-X"},
		nil},
	{"negated class with !", Options{Exclude: []string{"/a[!x]b"}},
		[]string{"-ayb", "+axb", "+a/b", "+ab"},
		nil},
	{"negated class with ^", Options{Exclude: []string{"/a[^xy]b"}},
		[]string{"-azb", "+axb", "+ayb", "+a/b"},
		nil},
	{"class with a slash", Options{Exclude: []string{"/a[/_]b"}},
		[]string{"-a/b", "-a_b", "+a.b"},
		nil},
	{"POSIX class", Options{Include: []string{"/x[[:digit:]]"}},
		[]string{"+x0", "+x9", "-xa", "-x"},
		nil},
	{"Perl class in brackets", Options{Include: []string{"/[\\d_]*"}},
		[]string{"+1abc", "+_", "-abc"},
		nil},
	{"Perl class escape", Options{Include: []string{"*.\\d\\d\\d"}},
		[]string{"+file.012", "+dir/file.345", "-file.abc", "-file.01"},
		nil},
	{"negated POSIX class", Options{Exclude: []string{"/[![:alpha:]]*"}},
		[]string{"-1x", "-_", "+abc", "+a/1"},
		nil},
	{"class of punctuation", Options{Include: []string{"/[-!,{}*?]"}},
		[]string{"+-", "+!", "+,", "+{", "+}", "+*", "+?", "-a"},
		nil},
	{"escaped brackets in a class", Options{Include: []string{"/[\\[\\]]"}},
		[]string{"+[", "+]", "-\\"},
		nil},
	{"alternatives", Options{Include: []string{"*.{jpg,png}"}},
		[]string{"+file.jpg", "+dir/file.png", "-file.gif", "-file."},
		nil},
	{"alternatives with a prefix", Options{Include: []string{"{one,two}_potato"}},
		[]string{"+one_potato", "+two_potato", "-three_potato", "-_potato"},
		nil},
	{"nested and empty alternatives", Options{Include: []string{"/a{b,{c,d},}e"}},
		[]string{"+abe", "+ace", "+ade", "+ae", "-afe"},
		nil},
	{"stars side by side", Options{Include: []string{"/a{*}*", "/b{{.*}}*"}},
		[]string{"+abc", "+a", "-a/b", "+b/c/d", "+b"},
		nil},
	{"empty braces", Options{Include: []string{"/a{}b"}},
		[]string{"+ab", "-a{}b"},
		nil},
	{"alternatives with slashes and double stars", Options{Include: []string{"{dir1/**,dir2/**}"}},
		[]string{"+dir1/a", "+x/dir2/b/c", "-dir3/a", "-dir1"},
		[]string{"+dir1", "+dir3"}},
	{"directories in alternatives", Options{Include: []string{"/{dir1,dir2}/**"}},
		[]string{"+dir1/a", "+dir2/b/c", "-dir3/a"},
		[]string{"+dir1", "+dir2", "-dir3", "+dir1/x"}},
	{"comma outside braces is literal", Options{Include: []string{"/a,b"}},
		[]string{"+a,b", "-a", "-b"},
		nil},
	{"escaped star", Options{Include: []string{"\\*.jpg"}},
		[]string{"+*.jpg", "+d/*.jpg", "-a.jpg"},
		nil},
	{"escaped backslash", Options{Include: []string{"\\\\.jpg"}},
		[]string{"+\\.jpg", "-a.jpg"},
		nil},
	{"escaped brackets and braces", Options{Include: []string{"\\[one\\].\\{jpg\\}"}},
		[]string{"+[one].{jpg}", "-o.jpg"},
		nil},
	{"escaped question marks", Options{Include: []string{"*.\\?\\?\\?"}},
		[]string{"+file.???", "+dir/file.???", "-file.abc"},
		nil},
	{"Perl escapes (\\W matches a slash)", Options{Include: []string{"/\\w\\s\\W"}},
		[]string{"+a !", "+_\t/", "-a b", "-ab!c"},
		nil},
	{"inline comments are part of the pattern", Options{Filter: []string{"+ *.md # notes", "- **"}},
		[]string{"+a.md # notes", "-a.md"},
		nil},
	{"unlimited regexp repeats of any character", Options{Include: []string{"/{{.+}}/{{[a-c]{1,2}}}"}},
		[]string{"+x/ab", "+x/y/c", "-x/abc", "-x/"},
		nil},
	{"regexp metacharacters are literal", Options{Include: []string{"/a.b+c(d)|e^f$g"}},
		[]string{"+a.b+c(d)|e^f$g", "-aXb+c(d)|e^f$g"},
		nil},
	{"dot is literal", Options{Include: []string{"/a.b"}},
		[]string{"+a.b", "-axb"},
		nil},
	{"unicode names", Options{Include: []string{"/ü*/*ß"}},
		[]string{"+über/Straß", "+ü/ß", "-uber/Straß"},
		[]string{"+über", "-uber"}},
	{"empty pattern", Options{Include: []string{""}},
		[]string{"-a", "-a/b"},
		[]string{"+a"}},
	// {{ regexp }} blocks, where a glob can say the same.
	{"regexp block", Options{Include: []string{"*.{{jpe?g}}"}},
		[]string{"+file.jpg", "+dir/file.jpeg", "-file.png", "-file.jpeeg"},
		nil},
	{"anchored regexp block", Options{Include: []string{"/{{.*\\.jpe?g}}"}},
		[]string{"+file.jpeg", "+file.jpg", "+dir/file.jpg", "-file.png"},
		nil},
	{"regexp with flags", Options{Include: []string{"*.{{(?i)jpg}}"}},
		[]string{"+file.jpg", "+file.JPG", "+a/b.Jpg", "-file.png"},
		nil},
	{"regexp with a negated class and star", Options{Include: []string{"{{start[^/]*end\\.jpg}}"}},
		[]string{"+startXend.jpg", "+d/startend.jpg", "-start/end.jpg"},
		nil},
	{"regexp with counted repeats", Options{Include: []string{"/{{\\d{4}-\\d{2}}}/*"}},
		[]string{"+2024-01/a", "-24-01/a", "-2024-1/a"},
		[]string{"+2024-01", "+anything"}},
	{"regexp with alternation and plus", Options{Include: []string{"/{{(foo|ba[rz])[^/]+}}"}},
		[]string{"+foo1", "+barx", "-foo", "-baz/x"},
		nil},
	{"regexp ending in }}}", Options{Include: []string{"/{{\\}}}"}},
		[]string{"+}", "-a"},
		nil},
	// Order: first match wins; --include before --exclude before --filter.
	{"first match wins", Options{Filter: []string{"- *.bak", "+ *", "- *.txt"}},
		[]string{"-a.bak", "+a.txt", "+d/a.bak.1"},
		nil},
	{"filter rules without a final exclude", Options{Filter: []string{"+ *.txt"}},
		[]string{"+a.txt", "+a.jpg"},
		nil},
	{"includes come before excludes", Options{Include: []string{"*.txt"}, Exclude: []string{"secret.txt", "*.jpg"}},
		[]string{"+secret.txt", "+a.txt", "-a.jpg", "-a.png"},
		nil},
	{"excludes come before filters", Options{Exclude: []string{"*.log"}, Filter: []string{"+ *.log", "- *.tmp"}},
		[]string{"-a.log", "-a.tmp", "+a.txt"},
		nil},
	{"includes and filters", Options{Include: []string{"/a/**"}, Filter: []string{"- /a/b/**", "+ /c/**"}},
		[]string{"+a/b/x", "+a/x", "+c/x", "-d/x"},
		[]string{"+a", "+a/b", "+c", "-d"}},
	{"! clears everything before it", Options{Include: []string{"*.txt"}, Exclude: []string{"*.jpg"}, Filter: []string{"!", "- *.png"}},
		[]string{"-a.png", "-a.txt", "-a.jpg"},
		[]string{"-d"}},
	{"! then more rules", Options{Filter: []string{"- *", "!", "- *.o", "+ **"}},
		[]string{"-a.o", "+a.c", "+d/a.c"},
		[]string{"+d"}},
	{"exclude star excludes directories", Options{Exclude: []string{"*"}},
		[]string{"-a", "-d/a"},
		[]string{"-d"}},
	{"the docs' filter file", Options{Filter: []string{"- /dir1/", "- /dir2/", "+ *.pdf", "- **"}},
		[]string{"-dir1/a.pdf", "-dir2/x/a.pdf", "+a.pdf", "+dir3/a.pdf", "-a.txt", "-dir3/a.txt"},
		[]string{"-dir1", "-dir2", "-dir2/x", "+dir3", "+dir3/x"}},
	{"repeated rules", Options{Filter: []string{"+ a", "+ a", "- a", "- **"}},
		[]string{"+a", "-b"},
		nil},
	// Directory rules.
	{"include directory rule matches no files", Options{Include: []string{"/directory/"}},
		[]string{"-directory/file", "-file"},
		[]string{"+directory", "-other", "-directory/sub"}},
	{"exclude directory rule", Options{Exclude: []string{"cache/"}},
		[]string{"-cache/a", "-x/cache/b/c", "+cache", "+cachex/a", "+a"},
		[]string{"-cache", "-x/cache", "+x", "+cachex"}},
	{"anchored exclude directory rule", Options{Exclude: []string{"/cache/"}},
		[]string{"-cache/a", "+x/cache/b", "+a"},
		[]string{"-cache", "+x/cache"}},
	{"implied directory rules", Options{Include: []string{"/a/*.jpg"}},
		[]string{"+a/x.jpg", "-a/b/x.jpg", "-x.jpg"},
		[]string{"+a", "-a/b", "-b"}},
	{"implied directory rules, deeper", Options{Include: []string{"/a/b/*.jpg", "c/*.txt"}},
		[]string{"+a/b/x.jpg", "+c/x.txt", "+z/c/y.txt", "-a/x.jpg"},
		[]string{"+a", "+a/b", "+a/c", "-a/d", "+c", "+z/c", "-z"}},
	{"implied directory rules with double stars", Options{Include: []string{"/var/spool/**/ncw"}},
		[]string{"+var/spool/a/ncw", "+var/spool/a/b/ncw", "-var/ncw", "-var/spool/ncw"},
		[]string{"+var", "+var/spool", "+var/spool/a", "-etc"}},
	{"directory rules with wildcards", Options{Filter: []string{"- /*/tmp/", "+ **"}},
		[]string{"-a/tmp/x", "+tmp/x", "+a/b/tmp/x"},
		[]string{"-a/tmp", "+tmp", "+a/b/tmp"}},
	{"directory names with trailing slash", Options{Include: []string{"/a/*"}},
		nil,
		[]string{"+a/", "+/a/", "-b/"}},
	{"regexp blocks list every directory", Options{Include: []string{"/d{{[0-9]}}*/x"}},
		[]string{"+d1/x", "+d2x/x", "-d/x", "-dx/x"},
		[]string{"+d1", "+e"}},
	// Sizes.
	{"min size in KiB", Options{MinSize: "1k"},
		[]string{"-a@1023", "+a@1024", "+b@5000", "-c@0", "-d@-1"},
		nil},
	{"bare number is KiB", Options{MaxSize: "100"},
		[]string{"+a@102400", "-a@102401", "+b@0"},
		nil},
	{"fractional MiB", Options{MaxSize: "1.5M"},
		[]string{"+a@1572864", "-a@1572865"},
		nil},
	{"bytes and binary suffixes", Options{MinSize: "10B", MaxSize: "1MiB"},
		[]string{"-a@9", "+a@10", "+a@1048576", "-a@1048577"},
		nil},
	{"Ki suffix and off", Options{MinSize: "2Ki", MaxSize: "off"},
		[]string{"-a@2047", "+a@2048", "+a@1099511627776"},
		nil},
	{"sizes and rules together", Options{Include: []string{"*.txt"}, MaxSize: "1G"},
		[]string{"+a.txt@1073741824", "-a.txt@1073741825", "-a.jpg@1"},
		nil},
}

func TestMatchesRclone(t *testing.T) {
	pairs := 0
	for _, c := range matchCases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.opts)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			rf, err := rcloneFilter(c.opts)
			if err != nil {
				t.Fatalf("rclone: %v", err)
			}
			for _, spec := range c.files {
				want, path, size := parseSpec(t, spec)
				got, rgot := f.Include(path, size), rcloneInclude(rf, path, size)
				if got != rgot {
					t.Errorf("Include(%q, %d) = %v, rclone says %v\n%s", path, size, got, rgot, f)
				}
				if got != want {
					t.Errorf("Include(%q, %d) = %v, want %v", path, size, got, want)
				}
				pairs++
			}
			for _, spec := range c.dirs {
				want, dir, _ := parseSpec(t, spec)
				got, rgot := f.IncludeDir(dir), rcloneIncludeDir(rf, dir)
				if got != rgot {
					t.Errorf("IncludeDir(%q) = %v, rclone says %v\n%s", dir, got, rgot, f)
				}
				if got != want {
					t.Errorf("IncludeDir(%q) = %v, want %v", dir, got, want)
				}
				pairs++
			}
		})
	}
	t.Logf("%d cases, %d path checks agree with rclone", len(matchCases), pairs)
}

func parseSpec(t *testing.T, spec string) (want bool, path string, size int64) {
	t.Helper()
	want = spec[0] == '+'
	path, size = spec[1:], 100
	if i := strings.LastIndexByte(path, '@'); i >= 0 {
		n, err := strconv.ParseInt(path[i+1:], 10, 64)
		if err != nil {
			t.Fatalf("bad spec %q", spec)
		}
		path, size = path[:i], n
	}
	return want, path, size
}

// TestFilesMatchRclone gives ferry and rclone the same rule files.
func TestFilesMatchRclone(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts := Options{
		IncludeFrom: []string{write("include.txt", "# photos\n*.jpg\n\n  *.png  \n; old\n/docs/**\n")},
		ExcludeFrom: []string{write("exclude.txt", "*.tmp\r\nbuild/\r\n")},
		FilterFiles: []string{write("filters.txt", "- secret/\n+ /keep/**\n!\n- *.bak\n+ *.txt\n# end\n")},
	}
	f, err := Parse(opts)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := rcloneFilter(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.jpg", "d/a.png", "docs/x/y.md", "a.tmp", "build/a.jpg", "a.bak", "a.txt", "keep/a", "secret/a.txt", "other"} {
		if got, want := f.Include(p, 1), rcloneInclude(rf, p, 1); got != want {
			t.Errorf("Include(%q) = %v, rclone says %v", p, got, want)
		}
	}
	for _, d := range []string{"docs", "build", "secret", "keep", "d"} {
		if got, want := f.IncludeDir(d), rcloneIncludeDir(rf, d); got != want {
			t.Errorf("IncludeDir(%q) = %v, rclone says %v", d, got, want)
		}
	}
}

// TestRejectsWhatRcloneRejects: patterns rclone refuses are errors in
// ferry too, naming the pattern.
func TestRejectsWhatRcloneRejects(t *testing.T) {
	for _, p := range []string{
		"a[", "ab]c", "ab{x{cd", "ab{}}cd", "ab}c", "ab{c", "***", "potato***",
		"[a--b]", "[z-a]", "a{{.*}", "[!]", "[^]x", "[]", "x[[:nope:]]", `\q`, `[\q]`, `a{{(}}`,
		"a[/]b", // its directory part "a[/" is bad
	} {
		_, rerr := rcloneFilter(Options{Include: []string{p}})
		if rerr == nil {
			t.Errorf("rclone accepts %q", p)
			continue
		}
		_, err := Parse(Options{Include: []string{p}})
		if !errors.Is(err, ErrBadPattern) {
			t.Errorf("Parse(%q) = %v, want ErrBadPattern (rclone: %v)", p, err, rerr)
			continue
		}
		var re *RuleError
		if !errors.As(err, &re) || re.Source != "--include" || re.Rule != p || !strings.Contains(err.Error(), strconv.Quote(p)) {
			t.Errorf("Parse(%q) = %v: want a *RuleError naming --include and the pattern", p, err)
		}
	}
}

// TestUnsupported lists the patterns ferry refuses although rclone accepts
// them (docs/filters.md, "Differences from rclone").
func TestUnsupported(t *testing.T) {
	for _, p := range []string{
		`a\`,           // rclone: a literal "$" anywhere in the name
		`{{a+}}`,       // a repeated character other than [^/] or .
		`{{(ab)*}}`,    // a repeated group
		`{{[0-9]*}}x`,  // a repeated class
		`{{^a}}`,       // anchors
		`x{{$}}`,       // anchors
		`{{\bx}}`,      // word boundary
		`\Ax`,          // an escape that is an anchor
		`{{a)|(b}}`,    // a regexp that leaves its block
		`{{[^/\n]*}}`,  // [^/] without newlines, repeated
		`{{\pL{100}}}`, // too large once expanded
	} {
		if _, rerr := rcloneFilter(Options{Include: []string{p}}); rerr != nil {
			t.Errorf("rclone refuses %q: %v", p, rerr)
		}
		_, err := Parse(Options{Include: []string{p}})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("Parse(%q) = %v, want ErrUnsupported", p, err)
		}
	}
}

// TestSizeMatchesRclone compares the size syntax with rclone's SizeSuffix.
func TestSizeMatchesRclone(t *testing.T) {
	for _, s := range []string{
		"0", "1", "100", "1.5", "1b", "1B", "10k", "10K", "1Ki", "1KiB", "1kib", "1.5M", "1M", "1MiB",
		"2G", "3T", "4P", "7E", "8E", "off", "OFF", "Off", "1x", "b", "", "-1", "-1k", "1..5M", "NaN",
		"inf", "1e3", "1e3k", "0x10", "1_000", "1iB", "i", "1i", "1Xi", "1XiB", "9223372036854775807b",
	} {
		got, err := parseSize(s)
		var want fs.SizeSuffix
		rerr := want.Set(s)
		if s == "" {
			// ferry: no limit; rclone: an error ("empty string").
			if err != nil || got != -1 {
				t.Errorf("parseSize(%q) = %d, %v; want -1", s, got, err)
			}
			continue
		}
		if (err != nil) != (rerr != nil) || (err == nil && got != int64(want)) {
			t.Errorf("parseSize(%q) = %d, %v; rclone: %d, %v", s, got, err, int64(want), rerr)
		}
	}
}
