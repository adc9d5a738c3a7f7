package rclonefs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/walk"
)

func TestTempTime(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	name := tempNameAt("notes/a.md", at)
	base := filepath.Base(name)
	if !isTempName(base) {
		t.Fatalf("%q is not a temporary name", base)
	}
	if got, ok := tempTime(base); !ok || !got.Equal(at) {
		t.Errorf("tempTime(%q) = %v, %v; want %v", base, got, ok, at)
	}
	for _, base := range []string{".a.md.ferry-0123abcd.partial", "a.md", ".a.md.ferry-0123abcd0123abcdef.partial"} {
		if _, ok := tempTime(base); ok {
			t.Errorf("tempTime(%q) found a time", base)
		}
	}
}

// TestRemoveStaleTemps: the temporary files of uploads a killed run left
// behind are removed once they are a day old, on a local folder and on
// each server; younger ones, which another device may still be writing,
// and those of the older form, which carry no time, stay; no user file is
// touched.
func TestRemoveStaleTemps(t *testing.T) {
	now := time.Now()
	stale, fresh := tempNameAt("d/a.md", now.Add(-staleAfter-time.Hour)), tempNameAt("d/b.md", now.Add(-time.Hour))
	legacy := "d/.c.md.ferry-0123abcd.partial"
	check := func(t *testing.T, r *Replica, names func() []string) {
		t.Helper()
		var listed []string
		if err := r.List(testCtx, func(e backends.Entry) error { listed = append(listed, e.Path); return nil }); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(listed, func(p string) bool { return isTempName(filepath.Base(p)) }) {
			t.Errorf("List reported temporary files: %q", listed)
		}
		n, err := r.RemoveStaleTemps(testCtx)
		if err != nil || n != 1 {
			t.Fatalf("RemoveStaleTemps = %d, %v; want 1, nil", n, err)
		}
		got := names()
		slices.Sort(got)
		want := []string{"d/a.md", fresh, legacy}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("left %q, want %q", got, want)
		}
		if n, err := r.RemoveStaleTemps(testCtx); err != nil || n != 0 {
			t.Errorf("a second RemoveStaleTemps = %d, %v; want 0, nil", n, err)
		}
	}
	t.Run("local", func(t *testing.T) {
		dir := t.TempDir()
		for _, p := range []string{"d/a.md", stale, fresh, legacy} {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		check(t, open(t, dir), func() []string { return filesUnder(t, dir) })
	})
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			r := openServer(t, folder(testserver.Start(t, kind), "temps"))
			for _, p := range []string{"d/a.md", stale, fresh, legacy} {
				if _, err := r.Put(testCtx, p, bytes.NewReader([]byte(p)), backends.Entry{Size: int64(len(p)), ModTime: now}); err != nil {
					t.Fatal(err)
				}
			}
			check(t, r, func() []string {
				var all []string
				for p := range rawNames(t, r) {
					all = append(all, p)
				}
				return all
			})
		})
	}
}

// filesUnder lists the files under dir, temporary ones included.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawNames lists every object under r's root through rclone, temporary
// files included.
func rawNames(t *testing.T, r *Replica) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := walk.ListR(r.with(testCtx), r.f, "", true, -1, walk.ListObjects, func(entries fs.DirEntries) error {
		for _, e := range entries {
			out[e.Remote()] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
