package bisync

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// item is one file path through classify, decide and execute.
type item struct {
	path string
	hist *history.Record         // nil when the path is not in the history
	tomb [2]*history.Fingerprint // deletion records, consulted only without history
	e    [2]*backends.Entry      // nil when absent on that side
	st   [2]State
	v    [2]verdict
	// hash[i] is the hash of side i's current content, of that side's
	// kind, when known without reading the file again.
	hash [2]string
	cell *cell
	act  Action
	// names for conflict copies, chosen while planning so that they are
	// unique across both sides: conflictName[i] keeps side i's version.
	conflictName [2]string
	// keep means the history record stays as it was (a change the mode
	// does not propagate yet).
	keep bool
	// out are the history records this item leaves after execution.
	out []history.Record
	// unreadable holds, per side, why the content could not be read while
	// planning; such an item is left alone and fails the run.
	unreadable [2]error
	// movedFrom and movedTo pair the two items of a rename (findRenames).
	movedFrom *item
	movedTo   string
}

func (it *item) unreadableErr() error {
	return errors.Join(it.unreadable[0], it.unreadable[1])
}

// joined is what the merge-join of the listings and the history leaves for
// the rest of the run.
type joined struct {
	// items are the paths in scope that need a decision, in path order:
	// all but those unchanged on both sides.
	items []item
	// same are the next history's records of the paths in scope that are
	// unchanged on both sides (cell 2 in every mode), in path order: the
	// old record itself where the fingerprints are equal, so that its
	// strings are shared. Such a path needs nothing more, so it never
	// becomes an item: a run over unchanged files holds no state per file
	// beyond the listings and the two histories.
	same []history.Record
	// histFiles is the number of files in scope that the history holds.
	histFiles int
	// files is the number of files in scope listed on each side.
	files [2]int
	// access are the --check-access sentinel files in scope on each side.
	access [2][]string
	// outOfScope are the pathKeys of the listed files outside the filters,
	// sorted: names in use, for takenNames.
	outOfScope []uint64
}

// join merges the two sorted listings, read through their cursors, and the
// sorted history, path by path, leaves out the paths outside the filters
// and classifies the others. A path that leaves the filters thus leaves the
// history and is left alone on both sides; a path that enters is new to
// both. The history's directory records are left to planDirs.
func (e *engine) join(cur [2]*fileCursor, recs []history.Record, dirOK func(string) bool) *joined {
	j := &joined{}
	c1, c2 := cur[0], cur[1]
	c1.next()
	c2.next()
	// U,U is cell 2 in every mode; looked up rather than assumed.
	unchanged, err := decide(e.opts.Mode, Unchanged, Unchanged)
	skipSame := err == nil && unchanged.id == 2 && unchanged.op == OpNothing
	// While every unchanged path keeps its record as it was and takes the
	// next one of recs, same is recs[:aliased] itself rather than a copy:
	// a run over unchanged files allocates nothing for the next history.
	aliased, copied := 0, false
	// ent holds the entries of the path at hand; an item that goes on to
	// a decision gets copies of its own (in chunks), so that the unchanged
	// paths allocate nothing.
	var ent [2]backends.Entry
	var chunk []backends.Entry
	m := 0
	for {
		for m < len(recs) && recs[m].Dir {
			m++
		}
		if !c1.ok && !c2.ok && m == len(recs) {
			break
		}
		p := ""
		if c1.ok {
			p = c1.cur.Path
		}
		if c2.ok && (!c1.ok || c2.cur.Path < p) {
			p = c2.cur.Path
		}
		if m < len(recs) && ((!c1.ok && !c2.ok) || recs[m].Path < p) {
			p = recs[m].Path
		}
		it := item{path: p}
		if c1.ok && c1.cur.Path == p {
			ent[0] = c1.cur
			it.e[0] = &ent[0]
			c1.next()
		}
		if c2.ok && c2.cur.Path == p {
			ent[1] = c2.cur
			it.e[1] = &ent[1]
			c2.next()
		}
		if m < len(recs) && recs[m].Path == p {
			it.hist = &recs[m]
			m++
		}
		if it.hist == nil && (e.tombs[0] != nil || e.tombs[1] != nil) {
			for s := range 2 {
				if fp, ok := e.tombs[s][p]; ok {
					it.tomb[s] = &fp
				}
			}
		}
		if !e.inScope(&it, dirOK) {
			if it.e[0] != nil || it.e[1] != nil {
				j.outOfScope = append(j.outOfScope, pathKey(p))
			}
			continue
		}
		if it.hist != nil {
			j.histFiles++
		}
		for s := range 2 {
			if it.e[s] == nil {
				continue
			}
			j.files[s]++
			if e.opts.CheckAccess && path.Base(p) == e.opts.CheckFilename {
				j.access[s] = append(j.access[s], p)
			}
		}
		e.classify(&it)
		if skipSame && it.st == [2]State{Unchanged, Unchanged} && it.v == [2]verdict{same, same} {
			r := unchangedRecord(&it)
			if !copied && it.hist == &recs[aliased] && r == recs[aliased] {
				aliased++
				continue
			}
			if !copied {
				j.same = make([]history.Record, 0, len(recs))
				j.same = append(j.same, recs[:aliased]...)
				copied = true
			}
			j.same = append(j.same, r)
			continue
		}
		for s := range 2 {
			if it.e[s] == nil {
				continue
			}
			if len(chunk) == cap(chunk) {
				chunk = make([]backends.Entry, 0, 256)
			}
			chunk = append(chunk, *it.e[s])
			it.e[s] = &chunk[len(chunk)-1]
		}
		j.items = append(j.items, it)
	}
	if !copied {
		j.same = recs[:aliased:aliased]
	}
	slices.Sort(j.outOfScope)
	return j
}

