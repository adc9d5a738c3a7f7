package rclonefs

// What each real server tells ferry, and what every server must get right
// because of it: repeated runs that transfer nothing, modification times of
// different precision on the two sides, hashes handed to Put, and Caps
// that do not depend on how the remote is named.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
)

// counting wraps a replica and records every call that reads or writes a
// user's file (ferry's own .ferry/ folder aside): Open, Put, Move, Delete,
// Mkdir, Rmdir.
type counting struct {
	backends.Replica
	mu    sync.Mutex
	calls []string
}

func (c *counting) note(op, p string) {
	if strings.HasPrefix(p, ".ferry/") {
		return
	}
	c.mu.Lock()
	c.calls = append(c.calls, op+" "+p)
	c.mu.Unlock()
}

// take returns the calls recorded since the last take.
func (c *counting) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func (c *counting) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	c.note("open", p)
	return c.Replica.Open(ctx, p)
}

func (c *counting) Put(ctx context.Context, p string, r io.Reader, src backends.Entry) (backends.Entry, error) {
	c.note("put", p)
	return c.Replica.Put(ctx, p, r, src)
}

func (c *counting) Move(ctx context.Context, from, to string) (backends.Entry, error) {
	c.note("move", from)
	return c.Replica.Move(ctx, from, to)
}

func (c *counting) Delete(ctx context.Context, p string) error {
	c.note("delete", p)
	return c.Replica.Delete(ctx, p)
}

func (c *counting) Mkdir(ctx context.Context, p string) error {
	c.note("mkdir", p)
	return c.Replica.Mkdir(ctx, p)
}

func (c *counting) Rmdir(ctx context.Context, p string) error {
	c.note("rmdir", p)
	return c.Replica.Rmdir(ctx, p)
}

// Settle is passed on: the engine asks the replica it is given.
func (c *counting) Settle(ctx context.Context) {
	if s, ok := c.Replica.(backends.Settler); ok {
		s.Settle(ctx)
	}
}

// fracTime is a time with nanoseconds, so that a side that keeps seconds
// only (WebDAV) rounds it and one that keeps nanoseconds (local) does not.
func fracTime(i int) time.Time {
	return time.Date(2025, 6, 7, 8, 9, 10+i, 123456789+i*1111, time.UTC)
}

// serverPair returns a local folder and a fresh folder on a server of kind,
// both wrapped to count their calls, and the pair syncing them.
func serverPair(t *testing.T, kind testserver.Kind, remote, prefix string) (local, server *counting, p bisync.Pair) {
	t.Helper()
	local = &counting{Replica: open(t, t.TempDir())}
	server = &counting{Replica: openServer(t, folder(remote, prefix))}
	p = bisync.Pair{Path1: local, Path2: server, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
	return local, server, p
}

// wantQuiet fails the test if a run planned anything, or the replicas saw
// a read or write of a user's file.
func wantQuiet(t *testing.T, what string, res *bisync.Result, reps ...*counting) {
	t.Helper()
	for _, a := range res.Plan {
		if a.Op != bisync.OpNothing {
			t.Errorf("%s: plans %v %s [%02d] %s", what, a.Op, a.Path, a.Decision, a.Reason)
		}
	}
	for i, r := range reps {
		if calls := r.take(); len(calls) > 0 {
			t.Errorf("%s: path%d saw %q, want no transfer", what, i+1, calls)
		}
	}
}

// wantNoConflict fails the test if a run planned a conflict.
func wantNoConflict(t *testing.T, what string, res *bisync.Result) {
	t.Helper()
	for _, a := range res.Plan {
		if a.Op == bisync.OpConflict {
			t.Errorf("%s: conflict on %s [%02d] %s", what, a.Path, a.Decision, a.Reason)
		}
	}
}

// TestServerThreeRunsTransferOnce runs three syncs in a row between a
// local folder and each server, with files first on both sides: the first
// run transfers, the next two neither read nor write a single file. On
// Apache, which keeps no source times and has no hashes, this is what the
// listed upload time is for.
func TestServerThreeRunsTransferOnce(t *testing.T) {
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			skipKnown(t, kind)
			local, server, p := serverPair(t, kind, testserver.Start(t, kind), "three")
			for i, name := range []string{"a.md", "notes/b.md", "notes/deep/c.md", "empty.txt"} {
				content := fmt.Sprintf("local file %d\n", i)
				if name == "empty.txt" {
					content = ""
				}
				bisynctest.Put(t, local, name, content, fracTime(i))
			}
			for i, name := range []string{"remote.md", "notes/remote.md"} {
				bisynctest.Put(t, server, name, fmt.Sprintf("server file %d\n", i), fracTime(10+i))
			}
			local.take()
			server.take()

			res := bisynctest.MustSync(t, p, bisync.Bidirectional)
			if n := res.Done[bisync.OpCopy1to2] + res.Done[bisync.OpCopy2to1]; n != 6 {
				t.Errorf("first run copied %d files, want 6 (plan %v)", n, res.Plan)
			}
			local.take()
			server.take()
			for run := 2; run <= 3; run++ {
				res := bisynctest.MustSync(t, p, bisync.Bidirectional)
				wantQuiet(t, fmt.Sprintf("run %d", run), res, local, server)
			}
			want := bisynctest.Contents(t, local)
			if got := bisynctest.Contents(t, server); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("server holds %q, local %q", got, want)
			}
		})
	}
}

