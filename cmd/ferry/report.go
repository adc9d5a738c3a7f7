package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ferry-sync/ferry/bisync"
)

// Final lines of a run's report, for people and for scripts that grep.
const (
	lineSuccess = "ferry: sync successful"
	lineDryRun  = "ferry: dry run successful, nothing changed"
	// A failed run ends with "ferry: sync failed: <error>" on stderr
	// (printError), followed by what to do.
)

// report renders a bisync.Result. It is the user-facing output, not logging:
// plain text, no colour, stable order.
type report struct {
	out, errOut  io.Writer
	name1, name2 string // canonical, secret-free names
	mode         bisync.Mode
	dryRun       bool
	verbose      bool
	quiet        bool
	noDelete     bool // --no-delete: list the deletions it blocked
}

// Notes a run's report gives before its plan or summary.
const (
	noteRecovered   = "ferry: recovered an interrupted run: its finished work was kept, and this run does the rest"
	noteRecoveredDr = "ferry: an earlier run was interrupted: its finished work is kept, and the plan below is what remains"
	noteFilters     = "ferry: the filters changed since the last run: paths that left them are left alone on both sides " +
		"and forgotten by the history; paths that entered them are treated as new, as on a first sync (nothing is deleted)"
)

// print writes the report of a run that returned res and runErr, and
// returns the error the command fails with (nil on success).
func (r report) print(res *bisync.Result, runErr error) error {
	if res == nil {
		return runErr
	}
	r.printWarnings(res.Warnings)
	plan := sortedPlan(res.Plan)
	if r.dryRun {
		// A dry run that a safety check stopped still shows its plan,
		// then the error (printed by the caller).
		r.printDryRun(res, plan)
		if runErr != nil {
			return runErr
		}
		fmt.Fprintln(r.out, lineDryRun)
		return nil
	}

	if !r.quiet {
		r.printNotes(res)
	}
	if runErr != nil && len(res.Failed) == 0 && doneCount(res) == 0 {
		return runErr // failed before changing anything: the error says it all
	}
	if r.verbose {
		writeActions(r.out, plan)
	}
	if !r.quiet {
		r.printSummary(res, plan)
	}
	if len(res.Failed) > 0 {
		r.printFailed(res.Failed)
		return &failedActionsError{failed: res.Failed, done: doneCount(res), total: countChanges(plan), cause: runErr}
	}
	if runErr != nil {
		return runErr
	}
	if !res.Committed {
		return fmt.Errorf("the run finished but did not commit the history; run the same command again")
	}
	if !r.quiet {
		fmt.Fprintln(r.out, lineSuccess)
	}
	return nil
}

// printFailed lists the failed actions on stderr, each with its path, side
// and error. Actions cut short by an interruption are left out: the
// interruption is reported once, by printError.
func (r report) printFailed(failed []error) {
	var list []error
	for _, err := range failed {
		if !errors.Is(err, context.Canceled) {
			list = append(list, err)
		}
	}
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(r.errOut, "ferry: %d %s failed:\n", len(list), plural(len(list), "action", "actions"))
	for _, err := range list {
		fmt.Fprintf(r.errOut, "  %v\n", err)
	}
}

// printWarnings writes the problems that did not stop the run to stderr,
// unless -q asked for errors only.
func (r report) printWarnings(warnings []string) {
	if r.quiet {
		return
	}
	for _, w := range warnings {
		fmt.Fprintf(r.errOut, "ferry: warning: %s\n", w)
	}
}

// printNotes says what about this run is out of the ordinary: it picked
// up an interrupted run, or the filters changed.
func (r report) printNotes(res *bisync.Result) {
	if res.Recovered {
		if r.dryRun {
			fmt.Fprintln(r.out, noteRecoveredDr)
		} else {
			fmt.Fprintln(r.out, noteRecovered)
		}
	}
	if res.FiltersChanged {
		fmt.Fprintln(r.out, noteFilters)
	}
}

func (r report) printDryRun(res *bisync.Result, plan []bisync.Action) {
	first := ""
	if res.FirstRun {
		first = ", first run: the union of both sides"
	}
	fmt.Fprintf(r.out, "ferry: dry run, mode %s%s\n", r.mode, first)
	fmt.Fprintf(r.out, "ferry: path1 is %s\n", r.name1)
	fmt.Fprintf(r.out, "ferry: path2 is %s\n", r.name2)
	r.printNotes(res)
	writeActions(r.out, plan)
	n := countChanges(plan)
	if n == 0 {
		fmt.Fprintln(r.out, "ferry: in sync, nothing to do")
		return
	}
	fmt.Fprintf(r.out, "ferry: %d %s planned\n", n, plural(n, "action", "actions"))
}

