package replicatest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
)

func testCapsConsistent(t *testing.T, r backends.Replica) {
	c := r.Caps()
	if !reflect.DeepEqual(c, r.Caps()) {
		t.Errorf("Caps changed between two calls: %+v, then %+v", c, r.Caps())
	}
	if c.Precision < 0 {
		t.Errorf("negative Precision %v", c.Precision)
	}
	if c.Precision == 0 && (c.SetModTime || c.ListModTime) {
		t.Errorf("Precision 0 means no usable modtimes, but SetModTime=%v ListModTime=%v", c.SetModTime, c.ListModTime)
	}
	seen := make(map[string]bool)
	for _, k := range c.Hashes {
		if k == "" || seen[k] {
			t.Errorf("Hashes %q: empty or repeated kind %q", c.Hashes, k)
		}
		seen[k] = true
	}
	if c.ListHash != "" && !seen[c.ListHash] {
		t.Errorf("ListHash %q is not among Hashes %q", c.ListHash, c.Hashes)
	}
	if s := r.String(); s == "" || s != r.String() {
		t.Errorf("String() = %q, then %q: want a stable, non-empty name", s, r.String())
	}
}

func testPutThenStatAndList(t *testing.T, r backends.Replica) {
	content := []byte("hello, ferry\n")
	e := put(t, r, "a.txt", content, baseTime)
	checkFile(t, r, e, "a.txt", content, baseTime)
	if k := r.Caps().ListHash; k != "" && e.Hash == "" {
		t.Errorf("Caps.ListHash is %q, but Put of a small file of known size returned no hash", k)
	}
	sameEntry(t, "Stat after Put", stat(t, r, "a.txt"), e)
	sameEntry(t, "List after Put", listed(t, r, "a.txt"), e)
	wantContent(t, r, "a.txt", content)
	if n := len(list(t, r)); n != 1 {
		t.Errorf("List reports %d entries after one Put, want 1", n)
	}
}

func testPutModTime(t *testing.T, r backends.Replica) {
	// A time in another zone and one long ago catch replicas that keep
	// local times or only recent ones.
	times := []time.Time{
		baseTime,
		time.Date(2001, 2, 3, 4, 5, 6, 500_000_000, time.UTC),
		baseTime.Add(-90 * 24 * time.Hour).In(time.FixedZone("UTC+5:30", 5*3600+1800)),
	}
	for i, mt := range times {
		p := fmt.Sprintf("t%d.txt", i)
		content := []byte(p)
		e := put(t, r, p, content, mt)
		checkFile(t, r, e, p, content, mt)
		sameEntry(t, "Stat after Put", stat(t, r, p), e)
	}
	// Put of the same content with a new time is how the engine repairs a
	// modtime; where the replica keeps source times, the new one must win.
	later := baseTime.Add(time.Hour)
	e := put(t, r, "t0.txt", []byte("t0.txt"), later)
	checkFile(t, r, e, "t0.txt", []byte("t0.txt"), later)
	sameEntry(t, "List after second Put", listed(t, r, "t0.txt"), e)
}

func testPutEmptyFile(t *testing.T, r backends.Replica) {
	e := put(t, r, "empty", nil, baseTime)
	checkFile(t, r, e, "empty", nil, baseTime)
	sameEntry(t, "List after Put", listed(t, r, "empty"), e)
	wantContent(t, r, "empty", nil)
	for _, k := range r.Caps().Hashes {
		if want, ok := localHash(k, nil); ok {
			if got := hashOf(t, r, "empty", k); got != want {
				t.Errorf("%s of an empty file: got %q, want %q", k, got, want)
			}
		}
	}
}

func testPutUnknownSize(t *testing.T, r backends.Replica) {
	content := []byte("a source that does not know its size")
	src := backends.Entry{Path: "unknown", Size: -1, ModTime: baseTime}
	e, err := r.Put(t.Context(), "unknown", onlyReader{bytes.NewReader(content)}, src)
	if err != nil {
		t.Fatalf("Put with Size -1: %v", err)
	}
	checkFile(t, r, e, "unknown", content, baseTime)
	sameEntry(t, "Stat after Put", stat(t, r, "unknown"), e)
	wantContent(t, r, "unknown", content)
}

