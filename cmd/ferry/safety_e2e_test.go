package main

// End-to-end tests of the safety features of issue 4, with the binary on
// real folders: deletion protection (--max-delete, --max-delete-count,
// --force), the empty-side check, --check-access, --no-delete, filter
// edits between runs, bad filter rules, and deletion records that keep a
// second device from bringing deleted notes back.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// frozen is what a stopped run must leave exactly as it was: both sides
// byte for byte (content, mode, modtime, .ferry/ included) and the files
// of the workdir (the history, its previous generation, the run log, and
// no journal).
type frozen struct{ p1, p2, work string }

func (e *env) freeze() frozen {
	e.t.Helper()
	work := map[string]string{}
	if _, err := os.Stat(e.work); err == nil {
		work = tree(e.t, e.work)
	}
	// The device id is made by the first real run, stopped or not; it is
	// the workdir's, not the pair's.
	delete(work, deviceIDFile)
	return frozen{snapshot(e.t, e.p1), snapshot(e.t, e.p2), fmt.Sprintf("%q", work)}
}

// unchanged fails the test if anything frozen changed.
func (e *env) unchanged(before frozen, what string) {
	e.t.Helper()
	after := e.freeze()
	if after.p1 != before.p1 {
		e.t.Errorf("%s changed path1:\nbefore:\n%s\nafter:\n%s", what, before.p1, after.p1)
	}
	if after.p2 != before.p2 {
		e.t.Errorf("%s changed path2:\nbefore:\n%s\nafter:\n%s", what, before.p2, after.p2)
	}
	if after.work != before.work {
		e.t.Errorf("%s changed the workdir:\nbefore: %s\nafter:  %s", what, before.work, after.work)
	}
}

// expectStop runs sync with args and expects the safety check exit status,
// with every string of want in stderr.
func (e *env) expectStop(args []string, want ...string) (stdout, stderr string) {
	e.t.Helper()
	code, stdout, stderr := e.syncCode(args...)
	if code != exitSafetyCheck {
		e.t.Errorf("ferry sync %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), code, exitSafetyCheck, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			e.t.Errorf("ferry sync %s: stderr does not say %q:\n%s", strings.Join(args, " "), w, stderr)
		}
	}
	if strings.Contains(stdout, lineSuccess) {
		e.t.Errorf("a stopped run says it succeeded:\n%s", stdout)
	}
	return stdout, stderr
}

// numbered returns paths and contents of n notes, n00.md to n(n-1).md.
func numbered(n int) []string {
	var pc []string
	for i := range n {
		pc = append(pc, fmt.Sprintf("n%02d.md", i), fmt.Sprintf("note %d\n", i))
	}
	return pc
}

func TestMassDeletionStops(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, numbered(20)...)
	e.sync()
	var gone []string
	for i := range 12 { // 12 of 20: 60%, over the default 50%
		gone = append(gone, fmt.Sprintf("n%02d.md", i))
	}
	remove(t, e.p1, gone...)
	before := e.freeze()

	_, stderr := e.expectStop(nil,
		"sync failed", "12 of 20", "path2", "--max-delete 50%",
		"n00.md", "n09.md", "and 2 more", // a sample of ten, and how many more
		"--force")
	if !strings.Contains(stderr, "nothing was changed") && !strings.Contains(stderr, "before it changed anything") {
		t.Errorf("stderr does not say that nothing was changed:\n%s", stderr)
	}
	e.unchanged(before, "a run stopped by --max-delete")

	// A dry run shows the whole plan, then stops with the same error.
	stdout, _ := e.expectStop([]string{"--dry-run"}, "12 of 20", "--force")
	for _, p := range gone {
		if !hasLine(stdout, "delete on 2", p, "[04]") {
			t.Errorf("dry run does not list the deletion of %s:\n%s", p, stdout)
		}
	}
	if strings.Contains(stdout, lineDryRun) {
		t.Errorf("a stopped dry run says it succeeded:\n%s", stdout)
	}
	e.unchanged(before, "a dry run stopped by --max-delete")

	// --max-delete-count counts files; --max-delete 100 turns the
	// percentage off.
	e.expectStop([]string{"--max-delete", "100", "--max-delete-count", "11"}, "12 of 20", "--max-delete-count 11")
	e.unchanged(before, "a run stopped by --max-delete-count")

	// -q keeps the error: it is what -q is for.
	if code, stdout, stderr := e.syncCode("-q"); code != exitSafetyCheck || stdout != "" || !strings.Contains(stderr, "12 of 20") {
		t.Errorf("-q: exit status %d, stdout %q, stderr %q; want %d and the error", code, stdout, stderr, exitSafetyCheck)
	}
	e.unchanged(before, "a quiet run stopped by --max-delete")

	// --force lets the deletions through.
	out := e.sync("--force")
	if !strings.Contains(out, "12 deleted") {
		t.Errorf("--force: summary does not count 12 deletions:\n%s", out)
	}
	want := tree(t, e.p1)
	if len(want) != 8 {
		t.Fatalf("path1 changed: %q", want)
	}
	checkTree(t, "path2", tree(t, e.p2), want, nil)

	// A raised limit lets them through too.
	remove(t, e.p1, "n12.md", "n13.md", "n14.md", "n15.md", "n16.md")
	e.expectStop(nil, "5 of 8")
	e.sync("--max-delete", "70")
	checkTree(t, "path2", tree(t, e.p2), tree(t, e.p1), nil)
}

