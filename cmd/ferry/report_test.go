package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-sync/ferry/bisync"
)

func TestDryRunReport(t *testing.T) {
	res := &bisync.Result{Plan: []bisync.Action{
		{Path: "notes/b.md", Decision: 7, Op: bisync.OpDelete1, Reason: "deleted on path2"},
		{Path: "notes/a.md", Decision: 10, Op: bisync.OpCopy1to2, Reason: "changed on path1", Size: 12},
		{Path: "attic", Decision: 0, Op: bisync.OpRmdir2, Reason: ""},
		{Path: "old.md", Decision: 29, Op: bisync.OpNothing, Reason: "deleted on path1; push does not propagate deletions"},
	}}
	var out, errOut bytes.Buffer
	rep := report{out: &out, errOut: &errOut, name1: "/p1", name2: "r:p2", mode: bisync.Push, dryRun: true}
	if err := rep.print(res, nil); err != nil {
		t.Fatal(err)
	}
	want := `ferry: dry run, mode push
ferry: path1 is /p1
ferry: path2 is r:p2
rmdir on 2   attic       [--]
copy 1->2    notes/a.md  [10] changed on path1
delete on 1  notes/b.md  [07] deleted on path2
nothing      old.md      [29] deleted on path1; push does not propagate deletions
ferry: 3 actions planned
ferry: dry run successful, nothing changed
`
	if got := out.String(); got != want {
		t.Errorf("dry-run report:\n%s\nwant:\n%s", got, want)
	}
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
}

func TestSummary(t *testing.T) {
	res := &bisync.Result{
		Plan: []bisync.Action{
			{Path: "a.md", Decision: 9, Op: bisync.OpCopy2to1},
			{Path: "b.md", Decision: 10, Op: bisync.OpCopy1to2},
			{Path: "c.md", Decision: 16, Op: bisync.OpConflict, Reason: "changed on both sides"},
		},
		Done:      map[bisync.Op]int{bisync.OpCopy2to1: 1, bisync.OpCopy1to2: 1, bisync.OpConflict: 1, bisync.OpRecord: 4},
		Bytes:     [2]int64{2048, 3},
		Committed: true,
	}
	var out, errOut bytes.Buffer
	rep := report{out: &out, errOut: &errOut, name1: "/p1", name2: "r:p2"}
	if err := rep.print(res, nil); err != nil {
		t.Fatal(err)
	}
	want := `path1 /p1: 1 copied here (2.0 KiB), 0 deleted
path2 r:p2: 1 copied here (3 bytes), 0 deleted
conflicts: 1
conflict     c.md  [16] changed on both sides
history updated, 4 identical on both sides recorded
ferry: sync successful
`
	if got := out.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}

