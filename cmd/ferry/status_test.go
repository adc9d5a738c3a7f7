package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/status/name.golden, or with -update
// writes it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "status", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s: got:\n%s\nwant:\n%s", path, got, want)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// lastVault is the last committed run of the pair in the plan tests.
var lastVault = &history.RunEntry{ID: "a2", Start: time.Date(2024, 5, 7, 9, 0, 0, 0, time.UTC),
	Mode: "bidirectional", Path1: vault1, Path2: vault2}

// TestStatusPlanGolden renders plans as ferry status PATH1 PATH2 shows
// them, without colour, against golden files; and checks that the colour
// version says the same once its escapes are removed.
func TestStatusPlanGolden(t *testing.T) {
	tooMany := fmt.Errorf("%w: the run would delete 12 of 20 files on path2 (vault-s3:notes), over --max-delete 50%%; "+
		"nothing was changed: check the other side, or run again with --force if the deletions are intended: n00.md, n01.md and 10 more",
		bisync.ErrTooManyDeletes)
	emptySide := fmt.Errorf("%w: path1 (/home/me/vault) lists no files, but the last run left 20 there", bisync.ErrEmptySide)
	for _, tc := range []struct {
		name string
		ps   planStatus
	}{
		{"first-run", planStatus{
			res: &bisync.Result{FirstRun: true, Plan: []bisync.Action{
				{Path: "notes/todo.md", Decision: 6, Op: bisync.OpCopy1to2, Reason: "new on path1", Size: 1200},
				{Path: "README.md", Decision: 6, Op: bisync.OpCopy1to2, Reason: "new on path1", Size: 12},
				{Path: "from-two.md", Decision: 3, Op: bisync.OpCopy2to1, Reason: "new on path2", Size: 4},
				{Path: "same.md", Decision: 11, Op: bisync.OpRecord, Reason: "new on both sides, same content"},
				{Path: "notes/ideas.md", Decision: 11, Op: bisync.OpConflict, Reason: "new on both sides, different content: both versions kept"},
				{Path: "old.md", Decision: 6, Op: bisync.OpDelete1, Reason: "stale copy of a file deleted on path2"},
			}},
		}},
		{"edits", planStatus{
			device: "k3x9qa", last: lastVault,
			res: &bisync.Result{Plan: []bisync.Action{
				{Path: "notes/a.md", Decision: 10, Op: bisync.OpCopy1to2, Reason: "changed on path1", Size: 3 << 20},
				{Path: "notes/b.md", Decision: 9, Op: bisync.OpCopy2to1, Reason: "changed on path2", Size: 1536},
				{Path: "journal/2024-01-01.md", Decision: 7, Op: bisync.OpDelete1, Reason: "deleted on path2"},
				{Path: "journal/old.md", Decision: 4, Op: bisync.OpDelete2, Reason: "deleted on path1"},
				{Path: "notes/todo.md", Decision: 16, Op: bisync.OpConflict, Reason: "changed on both sides, different content: both versions kept"},
				{Path: "notes/plan.md", Decision: 16, Op: bisync.OpConflict, Reason: "changed on both sides, different content: path1 wins (--conflict-resolve newer), the other is kept as a conflict copy"},
				{Path: "attic", Op: bisync.OpRmdir2},
				{Path: "new folder", Op: bisync.OpMkdir1},
				{Path: "gone.md", Decision: 1, Op: bisync.OpForget, Reason: "deleted on both sides"},
				{Path: "kept.md", Decision: 4, Op: bisync.OpNothing, Reason: "deleted on path1 (not propagated: --no-delete blocks the delete on 2)"},
				{Path: " spaced.md", Decision: 10, Op: bisync.OpCopy1to2, Reason: "changed on path1", Size: 1},
			}},
		}},
		{"stopped", planStatus{
			device: "k3x9qa", last: lastVault, mode: bisync.PushDelete,
			stop: errors.Join(tooMany, emptySide),
			lock: &lockState{readable: true, info: history.LockInfo{PID: 4242, Host: "laptop",
				Started: time.Date(2024, 5, 8, 10, 0, 0, 0, time.UTC)}},
			res: &bisync.Result{Recovered: true, FiltersChanged: true, Plan: []bisync.Action{
				{Path: "n00.md", Decision: 38, Op: bisync.OpDelete2, Reason: "deleted on path1"},
				{Path: "n01.md", Decision: 38, Op: bisync.OpDelete2, Reason: "deleted on path1"},
			}},
		}},
		{"in-sync", planStatus{device: "k3x9qa", last: lastVault, res: &bisync.Result{}}},
		{"record-only", planStatus{device: "k3x9qa", resync: true, res: &bisync.Result{FirstRun: true, Plan: []bisync.Action{
			{Path: "a.md", Decision: 11, Op: bisync.OpRecord, Reason: "new on both sides, same content"},
		}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := tc.ps
			ps.workdir, ps.name1, ps.name2 = "/home/me/.local/state/ferry", vault1, vault2
			var plain, colour bytes.Buffer
			ps.render(&plain, style{}, time.UTC)
			ps.render(&colour, style{colour: true}, time.UTC)
			golden(t, tc.name, plain.String())
			if strings.Contains(plain.String(), "\x1b") {
				t.Errorf("plain output holds escape codes:\n%q", plain.String())
			}
			if !strings.Contains(colour.String(), "\x1b[") {
				t.Errorf("colour output holds no colour:\n%s", colour.String())
			}
			if got := ansi.ReplaceAllString(colour.String(), ""); got != plain.String() {
				t.Errorf("colour output without its colour differs from the plain one:\n%s\nplain:\n%s", got, plain.String())
			}
		})
	}
}

// TestStatusPlanOrder: a safety check and the conflicts come before the
// counts, and the counts before the groups.
func TestStatusPlanOrder(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "status", "edits.golden"))
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	conflicts := strings.Index(out, "2 conflicts:")
	plan := strings.Index(out, "plan: 2 to copy to path2 (3.0 MiB), 1 to copy to path1 (1.5 KiB), 1 to delete on path1, 1 to delete on path2, 1 folder to create on path1, 1 folder to remove on path2, 2 conflicts; 1 gone from both sides, to forget, 1 left alone\n")
	copies := strings.Index(out, "2 to copy to path2 (3.0 MiB):")
	if conflicts < 0 || plan < 0 || copies < 0 || !(conflicts < plan && plan < copies) {
		t.Errorf("want the conflicts, then the counts, then the groups:\n%s", out)
	}
	if strings.Count(out, "notes/todo.md") != 1 {
		t.Errorf("a conflict is listed twice:\n%s", out)
	}
}

