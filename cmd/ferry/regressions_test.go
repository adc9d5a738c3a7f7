package main

// Engine bugs found while testing issue 4 end to end, kept as regression
// tests: each states the scenario that failed.

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// joinScenario: device A (path1 of e) syncs with the remote (path2 of e)
// and deletes stale.md; device B, a folder with an old copy of the vault
// and its own workdir, has not synced yet. It returns B's folder and a
// function that runs `ferry sync B remote --workdir workB args...`.
func joinScenario(t *testing.T, e *env) (string, func(args ...string) (int, string, string)) {
	laptopB := filepath.Join(e.root, "laptop-b")
	workB := filepath.Join(e.root, "work-b")
	for _, n := range []string{"keep.md", "stale.md", "other.md"} {
		write(t, e.p1, n, "v1 of "+n+"\n")
		write(t, laptopB, n, "v1 of "+n+"\n")
	}
	e.sync()
	remove(t, e.p1, "stale.md")
	e.sync()
	if _, ok := tree(t, e.p2)["stale.md"]; ok {
		t.Fatal("A's deletion did not reach the remote")
	}
	return laptopB, func(args ...string) (int, string, string) {
		return e.run(append([]string{"sync", laptopB, e.p2, "--workdir", workB}, args...)...)
	}
}

// Regression: --no-delete on a new device's first run blocks the deletion of a
// stale copy and reports it as pending, but commits a history without the
// path; the next run no longer reads the deletion records (it is not a
// first run), sees the stale copy as new on B and uploads it: the deleted
// note comes back to the remote.
func TestBugNoDeleteStaleCopyComesBack(t *testing.T) {
	e := newEnv(t)
	laptopB, syncB := joinScenario(t, e)
	if code, out, stderr := syncB("--no-delete"); code != 0 || !hasLine(out, "stale.md", "--no-delete") {
		t.Fatalf("B's first run with --no-delete: exit status %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr := syncB()
	if code != 0 {
		t.Fatalf("B's second run: exit status %d\n%s\n%s", code, out, stderr)
	}
	if _, ok := tree(t, e.p2)["stale.md"]; ok {
		t.Errorf("the deleted stale.md came back to the remote:\n%s", out)
	}
	if _, ok := tree(t, laptopB)["stale.md"]; ok {
		t.Errorf("B kept its stale copy once --no-delete was dropped:\n%s", out)
	}
}

// Regression: --resync reads the deletion records as a first run does, so it
// deletes a file the user restored (user-guide: "--resync ... deletes
// nothing"; rclone bisync's --resync is a union).
func TestBugResyncDeletes(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "x.md", "x\n", "y.md", "y\n", "z.md", "z\n")
	e.sync()
	remove(t, e.p1, "x.md")
	// This run deletes x.md on path2 and records it there; then x.md is
	// restored on path1 from a backup.
	e.sync()
	write(t, e.p1, "x.md", "x\n")
	out := e.sync("--resync")
	if got := tree(t, e.p1)["x.md"]; got != "x\n" {
		t.Errorf("--resync deleted the restored x.md on path1:\n%s", out)
	}
	if got := tree(t, e.p2)["x.md"]; got != "x\n" {
		t.Errorf("--resync did not make the union: path2 lacks x.md:\n%s", out)
	}
}

// Regression: after a first run that failed (or was interrupted) part way, the
// next run folds the journal into an empty history and then counts as a
// later run: it says the filters changed although none were ever given.
func TestBugRecoveredFirstRunFiltersChanged(t *testing.T) {
	e := newEnv(t)
	// "d" is a folder on path1 and a file on path2: both copies fail,
	// z.md is copied; nothing is committed.
	write(t, e.p1, "d/x.md", "x\n", "z.md", "z\n")
	write(t, e.p2, "d", "a file\n")
	if code, out, stderr := e.syncCode(); code != exitNoRetry {
		t.Fatalf("first run: exit status %d, want %d\n%s\n%s", code, exitNoRetry, out, stderr)
	}
	remove(t, e.p2, "d")
	out := e.sync()
	if !strings.Contains(out, noteRecovered) {
		t.Errorf("the second run does not say it recovered the first:\n%s", out)
	}
	if strings.Contains(out, "filters changed") {
		t.Errorf("no filters were ever given, yet the run says they changed:\n%s", out)
	}
}

// failDelete fails every Delete of one path, as a permission error would.
type failDelete struct {
	backends.Replica
	path string
}

func (f failDelete) Delete(ctx context.Context, p string) error {
	if p == f.path {
		return errors.New("permission denied")
	}
	return f.Replica.Delete(ctx, p)
}

// Regression: a new device's first run that failed part way leaves a journal; the
// next run folds it into a history and no longer reads the deletion
// records, so a stale copy whose deletion did not get done in the first
// run is uploaded to the remote instead of being deleted.
func TestBugRecoveredFirstRunIgnoresDeletionRecords(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	laptopA, laptopB := mem.New("laptopA"), mem.New("laptopB")
	remote := mem.New("remote")
	dir := t.TempDir()
	pairA := bisync.Pair{Path1: laptopA, Path2: remote, HistoryFile: filepath.Join(dir, "a.hist")}
	histB := filepath.Join(dir, "b.hist")
	for _, n := range []string{"keep.md", "stale.md", "other.md"} {
		laptopA.WriteFile(n, []byte("v1 of "+n), t0)
		laptopB.WriteFile(n, []byte("v1 of "+n), t0.Add(-time.Hour))
	}
	run := func(p bisync.Pair) (*bisync.Result, error) {
		return bisync.Run(context.Background(), p, bisync.DefaultOptions())
	}
	if _, err := run(pairA); err != nil {
		t.Fatal(err)
	}
	laptopA.Remove("stale.md")
	if _, err := run(pairA); err != nil {
		t.Fatal(err)
	}

	// B's first run: the deletion of the stale copy fails.
	res, err := run(bisync.Pair{Path1: failDelete{laptopB, "stale.md"}, Path2: remote, HistoryFile: histB})
	if err == nil {
		t.Fatalf("B's first run succeeded; plan %+v", res.Plan)
	}
	// B's second run, the fault gone.
	res, err = run(bisync.Pair{Path1: laptopB, Path2: remote, HistoryFile: histB})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.ReadFile("stale.md"); err == nil {
		t.Errorf("the deleted stale.md came back to the remote; plan %+v", res.Plan)
	}
	if res.FiltersChanged {
		t.Errorf("FiltersChanged after a recovered first run without filters")
	}
}
