package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/history"
)

// The log tests write run logs with history.AppendRun into a temporary
// workdir, as the engine does, and compare the text. Times are shown in
// local time; the tests pass time.UTC to the command (logFlags.loc), since
// setting TZ in a test does not change time.Local once the process has
// loaded it. TestLogLocalTime checks the command as users run it.

const (
	vault1, vault2   = "/home/me/vault", "vault-s3:notes"
	photos1, photos2 = "/home/me/photos", "nas:photos"
)

var (
	runVault1 = history.RunEntry{
		ID: "a1", Start: time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC), Duration: 1500 * time.Millisecond,
		Mode: "bidirectional", Path1: vault1, Path2: vault2,
		Counts: map[string]int{"copy 1->2": 2, "delete on 1": 1, "conflict": 1},
		Bytes:  [2]int64{0, 14},
		Actions: []history.LoggedAction{
			{Path: "notes/d.md", Decision: 16, Op: "conflict", Reason: "changed on both sides, different content: both versions kept"},
			{Path: "notes/a.md", Decision: 10, Op: "copy 1->2", Reason: "changed on path1"},
			{Path: "notes/b.md", Decision: 7, Op: "delete on 1", Reason: "deleted on path2"},
			{Path: "notes.md", Decision: 6, Op: "copy 1->2", Reason: "new on path1"},
		},
	}
	runPhotos = history.RunEntry{
		ID: "p1", Start: time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC), Duration: 2*time.Minute + 3400*time.Millisecond,
		Mode: "pull-delete", Path1: photos1, Path2: photos2,
		Counts: map[string]int{"copy 2->1": 3, "delete on 1": 2},
		Bytes:  [2]int64{3 << 20, 0},
		Actions: []history.LoggedAction{
			{Path: "album/1.jpg", Decision: 3, Op: "copy 2->1", Reason: "new on path2"},
		},
	}
	runVault2 = history.RunEntry{
		ID: "a2", Start: time.Date(2024, 5, 7, 9, 0, 0, 0, time.UTC), Duration: 250 * time.Millisecond,
		Mode: "push", Path1: vault1, Path2: vault2,
		Counts: map[string]int{"copy 1->2": 1},
		Bytes:  [2]int64{0, 5},
		Errors: []string{"list path2: slow down (retried)"},
		Actions: []history.LoggedAction{
			{Path: "notes/a.md", Decision: 26, Op: "copy 1->2", Reason: "changed on path2; push restores path1's version"},
		},
	}
)

// runLogOf is the run log's path in workdir for a pair, as the engine
// names it.
func runLogOf(workdir, name1, name2 string) string {
	return filepath.Join(workdir, strings.TrimSuffix(historyName(name1, name2), ".hist")+runLogSuffix)
}

