package bisync_test

// Benchmarks of a steady-state run on in-memory replicas: what the engine
// itself costs, without a disk or rclone. scripts/bench runs them under
// `make bench`, next to the end-to-end comparison with Unison and rclone
// bisync; docs/performance.md has the numbers. Run them alone with
//
//	go test -run '^$' -bench 'RunNoChange|DryRun' -benchmem ./bisync

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// benchVaultPair returns a pair of mem replicas holding the same notes vault
// of n files (100 notes a folder, a few dozen bytes each: the engine never
// reads them in a steady state), already synced once, and the options of
// the runs that follow.
func benchVaultPair(b *testing.B, n int, o ...mem.Option) (bisync.Pair, bisync.Options) {
	b.Helper()
	r1, r2 := mem.New("one", o...), mem.New("two", o...)
	base := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		p := fmt.Sprintf("Notes/area-%02d/topic-%04d/note %06d.md", i/10_000, i/100, i)
		data := fmt.Appendf(nil, "# note %d\n\nSome text of the note.\n", i)
		mt := base.Add(time.Duration(i) * 1_234_567_891)
		r1.WriteFile(p, data, mt)
		r2.WriteFile(p, data, mt)
	}
	p := bisync.Pair{Path1: r1, Path2: r2, HistoryFile: filepath.Join(b.TempDir(), "pair.hist")}
	opts := bisync.DefaultOptions()
	opts.DeviceID = "bench1"
	if _, err := bisync.Run(context.Background(), p, opts); err != nil {
		b.Fatalf("first run: %v", err)
	}
	return p, opts
}

// runNoChange runs the pair over and over; nothing changed, so each run must
// plan nothing. It reports time and allocated bytes per file.
func runNoChange(b *testing.B, n int, dryRun bool, o ...mem.Option) {
	p, opts := benchVaultPair(b, n, o...)
	opts.DryRun = dryRun
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := bisync.Run(ctx, p, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Plan) != 0 {
			b.Fatalf("nothing changed, yet the plan has %d actions (first: %+v)", len(res.Plan), res.Plan[0])
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	runs := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/runs/float64(n), "ns/file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/runs/float64(n), "alloc-B/file")
}

// BenchmarkRunNoChange100k is a whole real run (load the history, list both
// sides, plan, journal, save the history, run log) over 100,000 unchanged
// files.
func BenchmarkRunNoChange100k(b *testing.B) { runNoChange(b, 100_000, false) }

// BenchmarkRunNoChangeSorted100k is BenchmarkRunNoChange100k with replicas
// that list in path order, so that the join takes the listings as they
// arrive instead of holding and sorting them.
func BenchmarkRunNoChangeSorted100k(b *testing.B) {
	runNoChange(b, 100_000, false, mem.SortedList())
}

// BenchmarkDryRun100k is the same run up to the plan: load, list and plan,
// no writes.
func BenchmarkDryRun100k(b *testing.B) { runNoChange(b, 100_000, true) }
