// Package replicatest is the conformance suite every backends.Replica must
// pass: it checks the contracts documented in package backends, reading the
// replica's Caps to know what to expect, so that the engine can rely on the
// same behaviour from the in-memory replica and from rclone's backends. It
// uses only the standard library, so any backend's tests can run it.
package replicatest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
)

// Run runs the suite, one subtest per contract. newReplica must return a
// fresh, empty replica for each subtest (its root need not exist yet; the
// first listing then checks that a missing root lists empty) and register
// its cleanup with t.Cleanup. Replicas it returns may share one storage
// account, so that Copier.CopyFrom between two of them can be tested.
func Run(t *testing.T, newReplica func(t *testing.T) backends.Replica) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r backends.Replica)
	}{
		{"CapsConsistent", testCapsConsistent},
		{"ListEmpty", testListEmpty},
		{"PutThenStatAndList", testPutThenStatAndList},
		{"PutModTime", testPutModTime},
		{"PutEmptyFile", testPutEmptyFile},
		{"PutUnknownSize", testPutUnknownSize},
		{"PutNested", testPutNested},
		{"PutReplaces", testPutReplaces},
		{"PutFailingReaderKeepsOld", testPutFailingReaderKeepsOld},
		{"PutFailingReaderCreatesNothing", testPutFailingReaderCreatesNothing},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"Move", testMove},
		{"MoveReplaces", testMoveReplaces},
		{"Hashes", testHashes},
		{"HashUnsupported", testHashUnsupported},
		{"Mkdir", testMkdir},
		{"MkdirNested", testMkdirNested},
		{"MkdirOverFile", testMkdirOverFile},
		{"Rmdir", testRmdir},
		{"RmdirNotEmpty", testRmdirNotEmpty},
		{"NoDirsKeepsNoEmptyDir", testNoDirsKeepsNoEmptyDir},
		{"UnicodeNames", testUnicodeNames},
		{"CaseSensitivity", testCaseSensitivity},
		{"LargeFile", testLargeFile},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ListFnError", testListFnError},
		{"ListNotConcurrent", testListNotConcurrent},
		{"ListSortedOrder", testListSortedOrder},
		{"CopyFromSelf", testCopyFromSelf},
		{"CopyFromOther", func(t *testing.T, r backends.Replica) {
			testCopyFromOther(t, newReplica(t), r)
		}},
		{"CopyFromForeign", testCopyFromForeign},
		{"CopyFromMissing", testCopyFromMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newReplica(t)) })
	}
}

// baseTime is a source modification time with a fractional second, so that
// truncation to any precision shows.
var baseTime = time.Date(2023, 4, 5, 6, 7, 8, 912345678, time.UTC)

// put writes content at path with modification time mtime and fails the test
// on error.
func put(t *testing.T, r backends.Replica, path string, content []byte, mtime time.Time) backends.Entry {
	t.Helper()
	src := backends.Entry{Path: path, Size: int64(len(content)), ModTime: mtime}
	e, err := r.Put(t.Context(), path, bytes.NewReader(content), src)
	if err != nil {
		t.Fatalf("Put(%q): %v", path, err)
	}
	return e
}

// read returns the content of path and fails the test on error.
func read(t *testing.T, r backends.Replica, path string) []byte {
	t.Helper()
	rc, err := r.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", path, err)
	}
	return b
}

func wantContent(t *testing.T, r backends.Replica, path string, want []byte) {
	t.Helper()
	if got := read(t, r, path); !bytes.Equal(got, want) {
		t.Errorf("content of %q: got %d bytes %.40q, want %d bytes %.40q", path, len(got), got, len(want), want)
	}
}

func stat(t *testing.T, r backends.Replica, path string) backends.Entry {
	t.Helper()
	e, err := r.Stat(t.Context(), path)
	if err != nil {
		t.Fatalf("Stat(%q): %v", path, err)
	}
	return e
}

