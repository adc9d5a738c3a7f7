package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

// statusSyncFlags are the flags of ferry sync that ferry status takes too:
// those that shape the plan, and those it needs to find the pair and its
// state. Every other flag of sync is in syncOnlyFlags; a test checks that
// each of sync's flags is in one of the two lists.
var statusSyncFlags = []string{
	"mode", "resync", "compare", "conflict-resolve", "conflict-loser", "conflict-suffix",
	"create-empty-src-dirs", "remove-empty-dirs", "backup-dir1", "backup-dir2",
	"filter", "filters-file", "include", "exclude", "include-from", "exclude-from", "min-size", "max-size",
	"max-delete", "max-delete-count", "force", "check-access", "check-filename", "no-delete",
	"checkers", "low-level-retries", "workdir", "config", "pairs-file",
}

// syncOnlyFlags are the flags of ferry sync that mean nothing to a plan
// that is only shown: status is always a dry run, takes no lock and
// transfers nothing.
var syncOnlyFlags = []string{"dry-run", "transfers", "lock-wait", "max-lock", "verbose", "quiet", "json", "every"}

// statusFlags holds the status command's flags: sync's own, as far as
// status takes them.
type statusFlags struct {
	sync syncFlags
	// loc is the time zone of the times shown: time.Local, except in tests.
	loc *time.Location
}

const statusExample = `  ferry status                                   # the workdir, its device id and every pair it knows
  ferry status ~/vault remote:vault              # what a sync would do now (changes nothing)
  ferry status ~/vault remote:vault --mode push  # ... with the flags you would sync with
  ferry status ~/vault remote:vault --exclude '.obsidian/**'
  ferry status vault                             # the pair stored as "vault" (ferry pair add)`

func newStatusCmd(stdout, stderr io.Writer, started *bool) *cobra.Command {
	return (&statusFlags{loc: time.Local}).command(stdout, stderr, started)
}

