// Package bisynctest holds engine scenarios that run on any pair of
// replicas: the bisync tests run them on in-memory replicas, and the rclonefs
// tests run the very same scenarios on real folders through rclone.
package bisynctest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

// NewPair returns two empty replicas for one scenario.
type NewPair func(t *testing.T) (path1, path2 backends.Replica)

// outcome is what a cell does to the file under test.
type outcome int

const (
	keep      outcome = iota // both sides as they were
	to2                      // path1's version copied to path2
	to1                      // path2's version copied to path1
	del1                     // deleted on path1
	del2                     // deleted on path2
	both                     // conflict: both versions kept on both sides
	keepDest2                // copied to path2, path2's own version kept as a conflict copy
	keepDest1                // copied to path1, path1's own version kept as a conflict copy
)

// Cell is one row of the decision tables as the documentation states it.
type Cell struct {
	Mode     bisync.Mode
	One, Two bisync.State
	Decision int
	// SameContent makes both sides' new versions equal (M,M and C,C).
	SameContent bool
	out         outcome
	// recorded says whether the history holds the path after the run.
	recorded bool
}

func (c Cell) Name() string {
	n := fmt.Sprintf("%v/%02d_%v_%v", c.Mode, c.Decision, c.One, c.Two)
	if c.SameContent {
		n += "_same"
	}
	return n
}

const (
	U = bisync.Unchanged
	M = bisync.Modified
	D = bisync.Deleted
	C = bisync.Created
	A = bisync.Absent
)

// Cells lists every cell of docs/algorithm.md reachable without deletion
// records (D without a history needs them), with what it must do.
func Cells() []Cell {
	var cells []Cell
	add := func(mode bisync.Mode, one, two bisync.State, dec int, out outcome, recorded bool) {
		cells = append(cells, Cell{Mode: mode, One: one, Two: two, Decision: dec, out: out, recorded: recorded})
	}
	same := func(mode bisync.Mode, one, two bisync.State, dec int) {
		cells = append(cells, Cell{Mode: mode, One: one, Two: two, Decision: dec, SameContent: true, out: keep, recorded: true})
	}
	bi := bisync.Bidirectional
	add(bi, U, U, 2, keep, true)
	add(bi, U, M, 9, to1, true)
	add(bi, U, D, 7, del1, false)
	add(bi, M, U, 10, to2, true)
	add(bi, M, M, 16, both, false)
	same(bi, M, M, 16)
	add(bi, M, D, 8, to2, true)
	add(bi, D, U, 4, del2, false)
	add(bi, D, M, 5, to1, true)
	add(bi, D, D, 1, keep, false)
	add(bi, C, C, 11, both, false)
	same(bi, C, C, 11)
	add(bi, C, A, 6, to2, true)
	add(bi, A, C, 3, to1, true)

	for _, mode := range []bisync.Mode{bisync.Push, bisync.PushDelete} {
		add(mode, U, U, 2, keep, true)
		add(mode, U, M, 26, keepDest2, true)
		add(mode, U, D, 32, to2, true)
		add(mode, M, U, 10, to2, true)
		add(mode, M, M, 25, keepDest2, true)
		same(mode, M, M, 25)
		add(mode, M, D, 8, to2, true)
		if mode == bisync.Push {
			add(mode, D, U, 29, keep, true)
		} else {
			add(mode, D, U, 38, del2, false)
		}
		add(mode, D, M, 30, keep, true)
		add(mode, C, C, 23, keepDest2, true)
		same(mode, C, C, 23)
		add(mode, C, A, 6, to2, true)
		add(mode, A, C, 0, keep, false)
		add(mode, D, D, 1, keep, false)
	}
	for _, mode := range []bisync.Mode{bisync.Pull, bisync.PullDelete} {
		add(mode, U, U, 2, keep, true)
		add(mode, U, M, 9, to1, true)
		if mode == bisync.Pull {
			add(mode, U, D, 33, keep, true)
		} else {
			add(mode, U, D, 39, del1, false)
		}
		add(mode, M, U, 27, keepDest1, true)
		add(mode, M, M, 24, keepDest1, true)
		same(mode, M, M, 24)
		add(mode, M, D, 34, keep, true)
		add(mode, D, U, 35, to1, true)
		add(mode, D, M, 5, to1, true)
		add(mode, C, C, 22, keepDest1, true)
		same(mode, C, C, 22)
		add(mode, C, A, 0, keep, false)
		add(mode, A, C, 3, to1, true)
		add(mode, D, D, 1, keep, false)
	}
	return cells
}

// The file under test and a bystander that every scenario keeps in sync.
const (
	subject   = "notes/f.md"
	bystander = "notes/other.md"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// RunCells runs every cell on fresh replicas from newPair: it establishes a
// history, changes each side as the cell says, syncs in the cell's mode, and
// checks both sides, the history, and that a second run does nothing more.
func RunCells(t *testing.T, newPair NewPair) {
	for _, c := range Cells() {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			runCell(t, newPair, c)
		})
	}
}

