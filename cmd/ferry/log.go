package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

// runLogSuffix names a pair's run log in the workdir: the history's name
// with ".runlog" for ".hist" (older generations add ".1" to ".3").
const runLogSuffix = ".runlog"

// logTimeFormat is how `ferry log` shows when a run started: local time, to
// the second.
const logTimeFormat = "2006-01-02 15:04:05"

// logFlags holds the log command's flags.
type logFlags struct {
	workdir string
	limit   int
	// loc is the time zone of the times shown: time.Local, except in tests.
	loc *time.Location
}

const logExample = `  ferry log                          # every committed run of every pair, newest first
  ferry log -n 10                    # the last ten runs
  ferry log notes/todo.md            # what ferry did to one file, run by run
  ferry log notes                    # ... or to everything under a folder
  ferry log ~/vault/notes/todo.md    # a path can also start with a side's name`

func newLogCmd(stdout, stderr io.Writer, started *bool) *cobra.Command {
	return (&logFlags{loc: time.Local}).command(stdout, stderr, started)
}

// command returns the log command, with its flags bound to f.
func (f *logFlags) command(stdout, stderr io.Writer, started *bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log [PATH]",
		Short: "Show the committed runs, or what ferry did to one path",
		Long: `Without PATH, list the committed runs of every pair in the workdir, newest
first, one line per run: when it started (local time), the pair, the mode,
how long it took, what travelled each way (files copied, with their bytes,
and deletions), the conflicts, and the errors that did not fail the run.

With PATH, list what ferry did to that path, or to everything under it when
it is a folder, newest run first: when, the pair, the action, the path, the
decision number and the reason. PATH is relative to the pair's folders
(notes/todo.md), or starts with one side's name as 'ferry sync' shows it
(/home/me/vault/notes/todo.md, vault-s3:notes/todo.md).

Only committed runs are logged; a run that failed or was interrupted shows
up with the run that finishes its work.`,
		Example: logExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf(cmd.CommandPath(), "log takes at most one PATH (got %d)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			if f.limit < 0 {
				return usageErrorf(cmd.CommandPath(), "-n must not be negative (got %d)", f.limit)
			}
			p, byPath := "", len(args) == 1
			if byPath {
				p = args[0]
				if p == "" {
					return usageErrorf(cmd.CommandPath(), "PATH is empty")
				}
			}
			return f.run(p, byPath, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.IntVarP(&f.limit, "max-count", "n", 0, "show only the N newest runs (0: all)")
	fl.StringVar(&f.workdir, "workdir", "", "folder of ferry's state, as for sync (default $XDG_STATE_HOME/ferry or ~/.local/state/ferry)")
	return cmd
}

// run prints the runs, or with byPath the actions on p.
func (f *logFlags) run(p string, byPath bool, stdout, stderr io.Writer) error {
	workdir := f.workdir
	if workdir == "" {
		var err error
		if workdir, err = defaultWorkdir(); err != nil {
			return err
		}
	}
	runs, readErr := readAllRuns(workdir, stderr)
	// Newest first, as git log; ties in a stable order.
	slices.SortStableFunc(runs, func(a, b history.RunEntry) int {
		return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(a.Path1, b.Path1),
			cmp.Compare(a.Path2, b.Path2), cmp.Compare(a.ID, b.ID))
	})
	if byPath {
		f.printPath(stdout, stderr, runs, p, workdir)
	} else {
		if f.limit > 0 && len(runs) > f.limit {
			runs = runs[:f.limit]
		}
		if len(runs) == 0 && readErr == nil {
			fmt.Fprintf(stderr, "ferry: no runs logged in %s\n", workdir)
		}
		f.printRuns(stdout, runs)
	}
	return readErr
}

