package bisync_test

import (
	"reflect"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/ferry-sync/ferry/bisync"
)

// TestListedAndPlanned: the hooks a progress display and --json use see
// each side's listing grow to its full count, then the plan that the run
// carries out, before any action finishes.
func TestListedAndPlanned(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	r1.WriteFile("b/c.md", []byte("c"), t0)
	r2.WriteFile("d.md", []byte("d"), t0)

	var mu gosync.Mutex
	last := map[int]int{}
	done := map[int]int{}
	var planned []bisync.Action
	progressBeforePlan := false
	res := sync(t, p, func(o *bisync.Options) {
		o.Listed = func(side, files int, fin bool) {
			mu.Lock()
			defer mu.Unlock()
			if files < last[side] {
				t.Errorf("side %d: count went down from %d to %d", side, last[side], files)
			}
			last[side] = files
			if fin {
				done[side]++
			}
		}
		o.Planned = func(plan []bisync.Action) { planned = append(planned, plan...) }
		o.Progress = func(bisync.Action, error) {
			if planned == nil {
				progressBeforePlan = true
			}
		}
	})
	if want := map[int]int{1: 2, 2: 1}; !reflect.DeepEqual(last, want) {
		t.Errorf("last counts %v, want %v", last, want)
	}
	if want := map[int]int{1: 1, 2: 1}; !reflect.DeepEqual(done, want) {
		t.Errorf("done calls per side %v, want one each", done)
	}
	if !reflect.DeepEqual(planned, res.Plan) {
		t.Errorf("Planned got %v, the result's plan is %v", planned, res.Plan)
	}
	if progressBeforePlan {
		t.Error("an action finished before Planned was called")
	}
}

// TestMoved: Moved hears of every byte the copies move, as they move,
// adding up to the bytes the run reports.
func TestMoved(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("aaaa"), t0)
	r1.WriteFile("b/c.md", make([]byte, 100_000), t0)
	r2.WriteFile("d.md", []byte("dd"), t0)
	var moved atomic.Int64
	res := sync(t, p, func(o *bisync.Options) { o.Moved = func(n int64) { moved.Add(n) } })
	if got, want := moved.Load(), res.Bytes[0]+res.Bytes[1]; got != want || want != 100_006 {
		t.Errorf("Moved heard of %d bytes, the run moved %d (want 100006)", got, want)
	}
}
