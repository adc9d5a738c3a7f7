package bisync

import (
	"math"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// listedFile is one listed file as the engine keeps it until the join: 48
// bytes rather than a backends.Entry's 88 (its time.Time takes 24 bytes, and
// its Dir and HashKind say nothing of a listed file). Two listings of a
// large pair are most of a run's memory, and a path unchanged on both sides
// never needs more than this; the join makes a backends.Entry only for the
// paths that go on to a decision.
type listedFile struct {
	path string
	hash string
	size int64
	// mtime is the modification time in Unix nanoseconds, noTime for the
	// zero time, or oddEntry when the entry does not fit this record (a
	// time out of the range of int64 nanoseconds, a HashKind set): the
	// listing's odd map then holds it whole, so nothing is lost.
	mtime int64
}

const (
	noTime   = math.MinInt64
	oddEntry = math.MinInt64 + 1
	// minSec and maxSec bound the Unix seconds whose nanoseconds fit an
	// int64 with room left for the two sentinels.
	minSec = math.MinInt64/int64(time.Second) + 1
	maxSec = math.MaxInt64/int64(time.Second) - 1
)

// compactFile makes the record of a listed file; ok is false when the entry
// does not fit one and must be kept whole.
func compactFile(ent *backends.Entry) (f listedFile, ok bool) {
	f = listedFile{path: ent.Path, hash: ent.Hash, size: ent.Size, mtime: noTime}
	if ent.HashKind != "" {
		return f, false
	}
	if !ent.ModTime.IsZero() {
		if s := ent.ModTime.Unix(); s < minSec || s > maxSec {
			return f, false
		}
		f.mtime = ent.ModTime.UnixNano()
	}
	return f, true
}

// entry turns the record back into the entry the replica listed, its time in
// UTC as the local listing gives it (the engine uses only the instant).
func (l *listing) entry(f *listedFile) backends.Entry {
	switch f.mtime {
	case oddEntry:
		return l.odd[f.path]
	case noTime:
		return backends.Entry{Path: f.path, Size: f.size, Hash: f.hash}
	}
	return backends.Entry{Path: f.path, Size: f.size, Hash: f.hash, ModTime: time.Unix(0, f.mtime).UTC()}
}

func compareFiles(a, b listedFile) int { return strings.Compare(a.path, b.path) }

// internPaths finds listed paths among the history's, to share their
// strings: every string a listing holds is one allocation of its own, and
// the history has the same paths in its arena, alive for the whole run.
// Listings that arrive in path order (the fast local listing does) are
// matched by a cursor that only moves forward, one comparison per file; a
// path out of order is kept as listed rather than searched for, so a
// listing in another order costs nothing but the sharing.
type internPaths struct {
	recs []history.Record // sorted by path
	next int              // recs[:next] sort before the last path seen
}

func (in *internPaths) path(p string) string {
	for in.next < len(in.recs) && in.recs[in.next].Path < p {
		in.next++
	}
	if in.next < len(in.recs) && in.recs[in.next].Path == p {
		return in.recs[in.next].Path
	}
	return p
}

// pathKey is what takenNames keeps of the path of a listed file outside
// the filters.
func pathKey(p string) uint64 { return xxhash.Sum64String(p) }

// fileCursor reads one side's files in path order for the join, from a
// listing held whole or from batches a listing sends as it goes.
type fileCursor struct {
	cur backends.Entry
	ok  bool // cur holds the next file; false at the end

	// A listing held whole: the next file is l.files[i].
	l *listing
	i int

	// A streamed listing: the next file is batch[bi]; a batch read is
	// handed back on free for the listing to fill again.
	in    <-chan []backends.Entry
	free  chan<- []backends.Entry
	batch []backends.Entry
	bi    int
}

// wholeCursor reads the files of a listing held whole.
func wholeCursor(l *listing) *fileCursor { return &fileCursor{l: l} }

// next moves to the next file.
func (c *fileCursor) next() {
	if c.l != nil {
		c.ok = c.i < len(c.l.files)
		if c.ok {
			c.cur = c.l.entry(&c.l.files[c.i])
			c.i++
		}
		return
	}
	for c.bi == len(c.batch) {
		if c.batch != nil {
			select {
			case c.free <- c.batch[:0]:
			default:
			}
			c.batch = nil
		}
		b, more := <-c.in
		if !more {
			c.ok = false
			return
		}
		c.batch, c.bi = b, 0
	}
	c.cur = c.batch[c.bi]
	c.bi++
	c.ok = true
}
