package bisync

// BenchmarkPlan100k times planning alone: the merge-join of two listings and
// the history, classify, decide and the safety checks, over 100,000
// unchanged files on mem replicas. Loading the history and listing happen
// once, before the timer; the steps timed are the join, engine.plan and
// engine.check, those of engine.run between the listing and the
// transaction.

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/mem"
)

func BenchmarkPlan100k(b *testing.B) {
	const n = 100_000
	r1, r2 := mem.New("one"), mem.New("two")
	base := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		p := fmt.Sprintf("Notes/area-%02d/topic-%04d/note %06d.md", i/10_000, i/100, i)
		data := fmt.Appendf(nil, "# note %d\n", i)
		mt := base.Add(time.Duration(i) * 1_234_567_891)
		r1.WriteFile(p, data, mt)
		r2.WriteFile(p, data, mt)
	}
	pair := Pair{Path1: r1, Path2: r2, HistoryFile: filepath.Join(b.TempDir(), "pair.hist")}
	opts := DefaultOptions()
	opts.DeviceID = "bench1"
	ctx := context.Background()
	if _, err := Run(ctx, pair, opts); err != nil {
		b.Fatalf("first run: %v", err)
	}
	if err := validate(&opts); err != nil {
		b.Fatal(err)
	}
	e := newEngine(pair, opts)
	prev, _, _, err := e.loadState(stateFilesOf(pair.HistoryFile))
	if err != nil || prev == nil {
		b.Fatalf("load the history: %v (%v)", err, prev)
	}
	listings, err := e.list(ctx, len(prev.Records), prev.Records)
	if err != nil {
		b.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e := newEngine(pair, opts)
		dirOK := e.dirFilter()
		j := e.join([2]*fileCursor{wholeCursor(&listings[0]), wholeCursor(&listings[1])}, prev.Records, dirOK)
		pl, err := e.plan(ctx, j, prev.Records, listings, dirOK)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.check(pl.items, pl.joined, pl.histFiles); err != nil {
			b.Fatal(err)
		}
		if len(e.res.Plan) != 0 || len(pl.items)+len(pl.same) != n {
			b.Fatalf("%d items and %d unchanged, plan of %d actions; want %d paths and no action",
				len(pl.items), len(pl.same), len(e.res.Plan), n)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	runs := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/runs/n, "ns/file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/runs/n, "alloc-B/file")
}
