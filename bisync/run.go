package bisync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
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
	listings, err := e.list(ctx)
	if err != nil {
		return nil, err
	}
	// Deletion records speak for a pair that never committed a run; a
	// resync is a union and deletes nothing, so it reads none.
	if err := e.readMeta(ctx, listings, !committed && !e.opts.Resync); err != nil {
		return nil, err
	}
	var recs []history.Record
	if prev != nil {
		recs = prev.Records
	}
	if prev != nil && prev.Filters != e.opts.Filter.Fingerprint() {
		e.res.FiltersChanged = true
	}
	fileRecs, dirRecs := splitDirs(recs)
	dirOK := e.dirFilter()
	items := join(listings[0].files, listings[1].files, fileRecs, e.tombs)
	// Conflict copies must not land on any name in use, filtered or not.
	taken := takenNames(items, listings)
	items, listings = e.scope(items, listings, dirOK)
	histFiles := 0
	for _, it := range items {
		if it.hist != nil {
			histFiles++
		}
		e.classify(it)
	}
	if err := e.hashPass(ctx, items); err != nil {
		return nil, err
	}
	if err := e.decideAll(ctx, items, taken); err != nil {
		return nil, err
	}
	var unreadable []error
	for _, it := range items {
		if err := it.unreadableErr(); err != nil {
			unreadable = append(unreadable, err)
			e.warn(err.Error())
		}
	}
	dirPlan := e.planDirs(listings, scopeRecords(dirRecs, dirOK), items)
	e.res.Plan = makePlan(items, dirPlan)
	if err := e.check(items, listings, histFiles); err != nil {
		return e.res, err
	}
	if e.opts.DryRun {
		return e.res, nil
	}
	return e.res, e.transact(ctx, files, start, carried, items, dirPlan, listings, unreadable)
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
	files, dirs []backends.Entry
	meta        map[string]*backends.Entry
}

// list lists both sides at once. A listing error is an error, never an empty
// side.
func (e *engine) list(ctx context.Context) ([2]listing, error) {
	var out [2]listing
	g, gctx := errgroup.WithContext(ctx)
	for s := range 2 {
		g.Go(func() error {
			sd := e.sides[s]
			var l listing
			err := sd.r.List(gctx, func(ent backends.Entry) error {
				if ent.Path == metaFormat || ent.Path == metaDeletions {
					if l.meta == nil {
						l.meta = map[string]*backends.Entry{}
					}
					l.meta[ent.Path] = &ent
				}
				if ent.Dir {
					l.dirs = append(l.dirs, ent)
				} else {
					l.files = append(l.files, ent)
				}
				return nil
			})
			if err != nil {
				return &OpError{Op: "list", Side: sd.n, Err: err}
			}
			if err := sortedEntries(l.files, sd); err != nil {
				return err
			}
			if err := sortedEntries(l.dirs, sd); err != nil {
				return err
			}
			out[s] = l
			return nil
		})
	}
	return out, g.Wait()
}

// takenNames are all the paths either side or the history holds.
func takenNames(items []*item, l [2]listing) map[string]bool {
	taken := make(map[string]bool, len(items))
	for _, it := range items {
		taken[it.path] = true
	}
	for s := range 2 {
		for _, d := range l[s].dirs {
			taken[d.Path] = true
		}
	}
	return taken
}

// scope drops the items outside the filters and returns the listings as the
// filters see them. A path that leaves the filters thus leaves the history
// and is left alone on both sides; a path that enters is new to both.
func (e *engine) scope(items []*item, l [2]listing, dirOK func(string) bool) ([]*item, [2]listing) {
	kept := items[:0]
	var out [2]listing
	for _, it := range items {
		if !e.inScope(it, dirOK) {
			continue
		}
		kept = append(kept, it)
		for s := range 2 {
			if it.e[s] != nil {
				out[s].files = append(out[s].files, *it.e[s])
			}
		}
	}
	for s := range 2 {
		out[s].dirs = scopeDirs(l[s].dirs, dirOK)
		out[s].meta = l[s].meta
	}
	return kept, out
}

func scopeRecords(recs []history.Record, dirOK func(string) bool) []history.Record {
	out := recs[:0]
	for _, r := range recs {
		if dirOK(r.Path) {
			out = append(out, r)
		}
	}
	return out
}

func splitDirs(recs []history.Record) (files, dirs []history.Record) {
	files = make([]history.Record, 0, len(recs))
	for _, r := range recs {
		if r.Dir {
			dirs = append(dirs, r)
		} else {
			files = append(files, r)
		}
	}
	return files, dirs
}

// makePlan lists every action that does something or reports something, in
// path order.
func makePlan(items []*item, dirs []dirAction) []Action {
	var plan []Action
	for _, it := range items {
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
// listing again.
func (e *engine) newHistory(items []*item, dirs []dirAction) *history.History {
	h := &history.History{
		Path1:   e.sides[0].r.String(),
		Path2:   e.sides[1].r.String(),
		Hash1:   e.sides[0].hashKind,
		Hash2:   e.sides[1].hashKind,
		Filters: e.opts.Filter.Fingerprint(),
		Written: e.opts.Now().UTC(),
	}
	for _, it := range items {
		switch {
		case it.keep:
			h.Records = append(h.Records, *it.hist)
		case it.act.Op == OpNothing && it.act.Decision == 2:
			h.Records = append(h.Records, history.Record{Path: it.path,
				One: fingerprint(it.e[0], it.hash[0]), Two: fingerprint(it.e[1], it.hash[1])})
		default:
			h.Records = append(h.Records, it.out...)
		}
	}
	for _, d := range dirs {
		if d.record {
			h.Records = append(h.Records, history.Record{Path: d.act.Path, Dir: true})
		}
	}
	sort.Slice(h.Records, func(i, j int) bool { return h.Records[i].Path < h.Records[j].Path })
	return h
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
