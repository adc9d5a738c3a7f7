package replicatest

import (
	"testing"

	"github.com/ferry-sync/ferry/backends"
)

func testMkdir(t *testing.T, r backends.Replica) {
	needDirs(t, r)
	ctx := t.Context()
	if err := r.Mkdir(ctx, "d"); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	if e := listed(t, r, "d"); !e.Dir {
		t.Errorf("List reports %+v after Mkdir, want a directory", e)
	}
	if e := stat(t, r, "d"); !e.Dir {
		t.Errorf("Stat reports %+v after Mkdir, want a directory", e)
	}
	if err := r.Mkdir(ctx, "d"); err != nil {
		t.Errorf("Mkdir of an existing directory: %v", err)
	}
	put(t, r, "d/f.txt", []byte("f"), baseTime)
	m := list(t, r)
	wantFiles(t, m, "d/f.txt")
	if len(m) != 2 || !m["d"].Dir {
		t.Errorf("List reports %v, want directory d and file d/f.txt", m)
	}
}

func testMkdirNested(t *testing.T, r backends.Replica) {
	needDirs(t, r)
	if err := r.Mkdir(t.Context(), "a/b/c"); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	m := list(t, r)
	if len(m) != 3 {
		t.Errorf("List reports %v, want a, a/b and a/b/c", m)
	}
	for _, d := range []string{"a", "a/b", "a/b/c"} {
		if !m[d].Dir {
			t.Errorf("List reports %q as %+v, want a directory", d, m[d])
		}
	}
}

func testMkdirOverFile(t *testing.T, r backends.Replica) {
	needDirs(t, r)
	put(t, r, "f", []byte("a file"), baseTime)
	if err := r.Mkdir(t.Context(), "f"); err == nil {
		t.Error("Mkdir over a file returned no error")
	}
	if err := r.Mkdir(t.Context(), "f/sub"); err == nil {
		t.Error("Mkdir under a file returned no error")
	}
	wantContent(t, r, "f", []byte("a file"))
}

func testRmdir(t *testing.T, r backends.Replica) {
	needDirs(t, r)
	ctx := t.Context()
	if err := r.Mkdir(ctx, "d/e"); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	if err := r.Rmdir(ctx, "d/e"); err != nil {
		t.Fatalf("Rmdir: %v", err)
	}
	_, err := r.Stat(ctx, "d/e")
	wantNotFound(t, "Stat after Rmdir", err)
	if m := list(t, r); len(m) != 1 || !m["d"].Dir {
		t.Errorf("List after Rmdir of d/e reports %v, want only directory d", m)
	}
	if err := r.Rmdir(ctx, "d"); err != nil {
		t.Fatalf("Rmdir: %v", err)
	}
	if m := list(t, r); len(m) != 0 {
		t.Errorf("List after Rmdir of everything reports %v", m)
	}
	if err := r.Rmdir(ctx, "d"); err == nil {
		t.Error("Rmdir of a missing directory returned no error")
	}
}

func testRmdirNotEmpty(t *testing.T, r backends.Replica) {
	needDirs(t, r)
	put(t, r, "d/f.txt", []byte("keep me"), baseTime)
	if err := r.Rmdir(t.Context(), "d"); err == nil {
		t.Error("Rmdir of a directory holding a file returned no error")
	}
	wantContent(t, r, "d/f.txt", []byte("keep me"))
}

func testNoDirsKeepsNoEmptyDir(t *testing.T, r backends.Replica) {
	if r.Caps().Dirs {
		t.Skip("replica keeps directories (Caps.Dirs is true)")
	}
	if err := r.Mkdir(t.Context(), "empty"); err != nil {
		t.Fatalf("Mkdir on a replica without directories: %v", err)
	}
	if m := list(t, r); len(m) != 0 {
		t.Errorf("List reports %v after Mkdir, but Caps.Dirs says empty directories cannot exist", m)
	}
	put(t, r, "empty/f.txt", []byte("f"), baseTime)
	wantFiles(t, list(t, r), "empty/f.txt")
}
