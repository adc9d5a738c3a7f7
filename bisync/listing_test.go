package bisync

import (
	"testing"
	"time"
	"unsafe"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// A listed file comes back from its compact record as the replica listed
// it, whatever its time, including those an int64 of nanoseconds cannot
// hold.
func TestListedFileRoundTrip(t *testing.T) {
	ents := []backends.Entry{
		{Path: "a", Size: 3, ModTime: time.Date(2026, 11, 23, 1, 2, 3, 456789012, time.UTC), Hash: "abc"},
		{Path: "b", Size: -1},
		{Path: "c", Size: 0, ModTime: time.Unix(0, 0).UTC()},
		{Path: "d", Size: 1, ModTime: time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC)},
		{Path: "e", Size: 1, ModTime: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Path: "f", Size: 1, Hash: "h", HashKind: backends.HashMD5},
	}
	var l listing
	for _, ent := range ents {
		f, ok := compactFile(&ent)
		if !ok {
			if l.odd == nil {
				l.odd = map[string]backends.Entry{}
			}
			l.odd[ent.Path] = ent
			f.mtime = oddEntry
		}
		l.files = append(l.files, f)
	}
	for i, want := range ents {
		got := l.entry(&l.files[i])
		if got.Path != want.Path || got.Size != want.Size || got.Hash != want.Hash || got.HashKind != want.HashKind ||
			!got.ModTime.Equal(want.ModTime) || got.ModTime.IsZero() != want.ModTime.IsZero() {
			t.Errorf("%s: got %+v, want %+v", want.Path, got, want)
		}
	}
}

// Listed paths in path order share the history's strings where it holds
// them; any path comes back equal, whatever the order.
func TestInternPaths(t *testing.T) {
	recs := []history.Record{{Path: "a"}, {Path: "b/c"}, {Path: "d"}}
	in := internPaths{recs: recs}
	for _, c := range []struct {
		p      string
		shared *history.Record
	}{{"a", &recs[0]}, {"b", nil}, {"b/c", &recs[1]}, {"a", nil}, {"d", &recs[2]}, {"z", nil}} {
		got := in.path(string([]byte(c.p)))
		if got != c.p {
			t.Errorf("path(%q) = %q", c.p, got)
		}
		if c.shared != nil && unsafe.StringData(got) != unsafe.StringData(c.shared.Path) {
			t.Errorf("path(%q) does not share the history's string", c.p)
		}
	}
}
