package bisync_test

// Fault tests (STYLE.md 2.8 item 3): a run whose Nth change on a side fails,
// or is followed by an interrupt, for every N up to the number of changes a
// healthy run makes, commits nothing; the next healthy run converges, with
// every version the user wrote kept and no deleted file back.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/faulty"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// faultCase is one configuration the fault matrix runs.
type faultCase struct {
	name string
	mode bisync.Mode
	// first makes the run under test a first run: the edits are made
	// before any sync, so there is no history.
	first bool
	// space puts both sides in one mem.Space: copies are server-side
	// (CopyFrom) instead of streamed (Open, Put).
	space bool
	// backup gives the destination side(s) a backup dir, a third replica
	// whose calls are faulted too.
	backup bool
	// sorted makes both sides list in path order, so that the join takes
	// the listings as they arrive.
	sorted bool
	opts   func(*bisync.Options)
}

var faultCases = []faultCase{
	{name: "bidirectional", mode: bisync.Bidirectional},
	{name: "bidirectional-server-side", mode: bisync.Bidirectional, space: true},
	{name: "bidirectional-sorted-listings", mode: bisync.Bidirectional, sorted: true},
	{name: "bidirectional-first-run", mode: bisync.Bidirectional, first: true},
	{name: "bidirectional-resolve-newer", mode: bisync.Bidirectional, opts: func(o *bisync.Options) {
		o.ConflictResolve = bisync.ResolveNewer
		o.ConflictLoser = bisync.LoserPathname
	}},
	{name: "bidirectional-remove-empty-dirs", mode: bisync.Bidirectional, opts: func(o *bisync.Options) {
		o.CreateEmptySrcDirs = false
		o.RemoveEmptyDirs = true
	}},
	{name: "push", mode: bisync.Push},
	{name: "push-delete", mode: bisync.PushDelete},
	{name: "push-delete-backup", mode: bisync.PushDelete, backup: true},
	{name: "pull", mode: bisync.Pull},
	{name: "pull-delete", mode: bisync.PullDelete},
}

// faultNow is the clock of every run: conflict names are then the same in
// the run under test and in the oracle.
var faultNow = time.Date(2026, 11, 22, 21, 5, 0, 0, time.UTC)

func (c faultCase) options(transfers int) bisync.Options {
	o := bisync.DefaultOptions()
	o.Mode = c.mode
	o.DeviceID = "dev001"
	o.Now = func() time.Time { return faultNow }
	o.Transfers = transfers
	o.Checkers = transfers
	o.CreateEmptySrcDirs = true
	if c.opts != nil {
		c.opts(&o)
	}
	return o
}

// scenario is one pair set up for the run under test.
type scenario struct {
	c      faultCase
	r      [2]*mem.Replica
	backup [2]*mem.Replica // nil without a backup dir on that side
	hist   string
	// fresh are the versions the user wrote on each side for the run under
	// test: none of them may be lost.
	fresh [2][]string
	// before is each side's content just before the run under test.
	before [2]map[string]string
	// deleted are paths the user deleted on a side; where the mode
	// propagates the deletion (deletedGone) they must not come back.
	deletedGone [2][]string
}

var (
	tBase = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tEdit = tBase.Add(time.Hour)
)

