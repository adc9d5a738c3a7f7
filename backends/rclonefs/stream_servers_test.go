package rclonefs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
)

// TestServerLargeFilesStream uploads and downloads a small and a large
// file, generated on the fly, through each server, and compares the
// highest heap each transfer reached: a transfer must stream, so the
// larger file may not need much more memory than the smaller. On S3 both
// go up in parts (upload_cutoff and chunk_size of 5 MiB, four parts at a
// time), whose ETag is no MD5: the content is checked by reading it back.
func TestServerLargeFilesStream(t *testing.T) {
	if testing.Short() {
		t.Skip("large transfers: skipped with -short")
	}
	const small, large = 24 << 20, 160 << 20
	// Four 5 MiB parts in flight, buffers and slack; the files differ by
	// 136 MiB.
	const allowed = 48 << 20
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			skipKnown(t, kind)
			srv := testserver.StartServer(t, kind)
			var params []testserver.Param
			if kind == testserver.S3 {
				params = []testserver.Param{{Key: "upload_cutoff", Value: "5Mi"}, {Key: "chunk_size", Value: "5Mi"}, {Key: "upload_concurrency", Value: "4"}}
			}
			r := openServer(t, folder(srv.Remote(params...), "stream"))
			var peaks [2][2]uint64 // [small, large][up, down]
			for i, size := range []int64{small, large} {
				name := fmt.Sprintf("big%d.bin", i)
				want := sha256.New()
				var err error
				peaks[i][0] = peakHeap(t, func() {
					_, err = r.Put(context.Background(), name, io.TeeReader(generated(size, uint64(i)), want), backends.Entry{Size: size, ModTime: time.Now()})
				})
				if err != nil {
					t.Fatalf("put %s (%d MiB): %v", name, size>>20, err)
				}
				got := sha256.New()
				var n int64
				peaks[i][1] = peakHeap(t, func() {
					var rc io.ReadCloser
					if rc, err = r.Open(context.Background(), name); err != nil {
						return
					}
					n, err = io.Copy(got, rc)
					if cerr := rc.Close(); err == nil {
						err = cerr
					}
				})
				if err != nil || n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
					t.Fatalf("read back %s: %d bytes of %d, same content %v, err %v", name, n, size, string(got.Sum(nil)) == string(want.Sum(nil)), err)
				}
				if err := r.Delete(context.Background(), name); err != nil {
					t.Fatal(err)
				}
			}
			for j, what := range []string{"upload", "download"} {
				s, l := peaks[0][j], peaks[1][j]
				t.Logf("%s: highest heap %d MiB for %d MiB, %d MiB for %d MiB", what, s>>20, small>>20, l>>20, large>>20)
				if l > s+allowed {
					t.Errorf("%s of %d MiB reached a heap of %d MiB, of %d MiB %d MiB: it does not stream",
						what, large>>20, l>>20, small>>20, s>>20)
				}
			}
		})
	}
}

// generated returns size bytes of seeded random data.
func generated(size int64, seed uint64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), 'g', 'e', 'n'}), size)
}

// peakHeap runs f and returns the highest heap in use seen while it ran,
// sampled every few milliseconds, after a collection before f.
func peakHeap(t *testing.T, f func()) uint64 {
	t.Helper()
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	return peak.Load()
}
