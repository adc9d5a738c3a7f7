package mem_test

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/backends/replicatest"
)

func TestConformance(t *testing.T) {
	shared := mem.NewSpace()
	cases := []struct {
		name string
		opts []mem.Option
	}{
		{"Default", nil},
		{"Seconds", []mem.Option{mem.Precision(time.Second)}},
		{"SecondsNoSetModTime", []mem.Option{mem.Precision(time.Second), mem.NoSetModTime()}},
		{"ListHashMD5", []mem.Option{mem.ListHash("md5")}},
		{"CaseInsensitive", []mem.Option{mem.CaseInsensitive()}},
		{"NoDirs", []mem.Option{mem.NoDirs()}},
		{"SortedList", []mem.Option{mem.SortedList()}},
		{"NoModTimesNoHashes", []mem.Option{mem.Precision(0), mem.Hashes()}},
		{"SharedSpace", []mem.Option{mem.InSpace(shared), mem.Hashes("sha1", "md5", "sha256"), mem.ListHash("sha1")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			replicatest.Run(t, func(t *testing.T) backends.Replica {
				return mem.New(t.Name(), c.opts...)
			})
		})
	}
}

var (
	t0  = time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	now = time.Date(2025, 6, 7, 8, 9, 10, 111_000_000, time.UTC)
)

func fixedClock() time.Time { return now }

func put(t *testing.T, r *mem.Replica, path, content string, mtime time.Time) backends.Entry {
	t.Helper()
	e, err := r.Put(t.Context(), path, strings.NewReader(content), backends.Entry{Path: path, Size: int64(len(content)), ModTime: mtime})
	if err != nil {
		t.Fatalf("Put(%q): %v", path, err)
	}
	return e
}

func TestCaseInsensitiveKeepsFirstCase(t *testing.T) {
	r := mem.New("ci", mem.CaseInsensitive())
	r.WriteFile("Notes/A.md", []byte("one"), t0)
	e := put(t, r, "notes/a.md", "two", t0)
	if e.Path != "Notes/A.md" {
		t.Errorf("Put over a name differing in case returned path %q, want the first-written Notes/A.md", e.Path)
	}
	put(t, r, "NOTES/b.md", "b", t0)
	want := map[string]string{"Notes/A.md": "two", "Notes/b.md": "b"}
	if got := r.Files(); !maps.Equal(got, want) {
		t.Errorf("Files() = %v, want %v", got, want)
	}
	if got := r.Dirs(); !slices.Equal(got, []string{"Notes"}) {
		t.Errorf("Dirs() = %q, want [Notes]", got)
	}
	if _, err := r.Stat(t.Context(), "NOTES/A.MD"); err != nil {
		t.Errorf("Stat in another case: %v", err)
	}
}

func TestCaseInsensitiveCaseOnlyRename(t *testing.T) {
	r := mem.New("ci", mem.CaseInsensitive())
	r.WriteFile("Dir/readme.md", []byte("x"), t0)
	e, err := r.Move(t.Context(), "dir/readme.md", "DIR/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if e.Path != "Dir/README.md" {
		t.Errorf("case-only rename gave %q, want Dir/README.md (the directory keeps its case)", e.Path)
	}
	if got := r.Files(); !maps.Equal(got, map[string]string{"Dir/README.md": "x"}) {
		t.Errorf("Files() = %v", got)
	}
}

func TestCaseSensitiveByDefault(t *testing.T) {
	r := mem.New("cs")
	put(t, r, "A.md", "upper", t0)
	put(t, r, "a.md", "lower", t0)
	if n := len(r.Files()); n != 2 {
		t.Errorf("%d files, want 2", n)
	}
}

func TestPrecisionTruncates(t *testing.T) {
	r := mem.New("p", mem.Precision(time.Second))
	e := put(t, r, "f", "x", t0)
	want := t0.Truncate(time.Second)
	if !e.ModTime.Equal(want) {
		t.Errorf("Put returned ModTime %v, want %v", e.ModTime, want)
	}
	s, err := r.Stat(t.Context(), "f")
	if err != nil || !s.ModTime.Equal(want) {
		t.Errorf("Stat = %+v, %v; want ModTime %v", s, err, want)
	}
	r.WriteFile("g", []byte("y"), t0)
	if s, _ := r.Stat(t.Context(), "g"); !s.ModTime.Equal(want) {
		t.Errorf("WriteFile kept %v, want %v", s.ModTime, want)
	}
}

