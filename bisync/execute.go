package bisync

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// OpError is the failure of one operation on one path on one side.
type OpError struct {
	Op   string // "list", "copy", "delete", "move", "hash", "read", "backup", ...
	Side int    // 1 or 2
	Path string
	Err  error
}

func (e *OpError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s on path%d: %v", e.Op, e.Side, e.Err)
	}
	return fmt.Sprintf("%s %s on path%d: %v", e.Op, e.Path, e.Side, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// errChangedDuringCopy: the source's size moved under the copy; the file is
// left for the next run rather than recorded half-written.
var errChangedDuringCopy = errors.New("file changed while it was being copied; it will be synced on the next run")

// execute runs the plan: copies and conflicts first, deletions after them, so
// that nothing is deleted before what replaces it has arrived. It returns one
// error per failed action.
func (e *engine) execute(ctx context.Context, items []item) []error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var failed []error
	for _, phase := range []func(Op) bool{isTransfer, isDelete} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(e.opts.Transfers)
		results := make(chan result)
		go func() {
			for i := range items {
				it := &items[i]
				if !phase(it.act.Op) {
					continue
				}
				if gctx.Err() != nil {
					break
				}
				g.Go(func() error {
					results <- result{it, e.do(gctx, it)}
					return nil
				})
			}
			g.Wait()
			close(results)
		}()
		for r := range results {
			if r.err != nil {
				failed = append(failed, r.err)
			}
			if err := e.done(r.it.act, changesOf(r.it), r.err); err != nil {
				// Without the journal, work done now could not be told
				// from work to do: stop starting more.
				failed = append(failed, err)
				stop(err)
			}
		}
	}
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil && !isJournalError(err) {
		failed = append(failed, fmt.Errorf("run interrupted: %w", err))
	}
	return failed
}

type result struct {
	it  *item
	err error
}

func isTransfer(o Op) bool {
	return o == OpCopy1to2 || o == OpCopy2to1 || o == OpConflict || o == OpRecord || o == OpMove1 || o == OpMove2
}

func isDelete(o Op) bool { return o == OpDelete1 || o == OpDelete2 }

// do performs one action and sets the history records it leaves.
func (e *engine) do(ctx context.Context, it *item) error {
	switch it.act.Op {
	case OpRecord:
		it.out = []history.Record{{Path: it.path, One: fingerprint(it.e[0], it.hash[0]), Two: fingerprint(it.e[1], it.hash[1])}}
		return nil
	case OpCopy1to2, OpCopy2to1:
		src, dst := 0, 1
		if it.act.Op == OpCopy2to1 {
			src, dst = 1, 0
		}
		if it.cell.protect && it.e[dst] != nil {
			if err := e.keepVersion(ctx, it, dst); err != nil {
				return err
			}
		} else if it.e[dst] != nil {
			if err := e.backup(ctx, dst, it.path); err != nil {
				return err
			}
		}
		rec, err := e.copy(ctx, it.path, it.path, src, it.e[src], it.hash[src])
		if err != nil {
			return err
		}
		it.out = []history.Record{rec}
		return nil
	case OpDelete1, OpDelete2:
		s := 0
		if it.act.Op == OpDelete2 {
			s = 1
		}
		return e.delete(ctx, s, it.path)
	case OpConflict:
		return e.conflict(ctx, it)
	case OpMove1, OpMove2:
		return e.move(ctx, it)
	}
	return nil
}