// readAllRuns reads the run log of every pair in workdir. A damaged log
// gives what could be read and a warning on stderr; a log that cannot be
// read at all is left out, and reported in the error, after the others are
// read.
func readAllRuns(workdir string, stderr io.Writer) ([]history.RunEntry, error) {
	logs, err := runLogs(workdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no workdir: nothing ran yet
	}
	if err != nil {
		return nil, fmt.Errorf("read workdir: %w", err)
	}
	var (
		all  []history.RunEntry
		errs []error
	)
	for _, l := range logs {
		runs, err := history.ReadRuns(l)
		switch {
		case err == nil:
		case errors.Is(err, history.ErrCorrupt) && !errors.Is(err, history.ErrNewerFormat):
			fmt.Fprintf(stderr, "ferry: warning: %v\nferry: the runs that could be read are listed; the log stays usable\n", err)
		case errors.Is(err, fs.ErrNotExist):
			// Gone since the listing (rotated); the next look finds it.
		default:
			errs = append(errs, err)
		}
		all = append(all, runs...)
	}
	return all, errors.Join(errs...)
}

// runLogs returns the run log of every pair in workdir, as the path that
// history.ReadRuns takes: BASE.runlog, also for a pair that has only older
// generations left (a crash while rotating).
func runLogs(workdir string) ([]string, error) {
	entries, err := os.ReadDir(workdir)
	if err != nil {
		return nil, err
	}
	var logs []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		base, ok := runLogBase(e.Name())
		if !ok {
			continue
		}
		if p := filepath.Join(workdir, base+runLogSuffix); !slices.Contains(logs, p) {
			logs = append(logs, p)
		}
	}
	return logs, nil
}

// runLogBase returns BASE for a run log file named BASE.runlog or
// BASE.runlog.N (an older generation); BASE may itself hold ".runlog".
func runLogBase(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, runLogSuffix)
	if i := strings.LastIndex(name, runLogSuffix+"."); !ok && i >= 0 && allDigits(name[i+len(runLogSuffix)+1:]) {
		base, ok = name[:i], true
	}
	return base, ok && base != ""
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// printRuns writes one line per run, in columns:
//
//	2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  bidirectional  1.5s  1->2: 2 copied (14 bytes), 1 deleted  2->1: 0 copied (0 bytes), 0 deleted  1 conflict  0 errors
func (f *logFlags) printRuns(w io.Writer, runs []history.RunEntry) {
	rows := make([][]string, 0, len(runs))
	for i := range runs {
		e := &runs[i]
		c := countRun(e)
		rows = append(rows, []string{
			e.Start.In(f.loc).Format(logTimeFormat),
			pairName(e),
			e.Mode,
			formatDuration(e.Duration),
			fmt.Sprintf("1->2: %d copied (%s), %d deleted", c.copied[0], formatBytes(e.Bytes[1]), c.deleted[0]),
			fmt.Sprintf("2->1: %d copied (%s), %d deleted", c.copied[1], formatBytes(e.Bytes[0]), c.deleted[1]),
			fmt.Sprintf("%d %s", c.conflicts, plural(c.conflicts, "conflict", "conflicts")),
			fmt.Sprintf("%d %s", len(e.Errors), plural(len(e.Errors), "error", "errors")),
		})
	}
	writeColumns(w, rows)
}