// unchangedRecord is the next history record of a path unchanged on both
// sides: the old one when the listings say exactly what it says, otherwise
// one with the listed sizes and times (within the precision of the old ones)
// and the hashes known.
func unchangedRecord(it *item) history.Record {
	r := history.Record{Path: it.hist.Path, One: fingerprint(it.e[0], it.hash[0]), Two: fingerprint(it.e[1], it.hash[1])}
	if r == *it.hist {
		return *it.hist
	}
	return r
}

// classify sets each side's state, leaving needHash verdicts for hashPass.
func (e *engine) classify(it *item) {
	for s := range 2 {
		ent := it.e[s]
		if ent != nil && ent.Hash != "" && e.sides[s].caps.ListHash == e.sides[s].hashKind {
			it.hash[s] = ent.Hash
		}
		switch {
		case it.hist != nil && ent == nil:
			it.st[s] = Deleted
		case it.hist != nil:
			fp := it.hist.One
			if s == 1 {
				fp = it.hist.Two
			}
			it.v[s] = compareFingerprint(e.sides[s], e.opts.Compare, ent, fp)
			switch it.v[s] {
			case same:
				it.st[s] = Unchanged
				if it.hash[s] == "" {
					it.hash[s] = fp.Hash // the content is what it was
				}
			case changed:
				it.st[s] = Modified
			}
		case ent != nil:
			it.st[s] = Created
		case it.tomb[s] != nil:
			it.st[s] = Deleted
		default:
			it.st[s] = Absent
		}
	}
}

// hashPass settles the needHash verdicts: the file's hash, compared with the
// one in the history, tells a touch (Unchanged) from an edit (Modified).
func (e *engine) hashPass(ctx context.Context, items []item) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.Checkers)
	for i := range items {
		it := &items[i]
		for s := range 2 {
			if it.v[s] != needHash {
				continue
			}
			g.Go(func() error {
				sd := e.sides[s]
				h, err := sd.r.Hash(gctx, it.path, sd.hashKind)
				if errors.Is(err, backends.ErrHashUnsupported) {
					// No hash for this one object (an S3 multipart
					// upload): decide as if hashes did not exist.
					noHash := *sd
					noHash.hashKind = ""
					cmp := e.opts.Compare
					cmp.Checksum = false
					fp := it.hist.One
					if s == 1 {
						fp = it.hist.Two
					}
					it.v[s] = same
					if compareFingerprint(&noHash, cmp, it.e[s], fp) == same {
						it.st[s] = Unchanged
					} else {
						it.st[s] = Modified
					}
					return nil
				}
				if err != nil {
					if gctx.Err() != nil {
						return err
					}
					// One unreadable file fails its own action, not
					// the run: the others still sync.
					it.unreadable[s] = &OpError{Op: "hash", Side: sd.n, Path: it.path, Err: err}
					it.v[s] = same
					return nil
				}
				want := it.hist.One.Hash
				if s == 1 {
					want = it.hist.Two.Hash
				}
				it.hash[s] = h
				if h != "" && h == want {
					it.st[s] = Unchanged
				} else {
					it.st[s] = Modified
				}
				it.v[s] = same
				return nil
			})
		}
	}
	return g.Wait()
}