// conflict keeps both versions. Without a winner, each side's version is
// renamed to its conflict name and copied to the other side. With a winner,
// the loser is renamed (or deleted, with --conflict-loser delete) and the
// winner copied over the original name.
func (e *engine) conflict(ctx context.Context, it *item) error {
	if it.act.Winner == 0 {
		var renamed [2]*backends.Entry
		for s := range 2 {
			ent, err := e.sides[s].r.Move(ctx, it.path, it.conflictName[s])
			if err != nil {
				return &OpError{Op: "rename", Side: s + 1, Path: it.path, Err: err}
			}
			renamed[s] = &ent
		}
		for s := range 2 {
			rec, err := e.copy(ctx, it.conflictName[s], it.conflictName[s], s, renamed[s], it.hash[s])
			if err != nil {
				return err
			}
			it.out = append(it.out, rec)
		}
		return nil
	}
	win, lose := it.act.Winner-1, 2-it.act.Winner
	if e.opts.ConflictLoser == LoserDelete {
		if err := e.backup(ctx, lose, it.path); err != nil {
			return err
		}
	} else {
		ent, err := e.sides[lose].r.Move(ctx, it.path, it.conflictName[lose])
		if err != nil {
			return &OpError{Op: "rename", Side: lose + 1, Path: it.path, Err: err}
		}
		rec, err := e.copy(ctx, it.conflictName[lose], it.conflictName[lose], lose, &ent, it.hash[lose])
		if err != nil {
			return err
		}
		it.out = append(it.out, rec)
	}
	rec, err := e.copy(ctx, it.path, it.path, win, it.e[win], it.hash[win])
	if err != nil {
		return err
	}
	it.out = append(it.out, rec)
	return nil
}

// keepVersion saves the destination's own version before a one-way copy
// overwrites it: into the backup dir when there is one, else as a conflict
// copy beside it on the same side.
func (e *engine) keepVersion(ctx context.Context, it *item, s int) error {
	if e.sides[s].backup != nil {
		return e.backup(ctx, s, it.path)
	}
	if _, err := e.sides[s].r.Move(ctx, it.path, it.conflictName[s]); err != nil {
		return &OpError{Op: "rename", Side: s + 1, Path: it.path, Err: err}
	}
	return nil
}

// backup copies side s's file to its backup dir before it is overwritten or
// deleted. Without a backup dir it does nothing.
func (e *engine) backup(ctx context.Context, s int, p string) error {
	b := e.sides[s].backup
	if b == nil {
		return nil
	}
	if err := transfer(ctx, e.sides[s].r, b, p, p, nil); err != nil {
		return &OpError{Op: "backup", Side: s + 1, Path: p, Err: err}
	}
	return nil
}

func (e *engine) delete(ctx context.Context, s int, p string) error {
	if err := e.backup(ctx, s, p); err != nil {
		return err
	}
	err := e.sides[s].r.Delete(ctx, p)
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return &OpError{Op: "delete", Side: s + 1, Path: p, Err: err}
	}
	return nil
}

// copy copies side src's file at from to the other side at to, and returns
// the history record of the pair after the copy. srcHash is the source
// content's hash of the source side's kind, when already known.
func (e *engine) copy(ctx context.Context, from, to string, src int, srcEnt *backends.Entry, srcHash string) (history.Record, error) {
	s, d := e.sides[src], e.sides[1-src]
	var hs [2]string // by side index
	hs[src] = srcHash
	var got backends.Entry
	copied := false
	if c, ok := d.r.(backends.Copier); ok {
		var err error
		got, err = c.CopyFrom(ctx, s.r, from, to)
		switch {
		case err == nil:
			copied = true
			if e.opts.Moved != nil && got.Size > 0 {
				e.opts.Moved(got.Size)
			}
		case !errors.Is(err, backends.ErrCannotCopy):
			return history.Record{}, &OpError{Op: "copy", Side: d.n, Path: to, Err: err}
		}
	}
	if !copied {
		var err error
		got, hs, err = e.stream(ctx, from, to, src, srcEnt, hs)
		if err != nil {
			return history.Record{}, err
		}
	}
	switch {
	case d.caps.ListHash == d.hashKind && got.Hash != "":
		hs[1-src] = got.Hash
	case copied && d.hashKind == s.hashKind:
		hs[1-src] = hs[src] // a server-side copy has the source's bytes
	}
	if srcEnt.Size >= 0 && got.Size >= 0 && got.Size != srcEnt.Size {
		return history.Record{}, &OpError{Op: "copy", Side: d.n, Path: to, Err: errChangedDuringCopy}
	}
	fp := [2]history.Fingerprint{}
	fp[src] = fingerprint(srcEnt, hs[src])
	fp[1-src] = fingerprint(&got, hs[1-src])
	return history.Record{Path: to, One: fp[0], Two: fp[1]}, nil
}