func testPutNested(t *testing.T, r backends.Replica) {
	paths := []string{"a/b/c.txt", "a/b/d.txt", "a/e.txt"}
	for _, p := range paths {
		content := []byte("in " + p)
		e := put(t, r, p, content, baseTime)
		checkFile(t, r, e, p, content, baseTime)
	}
	m := list(t, r)
	wantFiles(t, m, paths...)
	for _, p := range paths {
		wantContent(t, r, p, []byte("in "+p))
	}
	if !r.Caps().Dirs {
		return
	}
	for _, d := range []string{"a", "a/b"} {
		if !m[d].Dir {
			t.Errorf("List reports %q as %+v, want a directory", d, m[d])
		}
		if e := stat(t, r, d); !e.Dir {
			t.Errorf("Stat(%q) = %+v, want a directory", d, e)
		}
	}
}

func testPutReplaces(t *testing.T, r backends.Replica) {
	put(t, r, "f.txt", []byte("the first version, rather long"), baseTime)
	second := []byte("second")
	later := baseTime.Add(time.Minute)
	e := put(t, r, "f.txt", second, later)
	checkFile(t, r, e, "f.txt", second, later)
	sameEntry(t, "List after replacing Put", listed(t, r, "f.txt"), e)
	wantContent(t, r, "f.txt", second)
	wantFiles(t, list(t, r), "f.txt")
}

func testPutFailingReaderKeepsOld(t *testing.T, r backends.Replica) {
	old := []byte("the old content")
	put(t, r, "f.txt", old, baseTime)
	before := list(t, r)
	oldEntry := stat(t, r, "f.txt")

	newContent := bytes.Repeat([]byte("new content "), 10_000)
	src := backends.Entry{Path: "f.txt", Size: int64(len(newContent)), ModTime: baseTime.Add(time.Hour)}
	_, err := r.Put(t.Context(), "f.txt", &failingReader{data: newContent[:len(newContent)/2]}, src)
	if err == nil {
		t.Fatal("Put with a reader that failed half way returned no error")
	}
	wantContent(t, r, "f.txt", old)
	sameEntry(t, "Stat after failed Put", stat(t, r, "f.txt"), oldEntry)
	sameListing(t, "List after failed Put", list(t, r), before)
}

func testPutFailingReaderCreatesNothing(t *testing.T, r backends.Replica) {
	for _, size := range []int64{1000, -1} {
		src := backends.Entry{Path: "new.txt", Size: size, ModTime: baseTime}
		_, err := r.Put(t.Context(), "new.txt", &failingReader{data: make([]byte, 500)}, src)
		if err == nil {
			t.Fatalf("Put (size %d) with a reader that failed half way returned no error", size)
		}
		_, err = r.Stat(t.Context(), "new.txt")
		wantNotFound(t, "Stat after failed Put", err)
		if m := list(t, r); len(m) != 0 {
			t.Errorf("List after failed Put (size %d) reports %v, want nothing", size, slices.Sorted(maps.Keys(m)))
		}
	}
}

func testNotFound(t *testing.T, r backends.Replica) {
	ctx := t.Context()
	put(t, r, "present/x.txt", []byte("x"), baseTime)
	for _, p := range []string{"missing.txt", "present/missing.txt", "no/such/dir/file.txt"} {
		_, err := r.Stat(ctx, p)
		wantNotFound(t, "Stat("+p+")", err)
		rc, err := r.Open(ctx, p)
		if err == nil {
			rc.Close()
		}
		wantNotFound(t, "Open("+p+")", err)
		wantNotFound(t, "Delete("+p+")", r.Delete(ctx, p))
		_, err = r.Move(ctx, p, "moved.txt")
		wantNotFound(t, "Move("+p+")", err)
		for _, k := range r.Caps().Hashes {
			_, err = r.Hash(ctx, p, k)
			wantNotFound(t, "Hash("+p+", "+k+")", err)
		}
	}
	_, err := r.Stat(ctx, "moved.txt")
	wantNotFound(t, "Stat of the target of a failed Move", err)
}

