package bisync

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-sync/ferry/history"
)

// findRenames turns a deletion and a creation on one side with the same
// content into a rename on the other side: a renamed note or a renamed
// folder of attachments is moved there (server-side where the backend can),
// not deleted and uploaded again. Only where the mode would propagate both
// the deletion and the creation; a rename is never a deletion for the
// safety checks.
//
// A deleted path qualifies when the other side still has it unchanged and
// the history knows its hash; a created path qualifies when it is new on
// its side only and of the same size. The created file's hash is computed
// only for such candidates.
func (e *engine) findRenames(ctx context.Context, items []item) error {
	for s := range 2 {
		o := 1 - s
		del, copyOp, moveOp := OpDelete2, OpCopy1to2, OpMove2
		if s == 1 {
			del, copyOp, moveOp = OpDelete1, OpCopy2to1, OpMove1
		}
		type key struct {
			size int64
			hash string
		}
		gone := map[key][]*item{}
		sizes := map[int64]bool{}
		for i := range items {
			it := &items[i]
			if it.act.Op != del || it.st[s] != Deleted || it.st[o] != Unchanged {
				continue
			}
			fp := it.hist.One
			if s == 1 {
				fp = it.hist.Two
			}
			if fp.Hash == "" || fp.Size < 0 {
				continue
			}
			k := key{fp.Size, fp.Hash}
			gone[k] = append(gone[k], it)
			sizes[fp.Size] = true
		}
		if len(gone) == 0 {
			continue
		}
		var cands []*item
		for i := range items {
			it := &items[i]
			if it.act.Op == copyOp && it.st[s] == Created && it.st[o] == Absent && sizes[it.e[s].Size] {
				cands = append(cands, it)
			}
		}
		if err := e.hashAll(ctx, cands, s); err != nil {
			return err
		}
		for _, it := range cands {
			k := key{it.e[s].Size, it.hash[s]}
			from := gone[k]
			if it.hash[s] == "" || len(from) == 0 {
				continue
			}
			src := from[0]
			gone[k] = from[1:]
			it.act.Op, it.act.From, it.movedFrom = moveOp, src.path, src
			it.act.Reason = fmt.Sprintf("renamed on path%d from %s", s+1, src.path)
			src.act.Op, src.movedTo = OpForget, it.path
			src.act.Reason = fmt.Sprintf("renamed on path%d to %s", s+1, it.path)
		}
	}
	return nil
}

// hashAll fills in side s's hash of every item that lacks it.
func (e *engine) hashAll(ctx context.Context, items []*item, s int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.Checkers)
	sd := e.sides[s]
	for _, it := range items {
		if it.hash[s] != "" || sd.hashKind == "" {
			continue
		}
		g.Go(func() error {
			h, err := sd.r.Hash(gctx, it.path, sd.hashKind)
			if err != nil {
				// Not a rename then: the copy will tell what is wrong.
				e.log.Debug("hash for rename detection", "path", it.path, "side", sd.n, "err", err)
				return gctx.Err()
			}
			it.hash[s] = h
			return nil
		})
	}
	return g.Wait()
}

// move renames on the other side what was renamed on side s.
func (e *engine) move(ctx context.Context, it *item) error {
	s, o := 0, 1
	if it.act.Op == OpMove1 {
		s, o = 1, 0
	}
	src := it.movedFrom
	got, err := e.sides[o].r.Move(ctx, src.path, it.path)
	if err != nil {
		return &OpError{Op: "move", Side: o + 1, Path: src.path, Err: err}
	}
	fp := [2]history.Fingerprint{}
	fp[s] = fingerprint(it.e[s], it.hash[s])
	fp[o] = fingerprint(&got, src.hash[o])
	it.out = []history.Record{{Path: it.path, One: fp[0], Two: fp[1]}}
	return nil
}