// stream copies through ferry, hashing on the way with both sides' kinds so
// that the history learns the hashes without reading the files again.
func (e *engine) stream(ctx context.Context, from, to string, src int, srcEnt *backends.Entry, hs [2]string) (backends.Entry, [2]string, error) {
	s, d := e.sides[src], e.sides[1-src]
	rc, err := s.r.Open(ctx, from)
	if err != nil {
		return backends.Entry{}, hs, &OpError{Op: "read", Side: s.n, Path: from, Err: err}
	}
	defer rc.Close()
	var in io.Reader = rc
	if e.opts.Moved != nil {
		in = movedReader{r: rc, moved: e.opts.Moved}
	}
	hrS := newHashingReader(&steadySource{r: in, ctx: ctx, side: s, ent: srcEnt, path: from}, s.hashKind)
	reader := io.Reader(hrS)
	var hrD *hashingReader
	if d.hashKind != s.hashKind {
		hrD = newHashingReader(hrS, d.hashKind)
		reader = hrD
	}
	want := *srcEnt
	want.Path = to
	if mt, ok := rc.(backends.OpenedModTime); ok && !s.caps.ListModTime {
		// The file's own time, where opening it told it (S3), rather
		// than the time of the copy.
		if t, ok := mt.ModTime(); ok {
			want.ModTime = t
		}
	}
	// The source's listed hash, for the destination to check the upload
	// with (S3's Content-MD5); "" when the listing has none.
	want.HashKind = s.caps.ListHash
	got, err := d.r.Put(ctx, to, reader, want)
	if err != nil {
		return backends.Entry{}, hs, &OpError{Op: "copy", Side: d.n, Path: to, Err: err}
	}
	if srcEnt.Size >= 0 && hrS.n != srcEnt.Size {
		return backends.Entry{}, hs, &OpError{Op: "copy", Side: d.n, Path: to, Err: errChangedDuringCopy}
	}
	if h := hrS.sum(); h != "" {
		hs[src] = h
		if d.hashKind == s.hashKind {
			hs[1-src] = h
		}
	}
	if hrD != nil {
		if h := hrD.sum(); h != "" {
			hs[1-src] = h
		}
	}
	return got, hs, nil
}

// steadySource reads a source file and, at its end, makes sure the file did
// not change while it was read: it then fails the read instead of reporting
// the end, so that the destination's Put discards what it received and the
// file is left for the next run rather than copied half-written. Files on
// object stores are immutable while read; only filesystems are checked.
type steadySource struct {
	r    io.Reader
	ctx  context.Context
	side *side
	ent  *backends.Entry
	path string
	n    int64
}

func (s *steadySource) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != io.EOF {
		return n, err
	}
	if s.ent.Size >= 0 && s.n != s.ent.Size {
		return n, errChangedDuringCopy
	}
	if s.side.caps.Dirs && s.side.caps.ListModTime && !s.ent.ModTime.IsZero() {
		now, serr := s.side.r.Stat(s.ctx, s.path)
		if serr != nil {
			return n, fmt.Errorf("check the source after reading it: %w", serr)
		}
		if now.Size != s.ent.Size || !sameTime(now.ModTime, s.ent.ModTime.UnixNano(), s.side.caps.Precision) {
			return n, errChangedDuringCopy
		}
	}
	return n, io.EOF
}

// movedReader tells Options.Moved of the bytes read through it.
type movedReader struct {
	r     io.Reader
	moved func(int64)
}

func (m movedReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if n > 0 {
		m.moved(int64(n))
	}
	return n, err
}

// transfer copies a file between two replicas without recording anything:
// server-side where possible.
func transfer(ctx context.Context, src, dst backends.Replica, from, to string, ent *backends.Entry) error {
	if c, ok := dst.(backends.Copier); ok {
		_, err := c.CopyFrom(ctx, src, from, to)
		if err == nil || !errors.Is(err, backends.ErrCannotCopy) {
			return err
		}
	}
	if ent == nil {
		st, err := src.Stat(ctx, from)
		if err != nil {
			return err
		}
		ent = &st
	}
	rc, err := src.Open(ctx, from)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = dst.Put(ctx, to, rc, *ent)
	return err
}
