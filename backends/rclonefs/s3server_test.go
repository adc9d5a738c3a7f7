package rclonefs

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/bisync/bisynctest"
)

// s3Recorder is a loopback proxy in front of an S3 server that records
// every request: "LIST" for a listing of the bucket, else the method and
// the object's key (with the bucket's folder).
type s3Recorder struct {
	proxy  *httputil.ReverseProxy
	bucket string
	mu     sync.Mutex
	reqs   []string
}

// newS3Recorder starts the proxy and returns it with its endpoint, to
// give the remote instead of the server's.
func newS3Recorder(t *testing.T, srv *testserver.Server) (*s3Recorder, testserver.Param) {
	t.Helper()
	target, err := url.Parse(srv.Param("endpoint"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &s3Recorder{proxy: httputil.NewSingleHostReverseProxy(target), bucket: srv.Path}
	// The proxy passes the Host header on, so request signatures stay
	// valid.
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	return rec, testserver.Param{Key: "endpoint", Value: hs.URL}
}

func (s *s3Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+s.bucket), "/")
	what := r.Method + " " + key
	if r.Method == http.MethodGet && key == "" { // ListObjects, v1 or v2
		what = "LIST"
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, what)
	s.mu.Unlock()
	s.proxy.ServeHTTP(w, r)
}

// take returns the requests recorded since the last call.
func (s *s3Recorder) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// TestS3ServerSteadyRunListsOnly pins DESIGN.md's "a steady-state run
// makes no request per object" on a real S3 server: after a first run has
// uploaded 1,000 files (one of them in parts, so its ETag is no MD5), a run
// with nothing changed makes listing requests, and none for a user's file:
// no HEAD for a modtime or a hash, no GET. It may read ferry's own format
// marker under .ferry/, once a run.
func TestS3ServerSteadyRunListsOnly(t *testing.T) {
	srv := testserver.StartServer(t, testserver.S3)
	rec, endpoint := newS3Recorder(t, srv)
	// Files over 5 MiB go up in two parts of 5 MiB.
	remote := folder(srv.Remote(endpoint,
		testserver.Param{Key: "upload_cutoff", Value: "5Mi"},
		testserver.Param{Key: "chunk_size", Value: "5Mi"}), "steady")

	dir := t.TempDir()
	const nFiles = 1000
	for i := range nFiles - 1 {
		name := filepath.Join(dir, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%04d.md", i))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, fmt.Appendf(nil, "note %d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 6<<20)
	rng := rand.NewChaCha8([32]byte{'s', '3'})
	_, _ = rng.Read(big)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}

	local, s3 := open(t, dir), openServer(t, remote)
	p := bisync.Pair{Path1: local, Path2: s3, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
	start := time.Now()
	res := bisynctest.MustSync(t, p, bisync.Bidirectional)
	t.Logf("first run: %v, %v", time.Since(start), res.Done)
	uploads := slices.DeleteFunc(rec.take(), func(r string) bool { return !strings.HasPrefix(r, "PUT ") })
	if len(uploads) < nFiles {
		t.Fatalf("the first run made %d uploads, want at least %d", len(uploads), nFiles)
	}

	start = time.Now()
	res = bisynctest.MustSync(t, p, bisync.Bidirectional)
	reqs := rec.take()
	t.Logf("steady run: %v, %d requests", time.Since(start), len(reqs))
	for _, a := range res.Plan {
		if a.Op != bisync.OpNothing {
			t.Errorf("steady run plans %v %s", a.Op, a.Path)
		}
	}
	var lists int
	var meta, other []string
	for _, r := range reqs {
		switch {
		case r == "LIST":
			lists++
		case strings.Contains(r, "/.ferry/"):
			meta = append(meta, r)
		default:
			other = append(other, r)
		}
	}
	t.Logf("steady run: %d listings, requests for ferry's metadata: %q", lists, meta)
	// A listing returns up to 1,000 keys a page.
	if lists == 0 || lists > 3 {
		t.Errorf("steady run made %d listing requests, want 1 to 3", lists)
	}
	if len(other) > 0 {
		if len(other) > 10 {
			other = append(other[:10], "...")
		}
		t.Errorf("steady run made %d requests for files: %q", len(other), other)
	}
	if len(meta) > 4 {
		t.Errorf("steady run made %d requests for ferry's metadata: %q", len(meta), meta)
	}

	// The object uploaded in parts has an ETag that is no MD5: List
	// reports it without a hash, rather than asking for one.
	var bigEntry backends.Entry
	if err := s3.List(serverCtx(), func(e backends.Entry) error {
		if e.Path == "big.bin" {
			bigEntry = e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if bigEntry.Size != int64(len(big)) || bigEntry.Hash != "" {
		t.Errorf("the object uploaded in parts lists as %+v: want its size and no hash", bigEntry)
	}
	if got := rec.take(); !slices.Equal(got, []string{"LIST"}) && !slices.Equal(got, []string{"LIST", "LIST"}) {
		t.Errorf("List made requests %q, want listings only", got)
	}
}