// TestServerPrecisionTouches syncs files whose local times have
// nanoseconds with each server (seconds on WebDAV, nanoseconds in S3's
// metadata, which ferry does not list), then touches them, locally and on
// the server, over several runs: no run may see a conflict, and touches
// that leave the content alone transfer nothing where the side can tell
// (locally by the hash ferry keeps, on S3 and rclone's WebDAV by the
// listed MD5). Apache cannot tell a touch on its side from an edit (a new
// upload time, no hash): the file comes back once, and nothing more.
func TestServerPrecisionTouches(t *testing.T) {
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			skipKnown(t, kind)
			local, server, p := serverPair(t, kind, testserver.Start(t, kind), "touch")
			names := []string{"a.md", "b.md", "sub/c.md"}
			for i, name := range names {
				bisynctest.Put(t, local, name, "content of "+name+"\n", fracTime(i))
			}
			bisynctest.MustSync(t, p, bisync.Bidirectional)
			want := bisynctest.Contents(t, local)
			local.take()
			server.take()

			for run := 1; run <= 3; run++ {
				// Local touches: a new time with other nanoseconds.
				for i, name := range names {
					at := fracTime(100*run + i).Add(time.Duration(run) * 7 * time.Millisecond)
					path := filepath.Join(local.Replica.(*Replica).f.Root(), filepath.FromSlash(name))
					if err := os.Chtimes(path, at, at); err != nil {
						t.Fatal(err)
					}
				}
				res := bisynctest.MustSync(t, p, bisync.Bidirectional)
				wantQuiet(t, fmt.Sprintf("run %d after local touches", run), res, local, server)
			}

			// A touch on the server: the same content, written again with
			// another time.
			bisynctest.Put(t, server, "a.md", want["a.md"], fracTime(500))
			server.take()
			res := bisynctest.MustSync(t, p, bisync.Bidirectional)
			wantNoConflict(t, "after a server touch", res)
			if server.Replica.Caps().ListHash != "" {
				wantQuiet(t, "after a server touch", res, local, server)
			}
			local.take()
			server.take()
			// And both sides at once.
			bisynctest.Put(t, server, "b.md", want["b.md"], fracTime(600))
			at := fracTime(601)
			if err := os.Chtimes(filepath.Join(local.Replica.(*Replica).f.Root(), "b.md"), at, at); err != nil {
				t.Fatal(err)
			}
			server.take()
			res = bisynctest.MustSync(t, p, bisync.Bidirectional)
			wantNoConflict(t, "after touches on both sides", res)
			local.take()
			server.take()
			res = bisynctest.MustSync(t, p, bisync.Bidirectional)
			wantQuiet(t, "the run after", res, local, server)

			for side, r := range []backends.Replica{local, server} {
				if got := bisynctest.Contents(t, r); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("path%d holds %q, want %q", side+1, got, want)
				}
			}
		})
	}
}

