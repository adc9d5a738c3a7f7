package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNamedPairEndToEnd: a user stores a pair, then runs it by name, from
// another folder, with its stored mode and filters, and overrides a flag
// on the command line; the pairs file is at the XDG default.
func TestNamedPairEndToEnd(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "note.md", "one", "scratch.tmp", "junk")
	write(t, e.p2, "remote-only.md", "two")
	ok := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := e.run(args...)
		if code != 0 {
			t.Fatalf("ferry %s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
		return stdout
	}
	ok("pair", "add", "vault", e.p1, e.p2, "--mode", "push", "--exclude", "*.tmp", "--workdir", e.work)
	if _, err := os.Stat(filepath.Join(e.home, ".config", "ferry", "pairs.toml")); err != nil {
		t.Fatalf("the pairs file is not at the XDG default: %v", err)
	}

	status := ok("status", "vault")
	if !strings.Contains(status, "mode     push") || !strings.Contains(status, "note.md") || strings.Contains(status, "scratch.tmp") {
		t.Errorf("status vault does not show the stored pair's plan:\n%s", status)
	}
	ok("sync", "vault")
	if got := tree(t, e.p2); got["note.md"] != "one" || got["scratch.tmp"] != "" || got["remote-only.md"] != "two" {
		t.Errorf("after sync vault (push, excluding *.tmp), path2 holds %v", got)
	}
	if _, ok := tree(t, e.p1)["remote-only.md"]; ok {
		t.Error("a push copied a file to path1")
	}

	// The command line wins: pull brings remote-only.md over.
	ok("sync", "vault", "--mode", "pull")
	if got := tree(t, e.p1); got["remote-only.md"] != "two" {
		t.Errorf("after sync vault --mode pull, path1 holds %v", got)
	}

	// A pair whose stored flag went bad by hand stops with its name and
	// key, and status 2; the other pairs still run.
	file := filepath.Join(e.home, ".config", "ferry", "pairs.toml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "mode = 'push'", "mode = 'sideways'", 1) +
		"\n[other]\npath1 = '" + e.p1 + "'\npath2 = '" + filepath.Join(e.root, "three") + "'\nworkdir = '" + e.work + "'\n"
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := e.run("sync", "vault")
	if code != exitUsage || !strings.Contains(stderr, "sideways") || !strings.Contains(stderr, file) {
		t.Errorf("broken pair: exit status %d, stderr:\n%s", code, stderr)
	}
	ok("sync", "other")
	if got := tree(t, filepath.Join(e.root, "three")); got["note.md"] != "one" {
		t.Errorf("pair other: %v", got)
	}
}