// statusWorkdir makes a workdir with a device id and four pairs: two
// with run logs (one of them locked, with an interrupted run's journal),
// one with a history and no run log, and one with only the journal of an
// interrupted first run.
func statusWorkdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, deviceIDFile), []byte("k3x9qa\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range []history.RunEntry{runVault1, runPhotos, runVault2} {
		if err := history.AppendRun(runLogOf(dir, e.Path1, e.Path2), e); err != nil {
			t.Fatal(err)
		}
	}
	base := func(n1, n2 string) string {
		return filepath.Join(dir, strings.TrimSuffix(historyName(n1, n2), historySuffix))
	}
	journal := func(n1, n2 string) {
		w, err := history.CreateJournal(base(n1, n2)+journalSuffix, history.JournalBegin{
			Start: time.Date(2024, 5, 8, 10, 0, 0, 0, time.UTC), Mode: "bidirectional", Path1: n1, Path2: n2})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	journal(photos1, photos2)
	lock := `{"token":"0123456789abcdef0123456789abcdef","pid":4242,"host":"laptop","started":"2024-05-08T10:00:00Z","renewed":"2024-05-08T10:00:00Z"}` + "\n"
	if err := os.WriteFile(base(photos1, photos2)+lockSuffix, []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &history.History{Path1: "/home/me/music", Path2: "nas:music", Written: time.Date(2024, 4, 1, 8, 0, 0, 0, time.UTC)}
	if err := history.Save(base(h.Path1, h.Path2)+historySuffix, h); err != nil {
		t.Fatal(err)
	}
	journal("/home/me/work", "dav:work")
	return dir
}

func TestStatusWorkdirGolden(t *testing.T) {
	dir := statusWorkdir(t)
	var errOut bytes.Buffer
	ws, err := readWorkdirStatus(dir, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
	ws.workdir = "/home/me/.local/state/ferry"
	var out bytes.Buffer
	ws.render(&out, style{}, time.UTC)
	golden(t, "workdir", out.String())

	// A new workdir, and one that does not exist yet.
	for name, dir := range map[string]string{"workdir-empty": t.TempDir(), "workdir-missing": filepath.Join(t.TempDir(), "ferry")} {
		ws, err := readWorkdirStatus(dir, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		ws.workdir = "/home/me/.local/state/ferry"
		out.Reset()
		ws.render(&out, style{}, time.UTC)
		golden(t, name, out.String())
	}
}

// TestStatusWorkdirDamaged: a damaged run log is a warning and a note, not a
// failure; the other pairs are still listed.
func TestStatusWorkdirDamaged(t *testing.T) {
	dir := statusWorkdir(t)
	if err := os.WriteFile(runLogOf(dir, vault1, vault2), []byte("garbage, not a run log"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	ws, err := readWorkdirStatus(dir, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ws.render(&out, style{}, time.UTC)
	if !strings.Contains(errOut.String(), "ferry: warning:") || !strings.Contains(out.String(), "cannot read") ||
		!strings.Contains(out.String(), photos1+" <-> "+photos2) {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}

// TestStatusFlags: status takes sync's flags that shape the plan, by the
// same definitions, and each flag of sync is either taken or known to be
// sync's only.
func TestStatusFlags(t *testing.T) {
	syncFl := (&syncFlags{}).command(io.Discard, io.Discard, new(bool)).Flags()
	statusFl := (&statusFlags{}).command(io.Discard, io.Discard, new(bool)).Flags()
	syncFl.VisitAll(func(fl *pflag.Flag) {
		taken := statusFl.Lookup(fl.Name)
		switch {
		case slices.Contains(statusSyncFlags, fl.Name):
			if taken == nil || taken.Usage != fl.Usage || taken.DefValue != fl.DefValue || taken.Shorthand != fl.Shorthand {
				t.Errorf("status does not take --%s as sync defines it", fl.Name)
			}
		case slices.Contains(syncOnlyFlags, fl.Name):
			if taken != nil {
				t.Errorf("status takes --%s, which only sync means", fl.Name)
			}
		default:
			t.Errorf("sync's --%s is neither in statusSyncFlags nor in syncOnlyFlags: decide whether it shapes the plan", fl.Name)
		}
	})

	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", a}, "no paths, or two"},
		{[]string{"status", a, b, dir}, "no paths, or two"},
		{[]string{"status", "--mode", "push"}, "--mode needs PATH1 and PATH2"},
		{[]string{"status", a, b, "--dry-run"}, "--dry-run"},
		{[]string{"status", a, b, "--mode", "sideways"}, "sideways"},
		{[]string{"status", a, b, "--max-delete", "101"}, "--max-delete"},
		{[]string{"status", a, a}, "overlap"},
	} {
		code, stdout, stderr := runFerry(t, append(tc.args, "--workdir", filepath.Join(dir, "work"))...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "status --help") {
			t.Errorf("ferry %q: exit status %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, exitUsage, tc.want, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "work")); !os.IsNotExist(err) {
		t.Errorf("status made the workdir (stat: %v)", err)
	}

	code, stdout, _ := runFerry(t, "status", "--help")
	for _, want := range []string{"--mode", "--exclude", "--compare", "--conflict-resolve", "--max-delete", "--force", "--workdir"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("status --help does not list %s:\n%s", want, stdout)
		}
	}
}

// TestWouldStopError: a plan a safety check stops exits as a sync the
// check stops, with one line on stderr.
func TestWouldStopError(t *testing.T) {
	err := &wouldStopError{err: fmt.Errorf("%w: 12 of 20", bisync.ErrTooManyDeletes)}
	if got := exitCode(err); got != exitSafetyCheck {
		t.Errorf("exit status %d, want %d", got, exitSafetyCheck)
	}
	var errOut bytes.Buffer
	printError(&errOut, "status", err)
	if got := errOut.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "safety check would stop") || strings.Contains(got, "failed") {
		t.Errorf("stderr: %q", got)
	}
}

// End to end, with the binary.

// status runs `ferry status p1 p2 --workdir work args...`.
func (e *env) status(args ...string) (int, string, string) {
	e.t.Helper()
	return e.run(append([]string{"status", e.p1, e.p2, "--workdir", e.work}, args...)...)
}

// statusOK runs status and expects exit status 0, no colour in a pipe and
// nothing changed anywhere.
func (e *env) statusOK(args ...string) string {
	e.t.Helper()
	before1, before2, beforeWork := snapshot(e.t, e.p1), snapshot(e.t, e.p2), snapshot(e.t, e.work)
	code, stdout, stderr := e.status(args...)
	if code != 0 {
		e.t.Fatalf("ferry status %s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	if strings.Contains(stdout, "\x1b") {
		e.t.Errorf("colour in a pipe:\n%q", stdout)
	}
	if snapshot(e.t, e.p1) != before1 || snapshot(e.t, e.p2) != before2 {
		e.t.Errorf("status changed a side")
	}
	if got := snapshot(e.t, e.work); got != beforeWork {
		e.t.Errorf("status changed the workdir:\nbefore:\n%s\nafter:\n%s", beforeWork, got)
	}
	return stdout
}

// lineIndex returns where the first line that starts with parts[0] and
// holds the other parts after it, in order, starts in out, or -1.
func lineIndex(out string, parts ...string) int {
	off := 0
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(line, parts[0]) && hasLine(line, parts...) {
			return off
		}
		off += len(line)
	}
	return -1
}

func TestStatusFreshPair(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p2, "notes/todo.md", "- buy milk\n", "from-two.md", "two\n")
	out := e.statusOK()
	for _, want := range [][]string{
		{"device", "none yet"},
		{"note", "first run", "union of both sides"},
		{"plan: 4 to copy to path2", "1 to copy to path1", "1 identical on both sides, to record"},
		{"4 to copy to path2"},
		{"  notes/ideas.md", "[06] new on path1"},
		{"  from-two.md", "[03] new on path2"},
		{"  notes/todo.md", "[11]", "same content"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(e.work); !os.IsNotExist(err) {
		t.Errorf("status made the workdir (stat: %v)", err)
	}
}

func TestStatusAfterEdits(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p1, "journal/old.md", "old\n")
	e.sync()
	id, err := os.ReadFile(filepath.Join(e.work, deviceIDFile))
	if err != nil {
		t.Fatal(err)
	}

	write(t, e.p1, "notes/todo.md", "- buy milk\n- call mum\n", "notes/new-on-one.md", "one\n")
	write(t, e.p2, "notes/ideas.md", "ideas, revised\n", "new-on-two.md", "two\n")
	write(t, e.p1, "README.md", "# My vault, edited on one\n")
	write(t, e.p2, "README.md", "# My vault, edited on two\n")
	remove(t, e.p2, "journal/old.md")
	out := e.statusOK()

	if !hasLine(out, "device", strings.TrimSpace(string(id))) || !hasLine(out, "last", "bidirectional") {
		t.Errorf("status does not show the device id %s and the last run:\n%s", id, out)
	}
	if strings.Contains(out, "first run") {
		t.Errorf("a later run is called a first run:\n%s", out)
	}
	conflict := lineIndex(out, "1 conflict:")
	conflictPath := lineIndex(out, "  README.md", "[16] changed on both sides")
	plan := lineIndex(out, "plan: 2 to copy to path2", "2 to copy to path1", "1 to delete on path1", "1 conflict")
	copies := lineIndex(out, "2 to copy to path2")
	if conflict < 0 || conflictPath < 0 || plan < 0 || copies < 0 || !(conflict < conflictPath && conflictPath < plan && plan < copies) {
		t.Errorf("want the conflict, then the counts, then the groups:\n%s", out)
	}
	for _, want := range [][]string{
		{"  notes/new-on-one.md", "[06] new on path1"},
		{"  notes/todo.md", "[10] changed on path1"},
		{"2 to copy to path1"},
		{"  notes/ideas.md", "[09] changed on path2"},
		{"1 to delete on path1"},
		{"  journal/old.md", "[07] deleted on path2"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
	// 2 to copy to path2 groups the two copies under one heading.
	if i, j := lineIndex(out, "  notes/new-on-one.md"), lineIndex(out, "  notes/todo.md"); !(copies < i && copies < j && j < lineIndex(out, "2 to copy to path1")) {
		t.Errorf("the copies to path2 are not grouped:\n%s", out)
	}

	// The plan is what a sync then does.
	e.sync()
	if out := e.statusOK(); !hasLine(out, "plan: in sync, nothing to do") {
		t.Errorf("status after the sync:\n%s", out)
	}
}

func TestStatusMassDeletion(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, numbered(20)...)
	e.sync()
	var gone []string
	for i := range 12 {
		gone = append(gone, fmt.Sprintf("n%02d.md", i))
	}
	remove(t, e.p1, gone...)
	before := e.freeze()
	beforeWork := snapshot(t, e.work)

	code, stdout, stderr := e.status()
	if code != exitSafetyCheck {
		t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitSafetyCheck, stdout, stderr)
	}
	stop := lineIndex(stdout, "a safety check would stop this sync")
	msg := lineIndex(stdout, "  ", "too many deletions", "12 of 20", "path2", "--force")
	plan := lineIndex(stdout, "plan: 12 to delete on path2")
	if stop < 0 || msg < 0 || plan < 0 || !(stop < msg && msg < plan) {
		t.Errorf("want the safety check's error before the plan:\n%s", stdout)
	}
	for _, p := range gone {
		if !hasLine(stdout, "  "+p, "[04] deleted on path1") {
			t.Errorf("status does not list the deletion of %s:\n%s", p, stdout)
		}
	}
	if !strings.Contains(stderr, "ferry: status: a safety check would stop") || strings.Contains(stderr, "status failed") {
		t.Errorf("stderr:\n%s", stderr)
	}
	e.unchanged(before, "status of a mass deletion")
	if got := snapshot(t, e.work); got != beforeWork {
		t.Errorf("status changed the workdir:\nbefore:\n%s\nafter:\n%s", beforeWork, got)
	}

	// sync stops with the same exit status.
	if syncCode, _, _ := e.syncCode(); syncCode != code {
		t.Errorf("status exits with %d, sync with %d", code, syncCode)
	}

	// With --force, the plan goes through.
	out := e.statusOK("--force")
	if strings.Contains(out, "safety check") || !hasLine(out, "plan: 12 to delete on path2") {
		t.Errorf("status --force:\n%s", out)
	}
}

func TestStatusWorkdir(t *testing.T) {
	e := newEnv(t)
	status := func() string {
		t.Helper()
		code, stdout, stderr := e.run("status", "--workdir", e.work)
		if code != 0 {
			t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		return stdout
	}
	out := status()
	if !hasLine(out, "workdir", e.work, "not made yet") || !hasLine(out, "device", "none yet") || !strings.Contains(out, "no pairs") {
		t.Errorf("status of a new workdir:\n%s", out)
	}
	if _, err := os.Stat(e.work); !os.IsNotExist(err) {
		t.Errorf("status made the workdir (stat: %v)", err)
	}

	write(t, e.p1, "a.md", "a\n")
	e.sync()
	e.sync("--mode", "push")
	id, err := os.ReadFile(filepath.Join(e.work, deviceIDFile))
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e.work)
	out = status()
	if got := snapshot(t, e.work); got != before {
		t.Errorf("status changed the workdir:\nbefore:\n%s\nafter:\n%s", before, got)
	}
	for _, want := range [][]string{
		{"workdir", e.work},
		{"device", strings.TrimSpace(string(id))},
		{"1 pair:"},
		{e.p1 + " <-> " + e.p2},
		{"last sync", ", push (2 runs logged)"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}

	// The default workdir, as for sync.
	if code, stdout, stderr := e.run("status"); code != 0 || !hasLine(stdout, "workdir", filepath.Join(e.home, ".local", "state", "ferry")) {
		t.Errorf("status without --workdir: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestStatusColourOnTerminal runs status in a pseudo-terminal (with
// util-linux's script) and checks that it is in colour there, and not in a
// pipe.
func TestStatusColourOnTerminal(t *testing.T) {
	e := newEnv(t)
	script, err := exec.LookPath("script")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs util-linux's script")
	}
	write(t, e.p1, "a.md", "a\n")
	cmdline := fmt.Sprintf("%q status %q %q --workdir %q", ferryBin, e.p1, e.p2, e.work)
	cmd := exec.Command(script, "-qec", cmdline, "/dev/null")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "RCLONE_CONFIG=" + e.rcloneRC, "TERM=xterm"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("script: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\x1b[") || !strings.Contains(ansi.ReplaceAllString(string(out), ""), "a.md") {
		t.Errorf("no colour on a terminal:\n%q", out)
	}
	if _, stdout, _ := e.status(); strings.Contains(stdout, "\x1b") {
		t.Errorf("colour in a pipe:\n%q", stdout)
	}
}