// TestServerPutChecksGivenHash hands Put the MD5 of the content: a wrong
// one, and a right one with a body that breaks off, must leave the old file
// on every server that can check an MD5 (S3 by Content-MD5, which makes
// versitygw refuse a short body; rclone's WebDAV by comparing the listed
// MD5 before the temporary file is renamed into place). Apache cannot
// check, and ignores the hash.
func TestServerPutChecksGivenHash(t *testing.T) {
	old := []byte("the old content\n")
	content := bytes.Repeat([]byte("new content "), 10_000)
	sum := localMD5(content)
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			r := openServer(t, folder(testserver.Start(t, kind), "hash"))
			checks := slices.Contains(r.Caps().Hashes, backends.HashMD5)
			ctx := serverCtx()
			if _, err := r.Put(ctx, "f.txt", bytes.NewReader(old), backends.Entry{Size: int64(len(old)), ModTime: fracTime(0)}); err != nil {
				t.Fatal(err)
			}
			before, err := r.Stat(ctx, "f.txt")
			if err != nil {
				t.Fatal(err)
			}
			src := backends.Entry{Size: int64(len(content)), ModTime: fracTime(1), HashKind: backends.HashMD5}

			src.Hash = strings.Repeat("0", 32)
			_, err = r.Put(ctx, "f.txt", bytes.NewReader(content), src)
			switch {
			case checks && err == nil:
				t.Errorf("Put with a wrong MD5 succeeded")
			case !checks && err != nil:
				t.Errorf("Put with an MD5 the server cannot check: %v", err)
			}
			if checks {
				wantFile(t, r, "f.txt", old, before)
			}
			if !checks {
				return
			}

			src.Hash = sum
			_, err = r.Put(ctx, "f.txt", &brokenReader{data: content[:len(content)/2]}, src)
			if err == nil {
				t.Errorf("Put with a body that broke off succeeded")
			}
			wantFile(t, r, "f.txt", old, before)

			e, err := r.Put(ctx, "f.txt", bytes.NewReader(content), src)
			if err != nil {
				t.Fatalf("Put with the right MD5: %v", err)
			}
			if e.Hash != sum {
				t.Errorf("Put returned hash %q, want %q", e.Hash, sum)
			}
			wantFile(t, r, "f.txt", content, e)
		})
	}
}

