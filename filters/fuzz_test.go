package filters

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzPaths are the paths every fuzzed rule set is tried on, besides the
// ones the fuzzer makes.
var fuzzPaths = []string{
	"a", "a.txt", "dir/a.txt", "dir/sub/b.jpg", "x/dir/y", "[a]", "{a,b}", "a b/c", "über/ß",
	"a*b", "a?b", "a\\b", "-", "!", ",", "/", "a/", "", "ab", "abc/def/ghi",
}

// FuzzParse feeds arbitrary rule files and flags to Parse: it never
// panics, a failure is one of the documented errors, and rclone accepts
// and refuses the same files (ferry may refuse more, as ErrUnsupported)
// and decides the same on a few paths.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ file, flag string }{
		{"# comment\n+ *.txt\n- **\n", "*.md"},
		{"; c\n!\n- /tmp/\n+ a b\n", ""},
		{"+ a[\n", "b"},
		{"-b\n", "{a,b}"},
		{"+ {{a+}}\n", "/x/**"},
		{"\ufeff+ x\r\n- y/\r\n", "[[:alpha:]]"},
		{"+ *.{{jpe?g}}\n- /**\n", "\\d"},
		{"- dir/\n+ dir/keep\n", "a/b/*.c"},
	} {
		f.Add([]byte(seed.file), seed.flag)
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, flag string) {
		opts := Options{FilterFiles: []string{"filters.txt"}, Include: []string{flag}}
		readFile := func(string) ([]byte, error) { return data, nil }
		fl, err := parse(opts, readFile)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) && !strings.Contains(err.Error(), "token too long") {
				t.Fatalf("error is not a *RuleError: %v", err)
			}
			if re != nil && !errors.Is(err, ErrBadPattern) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrMalformedRule) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
		} else {
			again, err := parse(opts, readFile)
			if err != nil || again.Fingerprint() != fl.Fingerprint() || again.String() != fl.String() {
				t.Fatalf("parsing twice differs: %v", err)
			}
			for _, p := range fuzzPaths {
				fl.Include(p, 1)
				fl.IncludeDir(p)
			}
		}

		// rclone, reading the same file.
		if len(data) > 1<<16 || strings.HasPrefix(string(data), "\ufeff") {
			return // rclone reads a byte order mark as part of a rule
		}
		name := filepath.Join(tmp, "filters.txt")
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rf, rerr := rcloneFilter(Options{FilterFiles: []string{name}, Include: []string{flag}})
		switch {
		case rerr != nil && err == nil:
			t.Fatalf("rclone refuses what ferry accepts: %v", rerr)
		case rerr == nil && err != nil && !errors.Is(err, ErrUnsupported):
			t.Fatalf("ferry refuses what rclone accepts: %v", err)
		case rerr != nil || err != nil:
			return
		}
		for _, p := range fuzzPaths {
			checkAgree(t, fl, rf, p, true)
		}
	})
}

// FuzzMatch compiles one pattern as an include and as an exclude rule and
// matches one path: ferry never panics, refuses what rclone refuses,
// refuses only as ErrUnsupported what rclone accepts, and agrees with
// rclone on the path, as a file and as a directory.
func FuzzMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"*.jpg", "dir/file.jpg"}, {"/file.jpg", "directory/file.jpg"}, {"dir/**", "a/dir/b/c"},
		{"l?ss", "less"}, {"h[ae]llo", "hallo"}, {"a[!x]b", "a/b"}, {"[^[:alpha:]]", "1"},
		{"{one,two}_potato", "two_potato"}, {"a{b,{c,d},}e", "ae"}, {"\\*.jpg", "*.jpg"},
		{"*.{{jpe?g}}", "a.jpeg"}, {"/{{.*\\.jpe?g}}", "d/a.jpg"}, {"*.{{(?i)jpg}}", "a.JPG"},
		{"cache/", "x/cache"}, {"/a/*.jpg", "a/b"}, {"/var/spool/**/ncw", "var/spool/x"},
		{"*.\\d\\d\\d", "f.012"}, {"[-!,{}*?]", "!"}, {"{{\\d{2,3}}}", "123"}, {"ü*", "über"},
		{"a**b", "a/x/b"}, {"{dir1/**,dir2/**}", "dir3"}, {"{{[^/]+x}}", "ab/x"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		for _, opts := range []Options{
			{Filter: []string{"+ " + pattern}},
			{Filter: []string{"- " + pattern}},
			{Include: []string{pattern}},
		} {
			fl, err := Parse(opts)
			if err == nil {
				fl.Include(path, 1)
				fl.IncludeDir(path)
			}
			rf, rerr := rcloneFilter(opts)
			switch {
			case rerr != nil && err == nil:
				t.Fatalf("%+v: rclone refuses what ferry accepts: %v", opts, rerr)
			case rerr != nil && !errors.Is(err, ErrBadPattern):
				t.Fatalf("%+v: rclone refuses (%v), ferry: %v", opts, rerr, err)
			case rerr == nil && err != nil && !errors.Is(err, ErrUnsupported):
				t.Fatalf("%+v: ferry refuses what rclone accepts: %v", opts, err)
			case rerr != nil || err != nil:
				continue
			}
			// A newline is the one known difference: rclone's "**" (".*")
			// does not match it, ferry's does.
			exact := !strings.Contains(path, "\n") ||
				!strings.Contains(pattern, "**") && !strings.Contains(pattern, "{{") && len(opts.Include) == 0 && !strings.HasSuffix(pattern, "/")
			checkAgree(t, fl, rf, path, exact)
		}
	})
}

// checkAgree compares ferry's and rclone's decisions on path, as a file
// and as a directory, leaving out what ferry always excludes and paths
// with a newline, unless exact says the file rules have no "**" (the
// directory rules often do).
func checkAgree(t *testing.T, fl *Filter, rf rcloneFilterT, path string, exact bool) {
	t.Helper()
	newline := strings.Contains(path, "\n")
	if (exact || !newline) && !alwaysExcluded(path) {
		if got, want := fl.Include(path, 1), rcloneInclude(rf, path, 1); got != want {
			t.Fatalf("Include(%q) = %v, rclone says %v\n%s", path, got, want, fl)
		}
	}
	dir := strings.Trim(path, "/")
	if !newline && dir != "" && dir != MetaDir && !strings.HasPrefix(dir, MetaDir+"/") {
		if got, want := fl.IncludeDir(path), rcloneIncludeDir(rf, path); got != want {
			t.Fatalf("IncludeDir(%q) = %v, rclone says %v\n%s", path, got, want, fl)
		}
	}
}
