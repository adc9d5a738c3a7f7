package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReportGolden runs ferry sync on real folders and compares what a
// person reads (the --dry-run plan, the summary and the last line of a real
// run) with golden files, the test's temporary folder written $ROOT.
func TestReportGolden(t *testing.T) {
	root := t.TempDir()
	p1, p2, work := filepath.Join(root, "one"), filepath.Join(root, "two"), filepath.Join(root, "work")
	write(t, p1, "a.md", "alpha\n", "same.md", "same\n", "notes/todo.md", "- milk\n")
	write(t, p2, "b.md", "bravo\n", "same.md", "same\n")
	rc := emptyRcloneConfig(t, root)
	sync := func(name string, args ...string) {
		t.Helper()
		code, out, errOut := runFerry(t, append([]string{"sync", p1, p2, "--workdir", work, "--config", rc}, args...)...)
		if code != 0 || errOut != "" && !slices.Contains(args, "-v") {
			t.Fatalf("%s: exit status %d\nstdout:\n%s\nstderr:\n%s", name, code, out, errOut)
		}
		goldenIn(t, "report", name, strings.ReplaceAll(out, root, "$ROOT"))
	}
	sync("first-run")
	write(t, p1, "a.md", "alpha, edited\n")
	write(t, p2, "notes/todo.md", "- milk\n- eggs\n")
	remove(t, p2, "b.md")
	write(t, p1, "new.md", "new\n")
	sync("dry-run", "--dry-run")
	sync("edits-verbose", "-v")
	sync("in-sync")
}
