package filters

import (
	"errors"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustParse(t *testing.T, opts Options) *Filter {
	t.Helper()
	f, err := Parse(opts)
	if err != nil {
		t.Fatalf("Parse(%+v): %v", opts, err)
	}
	return f
}

func fileRules(f *Filter) []string {
	var out []string
	for _, r := range f.files.rules {
		out = append(out, r.String())
	}
	return out
}

func TestFilterFile(t *testing.T) {
	text := strings.Join([]string{
		"# a comment",
		"; another comment",
		"",
		"   ",
		"- *.bak",
		"  + *.txt  ", // trimmed, as rclone does
		"\t# indented comment",
		"!",        // clears the two rules above
		"- /tmp/",  // an exclude directory rule: /tmp/**
		"+ a b.md", // spaces inside are kept
		"+  lead",  // and so is the space after "+ "
		"- **",
	}, "\r\n")
	f := mustParse(t, Options{FilterFiles: []string{writeFile(t, "filters.txt", "\uFEFF"+text)}})
	want := []string{"- /tmp/**", "+ a b.md", "+  lead", "- **"}
	if got := fileRules(f); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("file rules = %q, want %q", got, want)
	}
	for path, want := range map[string]bool{
		"a b.md": true, "x/a b.md": true, " lead": true, "lead": false,
		"a.txt": false, "tmp/a b.md": false, "x/tmp/a b.md": true,
	} {
		if got := f.Include(path, 0); got != want {
			t.Errorf("Include(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestIncludeExcludeFiles(t *testing.T) {
	inc := writeFile(t, "inc", "*.md\n# not a rule\n/docs/\n")
	exc := writeFile(t, "exc", "draft*\n")
	f := mustParse(t, Options{IncludeFrom: []string{inc}, ExcludeFrom: []string{exc}})
	// Includes come first, then excludes, then the implied "- /**".
	want := []string{"+ *.md", "- draft*", "- /**"}
	if got := fileRules(f); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("file rules = %q, want %q", got, want)
	}
	// An empty --include-from still implies "- /**".
	f = mustParse(t, Options{IncludeFrom: []string{writeFile(t, "empty", "# nothing\n")}})
	if f.Include("a", 0) {
		t.Error("an empty --include-from should exclude everything")
	}
}

func TestRuleErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		opts    func(t *testing.T) Options
		message string // the whole error, with the file written as FILE
		sent    error
	}{
		{"bad pattern in a filters file",
			func(t *testing.T) Options {
				return Options{FilterFiles: []string{writeFile(t, "filters.txt", "# rules\n+ *.md\n\n- ok\n; x\n\n+ a[\n")}}
			},
			`FILE:7: bad pattern "a[": mismatched '[' and ']'`, ErrBadPattern},
		{"malformed line",
			func(t *testing.T) Options {
				return Options{FilterFiles: []string{writeFile(t, "filters.txt", "+ a\n-b\n")}}
			},
			`FILE:2: malformed rule "-b": want "+ pattern", "- pattern" or "!"`, ErrMalformedRule},
		{"a bare pattern in a filters file",
			func(t *testing.T) Options {
				return Options{FilterFiles: []string{writeFile(t, "filters.txt", "*.jpg\n")}}
			},
			`FILE:1: malformed rule "*.jpg": want "+ pattern", "- pattern" or "!"`, ErrMalformedRule},
		{"bad pattern in an include file",
			func(t *testing.T) Options {
				return Options{IncludeFrom: []string{writeFile(t, "inc.txt", "a\nb\n***\n")}}
			},
			`FILE:3: bad pattern "***": too many stars (at most two in a row)`, ErrBadPattern},
		{"bad pattern in an exclude file",
			func(t *testing.T) Options {
				return Options{ExcludeFrom: []string{writeFile(t, "exc.txt", "{a,b\n")}}
			},
			`FILE:1: bad pattern "{a,b": mismatched '{' and '}'`, ErrBadPattern},
		{"bad --filter",
			func(*testing.T) Options { return Options{Filter: []string{"+ ok", "+ x]"}} },
			`--filter: bad pattern "x]": mismatched ']'`, ErrBadPattern},
		{"--filter values are not trimmed or read as comments",
			func(*testing.T) Options { return Options{Filter: []string{"# comment"}} },
			`--filter: malformed rule "# comment": want "+ pattern", "- pattern" or "!"`, ErrMalformedRule},
		{"bad --include",
			func(*testing.T) Options { return Options{Include: []string{"[z-a]"}} },
			"--include: bad pattern \"[z-a]\": error parsing regexp: invalid character class range: `z-a`", ErrBadPattern},
		{"bad --exclude",
			func(*testing.T) Options { return Options{Exclude: []string{"[!]"}} },
			`--exclude: bad pattern "[!]": empty character class`, ErrBadPattern},
		{"bad directory part",
			func(*testing.T) Options { return Options{Include: []string{"a[/]b"}} },
			`--include: bad pattern "a[/": mismatched '[' and ']' (the directory part of "a[/]b")`, ErrBadPattern},
		{"unsupported",
			func(*testing.T) Options { return Options{Exclude: []string{"{{a+}}"}} },
			`--exclude: unsupported pattern "{{a+}}": only [^/]* and .* can be repeated without a limit (a glob has no "any number of" other characters)`, ErrUnsupported},
		{"bad --min-size",
			func(*testing.T) Options { return Options{MinSize: "12q"} },
			`filters: bad size: --min-size "12q": bad suffix 'q'`, ErrBadSize},
		{"bad --max-size",
			func(*testing.T) Options { return Options{MaxSize: "-1"} },
			`filters: bad size: --max-size "-1": size can't be negative "-1"`, ErrBadSize},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts(t)
			_, err := Parse(opts)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			file := strings.Join(append(append(opts.FilterFiles, opts.IncludeFrom...), opts.ExcludeFrom...), "")
			want := c.message
			if file != "" {
				want = strings.Replace(want, "FILE", file, 1)
			}
			if err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			if !errors.Is(err, c.sent) {
				t.Errorf("error %v is not %v", err, c.sent)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.txt")
	for _, opts := range []Options{
		{FilterFiles: []string{missing}}, {IncludeFrom: []string{missing}}, {ExcludeFrom: []string{missing}},
	} {
		_, err := Parse(opts)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Parse(%+v) = %v, want a not-exist error naming the file", opts, err)
		}
	}
	if _, err := Parse(Options{FilterFiles: []string{"-"}}); err == nil {
		t.Error("Parse accepted - (standard input) as a file")
	}
}

func TestLongLine(t *testing.T) {
	// rclone reads rule files with a bufio.Scanner, lines up to 64 KiB.
	name := writeFile(t, "long.txt", "+ a\n+ "+strings.Repeat("x", 70<<10)+"\n")
	_, err := Parse(Options{FilterFiles: []string{name}})
	if err == nil || !strings.Contains(err.Error(), name+":2") {
		t.Errorf("Parse = %v, want an error at line 2", err)
	}
}

func TestAlwaysExcluded(t *testing.T) {
	// Whatever the rules say.
	f := mustParse(t, Options{Filter: []string{"+ **"}})
	for _, path := range []string{
		".ferry", ".ferry/history", ".ferry/deletions/x",
		"notes.md.1a2b3c4d.partial", "dir/notes.md.00000000.partial", "x.ffffffff.partial",
		".notes.md.ferry-0123abcd.partial", "dir/..ferry-deadbeef.partial", ".ferry-01234567.partial",
		".notes.md.ferry-6920a4b00123abcd.partial",
	} {
		for _, f := range []*Filter{f, nil} {
			if f.Include(path, 1) {
				t.Errorf("Include(%q) = true, want always excluded", path)
			}
		}
	}
	for _, path := range []string{
		"sub/.ferry/x", ".ferryx", "a.partial", "notes.partial", ".12345678.partial",
		"a.1234567.partial", "a.123456789.partial", "a.1234567G.partial", "a.ABCDEF12.partial",
		"a.12345678.partial.txt", ".a.ferry-0123abc.partial", "a.ferry-0123abcd.part",
		".a.ferry-6920a4b00123abc.partial", ".a.ferry-6920a4b00123abcdX.partial", ".a.ferry-6920A4B00123abcd.partial",
	} {
		if !f.Include(path, 1) {
			t.Errorf("Include(%q) = false, want true", path)
		}
	}
	for dir, want := range map[string]bool{
		"": true, "/": true, ".ferry": false, ".ferry/": false, ".ferry/x": false, "sub/.ferry": true, ".ferryx": true,
	} {
		for _, f := range []*Filter{f, nil} {
			if got := f.IncludeDir(dir); got != want {
				t.Errorf("IncludeDir(%q) = %v, want %v", dir, got, want)
			}
		}
	}
}

func TestIsTemporary(t *testing.T) {
	for name, want := range map[string]bool{
		"a.0123abcd.partial":            true,  // rclone
		"d/e/a.txt.89abcdef.partial":    true,  // rclone, in a directory
		".a.txt.ferry-0123abcd.partial": true,  // ferry
		"a.partial":                     false, // a user's file
		"a.0123ABCD.partial":            false, // rclone writes lower case
		"a.0123abcd.partial/b":          false, // only the last element counts
		"a-0123abcd.partial":            false,
		"a.txt.ferry-0123abcd.partial":  false, // neither: no leading "." (ferry), a "-" not a "." (rclone)
		"a.txt.ferry-0123abcg.partial":  false,
	} {
		if got := IsTemporary(name); got != want {
			t.Errorf("IsTemporary(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestStringAndFingerprint(t *testing.T) {
	f := mustParse(t, Options{Include: []string{"/a/*.jpg"}, Exclude: []string{"tmp/"}, MinSize: "1k"})
	want := `# always excluded: /.ferry/, *.XXXXXXXX.partial, .*.ferry-XXXXXXXXXXXXXXXX.partial
min size: 1024 bytes
# file rules
+ /a/*.jpg
- tmp/**
- /**
# directory rules
+ /a/
- tmp/**
- /**
`
	if got := f.String(); got != want {
		t.Errorf("String:\n%s\nwant:\n%s", got, want)
	}

	fp := func(opts Options) string { return mustParse(t, opts).Fingerprint() }
	base := Options{Include: []string{"*.md"}}
	if a, b := fp(base), fp(Options{Include: []string{"*.md"}}); a != b || len(a) != 16 {
		t.Errorf("fingerprints %q and %q of the same rules", a, b)
	}
	// The same rules from a file, with comments, or repeated: same rules.
	file := writeFile(t, "inc", "# notes\n*.md\n*.md\n")
	if a, b := fp(base), fp(Options{IncludeFrom: []string{file}}); a != b {
		t.Errorf("fingerprint changed with the rules' source: %q, %q", a, b)
	}
	// A rule cleared by "!" does not count.
	if a, b := fp(Options{Filter: []string{"+ *.md"}}), fp(Options{Filter: []string{"- x", "!", "+ *.md"}}); a != b {
		t.Errorf("fingerprint counts cleared rules: %q, %q", a, b)
	}
	for _, other := range []Options{
		{Include: []string{"*.txt"}},
		{Include: []string{"*.md"}, MaxSize: "1M"},
		{Filter: []string{"+ *.md"}},
		{},
	} {
		if fp(base) == fp(other) {
			t.Errorf("rules %+v and %+v have the same fingerprint", base, other)
		}
	}
	var none *Filter
	if none.Fingerprint() != fp(Options{}) || none.String() != mustParse(t, Options{}).String() {
		t.Error("a nil Filter differs from one without rules")
	}
}

func TestConcurrentUse(t *testing.T) {
	f := mustParse(t, Options{Include: []string{"*.{jpg,png}", "/docs/**"}})
	done := make(chan bool)
	for range 4 {
		go func() {
			for range 1000 {
				if !f.Include("a/b.jpg", 1) || f.Include("a/b.gif", 1) || !f.IncludeDir("docs") {
					t.Error("wrong answer")
				}
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}

func BenchmarkInclude(b *testing.B) {
	f, err := Parse(Options{Filter: []string{"- .git/", "- *.{tmp,bak,swp}", "- node_modules/", "+ /notes/**", "+ *.md", "- **"}})
	if err != nil {
		b.Fatal(err)
	}
	paths := []string{"notes/2024/01/today.md", "src/a/b/c/main.go", "x/y/z.md", "a.tmp", "deep/er/and/deeper/still/file.txt"}
	b.ResetTimer()
	for i := range b.N {
		f.Include(paths[i%len(paths)], 100)
	}
}

// TestImports keeps the package a leaf (DESIGN.md): no rclone and no other
// ferry package outside the tests.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/rclone/") || strings.HasPrefix(imp, "github.com/ferry-sync/") {
			t.Errorf("filters imports %s", imp)
		}
	}
}
