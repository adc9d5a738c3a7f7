package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writePairs writes a pairs file into a temporary folder and returns its
// path.
func writePairs(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pairs.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPairsFileParses(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home folder")
	}
	path := writePairs(t, `# my pairs
[vault]
path1 = '~/vault'
path2 = "vault-s3:notes"
max-delete = 20
exclude = ['.obsidian/**', '*.tmp']
check-access = true
lock-wait = "10m"
mode = 'push'   # stored flags come back in --help order
verbose = true

[photos]
path1 = '/home/me/Pictures'
path2 = ":webdav,url='http://127.0.0.1:8080/dav':photos"
filters-file = '~/photo-filters.txt'
`)
	pf, err := readPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := pf.names(); !slices.Equal(got, []string{"photos", "vault"}) {
		t.Fatalf("names %q", got)
	}
	v := pf.pairs["vault"]
	if v.err != nil {
		t.Fatal(v.err)
	}
	if v.path1 != filepath.Join(home, "vault") || v.path2 != "vault-s3:notes" {
		t.Errorf("paths %q, %q", v.path1, v.path2)
	}
	if got, want := v.commandLine(), "--mode push --exclude '.obsidian/**' --exclude '*.tmp' --max-delete 20 --check-access --lock-wait 10m -v"; got != want {
		t.Errorf("command line\n got %s\nwant %s", got, want)
	}
	ph := pf.pairs["photos"]
	if ph.err != nil {
		t.Fatal(ph.err)
	}
	if got := ph.flags[0].values[0]; got != filepath.Join(home, "photo-filters.txt") {
		t.Errorf("filters-file %q: ~ not expanded", got)
	}
}

