package main

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-sync/ferry/bisync"
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
		"--workdir", "--lock-wait", "--max-lock", "--config", "--verbose", "--quiet"} {
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
