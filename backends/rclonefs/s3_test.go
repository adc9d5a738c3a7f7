package rclonefs

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/replicatest"
	"github.com/rclone/gofakes3"
	"github.com/rclone/gofakes3/s3mem"
)

// fakeS3 is an in-memory S3 server that counts requests by kind. The tests
// on a real S3 server (versitygw) are in servers_test.go and
// s3server_test.go; these pin what a real server cannot show, or does
// wrong (versitygw keeps a truncated upload).
type fakeS3 struct {
	h      http.Handler
	mu     sync.Mutex
	counts map[string]int
}

func newFakeS3(t *testing.T) (*fakeS3, string) {
	s := &fakeS3{
		h:      gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server(),
		counts: make(map[string]int),
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := r.Method
	switch {
	case r.Method == http.MethodGet && !strings.Contains(strings.Trim(r.URL.Path, "/"), "/"):
		kind = "LIST"
	case r.Header.Get("X-Amz-Copy-Source") != "":
		kind = "COPY"
	}
	s.mu.Lock()
	s.counts[kind]++
	s.mu.Unlock()
	s.h.ServeHTTP(w, r)
}

func (s *fakeS3) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts
	s.counts = make(map[string]int)
	return c
}

// s3Remote is a connection string for bucket/prefix on the fake server.
func s3Remote(url, prefix string) string {
	return ":s3,provider=Other,endpoint='" + url + "',access_key_id=AKIDferry,secret_access_key=s3cr3t-key,force_path_style=true:bucket/" + prefix
}

var s3Seq atomic.Int64

// TestConformanceS3 runs the suite on gofakes3 as well as on versitygw
// (TestConformanceServers): gofakes3 rejects a truncated upload as AWS
// does, which versitygw does not, and it runs under -short.
func TestConformanceS3(t *testing.T) {
	_, url := newFakeS3(t)
	replicatest.Run(t, func(t *testing.T) backends.Replica {
		return open(t, s3Remote(url, fmt.Sprintf("r%d", s3Seq.Add(1))))
	})
}

func TestS3KeepsModTime(t *testing.T) {
	_, url := newFakeS3(t)
	r := open(t, s3Remote(url, "modtime"))
	mtime := time.Date(2023, 4, 5, 6, 7, 8, 912345678, time.UTC)
	if _, err := r.Put(testCtx, "f.txt", strings.NewReader("f"), backends.Entry{Size: 1, ModTime: mtime}); err != nil {
		t.Fatal(err)
	}
	o, err := r.f.NewObject(testCtx, "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.ModTime(testCtx); !got.Equal(mtime) {
		t.Errorf("S3 keeps modtime %v, want %v", got, mtime)
	}
}

func TestS3CopyFromIsServerSide(t *testing.T) {
	s, url := newFakeS3(t)
	a, b := open(t, s3Remote(url, "a")), open(t, s3Remote(url, "b"))
	content := "copied on the server"
	if _, err := a.Put(testCtx, "src.txt", strings.NewReader(content), backends.Entry{Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	s.take()
	e, err := b.CopyFrom(testCtx, a, "src.txt", "d/dst.txt")
	if err != nil {
		t.Fatalf("CopyFrom: %v", err)
	}
	counts := s.take()
	if counts["COPY"] != 1 || counts["GET"] != 0 {
		t.Errorf("CopyFrom made requests %v, want one copy and no download", counts)
	}
	sum := md5.Sum([]byte(content))
	if e.Path != "d/dst.txt" || e.Size != int64(len(content)) || e.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("CopyFrom returned %+v", e)
	}
	// Another remote (other parameters) cannot copy server-side.
	other := open(t, ":s3,provider=Other,endpoint='"+url+"',access_key_id=AKIDferry,secret_access_key=s3cr3t-key,force_path_style=true,region=other:bucket/c")
	if _, err := other.CopyFrom(testCtx, a, "src.txt", "dst.txt"); !errors.Is(err, backends.ErrCannotCopy) {
		t.Errorf("CopyFrom between two remotes: %v, want ErrCannotCopy", err)
	}
}

func TestS3Caps(t *testing.T) {
	_, url := newFakeS3(t)
	r := open(t, s3Remote(url, "caps"))
	c := r.Caps()
	if c.ListHash != backends.HashMD5 || c.ListModTime || !c.SetModTime || c.Dirs || c.ListSorted {
		t.Errorf("Caps = %+v: want md5 listed, modtimes kept but not listed, no directories, no order", c)
	}
	if strings.Contains(r.String(), "s3cr3t") || strings.Contains(r.String(), "AKID") {
		t.Errorf("String() = %q shows credentials", r)
	}
}