// printPath writes one line per action on p (or under it), newest run
// first:
//
//	2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  copy 1->2  notes/a.md  [10] changed on path1
func (f *logFlags) printPath(w, stderr io.Writer, runs []history.RunEntry, p, workdir string) {
	var (
		rows       [][]string
		shown      int // runs with a line
		incomplete int // runs that left actions out of the log
	)
	for i := range runs {
		if f.limit > 0 && shown == f.limit {
			break
		}
		e := &runs[i]
		match := pathMatcher(p, e)
		if match == nil {
			continue
		}
		if e.Omitted > 0 {
			incomplete++
		}
		acts := slices.Clone(e.Actions)
		slices.SortStableFunc(acts, func(a, b history.LoggedAction) int { return strings.Compare(a.Path, b.Path) })
		found := false
		for _, a := range acts {
			if !match(a.Path) {
				continue
			}
			found = true
			cell := "--"
			if a.Decision != 0 {
				cell = fmt.Sprintf("%02d", a.Decision)
			}
			rows = append(rows, []string{
				e.Start.In(f.loc).Format(logTimeFormat),
				pairName(e),
				a.Op,
				printablePath(a.Path),
				strings.TrimRight(fmt.Sprintf("[%s] %s", cell, a.Reason), " "),
			})
		}
		if found {
			shown++
		}
	}
	writeColumns(w, rows)
	if len(rows) == 0 {
		fmt.Fprintf(stderr, "ferry: no logged run did anything to %s (workdir %s)\n", p, workdir)
	}
	if incomplete > 0 {
		fmt.Fprintf(stderr, "ferry: note: %d %s too many actions to log them all; %s may have been touched there too\n",
			incomplete, plural(incomplete, "run had", "runs had"), p)
	}
}

// pathMatcher returns what tells whether a logged path of run e is p or
// lies under it, or nil when p cannot name a path of e's pair. p is
// relative to the pair's folders, or starts with one side's canonical name.
func pathMatcher(p string, e *history.RunEntry) func(string) bool {
	rel, ok := p, false
	for _, side := range []string{e.Path1, e.Path2} {
		if side == "" {
			continue
		}
		if r, found := cutSide(p, side); found {
			rel, ok = r, true
			break
		}
	}
	if !ok && (filepath.IsAbs(p) || strings.HasPrefix(p, "/")) {
		return nil // another pair's folder
	}
	rel = path.Clean("/" + filepath.ToSlash(rel))[1:]
	if rel == "" {
		return func(string) bool { return true }
	}
	return func(q string) bool { return q == rel || strings.HasPrefix(q, rel+"/") }
}

// cutSide returns p relative to side when p is side's folder or lies in
// it.
func cutSide(p, side string) (string, bool) {
	if p == side {
		return "", true
	}
	prefix := side
	if !strings.HasSuffix(side, "/") && !strings.HasSuffix(side, ":") {
		prefix += "/"
	}
	return strings.CutPrefix(p, prefix)
}

func pairName(e *history.RunEntry) string {
	return printablePath(e.Path1) + " <-> " + printablePath(e.Path2)
}

// runCounts is what a run did in each direction: [0] is 1->2 (copied to
// path2, deleted on path2), [1] is 2->1.
type runCounts struct {
	copied, deleted [2]int
	conflicts       int
}

// countRun counts a run's copies, deletions and conflicts from its counts
// per label: a label counts for an op when it holds the op's name, as
// "10 copy 1->2" or "copy 1->2" does. When no label names an op, the
// logged actions are counted instead.
func countRun(e *history.RunEntry) runCounts {
	var c runCounts
	slot := func(op string) *int {
		switch op {
		case bisync.OpCopy1to2.String():
			return &c.copied[0]
		case bisync.OpDelete2.String():
			return &c.deleted[0]
		case bisync.OpCopy2to1.String():
			return &c.copied[1]
		case bisync.OpDelete1.String():
			return &c.deleted[1]
		case bisync.OpConflict.String():
			return &c.conflicts
		}
		return nil
	}
	ops := []bisync.Op{bisync.OpCopy1to2, bisync.OpCopy2to1, bisync.OpDelete1, bisync.OpDelete2, bisync.OpConflict}
	named := false
	for label, n := range e.Counts {
		for _, op := range ops {
			if strings.Contains(label, op.String()) {
				*slot(op.String()) += n
				named = true
				break
			}
		}
	}
	if named {
		return c
	}
	for _, a := range e.Actions {
		if s := slot(a.Op); s != nil {
			*s++
		}
	}
	return c
}

// formatDuration is d to a tenth of a second under a minute, to the
// second above.
func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// writeColumns writes rows with every column but the last padded to its
// widest cell.
func writeColumns(w io.Writer, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, cell := range r {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, cell := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(cell))))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
