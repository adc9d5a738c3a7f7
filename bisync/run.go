package bisync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// ErrFailed is wrapped by Run's error when some actions failed: nothing was
// committed, and the next run picks the work up again.
var ErrFailed = errors.New("bisync: some actions failed")

// engine holds one run's state.
type engine struct {
	opts  Options
	sides [2]*side
	log   *slog.Logger
	res   *Result
	// tombs are the deletion records of each side, by path; consulted only
	// for paths that the history does not hold.
	tombs [2]map[string]history.Fingerprint
	// tombKinds are the kinds of the records' hashes, by path.
	tombKinds [2]map[string]string
	// journal records finished actions of a real run.
	journal *history.JournalWriter
	// journalFound is true when a journal was there at the start, readable
	// or not: the run must then replace it and clear it.
	journalFound bool
	// markers are the fingerprints of the side format markers as listed
	// and accepted, or written, by this run; zero for a side without one.
	markers [2]history.Fingerprint
}

// Run syncs the pair once. It returns a Result describing what was planned
// and done, and an error when the run could not be planned (a listing failed,
// the history is unreadable) or when any action failed (wrapping ErrFailed).
// The history moves forward only when every action succeeded; until then the
// journal keeps what was done, and the next run folds it in.
func Run(ctx context.Context, p Pair, opts Options) (*Result, error) {
	if err := validate(&opts); err != nil {
		return nil, err
	}
	return newEngine(p, opts).run(ctx, p.HistoryFile)
}

func newEngine(p Pair, opts Options) *engine {
	return &engine{
		opts:  opts,
		sides: [2]*side{newSide(1, p.Path1, opts.BackupDir1), newSide(2, p.Path2, opts.BackupDir2)},
		log:   opts.Logger,
		res:   &Result{Done: map[Op]int{}},
	}
}

func (e *engine) run(ctx context.Context, historyFile string) (*Result, error) {
	start := e.opts.Now()
	files := stateFilesOf(historyFile)
	prev, carried, committed, err := e.loadState(files)
	if err != nil {
		return nil, err
	}
	e.res.FirstRun = !committed
	var recs []history.Record
	var known [2]history.Fingerprint
	if prev != nil {
		recs = prev.Records
		known = [2]history.Fingerprint{prev.Marker1, prev.Marker2}
	}
	// Deletion records speak for a pair that never committed a run; a
	// resync is a union and deletes nothing, so it reads none.
	readTombs := !committed && !e.opts.Resync
	dirOK := e.dirFilter()
	var listings [2]listing
	var j *joined
	if !readTombs && e.sides[0].caps.ListSorted && e.sides[1].caps.ListSorted {
		listings, j, err = e.listJoined(ctx, recs, dirOK)
	} else {
		listings, err = e.list(ctx, len(recs), recs)
	}
	if err != nil {
		return nil, err
	}
	if err := e.readMeta(ctx, listings, readTombs, known); err != nil {
		return nil, err
	}
	if j == nil {
		j = e.join([2]*fileCursor{wholeCursor(&listings[0]), wholeCursor(&listings[1])}, recs, dirOK)
		for s := range listings {
			// What the rest of the run needs of the files is in
			// the join.
			listings[s].files, listings[s].odd = nil, nil
		}
	}
	if prev != nil && prev.Filters != e.opts.Filter.Fingerprint() {
		e.res.FiltersChanged = true
	}
	pl, err := e.plan(ctx, j, recs, listings, dirOK)
	if err != nil {
		return nil, err
	}
	if err := e.check(pl.items, pl.joined, pl.histFiles); err != nil {
		return e.res, err
	}
	if e.opts.DryRun {
		return e.res, nil
	}
	if e.unchangedHistory(prev, pl, listings, carried) {
		err = e.commitUnchanged(files, start)
	} else {
		err = e.transact(ctx, files, start, carried, pl, listings)
	}
	if err == nil {
		e.removeStaleTemps(ctx)
	}
	return e.res, err
}

// removeStaleTemps has each side remove the temporary files of uploads
// that killed runs left behind (backends.TempCleaner), once a run has
// succeeded; failing to is a warning.
func (e *engine) removeStaleTemps(ctx context.Context) {
	for _, sd := range e.sides {
		tc, ok := sd.r.(backends.TempCleaner)
		if !ok {
			continue
		}
		n, err := tc.RemoveStaleTemps(ctx)
		if err != nil {
			e.warn(fmt.Sprintf("removing the temporary files of interrupted uploads on path%d: %v", sd.n, err))
		}
		if n > 0 {
			e.log.Info("removed the temporary files of interrupted uploads", "side", sd.n, "files", n)
		}
	}
}