// command returns the status command, with its flags bound to f.
func (f *statusFlags) command(stdout, stderr io.Writer, started *bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [PATH1 PATH2 | NAME]",
		Short: "Show the pairs this workdir knows, or what a sync of one would do now",
		Long: `Without paths, show the workdir, its device id, and every pair it knows:
the two sides, when the last sync committed and in which mode, and whether
an interrupted run will be recovered on the next sync.

With PATH1 and PATH2, show what 'ferry sync PATH1 PATH2' with the same flags
would do now, for a person to read: first the device id and whether the sync
would be a first run, recover an interrupted run, or see changed filters;
then what a safety check would stop and the conflicts; then the number of
files to copy and delete on each side; then every path, grouped by action,
with its decision number and the reason in words. With one argument,
NAME, status shows this for the pair stored under that name ('ferry pair'),
with its stored flags; flags given here override them.

status is a dry run: it lists both sides but changes nothing anywhere, not
even the workdir, and takes no lock. The flags that shape the plan (--mode,
the filters, --compare, the conflict flags, --max-delete, --force...) mean
what they mean for sync.

Exit status: 0 when the status is shown (whatever the plan holds), 11 when a
safety check would stop the sync (the plan is still shown), and otherwise
the codes of ferry sync for the same errors (docs/exit-codes.md).`,
		Example: statusExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && !validPairName(args[0]) {
				return usageErrorf(cmd.CommandPath(), "status takes no paths, or two, PATH1 and PATH2, or a pair's NAME; %q is not a pair name: %s", args[0], pairNameRule)
			}
			if len(args) > 2 {
				return usageErrorf(cmd.CommandPath(), "status takes no paths, or two, PATH1 and PATH2, or a pair's NAME (got %d)", len(args))
			}
			if len(args) == 0 {
				var planFlag string
				cmd.Flags().Visit(func(fl *pflag.Flag) {
					if fl.Name != "workdir" && planFlag == "" {
						planFlag = fl.Name
					}
				})
				if planFlag != "" {
					return usageErrorf(cmd.CommandPath(), "--%s needs PATH1 and PATH2: without paths, status takes only --workdir", planFlag)
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			if len(args) == 0 {
				return f.runWorkdir(stdout, stderr)
			}
			path1, path2, err := f.sync.pairPaths(cmd, args)
			if err != nil {
				return err
			}
			return f.runPair(cmd.Context(), cmd.CommandPath(), path1, path2, stdout, stderr)
		},
		ValidArgsFunction: f.sync.completeArgs,
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	f.sync.addFlags(fl, func(name string) bool { return slices.Contains(statusSyncFlags, name) })
	return cmd
}

// runWorkdir shows the workdir, its device id and its pairs. It reads the
// workdir and nothing else.
func (f *statusFlags) runWorkdir(stdout, stderr io.Writer) error {
	workdir, err := f.sync.workdirPath()
	if err != nil {
		return err
	}
	ws, err := readWorkdirStatus(workdir, stderr)
	if err != nil {
		return err
	}
	ws.render(stdout, f.style(stdout), f.loc)
	return nil
}

// runPair computes the plan of a sync of the pair as a dry run and shows
// it. A plan that a safety check stops is shown too, and then fails the
// command with the check's exit status.
func (f *statusFlags) runPair(ctx context.Context, cmdPath, path1, path2 string, stdout, stderr io.Writer) error {
	opts, err := f.sync.options(cmdPath)
	if err != nil {
		return err
	}
	opts.DryRun = true // status changes nothing, whatever the flags say
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	workdir, err := f.sync.workdirPath()
	if err != nil {
		return err
	}
	ctx, pair, err := f.sync.openPair(ctx, cmdPath, path1, path2, workdir, &opts)
	if err != nil {
		return err
	}
	st := planStatus{
		workdir: workdir,
		name1:   pair.Path1.String(),
		name2:   pair.Path2.String(),
		mode:    opts.Mode,
		resync:  opts.Resync,
	}
	// The workdir's device id, never made here: without one, the plan
	// uses one that lives only in memory, as sync --dry-run does.
	if st.device, err = storedDeviceID(workdir); err != nil {
		return err
	}
	if opts.DeviceID, err = deviceID(workdir, true); err != nil {
		return err
	}

	res, runErr := bisync.Run(ctx, pair, opts)
	if res == nil || runErr != nil && !isSafetyCheck(runErr) {
		return runErr
	}
	report{errOut: stderr}.printWarnings(res.Warnings)
	st.res, st.stop = res, runErr
	ps := readPairState(workdir, strings.TrimSuffix(filepath.Base(pair.HistoryFile), historySuffix), false, stderr)
	st.last, st.lock = ps.last, ps.lock
	st.render(stdout, f.style(stdout), f.loc)
	if st.stop != nil {
		return &wouldStopError{err: st.stop}
	}
	return nil
}

// wouldStopError says that a safety check would stop a sync of the plan
// that ferry status showed. It unwraps to the check's error, so the command
// exits with the status that sync has when the check stops it; the report on
// stdout already shows the error, so printError says only that much.
type wouldStopError struct{ err error }

func (e *wouldStopError) Error() string {
	return "a safety check would stop a sync of this pair now, before it changed anything: " + e.err.Error()
}

func (e *wouldStopError) Unwrap() error { return e.err }

// storedDeviceID is the workdir's device id, or "" when it has none yet.
func storedDeviceID(workdir string) (string, error) {
	id, err := readDeviceID(filepath.Join(workdir, deviceIDFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return id, err
}

// style says how output is drawn: in colour on a terminal, plain
// otherwise.
type style struct{ colour bool }

// style is colour when w is a terminal and the user did not ask for none
// (NO_COLOR, https://no-color.org, or TERM=dumb).
func (f *statusFlags) style(w io.Writer) style {
	file, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return style{}
	}
	return style{colour: term.IsTerminal(int(file.Fd()))}
}

// SGR parameters of the colours used.
const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "1;31"
	sgrGreen  = "1;32"
	sgrYellow = "1;33"
)

func (s style) paint(sgr, text string) string {
	if !s.colour || text == "" {
		return text
	}
	return "\x1b[" + sgr + "m" + text + "\x1b[0m"
}

// Files of a pair in the workdir, beside its history BASE.hist.
const (
	historySuffix = ".hist"
	journalSuffix = ".journal"
	lockSuffix    = ".lck"
)

// pairState is what the workdir holds about one pair, read without
// touching either side.
type pairState struct {
	base         string // the files' name in the workdir, without suffix
	name1, name2 string // the sides' canonical names; "" when unknown
	runs         int    // committed runs in the run log
	last         *history.RunEntry
	// written is when the history was committed, for a pair that has a
	// history but no run log.
	written time.Time
	journal journalState
	lock    *lockState
	// problems are files that could not be read, in words.
	problems []string
}

type journalState int

const (
	journalNone        journalState = iota
	journalInterrupted              // a run began and did not commit: the next sync recovers it
	journalCommitted                // a run committed and did not clear its journal yet
	journalDamaged                  // the next sync ignores it
)

// lockState is a pair's lock file, as far as it can be read.
type lockState struct {
	info     history.LockInfo
	readable bool
}

// readPairState reads the files of the pair named base in workdir: the
// run log and the lock; with full, also the journal, and the history's
// names and commit time when the run log cannot give them (ferry status
// PATH1 PATH2 learns those from the engine). Damaged files are reported on
// stderr and in problems; the state holds what could be read.
func readPairState(workdir, base string, full bool, stderr io.Writer) pairState {
	ps := pairState{base: base}
	file := func(suffix string) string { return filepath.Join(workdir, base+suffix) }
	problem := func(err error) {
		fmt.Fprintf(stderr, "ferry: warning: %v\n", err)
		ps.problems = append(ps.problems, err.Error())
	}

	runs, err := history.ReadRuns(file(runLogSuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		problem(err)
	}
	ps.runs = len(runs)
	for i := range runs {
		if ps.last == nil || runs[i].Start.After(ps.last.Start) {
			ps.last = &runs[i]
		}
	}
	if ps.last != nil {
		// A copy without the actions, so the rest of the log can go.
		last := *ps.last
		last.Actions, last.Errors = nil, nil
		ps.last = &last
		ps.name1, ps.name2 = last.Path1, last.Path2
	}

	if b, err := os.ReadFile(file(lockSuffix)); err == nil {
		ps.lock = &lockState{}
		ps.lock.readable = json.Unmarshal(b, &ps.lock.info) == nil && ps.lock.info.PID > 0
	}
	if !full {
		return ps
	}

	j, err := history.ReadJournal(file(journalSuffix))
	switch {
	case err == nil && j.Committed:
		ps.journal = journalCommitted
	case err == nil:
		ps.journal = journalInterrupted
	case errors.Is(err, fs.ErrNotExist):
	default:
		ps.journal = journalDamaged
	}
	if ps.name1 == "" {
		h, err := history.Load(file(historySuffix))
		switch {
		case err == nil:
			ps.name1, ps.name2, ps.written = h.Path1, h.Path2, h.Written
		case errors.Is(err, fs.ErrNotExist):
		default:
			problem(err)
		}
	}
	if ps.name1 == "" && j != nil {
		ps.name1, ps.name2 = j.Begin.Path1, j.Begin.Path2
	}
	return ps
}

// workdirStatus is what ferry status without paths shows.
type workdirStatus struct {
	workdir string
	missing bool   // the workdir does not exist yet
	device  string // "" when there is none yet
	// deviceErr is why the device id file could not be read.
	deviceErr error
	pairs     []pairState
}

// readWorkdirStatus reads every pair's files in workdir. Only a workdir
// that cannot be listed is an error.
func readWorkdirStatus(workdir string, stderr io.Writer) (workdirStatus, error) {
	ws := workdirStatus{workdir: workdir}
	entries, err := os.ReadDir(workdir)
	if errors.Is(err, fs.ErrNotExist) {
		ws.missing = true
		return ws, nil
	}
	if err != nil {
		return ws, fmt.Errorf("read workdir: %w", err)
	}
	ws.device, ws.deviceErr = storedDeviceID(workdir)
	// A pair is known by its history, its run log or its journal; a lock
	// alone is a first run that has not got far.
	var bases []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		base, ok := runLogBase(name)
		for _, suffix := range []string{historySuffix, journalSuffix} {
			if b, found := strings.CutSuffix(name, suffix); !ok && found && b != "" {
				base, ok = b, true
			}
		}
		if ok && !slices.Contains(bases, base) {
			bases = append(bases, base)
		}
	}
	for _, base := range bases {
		ws.pairs = append(ws.pairs, readPairState(workdir, base, true, stderr))
	}
	slices.SortFunc(ws.pairs, func(a, b pairState) int {
		return cmp.Or(cmp.Compare(a.name1, b.name1), cmp.Compare(a.name2, b.name2), cmp.Compare(a.base, b.base))
	})
	return ws, nil
}

// render writes the workdir's status:
//
//	workdir  /home/me/.local/state/ferry
//	device   k3x9qa
//
//	1 pair:
//	/home/me/vault <-> vault-s3:notes
//	  last sync 2024-05-07 09:00:00, push (2 runs logged)
func (ws workdirStatus) render(w io.Writer, s style, loc *time.Location) {
	if ws.missing {
		fmt.Fprintf(w, "workdir  %s (not made yet: the first sync makes it)\n", ws.workdir)
	} else {
		fmt.Fprintf(w, "workdir  %s\n", ws.workdir)
	}
	switch {
	case ws.deviceErr != nil:
		fmt.Fprintf(w, "device   %s\n", s.paint(sgrRed, ws.deviceErr.Error()))
	case ws.device == "":
		fmt.Fprintln(w, "device   none yet (the first sync makes one)")
	default:
		fmt.Fprintf(w, "device   %s\n", s.paint(sgrBold, ws.device))
	}
	fmt.Fprintln(w)
	if len(ws.pairs) == 0 {
		fmt.Fprintln(w, "no pairs: no sync has run with this workdir yet")
		return
	}
	fmt.Fprintf(w, "%d %s:\n", len(ws.pairs), plural(len(ws.pairs), "pair", "pairs"))
	for _, p := range ws.pairs {
		name := "(names unknown: " + p.base + ")"
		if p.name1 != "" || p.name2 != "" {
			name = printablePath(p.name1) + " <-> " + printablePath(p.name2)
		}
		fmt.Fprintln(w, s.paint(sgrBold, name))
		switch {
		case p.last != nil:
			fmt.Fprintf(w, "  last sync %s, %s (%d %s logged)\n", p.last.Start.In(loc).Format(logTimeFormat),
				p.last.Mode, p.runs, plural(p.runs, "run", "runs"))
		case !p.written.IsZero():
			fmt.Fprintf(w, "  last sync %s (no run logged)\n", p.written.In(loc).Format(logTimeFormat))
		default:
			fmt.Fprintln(w, "  no sync committed yet")
		}
		for _, n := range p.notes(loc) {
			fmt.Fprintf(w, "  %s\n", s.paint(sgrYellow, n))
		}
	}
}

// notes are what a person should know about the pair's state files.
func (p pairState) notes(loc *time.Location) []string {
	var notes []string
	if p.lock != nil {
		notes = append(notes, p.lock.describe(loc, p.journal == journalInterrupted))
	} else if p.journal == journalInterrupted {
		notes = append(notes, "an interrupted run will be recovered on the next sync")
	}
	if p.journal == journalDamaged {
		notes = append(notes, "its journal is damaged: the next sync ignores it and finds the finished work again on the sides")
	}
	for _, pr := range p.problems {
		notes = append(notes, "cannot read: "+pr)
	}
	return notes
}

// describe says who holds the lock; withJournal: the run's journal is there,
// so if that run is gone, the next sync recovers its work.
func (l *lockState) describe(loc *time.Location, withJournal bool) string {
	who := "a sync holds the lock"
	if l.readable {
		who = fmt.Sprintf("a sync holds the lock (pid %d on %s since %s)", l.info.PID,
			orUnknownHost(l.info.Host), l.info.Started.In(loc).Format(logTimeFormat))
	}
	if withJournal {
		return who + ": it is running now, or it was cut short and the next sync recovers its work"
	}
	return who + ": it is running now, or it ended without releasing the lock and the next sync takes it over"
}

func orUnknownHost(h string) string {
	if h == "" {
		return "an unknown host"
	}
	return h
}

// planStatus is what ferry status PATH1 PATH2 shows.
type planStatus struct {
	workdir      string
	device       string // "" when the workdir has none yet
	name1, name2 string
	mode         bisync.Mode
	resync       bool
	last         *history.RunEntry // the last committed run; nil for none
	lock         *lockState
	res          *bisync.Result
	stop         error // the safety check that would stop the sync
}

// statusGroup is one kind of action in the status of a plan, in the order
// they are shown.
type statusGroup struct {
	op bisync.Op
	// phrase counts n actions moving bytes, e.g. "3 to copy to path2 (1.2 MiB)".
	phrase func(n int, bytes int64) string
	sgr    string
	// change is true when the action changes a side (not only the history).
	change bool
}

var statusGroups = []statusGroup{
	{bisync.OpCopy1to2, func(n int, b int64) string { return fmt.Sprintf("%d to copy to path2 (%s)", n, formatBytes(b)) }, sgrGreen, true},
	{bisync.OpCopy2to1, func(n int, b int64) string { return fmt.Sprintf("%d to copy to path1 (%s)", n, formatBytes(b)) }, sgrGreen, true},
	{bisync.OpDelete1, func(n int, _ int64) string { return fmt.Sprintf("%d to delete on path1", n) }, sgrRed, true},
	{bisync.OpDelete2, func(n int, _ int64) string { return fmt.Sprintf("%d to delete on path2", n) }, sgrRed, true},
	{bisync.OpMkdir1, func(n int, _ int64) string {
		return fmt.Sprintf("%d %s to create on path1", n, plural(n, "folder", "folders"))
	}, sgrGreen, true},
	{bisync.OpMkdir2, func(n int, _ int64) string {
		return fmt.Sprintf("%d %s to create on path2", n, plural(n, "folder", "folders"))
	}, sgrGreen, true},
	{bisync.OpRmdir1, func(n int, _ int64) string {
		return fmt.Sprintf("%d %s to remove on path1", n, plural(n, "folder", "folders"))
	}, sgrRed, true},
	{bisync.OpRmdir2, func(n int, _ int64) string {
		return fmt.Sprintf("%d %s to remove on path2", n, plural(n, "folder", "folders"))
	}, sgrRed, true},
	{bisync.OpConflict, func(n int, _ int64) string {
		return fmt.Sprintf("%d %s", n, plural(n, "conflict", "conflicts"))
	}, sgrYellow, true},
	{bisync.OpRecord, func(n int, _ int64) string {
		return fmt.Sprintf("%d identical on both sides, to record", n)
	}, sgrBold, false},
	{bisync.OpForget, func(n int, _ int64) string {
		return fmt.Sprintf("%d gone from both sides, to forget", n)
	}, sgrBold, false},
	{bisync.OpNothing, func(n int, _ int64) string { return fmt.Sprintf("%d left alone", n) }, sgrBold, false},
}

// groupOf is the group of op; an op it does not know (a newer engine's)
// gets a group of its own, named by the op, shown before the conflicts.
func groupOf(op bisync.Op) statusGroup {
	for _, g := range statusGroups {
		if g.op == op {
			return g
		}
	}
	return statusGroup{op: op, phrase: func(n int, _ int64) string { return fmt.Sprintf("%d %v", n, op) }, sgr: sgrBold, change: true}
}

// planGroup is the actions of one group, sorted by path, and the bytes they
// transfer.
type planGroup struct {
	statusGroup
	actions []bisync.Action
	bytes   int64
}

// groupPlan splits the plan into its groups, in the order of statusGroups.
func groupPlan(plan []bisync.Action) []planGroup {
	by := map[bisync.Op]*planGroup{}
	var groups []*planGroup
	for _, a := range sortedPlan(plan) {
		g := by[a.Op]
		if g == nil {
			g = &planGroup{statusGroup: groupOf(a.Op)}
			by[a.Op] = g
			groups = append(groups, g)
		}
		g.actions = append(g.actions, a)
		g.bytes += a.Size
	}
	// Known ops in the order of statusGroups; an op this build does not
	// know after the other changes, before the conflicts.
	rank := func(op bisync.Op) int {
		conflict := 0
		for i, g := range statusGroups {
			if g.op == op {
				return 2 * i
			}
			if g.op == bisync.OpConflict {
				conflict = i
			}
		}
		return 2*conflict - 1
	}
	slices.SortStableFunc(groups, func(a, b *planGroup) int { return cmp.Compare(rank(a.op), rank(b.op)) })
	out := make([]planGroup, len(groups))
	for i, g := range groups {
		out[i] = *g
	}
	return out
}

// render writes the status of the plan; see docs/user-guide.md for an
// example.
func (ps planStatus) render(w io.Writer, s style, loc *time.Location) {
	kv := func(key, value string) { fmt.Fprintf(w, "%-8s %s\n", key, value) }
	kv("path1", printablePath(ps.name1))
	kv("path2", printablePath(ps.name2))
	kv("workdir", ps.workdir)
	if ps.device == "" {
		kv("device", "none yet (the first sync makes one)")
	} else {
		kv("device", s.paint(sgrBold, ps.device))
	}
	kv("mode", ps.mode.String())
	if ps.last != nil {
		kv("last", fmt.Sprintf("%s, %s", ps.last.Start.In(loc).Format(logTimeFormat), ps.last.Mode))
	} else {
		kv("last", "no sync of this pair committed here yet")
	}
	res := ps.res
	var notes []string
	switch {
	case res.FirstRun && ps.resync:
		notes = append(notes, "--resync: the history is set aside, and the sync makes the union of both sides, "+
			"as a first run does (nothing is deleted; files that differ become conflicts, both versions kept)")
	case res.FirstRun:
		notes = append(notes, "first run: this pair has no history here yet, so the sync makes the union of both sides "+
			"(files on one side are copied to the other; files that differ become conflicts, both versions kept)")
	}
	if res.Recovered {
		notes = append(notes, strings.TrimPrefix(noteRecoveredDr, "ferry: "))
	}
	if res.FiltersChanged {
		notes = append(notes, strings.TrimPrefix(noteFilters, "ferry: "))
	}
	if ps.lock != nil {
		notes = append(notes, ps.lock.describe(loc, false))
	}
	for _, n := range notes {
		kv("note", s.paint(sgrYellow, n))
	}

	groups := groupPlan(res.Plan)
	width := 0
	for _, a := range res.Plan {
		width = max(width, len(printablePath(a.Path)))
	}
	width = min(width, maxPathColumn)
	list := func(g planGroup) {
		fmt.Fprintln(w, s.paint(g.sgr, g.phrase(len(g.actions), g.bytes)+":"))
		for _, a := range g.actions {
			cell := "--"
			if a.Decision > 0 {
				cell = fmt.Sprintf("%02d", a.Decision)
			}
			line := fmt.Sprintf("  %-*s  %s %s", width, printablePath(a.Path), s.paint(sgrDim, "["+cell+"]"), a.Reason)
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	}

	// What would go wrong first: the check that stops the sync, and the
	// conflicts.
	if ps.stop != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, s.paint(sgrRed, fmt.Sprintf("a safety check would stop this sync before it changes anything (exit status %d):", exitSafetyCheck)))
		for _, line := range strings.Split(ps.stop.Error(), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	for _, g := range groups {
		if g.op == bisync.OpConflict {
			fmt.Fprintln(w)
			list(g)
		}
	}

	// Then the counts, and every path by group.
	var changes, others []string
	for _, g := range groups {
		p := g.phrase(len(g.actions), g.bytes)
		if g.change {
			changes = append(changes, p)
		} else {
			others = append(others, p)
		}
	}
	fmt.Fprintln(w)
	var line string
	switch {
	case len(groups) == 0:
		line = "in sync, nothing to do"
	case len(changes) == 0:
		line = "nothing to change on either side; " + strings.Join(others, ", ")
	default:
		line = strings.Join(changes, ", ")
		if len(others) > 0 {
			line += "; " + strings.Join(others, ", ")
		}
	}
	fmt.Fprintf(w, "%s %s\n", s.paint(sgrBold, "plan:"), line)
	for _, g := range groups {
		if g.op == bisync.OpConflict {
			continue
		}
		fmt.Fprintln(w)
		list(g)
	}
}