// logWorkdir makes a workdir holding the run logs of two pairs.
func logWorkdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range []history.RunEntry{runVault1, runPhotos, runVault2} {
		if err := history.AppendRun(runLogOf(dir, e.Path1, e.Path2), e); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ferryLog runs the log command in UTC and returns its output.
func ferryLog(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	var started bool
	cmd := (&logFlags{loc: time.UTC}).command(&out, &errOut, &started)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestLogRuns(t *testing.T) {
	dir := logWorkdir(t)
	stdout, stderr, err := ferryLog(t, "--workdir", dir)
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	want := `2024-05-07 09:00:00  /home/me/vault <-> vault-s3:notes  push           0.2s  1->2: 1 copied (5 bytes), 0 deleted   2->1: 0 copied (0 bytes), 0 deleted  0 conflicts  1 error
2024-05-06 12:00:00  /home/me/photos <-> nas:photos     pull-delete    2m3s  1->2: 0 copied (0 bytes), 0 deleted   2->1: 3 copied (3.0 MiB), 2 deleted  0 conflicts  0 errors
2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  bidirectional  1.5s  1->2: 2 copied (14 bytes), 0 deleted  2->1: 0 copied (0 bytes), 1 deleted  1 conflict   0 errors
`
	if stdout != want {
		t.Errorf("ferry log:\n%s\nwant:\n%s", stdout, want)
	}

	// Columns are as wide as the runs shown need.
	stdout, _, err = ferryLog(t, "--workdir", dir, "-n", "1")
	want = "2024-05-07 09:00:00  /home/me/vault <-> vault-s3:notes  push  0.2s  1->2: 1 copied (5 bytes), 0 deleted  2->1: 0 copied (0 bytes), 0 deleted  0 conflicts  1 error\n"
	if err != nil || stdout != want {
		t.Errorf("ferry log -n 1: %v\n%s\nwant:\n%s", err, stdout, want)
	}
}

func TestLogPath(t *testing.T) {
	dir := logWorkdir(t)
	const (
		a2 = "2024-05-07 09:00:00  /home/me/vault <-> vault-s3:notes  copy 1->2  notes/a.md  [26] changed on path2; push restores path1's version\n"
		a1 = "2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  copy 1->2  notes/a.md  [10] changed on path1\n"
	)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"notes/a.md"}, a2 + a1},
		{[]string{"./notes//a.md"}, a2 + a1},
		{[]string{"/home/me/vault/notes/a.md"}, a2 + a1},
		{[]string{"vault-s3:notes/notes/a.md"}, a2 + a1},
		{[]string{"-n", "1", "notes/a.md"}, a2},
		{[]string{"notes/"}, "" +
			"2024-05-07 09:00:00  /home/me/vault <-> vault-s3:notes  copy 1->2    notes/a.md  [26] changed on path2; push restores path1's version\n" +
			"2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  copy 1->2    notes/a.md  [10] changed on path1\n" +
			"2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  delete on 1  notes/b.md  [07] deleted on path2\n" +
			"2024-05-06 07:08:09  /home/me/vault <-> vault-s3:notes  conflict     notes/d.md  [16] changed on both sides, different content: both versions kept\n"},
		{[]string{"album/1.jpg"}, "2024-05-06 12:00:00  /home/me/photos <-> nas:photos  copy 2->1  album/1.jpg  [03] new on path2\n"},
		{[]string{"/home/me/photos"}, "2024-05-06 12:00:00  /home/me/photos <-> nas:photos  copy 2->1  album/1.jpg  [03] new on path2\n"},
	} {
		stdout, stderr, err := ferryLog(t, append(tc.args, "--workdir", dir)...)
		if err != nil || stderr != "" {
			t.Errorf("ferry log %q: err %v, stderr %q", tc.args, err, stderr)
		}
		if stdout != tc.want {
			t.Errorf("ferry log %q:\n%s\nwant:\n%s", tc.args, stdout, tc.want)
		}
	}

	for _, p := range []string{"notes/a", "note", "/elsewhere/notes/a.md", "other:notes/a.md"} {
		stdout, stderr, err := ferryLog(t, p, "--workdir", dir)
		if err != nil || stdout != "" || !strings.Contains(stderr, "no logged run did anything to "+p) {
			t.Errorf("ferry log %s: err %v, stdout %q, stderr %q", p, err, stdout, stderr)
		}
	}
}

func TestLogOmittedActions(t *testing.T) {
	dir := t.TempDir()
	e := runVault1
	e.Omitted = 10
	if err := history.AppendRun(runLogOf(dir, vault1, vault2), e); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := ferryLog(t, "--workdir", dir, "notes/a.md")
	if err != nil || !strings.Contains(stderr, "1 run had too many actions") {
		t.Errorf("err %v, stderr %q", err, stderr)
	}
}