func TestPrecisionZeroKeepsNoModTimes(t *testing.T) {
	r := mem.New("p0", mem.Precision(0))
	if c := r.Caps(); c.SetModTime || c.ListModTime || c.Precision != 0 {
		t.Errorf("Caps = %+v, want no modtimes", c)
	}
	if e := put(t, r, "f", "x", t0); !e.ModTime.IsZero() {
		t.Errorf("Put returned ModTime %v, want zero", e.ModTime)
	}
}

func TestNoSetModTimeStampsClock(t *testing.T) {
	r := mem.New("dav", mem.Precision(time.Second), mem.NoSetModTime(), mem.Clock(fixedClock))
	if c := r.Caps(); c.SetModTime || !c.ListModTime {
		t.Errorf("Caps = %+v, want ListModTime without SetModTime", c)
	}
	want := now.Truncate(time.Second)
	if e := put(t, r, "f", "x", t0); !e.ModTime.Equal(want) {
		t.Errorf("Put returned ModTime %v, want the clock's %v", e.ModTime, want)
	}
	// WriteFile stands for a user's edit, whose time the test chooses.
	r.WriteFile("g", []byte("y"), t0)
	if s, _ := r.Stat(t.Context(), "g"); !s.ModTime.Equal(t0.Truncate(time.Second)) {
		t.Errorf("WriteFile kept %v, want %v", s.ModTime, t0.Truncate(time.Second))
	}
}

func TestZeroSourceModTimeStampsClock(t *testing.T) {
	r := mem.New("m", mem.Clock(fixedClock))
	if e := put(t, r, "f", "x", time.Time{}); !e.ModTime.Equal(now) {
		t.Errorf("ModTime %v, want the clock's %v", e.ModTime, now)
	}
}

func TestListHash(t *testing.T) {
	r := mem.New("s3", mem.ListHash("md5"), mem.Hashes("sha1"))
	if c := r.Caps(); c.ListHash != "md5" || !slices.Equal(c.Hashes, []string{"sha1", "md5"}) {
		t.Errorf("Caps = %+v, want ListHash md5 and Hashes [sha1 md5]", c)
	}
	const md5OfX = "9dd4e461268c8034f5c8564e155c67a6"
	if e := put(t, r, "f", "x", t0); e.Hash != md5OfX {
		t.Errorf("Put returned hash %q, want %q", e.Hash, md5OfX)
	}
	if r.Calls("Hash") != 0 {
		t.Error("listing a hash counted a Hash call")
	}
}

func TestNoHashes(t *testing.T) {
	r := mem.New("h", mem.Hashes())
	put(t, r, "f", "x", t0)
	if _, err := r.Hash(t.Context(), "f", "md5"); !errors.Is(err, backends.ErrHashUnsupported) {
		t.Errorf("Hash = %v, want ErrHashUnsupported", err)
	}
}

func TestNoDirsPrunesEmptyParents(t *testing.T) {
	r := mem.New("s3", mem.NoDirs())
	ctx := t.Context()
	put(t, r, "a/b/c.txt", "c", t0)
	put(t, r, "a/d.txt", "d", t0)
	if got := r.Dirs(); !slices.Equal(got, []string{"a", "a/b"}) {
		t.Errorf("Dirs() = %q, want the implied [a a/b]", got)
	}
	if err := r.Rmdir(ctx, "a"); err == nil {
		t.Error("Rmdir of a prefix holding files returned no error")
	}
	if err := r.Delete(ctx, "a/b/c.txt"); err != nil {
		t.Fatal(err)
	}
	if got := r.Dirs(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Dirs() after Delete = %q, want [a]", got)
	}
	if _, err := r.Move(ctx, "a/d.txt", "e.txt"); err != nil {
		t.Fatal(err)
	}
	if got := r.Dirs(); len(got) != 0 {
		t.Errorf("Dirs() after Move = %q, want none", got)
	}
	if err := r.Mkdir(ctx, "x"); err != nil || len(r.Dirs()) != 0 {
		t.Errorf("Mkdir = %v and Dirs() = %q, want a no-op", err, r.Dirs())
	}
}

func TestDirsKeptAfterDelete(t *testing.T) {
	r := mem.New("local")
	put(t, r, "a/b.txt", "b", t0)
	if err := r.Delete(t.Context(), "a/b.txt"); err != nil {
		t.Fatal(err)
	}
	if got := r.Dirs(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Dirs() = %q, want [a]: a local disk keeps the emptied directory", got)
	}
}

