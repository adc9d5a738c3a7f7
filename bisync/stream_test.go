package bisync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/filters"
)

// The join takes the listings as they arrive when both replicas list in path
// order (Caps.ListSorted) and the history exists. These tests hold that path
// to the one that holds whole listings: the same plans, and the same refusal
// to act on a listing that failed or broke its promise.

// newSortedPair is newPair with both sides listing in path order.
func newSortedPair(t *testing.T) (*mem.Replica, *mem.Replica, bisync.Pair) {
	r1, r2 := mem.New("one", mem.SortedList()), mem.New("two", mem.SortedList())
	return r1, r2, bisync.Pair{Path1: r1, Path2: r2, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
}

// listWrapper changes what a replica's List reports, and claims the path
// order the engine streams on.
type listWrapper struct {
	backends.Replica
	list func(ctx context.Context, fn func(backends.Entry) error) error
}

func (w *listWrapper) Caps() backends.Caps {
	c := w.Replica.Caps()
	c.ListSorted = true
	return c
}

func (w *listWrapper) List(ctx context.Context, fn func(backends.Entry) error) error {
	return w.list(ctx, fn)
}

// failAfter lists r's first n files, then fails.
func failAfter(r backends.Replica, n int, errList error) backends.Replica {
	w := &listWrapper{Replica: r}
	w.list = func(ctx context.Context, fn func(backends.Entry) error) error {
		files := 0
		err := r.List(ctx, func(e backends.Entry) error {
			if !e.Dir {
				if files == n {
					return errList
				}
				files++
			}
			return fn(e)
		})
		if err == nil && files <= n {
			return errList // fewer files than n: fail at the end
		}
		return err
	}
	return w
}

// reorder lists r's files with the sorted slice of them passed through
// change first.
func reorder(r backends.Replica, change func([]backends.Entry) []backends.Entry) backends.Replica {
	w := &listWrapper{Replica: r}
	w.list = func(ctx context.Context, fn func(backends.Entry) error) error {
		var files []backends.Entry
		err := r.List(ctx, func(e backends.Entry) error {
			if e.Dir {
				return fn(e)
			}
			files = append(files, e)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(files, func(a, b backends.Entry) int { return strings.Compare(a.Path, b.Path) })
		for _, e := range change(files) {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	return w
}

// streamFixture is a synced pair of sorted replicas with changes on both
// sides waiting for the next run, and what its sides and history held
// before that run.
type streamFixture struct {
	r1, r2 *mem.Replica
	p      bisync.Pair
	before [2]map[string]string
	hist   []byte
}

func newStreamFixture(t *testing.T) *streamFixture {
	r1, r2, p := newSortedPair(t)
	for i := range 40 {
		name := fmt.Sprintf("notes/n%02d.md", i)
		r1.WriteFile(name, []byte(name), t0)
	}
	r1.WriteFile("a.md", []byte("a"), t0)
	r1.WriteFile("z/last.md", []byte("last"), t0)
	sync(t, p, nil)
	for _, d := range []struct {
		r    *mem.Replica
		path string
	}{{r1, "notes/n03.md"}, {r2, "notes/n30.md"}} {
		if err := d.r.Delete(t.Context(), d.path); err != nil {
			t.Fatal(err)
		}
	}
	r1.WriteFile("notes/n10.md", []byte("edited on path1"), t0.Add(time.Hour))
	r2.WriteFile("notes/new.md", []byte("new on path2"), t0)
	f := &streamFixture{r1: r1, r2: r2, p: p, before: [2]map[string]string{r1.Files(), r2.Files()}}
	f.hist = readHist(t, p.HistoryFile)
	return f
}

// unchanged fails the test when a side or the history changed since the
// fixture was made, or a journal was started.
func (f *streamFixture) unchanged(t *testing.T) {
	t.Helper()
	if !maps.Equal(f.r1.Files(), f.before[0]) || !maps.Equal(f.r2.Files(), f.before[1]) {
		t.Error("a side changed")
	}
	if !bytes.Equal(readHist(t, f.p.HistoryFile), f.hist) {
		t.Error("the history changed")
	}
	if _, err := os.Stat(strings.TrimSuffix(f.p.HistoryFile, ".hist") + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a journal was started: %v", err)
	}
}

func runStreamed(p bisync.Pair) (*bisync.Result, error) {
	opts := bisync.DefaultOptions()
	opts.DeviceID = "dev001"
	opts.Now = func() time.Time { return time.Date(2026, 11, 22, 21, 5, 0, 0, time.UTC) }
	return bisync.Run(context.Background(), p, opts)
}

// TestStreamedListingFailsMidway: a listing that fails after the join has
// taken part of it fails the run, whichever side and however far it got;
// the files the join did not see are not taken for deleted.
func TestStreamedListingFailsMidway(t *testing.T) {
	errReset := errors.New("connection reset")
	for side := range 2 {
		for _, n := range []int{0, 1, 20, 41, 43} {
			t.Run(fmt.Sprintf("path%d-after%d", side+1, n), func(t *testing.T) {
				f := newStreamFixture(t)
				p := f.p
				if side == 0 {
					p.Path1 = failAfter(f.r1, n, errReset)
				} else {
					p.Path2 = failAfter(f.r2, n, errReset)
				}
				_, err := runStreamed(p)
				var oe *bisync.OpError
				if !errors.Is(err, errReset) || !errors.As(err, &oe) || oe.Op != "list" || oe.Side != side+1 {
					t.Fatalf("err = %v, want the listing's error as a list *OpError on path%d", err, side+1)
				}
				f.unchanged(t)
			})
		}
	}
}

// TestStreamedListingOutOfOrder: a replica that promises path order and
// breaks it, or lists a file twice, fails the run before anything changes.
func TestStreamedListingOutOfOrder(t *testing.T) {
	cases := []struct {
		name, want string
		change     func([]backends.Entry) []backends.Entry
	}{
		{"swapped", "out of the promised path order", func(l []backends.Entry) []backends.Entry {
			l[5], l[6] = l[6], l[5]
			return l
		}},
		{"last-first", "out of the promised path order", func(l []backends.Entry) []backends.Entry {
			return append([]backends.Entry{l[len(l)-1]}, l[:len(l)-1]...)
		}},
		{"twice", "listed twice", func(l []backends.Entry) []backends.Entry {
			return slices.Insert(l, 8, l[8])
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newStreamFixture(t)
			p := f.p
			p.Path2 = reorder(f.r2, c.change)
			_, err := runStreamed(p)
			var oe *bisync.OpError
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &oe) || oe.Side != 2 {
				t.Fatalf("err = %v, want a path2 listing error saying %q", err, c.want)
			}
			f.unchanged(t)
		})
	}
}

// TestStreamedConflictCopyNeverOverwrites: the names in use that a conflict
// copy must avoid are known without the listings held whole: a file new on
// one side (an item of the join), one in sync on both (a history record),
// and one outside the filters (kept as a key by the join).
func TestStreamedConflictCopyNeverOverwrites(t *testing.T) {
	taken := "a.conflict1-20261122-210500-dev001.md"
	cases := []struct {
		name   string
		before bool // taken exists before the first sync, on path1
		filter bool // taken is outside the filters
	}{
		{name: "new-on-path2"},
		{name: "in-sync", before: true},
		{name: "filtered", filter: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r1, r2, p := newSortedPair(t)
			var edit func(*bisync.Options)
			if c.filter {
				f, err := filters.Parse(filters.Options{Exclude: []string{"*.conflict1-*"}})
				if err != nil {
					t.Fatal(err)
				}
				edit = func(o *bisync.Options) { o.Filter = f }
			}
			r1.WriteFile("a.md", []byte("base"), t0)
			if c.before {
				r1.WriteFile(taken, []byte("precious, already there"), t0)
			}
			sync(t, p, edit)
			if !c.before {
				r2.WriteFile(taken, []byte("precious, already there"), t0)
			}
			r1.WriteFile("a.md", []byte("one"), t0.Add(time.Hour))
			r2.WriteFile("a.md", []byte("two"), t0.Add(2*time.Hour))
			sync(t, p, edit)
			if got, _ := r2.ReadFile(taken); string(got) != "precious, already there" {
				t.Errorf("the file already there was overwritten: %q", got)
			}
			if got, _ := r2.ReadFile("a.conflict1-20261122-210500-dev001-2.md"); string(got) != "one" {
				t.Errorf("path1's version is not at the next free conflict name: %q", got)
			}
		})
	}
}

// TestStreamedJoinMatchesWholeJoin: random trees and random changes give
// the same plans and the same outcome whether the join takes the listings
// as they arrive or holds them whole.
func TestStreamedJoinMatchesWholeJoin(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 6))
			dirs := []string{"", "a/", "a/b/", "a.b/", "a-b/", "c/", "c/d e/"}
			name := func() string {
				return fmt.Sprintf("%s%c%d.md", dirs[rng.IntN(len(dirs))], "aAb.-_ z"[rng.IntN(8)], rng.IntN(30))
			}
			base := map[string]string{}
			for range 150 {
				base[name()] = fmt.Sprint(rng.IntN(1000))
			}
			type change struct {
				side       int
				path, body string // body "" deletes
			}
			var changes []change
			for range 60 {
				c := change{side: rng.IntN(2), path: name()}
				if rng.IntN(3) > 0 {
					c.body = fmt.Sprint("edit ", rng.IntN(1000))
				}
				changes = append(changes, c)
			}
			var plans [2][]string
			var trees [2][2]map[string]string
			for k, sorted := range []bool{false, true} {
				var o []mem.Option
				if sorted {
					o = []mem.Option{mem.SortedList()}
				}
				r := [2]*mem.Replica{mem.New("one", o...), mem.New("two", o...)}
				p := bisync.Pair{Path1: r[0], Path2: r[1], HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
				for path, body := range base {
					r[0].WriteFile(path, []byte(body), t0)
				}
				sync(t, p, nil)
				for _, c := range changes {
					if c.body == "" {
						_ = r[c.side].Delete(t.Context(), c.path) // may not be there
					} else {
						r[c.side].WriteFile(c.path, []byte(c.body), t0.Add(time.Duration(c.side+1)*time.Hour))
					}
				}
				plans[k] = planOps(sync(t, p, nil))
				trees[k] = [2]map[string]string{userFiles(r[0]), userFiles(r[1])}
			}
			if len(plans[0]) == 0 {
				t.Fatal("no change was planned: the case tests nothing")
			}
			if !slices.Equal(plans[0], plans[1]) {
				t.Errorf("plans differ:\nwhole    %q\nstreamed %q", plans[0], plans[1])
			}
			for s := range 2 {
				if !maps.Equal(trees[0][s], trees[1][s]) {
					t.Errorf("path%d differs:\nwhole    %q\nstreamed %q", s+1, trees[0][s], trees[1][s])
				}
			}
		})
	}
}
