package replicatest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ferry-sync/ferry/backends"
)

func testLargeFile(t *testing.T, r backends.Replica) {
	const size = 5 << 20
	// A pseudo-random stream of unknown type: the replica cannot take its
	// length or seek it, and no run of equal bytes hides a dropped chunk.
	src := io.LimitReader(rand.NewChaCha8([32]byte{'f', 'e', 'r', 'r', 'y'}), size)
	h := md5.New()
	e, err := r.Put(t.Context(), "large.bin", io.TeeReader(src, h), backends.Entry{Path: "large.bin", Size: size, ModTime: baseTime})
	if err != nil {
		t.Fatalf("Put of %d bytes: %v", size, err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	if e.Size != size {
		t.Errorf("Put returned size %d, want %d", e.Size, size)
	}
	sameEntry(t, "Stat after Put", stat(t, r, "large.bin"), e)

	rc, err := r.Open(t.Context(), "large.bin")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	h.Reset()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != size || got != want {
		t.Errorf("read back %d bytes with md5 %s, want %d bytes with md5 %s", n, got, size, want)
	}
	c := r.Caps()
	if slices.Contains(c.Hashes, backends.HashMD5) {
		if got := hashOf(t, r, "large.bin", backends.HashMD5); got != want {
			t.Errorf("Hash md5 = %s, want %s", got, want)
		}
	}
	if c.ListHash == backends.HashMD5 && e.Hash != "" && e.Hash != want {
		t.Errorf("Put returned md5 %s, want %s", e.Hash, want)
	}
}

func testConcurrentPuts(t *testing.T, r backends.Replica) {
	const nFiles, nWorkers = 50, 8
	// Files share a few new directories, so workers race to create them.
	paths := make(chan string)
	var wg sync.WaitGroup
	for range nWorkers {
		wg.Go(func() {
			for p := range paths {
				content := []byte("content of " + p)
				src := backends.Entry{Path: p, Size: int64(len(content)), ModTime: baseTime}
				if _, err := r.Put(t.Context(), p, onlyReader{bytes.NewReader(content)}, src); err != nil {
					t.Errorf("Put(%q): %v", p, err) // Errorf is safe from any goroutine
				}
			}
		})
	}
	var want []string
	for i := range nFiles {
		p := fmt.Sprintf("c%d/sub/f%02d.txt", i%5, i)
		want = append(want, p)
		paths <- p
	}
	close(paths)
	wg.Wait()
	wantFiles(t, list(t, r), want...)
	for _, p := range want {
		wantContent(t, r, p, []byte("content of "+p))
	}
}
