package bisync

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/history"
)

// TestDeletionRecordCells covers the cells reachable only without a history
// and with a deletion record: 03 and 06 with their stale check, 28, 31, and
// a record facing nothing.
func TestDeletionRecordCells(t *testing.T) {
	md5hex := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	deleted := "the deleted version\n"
	tomb := history.Fingerprint{Size: int64(len(deleted)), ModTime: t0.UnixNano(), Hash: md5hex(deleted)}
	tests := []struct {
		name     string
		mode     Mode
		tombSide int    // 1 or 2: where the record is
		survivor string // content on the other side
		wantCell int
		want1    string // "" = absent
		want2    string
	}{
		{"bidirectional D,C stale", Bidirectional, 1, deleted, 3, "", ""},
		{"bidirectional D,C edited", Bidirectional, 1, "edited later\n", 3, "edited later\n", "edited later\n"},
		{"bidirectional C,D stale", Bidirectional, 2, deleted, 6, "", ""},
		{"bidirectional C,D edited", Bidirectional, 2, "edited later\n", 6, "edited later\n", "edited later\n"},
		{"push D,C", Push, 1, deleted, 28, "", deleted},
		{"push C,D", Push, 2, deleted, 6, deleted, deleted},
		{"pull D,C", Pull, 1, deleted, 3, deleted, deleted},
		{"pull C,D", Pull, 2, deleted, 31, deleted, ""},
		{"push-delete D,C", PushDelete, 1, deleted, 28, "", deleted},
		{"pull-delete C,D", PullDelete, 2, deleted, 31, deleted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, r2 := mem.New("one"), mem.New("two")
			surv := r2
			if tt.tombSide == 2 {
				surv = r1
			}
			surv.WriteFile("f.md", []byte(tt.survivor), t0)
			opts := DefaultOptions()
			opts.Mode = tt.mode
			validate(&opts)
			e := newEngine(Pair{Path1: r1, Path2: r2}, opts)
			e.tombs[tt.tombSide-1] = map[string]history.Fingerprint{"f.md": tomb}
			res, err := e.run(context.Background(), filepath.Join(t.TempDir(), "h"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Plan) != 1 || res.Plan[0].Decision != tt.wantCell {
				t.Fatalf("plan %+v, want one action with decision %d", res.Plan, tt.wantCell)
			}
			for i, r := range []*mem.Replica{r1, r2} {
				want := []string{tt.want1, tt.want2}[i]
				got, err := r.ReadFile("f.md")
				if want == "" {
					if err == nil {
						t.Errorf("path%d still has f.md = %q, want it deleted", i+1, got)
					}
				} else if string(got) != want {
					t.Errorf("path%d f.md = %q (err %v), want %q", i+1, got, err, want)
				}
			}
		})
	}
}

// TestDeletionRecordFacingNothing: a record with no file anywhere plans
// nothing.
func TestDeletionRecordFacingNothing(t *testing.T) {
	r1, r2 := mem.New("one"), mem.New("two")
	opts := DefaultOptions()
	validate(&opts)
	e := newEngine(Pair{Path1: r1, Path2: r2}, opts)
	e.tombs[0] = map[string]history.Fingerprint{"gone.md": {Size: 3}}
	res, err := e.run(context.Background(), filepath.Join(t.TempDir(), "h"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan) != 0 {
		t.Errorf("plan %+v, want nothing", res.Plan)
	}
}