func TestFailedReport(t *testing.T) {
	temp := retryable{errors.New("connection reset")}
	res := &bisync.Result{
		Plan: []bisync.Action{
			{Path: "a.md", Decision: 9, Op: bisync.OpCopy2to1},
			{Path: "b.md", Decision: 10, Op: bisync.OpCopy1to2},
		},
		Done:   map[bisync.Op]int{bisync.OpCopy2to1: 1},
		Failed: []error{&bisync.OpError{Op: "copy", Side: 2, Path: "b.md", Err: temp}},
	}
	var out, errOut bytes.Buffer
	rep := report{out: &out, errOut: &errOut, name1: "/p1", name2: "r:p2"}
	err := rep.print(res, fmt.Errorf("%w: 1 of 2", bisync.ErrFailed))
	if got := exitCode(err); got != exitRetry {
		t.Errorf("exit status %d, want %d (%v)", got, exitRetry, err)
	}
	if !strings.Contains(errOut.String(), "b.md") || !strings.Contains(errOut.String(), "path2") {
		t.Errorf("stderr does not name the failed path and side:\n%s", errOut.String())
	}
	if strings.Contains(out.String(), lineSuccess) {
		t.Errorf("a failed run says it succeeded:\n%s", out.String())
	}

	if want := "1 action failed, 1 of 2 done"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}

	// An interruption wins over the failures it caused, which are not
	// listed one by one.
	res.Failed = []error{&bisync.OpError{Op: "copy", Side: 2, Path: "b.md", Err: context.Canceled}}
	errOut.Reset()
	err = rep.print(res, fmt.Errorf("%w: %w", bisync.ErrFailed, context.Canceled))
	if got := exitCode(err); got != exitUncategorized {
		t.Errorf("interrupted: exit status %d, want %d (%v)", got, exitUncategorized, err)
	}
	if strings.Contains(errOut.String(), "b.md") {
		t.Errorf("stderr lists an action cut short by the interruption:\n%s", errOut.String())
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 bytes"}, {1, "1 byte"}, {1023, "1023 bytes"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}, {2 << 40, "2.0 TiB"}} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestPrintablePath(t *testing.T) {
	for in, want := range map[string]string{
		"notes/a b.md": "notes/a b.md",
		"ノート.md":       "ノート.md",
		"a\nb":         `"a\nb"`,
		" lead":        `" lead"`,
		"esc\x1b[31m":  `"esc\x1b[31m"`,
	} {
		if got := printablePath(in); got != want {
			t.Errorf("printablePath(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestReportNotes: a recovered run and changed filters are said before the
// summary; warnings go to stderr; -q leaves all three out.
func TestReportNotes(t *testing.T) {
	res := &bisync.Result{
		Done:           map[bisync.Op]int{},
		Committed:      true,
		Recovered:      true,
		FiltersChanged: true,
		Warnings:       []string{"the deletion records on path2 (r:p2) are damaged and were ignored"},
	}
	var out, errOut bytes.Buffer
	rep := report{out: &out, errOut: &errOut, name1: "/p1", name2: "r:p2"}
	if err := rep.print(res, nil); err != nil {
		t.Fatal(err)
	}
	want := noteRecovered + "\n" + noteFilters + "\npath1 /p1: 0 copied here (0 bytes), 0 deleted\n"
	if got := out.String(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, lineSuccess+"\n") {
		t.Errorf("report:\n%s\nwant it to start with:\n%s", got, want)
	}
	for _, w := range []string{"recovered an interrupted run", "finished work was kept"} {
		if !strings.Contains(noteRecovered, w) {
			t.Errorf("the recovery note does not say %q: %s", w, noteRecovered)
		}
	}
	for _, w := range []string{"filters changed since the last run", "left alone", "forgotten", "treated as new"} {
		if !strings.Contains(noteFilters, w) {
			t.Errorf("the filters note does not say %q: %s", w, noteFilters)
		}
	}
	if got, want := errOut.String(), "ferry: warning: the deletion records on path2 (r:p2) are damaged and were ignored\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}

	// A dry run says it too, after its header.
	out.Reset()
	errOut.Reset()
	rep.dryRun = true
	if err := rep.print(res, nil); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "ferry: path2 is r:p2\n"+noteRecoveredDr+"\n"+noteFilters+"\n") {
		t.Errorf("dry-run report:\n%s", got)
	}

	out.Reset()
	errOut.Reset()
	rep.dryRun, rep.quiet = false, true
	if err := rep.print(res, nil); err != nil {
		t.Fatal(err)
	}
	if out.Len()+errOut.Len() > 0 {
		t.Errorf("-q: stdout %q, stderr %q; want nothing", out.String(), errOut.String())
	}
}

// TestDryRunStoppedBySafetyCheck: the plan is printed, then the run fails
// with the check's error, and not the success line.
func TestDryRunStoppedBySafetyCheck(t *testing.T) {
	res := &bisync.Result{Plan: []bisync.Action{
		{Path: "a.md", Decision: 4, Op: bisync.OpDelete2, Reason: "deleted on path1"},
		{Path: "b.md", Decision: 4, Op: bisync.OpDelete2, Reason: "deleted on path1"},
	}}
	var out, errOut bytes.Buffer
	rep := report{out: &out, errOut: &errOut, name1: "/p1", name2: "r:p2", dryRun: true}
	stop := fmt.Errorf("%w: the run would delete 2 of 3 files on path2", bisync.ErrTooManyDeletes)
	err := rep.print(res, stop)
	if exitCode(err) != exitSafetyCheck {
		t.Errorf("exit status %d, want %d (%v)", exitCode(err), exitSafetyCheck, err)
	}
	got := out.String()
	if !hasLine(got, "delete on 2", "a.md", "[04]") || !hasLine(got, "delete on 2", "b.md", "[04]") || strings.Contains(got, lineDryRun) {
		t.Errorf("dry-run report:\n%s", got)
	}

	// A real run stopped by a check prints no summary: nothing was done.
	out.Reset()
	rep.dryRun = false
	res.Done = map[bisync.Op]int{}
	if err := rep.print(res, stop); exitCode(err) != exitSafetyCheck {
		t.Errorf("exit status %d, want %d (%v)", exitCode(err), exitSafetyCheck, err)
	}
	if strings.Contains(out.String(), "copied here") || strings.Contains(out.String(), lineSuccess) {
		t.Errorf("a stopped run prints a summary:\n%s", out.String())
	}
}

// TestNoDeleteReport: with --no-delete, the summary lists the deletions it
// blocked.
func TestNoDeleteReport(t *testing.T) {
	res := &bisync.Result{
		Plan: []bisync.Action{
			{Path: "a.md", Decision: 4, Op: bisync.OpNothing, Reason: "deleted on path1 (not propagated: --no-delete blocks the delete on 2)"},
			{Path: "b.md", Decision: 10, Op: bisync.OpCopy1to2, Reason: "changed on path1"},
			{Path: "c.md", Decision: 29, Op: bisync.OpNothing, Reason: "deleted on path1; push does not propagate deletions"},
		},
		Done:      map[bisync.Op]int{bisync.OpCopy1to2: 1},
		Committed: true,
	}
	var out, errOut bytes.Buffer
	rep := report{out: &out, errOut: &errOut, name1: "/p1", name2: "r:p2", noDelete: true}
	if err := rep.print(res, nil); err != nil {
		t.Fatal(err)
	}
	want := `path1 /p1: 0 copied here (0 bytes), 0 deleted
path2 r:p2: 1 copied here (0 bytes), 0 deleted
deletions blocked by --no-delete: 1 (the files stay on both sides; the deletions stay pending)
nothing      a.md  [04] deleted on path1 (not propagated: --no-delete blocks the delete on 2)
history updated
ferry: sync successful
`
	if got := out.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}