// newScenario builds the pair: a base tree synced once (unless c.first),
// then edits on both sides that call for every kind of action: copies both
// ways, deletions both ways, a conflict, equal edits on both sides (only
// recorded), an edit facing a deletion, deletions on both sides, new files
// both ways and on both sides, nested folders, empty directories.
func newScenario(t *testing.T, c faultCase) *scenario {
	t.Helper()
	var mo [2][]mem.Option
	if c.space {
		sp := mem.NewSpace()
		mo[0] = append(mo[0], mem.InSpace(sp))
		mo[1] = append(mo[1], mem.InSpace(sp))
	}
	if c.sorted {
		mo[0] = append(mo[0], mem.SortedList())
		mo[1] = append(mo[1], mem.SortedList())
	}
	sc := &scenario{c: c, hist: filepath.Join(t.TempDir(), "pair.hist")}
	sc.r[0], sc.r[1] = mem.New("one", mo[0]...), mem.New("two", mo[1]...)
	if c.backup {
		switch c.mode {
		case bisync.Push, bisync.PushDelete:
			sc.backup[1] = mem.New("backup2")
		case bisync.Pull, bisync.PullDelete:
			sc.backup[0] = mem.New("backup1")
		default:
			sc.backup[0], sc.backup[1] = mem.New("backup1"), mem.New("backup2")
		}
	}
	r1, r2 := sc.r[0], sc.r[1]
	ctx := t.Context()
	if !c.first {
		for _, p := range []string{"keep.md", "edit1.md", "edit2.md", "del1.md", "del2.md", "both.md",
			"same.md", "editdel.md", "deldel.md", "dir/nested.md", "gonedir/only.md"} {
			r1.WriteFile(p, []byte(p+" base\n"), tBase)
		}
		for _, d := range []string{"olddir", "olddir2"} {
			if err := r1.Mkdir(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		o := c.options(1)
		o.Mode = bisync.Bidirectional
		o.CreateEmptySrcDirs, o.RemoveEmptyDirs = true, false
		if _, err := bisync.Run(ctx, sc.pair(), o); err != nil {
			t.Fatalf("base sync: %v", err)
		}
	}
	write := func(s int, p, content string, dt time.Duration) {
		sc.r[s].WriteFile(p, []byte(content), tEdit.Add(dt))
		sc.fresh[s] = append(sc.fresh[s], content)
	}
	del := func(s int, p string) {
		sc.r[s].Remove(p)
		sc.deletedGone[s] = append(sc.deletedGone[s], p)
	}
	write(0, "edit1.md", "edit1 on one\n", 0)
	write(1, "edit2.md", "edit2 on two\n", 0)
	write(0, "both.md", "both on one\n", 0)
	write(1, "both.md", "both on two, later and longer\n", time.Minute)
	write(0, "same.md", "same edit on both\n", 0)
	write(1, "same.md", "same edit on both\n", time.Minute)
	write(0, "editdel.md", "editdel on one\n", 0)
	write(0, "new1.md", "new1 on one\n", 0)
	write(1, "new2.md", "new2 on two\n", 0)
	write(0, "newboth.md", "newboth on one\n", 0)
	write(1, "newboth.md", "newboth on two\n", time.Minute)
	write(0, "sub/deep/x.md", "x on one\n", 0)
	write(1, "dir/nested.md", "nested on two\n", 0)
	if !c.first {
		del(0, "del1.md")
		del(1, "del2.md")
		del(1, "editdel.md")
		del(0, "deldel.md")
		del(1, "deldel.md")
		del(0, "gonedir/only.md")
		sc.r[0].Remove("olddir")
		sc.r[1].Remove("olddir2")
	}
	if err := r1.Mkdir(ctx, "emptydir1"); err != nil {
		t.Fatal(err)
	}
	if err := r2.Mkdir(ctx, "emptydir2"); err != nil {
		t.Fatal(err)
	}
	// Only deletions that the mode propagates must stay deleted; the
	// edit of editdel.md beats its deletion.
	var gone [2][]string
	for s := range 2 {
		for _, p := range sc.deletedGone[s] {
			if p == "editdel.md" {
				continue
			}
			if propagates(c.mode, s, true) {
				gone[s] = append(gone[s], p)
			}
		}
	}
	sc.deletedGone = gone
	sc.before = [2]map[string]string{filesOf(r1), filesOf(r2)}
	return sc
}

// propagates reports whether mode carries side s's changes (its deletions
// when del) to the other side.
func propagates(mode bisync.Mode, s int, del bool) bool {
	switch mode {
	case bisync.Bidirectional:
		return true
	case bisync.Push:
		return s == 0 && !del
	case bisync.PushDelete:
		return s == 0
	case bisync.Pull:
		return s == 1 && !del
	case bisync.PullDelete:
		return s == 1
	}
	panic("unknown mode")
}

func (sc *scenario) pair() bisync.Pair {
	return bisync.Pair{Path1: sc.r[0], Path2: sc.r[1], HistoryFile: sc.hist}
}

// targets are the replicas faults are injected into: the two sides, then
// the backup dirs that exist. side is the path number an error must name.
type target struct {
	name string
	side int
}

func (sc *scenario) targets() []target {
	ts := []target{{"path1", 1}, {"path2", 2}}
	for s, b := range sc.backup {
		if b != nil {
			ts = append(ts, target{fmt.Sprintf("backup%d", s+1), s + 1})
		}
	}
	return ts
}

// run runs the scenario's pair with rules on target ti, all replicas
// wrapped (to count their calls). It returns the wrappers in target order.
func (sc *scenario) run(ctx context.Context, transfers, ti int, rules ...faulty.Rule) (*bisync.Result, []*faulty.Replica, error) {
	var ws []*faulty.Replica
	wrap := func(r backends.Replica, i int) backends.Replica {
		var w backends.Replica
		if i == ti {
			w = faulty.New(r, rules...)
		} else {
			w = faulty.New(r)
		}
		ws = append(ws, faulty.Of(w))
		return w
	}
	p := bisync.Pair{Path1: wrap(sc.r[0], 0), Path2: wrap(sc.r[1], 1), HistoryFile: sc.hist}
	o := sc.c.options(transfers)
	i := 2
	for s, b := range sc.backup {
		if b == nil {
			continue
		}
		w := wrap(b, i)
		i++
		if s == 0 {
			o.BackupDir1 = w
		} else {
			o.BackupDir2 = w
		}
	}
	res, err := bisync.Run(ctx, p, o)
	return res, ws, err
}

// healthyRun runs without faults and fails the test on an error.
func (sc *scenario) healthyRun(t *testing.T, transfers int) (*bisync.Result, []*faulty.Replica) {
	t.Helper()
	res, ws, err := sc.run(t.Context(), transfers, -1)
	if err != nil {
		t.Fatalf("healthy run: %v", err)
	}
	return res, ws
}

// oracle is what a healthy run of a scenario leaves, and how many changes
// it makes on each target.
type oracle struct {
	families [2]map[string][]string
	calls    []int
	done     int // actions done
}

func newOracle(t *testing.T, c faultCase, transfers int) *oracle {
	t.Helper()
	sc := newScenario(t, c)
	res, ws := sc.healthyRun(t, transfers)
	o := &oracle{families: [2]map[string][]string{families(filesOf(sc.r[0])), families(filesOf(sc.r[1]))}, done: doneActions(res)}
	for _, w := range ws {
		o.calls = append(o.calls, w.Calls(faulty.Mutating))
	}
	// The oracle itself must pass the checks it stands for.
	sc.checkConverged(t, nil)
	return o
}

// filesOf are the files of a replica without ferry's own records under
// .ferry/ (the side format and the deletion records).
func filesOf(r *mem.Replica) map[string]string {
	m := r.Files()
	for p := range m {
		if strings.HasPrefix(p, ".ferry/") {
			delete(m, p)
		}
	}
	return m
}

// conflictTag matches the part of a conflict copy's name that ferry adds.
var conflictTag = regexp.MustCompile(`\.conflict[0-9A-Za-z-]*`)

// families groups files by the path they are versions of (a conflict copy
// belongs to its original's path): path -> sorted distinct contents.
func families(files map[string]string) map[string][]string {
	fam := map[string][]string{}
	for p, c := range files {
		k := conflictTag.ReplaceAllString(p, "")
		if !slices.Contains(fam[k], c) {
			fam[k] = append(fam[k], c)
		}
	}
	for k := range fam {
		slices.Sort(fam[k])
	}
	return fam
}

// checkConverged checks the scenario after its runs: sides identical where
// the mode makes them so, a one-way source untouched, every version the
// user wrote still there, deletions propagated, and the same versions in
// each family as a healthy run leaves (when o is not nil).
func (sc *scenario) checkConverged(t *testing.T, o *oracle) {
	t.Helper()
	files := [2]map[string]string{filesOf(sc.r[0]), filesOf(sc.r[1])}
	if sc.c.mode == bisync.Bidirectional && !maps.Equal(files[0], files[1]) {
		t.Errorf("the sides differ:\npath1 %q\npath2 %q", files[0], files[1])
	}
	for s := range 2 {
		if !propagates(sc.c.mode, 1-s, false) && !maps.Equal(files[s], sc.before[s]) {
			t.Errorf("path%d is the source of a one-way mode and changed:\nbefore %q\nafter  %q", s+1, sc.before[s], files[s])
		}
	}
	has := func(s int, v string) bool {
		if slices.Contains(slices.Collect(maps.Values(files[s])), v) {
			return true
		}
		return sc.backup[s] != nil && slices.Contains(slices.Collect(maps.Values(filesOf(sc.backup[s]))), v)
	}
	for s := range 2 {
		for _, v := range sc.fresh[s] {
			if !has(s, v) {
				t.Errorf("path%d's version %q is lost on path%d", s+1, v, s+1)
			}
			if propagates(sc.c.mode, s, false) && !has(1-s, v) {
				t.Errorf("path%d's version %q did not reach path%d", s+1, v, 2-s)
			}
		}
		for _, p := range sc.deletedGone[s] {
			for d := range 2 {
				for name := range files[d] {
					if conflictTag.ReplaceAllString(name, "") == p {
						t.Errorf("%s, deleted on path%d, is back on path%d as %s", p, s+1, d+1, name)
					}
				}
			}
		}
	}
	if o != nil {
		for s := range 2 {
			if got := families(files[s]); !mapsEqualFunc(got, o.families[s]) {
				t.Errorf("path%d holds other versions than after a healthy run:\ngot  %q\nwant %q", s+1, got, o.families[s])
			}
		}
	}
	// A further run has nothing to change.
	res, _ := sc.healthyRun(t, 1)
	for _, a := range res.Plan {
		if a.Op != bisync.OpNothing {
			t.Errorf("a further run plans %v %s [%02d] %s", a.Op, a.Path, a.Decision, a.Reason)
		}
	}
}

func doneActions(res *bisync.Result) int {
	n := 0
	for _, k := range res.Done {
		n += k
	}
	return n
}

func mapsEqualFunc(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// readHist returns the history file's bytes, nil when there is none.
func readHist(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var errDiskFull = errors.New("no space left on device")

// TestFaultEveryChange fails the Nth change (Put, Move, Delete, CopyFrom,
// Mkdir, Rmdir) on each replica, for every N a healthy run reaches.
func TestFaultEveryChange(t *testing.T) {
	faultMatrix(t, func(n int, cancel context.CancelFunc) faulty.Rule {
		return faulty.Rule{On: faulty.Mutating, Nth: n, Err: errDiskFull}
	})
}

// TestInterruptAfterEveryChange cancels the run's context right after the
// Nth change on a replica, as a Ctrl-C would, for every N.
func TestInterruptAfterEveryChange(t *testing.T) {
	faultMatrix(t, func(n int, cancel context.CancelFunc) faulty.Rule {
		return faulty.Rule{On: faulty.Mutating, Nth: n, Cancel: cancel}
	})
}

func faultMatrix(t *testing.T, rule func(n int, cancel context.CancelFunc) faulty.Rule) {
	for _, c := range faultCases {
		for _, transfers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/transfers%d", c.name, transfers), func(t *testing.T) {
				t.Parallel()
				o := newOracle(t, c, transfers)
				for ti, tg := range newScenario(t, c).targets() {
					source := ti < 2 && !propagates(c.mode, 1-ti, false)
					switch {
					case source && o.calls[ti] != 0:
						t.Errorf("%s is the source of a one-way mode, and a healthy run changes it %d times", tg.name, o.calls[ti])
					case !source && o.calls[ti] == 0:
						t.Errorf("%s: a healthy run makes no change there: the scenario misses what it should cover", tg.name)
					}
					for n := 1; n <= o.calls[ti]; n++ {
						t.Run(fmt.Sprintf("%s/%d", tg.name, n), func(t *testing.T) {
							faultOnce(t, c, o, transfers, ti, tg, n, rule)
						})
					}
				}
			})
		}
	}
}

func faultOnce(t *testing.T, c faultCase, o *oracle, transfers, ti int, tg target, n int, rule func(int, context.CancelFunc) faulty.Rule) {
	sc := newScenario(t, c)
	before := readHist(t, sc.hist)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := rule(n, cancel)
	res, ws, err := sc.run(ctx, transfers, ti, r)
	fired := ws[ti].Fired()
	if len(fired) != 1 {
		t.Fatalf("the rule fired at %v, want one call", fired)
	}
	// A run that fails an action, or is interrupted, commits nothing. Two
	// faults let it commit: a failure to write ferry's own records on a
	// side (.ferry/), which is a warning, and an interrupt after the last
	// action, when everything was done.
	committed := err == nil
	switch {
	case committed && r.Err != nil && strings.HasPrefix(fired[0].Path, ".ferry/"):
		if len(res.Warnings) == 0 || !res.Committed {
			t.Errorf("a failure to write %s: committed %v, warnings %q; want a committed run with a warning", fired[0].Path, res.Committed, res.Warnings)
		}
	case committed && r.Err == nil:
		if !res.Committed || doneActions(res) != o.done {
			t.Fatalf("interrupted after %v, the run returned no error, committed %v, and did %d actions of %d", fired[0], res.Committed, doneActions(res), o.done)
		}
	case committed:
		t.Fatalf("faulted run (%v): no error, want ErrFailed", fired[0])
	case !errors.Is(err, bisync.ErrFailed):
		t.Fatalf("faulted run (%v): err = %v, want ErrFailed", fired[0], err)
	case res == nil || res.Committed:
		t.Fatalf("faulted run (%v): result %+v, want an uncommitted one", fired[0], res)
	}
	if !committed {
		if r.Err != nil {
			// The failure names the path and the side.
			found := false
			for _, fe := range res.Failed {
				var oe *bisync.OpError
				if errors.As(fe, &oe) && oe.Side == tg.side && oe.Path == fired[0].Path && errors.Is(fe, r.Err) {
					found = true
				}
			}
			if !found {
				t.Errorf("Failed = %v, want an *OpError for %s on path%d wrapping %v", res.Failed, fired[0].Path, tg.side, r.Err)
			}
		} else if !slices.ContainsFunc(res.Failed, func(e error) bool { return errors.Is(e, context.Canceled) }) {
			t.Errorf("interrupted run (after %v): Failed = %v, want an interruption", fired[0], res.Failed)
		}
		if after := readHist(t, sc.hist); !bytes.Equal(before, after) {
			t.Errorf("the faulted run (%v) changed the history on disk", fired[0])
		}
	}

	res, _ = sc.healthyRun(t, transfers)
	if !res.Recovered && !committed {
		t.Errorf("the run after a faulted one did not recover its journal")
	}
	if !res.Committed {
		t.Errorf("the healthy run did not commit")
	}
	sc.checkConverged(t, o)
	if t.Failed() {
		t.Logf("fault at %v (call %d of %d on %s)", fired[0], n, o.calls[ti], tg.name)
	}
}

// TestUnreadableSourceIsNotADeletion: files the source cannot open fail
// their own copies, are named with their side, and are never taken for
// deleted; everything else is synced and recorded in the journal, and the
// next run, once the files are readable, finishes the job.
func TestUnreadableSourceIsNotADeletion(t *testing.T) {
	r1, r2 := mem.New("one"), mem.New("two")
	hist := filepath.Join(t.TempDir(), "pair.hist")
	p := bisync.Pair{Path1: r1, Path2: r2, HistoryFile: hist}
	for _, f := range []string{"locked.md", "other.md", "gone.md", "editdel.md"} {
		r1.WriteFile(f, []byte(f+" base\n"), tBase)
	}
	o := bisync.DefaultOptions()
	o.Transfers = 1
	ctx := t.Context()
	if _, err := bisync.Run(ctx, p, o); err != nil {
		t.Fatal(err)
	}
	r1.WriteFile("locked.md", []byte("locked, edited on one\n"), tEdit)    // 10 copy 1->2
	r1.WriteFile("newlocked.md", []byte("new and locked on one\n"), tEdit) // 06 copy 1->2
	r1.WriteFile("editdel.md", []byte("editdel, edited on one\n"), tEdit)  // 08 copy 1->2
	r2.Remove("editdel.md")                                                // (its deletion loses)
	r2.WriteFile("other.md", []byte("other, edited on two\n"), tEdit)      // 09 copy 2->1
	r1.Remove("gone.md")                                                   // 04 delete on 2
	r1.WriteFile("fine.md", []byte("fine on one\n"), tEdit)                // 06 copy 1->2
	unreadable := []string{"locked.md", "newlocked.md", "editdel.md"}
	var rules []faulty.Rule
	for _, f := range unreadable {
		rules = append(rules, faulty.Rule{On: faulty.Open | faulty.Hash, Path: f, Sticky: true, Err: os.ErrPermission})
	}
	before := readHist(t, hist)
	for try := 1; try <= 2; try++ {
		broken := p
		broken.Path1 = faulty.New(r1, rules...)
		res, err := bisync.Run(ctx, broken, o)
		if !errors.Is(err, bisync.ErrFailed) {
			t.Fatalf("run %d: err = %v, want ErrFailed", try, err)
		}
		var named []string
		for _, fe := range res.Failed {
			var oe *bisync.OpError
			if !errors.As(fe, &oe) || oe.Side != 1 || !errors.Is(fe, os.ErrPermission) {
				t.Errorf("run %d: failure %v does not name path1 and the permission error", try, fe)
				continue
			}
			named = append(named, oe.Path)
		}
		slices.Sort(named)
		if want := slices.Sorted(slices.Values(unreadable)); !slices.Equal(named, want) {
			t.Errorf("run %d: failed paths %v, want %v", try, named, want)
		}
		for _, a := range res.Plan {
			if a.Op == bisync.OpDelete1 || a.Op == bisync.OpDelete2 {
				if a.Path != "gone.md" {
					t.Errorf("run %d plans %v %s: an unreadable file is not a deleted one", try, a.Op, a.Path)
				}
			}
		}
		if try == 2 {
			// The first run's work was recovered: only the unreadable
			// files are left.
			var left []string
			for _, a := range res.Plan {
				left = append(left, a.Path)
			}
			if want := slices.Sorted(slices.Values(unreadable)); !slices.Equal(left, want) {
				t.Errorf("the second run plans %v, want only %v", left, want)
			}
		}
		if after := readHist(t, hist); !bytes.Equal(before, after) {
			t.Errorf("run %d with failures changed the history", try)
		}
		want2 := map[string]string{
			"locked.md": "locked.md base\n", "other.md": "other, edited on two\n", "fine.md": "fine on one\n",
		}
		if got := filesOf(r2); !maps.Equal(got, want2) {
			t.Errorf("run %d: path2 = %q, want %q", try, got, want2)
		}
		if got, want := filesOf(r1)["other.md"], "other, edited on two\n"; got != want {
			t.Errorf("run %d: path1's other.md = %q, want %q", try, got, want)
		}
		for _, f := range unreadable {
			if _, ok := filesOf(r1)[f]; !ok {
				t.Errorf("run %d: the unreadable %s vanished from path1", try, f)
			}
		}
	}
	res, err := bisync.Run(ctx, p, o)
	if err != nil || !res.Recovered {
		t.Fatalf("healthy run: recovered %v, err %v", res != nil && res.Recovered, err)
	}
	if f1, f2 := filesOf(r1), filesOf(r2); !maps.Equal(f1, f2) || len(f1) != 5 {
		t.Errorf("after the healthy run:\npath1 %q\npath2 %q", f1, f2)
	}
}

// TestUnreadableTouchedFile: a file whose modification time changed but
// whose size did not must be hashed to tell a touch from an edit; when it
// cannot be read, the run fails naming it, and takes it for neither an edit
// nor a deletion.
func TestUnreadableTouchedFile(t *testing.T) {
	r1, r2 := mem.New("one"), mem.New("two")
	hist := filepath.Join(t.TempDir(), "pair.hist")
	p := bisync.Pair{Path1: r1, Path2: r2, HistoryFile: hist}
	r1.WriteFile("touched.md", []byte("same size\n"), tBase)
	r1.WriteFile("other.md", []byte("other\n"), tBase)
	o := bisync.DefaultOptions()
	ctx := t.Context()
	if _, err := bisync.Run(ctx, p, o); err != nil {
		t.Fatal(err)
	}
	r1.WriteFile("touched.md", []byte("same SIZE\n"), tEdit)
	r1.WriteFile("new.md", []byte("new\n"), tEdit)
	before := readHist(t, hist)
	broken := p
	broken.Path1 = faulty.New(r1, faulty.Rule{On: faulty.Open | faulty.Hash, Path: "touched.md", Sticky: true, Err: os.ErrPermission})
	res, err := bisync.Run(ctx, broken, o)
	// Today the run stops before changing anything (the hash is needed to
	// plan); failing only this file's action would do too.
	errs := []error{err}
	if res != nil {
		errs = append(errs, res.Failed...)
	}
	named := slices.ContainsFunc(errs, func(e error) bool {
		var oe *bisync.OpError
		return errors.As(e, &oe) && oe.Path == "touched.md" && oe.Side == 1 && errors.Is(e, os.ErrPermission)
	})
	if err == nil || !named {
		t.Fatalf("err = %v, Failed = %v; want an *OpError naming touched.md on path1", err, res.Failed)
	}
	if after := readHist(t, hist); !bytes.Equal(before, after) {
		t.Error("the run changed the history")
	}
	if got := filesOf(r2); got["touched.md"] != "same size\n" || got["other.md"] != "other\n" {
		t.Errorf("path2 = %q: an unreadable file was taken for a change or a deletion", got)
	}
	if _, err := bisync.Run(ctx, p, o); err != nil {
		t.Fatal(err)
	}
	if f1, f2 := filesOf(r1), filesOf(r2); !maps.Equal(f1, f2) || f2["touched.md"] != "same SIZE\n" {
		t.Errorf("after the healthy run:\npath1 %q\npath2 %q", f1, f2)
	}
}

// TestListingFailureChangesNothing: a side that cannot be listed is an
// error, never an empty side; nothing is changed and no journal is left.
func TestListingFailureChangesNothing(t *testing.T) {
	for _, sorted := range []bool{false, true} {
		for s := range 2 {
			t.Run(fmt.Sprintf("path%d/sorted=%v", s+1, sorted), func(t *testing.T) {
				listingFailureChangesNothing(t, s, sorted)
			})
		}
	}
}

func listingFailureChangesNothing(t *testing.T, s int, sorted bool) {
	sc := newScenario(t, faultCase{mode: bisync.Bidirectional, sorted: sorted})
	before := readHist(t, sc.hist)
	files := [2]map[string]string{filesOf(sc.r[0]), filesOf(sc.r[1])}
	_, ws, err := sc.run(t.Context(), 1, s, faulty.Rule{On: faulty.List, Err: errors.New("connection reset")})
	var oe *bisync.OpError
	if !errors.As(err, &oe) || oe.Side != s+1 || oe.Op != "list" {
		t.Fatalf("err = %v, want a list *OpError on path%d", err, s+1)
	}
	for i, w := range ws {
		if n := w.Calls(faulty.Mutating); n != 0 {
			t.Errorf("replica %d: %d changes after a failed listing", i, n)
		}
	}
	if !maps.Equal(filesOf(sc.r[0]), files[0]) || !maps.Equal(filesOf(sc.r[1]), files[1]) {
		t.Error("a side changed")
	}
	if !bytes.Equal(before, readHist(t, sc.hist)) {
		t.Error("the history changed")
	}
	if _, err := os.Stat(strings.TrimSuffix(sc.hist, ".hist") + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a journal was started: %v", err)
	}
}