// wantFile checks p's content and that it lists as want.
func wantFile(t *testing.T, r *Replica, p string, content []byte, want backends.Entry) {
	t.Helper()
	rc, err := r.Open(serverCtx(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("%s holds %d bytes %.30q, want %d bytes %.30q", p, len(got), got, len(content), content)
	}
	e, err := r.Stat(serverCtx(), p)
	if err != nil {
		t.Fatal(err)
	}
	if e.Size != want.Size || !e.ModTime.Equal(want.ModTime) || e.Hash != want.Hash {
		t.Errorf("%s lists as %+v, want %+v", p, e, want)
	}
}

func localMD5(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

var errBrokeOff = errors.New("source broke off")

// brokenReader yields data, then fails, like a download cut off.
type brokenReader struct{ data []byte }

func (b *brokenReader) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, errBrokeOff
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

// TestPutPassesHashToLocal checks that a hash given to Put is harmless
// where the backend cannot check it (the local one), and that one of a
// kind rclone does not know, or not hex, is ignored.
func TestPutPassesHashToLocal(t *testing.T) {
	r := open(t, t.TempDir())
	for _, src := range []backends.Entry{
		{Size: 3, Hash: strings.Repeat("0", 32), HashKind: "md5"},
		{Size: 3, Hash: "zz", HashKind: "md5"},
		{Size: 3, Hash: "abc", HashKind: "no-such-kind"},
		{Size: 3, Hash: "abc"},
	} {
		if _, err := r.Put(testCtx, "f.txt", strings.NewReader("abc"), src); err != nil {
			t.Errorf("Put with %+v: %v", src, err)
		}
	}
}

// TestServerCapsByName checks that a WebDAV remote gets the same Caps
// whether it is a connection string, a section of rclone.conf or
// RCLONE_CONFIG_<NAME>_* variables, or an alias of one: ferry recognises
// the backend by what rclone opened, not by how it was named.
func TestServerCapsByName(t *testing.T) {
	for _, kind := range []testserver.Kind{testserver.WebDAVApache, testserver.WebDAVRclone} {
		t.Run(string(kind), func(t *testing.T) {
			srv := testserver.StartServer(t, kind)
			want := openServer(t, srv.Remote()).Caps()

			name := strings.ReplaceAll("ferrytest-"+string(kind), "-", "")
			for _, p := range append([]testserver.Param{{Key: "type", Value: srv.Type}}, srv.Params...) {
				config.FileSetValue(name+"conf", p.Key, p.Value)
				t.Setenv(fs.ConfigToEnv(name+"env", p.Key), p.Value)
			}
			t.Cleanup(func() { config.LoadedData().DeleteSection(name + "conf") })

			for _, remote := range []string{
				name + "conf:" + srv.Path,
				name + "env:" + srv.Path,
				":alias,remote=" + testserver.Quote(name+"env:"+srv.Path) + ":",
			} {
				if got := openServer(t, remote).Caps(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: Caps = %+v, want %+v as for the connection string", remote, got, want)
				}
			}
		})
	}
}

// TestApacheSettle pins what Settle is for: Apache stamps an upload with
// its own time, to the second, so a write of the same size in the same
// second lists as the one before it. After Settle, a write lists with a
// later time.
func TestApacheSettle(t *testing.T) {
	r := openServer(t, folder(testserver.Start(t, testserver.WebDAVApache), "settle"))
	ctx := serverCtx()
	first, err := r.Put(ctx, "f.txt", strings.NewReader("one"), backends.Entry{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r.Settle(ctx)
	if waited := time.Since(start); waited > 1100*time.Millisecond {
		t.Errorf("Settle waited %v, want at most a second", waited)
	}
	second, err := r.Put(ctx, "f.txt", strings.NewReader("two"), backends.Entry{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !second.ModTime.After(first.ModTime) {
		t.Errorf("a write after Settle lists at %v, the one before at %v: want a later time", second.ModTime, first.ModTime)
	}

	// Replicas that keep the source's times do not wait.
	local := open(t, t.TempDir())
	if _, err := local.Put(ctx, "f.txt", strings.NewReader("one"), backends.Entry{Size: 3}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	local.Settle(ctx)
	if waited := time.Since(start); waited > 50*time.Millisecond {
		t.Errorf("Settle on a local folder waited %v", waited)
	}
}

// TestS3DownloadKeepsModTime: a file that comes down from S3 gets the
// modification time stored with the object, which the GET's answer carries,
// not the time of the download; and the next run transfers nothing.
func TestS3DownloadKeepsModTime(t *testing.T) {
	local, server, p := serverPair(t, testserver.S3, testserver.Start(t, testserver.S3), "mtime")
	want := fracTime(3)
	bisynctest.Put(t, server, "notes/a.md", "from another device\n", want)
	server.take()
	bisynctest.MustSync(t, p, bisync.Bidirectional)
	e, err := local.Stat(context.Background(), "notes/a.md")
	if err != nil {
		t.Fatal(err)
	}
	if d := e.ModTime.Sub(want).Abs(); d > time.Microsecond {
		t.Errorf("downloaded file's time %v, want %v (the object's)", e.ModTime, want)
	}
	server.take()
	local.take()
	wantQuiet(t, "second run", bisynctest.MustSync(t, p, bisync.Bidirectional), local, server)
}