// planned is a run's plan: the joined paths with their decisions, the
// directory operations, and the failures to read found while planning.
type planned struct {
	*joined
	dirPlan    []dirAction
	unreadable []error
}

// plan decides every path in scope that the join of the listings with the
// history's records left, plans the directories, and sets e.res.Plan. It
// reads file content only where a decision needs it, and writes nothing.
func (e *engine) plan(ctx context.Context, j *joined, recs []history.Record, listings [2]listing, dirOK func(string) bool) (*planned, error) {
	pl := &planned{joined: j}
	items := pl.items
	if err := e.hashPass(ctx, items); err != nil {
		return nil, err
	}
	// Conflict copies must not land on any name in use, filtered or not.
	taken := &takenNames{items: items, recs: recs, dirs: [2][]backends.Entry{listings[0].dirs, listings[1].dirs}, outOfScope: pl.outOfScope}
	if err := e.decideAll(ctx, items, pl.same, taken); err != nil {
		return nil, err
	}
	for i := range items {
		if err := items[i].unreadableErr(); err != nil {
			pl.unreadable = append(pl.unreadable, err)
			e.warn(err.Error())
		}
	}
	var scoped [2]listing
	for s := range 2 {
		scoped[s].dirs = scopeDirs(listings[s].dirs, dirOK)
		scoped[s].meta = listings[s].meta
	}
	pl.dirPlan = e.planDirs(scoped, dirRecords(recs, dirOK), items, pl.same)
	e.res.Plan = makePlan(items, pl.dirPlan)
	if e.opts.Planned != nil {
		e.opts.Planned(e.res.Plan)
	}
	return pl, nil
}

