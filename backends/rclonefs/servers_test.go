package rclonefs

// Tests on real servers, started on 127.0.0.1 by scripts/testserver through
// the testserver package: versitygw for S3, Apache httpd and rclone serve
// for WebDAV. The conformance suite and the engine's cell scenarios run on
// each, as they run on local folders in conformance_test.go and
// cells_test.go.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
	"github.com/ferry-sync/ferry/backends/replicatest"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/bisync/bisynctest"
	"github.com/rclone/rclone/fs"
)

// serverCtx is testCtx with rclone's retries and timeouts lowered, so that
// a broken server fails a test in seconds instead of hanging it: every
// replica on a test server is opened with it. Three tries, not one: rclone
// serve answers 423 Locked to a MKCOL while another one of the same folder
// runs, which a retry 10 ms later survives.
var serverCtx = sync.OnceValue(func() context.Context {
	ctx, ci := fs.AddConfig(testCtx)
	ci.LowLevelRetries = 3
	ci.ConnectTimeout = fs.Duration(5 * time.Second)
	ci.Timeout = fs.Duration(30 * time.Second)
	return ctx
})

// openServer opens remote, on a test server, with serverCtx.
func openServer(t *testing.T, remote string) *Replica {
	t.Helper()
	r, err := Open(serverCtx(), remote)
	if err != nil {
		t.Fatalf("Open(%q): %v", remote, err)
	}
	return r
}

// serverSeq numbers the folders tests make on one server.
var serverSeq atomic.Int64

// folder returns a fresh folder under remote, a test server's connection
// string.
func folder(remote, prefix string) string {
	return fmt.Sprintf("%s/%s%d", remote, prefix, serverSeq.Add(1))
}

// known lists the tests that fail on a server for a reason reported as a
// finding and not fixed yet, by server kind and a part of the test's name
// (whole elements between slashes); they are skipped with the reason.
var known = map[testserver.Kind]map[string]string{
	testserver.S3: {
		"PutFailingReaderKeepsOld": "versitygw v1.8.0 stores a PUT whose body ends before its Content-Length " +
			"(rclone sends UNSIGNED-PAYLOAD and no Content-MD5), replacing the old object with the truncated one",
	},
}

// skipKnown skips t if it is a known failure on kind.
func skipKnown(t *testing.T, kind testserver.Kind) {
	t.Helper()
	name := "/" + t.Name() + "/"
	for part, reason := range known[kind] {
		if strings.Contains(name, "/"+part+"/") {
			t.Skipf("known failure on %s: %s", kind, reason)
		}
	}
}

// TestConformanceServers runs the conformance suite on every test server.
func TestConformanceServers(t *testing.T) {
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			remote := testserver.Start(t, kind)
			replicatest.Run(t, func(t *testing.T) backends.Replica {
				skipKnown(t, kind)
				return openServer(t, folder(remote, "r"))
			})
		})
	}
}

// TestCellsServers runs the engine's scenarios for every decision cell of
// every mode between a local folder and each test server, and once between
// S3 and WebDAV with no local side.
func TestCellsServers(t *testing.T) {
	for _, pair := range []struct {
		one, two testserver.Kind // one "" is a local folder
	}{
		{"", testserver.S3},
		{"", testserver.WebDAVApache},
		{"", testserver.WebDAVRclone},
		{testserver.S3, testserver.WebDAVRclone},
	} {
		name := "local-" + string(pair.two)
		if pair.one != "" {
			name = string(pair.one) + "-" + string(pair.two)
		}
		t.Run(name, func(t *testing.T) {
			var remote1 string
			if pair.one != "" {
				remote1 = testserver.Start(t, pair.one)
			}
			remote2 := testserver.Start(t, pair.two)
			bisynctest.RunCells(t, func(t *testing.T) (backends.Replica, backends.Replica) {
				skipKnown(t, pair.one)
				skipKnown(t, pair.two)
				var r1 backends.Replica
				if remote1 == "" {
					r1 = open(t, filepath.Join(t.TempDir(), "path1"))
				} else {
					r1 = openServer(t, folder(remote1, "c"))
				}
				return r1, openServer(t, folder(remote2, "c"))
			})
		})
	}
}

