package bisync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

// cancelAfterPuts cancels the run after n Puts have succeeded, as a Ctrl-C
// in the middle of the transfers would.
type cancelAfterPuts struct {
	backends.Replica
	n      int32
	puts   atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfterPuts) Put(ctx context.Context, p string, r io.Reader, src backends.Entry) (backends.Entry, error) {
	if strings.HasPrefix(p, ".ferry/") { // ferry's own records, not user files
		return c.Replica.Put(ctx, p, r, src)
	}
	if c.puts.Load() >= c.n {
		return backends.Entry{}, ctx.Err()
	}
	e, err := c.Replica.Put(ctx, p, r, src)
	if err == nil && c.puts.Add(1) == c.n {
		c.cancel()
	}
	return e, err
}

// TestInterruptedRunIsRecovered: a run stopped half way commits nothing, but
// the next run folds in its journal, so what was copied is not looked at
// again, and finishes the job.
func TestInterruptedRunIsRecovered(t *testing.T) {
	r1, r2, p := newPair(t)
	for i := range 10 {
		r1.WriteFile(fmt.Sprintf("n%02d.md", i), []byte(fmt.Sprintf("note %d", i)), t0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	broken := p
	broken.Path2 = &cancelAfterPuts{Replica: r2, n: 4, cancel: cancel}
	opts := bisync.DefaultOptions()
	opts.Transfers = 1
	_, err := bisync.Run(ctx, broken, opts)
	if !errors.Is(err, bisync.ErrFailed) {
		t.Fatalf("interrupted run: err = %v, want ErrFailed", err)
	}
	if _, err := os.Stat(p.HistoryFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an interrupted first run wrote a history: %v", err)
	}
	res := sync(t, p, nil)
	if !res.Recovered {
		t.Error("Recovered = false after an interrupted run")
	}
	if len(res.Plan) != 6 {
		t.Errorf("recovery run plans %d actions, want the 6 copies left: %v", len(res.Plan), planOps(res))
	}
	for _, a := range res.Plan {
		if a.Op != bisync.OpCopy1to2 {
			t.Errorf("recovery run plans %v %s, want only copies", a.Op, a.Path)
		}
	}
	if got, want := userFiles(r2), userFiles(r1); !reflect.DeepEqual(got, want) {
		t.Errorf("path2 = %v, want %v", got, want)
	}
	if _, err := os.Stat(strings.TrimSuffix(p.HistoryFile, ".hist") + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there after a committed run: %v", err)
	}
	if res := sync(t, p, nil); res.Recovered || len(res.Plan) != 0 {
		t.Errorf("third run: recovered %v, plan %v; want a plain run with nothing to do", res.Recovered, planOps(res))
	}
}

// TestFailedRunsCarryTheirWork: two failed runs in a row lose nothing of
// what the first one did; the journal carries it to the run that commits.
func TestFailedRunsCarryTheirWork(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("keep.md", []byte("keep"), t0)
	r1.WriteFile("gone.md", []byte("gone"), t0)
	sync(t, p, nil)
	r1.Remove("gone.md")
	r1.WriteFile("bad.md", []byte("bad"), t0)
	broken := p
	broken.Path2 = putFails{r2, "bad.md"}
	for range 2 {
		if _, err := bisync.Run(context.Background(), broken, bisync.DefaultOptions()); !errors.Is(err, bisync.ErrFailed) {
			t.Fatalf("err = %v, want ErrFailed", err)
		}
	}
	j, err := history.ReadJournal(strings.TrimSuffix(p.HistoryFile, ".hist") + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Fold(nil).Records; len(got) != 0 {
		t.Errorf("the journal sets %v, want only the removal of gone.md", got)
	}
	if ch := j.Changes(); len(ch) != 1 || ch[0].Path != "gone.md" || !ch[0].Remove {
		t.Errorf("journal changes = %+v, want the removal of gone.md carried over", ch)
	}
	res := sync(t, p, nil)
	if got, want := planOps(res), []string{"copy 1->2 bad.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("healthy run plans %v, want %v", got, want)
	}
}

// TestRunLog: every committed run is in the run log, with its actions.
func TestRunLog(t *testing.T) {
	r1, _, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	sync(t, p, nil)
	sync(t, p, nil)
	runs, err := history.ReadRuns(strings.TrimSuffix(p.HistoryFile, ".hist") + ".runlog")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("run log has %d runs, want 2", len(runs))
	}
	if a := runs[0].Actions; len(a) != 1 || a[0].Path != "a.md" || a[0].Decision != 6 || runs[0].Counts["copy 1->2"] != 1 {
		t.Errorf("first run logged %+v", runs[0])
	}
	if runs[0].Path1 != "mem:one" || runs[0].Mode != "bidirectional" || runs[0].ID == "" {
		t.Errorf("first run logged %+v", runs[0])
	}
}

// TestNoChangeWritesNothing: a run that changes nothing leaves the history
// and its previous generation as they were and makes no journal, yet is
// committed and logged; a run where a touched file's history record moves
// on writes the history again.
func TestNoChangeWritesNothing(t *testing.T) {
	r1, _, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	r1.WriteFile("b.md", []byte("b"), t0)
	sync(t, p, nil)
	r1.WriteFile("b.md", []byte("b2"), t0.Add(time.Minute))
	sync(t, p, nil) // a run that changes something makes the previous generation
	base := strings.TrimSuffix(p.HistoryFile, ".hist")
	before, err := os.ReadFile(p.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	prevInfo, err := os.Stat(p.HistoryFile + history.PrevSuffix)
	if err != nil {
		t.Fatal(err)
	}
	histInfo, _ := os.Stat(p.HistoryFile)

	res := sync(t, p, func(o *bisync.Options) { o.Now = func() time.Time { return t0.Add(48 * time.Hour) } })
	if !res.Committed || res.RunID == "" || len(res.Plan) != 0 {
		t.Errorf("no-change run: committed %v, run id %q, plan %v; want committed, an id and no plan", res.Committed, res.RunID, res.Plan)
	}
	after, _ := os.ReadFile(p.HistoryFile)
	if !bytes.Equal(before, after) {
		t.Errorf("a no-change run rewrote the history")
	}
	if info, _ := os.Stat(p.HistoryFile); !os.SameFile(info, histInfo) {
		t.Errorf("a no-change run replaced the history file")
	}
	if info, _ := os.Stat(p.HistoryFile + history.PrevSuffix); !os.SameFile(info, prevInfo) || !info.ModTime().Equal(prevInfo.ModTime()) {
		t.Errorf("a no-change run replaced the previous generation")
	}
	if _, err := os.Stat(base + ".journal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("journal after a no-change run: %v, want none", err)
	}
	runs, err := history.ReadRuns(base + ".runlog")
	if err != nil || len(runs) != 3 || runs[2].ID != res.RunID {
		t.Errorf("run log: %d runs (%v), want 3, the last %q", len(runs), err, res.RunID)
	}

	// A touch: same size and content, a new modtime. Nothing to do, but
	// the history learns the new time, so it is written.
	r1.WriteFile("a.md", []byte("a"), t0.Add(time.Hour))
	if res := sync(t, p, nil); len(res.Plan) != 0 || !res.Committed {
		t.Fatalf("touch: plan %v, committed %v", res.Plan, res.Committed)
	}
	h, err := history.Load(p.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Records[0]; got.Path != "a.md" || got.One.ModTime != t0.Add(time.Hour).UnixNano() {
		t.Errorf("after a touch the history holds %+v, want a.md with the new modtime", got)
	}
}
