package bisync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// stateFiles are a pair's files in the workdir, named after its history
// file: the history itself (and its previous generation), the journal of the
// run in progress, and the run log.
type stateFiles struct {
	history, journal, runLog string
}

func stateFilesOf(historyFile string) stateFiles {
	base := strings.TrimSuffix(historyFile, ".hist")
	return stateFiles{history: historyFile, journal: base + ".journal", runLog: base + ".runlog"}
}

// loadState reads the history and folds into it what the journal of an
// earlier run records as done: a run that was interrupted (or failed) is
// picked up where it stopped, with no manual step. It returns nil for a
// first run with nothing to recover (no history, or --resync), the
// journal's changes, which the new journal carries until a run commits, and
// whether a committed history file was there: a first run that failed part
// way is still a first run for the deletion records and the filters.
func (e *engine) loadState(f stateFiles) (h *history.History, carried []history.Change, committed bool, err error) {
	if e.opts.Resync {
		return nil, nil, false, nil
	}
	h, err = history.Load(f.history)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h = nil
	case err != nil:
		return nil, nil, false, err
	}
	committed = h != nil
	j, err := history.ReadJournal(f.journal)
	e.journalFound = !errors.Is(err, fs.ErrNotExist)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, history.ErrCorrupt):
		// Losing a journal costs only work: every action it recorded is
		// found done on the sides and recorded again (equal content).
		e.warn(fmt.Sprintf("the journal %s is damaged and was ignored; finished work is recognised again on the sides: %v", f.journal, err))
	case err != nil:
		return nil, nil, false, fmt.Errorf("read the journal of the previous run: %w", err)
	default:
		h = j.Fold(h)
		if !committed {
			h.Filters = e.opts.Filter.Fingerprint()
		}
		carried = j.Changes()
		if !j.Committed {
			e.res.Recovered = true
			e.log.Info("recovered an interrupted run", "journal", f.journal, "done", len(j.Ops))
		}
	}
	if h != nil {
		e.dropForeignHashes(h)
	}
	return h, carried, committed, nil
}

// dropForeignHashes forgets hashes of another kind than the side's now:
// they cannot be compared.
func (e *engine) dropForeignHashes(h *history.History) {
	for s, kind := range []string{h.Hash1, h.Hash2} {
		if kind == e.sides[s].hashKind {
			continue
		}
		for i := range h.Records {
			if s == 0 {
				h.Records[i].One.Hash = ""
			} else {
				h.Records[i].Two.Hash = ""
			}
		}
	}
}

func (e *engine) warn(msg string) {
	e.res.Warnings = append(e.res.Warnings, msg)
	e.log.Warn(msg)
}

// transact executes the plan as one transaction: the journal first, every
// finished action appended to it, and the new history only when all
// succeeded; then the run log, and the journal is cleared.
func (e *engine) transact(ctx context.Context, f stateFiles, start time.Time, carried []history.Change, pl *planned, l [2]listing) error {
	items, dirPlan := pl.items, pl.dirPlan
	j, err := history.CreateJournal(f.journal, history.JournalBegin{
		Start:   start,
		Mode:    e.opts.Mode.String(),
		Path1:   e.sides[0].r.String(),
		Path2:   e.sides[1].r.String(),
		Hash1:   e.sides[0].hashKind,
		Hash2:   e.sides[1].hashKind,
		Planned: len(e.res.Plan),
		Carried: carried,
	})
	if err != nil {
		return fmt.Errorf("start the journal (nothing was changed): %w", err)
	}
	e.journal = j
	e.res.RunID = j.ID()

	// Deletion records are written ahead of the deletions: a run that
	// fails or is killed after deleting must still leave them for a new
	// device. A record of a file that then survives is void and harmless.
	e.writeMeta(ctx, items, pl.same, l)
	failed := append(pl.unreadable, e.execute(ctx, items)...)
	if len(failed) == 0 {
		failed = e.executeDirs(ctx, dirPlan)
	}
	e.res.Failed = failed
	// What the journal holds, and the history will, must tell later
	// writes from this run's: see backends.Settler.
	for _, s := range e.sides {
		if st, ok := s.r.(backends.Settler); ok {
			st.Settle(ctx)
		}
	}
	if len(failed) > 0 {
		if err := j.Close(); err != nil {
			e.warn(fmt.Sprintf("close the journal: %v", err))
		}
		return fmt.Errorf("%w: %d of %d; nothing was committed and the next run will pick the work up again", ErrFailed, len(failed), len(e.res.Plan))
	}
	if err := j.Commit(); err != nil {
		return fmt.Errorf("all changes were made but the journal could not be committed (the next run will recognise them): %w", err)
	}
	next := e.newHistory(pl)
	if err := history.Save(f.history, next); err != nil {
		return fmt.Errorf("all changes were made but the history could not be saved (the next run will recognise them): %w", err)
	}
	e.res.Committed = true
	if err := history.AppendRun(f.runLog, e.runEntry(start)); err != nil {
		e.warn(fmt.Sprintf("the run was committed but not added to the run log: %v", err))
	}
	if err := history.RemoveJournal(f.journal); err != nil {
		e.warn(fmt.Sprintf("the run was committed but its journal could not be removed (harmless: the next run folds it in again): %v", err))
	}
	return nil
}