func testDelete(t *testing.T, r backends.Replica) {
	ctx := t.Context()
	put(t, r, "d/a.txt", []byte("a"), baseTime)
	put(t, r, "d/b.txt", []byte("b"), baseTime)
	if err := r.Delete(ctx, "d/a.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := r.Stat(ctx, "d/a.txt")
	wantNotFound(t, "Stat after Delete", err)
	wantFiles(t, list(t, r), "d/b.txt")
	wantContent(t, r, "d/b.txt", []byte("b"))
	wantNotFound(t, "second Delete", r.Delete(ctx, "d/a.txt"))
}

func testMove(t *testing.T, r backends.Replica) {
	ctx := t.Context()
	content := []byte("moving content")
	put(t, r, "a.txt", content, baseTime)
	put(t, r, "d/other.txt", []byte("other"), baseTime)
	e, err := r.Move(ctx, "a.txt", "d/b.txt")
	if err != nil {
		t.Fatalf("Move: %v", err)
	}
	checkMoved(t, r, e, "d/b.txt", content)
	_, err = r.Stat(ctx, "a.txt")
	wantNotFound(t, "Stat of the source after Move", err)
	wantFiles(t, list(t, r), "d/b.txt", "d/other.txt")
}

func testMoveReplaces(t *testing.T, r backends.Replica) {
	ctx := t.Context()
	content := []byte("the new content")
	put(t, r, "a.txt", content, baseTime)
	put(t, r, "b.txt", []byte("old, to be replaced"), baseTime)
	e, err := r.Move(ctx, "a.txt", "b.txt")
	if err != nil {
		t.Fatalf("Move over an existing file: %v", err)
	}
	checkMoved(t, r, e, "b.txt", content)
	_, err = r.Stat(ctx, "a.txt")
	wantNotFound(t, "Stat of the source after Move", err)
	wantFiles(t, list(t, r), "b.txt")
}

// checkMoved checks the entry Move returned. Whether a move keeps the
// modification time is not part of the contract, so only the listing's
// agreement is checked for it.
func checkMoved(t *testing.T, r backends.Replica, e backends.Entry, to string, content []byte) {
	t.Helper()
	if e.Path != to || e.Dir || e.Size != int64(len(content)) {
		t.Errorf("Move returned %+v, want file %q of %d bytes", e, to, len(content))
	}
	if k := r.Caps().ListHash; k != "" {
		if want, ok := localHash(k, content); ok && e.Hash != "" && e.Hash != want {
			t.Errorf("Move returned %s %q, want %q", k, e.Hash, want)
		}
	}
	sameEntry(t, "Stat after Move", stat(t, r, to), e)
	sameEntry(t, "List after Move", listed(t, r, to), e)
	wantContent(t, r, to, content)
}

// wantFiles checks that the listing holds exactly these files.
func wantFiles(t *testing.T, m map[string]backends.Entry, paths ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(files(m)))
	want := slices.Sorted(slices.Values(paths))
	if !slices.Equal(got, want) {
		t.Errorf("List reports files %q, want %q", got, want)
	}
}

// sameListing checks that two listings report the same entries.
func sameListing(t *testing.T, what string, got, want map[string]backends.Entry) {
	t.Helper()
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Errorf("%s: paths %q, want %q", what, g, w)
		return
	}
	for p, e := range want {
		sameEntry(t, what, got[p], e)
	}
}

var errBroken = errors.New("replicatest: source broke off")

// failingReader yields data, then fails, like a download cut off.
type failingReader struct{ data []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, errBroken
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// onlyReader hides every method but Read (Len, Seek, WriterTo), as a network
// stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