// list returns the listing by path, failing the test on an error, an
// invalid path or a path reported twice.
func list(t *testing.T, r backends.Replica) map[string]backends.Entry {
	t.Helper()
	m := make(map[string]backends.Entry)
	sorted, lastFile := r.Caps().ListSorted, ""
	err := r.List(t.Context(), func(e backends.Entry) error {
		if e.Path == "." || !fs.ValidPath(e.Path) {
			t.Errorf("List reported invalid path %q", e.Path)
		}
		if sorted && !e.Dir {
			if lastFile != "" && e.Path <= lastFile {
				t.Errorf("List reported file %q after %q, although Caps.ListSorted promises path order", e.Path, lastFile)
			}
			lastFile = e.Path
		}
		if _, dup := m[e.Path]; dup {
			t.Errorf("List reported %q twice", e.Path)
		}
		if e.Dir && e.Hash != "" {
			t.Errorf("List reported directory %q with hash %q", e.Path, e.Hash)
		}
		m[e.Path] = e
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return m
}

// files returns the paths of the files in the listing.
func files(m map[string]backends.Entry) map[string]bool {
	out := make(map[string]bool)
	for p, e := range m {
		if !e.Dir {
			out[p] = true
		}
	}
	return out
}

// listed returns path's entry in a fresh listing and fails the test if it
// is not there.
func listed(t *testing.T, r backends.Replica, path string) backends.Entry {
	t.Helper()
	e, ok := list(t, r)[path]
	if !ok {
		t.Fatalf("List does not report %q", path)
	}
	return e
}

// sameEntry checks that two reports of one path agree exactly: the engine
// stores what Put returns and compares it with the next listing, so any
// difference would look like a change.
func sameEntry(t *testing.T, what string, got, want backends.Entry) {
	t.Helper()
	if got.Path != want.Path || got.Dir != want.Dir || got.Size != want.Size ||
		!got.ModTime.Equal(want.ModTime) || got.Hash != want.Hash {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

// checkFile checks an entry reported for a file just written with content
// and source time mtime, against what the replica's Caps promise.
func checkFile(t *testing.T, r backends.Replica, e backends.Entry, path string, content []byte, mtime time.Time) {
	t.Helper()
	c := r.Caps()
	if e.Path != path || e.Dir || e.Size != int64(len(content)) {
		t.Errorf("entry %+v: want file %q of %d bytes", e, path, len(content))
	}
	switch {
	case !c.ListModTime && !e.ModTime.IsZero():
		t.Errorf("%q: ModTime %v, but Caps.ListModTime is false", path, e.ModTime)
	case c.ListModTime && e.ModTime.IsZero():
		t.Errorf("%q: zero ModTime, but Caps.ListModTime is true", path)
	case c.SetModTime && c.ListModTime && !withinPrecision(e.ModTime, mtime, c.Precision):
		t.Errorf("%q: ModTime %v, want %v within %v", path, e.ModTime, mtime, c.Precision)
	}
	if c.ListHash == "" {
		if e.Hash != "" {
			t.Errorf("%q: Hash %q, but Caps.ListHash is empty", path, e.Hash)
		}
		return
	}
	// An entry may lack the hash even so (rclone's S3 has no md5 in the
	// ETag of a multipart upload); testPutThenStatAndList checks that the
	// common case has it.
	if e.Hash == "" {
		return
	}
	if want, ok := localHash(c.ListHash, content); ok && e.Hash != want {
		t.Errorf("%q: listed %s %q, want %q", path, c.ListHash, e.Hash, want)
	}
	if !isLowerHex(e.Hash) {
		t.Errorf("%q: listed hash %q is not lower-case hex", path, e.Hash)
	}
}

func withinPrecision(got, want time.Time, p time.Duration) bool {
	d := got.Sub(want)
	return -p <= d && d <= p
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("%s: got error %v, want one wrapping backends.ErrNotFound", what, err)
	}
}

// needDirs skips a test of directories on a replica that has none.
func needDirs(t *testing.T, r backends.Replica) {
	t.Helper()
	if !r.Caps().Dirs {
		t.Skip("replica keeps no directories (Caps.Dirs is false)")
	}
}
