package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/bisync"
)

// TestConflictsLists: after a sync that keeps both versions of a file,
// ferry conflicts finds both copies on both sides, says whose version each
// is, and notices when one is gone from a side; without paths it goes
// through the workdir's pairs.
func TestConflictsLists(t *testing.T) {
	root := t.TempDir()
	p1, p2, work := filepath.Join(root, "one"), filepath.Join(root, "two"), filepath.Join(root, "work")
	write(t, p1, "notes/plan.md", "mine\n", "other.md", "x\n")
	write(t, p2, "notes/plan.md", "theirs\n", "other.md", "x\n")
	rc := emptyRcloneConfig(t, root)
	if code, out, errOut := runFerry(t, "sync", p1, p2, "--workdir", work, "--config", rc); code != 0 {
		t.Fatalf("sync: exit status %d\n%s\n%s", code, out, errOut)
	}
	var copies []string
	for name := range tree(t, p1) {
		if strings.Contains(name, "conflict") {
			copies = append(copies, name)
		}
	}
	if len(copies) != 2 {
		t.Fatalf("conflict copies on path1: %q, want two", copies)
	}

	code, out, errOut := runFerry(t, "conflicts", p1, p2, "--workdir", work, "--config", rc)
	if code != 0 {
		t.Fatalf("conflicts: exit status %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{p1 + " <-> " + p2, "\nnotes/plan.md\n", "path1's version", "path2's version", "2 conflict copies of 1 file"} {
		if !strings.Contains(out, want) {
			t.Errorf("conflicts output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "on both sides"); n != 2 {
		t.Errorf("%d copies on both sides, want 2:\n%s", n, out)
	}

	remove(t, p1, copies[0])
	_, out, _ = runFerry(t, "conflicts", p1, p2, "--workdir", work, "--config", rc)
	if !hasLine(out, copies[0], "on path2 only") {
		t.Errorf("the copy removed from path1 is not shown on path2 only:\n%s", out)
	}

	code, all, errOut := runFerry(t, "conflicts", "--workdir", work, "--config", rc)
	if code != 0 || all != out {
		t.Errorf("conflicts without paths: exit status %d, output:\n%s\nwant the pair's:\n%s\nstderr:\n%s", code, all, out, errOut)
	}

	code, out, _ = runFerry(t, "conflicts", "--workdir", filepath.Join(root, "none"), "--config", rc)
	if code != 0 || !strings.Contains(out, "no pairs") {
		t.Errorf("an empty workdir: exit status %d, output:\n%s", code, out)
	}
	if code, _, _ := runFerry(t, "conflicts", p1); code != exitUsage {
		t.Errorf("one path: exit status %d, want %d", code, exitUsage)
	}
}

func TestRenderConflicts(t *testing.T) {
	at := time.Date(2026, 11, 22, 21, 5, 0, 0, time.UTC)
	var out bytes.Buffer
	renderConflicts(&out, "/home/me/vault", "remote:vault", []conflictCopy{
		{path: "a.conflict1-20261122-210500-k3x9q2.md", ConflictCopy: bisync.ConflictCopy{Of: "a.md", Side: 1, Time: at, Device: "k3x9q2"}, on: [2]bool{true, true}},
		{path: "a.conflict2-20261122-210500-k3x9q2.md", ConflictCopy: bisync.ConflictCopy{Of: "a.md", Side: 2, Time: at, Device: "k3x9q2"}, on: [2]bool{false, true}},
		{path: "b.conflict-path1-20261122-210500.md", ConflictCopy: bisync.ConflictCopy{Of: "b.md", Side: 1, Time: at}, on: [2]bool{true, false}},
	}, time.UTC)
	want := `/home/me/vault <-> remote:vault
a.md
  a.conflict1-20261122-210500-k3x9q2.md  path1's version, 2026-11-22 21:05:00 on k3x9q2, on both sides
  a.conflict2-20261122-210500-k3x9q2.md  path2's version, 2026-11-22 21:05:00 on k3x9q2, on path2 only
b.md
  b.conflict-path1-20261122-210500.md    path1's version, 2026-11-22 21:05:00, on path1 only
3 conflict copies of 2 files
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	renderConflicts(&out, "/a", "/b", nil, time.UTC)
	if want := "/a <-> /b\nno conflict copies\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