func runCell(t *testing.T, newPair NewPair, c Cell) {
	r1, r2 := newPair(t)
	p := bisync.Pair{Path1: r1, Path2: r2, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
	Put(t, r1, bystander, "bystander", t0)
	if needsHistory(c.One) || needsHistory(c.Two) {
		Put(t, r1, subject, "base", t0)
	}
	MustSync(t, p, bisync.Bidirectional)

	v1, v2 := "version one\n", "version two, longer\n"
	if c.SameContent {
		v2 = v1
	}
	mutate(t, r1, c.One, v1)
	mutate(t, r2, c.Two, v2)
	before1, before2 := Contents(t, r1), Contents(t, r2)

	res := MustSync(t, p, c.Mode)
	want := c.Decision
	if want == 2 { // in-sync paths are left out of the plan
		want = -1
	}
	if got := decisionOf(res, subject); got != want {
		t.Errorf("decision for %s = %d, want %d (plan %v)", subject, got, c.Decision, res.Plan)
	}
	after1, after2 := Contents(t, r1), Contents(t, r2)
	want1, want2 := expected(t, c, before1, before2)
	checkTree(t, "path1", after1, want1)
	checkTree(t, "path2", after2, want2)

	h, err := history.Load(p.HistoryFile)
	if err != nil {
		t.Fatalf("load history: %v", err)
	}
	if got := hasRecord(h, subject); got != c.recorded {
		t.Errorf("history holds %s: %v, want %v", subject, got, c.recorded)
	}
	if !hasRecord(h, bystander) {
		t.Errorf("history lost the bystander %s", bystander)
	}

	// The run must have converged: a second run changes nothing.
	res = MustSync(t, p, c.Mode)
	for _, a := range res.Plan {
		if a.Op != bisync.OpNothing {
			t.Errorf("second run plans %v %s [%02d] %s", a.Op, a.Path, a.Decision, a.Reason)
		}
	}
	checkTree(t, "path1 after a second run", Contents(t, r1), want1)
	checkTree(t, "path2 after a second run", Contents(t, r2), want2)
}

func needsHistory(s bisync.State) bool { return s == U || s == M || s == D }

func mutate(t *testing.T, r backends.Replica, s bisync.State, content string) {
	switch s {
	case M, C:
		Put(t, r, subject, content, t0.Add(time.Hour))
	case D:
		if err := r.Delete(context.Background(), subject); err != nil {
			t.Fatalf("delete %s on %v: %v", subject, r, err)
		}
	}
}

// expected computes both trees after the cell from the trees before it.
func expected(t *testing.T, c Cell, b1, b2 map[string]string) (w1, w2 map[string]string) {
	w1, w2 = clone(b1), clone(b2)
	c1, ok1 := b1[subject]
	c2, ok2 := b2[subject]
	switch c.out {
	case to2, keepDest2:
		if !ok1 {
			t.Fatalf("cell copies 1->2 but path1 has no %s", subject)
		}
		w2[subject] = c1
		if c.out == keepDest2 && ok2 {
			w2[conflictMarker(2)] = c2
		}
	case to1, keepDest1:
		if !ok2 {
			t.Fatalf("cell copies 2->1 but path2 has no %s", subject)
		}
		w1[subject] = c2
		if c.out == keepDest1 && ok1 {
			w1[conflictMarker(1)] = c1
		}
	case del1:
		delete(w1, subject)
	case del2:
		delete(w2, subject)
	case both:
		delete(w1, subject)
		delete(w2, subject)
		for _, w := range []map[string]string{w1, w2} {
			w[conflictMarker(1)] = c1
			w[conflictMarker(2)] = c2
		}
	}
	return w1, w2
}

// conflictMarker stands for the conflict copy of side's version of the
// subject, whose real name carries a time and a device.
func conflictMarker(side int) string { return fmt.Sprintf("notes/f.conflict%d-*.md", side) }

// Contents reads every file of a replica, with conflict copies of the subject
// under their marker names.
func Contents(t *testing.T, r backends.Replica) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	err := r.List(ctx, func(e backends.Entry) error {
		if e.Dir || strings.HasPrefix(e.Path, ".ferry/") {
			return nil
		}
		rc, err := r.Open(ctx, e.Path)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		name := e.Path
		for side := 1; side <= 2; side++ {
			if strings.HasPrefix(name, fmt.Sprintf("notes/f.conflict%d-", side)) && strings.HasSuffix(name, ".md") {
				name = conflictMarker(side)
			}
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("two files map to %s", name)
		}
		out[name] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("read %v: %v", r, err)
	}
	return out
}

func checkTree(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing %s (want %q)", p, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", p, g, w))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected %s = %q", p, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func hasRecord(h *history.History, p string) bool {
	for _, r := range h.Records {
		if r.Path == p {
			return true
		}
	}
	return false
}

func decisionOf(res *bisync.Result, p string) int {
	for _, a := range res.Plan {
		if a.Path == p {
			return a.Decision
		}
	}
	return -1
}

// Put writes content to p on r with the given modification time.
func Put(t *testing.T, r backends.Replica, p, content string, mtime time.Time) {
	t.Helper()
	_, err := r.Put(context.Background(), p, bytes.NewReader([]byte(content)),
		backends.Entry{Path: p, Size: int64(len(content)), ModTime: mtime})
	if err != nil {
		t.Fatalf("put %s on %v: %v", p, r, err)
	}
}

// MustSync runs one sync in mode with default options and fails the test on
// any error.
func MustSync(t *testing.T, p bisync.Pair, mode bisync.Mode) *bisync.Result {
	t.Helper()
	opts := bisync.DefaultOptions()
	opts.Mode = mode
	opts.DeviceID = "test01"
	res, err := bisync.Run(context.Background(), p, opts)
	if err != nil {
		t.Fatalf("sync (%v): %v", mode, err)
	}
	return res
}