// decideAll looks up every item's cell, then settles the cells that depend on
// content: conflicts with equal content are only recorded, survivors that
// match a deletion record are deleted, and one-way copies over the
// destination's own edit keep that edit.
func (e *engine) decideAll(ctx context.Context, items []item, same []history.Record, taken *takenNames) error {
	for i := range items {
		it := &items[i]
		if it.unreadableErr() != nil {
			e.leaveAlone(it)
			continue
		}
		c, err := decide(e.opts.Mode, it.st[0], it.st[1])
		if err != nil {
			return fmt.Errorf("%s: %w", it.path, err)
		}
		it.cell = c
		it.act = Action{Path: it.path, Decision: c.id, Op: c.op, Reason: c.reason}
		if c.op == OpNothing && it.hist != nil && c.id != 2 {
			it.keep = true
		}
		if e.opts.NoDelete && (c.op == OpDelete1 || c.op == OpDelete2) {
			e.blockDelete(it)
		}
	}
	nameConflicts(items, taken, newConflictNamer(e.opts, e.opts.Now()))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.Checkers)
	for i := range items {
		it := &items[i]
		var settle func(context.Context, *item) error
		switch {
		case it.unreadableErr() != nil:
		case it.cell.op == OpConflict:
			settle = e.settleConflict
		case it.cell.protect:
			settle = e.settleProtected
		case it.cell.stale:
			settle = e.settleStale
		}
		if settle == nil {
			continue
		}
		g.Go(func() error {
			err := settle(gctx, it)
			if err != nil && gctx.Err() == nil {
				it.unreadable[0] = err
				e.leaveAlone(it)
				return nil
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := e.findRenames(ctx, items); err != nil {
		return err
	}
	e.checkNameClashes(items, same)
	for i := range items {
		it := &items[i]
		it.act.Size = e.transferSize(it)
	}
	return nil
}

// unreadableCell stands for the decision on a path whose content could not
// be read while planning: it is left alone, and its failure fails the run.
var unreadableCell = cell{op: OpNothing, reason: "left alone"}

// leaveAlone sets an item that could not be read to do nothing and keep its
// history record, so that nothing is decided on a guess.
func (e *engine) leaveAlone(it *item) {
	it.cell = &unreadableCell
	it.act = Action{Path: it.path, Op: OpNothing, Reason: fmt.Sprintf("left alone: %v", it.unreadableErr())}
	it.keep = it.hist != nil
}

func (e *engine) settleConflict(ctx context.Context, it *item) error {
	eq, err := e.sameContent(ctx, it)
	if err != nil {
		return err
	}
	if eq {
		it.act.Op = OpRecord
		it.act.Reason += ", same content"
		return nil
	}
	it.act.Winner = e.winner(it)
	switch {
	case it.act.Winner == 0:
		it.act.Reason += ", different content: both versions kept"
	case e.opts.ConflictLoser == LoserDelete:
		it.act.Reason += fmt.Sprintf(", different content: path%d wins (--conflict-resolve %v), the other is deleted", it.act.Winner, e.opts.ConflictResolve)
	default:
		it.act.Reason += fmt.Sprintf(", different content: path%d wins (--conflict-resolve %v), the other is kept as a conflict copy", it.act.Winner, e.opts.ConflictResolve)
	}
	return nil
}

// settleProtected handles a one-way copy onto a destination that has its own
// version: equal content is recorded; otherwise the destination's version is
// kept (as a conflict copy, or in the backup dir) before it is overwritten.
func (e *engine) settleProtected(ctx context.Context, it *item) error {
	dst := 1
	if it.cell.op == OpCopy2to1 {
		dst = 0
	}
	if it.e[dst] == nil {
		return nil
	}
	eq, err := e.sameContent(ctx, it)
	if err != nil {
		return err
	}
	if eq {
		it.act.Op = OpRecord
		it.act.Reason += ", same content"
		return nil
	}
	if e.sides[dst].backup != nil {
		it.act.Reason += fmt.Sprintf(", path%d's version is moved to the backup dir", dst+1)
	} else {
		it.act.Reason += fmt.Sprintf(", path%d's version is kept as %s", dst+1, it.conflictName[dst])
	}
	return nil
}

// settleStale turns a copy that faces a deletion record into a deletion when
// the survivor is exactly what was deleted on the other side: it is a stale
// copy, and copying it would bring a deleted file back.
func (e *engine) settleStale(ctx context.Context, it *item) error {
	src := 0
	if it.cell.op == OpCopy2to1 {
		src = 1
	}
	tomb := it.tomb[1-src]
	ent := it.e[src]
	if tomb == nil || ent == nil || tomb.Size != ent.Size {
		return nil
	}
	stale := false
	kind := e.tombKinds[1-src][it.path]
	if kind == "" {
		kind = e.sides[src].hashKind
	}
	switch {
	case tomb.Hash != "" && canHash(e.sides[src].caps, kind):
		h := ""
		if kind == e.sides[src].hashKind {
			h = it.hash[src]
		}
		if h == "" {
			var err error
			h, err = e.sides[src].r.Hash(ctx, it.path, kind)
			if err != nil {
				return &OpError{Op: "hash", Side: src + 1, Path: it.path, Err: err}
			}
			if kind == e.sides[src].hashKind {
				it.hash[src] = h
			}
		}
		stale = h != "" && h == tomb.Hash
	case tomb.ModTime != 0 && !ent.ModTime.IsZero():
		stale = sameTime(ent.ModTime, tomb.ModTime, e.sides[src].caps.Precision)
	}
	if stale {
		it.act.Op = OpDelete1
		if src == 1 {
			it.act.Op = OpDelete2
		}
		it.act.Reason = fmt.Sprintf("stale copy of a file deleted on path%d", 2-src)
		if e.opts.NoDelete {
			// Keep the deletion pending: record the pair as it was before
			// the deletion, so that the next run, which reads no deletion
			// records, still sees a deletion and not a new file.
			rec := history.Record{Path: it.path}
			fps := [2]*history.Fingerprint{&rec.One, &rec.Two}
			*fps[src] = fingerprint(ent, it.hash[src])
			*fps[1-src] = *tomb
			it.hist = &rec
			e.blockDelete(it)
		}
	}
	return nil
}

// blockDelete turns a deletion into a report (--no-delete): the file stays,
// and its history record too, so the deletion stays pending.
func (e *engine) blockDelete(it *item) {
	it.act.Reason += fmt.Sprintf(" (not propagated: --no-delete blocks the %v)", it.act.Op)
	it.act.Op = OpNothing
	it.keep = it.hist != nil
}

func canHash(c backends.Caps, kind string) bool {
	for _, k := range c.Hashes {
		if k == kind {
			return true
		}
	}
	return false
}

// winner applies --conflict-resolve: 1 or 2, or 0 when both versions are kept.
func (e *engine) winner(it *item) int {
	e1, e2 := it.e[0], it.e[1]
	pick := func(first bool) int {
		if first {
			return 1
		}
		return 2
	}
	switch e.opts.ConflictResolve {
	case ResolvePath1:
		return 1
	case ResolvePath2:
		return 2
	case ResolveNewer, ResolveOlder:
		if e1.ModTime.IsZero() || e2.ModTime.IsZero() || e1.ModTime.Equal(e2.ModTime) {
			return 0
		}
		return pick(e1.ModTime.After(e2.ModTime) == (e.opts.ConflictResolve == ResolveNewer))
	case ResolveLarger, ResolveSmaller:
		if e1.Size < 0 || e2.Size < 0 || e1.Size == e2.Size {
			return 0
		}
		return pick((e1.Size > e2.Size) == (e.opts.ConflictResolve == ResolveLarger))
	}
	return 0
}

// transferSize is the number of bytes an action moves, for the summary.
func (e *engine) transferSize(it *item) int64 {
	size := func(s int) int64 {
		if it.e[s] == nil || it.e[s].Size < 0 {
			return 0
		}
		return it.e[s].Size
	}
	switch it.act.Op {
	case OpCopy1to2:
		return size(0)
	case OpCopy2to1:
		return size(1)
	case OpConflict:
		return size(0) + size(1)
	}
	return 0
}

// nameConflicts gives every item that may need a conflict copy its names,
// unique among all paths on both sides and among each other.
func nameConflicts(items []item, taken *takenNames, namer conflictNamer) {
	for i := range items {
		it := &items[i]
		if it.cell == nil || (it.cell.op != OpConflict && !it.cell.protect) {
			continue
		}
		for s := range 2 {
			it.conflictName[s] = namer.unique(it.path, s+1, taken)
		}
	}
}

func compareEntries(a, b backends.Entry) int { return strings.Compare(a.Path, b.Path) }

// sortedEntries sorts a listing by path and rejects duplicates, which a
// replica must never report and the merge-join could not handle.
func sortedEntries(l []backends.Entry, sd *side) error {
	// A listing often arrives sorted, or nearly: checking first costs one
	// pass, where sorting a sorted slice costs a pass per level.
	if !slices.IsSortedFunc(l, compareEntries) {
		slices.SortFunc(l, compareEntries)
	}
	for i := 1; i < len(l); i++ {
		if l[i].Path == l[i-1].Path {
			return &OpError{Op: "list", Side: sd.n, Path: l[i].Path, Err: fmt.Errorf("listed twice")}
		}
	}
	return nil
}

// sortedFiles is sortedEntries for the files of a listing.
func sortedFiles(l []listedFile, sd *side) error {
	if !slices.IsSortedFunc(l, compareFiles) {
		slices.SortFunc(l, compareFiles)
	}
	for i := 1; i < len(l); i++ {
		if l[i].path == l[i-1].path {
			return &OpError{Op: "list", Side: sd.n, Path: l[i].path, Err: fmt.Errorf("listed twice")}
		}
	}
	return nil
}
