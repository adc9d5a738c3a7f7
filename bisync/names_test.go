package bisync_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"strings"
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

// TestUnicodeFormClashIsNeverAnOverwrite: "café.md" written with é as one
// character (NFC) and as e and a combining accent (NFD) are one file on a
// side that normalizes names (macOS), which ferry cannot tell from one that
// does not. A form is never written where the other is, on either side,
// whichever side holds which; the run names both; nothing is lost on the
// next runs; once the user renames one, both sync.
func TestUnicodeFormClashIsNeverAnOverwrite(t *testing.T) {
	const nfc, nfd = "notes/caf\u00e9.md", "notes/cafe\u0301.md"
	for _, c := range []struct {
		name       string
		one, two   map[string]string
		clashes    int
		renameSide int // the side where the user renames the NFD file
	}{
		{"across sides", map[string]string{nfd: "nfd"}, map[string]string{nfc: "nfc"}, 2, 1},
		{"both on one side", map[string]string{nfd: "nfd", nfc: "nfc"}, nil, 2, 1},
		{"first run, the same name written twice", map[string]string{nfc: "same"}, map[string]string{nfd: "same"}, 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			r1, r2, p := newPair(t)
			for path, content := range c.one {
				r1.WriteFile(path, []byte(content), t0)
			}
			for path, content := range c.two {
				r2.WriteFile(path, []byte(content), t0)
			}
			r1.WriteFile("other.md", []byte("other"), t0)
			before := [2]map[string]string{userFiles(r1), userFiles(r2)}
			for run := range 3 {
				res, err := bisync.Run(context.Background(), p, bisync.DefaultOptions())
				if !errors.Is(err, bisync.ErrFailed) {
					t.Fatalf("run %d: err = %v, want ErrFailed", run, err)
				}
				clashes := 0
				for _, f := range res.Failed {
					if errors.Is(f, bisync.ErrNameClash) && strings.Contains(f.Error(), "Unicode form") {
						clashes++
					}
				}
				if clashes != c.clashes {
					t.Errorf("run %d: %d Unicode clashes reported, want %d: %v", run, clashes, c.clashes, res.Failed)
				}
				want2 := maps.Clone(before[1])
				want2["other.md"] = "other"
				if got := userFiles(r1); !reflect.DeepEqual(got, before[0]) {
					t.Fatalf("run %d: path1 = %q, want %q", run, got, before[0])
				}
				if got := userFiles(r2); !reflect.DeepEqual(got, want2) {
					t.Fatalf("run %d: path2 = %q, want %q", run, got, want2)
				}
			}
			r := []*mem.Replica{r1, r2}[c.renameSide-1]
			content, _ := r.ReadFile(nfd)
			r.Remove(nfd)
			r.WriteFile("notes/cafe-2.md", content, t0)
			sync(t, p, nil)
			if got, want := userFiles(r2), userFiles(r1); !reflect.DeepEqual(got, want) {
				t.Errorf("after the rename: path2 = %q, path1 %q", got, want)
			}
		})
	}
}
