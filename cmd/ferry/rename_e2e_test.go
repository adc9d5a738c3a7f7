package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenamedFolderEndToEnd: a folder of attachments renamed on path1 is
// renamed on path2 by the real binary on real folders; the summary says so,
// and the run is not stopped as a mass deletion.
func TestRenamedFolderEndToEnd(t *testing.T) {
	e := newEnv(t)
	for i := range 12 {
		write(t, e.p1, fmt.Sprintf("attachments/img%02d.png", i), strings.Repeat(fmt.Sprint(i), 1000))
	}
	write(t, e.p1, "note.md", "see the attachments\n")
	e.sync()
	if err := os.Rename(filepath.Join(e.p1, "attachments"), filepath.Join(e.p1, "media")); err != nil {
		t.Fatal(err)
	}
	out := e.sync()
	if !strings.Contains(out, "12 renamed") {
		t.Errorf("the summary does not report 12 renames:\n%s", out)
	}
	if got, want := tree(t, e.p2), tree(t, e.p1); !maps.Equal(got, want) {
		t.Errorf("path2 = %v, want %v", got, want)
	}
	if out := e.sync("--dry-run"); !strings.Contains(out, "in sync, nothing to do") {
		t.Errorf("the run after the rename is not in sync:\n%s", out)
	}
}