func TestCallCounters(t *testing.T) {
	r := mem.New("c")
	ctx := t.Context()
	r.WriteFile("f", []byte("x"), t0) // helpers are not counted
	for range 2 {
		if err := r.List(ctx, func(backends.Entry) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = r.Stat(ctx, "missing") // failed calls count too
	for method, want := range map[string]int{"List": 2, "Stat": 1, "Open": 0, "Hash": 0, "Put": 0} {
		if got := r.Calls(method); got != want {
			t.Errorf("Calls(%q) = %d, want %d", method, got, want)
		}
	}
	r.ResetCalls()
	if got := r.Calls("List"); got != 0 {
		t.Errorf("Calls(List) after ResetCalls = %d", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Calls of an unknown method did not panic")
		}
	}()
	r.Calls("open")
}

func TestPutSizeMismatchChangesNothing(t *testing.T) {
	r := mem.New("m")
	r.WriteFile("f", []byte("old"), t0)
	_, err := r.Put(t.Context(), "f", strings.NewReader("new!"), backends.Entry{Size: 10})
	if err == nil {
		t.Fatal("Put of 4 bytes announced as 10 returned no error")
	}
	if b, _ := r.ReadFile("f"); string(b) != "old" {
		t.Errorf("content %q, want old", b)
	}
}

func TestPutUnderFileFails(t *testing.T) {
	r := mem.New("m")
	r.WriteFile("f", []byte("x"), t0)
	if _, err := r.Put(t.Context(), "f/g", strings.NewReader("y"), backends.Entry{Size: 1}); err == nil {
		t.Error("Put under a file returned no error")
	}
	if _, err := r.Put(t.Context(), "f", strings.NewReader("y"), backends.Entry{Size: 1}); err != nil {
		t.Errorf("Put over the file: %v", err)
	}
}

func TestInvalidPaths(t *testing.T) {
	r := mem.New("m")
	for _, p := range []string{"", ".", "/a", "a/", "a//b", "a/../b", "./a"} {
		if _, err := r.Stat(t.Context(), p); err == nil || errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want an invalid-path error", p, err)
		}
	}
}

func TestCopyFromSpaces(t *testing.T) {
	ctx := t.Context()
	space := mem.NewSpace()
	a := mem.New("a", mem.InSpace(space))
	b := mem.New("b", mem.InSpace(space))
	alone := mem.New("alone")
	a.WriteFile("f", []byte("x"), t0)

	e, err := b.CopyFrom(ctx, a, "f", "g")
	if err != nil {
		t.Fatalf("CopyFrom within a Space: %v", err)
	}
	if !e.ModTime.Equal(t0) {
		t.Errorf("copy has ModTime %v, want the source's %v", e.ModTime, t0)
	}
	if _, err := alone.CopyFrom(ctx, a, "f", "g"); !errors.Is(err, backends.ErrCannotCopy) {
		t.Errorf("CopyFrom across Spaces = %v, want ErrCannotCopy", err)
	}
	if _, err := alone.CopyFrom(ctx, alone, "missing", "g"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("CopyFrom of a missing file = %v, want ErrNotFound", err)
	}
	if n := len(alone.Files()); n != 0 {
		t.Errorf("failed copies left %d files", n)
	}
	if a.Calls("Open") != 0 || b.Calls("CopyFrom") != 1 {
		t.Error("a server-side copy should count one CopyFrom on the destination and no Open")
	}
}

func TestOpenReaderUnaffectedByLaterPut(t *testing.T) {
	r := mem.New("m")
	r.WriteFile("f", []byte("before"), t0)
	rc, err := r.Open(t.Context(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	put(t, r, "f", "after", t0)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil || buf.String() != "before" {
		t.Errorf("open reader read %q, %v; want the content as it was at Open", buf.String(), err)
	}
}

func TestRemoveTree(t *testing.T) {
	r := mem.New("m")
	r.WriteFile("keep.txt", []byte("k"), t0)
	r.WriteFile("d/a.txt", []byte("a"), t0)
	r.WriteFile("d/e/b.txt", []byte("b"), t0)
	r.Remove("d")
	r.Remove("missing")
	if got := r.Files(); !maps.Equal(got, map[string]string{"keep.txt": "k"}) {
		t.Errorf("Files() = %v", got)
	}
	if got := r.Dirs(); len(got) != 0 {
		t.Errorf("Dirs() = %q", got)
	}
	if _, err := r.ReadFile("d/a.txt"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("ReadFile of a removed file = %v, want ErrNotFound", err)
	}
}

func TestString(t *testing.T) {
	if s := mem.New("left").String(); s != "mem:left" {
		t.Errorf("String() = %q", s)
	}
}
