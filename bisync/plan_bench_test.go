package bisync

// BenchmarkPlan100k times planning alone: the merge-join of two listings and
// the history into items, classify, decide and the safety checks, over
// 100,000 unchanged files on mem replicas. Loading the history and listing
// happen once, before the timer; the steps timed are those of engine.run
// between the listing and the transaction, so keep them in step with run.

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/history"
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
	listings, err := e.list(ctx)
	if err != nil {
		b.Fatal(err)
	}
	fileRecs, dirRecs := splitDirs(prev.Records)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e := newEngine(pair, opts)
		dirOK := e.dirFilter()
		items := join(listings[0].files, listings[1].files, fileRecs, e.tombs)
		taken := takenNames(items, listings)
		items, l := e.scope(items, listings, dirOK)
		histFiles := 0
		for _, it := range items {
			if it.hist != nil {
				histFiles++
			}
			e.classify(it)
		}
		if err := e.hashPass(ctx, items); err != nil {
			b.Fatal(err)
		}
		if err := e.decideAll(ctx, items, taken); err != nil {
			b.Fatal(err)
		}
		dirPlan := e.planDirs(l, scopeRecords(append([]history.Record(nil), dirRecs...), dirOK), items)
		e.res.Plan = makePlan(items, dirPlan)
		if err := e.check(items, l, histFiles); err != nil {
			b.Fatal(err)
		}
		if len(e.res.Plan) != 0 || len(items) != n {
			b.Fatalf("%d items, plan of %d actions; want %d items and no action", len(items), len(e.res.Plan), n)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	runs := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/runs/n, "ns/file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/runs/n, "alloc-B/file")
}
