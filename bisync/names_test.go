package bisync_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// TestCaseClashIsNeverAnOverwrite: Note.md and note.md on a case-sensitive
// side cannot both live on a case-insensitive one. Neither is copied there,
// the run says why, and nothing is lost or deleted on the next runs.
func TestCaseClashIsNeverAnOverwrite(t *testing.T) {
	r1, r2, p := newPair(t, mem.CaseInsensitive())
	r1.WriteFile("Note.md", []byte("upper"), t0)
	r1.WriteFile("note.md", []byte("lower"), t0)
	r1.WriteFile("other.md", []byte("other"), t0)
	for run := range 3 {
		res, err := bisync.Run(context.Background(), p, bisync.DefaultOptions())
		if !errors.Is(err, bisync.ErrFailed) {
			t.Fatalf("run %d: err = %v, want ErrFailed", run, err)
		}
		clashes := 0
		for _, f := range res.Failed {
			if errors.Is(f, bisync.ErrNameClash) {
				clashes++
			}
		}
		if clashes != 2 {
			t.Errorf("run %d: %d name clashes reported, want 2: %v", run, clashes, res.Failed)
		}
		want1 := map[string]string{"Note.md": "upper", "note.md": "lower", "other.md": "other"}
		if got := userFiles(r1); !reflect.DeepEqual(got, want1) {
			t.Fatalf("run %d: path1 = %v, want %v", run, got, want1)
		}
		if got, want := userFiles(r2), map[string]string{"other.md": "other"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: path2 = %v, want %v", run, got, want)
		}
	}
	// Once the user renames one, both arrive.
	content, _ := r1.ReadFile("note.md")
	r1.Remove("note.md")
	r1.WriteFile("note-2.md", content, t0)
	sync(t, p, nil)
	if got, want := userFiles(r2), userFiles(r1); !reflect.DeepEqual(got, want) {
		t.Errorf("after the rename: path2 = %v, want %v", got, want)
	}
}
