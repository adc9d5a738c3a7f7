package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/filters"
)

// runFerry runs the command in-process and returns its exit status and output.
func runFerry(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	a, b := dir+"/a", dir+"/b"
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown command", []string{"bogus"}, "unknown command"},
		{"no paths", []string{"sync"}, "two paths"},
		{"one path", []string{"sync", a}, "two paths"},
		{"three paths", []string{"sync", a, b, dir}, "two paths"},
		{"unknown flag", []string{"sync", a, b, "--bogus"}, "--bogus"},
		{"unknown shorthand", []string{"sync", a, b, "-Z"}, "-Z"},
		{"bad mode", []string{"sync", a, b, "--mode", "sideways"}, "sideways"},
		{"bad compare", []string{"sync", a, b, "--compare", "size,colour"}, "colour"},
		{"bad conflict-resolve", []string{"sync", a, b, "--conflict-resolve", "coin"}, "coin"},
		{"bad conflict-loser", []string{"sync", a, b, "--conflict-loser", "shred"}, "shred"},
		{"empty conflict-suffix", []string{"sync", a, b, "--conflict-suffix", ""}, "--conflict-suffix"},
		{"transfers not a number", []string{"sync", a, b, "--transfers", "many"}, "many"},
		{"transfers zero", []string{"sync", a, b, "--transfers", "0"}, "--transfers"},
		{"checkers negative", []string{"sync", a, b, "--checkers=-1"}, "--checkers"},
		{"low-level-retries zero", []string{"sync", a, b, "--low-level-retries", "0"}, "--low-level-retries"},
		{"bool flag with value", []string{"sync", a, b, "--dry-run=maybe"}, "maybe"},
		{"verbose and quiet", []string{"sync", a, b, "-v", "-q"}, "-q"},
		{"negative lock-wait", []string{"sync", a, b, "--lock-wait", "-1s"}, "--lock-wait"},
		{"lock-wait not a duration", []string{"sync", a, b, "--lock-wait", "10"}, "10"},
		{"negative max-lock", []string{"sync", a, b, "--max-lock=-2m"}, "--max-lock"},
		{"empty dirs both ways", []string{"sync", a, b, "--create-empty-src-dirs", "--remove-empty-dirs"}, "together"},
		{"max-delete over 100", []string{"sync", a, b, "--max-delete", "101"}, "--max-delete"},
		{"max-delete negative", []string{"sync", a, b, "--max-delete=-1"}, "--max-delete"},
		{"max-delete not a number", []string{"sync", a, b, "--max-delete", "50%"}, "50%"},
		{"max-delete-count negative", []string{"sync", a, b, "--max-delete-count=-5"}, "--max-delete-count"},
		{"empty check-filename", []string{"sync", a, b, "--check-filename", ""}, "--check-filename"},
		{"check-filename with a folder", []string{"sync", a, b, "--check-filename", "sub/RCLONE_TEST"}, "sub/RCLONE_TEST"},
		{"bad include", []string{"sync", a, b, "--include", "a["}, "--include"},
		{"bad exclude", []string{"sync", a, b, "--exclude", "***"}, "--exclude"},
		{"malformed filter", []string{"sync", a, b, "--filter", "*.md"}, "--filter"},
		{"bad min-size", []string{"sync", a, b, "--min-size", "big"}, "--min-size"},
		{"bad max-size", []string{"sync", a, b, "--max-size", "1Q"}, "--max-size"},
		{"missing filters file", []string{"sync", a, b, "--filters-file", dir + "/nosuch"}, "nosuch"},
		{"missing include-from", []string{"sync", a, b, "--include-from", dir + "/nosuch-include"}, "nosuch-include"},
		{"filters from stdin", []string{"sync", a, b, "--exclude-from", "-"}, "standard input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runFerry(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--help") {
				t.Errorf("stderr does not name %q and point to --help:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"sync", "--help"}, {"help", "sync"}, {"--version"}} {
		code, stdout, stderr := runFerry(t, args...)
		if code != exitSuccess || stdout == "" {
			t.Errorf("ferry %s: exit status %d, stdout %q, stderr %q", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	_, stdout, _ := runFerry(t, "sync", "--help")
	for _, flag := range []string{"--mode", "--dry-run", "--resync", "--compare", "--conflict-resolve",
		"--conflict-loser", "--conflict-suffix", "--create-empty-src-dirs", "--remove-empty-dirs",
		"--backup-dir1", "--backup-dir2", "--transfers", "--checkers", "--low-level-retries",
		"--workdir", "--lock-wait", "--max-lock", "--config", "--verbose", "--quiet",
		"--filter", "--filters-file", "--include", "--exclude", "--include-from", "--exclude-from",
		"--min-size", "--max-size", "--max-delete", "--max-delete-count", "--force",
		"--check-access", "--check-filename", "--no-delete"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("sync --help does not document %s", flag)
		}
	}
}

// parseFlags parses sync's flags as the command line would.
func parseFlags(t *testing.T, args ...string) *syncFlags {
	t.Helper()
	f := &syncFlags{}
	var started bool
	cmd := f.command(io.Discard, io.Discard, &started)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return f
}

func TestFlagsToOptions(t *testing.T) {
	want := bisync.DefaultOptions()
	got, err := parseFlags(t).options("")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("no flags: options\n%+v\nwant the defaults\n%+v", got, want)
	}

	got, err = parseFlags(t, "--mode", "pull-delete", "-n", "-1", "--compare", "size,checksum",
		"--conflict-resolve", "newer", "--conflict-loser", "pathname", "--conflict-suffix", "a,b",
		"--remove-empty-dirs", "--transfers", "2", "--checkers", "3").options("")
	if err != nil {
		t.Fatal(err)
	}
	want = bisync.DefaultOptions()
	want.Mode = bisync.PullDelete
	want.DryRun = true
	want.Resync = true
	want.Compare = bisync.Compare{Checksum: true}
	want.ConflictResolve = bisync.ResolveNewer
	want.ConflictLoser = bisync.LoserPathname
	want.ConflictSuffix = "a,b"
	want.RemoveEmptyDirs = true
	want.Transfers = 2
	want.Checkers = 3
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options\n%+v\nwant\n%+v", got, want)
	}

	// The safety flags.
	got, err = parseFlags(t, "--max-delete", "25", "--max-delete-count", "100", "--force",
		"--check-access", "--check-filename", ".mounted", "--no-delete").options("")
	if err != nil {
		t.Fatal(err)
	}
	want = bisync.DefaultOptions()
	want.MaxDelete = 25
	want.MaxDeleteCount = 100
	want.Force = true
	want.CheckAccess = true
	want.CheckFilename = ".mounted"
	want.NoDelete = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options\n%+v\nwant\n%+v", got, want)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "WARN"},
		{[]string{"-q"}, "ERROR"},
		{[]string{"-v"}, "INFO"},
		{[]string{"-vv"}, "DEBUG"},
		{[]string{"-v", "-v", "-v"}, "DEBUG"},
	} {
		if got := parseFlags(t, tc.args...).logLevel().String(); got != tc.want {
			t.Errorf("%q: log level %s, want %s", tc.args, got, tc.want)
		}
	}
}