func (r report) printSummary(res *bisync.Result, plan []bisync.Action) {
	done := func(op bisync.Op) int { return res.Done[op] }
	side := func(n int, name string, copied bisync.Op, bytes int64, deleted, moved, mkdir, rmdir bisync.Op) {
		line := fmt.Sprintf("path%d %s: %d copied here (%s), %d deleted", n, name,
			done(copied), formatBytes(bytes), done(deleted))
		if k := done(moved); k > 0 {
			line += fmt.Sprintf(", %d renamed", k)
		}
		if k := done(mkdir); k > 0 {
			line += fmt.Sprintf(", %d %s created", k, plural(k, "dir", "dirs"))
		}
		if k := done(rmdir); k > 0 {
			line += fmt.Sprintf(", %d %s removed", k, plural(k, "dir", "dirs"))
		}
		fmt.Fprintln(r.out, line)
	}
	side(1, r.name1, bisync.OpCopy2to1, res.Bytes[0], bisync.OpDelete1, bisync.OpMove1, bisync.OpMkdir1, bisync.OpRmdir1)
	side(2, r.name2, bisync.OpCopy1to2, res.Bytes[1], bisync.OpDelete2, bisync.OpMove2, bisync.OpMkdir2, bisync.OpRmdir2)

	var conflicts []bisync.Action
	for _, a := range plan {
		if a.Op == bisync.OpConflict {
			conflicts = append(conflicts, a)
		}
	}
	if len(conflicts) > 0 {
		fmt.Fprintf(r.out, "conflicts: %d\n", len(conflicts))
		writeActions(r.out, conflicts)
	}
	if r.noDelete {
		if blocked := blockedDeletions(plan); len(blocked) > 0 {
			fmt.Fprintf(r.out, "deletions blocked by --no-delete: %d (the files stay on both sides; the deletions stay pending)\n", len(blocked))
			writeActions(r.out, blocked)
		}
	}
	line := "history updated"
	if !res.Committed {
		line = "history not updated"
	}
	if res.FirstRun {
		line += " (first run)"
	}
	if k := done(bisync.OpRecord); k > 0 {
		line += fmt.Sprintf(", %d identical on both sides recorded", k)
	}
	if k := done(bisync.OpForget); k > 0 {
		line += fmt.Sprintf(", %d gone from both sides forgotten", k)
	}
	fmt.Fprintln(r.out, line)
}

// blockedDeletions are the deletions that --no-delete turned into reports:
// the engine plans them as OpNothing and says why in the reason.
func blockedDeletions(plan []bisync.Action) []bisync.Action {
	var out []bisync.Action
	for _, a := range plan {
		if a.Op == bisync.OpNothing && strings.Contains(a.Reason, "--no-delete") {
			out = append(out, a)
		}
	}
	return out
}

// sortedPlan returns the plan sorted by path, then by op, without changing
// the engine's slice.
func sortedPlan(plan []bisync.Action) []bisync.Action {
	p := slices.Clone(plan)
	slices.SortStableFunc(p, func(a, b bisync.Action) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Op, b.Op))
	})
	return p
}

// doneCount is the number of actions the run completed that change
// something (not OpNothing).
func doneCount(res *bisync.Result) int {
	n := 0
	for op, k := range res.Done {
		if op != bisync.OpNothing {
			n += k
		}
	}
	return n
}

// countChanges counts the actions that do something (not OpNothing).
func countChanges(plan []bisync.Action) int {
	n := 0
	for _, a := range plan {
		if a.Op != bisync.OpNothing {
			n++
		}
	}
	return n
}

// maxPathColumn bounds the width of the path column; longer paths push the
// rest of their line right.
const maxPathColumn = 40

// writeActions writes one line per action, e.g.
//
//	copy 1->2    notes/a.md  [10] changed on path1
func writeActions(w io.Writer, plan []bisync.Action) {
	width := 0
	for _, a := range plan {
		width = max(width, len(printablePath(a.Path)))
	}
	width = min(width, maxPathColumn)
	for _, a := range plan {
		fmt.Fprintln(w, formatAction(a, width))
	}
}

// formatAction is one line of the plan: op, path, [decision] and reason.
// Housekeeping actions (decision 0) show [--].
func formatAction(a bisync.Action, pathWidth int) string {
	cell := "--"
	if a.Decision > 0 {
		cell = fmt.Sprintf("%02d", a.Decision)
	}
	line := fmt.Sprintf("%-11s  %-*s  [%s] %s", a.Op, pathWidth, printablePath(a.Path), cell, a.Reason)
	return strings.TrimRight(line, " ")
}

// printablePath quotes a path that holds spaces at its ends or characters
// that would break a line or a terminal.
func printablePath(p string) string {
	if p != strings.TrimSpace(p) || strings.ContainsFunc(p, func(r rune) bool {
		return !unicode.IsPrint(r) && r != ' '
	}) {
		return strconv.Quote(p)
	}
	return p
}

// formatBytes is n in bytes, KiB, MiB or GiB, with one decimal.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d %s", n, plural(int(n), "byte", "bytes"))
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