// TestPairsFileErrors: what a person may get wrong in the file, each said
// with the pair and the key; a broken pair does not break the others.
func TestPairsFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, table, want string
	}{
		{"no path2", "path1 = '/a'", "path2 is missing"},
		{"path not a string", "path1 = '/a'\npath2 = 3", "path2 is missing"},
		{"relative local path", "path1 = 'vault'\npath2 = 'r:v'", `"vault" is a relative path`},
		{"unknown key", "path1 = '/a'\npath2 = 'r:v'\nmdoe = 'push'", "mdoe is not a flag of ferry sync"},
		{"flag with dashes", "path1 = '/a'\npath2 = 'r:v'\n'--mode' = 'push'", "--mode is not a flag"},
		{"one-run flag", "path1 = '/a'\npath2 = 'r:v'\nforce = true", "force cannot be stored"},
		{"every", "path1 = '/a'\npath2 = 'r:v'\nevery = '5m'", "every cannot be stored"},
		{"list for a single flag", "path1 = '/a'\npath2 = 'r:v'\nmode = ['push']", "mode: takes one value"},
		{"bad number", "path1 = '/a'\npath2 = 'r:v'\nmax-delete = 'many'", `max-delete = "many"`},
		{"bad duration", "path1 = '/a'\npath2 = 'r:v'\nlock-wait = 10", `lock-wait = "10"`},
		{"table value", "path1 = '/a'\npath2 = 'r:v'\n[good.mode]\nx = 1", "mode"},
		{"relative filter file", "path1 = '/a'\npath2 = 'r:v'\nfilters-file = 'f.txt'", `"f.txt" is a relative path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writePairs(t, "[good]\n"+tc.table+"\n\n[other]\npath1 = '/x'\npath2 = 'r:y'\n")
			pf, err := readPairs(path)
			if err != nil {
				t.Fatal(err)
			}
			if pf.pairs["other"].err != nil {
				t.Errorf("the other pair is broken too: %v", pf.pairs["other"].err)
			}
			_, err = pf.lookup("ferry sync", "good")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `pair "good"`) {
				t.Errorf("error %v, want one about pair \"good\" saying %q", err, tc.want)
			}
			if code := exitCode(err); code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
		})
	}
}

func TestPairsFileSyntaxError(t *testing.T) {
	path := writePairs(t, "[vault]\npath1 = '/a'\npath2 = /b\n")
	_, err := readPairs(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %v, want one naming %s and line 3", err, path)
	}
	path = writePairs(t, "path1 = '/a'\n")
	if _, err := readPairs(path); err == nil || !strings.Contains(err.Error(), "is not a pair") {
		t.Errorf("a top-level key: error %v", err)
	}
}

func TestPairLookupErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.toml")
	for _, tc := range []struct {
		name, file, pair, want string
	}{
		{"no file", missing, "vault", "there is no pairs file"},
		{"empty file", writePairs(t, "# nothing yet\n"), "vault", "holds no pairs"},
		{"unknown pair", writePairs(t, "[notes]\npath1='/a'\npath2='/b'\n[photos]\npath1='/c'\npath2='/d'\n"), "vault", "the pairs are: notes, photos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runFerry(t, "sync", tc.pair, "--pairs-file", tc.file)
			if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "pair add") && tc.name != "unknown pair" {
				t.Errorf("exit status %d, stderr %q (want %q), stdout %q", code, stderr, tc.want, stdout)
			}
		})
	}
	// One argument that looks like a path is neither a pair nor a pair of
	// paths; the rule is in the message.
	for _, arg := range []string{"./vault", "~/vault", "remote:vault", "my.vault"} {
		code, _, stderr := runFerry(t, "sync", arg, "--pairs-file", missing)
		if code != exitUsage || !strings.Contains(stderr, "never '/', ':'") {
			t.Errorf("sync %s: exit status %d, stderr %q", arg, code, stderr)
		}
	}
}

// TestPairCommands: add, list, show, remove through the command line, on
// a file that a person has edited: their comments stay.
func TestPairCommands(t *testing.T) {
	dir := t.TempDir()
	file := writePairs(t, "# my own comment\n[notes]   # the notes\npath1 = '/srv/notes'\n# about notes' remote\npath2 = 'nas:notes'\n\n# photos come next\n")
	filters := filepath.Join(dir, "filters.txt")
	if err := os.WriteFile(filters, []byte("- *.tmp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	ok := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runFerry(t, append(args, "--pairs-file", file)...)
		if code != 0 {
			t.Fatalf("ferry %s: exit status %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		return stdout
	}
	ok("pair", "add", "vault", "here", "vault-s3:notes", "--mode", "push", "--exclude", "*.tmp", "--exclude", ".trash/**",
		"--filters-file", "filters.txt", "--max-delete", "20", "--check-access")
	b, _ := os.ReadFile(file)
	text := string(b)
	for _, want := range []string{"# my own comment", "[notes]   # the notes", "# about notes' remote", "# photos come next",
		"[vault]\npath1 = '" + filepath.Join(dir, "here") + "'\npath2 = 'vault-s3:notes'\nmode = 'push'\nfilters-file = ['" + filters + "']\nexclude = ['*.tmp', '.trash/**']\nmax-delete = 20\ncheck-access = true\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("pairs file lacks %q:\n%s", want, text)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("pairs file mode %v, %v; want 0600", fi.Mode(), err)
	}

	list := ok("pair", "list")
	if !hasLine(list, "notes", "/srv/notes <-> nas:notes") || !hasLine(list, "vault", "vault-s3:notes", "--mode push", "--exclude '*.tmp'", "--check-access") {
		t.Errorf("pair list:\n%s", list)
	}
	show := ok("pair", "show", "vault")
	if !hasLine(show, "runs", "ferry sync "+filepath.Join(dir, "here")+" vault-s3:notes --mode push --filters-file "+filters+" --exclude '*.tmp' --exclude '.trash/**' --max-delete 20 --check-access") {
		t.Errorf("pair show:\n%s", show)
	}

	// Adding again needs --replace, which rewrites the pair in place.
	if code, _, stderr := runFerry(t, "pair", "add", "vault", "/a", "/b", "--pairs-file", file); code != exitUsage || !strings.Contains(stderr, "--replace") {
		t.Errorf("add twice: exit status %d, stderr %q", code, stderr)
	}
	ok("pair", "add", "vault", "/a", "/b", "--mode", "pull", "--replace")
	ok("pair", "add", "zzz", "/c", "/d")
	b, _ = os.ReadFile(file)
	text = string(b)
	if !strings.Contains(text, "[vault]\npath1 = '/a'\npath2 = '/b'\nmode = 'pull'\n") || strings.Contains(text, "vault-s3") ||
		strings.Index(text, "[vault]") > strings.Index(text, "[zzz]") {
		t.Errorf("after --replace:\n%s", text)
	}

	ok("pair", "remove", "vault")
	b, _ = os.ReadFile(file)
	text = string(b)
	if strings.Contains(text, "[vault]") || !strings.Contains(text, "[zzz]") || !strings.Contains(text, "# photos come next") || !strings.Contains(text, "[notes]") {
		t.Errorf("after remove:\n%s", text)
	}
	if code, _, stderr := runFerry(t, "pair", "remove", "vault", "--pairs-file", file); code != exitUsage || !strings.Contains(stderr, "notes, zzz") {
		t.Errorf("remove twice: exit status %d, stderr %q", code, stderr)
	}
}

func TestPairAddRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "pairs.toml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pair", "add", "vault", "/a"}, "NAME, PATH1 and PATH2"},
		{[]string{"pair", "add", "my/vault", "/a", "/b"}, "cannot be a pair name"},
		{[]string{"pair", "add", "r:v", "/a", "/b"}, "cannot be a pair name"},
		{[]string{"pair", "add", "vault", "/a", "/b", "--force"}, "--force cannot be stored"},
		{[]string{"pair", "add", "vault", "/a", "/b", "--dry-run"}, "--dry-run cannot be stored"},
		{[]string{"pair", "add", "vault", "/a", "/b", "--mode", "sideways"}, "sideways"},
		{[]string{"pair", "add", "vault", "/a", "/b", "--filters-file", "/nosuch/filters"}, "/nosuch/filters"},
		{[]string{"pair", "show", "vault"}, "no pairs file"},
		{[]string{"pair"}, "add, list, show or remove"},
	} {
		code, _, stderr := runFerry(t, append(tc.args, "--pairs-file", file)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("ferry %s: exit status %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, exitUsage, tc.want)
		}
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a refused pair add wrote the pairs file")
	}
}

// TestPairFlagsOverride: the command line wins, flag by flag; a repeatable
// flag given there replaces the stored values; and -v overrides a stored
// -q rather than clashing with it.
func TestPairFlagsOverride(t *testing.T) {
	path := writePairs(t, "[vault]\npath1 = '/a'\npath2 = '/b'\nmode = 'push'\nexclude = ['*.tmp']\nmax-delete = 20\nquiet = true\n")
	pf, err := readPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	f2 := &syncFlags{}
	cmd := f2.command(nil, nil, new(bool))
	if err := cmd.ParseFlags([]string{"--mode", "pull", "--exclude", "*.bak", "-v"}); err != nil {
		t.Fatal(err)
	}
	if err := pf.pairs["vault"].apply(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	if f2.mode != "pull" || !slices.Equal(f2.filter.Exclude, []string{"*.bak"}) || f2.maxDelete != 20 || f2.quiet || f2.verbose != 1 {
		t.Errorf("mode %q, exclude %q, max-delete %d, quiet %v, verbose %d", f2.mode, f2.filter.Exclude, f2.maxDelete, f2.quiet, f2.verbose)
	}
	if _, err := f2.options("ferry sync"); err != nil {
		t.Error(err)
	}
}

func TestBlockEditing(t *testing.T) {
	text := []byte("# head\n[a]\npath1 = '/a'\n# tail of a, or head of b\n\n[\"b\"]\npath1 = '/b'\nexclude = [\n  'x',\n]\n\n[c]\npath1='/c'")
	start, end, ok := findBlock(text, "b")
	if !ok || string(text[start:end]) != "[\"b\"]\npath1 = '/b'\nexclude = [\n  'x',\n]\n" {
		t.Errorf("block b: %q (%v)", text[start:end], ok)
	}
	out, err := removeBlock(text, "a")
	if err != nil || string(out) != "# head\n# tail of a, or head of b\n\n[\"b\"]\npath1 = '/b'\nexclude = [\n  'x',\n]\n\n[c]\npath1='/c'" {
		t.Errorf("remove a: %q, %v", out, err)
	}
	out, err = replaceBlock(text, "c", "[c]\npath1 = '/cc'\n")
	if err != nil || !strings.HasSuffix(string(out), "\n\n[c]\npath1 = '/cc'") {
		t.Errorf("replace c: %q, %v", out, err)
	}
	if _, _, ok := findBlock(text, "d"); ok {
		t.Error("found a block d")
	}
}