// TestServerCaps pins what each server lets a Replica tell and do.
func TestServerCaps(t *testing.T) {
	for _, tc := range []struct {
		kind testserver.Kind
		want backends.Caps
	}{
		// Modtimes are kept in metadata that costs a HEAD per object,
		// so they are not listed; the ETag is the MD5.
		{testserver.S3, backends.Caps{Precision: time.Nanosecond, SetModTime: true, ListHash: "md5", Hashes: []string{"md5"}}},
		// vendor=other: rclone cannot set modtimes, but the listing
		// gives Last-Modified, the upload time to the second: a
		// fingerprint. There are no hashes.
		{testserver.WebDAVApache, backends.Caps{Precision: time.Second, ListModTime: true, Dirs: true}},
		// vendor=owncloud: X-OC-Mtime sets modtimes to the second, and
		// the MD5 comes with the listing. rclone's owncloud vendor also
		// claims SHA-1, which rclone serve does not give: only the
		// listed kind is trusted.
		{testserver.WebDAVRclone, backends.Caps{Precision: time.Second, SetModTime: true, ListModTime: true, ListHash: "md5", Hashes: []string{"md5"}, Dirs: true}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			r := openServer(t, folder(testserver.Start(t, tc.kind), "caps"))
			got := r.Caps()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Caps = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestApacheModTimeIsUploadTime pins what Apache does with modification
// times, which rclone's vendor=other ignores: it lists Last-Modified to the
// second, and that is the time of the upload, not the source's.
func TestApacheModTimeIsUploadTime(t *testing.T) {
	r := openServer(t, folder(testserver.Start(t, testserver.WebDAVApache), "mtime"))
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	before := time.Now().Truncate(time.Second)
	if _, err := r.Put(serverCtx(), "f.txt", strings.NewReader("f"), backends.Entry{Size: 1, ModTime: old}); err != nil {
		t.Fatal(err)
	}
	o, err := r.f.NewObject(serverCtx(), "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := o.ModTime(serverCtx())
	if got.Equal(old) || got.Before(before) || got.After(time.Now().Add(time.Second)) || got.Nanosecond() != 0 {
		t.Errorf("Apache lists modtime %v for a file uploaded at about %v with source time %v; want the upload time to the second", got, before, old)
	}
}

// TestServerSameSizeEdit edits a synced file on the server to a content of
// the same size and a later time, and checks that the next run brings the
// edit to the local side: a side must tell such an edit from no change.
func TestServerSameSizeEdit(t *testing.T) {
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			skipKnown(t, kind)
			local := open(t, t.TempDir())
			remote := openServer(t, folder(testserver.Start(t, kind), "edit"))
			p := bisync.Pair{Path1: local, Path2: remote, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
			t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
			bisynctest.Put(t, local, "notes/a.md", "first version", t0)
			bisynctest.MustSync(t, p, bisync.Bidirectional)
			bisynctest.Put(t, remote, "notes/a.md", "other content", t0.Add(time.Minute))
			res := bisynctest.MustSync(t, p, bisync.Bidirectional)
			if got := bisynctest.Contents(t, local)["notes/a.md"]; got != "other content" {
				t.Errorf("after a same-size edit on %s, the local file reads %q, want %q (plan %v)", kind, got, "other content", res.Plan)
			}
		})
	}
}

// TestServerGoneFailsFast checks that, with the tests' lowered retries, a
// server that went away fails a listing in seconds, as a retryable error.
func TestServerGoneFailsFast(t *testing.T) {
	for _, kind := range []testserver.Kind{testserver.S3, testserver.WebDAVApache} {
		t.Run(string(kind), func(t *testing.T) {
			srv := testserver.StartServer(t, kind)
			r := openServer(t, folder(srv.Remote(), "gone"))
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err := r.List(serverCtx(), func(backends.Entry) error { return nil })
			took := time.Since(start)
			if err == nil {
				t.Fatal("List on a stopped server returned no error")
			}
			if took > 20*time.Second {
				t.Errorf("List on a stopped server took %v to fail", took)
			}
			if !backends.IsRetryable(err) {
				t.Errorf("a refused connection is not retryable: %v", err)
			}
		})
	}
}