// unchangedHistory reports whether the run has nothing to write: no action
// to carry out, nothing to read that failed, no journal to recover or
// clear, both sides already marked with the format, and a next history
// that would hold exactly what the last one holds. Such a run leaves the
// journal, the history and the sides alone; see commitUnchanged.
func (e *engine) unchangedHistory(prev *history.History, pl *planned, l [2]listing, carried []history.Change) bool {
	if prev == nil || e.journalFound || len(carried) > 0 || len(e.res.Plan) > 0 || len(pl.unreadable) > 0 {
		return false
	}
	for s := range 2 {
		if l[s].meta[metaFormat] == nil {
			return false
		}
	}
	next := e.newHistory(pl)
	if next.Path1 != prev.Path1 || next.Path2 != prev.Path2 || next.Hash1 != prev.Hash1 ||
		next.Hash2 != prev.Hash2 || next.Filters != prev.Filters || next.Marker1 != prev.Marker1 || next.Marker2 != prev.Marker2 {
		return false
	}
	return slices.Equal(next.Records, prev.Records)
}

// commitUnchanged ends a run that changed nothing: the history already is
// what this run would commit, so it is not written again, and no journal is
// made, since there is no action to record or recover. Only the run log
// learns of the run. A crash at any point leaves what was there before,
// which is this run's outcome too.
func (e *engine) commitUnchanged(f stateFiles, start time.Time) error {
	id, err := history.NewRunID()
	if err != nil {
		return err
	}
	e.res.RunID = id
	e.res.Committed = true
	if err := history.AppendRun(f.runLog, e.runEntry(start)); err != nil {
		e.warn(fmt.Sprintf("the run was committed but not added to the run log: %v", err))
	}
	return nil
}

// runEntry is the committed run as the run log keeps it.
func (e *engine) runEntry(start time.Time) history.RunEntry {
	r := history.RunEntry{
		ID:       e.res.RunID,
		Start:    start,
		Duration: e.opts.Now().Sub(start),
		Mode:     e.opts.Mode.String(),
		Path1:    e.sides[0].r.String(),
		Path2:    e.sides[1].r.String(),
		Bytes:    e.res.Bytes,
		Errors:   e.res.Warnings,
	}
	for _, a := range e.res.Plan {
		if r.Counts == nil {
			r.Counts = map[string]int{}
		}
		r.Counts[a.Op.String()]++
		r.Actions = append(r.Actions, history.LoggedAction{Path: a.Path, Decision: a.Decision, Op: a.Op.String(), Reason: a.Reason})
	}
	return r
}

// changesOf are the history changes an item's finished action made: its path
// leaves the history or takes its new record, and conflict copies join it.
func changesOf(it *item) []history.Change {
	ch := []history.Change{{Path: it.path, Remove: true}}
	if it.movedFrom != nil {
		ch = append(ch, history.Change{Path: it.movedFrom.path, Remove: true})
	}
	for _, r := range it.out {
		ch = append(ch, history.Change{Path: r.Path, Record: r})
	}
	return ch
}