func validate(o *Options) error {
	if o.Mode < Bidirectional || o.Mode > PullDelete {
		return fmt.Errorf("bisync: unknown mode %d", o.Mode)
	}
	if o.Transfers < 1 {
		o.Transfers = 1
	}
	if o.Checkers < 1 {
		o.Checkers = 1
	}
	if o.ConflictSuffix == "" {
		o.ConflictSuffix = "conflict"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CreateEmptySrcDirs && o.RemoveEmptyDirs {
		return errors.New("--create-empty-src-dirs and --remove-empty-dirs contradict each other: choose one")
	}
	return nil
}

// listing is one side's files and directories, each sorted by path, and
// ferry's own files in the side's metadata folder, by path.
type listing struct {
	// files are the listed files, when the listing is held whole (see
	// list); nil once the join has taken them, and for a listing joined
	// as it arrived (listJoined).
	files []listedFile
	dirs  []backends.Entry
	meta  map[string]*backends.Entry
	// odd are the files whose entries do not fit a listedFile, whole, by
	// path; nil almost always.
	odd map[string]backends.Entry
}

// listSide lists one side, keeping its directories and its metadata files
// in l, and handing every file (metadata files too) to file, in the order
// the replica lists them.
func (e *engine) listSide(ctx context.Context, sd *side, l *listing, file func(*backends.Entry) error) error {
	n := 0
	err := sd.r.List(ctx, func(ent backends.Entry) error {
		if ent.Path == metaFormat || ent.Path == metaDeletions {
			if l.meta == nil {
				l.meta = map[string]*backends.Entry{}
			}
			// A copy: taking ent's own address would move every
			// entry to the heap.
			m := ent
			l.meta[ent.Path] = &m
		}
		if ent.Dir {
			l.dirs = append(l.dirs, ent)
			return nil
		}
		if err := file(&ent); err != nil {
			return err
		}
		n++
		if e.opts.Listed != nil {
			e.opts.Listed(sd.n, n, false)
		}
		return nil
	})
	if err != nil {
		var opErr *OpError
		if errors.As(err, &opErr) {
			return err
		}
		return &OpError{Op: "list", Side: sd.n, Err: err}
	}
	if e.opts.Listed != nil {
		e.opts.Listed(sd.n, n, true)
	}
	return sortedEntries(l.dirs, sd)
}

// list lists both sides at once and holds each listing whole, sorted: for
// replicas that list in no particular order, and for a run that must read
// the deletion records, which the listing finds, before it can join.
// A listing error is an error, never an empty side.
//
// hint is the number of files each side is expected to hold (the history's):
// the listings are sized for a little more up front, since growing a slice
// of 100,000 entries step by step allocates it about five times over.
//
// recs are the history's records, sorted by path: a listed file whose path
// they hold keeps the record's string rather than its own (see internPaths),
// so that a path the history knows is held once in memory, not three times.
func (e *engine) list(ctx context.Context, hint int, recs []history.Record) ([2]listing, error) {
	var out [2]listing
	g, gctx := errgroup.WithContext(ctx)
	for s := range 2 {
		g.Go(func() error {
			sd := e.sides[s]
			l := &out[s]
			in := internPaths{recs: recs}
			if hint > 0 {
				l.files = make([]listedFile, 0, hint+hint/64+16)
			}
			err := e.listSide(gctx, sd, l, func(ent *backends.Entry) error {
				f, ok := compactFile(ent)
				f.path = in.path(f.path)
				if !ok {
					if l.odd == nil {
						l.odd = map[string]backends.Entry{}
					}
					l.odd[ent.Path] = *ent
					f.mtime = oddEntry
				}
				l.files = append(l.files, f)
				return nil
			})
			if err != nil {
				return err
			}
			return sortedFiles(l.files, sd)
		})
	}
	return out, g.Wait()
}

// Streamed listings travel to the join in batches of this many files, at
// most streamBatches of them in flight per side: enough to keep the
// listing and the join busy at once, and a few hundred kilobytes.
const (
	streamBatch   = 512
	streamBatches = 4
)

// listJoined lists both sides at once and joins the listings with the
// history as they arrive, so that a listing is never held whole: both
// replicas must list in path order (Caps.ListSorted), and the run must not
// need the deletion records, which the join consults for paths the history
// does not hold and which are only read once the listing has found them.
// Listing errors come first: the join's result means nothing when a listing
// failed, and is then dropped.
func (e *engine) listJoined(ctx context.Context, recs []history.Record, dirOK func(string) bool) ([2]listing, *joined, error) {
	var out [2]listing
	var cur [2]*fileCursor
	g, gctx := errgroup.WithContext(ctx)
	for s := range 2 {
		batches := make(chan []backends.Entry, streamBatches)
		free := make(chan []backends.Entry, streamBatches+1)
		cur[s] = &fileCursor{in: batches, free: free}
		g.Go(func() error {
			defer close(batches)
			sd := e.sides[s]
			var batch []backends.Entry
			send := func() error {
				select {
				case batches <- batch:
				case <-gctx.Done():
					return gctx.Err()
				}
				select {
				case batch = <-free:
				default:
					batch = make([]backends.Entry, 0, streamBatch)
				}
				return nil
			}
			prev, first := "", true
			err := e.listSide(gctx, sd, &out[s], func(ent *backends.Entry) error {
				// The join relies on the order; a replica that breaks
				// its promise fails the run rather than the join
				// taking a file for missing.
				if !first && ent.Path <= prev {
					why := "listed twice"
					if ent.Path < prev {
						why = fmt.Sprintf("listed after %q, out of the promised path order", prev)
					}
					return &OpError{Op: "list", Side: sd.n, Path: ent.Path, Err: errors.New(why)}
				}
				prev, first = ent.Path, false
				if batch == nil {
					batch = make([]backends.Entry, 0, streamBatch)
				}
				batch = append(batch, *ent)
				if len(batch) == streamBatch {
					return send()
				}
				return nil
			})
			if err == nil && len(batch) > 0 {
				err = send()
			}
			return err
		})
	}
	j := e.join(cur, recs, dirOK)
	if err := g.Wait(); err != nil {
		return out, nil, err
	}
	return out, j, nil
}

// takenNames tells whether a name is in use: listed on either side, as a
// file or a directory, filtered or not, held by the history as a file, or
// given to a conflict copy by this run. A listed file is in the join's
// items, among the history's records (every path unchanged on both sides
// is), or among the files the join left out of scope, so the listings need
// not be kept whole for it. All of these are sorted, so a lookup is a
// binary search, and nothing is built unless a conflict needs a name.
type takenNames struct {
	items []item // every path in scope that needs a decision
	recs  []history.Record
	dirs  [2][]backends.Entry
	// outOfScope are pathKeys of the listed files outside the filters.
	outOfScope []uint64
	added      map[string]bool
}

func (t *takenNames) has(p string) bool {
	if t.added[p] {
		return true
	}
	// An item's path is listed on a side or held by the history.
	if _, ok := slices.BinarySearchFunc(t.items, p, func(it item, p string) int { return strings.Compare(it.path, p) }); ok {
		return true
	}
	for s := range 2 {
		if _, ok := slices.BinarySearchFunc(t.dirs[s], p, func(e backends.Entry, p string) int { return strings.Compare(e.Path, p) }); ok {
			return true
		}
	}
	// Two paths may share a key; taking a free name for a used one only
	// makes the conflict copy take another name.
	if _, ok := slices.BinarySearch(t.outOfScope, pathKey(p)); ok {
		return true
	}
	i, ok := slices.BinarySearchFunc(t.recs, p, func(r history.Record, p string) int { return strings.Compare(r.Path, p) })
	return ok && !t.recs[i].Dir
}

func (t *takenNames) add(p string) {
	if t.added == nil {
		t.added = map[string]bool{}
	}
	t.added[p] = true
}

// dirRecords are the history's directory records in the filters.
func dirRecords(recs []history.Record, dirOK func(string) bool) []history.Record {
	var out []history.Record
	for i := range recs {
		if recs[i].Dir && dirOK(recs[i].Path) {
			out = append(out, recs[i])
		}
	}
	return out
}

// makePlan lists every action that does something or reports something, in
// path order.
func makePlan(items []item, dirs []dirAction) []Action {
	var plan []Action
	for i := range items {
		it := &items[i]
		if it.act.Op == OpNothing && it.act.Decision == 2 {
			continue
		}
		if it.act.Op == OpForget && it.hist == nil {
			continue
		}
		plan = append(plan, it.act)
	}
	for _, d := range dirs {
		if d.act.Op != OpNothing {
			plan = append(plan, d.act)
		}
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].Path < plan[j].Path })
	return plan
}