// TestLogDamaged: a damaged run log gives what could be read and a
// warning; a log from a newer ferry fails the command (status 7) after
// the other pairs are listed.
func TestLogDamaged(t *testing.T) {
	dir := t.TempDir()
	logPath := runLogOf(dir, vault1, vault2)
	for _, e := range []history.RunEntry{runVault1, runVault2} {
		if err := history.AppendRun(logPath, e); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	data[30] ^= 0xff // inside the first entry's frame
	if err := os.WriteFile(logPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runFerry(t, "log", "--workdir", dir)
	if code != exitSuccess {
		t.Errorf("exit status %d, want 0\n%s", code, stderr)
	}
	if lines := strings.Count(stdout, "\n"); lines != 1 || !strings.Contains(stdout, "push") {
		t.Errorf("want the intact run only:\n%s", stdout)
	}
	if !strings.Contains(stderr, "warning") || !strings.Contains(stderr, filepath.Base(logPath)) {
		t.Errorf("no warning naming the damaged log:\n%s", stderr)
	}

	if err := history.AppendRun(runLogOf(dir, photos1, photos2), runPhotos); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "x..y-0000000000000000"+runLogSuffix+".2")
	if err := os.WriteFile(newer, []byte("FERRYLOG\x00\x09"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runFerry(t, "log", "--workdir", dir)
	if code != exitFatal {
		t.Errorf("with a log from a newer ferry: exit status %d, want %d\n%s", code, exitFatal, stderr)
	}
	if strings.Count(stdout, "\n") != 2 {
		t.Errorf("the other pairs' runs are not all listed:\n%s", stdout)
	}
	if !strings.Contains(stderr, "ferry: log failed:") || !strings.Contains(stderr, "newer version") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

func TestLogEmpty(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		code, stdout, stderr := runFerry(t, "log", "--workdir", dir)
		if code != exitSuccess || stdout != "" || !strings.Contains(stderr, "no runs logged") {
			t.Errorf("%s: exit status %d, stdout %q, stderr %q", dir, code, stdout, stderr)
		}
	}
}

// TestLogLocalTime runs the command as users do: times in local time.
func TestLogLocalTime(t *testing.T) {
	dir := logWorkdir(t)
	code, stdout, stderr := runFerry(t, "log", "--workdir", dir)
	if code != exitSuccess || stderr != "" {
		t.Fatalf("exit status %d, stderr %q", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		got = append(got, line[:len(logTimeFormat)])
	}
	var want []string
	for _, e := range []history.RunEntry{runVault2, runPhotos, runVault1} {
		want = append(want, e.Start.Local().Format(logTimeFormat))
	}
	if !slices.Equal(got, want) {
		t.Errorf("times %q, want %q", got, want)
	}
}

func TestLogUsage(t *testing.T) {
	for _, args := range [][]string{{"log", "a", "b"}, {"log", "-n", "-1"}, {"log", "-n", "x"}, {"log", ""}, {"log", "--bogus"}} {
		code, _, stderr := runFerry(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "ferry log --help") {
			t.Errorf("ferry %q: exit status %d, stderr %q", args, code, stderr)
		}
	}
	code, stdout, _ := runFerry(t, "log", "--help")
	if code != exitSuccess || !strings.Contains(stdout, "--workdir") || !strings.Contains(stdout, "--max-count") {
		t.Errorf("log --help: %d\n%s", code, stdout)
	}
}

func TestRunLogs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.runlog", "a.runlog.1", "b.runlog.2", "c.runlog.tmp-123", "d.hist",
		"e.runlogx", "f.runlog.x", "g.runlog..h-1.runlog", ".runlog"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.runlog"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := runLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p))
	}
	slices.Sort(names)
	if want := []string{"a.runlog", "b.runlog", "g.runlog..h-1.runlog"}; !slices.Equal(names, want) {
		t.Errorf("runLogs = %q, want %q", names, want)
	}
}

func TestCountRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    history.RunEntry
		want runCounts
	}{
		{"op labels", runVault1, runCounts{copied: [2]int{2, 0}, deleted: [2]int{0, 1}, conflicts: 1}},
		{"decision and op labels", history.RunEntry{Counts: map[string]int{"10 copy 1->2": 2, "09 copy 2->1": 1,
			"04 delete on 2": 4, "16 conflict": 1, "11 conflict": 2, "02 nothing": 100}},
			runCounts{copied: [2]int{2, 1}, deleted: [2]int{4, 0}, conflicts: 3}},
		{"no counts: the actions", history.RunEntry{Actions: runVault1.Actions},
			runCounts{copied: [2]int{2, 0}, deleted: [2]int{0, 1}, conflicts: 1}},
		{"nothing", history.RunEntry{}, runCounts{}},
	} {
		if got := countRun(&tc.e); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.0s", 40 * time.Millisecond: "0.0s", 1500 * time.Millisecond: "1.5s", 59*time.Second + 940*time.Millisecond: "59.9s",
		time.Minute: "1m0s", 2*time.Minute + 3400*time.Millisecond: "2m3s", 3*time.Hour + 25*time.Second: "3h0m25s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