func TestEmptySideStops(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	e.sync()
	// path2 is emptied, .ferry/ and all, as an unmounted disk or a wrong
	// bucket would look.
	entries, err := os.ReadDir(e.p2)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entries {
		if err := os.RemoveAll(filepath.Join(e.p2, d.Name())); err != nil {
			t.Fatal(err)
		}
	}
	before := e.freeze()
	e.expectStop(nil, "path2", "lists no files", "--force")
	e.unchanged(before, "a run stopped by an empty side")
	// Not even --max-delete 100 lets it through; --force does.
	e.expectStop([]string{"--max-delete", "100"}, "lists no files")
	e.unchanged(before, "a run stopped by an empty side")

	// A folder that is gone altogether stops the run as well.
	if err := os.Remove(e.p2); err != nil {
		t.Fatal(err)
	}
	e.expectStop(nil, "path2", "--force")
	if _, err := os.Stat(e.p2); !os.IsNotExist(err) {
		t.Errorf("a stopped run created path2 (stat: %v)", err)
	}
	if err := os.Mkdir(e.p2, 0o755); err != nil {
		t.Fatal(err)
	}

	e.sync("--force")
	if got := tree(t, e.p1); len(got) != 0 {
		t.Errorf("--force with path2 emptied: path1 still has %q", got)
	}
}

func TestCheckAccess(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p1, "RCLONE_TEST", "", "notes/RCLONE_TEST", "")
	before := e.freeze()

	// The sentinels on path1 only: stop, on a first run too.
	e.expectStop([]string{"--check-access"}, "RCLONE_TEST", "path2", "--check-access")
	e.unchanged(before, "a failed access check")
	// --force does not override the access check (as in rclone bisync).
	e.expectStop([]string{"--check-access", "--force"}, "RCLONE_TEST")
	e.unchanged(before, "a failed access check with --force")

	// On both sides, but not at the same paths: stop.
	write(t, e.p2, "RCLONE_TEST", "")
	before = e.freeze()
	e.expectStop([]string{"--check-access"}, "differ", "notes/RCLONE_TEST")
	e.unchanged(before, "a failed access check")

	// At the same paths on both sides: the run goes ahead.
	write(t, e.p2, "notes/RCLONE_TEST", "")
	e.sync("--check-access")
	checkTree(t, "path2", tree(t, e.p2), tree(t, e.p1), nil)

	// --check-filename names another sentinel.
	e.expectStop([]string{"--check-access", "--check-filename", ".mounted"}, ".mounted")
	write(t, e.p1, ".mounted", "")
	write(t, e.p2, ".mounted", "")
	e.sync("--check-access", "--check-filename", ".mounted")

	// A side that lost its sentinel (a mount point with nothing mounted on
	// it) stops the run before its missing files are taken as deletions.
	write(t, e.p1, "notes/new.md", "new\n")
	remove(t, e.p2, ".mounted")
	before = e.freeze()
	e.expectStop([]string{"--check-access", "--check-filename", ".mounted"}, ".mounted", "path2")
	e.unchanged(before, "a failed access check")
}

