package bisync_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// hashSpy records the src of every Put, and can corrupt what Open reads
// of a user's file.
type hashSpy struct {
	backends.Replica
	corrupt bool
	mu      gosync.Mutex
	puts    []backends.Entry
}

func (h *hashSpy) Put(ctx context.Context, p string, r io.Reader, src backends.Entry) (backends.Entry, error) {
	h.mu.Lock()
	h.puts = append(h.puts, src)
	h.mu.Unlock()
	return h.Replica.Put(ctx, p, r, src)
}

func (h *hashSpy) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	rc, err := h.Replica.Open(ctx, p)
	if err != nil || !h.corrupt || strings.HasPrefix(p, ".ferry/") {
		return rc, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	b = bytes.Clone(b)
	b[0] ^= 1 // a bit flipped on the way
	return io.NopCloser(bytes.NewReader(b)), nil
}

// TestCopyPassesListedHash checks that a copy hands the destination's Put
// the hash the source's listing gave, with its kind, so that a destination
// that can check it (S3's Content-MD5; mem checks every kind it knows)
// refuses content that does not match; and that a source without a listed
// hash passes none.
func TestCopyPassesListedHash(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s3 := mem.New("s3", mem.ListHash("md5"), mem.NoDirs())
	s3.WriteFile("a.md", []byte("from s3\n"), t0)
	local := mem.New("local")
	local.WriteFile("b.md", []byte("from local\n"), t0)
	spyLocal, spyS3 := &hashSpy{Replica: local}, &hashSpy{Replica: s3}
	p := bisync.Pair{Path1: spyLocal, Path2: spyS3, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
	opts := bisync.DefaultOptions()
	if _, err := bisync.Run(context.Background(), p, opts); err != nil {
		t.Fatal(err)
	}
	want, _ := s3.Hash(context.Background(), "a.md", "md5")
	var got *backends.Entry
	for i := range spyLocal.puts {
		if spyLocal.puts[i].Path == "a.md" {
			got = &spyLocal.puts[i]
		}
	}
	if got == nil || got.Hash != want || got.HashKind != "md5" {
		t.Errorf("Put on path1 got src %+v, want hash md5 %s", got, want)
	}
	for _, src := range spyS3.puts {
		if src.Path == "b.md" && src.Hash != "" {
			t.Errorf("Put on path2 got src %+v from a side without listed hashes, want no hash", src)
		}
	}

	// Content that differs from what the listing said fails the copy
	// and changes nothing on the destination.
	s3.WriteFile("c.md", []byte("new on s3\n"), t0)
	spyS3.corrupt = true
	res, err := bisync.Run(context.Background(), p, opts)
	if !errors.Is(err, bisync.ErrFailed) {
		t.Fatalf("a copy of corrupted content: err %v, want ErrFailed (result %+v)", err, res)
	}
	if _, err := local.ReadFile("c.md"); err == nil {
		t.Errorf("the corrupted copy reached path1")
	}
	spyS3.corrupt = false
	if _, err := bisync.Run(context.Background(), p, opts); err != nil {
		t.Fatal(err)
	}
	if b, err := local.ReadFile("c.md"); err != nil || string(b) != "new on s3\n" {
		t.Errorf("after a healthy run, path1's c.md = %q, %v", b, err)
	}
}
