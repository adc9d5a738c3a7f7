package rclonefs

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
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

// fakeS3 is an in-memory S3 server that counts requests by kind and can
// show chosen objects in listings with the ETag of a multipart upload,
// which is no MD5 (gofakes3 itself gives every object an MD5 ETag).
type fakeS3 struct {
	h         http.Handler
	mu        sync.Mutex
	counts    map[string]int
	multipart map[string]bool // MD5s (hex) to list as "<md5>-2"
}

func newFakeS3(t *testing.T) (*fakeS3, string) {
	s := &fakeS3{
		h:         gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server(),
		counts:    make(map[string]int),
		multipart: make(map[string]bool),
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
	multipart := maps.Clone(s.multipart)
	s.mu.Unlock()
	if kind != "LIST" || len(multipart) == 0 {
		s.h.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	body := rec.Body.String()
	for sum := range multipart {
		body = strings.ReplaceAll(body, sum, sum+"-2")
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write([]byte(body))
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
	if c.ListHash != backends.HashMD5 || c.ListModTime || !c.SetModTime || c.Dirs {
		t.Errorf("Caps = %+v: want md5 listed, modtimes kept but not listed, no directories", c)
	}
	if strings.Contains(r.String(), "s3cr3t") || strings.Contains(r.String(), "AKID") {
		t.Errorf("String() = %q shows credentials", r)
	}
}

// TestS3ListMakesNoPerObjectRequest pins DESIGN.md's "a steady-state run
// makes no request per object": not for modtimes (kept in metadata, a HEAD
// each) and not for the MD5 of a multipart object (whose ETag is none).
func TestS3ListMakesNoPerObjectRequest(t *testing.T) {
	s, url := newFakeS3(t)
	w := open(t, s3Remote(url, "steady"))
	put := func(p, content string) {
		t.Helper()
		if _, err := w.Put(testCtx, p, strings.NewReader(content), backends.Entry{Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		put(fmt.Sprintf("d%d/f%d.txt", i%3, i), fmt.Sprint("file ", i))
	}
	big := "pretend this was uploaded in parts"
	put("big.bin", big)
	sum := md5.Sum([]byte(big))
	s.mu.Lock()
	s.multipart[hex.EncodeToString(sum[:])] = true
	s.mu.Unlock()

	r := open(t, s3Remote(url, "steady")) // nothing cached from the uploads
	s.take()
	got := make(map[string]backends.Entry)
	if err := r.List(testCtx, func(e backends.Entry) error { got[e.Path] = e; return nil }); err != nil {
		t.Fatal(err)
	}
	counts := s.take()
	if len(counts) != 1 || counts["LIST"] == 0 || counts["LIST"] > 2 {
		t.Errorf("List made requests %v, want one or two listings and nothing else", counts)
	}
	if len(got) != 21 {
		t.Errorf("List reported %d entries, want 21", len(got))
	}
	if e := got["d0/f0.txt"]; e.Hash == "" || !e.ModTime.IsZero() || e.Size != int64(len("file 0")) {
		t.Errorf("single-part object listed as %+v: want size and md5, no modtime", e)
	}
	if e := got["big.bin"]; e.Hash != "" || e.Size != int64(len(big)) {
		t.Errorf("multipart object listed as %+v: want its size and no md5", e)
	}
}