// newHistory derives the next history from the plan and its results, without
// listing again: the records of the unchanged paths, merged with those the
// items and the directory operations leave.
func (e *engine) newHistory(pl *planned) *history.History {
	h := &history.History{
		Path1:   e.sides[0].r.String(),
		Path2:   e.sides[1].r.String(),
		Hash1:   e.sides[0].hashKind,
		Hash2:   e.sides[1].hashKind,
		Filters: e.opts.Filter.Fingerprint(),
		Marker1: e.markers[0],
		Marker2: e.markers[1],
		Written: e.opts.Now().UTC(),
	}
	var other []history.Record
	for i := range pl.items {
		it := &pl.items[i]
		switch {
		case it.keep:
			other = append(other, *it.hist)
		case it.act.Op == OpNothing && it.act.Decision == 2:
			other = append(other, history.Record{Path: it.path,
				One: fingerprint(it.e[0], it.hash[0]), Two: fingerprint(it.e[1], it.hash[1])})
		default:
			other = append(other, it.out...)
		}
	}
	for _, d := range pl.dirPlan {
		if d.record {
			other = append(other, history.Record{Path: d.act.Path, Dir: true})
		}
	}
	if len(other) == 0 {
		h.Records = pl.same
		return h
	}
	// Conflict copies and directories fall between other paths.
	slices.SortStableFunc(other, compareRecords)
	h.Records = mergeRecords(pl.same, other)
	return h
}

func compareRecords(a, b history.Record) int { return strings.Compare(a.Path, b.Path) }

// mergeRecords merges two slices of records sorted by path.
func mergeRecords(a, b []history.Record) []history.Record {
	out := make([]history.Record, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].Path < a[0].Path {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// done counts a finished action, journals what it changed, and reports it.
// It returns an error only when the journal cannot be written.
func (e *engine) done(a Action, changes []history.Change, err error) error {
	var jerr error
	if err == nil {
		e.res.Done[a.Op]++
		switch a.Op {
		case OpCopy1to2:
			e.res.Bytes[1] += a.Size
		case OpCopy2to1:
			e.res.Bytes[0] += a.Size
		}
		e.log.Info("done", "path", a.Path, "op", a.Op.String(), "cell", a.Decision)
		if e.journal != nil {
			op := history.OpRecord{Path: a.Path, Decision: a.Decision, Op: a.Op.String(), Changes: changes}
			if werr := e.journal.Done(op); werr != nil {
				jerr = &journalError{werr}
			}
		}
	} else {
		e.log.Warn("action failed", "path", a.Path, "op", a.Op.String(), "cell", a.Decision, "err", err)
	}
	if e.opts.Progress != nil {
		e.opts.Progress(a, err)
	}
	return jerr
}

// journalError is a failure to write the journal.
type journalError struct{ err error }

func (e *journalError) Error() string { return "write the journal: " + e.err.Error() }
func (e *journalError) Unwrap() error { return e.err }

func isJournalError(err error) bool {
	var j *journalError
	return errors.As(err, &j)
}
