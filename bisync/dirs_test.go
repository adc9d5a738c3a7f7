package bisync_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

func TestCreateEmptySrcDirs(t *testing.T) {
	r1, r2, p := newPair(t)
	withDirs := func(o *bisync.Options) { o.CreateEmptySrcDirs = true }
	if err := r1.Mkdir(t.Context(), "empty/inner"); err != nil {
		t.Fatal(err)
	}
	r2.WriteFile("full/a.md", []byte("a"), t0)
	sync(t, p, withDirs)
	want := []string{"empty", "empty/inner", "full"}
	for i, r := range []*mem.Replica{r1, r2} {
		if got := userDirs(r); !reflect.DeepEqual(got, want) {
			t.Errorf("path%d dirs = %v, want %v", i+1, got, want)
		}
	}
	// Deleting the empty directory on one side deletes it on the other.
	if err := r2.Rmdir(t.Context(), "empty/inner"); err != nil {
		t.Fatal(err)
	}
	sync(t, p, withDirs)
	want = []string{"empty", "full"}
	if got := userDirs(r1); !reflect.DeepEqual(got, want) {
		t.Errorf("path1 dirs after removal on path2 = %v, want %v", got, want)
	}
	if res := sync(t, p, withDirs); len(res.Plan) != 0 {
		t.Errorf("third run plans %v", planOps(res))
	}
}

// TestDirectoryDeletedButRefilled: a directory deleted on one side while the
// other side added a file to it is not removed; the file travels instead.
func TestDirectoryDeletedButRefilled(t *testing.T) {
	r1, r2, p := newPair(t)
	withDirs := func(o *bisync.Options) { o.CreateEmptySrcDirs = true }
	if err := r1.Mkdir(t.Context(), "d"); err != nil {
		t.Fatal(err)
	}
	sync(t, p, withDirs)
	if err := r1.Rmdir(t.Context(), "d"); err != nil {
		t.Fatal(err)
	}
	r2.WriteFile("d/new.md", []byte("new"), t0)
	sync(t, p, withDirs)
	if got, err := r1.ReadFile("d/new.md"); err != nil || string(got) != "new" {
		t.Errorf("path1 d/new.md = %q, %v; want the new file", got, err)
	}
}

func TestRemoveEmptyDirs(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a/b/c.md", []byte("c"), t0)
	r1.WriteFile("a/keep.md", []byte("k"), t0)
	sync(t, p, nil)
	r1.Remove("a/b/c.md")
	sync(t, p, func(o *bisync.Options) { o.RemoveEmptyDirs = true })
	for i, r := range []*mem.Replica{r1, r2} {
		if got, want := userDirs(r), []string{"a"}; !reflect.DeepEqual(got, want) {
			t.Errorf("path%d dirs = %v, want %v", i+1, got, want)
		}
	}
}

// TestCompareChecksum: with --compare checksum, an edit that keeps size and
// modification time is still found.
func TestCompareChecksum(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("aaaa"), t0)
	sync(t, p, nil)
	r1.WriteFile("a.md", []byte("bbbb"), t0)
	if res := sync(t, p, nil); len(res.Plan) != 0 {
		t.Fatalf("size,modtime compare saw the hidden edit: %v", planOps(res))
	}
	sync(t, p, func(o *bisync.Options) { o.Compare = bisync.Compare{ModTime: true, Checksum: true} })
	if got, _ := r2.ReadFile("a.md"); string(got) != "bbbb" {
		t.Errorf("path2 a.md = %q after a checksum run, want the edit", got)
	}
}

// userDirs are the directories of a replica without ferry's own.
func userDirs(r *mem.Replica) []string {
	var out []string
	for _, d := range r.Dirs() {
		if d != ".ferry" && !strings.HasPrefix(d, ".ferry/") {
			out = append(out, d)
		}
	}
	return out
}
