package bisync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// Each side keeps ferry's own files under its metadata folder, which the
// filters always exclude: the side format marker and the deletion records.
const (
	metaFormat    = ".ferry/format"
	metaDeletions = ".ferry/deletions"
)

// readMeta checks the side format markers and, for a pair without history,
// reads both sides' deletion records, so that a new device joining a remote
// does not bring back what was deleted there. known are the markers'
// fingerprints that the history remembers as checked: a marker listed
// exactly so is what it was then, and is not read again (a request per side
// and run saved on a remote).
func (e *engine) readMeta(ctx context.Context, l [2]listing, firstRun bool, known [2]history.Fingerprint) error {
	for s := range 2 {
		sd := e.sides[s]
		if m := l[s].meta[metaFormat]; m != nil {
			fp := fingerprint(m, m.Hash)
			if !sameMarker(fp, known[s]) {
				b, err := readAll(ctx, sd.r, metaFormat)
				if err != nil {
					return &OpError{Op: "read", Side: sd.n, Path: metaFormat, Err: err}
				}
				if _, err := history.ParseSideFormat(b); err != nil {
					return fmt.Errorf("path%d (%s): %w", sd.n, sd.r, err)
				}
			}
			e.markers[s] = fp
		}
		if !firstRun || l[s].meta[metaDeletions] == nil {
			continue
		}
		ts, err := e.readTombstones(ctx, s)
		if err != nil {
			return err
		}
		e.tombs[s] = make(map[string]history.Fingerprint, len(ts))
		e.tombKinds[s] = make(map[string]string, len(ts))
		for _, t := range ts {
			e.tombs[s][t.Path] = history.Fingerprint{Size: t.Size, ModTime: t.ModTime, Hash: t.Hash}
			e.tombKinds[s][t.Path] = t.HashKind
		}
	}
	return nil
}

// sameMarker reports whether a listed marker is the one checked before:
// the same size, and the same modification time or hash, exactly. A size
// alone cannot tell: a newer format's marker may be just as long.
func sameMarker(listed, known history.Fingerprint) bool {
	return listed == known && listed.Size >= 0 && (listed.ModTime != 0 || listed.Hash != "")
}

// readTombstones reads a side's deletion records. Damaged records are
// ignored with a warning: they only spare a new device stale copies, and
// ignoring them loses nothing.
func (e *engine) readTombstones(ctx context.Context, s int) ([]history.Tombstone, error) {
	sd := e.sides[s]
	b, err := readAll(ctx, sd.r, metaDeletions)
	if errors.Is(err, backends.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &OpError{Op: "read", Side: sd.n, Path: metaDeletions, Err: err}
	}
	ts, err := history.DecodeTombstones(bytes.NewReader(b))
	if errors.Is(err, history.ErrNewerFormat) {
		return nil, fmt.Errorf("path%d (%s): %w", sd.n, sd.r, err)
	}
	if err != nil {
		e.warn(fmt.Sprintf("the deletion records on path%d (%s) are damaged and were ignored: %v", sd.n, sd.r, err))
		return nil, nil
	}
	return ts, nil
}

// writeMeta records the deletions this run is about to make on each side,
// and marks the side with the format. Failing that is a warning: the history
// still knows about the deletions; only a new device would miss them.
func (e *engine) writeMeta(ctx context.Context, items []item, same []history.Record, l [2]listing) {
	now := e.opts.Now()
	var deleted [2][]history.Tombstone
	for i := range items {
		it := &items[i]
		var s int
		switch {
		case it.act.Op == OpDelete1:
			s = 0
		case it.act.Op == OpDelete2:
			s = 1
		case it.movedTo != "" && it.st[0] == Unchanged:
			s = 0 // renamed away on path1 by this run
		case it.movedTo != "" && it.st[1] == Unchanged:
			s = 1
		default:
			continue
		}
		ent := it.e[s]
		deleted[s] = append(deleted[s], history.Tombstone{
			Path: it.path, Size: ent.Size, ModTime: fingerprint(ent, "").ModTime,
			Hash: it.hash[s], HashKind: e.sides[s].hashKind, Deleted: now, Device: e.opts.DeviceID,
		})
	}
	for s := range 2 {
		// Records of paths that exist on the side after the run are void;
		// the paths this run deletes are not among them. Only a side with
		// deletions rewrites its records, so only it needs the list.
		var final []string
		if len(deleted[s]) > 0 {
			final = finalFiles(items, same, s)
		}
		if err := e.writeSideMeta(ctx, s, deleted[s], l[s].meta, final); err != nil {
			e.warn(fmt.Sprintf("could not update ferry's records on path%d (%s): %v", s+1, e.sides[s].r, err))
		}
	}
}

// writeSideMeta updates one side's records; present are the files the side
// holds after the run, whose old records are void.
func (e *engine) writeSideMeta(ctx context.Context, s int, deleted []history.Tombstone, meta map[string]*backends.Entry, present []string) error {
	sd := e.sides[s]
	if meta[metaFormat] == nil {
		f := history.EncodeSideFormat()
		got, err := sd.r.Put(ctx, metaFormat, bytes.NewReader(f), backends.Entry{Path: metaFormat, Size: int64(len(f)), ModTime: e.opts.Now()})
		if err != nil {
			return err
		}
		// Ferry wrote what it holds: the next run need not read it, if it
		// lists it as Put described it (otherwise it reads it once).
		e.markers[s] = fingerprint(&got, got.Hash)
	}
	if len(deleted) == 0 {
		return nil
	}
	var old []history.Tombstone
	if meta[metaDeletions] != nil {
		var err error
		if old, err = e.readTombstones(ctx, s); err != nil {
			return err
		}
	}
	ts := history.MergeTombstones(old, deleted)
	ts = history.RemoveTombstones(ts, present...)
	ts = history.PruneTombstones(ts, e.opts.Now(), history.DefaultTombstoneMaxAge, history.DefaultTombstoneMaxCount)
	var buf bytes.Buffer
	if err := history.EncodeTombstones(&buf, ts); err != nil {
		return err
	}
	_, err := sd.r.Put(ctx, metaDeletions, &buf, backends.Entry{Path: metaDeletions, Size: int64(buf.Len()), ModTime: e.opts.Now()})
	return err
}

func readAll(ctx context.Context, r backends.Replica, p string) ([]byte, error) {
	rc, err := r.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 256<<20))
}