func TestNoDeleteReportsAndKeeps(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	e.sync()
	remove(t, e.p1, "notes/ideas.md")
	remove(t, e.p2, "journal/2024-01-01.md")
	write(t, e.p1, "notes/todo.md", "- buy milk\n- and eggs\n")

	out := e.sync("--dry-run", "--no-delete")
	for _, p := range []string{"notes/ideas.md", "journal/2024-01-01.md"} {
		if !hasLine(out, "nothing", p, "--no-delete") {
			t.Errorf("dry run does not report the blocked deletion of %s:\n%s", p, out)
		}
	}

	for range 2 { // the deletions stay pending, run after run
		out = e.sync("--no-delete")
		for _, want := range [][]string{
			{"deletions blocked by --no-delete: 2"},
			{"notes/ideas.md", "--no-delete"},
			{"journal/2024-01-01.md", "--no-delete"},
			{"path1", "0 deleted"},
			{"path2", "0 deleted"},
		} {
			if !hasLine(out, want...) {
				t.Errorf("--no-delete: report has no line with %q:\n%s", want, out)
			}
		}
		if got := tree(t, e.p2)["notes/ideas.md"]; got != "ideas\n" {
			t.Errorf("--no-delete deleted notes/ideas.md on path2 (now %q)", got)
		}
		if got := tree(t, e.p1)["journal/2024-01-01.md"]; got != "New year.\n" {
			t.Errorf("--no-delete deleted journal/2024-01-01.md on path1 (now %q)", got)
		}
		if got := tree(t, e.p2)["notes/todo.md"]; got != "- buy milk\n- and eggs\n" {
			t.Errorf("--no-delete blocked an edit: path2 notes/todo.md = %q", got)
		}
	}

	// Without --no-delete, the pending deletions are made.
	out = e.sync()
	if strings.Contains(out, "--no-delete") {
		t.Errorf("a run without --no-delete mentions it:\n%s", out)
	}
	for _, side := range []string{e.p1, e.p2} {
		got := tree(t, side)
		for _, p := range []string{"notes/ideas.md", "journal/2024-01-01.md"} {
			if _, ok := got[p]; ok {
				t.Errorf("%s: %s was not deleted once --no-delete was dropped", side, p)
			}
		}
	}
}

func TestFilterEditsDeleteNothing(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p1, "drafts/a.md", "draft a\n", "drafts/b.md", "draft b\n", "big.bin", strings.Repeat("x", 4096))
	out := e.sync()
	if strings.Contains(out, "filters changed") {
		t.Errorf("a first run says the filters changed:\n%s", out)
	}

	// Narrowing: drafts/ and big files leave the filters. Nothing is
	// deleted or planned, and the report says why.
	narrow := []string{"--exclude", "drafts/**", "--max-size", "1k"}
	out = e.sync(narrow...)
	if !strings.Contains(out, "filters changed since the last run") || !strings.Contains(out, "left alone") ||
		!strings.Contains(out, "treated as new") {
		t.Errorf("narrowing: no note that the filters changed:\n%s", out)
	}
	if !strings.Contains(out, "0 deleted") || strings.Contains(out, "[") {
		t.Errorf("narrowing planned something:\n%s", out)
	}
	all := tree(t, e.p1)
	checkTree(t, "path2", tree(t, e.p2), all, nil)

	// Outside the filters, deletions and edits are left alone, on both
	// sides, however many there are.
	remove(t, e.p1, "drafts/a.md", "big.bin")
	write(t, e.p2, "drafts/b.md", "draft b, edited on two\n", "drafts/c.md", "new on two\n")
	out = e.sync(narrow...)
	if strings.Contains(out, "filters changed") {
		t.Errorf("same filters again: the report says they changed:\n%s", out)
	}
	if strings.Contains(out, "drafts/") || strings.Contains(out, "big.bin") || !strings.Contains(out, "0 copied here (0 bytes), 0 deleted") {
		t.Errorf("paths outside the filters were acted on:\n%s", out)
	}
	if _, ok := tree(t, e.p2)["big.bin"]; !ok {
		t.Error("big.bin, outside the filters, was deleted on path2")
	}

	// The same rules in a filters file are the same filters.
	rules := filepath.Join(e.root, "filters.txt")
	write(t, e.root, "filters.txt", "# drafts are private\n- drafts/**\n")
	out = e.sync("--filters-file", rules, "--max-size", "1k")
	if strings.Contains(out, "filters changed") {
		t.Errorf("the same rules from a file count as a change:\n%s", out)
	}

	// Widening again: what is there is new, nothing is deleted; what
	// differs is kept both ways.
	out = e.sync()
	if !strings.Contains(out, "filters changed since the last run") {
		t.Errorf("widening: no note that the filters changed:\n%s", out)
	}
	if !strings.Contains(out, "0 deleted") || hasLine(out, "deleted", "[0") {
		t.Errorf("widening deleted something:\n%s", out)
	}
	exact := map[string]string{"drafts/c.md": "new on two\n", "big.bin": strings.Repeat("x", 4096)}
	for _, pc := range [][2]string{{"README.md", ""}, {"notes/todo.md", ""}, {"notes/ideas.md", ""},
		{"journal/2024-01-01.md", ""}, {"attachments/pixel.png", ""}} {
		exact[pc[0]] = all[pc[0]]
	}
	kept := map[string][]string{"drafts/b.md": {"draft b\n", "draft b, edited on two\n"}}
	exact["drafts/a.md"] = "draft a\n" // deleted on path1 while excluded: back from path2
	checkTree(t, "path1", tree(t, e.p1), exact, kept)
	checkTree(t, "path2", tree(t, e.p2), exact, kept)
}