// TestFilterFlags: the filter flags reach the engine as filters.Parse reads
// them, in rclone's order, each value whole (a pattern may hold commas).
func TestFilterFlags(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.txt")
	if err := os.WriteFile(rules, []byte("# rules\n- *.bak\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--filter", "- secret/**", "--filters-file", rules, "--include", "*.{md,txt}",
		"--exclude", "drafts/**", "--min-size", "1B", "--max-size", "1M"}
	got, err := parseFlags(t, args...).options("")
	if err != nil {
		t.Fatal(err)
	}
	want, err := filters.Parse(filters.Options{
		Filter: []string{"- secret/**"}, FilterFiles: []string{rules},
		Include: []string{"*.{md,txt}"}, Exclude: []string{"drafts/**"},
		MinSize: "1B", MaxSize: "1M",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Filter == nil || got.Filter.String() != want.String() {
		t.Fatalf("filter:\n%v\nwant:\n%v", got.Filter, want)
	}
	for _, tc := range []struct {
		path string
		size int64
		want bool
	}{
		{"a.md", 10, true},
		{"a.txt", 10, true},
		{"a.jpg", 10, false},       // not included
		{"drafts/a.md", 10, true},  // includes come first
		{"big.md", 2 << 20, false}, // --max-size
		{"empty.md", 0, false},     // --min-size
		{".ferry/deletions", 10, false},
	} {
		if g := got.Filter.Include(tc.path, tc.size); g != tc.want {
			t.Errorf("Include(%q, %d) = %v, want %v", tc.path, tc.size, g, tc.want)
		}
	}

	// Without a filter flag there is no filter ("off" sizes are none).
	got, err = parseFlags(t, "--min-size", "off", "--max-size", "off").options("")
	if err != nil || got.Filter != nil {
		t.Errorf("no filter flags: filter %v, err %v; want none", got.Filter, err)
	}

	// A bad rule in a file is a usage error that names the file and line.
	if err := os.WriteFile(rules, []byte("+ *.md\n\n- a[\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = parseFlags(t, "--filters-file", rules).options("ferry sync")
	var ue *usageError
	var re *filters.RuleError
	if !errors.As(err, &ue) || !errors.As(err, &re) || re.Line != 3 || !strings.Contains(err.Error(), rules+":3") {
		t.Errorf("bad rule: err = %v, want a usage error naming %s:3", err, rules)
	}
}

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"/home/me/vault", "/home/me/vault", true},
		{"/home/me/vault", "/home/me/vault/sub", true},
		{"/home/me/vault/sub", "/home/me/vault", true},
		{"/home/me/vault", "/home/me/vault2", false},
		{"/", "/home", true},
		{"remote:", "remote:vault", true},
		{"remote:vault", "remote:vault/x", true},
		{"remote:vault", "other:vault", false},
		{"remote:vault", "remote:vaults", false},
		{"/home/me/vault", "remote:/home/me/vault", false},
	} {
		if got := overlaps(tc.a, tc.b); got != tc.want {
			t.Errorf("overlaps(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestUserGuideDocumentsEveryFlag: every flag of ferry sync has an entry in
// docs/user-guide.md's Flags section, with an example command that uses it.
func TestUserGuideDocumentsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../docs/user-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	guide := string(b)
	start := strings.Index(guide, "\n## Flags\n")
	end := strings.Index(guide[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("docs/user-guide.md has no Flags section")
	}
	section := guide[start : start+1+end]
	var examples []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "    ferry ") {
			examples = append(examples, line+" ")
		}
	}
	// One line per flag: "  -n, --dry-run   ..." or "      --mode string   ...".
	usage := (&syncFlags{}).command(io.Discard, io.Discard, new(bool)).Flags().FlagUsages()
	flagLine := regexp.MustCompile(`(?m)^\s+(?:-(\w), )?--([\w-]+)`)
	flags := flagLine.FindAllStringSubmatch(usage, -1)
	if len(flags) < 30 {
		t.Fatalf("found %d flags in:\n%s", len(flags), usage)
	}
flag:
	for _, m := range flags {
		short, name := m[1], m[2]
		if !strings.Contains(section, "`--"+name) {
			t.Errorf("the Flags section of docs/user-guide.md has no entry for --%s", name)
		}
		for _, ex := range examples {
			if strings.Contains(ex, " --"+name+" ") || strings.Contains(ex, " --"+name+"=") ||
				(short != "" && strings.Contains(ex, " -"+short+" ")) {
				continue flag
			}
		}
		t.Errorf("the Flags section of docs/user-guide.md has no example of --%s", name)
	}
}
