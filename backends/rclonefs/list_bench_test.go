package rclonefs

// Benchmarks of the local hot path: listing a big folder through rclone's
// local backend, and a whole no-change run of the engine over two local
// folders (what `ferry sync` does, less the command line and the lock).
// scripts/bench runs them under `make bench`; docs/performance.md has the
// numbers. Run them alone with
//
//	go test -run '^$' -bench 'List100k|RunLocalNoChange100k' -benchmem ./backends/rclonefs
//
// FERRY_BENCH_TREE names an existing tree to list instead of the one the
// benchmark writes (100,000 small files in a temporary folder), and
// FERRY_BENCH_PROFILE a folder for CPU and heap profiles of the timed runs
// of RunLocalNoChange100k (see watchHeap and scripts/bench/profile.sh).
// FERRY_BENCH_WALK=1 lists through rclone's walk instead of the fast
// listing of local folders (list_local.go), to compare the two.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/bisync"
)

// writeBenchTree writes n small files, 100 a folder, with fixed modtimes.
func writeBenchTree(b *testing.B, dir string, n int) {
	b.Helper()
	base := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("Notes/area-%02d/topic-%04d/note %06d.md", i/10_000, i/100, i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, fmt.Appendf(nil, "# note %d\n\nSome text of the note.\n", i), 0o644); err != nil {
			b.Fatal(err)
		}
		mt := base.Add(time.Duration(i) * 1_234_567_891)
		if err := os.Chtimes(p, mt, mt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList100k(b *testing.B) {
	dir := os.Getenv("FERRY_BENCH_TREE")
	if dir == "" {
		dir = b.TempDir()
		writeBenchTree(b, dir, 100_000)
	}
	r := openBench(b, dir)
	var files int
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		files = 0
		err := r.List(testCtx, func(e backends.Entry) error {
			if !e.Dir {
				files++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	runs := float64(b.N)
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/runs/float64(files), "ns/file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/runs/float64(files), "alloc-B/file")
}

// openBench opens dir, for listing as FERRY_BENCH_WALK says.
func openBench(b *testing.B, dir string) *Replica {
	b.Helper()
	r, err := Open(testCtx, dir)
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("FERRY_BENCH_WALK") != "" {
		throughWalk(r)
	} else if r.local == nil {
		b.Fatal("no fast listing of a local folder")
	}
	return r
}

// BenchmarkRunLocalNoChange100k runs the engine over two local folders of
// the same 100,000 files, synced once before the timer.
func BenchmarkRunLocalNoChange100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	writeBenchTree(b, one, n)
	writeBenchTree(b, two, n)
	var p bisync.Pair
	p.Path1, p.Path2 = openBench(b, one), openBench(b, two)
	p.HistoryFile = filepath.Join(dir, "pair.hist")
	opts := bisync.DefaultOptions()
	opts.DeviceID = "bench1"
	ctx := testCtx
	if _, err := bisync.Run(ctx, p, opts); err != nil {
		b.Fatalf("first run: %v", err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := watchHeap(b)
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
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/runs/n, "ns/file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/runs/n, "alloc-B/file")
	b.ReportMetric(float64(peak()-before.HeapAlloc)/n, "peak-heap-B/file")
}

// watchHeap samples the heap (runtime.MemStats.HeapAlloc: live objects and
// garbage not yet collected) every few milliseconds until the benchmark
// ends, and returns a function that reports the highest sample.
// With FERRY_BENCH_PROFILE set to a folder, it also writes there a CPU
// profile of the timed loop (cpu.prof), a heap profile taken near the peak
// (heap.prof: the largest live heap seen; in this mode the sampler collects
// garbage whenever the heap grew by a fifth, which slows the runs), and allocation profiles before and after the loop
// (allocs0.prof, allocs.prof: compare with pprof -base), leaving out the tree writing and the first run that a
// plain -cpuprofile would include.
func watchHeap(b *testing.B) (peak func() uint64) {
	dir := os.Getenv("FERRY_BENCH_PROFILE")
	var cpu *os.File
	if dir != "" {
		var err error
		if cpu, err = os.Create(filepath.Join(dir, "cpu.prof")); err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			b.Fatal(err)
		}
		writeProfile(b, filepath.Join(dir, "allocs0.prof"), "allocs")
	}
	var max atomic.Uint64
	var heapProf []byte
	var lastLive, bestLive uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > max.Load() {
				max.Store(ms.HeapAlloc)
			}
			if dir == "" || ms.HeapAlloc < lastLive/10*12 {
				continue
			}
			// A heap profile shows the heap as of the last collection:
			// collect now, and keep the profile of the largest live heap.
			runtime.GC()
			runtime.ReadMemStats(&ms)
			lastLive = ms.HeapAlloc
			if lastLive > bestLive {
				bestLive = lastLive
				var buf bytes.Buffer
				if pprof.Lookup("heap").WriteTo(&buf, 0) == nil {
					heapProf = buf.Bytes()
				}
			}
		}
	}()
	b.Cleanup(func() {
		close(stop)
		<-done
		if dir != "" {
			pprof.StopCPUProfile()
			cpu.Close()
			if err := os.WriteFile(filepath.Join(dir, "heap.prof"), heapProf, 0o644); err != nil {
				b.Error(err)
			}
			writeProfile(b, filepath.Join(dir, "allocs.prof"), "allocs")
		}
	})
	return func() uint64 { return max.Load() }
}

func writeProfile(b *testing.B, path, name string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