func TestBadFilterRules(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	rules := filepath.Join(e.root, "rules.txt")
	write(t, e.root, "rules.txt", "# my rules\n+ *.md\n\n- a[\n- **\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad pattern in a filters file", []string{"--filters-file", rules}, []string{rules + ":4", `"a["`}},
		{"malformed rule in a filters file", []string{"--exclude-from", rules}, nil},
		{"bad --include", []string{"--include", "notes/{a,b"}, []string{"--include", "notes/{a,b"}},
		{"malformed --filter", []string{"--filter", "*.md"}, []string{"--filter", `"*.md"`}},
		{"unsupported regexp", []string{"--exclude", "{{[0-9]+}}"}, []string{"--exclude", "unsupported"}},
		{"bad size", []string{"--min-size", "10q"}, []string{"--min-size", "10q"}},
		{"missing filters file", []string{"--filters-file", filepath.Join(e.root, "nosuch.txt")}, []string{"nosuch.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := e.syncCode(tc.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
			}
			for _, w := range append(tc.want, "--help") {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
	// Nothing was opened or listed: not even the workdir exists.
	if _, err := os.Stat(e.work); !os.IsNotExist(err) {
		t.Errorf("a bad filter rule created the workdir (stat: %v)", err)
	}
	if got := tree(t, e.p2); len(got) != 0 {
		t.Errorf("a bad filter rule changed path2: %q", got)
	}
}

// TestSecondDeviceJoins: device A deletes notes, the deletions reach the
// remote; device B, with stale copies of the vault and no history, joins
// the remote. Its stale copies are deleted, not brought back; a note it
// edited after A's deletion is kept and uploaded.
func TestSecondDeviceJoins(t *testing.T) {
	e := newEnv(t) // path1 is device A's vault, path2 the shared remote
	laptopB := filepath.Join(e.root, "laptop-b")
	workB := filepath.Join(e.root, "work-b")
	notes := []string{"keep.md", "stale.md", "stale2.md", "edited.md", "other1.md", "other2.md", "other3.md"}
	for _, n := range notes {
		write(t, e.p1, n, "v1 of "+n+"\n")
		write(t, laptopB, n, "v1 of "+n+"\n") // B's old copy of the vault
	}
	// B's copies are older than A's: the same content, other modtimes.
	old := time.Now().Add(-30 * 24 * time.Hour)
	for _, n := range notes {
		if err := os.Chtimes(filepath.Join(laptopB, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	remove(t, e.p1, "stale.md", "stale2.md", "edited.md")
	e.sync()
	for _, n := range []string{"stale.md", "stale2.md", "edited.md"} {
		if _, ok := tree(t, e.p2)[n]; ok {
			t.Fatalf("A's deletion of %s did not reach the remote", n)
		}
	}
	write(t, laptopB, "edited.md", "v2 of edited.md, edited on B after A deleted it\n")

	syncB := func(args ...string) (int, string, string) {
		return e.run(append([]string{"sync", laptopB, e.p2, "--workdir", workB}, args...)...)
	}
	code, out, stderr := syncB("--dry-run")
	if code != 0 {
		t.Fatalf("B's dry run: exit status %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range [][]string{
		{"delete on 1", "stale.md", "stale copy"},
		{"delete on 1", "stale2.md", "stale copy"},
		{"copy 1->2", "edited.md", "[06]"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("B's dry run has no line with %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, metaDir) {
		t.Errorf("B's plan mentions ferry's own folder:\n%s", out)
	}

	code, out, stderr = syncB()
	if code != 0 || !strings.Contains(out, lineSuccess) {
		t.Fatalf("B's first run: exit status %d\n%s\n%s", code, out, stderr)
	}
	want := map[string]string{
		"keep.md":   "v1 of keep.md\n",
		"other1.md": "v1 of other1.md\n", "other2.md": "v1 of other2.md\n", "other3.md": "v1 of other3.md\n",
		"edited.md": "v2 of edited.md, edited on B after A deleted it\n",
	}
	checkTree(t, "device B", tree(t, laptopB), want, nil)
	checkTree(t, "remote", tree(t, e.p2), want, nil)

	// A picks up B's edit and deletes nothing more.
	out = e.sync()
	checkTree(t, "device A", tree(t, e.p1), want, nil)
	if !strings.Contains(out, "0 deleted") || strings.Contains(out, " 1 deleted") {
		t.Errorf("A's next run deleted something:\n%s", out)
	}

	// .ferry/ is each side's own: never synced, never in a plan. A only
	// ever had files deleted on the remote, so A's vault has no deletion
	// records; B's has its own (the two stale copies), not the remote's.
	if _, err := os.Stat(filepath.Join(e.p1, metaDir, "deletions")); !os.IsNotExist(err) {
		t.Errorf("device A has deletion records it never made (stat: %v)", err)
	}
	recB, err := os.ReadFile(filepath.Join(laptopB, metaDir, "deletions"))
	if err != nil {
		t.Errorf("device B deleted its stale copies but keeps no record of it: %v", err)
	}
	recR, err := os.ReadFile(filepath.Join(e.p2, metaDir, "deletions"))
	if err != nil {
		t.Errorf("the remote keeps no record of A's deletions: %v", err)
	}
	if string(recB) == string(recR) {
		t.Error("device B's deletion records are a copy of the remote's")
	}
	for _, dir := range []string{e.p1, e.p2, laptopB} {
		entries, err := os.ReadDir(filepath.Join(dir, metaDir))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range entries {
			if d.Name() != "format" && d.Name() != "deletions" {
				t.Errorf("%s: unexpected %s/%s", dir, metaDir, d.Name())
			}
		}
	}
}

// TestLostWorkdirKeepsDeletions: a pair whose workdir was lost is, for the
// deletion records, a new device: a stale copy of a note that ferry deleted
// (path1 restored from an old backup, say) is deleted again, not brought
// back.
func TestLostWorkdirKeepsDeletions(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, numbered(6)...)
	e.sync()
	remove(t, e.p1, "n00.md")
	e.sync() // deletes n00.md on path2, and records it there
	write(t, e.p1, "n00.md", "note 0\n")
	if err := os.RemoveAll(e.work); err != nil {
		t.Fatal(err)
	}
	out := e.sync()
	if !hasLine(out, "path1", "1 deleted") {
		t.Errorf("the restored stale copy was not deleted:\n%s", out)
	}
	want := tree(t, e.p2)
	if _, ok := want["n00.md"]; ok || len(want) != 5 {
		t.Errorf("path2 = %q: the deleted note came back", want)
	}
	checkTree(t, "path1", tree(t, e.p1), want, nil)
}
