package main

// End-to-end tests: build the ferry binary once and drive it on real
// folders, as a user would. They check the documented behaviour
// (DESIGN.md's tables, docs/user-guide.md), not the engine's internals.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The binary is built once, into binDir, by the first end-to-end test that
// needs it, so that runs that select no such test (-run, -bench, -fuzz,
// -short) do not pay for linking rclone.
var (
	binDir    string // made and removed by TestMain
	buildOnce sync.Once
	ferryBin  string // set once the build succeeded
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildFerry builds the binary under test from this package's source.
func buildFerry(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("cannot find the go command: %w", err)
			return
		}
		bin := filepath.Join(binDir, "ferry")
		out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		ferryBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return ferryBin
}

// env is one test's world: two sides, a workdir and a home folder, all in a
// temporary folder, so that no test touches the user's files or rclone
// config.
type env struct {
	t              *testing.T
	root           string
	p1, p2, work   string
	home, rcloneRC string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	t.Parallel()
	buildFerry(t)
	root := t.TempDir()
	e := &env{
		t:        t,
		root:     root,
		p1:       filepath.Join(root, "one"),
		p2:       filepath.Join(root, "two"),
		work:     filepath.Join(root, "work"),
		home:     filepath.Join(root, "home"),
		rcloneRC: filepath.Join(root, "rclone.conf"),
	}
	for _, d := range []string{e.p1, e.p2, e.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(e.rcloneRC, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs the binary with args as given and returns its exit status and
// output.
func (e *env) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ferryBin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(e.home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(e.home, ".local", "state"),
		"RCLONE_CONFIG=" + e.rcloneRC,
		"TMPDIR=" + os.TempDir(),
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("ferry %s: timed out\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errOut.String())
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		e.t.Fatalf("ferry %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// sync runs `ferry sync p1 p2 --workdir work args...` and expects success.
func (e *env) sync(args ...string) string {
	e.t.Helper()
	code, stdout, stderr := e.syncCode(args...)
	if code != 0 {
		e.t.Fatalf("ferry sync %s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	if want := lineSuccess; !slices.Contains(args, "--dry-run") && !strings.Contains(stdout, want) {
		e.t.Errorf("ferry sync %s: stdout does not say %q:\n%s", strings.Join(args, " "), want, stdout)
	}
	return stdout
}

func (e *env) syncCode(args ...string) (int, string, string) {
	e.t.Helper()
	return e.run(append([]string{"sync", e.p1, e.p2, "--workdir", e.work}, args...)...)
}

// write creates or replaces files under dir: path, content, path, content...
func write(t *testing.T, dir string, pathsAndContents ...string) {
	t.Helper()
	for i := 0; i < len(pathsAndContents); i += 2 {
		p := filepath.Join(dir, filepath.FromSlash(pathsAndContents[i]))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(pathsAndContents[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(t *testing.T, dir string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
}

// metaDir is ferry's own folder on each side (deletion records); it is not
// part of the synced content.
const metaDir = ".ferry"

// tree returns the files under dir, path -> content, leaving out metaDir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == metaDir {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// snapshot describes everything under dir, metaDir included: every
// directory and file with its content, mode and modification time. A
// missing dir gives "".
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return filepath.SkipAll
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %v %d", filepath.ToSlash(rel), info.Mode(), info.ModTime().UnixNano())
		if !d.IsDir() {
			c, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", c)
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// isConflictCopy reports whether name is a conflict copy of p: in the same
// folder, named after p's stem, and carrying the word "conflict".
func isConflictCopy(name, p string) bool {
	if name == p || path.Dir(name) != path.Dir(p) {
		return false
	}
	base, pbase := path.Base(name), path.Base(p)
	stem := strings.TrimSuffix(pbase, path.Ext(pbase))
	return strings.HasPrefix(base, stem) && strings.Contains(strings.ToLower(base), "conflict")
}

// checkTree compares the files of one side with what is expected.
//
// exact holds the files that must be there with exactly that content.
// kept maps a path that had a conflict to the versions that must survive
// in its conflict copies; when exact also holds that path, the copies
// must hold exactly kept's versions and the path exact's, otherwise the path
// and its copies together must hold exactly kept's versions (in any
// order). No other file may exist.
func checkTree(t *testing.T, side string, got, exact map[string]string, kept map[string][]string) {
	t.Helper()
	claimed := map[string]bool{}
	for p, versions := range kept {
		var have []string
		if _, ok := exact[p]; !ok {
			if c, ok := got[p]; ok {
				have = append(have, c)
				claimed[p] = true
			}
		}
		for name, c := range got {
			if isConflictCopy(name, p) {
				have = append(have, c)
				claimed[name] = true
			}
		}
		slices.Sort(have)
		want := slices.Sorted(slices.Values(versions))
		if !slices.Equal(have, want) {
			t.Errorf("%s: versions kept of %s: %q, want %q\ntree: %q", side, p, have, want, got)
		}
	}
	for p, c := range exact {
		if g, ok := got[p]; !ok {
			t.Errorf("%s: %s is missing; tree: %q", side, p, got)
		} else if g != c {
			t.Errorf("%s: %s = %q, want %q", side, p, g, c)
		}
	}
	for p, c := range got {
		if _, ok := exact[p]; !ok && !claimed[p] {
			t.Errorf("%s: unexpected file %s = %q", side, p, c)
		}
	}
}

// sampleVault is a small notes vault: folders, notes and an attachment.
var sampleVault = []string{
	"README.md", "# My vault\n",
	"notes/todo.md", "- buy milk\n",
	"notes/ideas.md", "ideas\n",
	"journal/2024-01-01.md", "New year.\n",
	"attachments/pixel.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
}

func TestFirstRunIsTheUnion(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p2,
		"notes/todo.md", "- buy milk\n", // same content on both sides: recorded
		"from-two/other.md", "other\n",
	)
	out := e.sync()
	want := tree(t, e.p1)
	want["from-two/other.md"] = "other\n"
	checkTree(t, "path1", tree(t, e.p1), want, nil)
	checkTree(t, "path2", tree(t, e.p2), want, nil)
	if strings.Contains(strings.ToLower(out), "conflicts:") {
		t.Errorf("equal files reported as a conflict:\n%s", out)
	}

	// The next run has nothing to do.
	if out := e.sync("--dry-run"); strings.Contains(out, "[") {
		t.Errorf("second run plans actions:\n%s", out)
	}
}

func TestFirstRunDifferentContentKeepsBoth(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "notes/a.md", "version one\n", "same.md", "same\n")
	write(t, e.p2, "notes/a.md", "version two, longer\n", "same.md", "same\n")
	e.sync()
	exact := map[string]string{"same.md": "same\n"}
	kept := map[string][]string{"notes/a.md": {"version one\n", "version two, longer\n"}}
	checkTree(t, "path1", tree(t, e.p1), exact, kept)
	checkTree(t, "path2", tree(t, e.p2), exact, kept)
	if t1, t2 := tree(t, e.p1), tree(t, e.p2); !mapsEqual(t1, t2) {
		t.Errorf("sides differ after the first run:\npath1 %q\npath2 %q", t1, t2)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestEditsAndDeletionsBothWays(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p1, "journal/old.md", "old\n", "notes/stale.md", "stale\n")
	e.sync()

	write(t, e.p1, "notes/todo.md", "- buy milk\n- call mum\n", "notes/new-on-one.md", "one\n") // 10, 06
	write(t, e.p2, "notes/ideas.md", "ideas, revised\n", "new-on-two.md", "two\n")              // 09, 03
	remove(t, e.p1, "journal/old.md")                                                           // 04
	remove(t, e.p2, "notes/stale.md")                                                           // 07
	out := e.sync()

	want := map[string]string{
		"README.md":             "# My vault\n",
		"notes/todo.md":         "- buy milk\n- call mum\n",
		"notes/ideas.md":        "ideas, revised\n",
		"notes/new-on-one.md":   "one\n",
		"new-on-two.md":         "two\n",
		"journal/2024-01-01.md": "New year.\n",
		"attachments/pixel.png": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
	}
	checkTree(t, "path1", tree(t, e.p1), want, nil)
	checkTree(t, "path2", tree(t, e.p2), want, nil)
	if !strings.Contains(out, "1 deleted") {
		t.Errorf("summary does not count the deletions:\n%s", out)
	}
}

func TestConflictKeepsBothVersionsOnBothSides(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	e.sync()

	write(t, e.p1, "notes/todo.md", "- buy milk\n- edited on one\n")
	write(t, e.p2, "notes/todo.md", "- buy oat milk, edited on two\n")
	out := e.sync()

	exact := tree(t, e.p1)
	for p := range exact {
		if p == "notes/todo.md" || isConflictCopy(p, "notes/todo.md") {
			delete(exact, p)
		}
	}
	kept := map[string][]string{"notes/todo.md": {"- buy milk\n- edited on one\n", "- buy oat milk, edited on two\n"}}
	checkTree(t, "path1", tree(t, e.p1), exact, kept)
	checkTree(t, "path2", tree(t, e.p2), exact, kept)
	if t1, t2 := tree(t, e.p1), tree(t, e.p2); !mapsEqual(t1, t2) {
		t.Errorf("sides differ after a conflict:\npath1 %q\npath2 %q", t1, t2)
	}
	if !strings.Contains(out, "notes/todo.md") || !strings.Contains(out, "[16]") {
		t.Errorf("the summary does not show the conflict with its decision [16]:\n%s", out)
	}
	if out := e.sync("--dry-run"); strings.Contains(out, "[") {
		t.Errorf("the run after a conflict plans actions:\n%s", out)
	}
}

func TestConflictResolveWinner(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n", "b.md", "b\n")
	e.sync()
	write(t, e.p1, "a.md", "a edited on one\n")
	write(t, e.p2, "a.md", "a edited on two, longer\n")
	out := e.sync("--conflict-resolve", "path1", "--conflict-loser", "delete")

	want := map[string]string{"a.md": "a edited on one\n", "b.md": "b\n"}
	checkTree(t, "path1", tree(t, e.p1), want, nil)
	checkTree(t, "path2", tree(t, e.p2), want, nil)
	if !hasLine(out, "conflict", "a.md", "[16]", "path1 wins") {
		t.Errorf("the summary does not show the resolved conflict:\n%s", out)
	}
}

func TestResyncIsTheUnionAgain(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n", "b.md", "b\n")
	e.sync()
	remove(t, e.p1, "a.md")
	write(t, e.p2, "b.md", "b edited on two\n")

	// With the history, a.md's deletion would travel to path2; a resync
	// forgets it and makes the union: a.md comes back, and b.md, which
	// now differs, is a conflict.
	e.sync("--resync")
	exact := map[string]string{"a.md": "a\n"}
	kept := map[string][]string{"b.md": {"b\n", "b edited on two\n"}}
	checkTree(t, "path1", tree(t, e.p1), exact, kept)
	checkTree(t, "path2", tree(t, e.p2), exact, kept)
}

func TestVerboseListsActions(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	code, stdout, stderr := e.syncCode("-v")
	if code != 0 {
		t.Fatalf("exit status %d\n%s\n%s", code, stdout, stderr)
	}
	if !hasLine(stdout, "copy 1->2", "a.md", "[06]") {
		t.Errorf("-v does not list the action on stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "a.md") {
		t.Errorf("-v does not log the action on stderr:\n%s", stderr)
	}

	write(t, e.p1, "b.md", "b\n")
	code, stdout, stderr = e.syncCode("-q")
	if code != 0 || stdout != "" || stderr != "" {
		t.Errorf("-q: exit status %d, stdout %q, stderr %q; want 0 and silence", code, stdout, stderr)
	}
}

func TestTouchIsNotAnEdit(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	e.sync()
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(e.p1, "notes", "ideas.md"), later, later); err != nil {
		t.Fatal(err)
	}
	out := e.sync("--dry-run")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "notes/ideas.md") && (strings.Contains(line, "copy") || strings.Contains(line, "conflict")) {
			t.Errorf("a touched file is planned as an edit: %s", line)
		}
	}
}

// modeScenario: after a first sync of {a, b, c, e}, path1 edits a, deletes b
// and creates p1new; path2 edits c, deletes e and creates p2new.
func modeScenario(t *testing.T, mode string, extra ...string) *env {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n", "b.md", "b\n", "c.md", "c\n", "e.md", "e\n")
	e.sync()
	write(t, e.p1, "a.md", "a edited on one\n", "p1new.md", "new on one\n")
	remove(t, e.p1, "b.md")
	write(t, e.p2, "c.md", "c edited on two\n", "p2new.md", "new on two\n")
	remove(t, e.p2, "e.md")
	e.sync(append([]string{"--mode", mode}, extra...)...)
	return e
}

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode         string
		side1, side2 map[string]string   // exact
		kept1, kept2 map[string][]string // conflict copies of overwritten edits
	}{
		{
			// 10 a copy 1->2; 29 b nothing; 26 c copy 1->2 (path2's edit
			// kept as a conflict copy); 32 e copy 1->2; 06 p1new copy
			// 1->2; p2new nothing. path1 never changes.
			mode:  "push",
			side1: map[string]string{"a.md": "a edited on one\n", "c.md": "c\n", "e.md": "e\n", "p1new.md": "new on one\n"},
			side2: map[string]string{"a.md": "a edited on one\n", "b.md": "b\n", "c.md": "c\n", "e.md": "e\n",
				"p1new.md": "new on one\n", "p2new.md": "new on two\n"},
			kept2: map[string][]string{"c.md": {"c edited on two\n"}},
		},
		{
			// As push, but 38 b delete on 2.
			mode:  "push-delete",
			side1: map[string]string{"a.md": "a edited on one\n", "c.md": "c\n", "e.md": "e\n", "p1new.md": "new on one\n"},
			side2: map[string]string{"a.md": "a edited on one\n", "c.md": "c\n", "e.md": "e\n",
				"p1new.md": "new on one\n", "p2new.md": "new on two\n"},
			kept2: map[string][]string{"c.md": {"c edited on two\n"}},
		},
		{
			// 27 a copy 2->1 (path1's edit kept as a conflict copy); 35 b
			// copy 2->1; 09 c copy 2->1; 33 e nothing; p1new nothing; 03
			// p2new copy 2->1. path2 never changes.
			mode: "pull",
			side1: map[string]string{"a.md": "a\n", "b.md": "b\n", "c.md": "c edited on two\n", "e.md": "e\n",
				"p1new.md": "new on one\n", "p2new.md": "new on two\n"},
			side2: map[string]string{"a.md": "a\n", "b.md": "b\n", "c.md": "c edited on two\n", "p2new.md": "new on two\n"},
			kept1: map[string][]string{"a.md": {"a edited on one\n"}},
		},
		{
			// As pull, but 39 e delete on 1.
			mode: "pull-delete",
			side1: map[string]string{"a.md": "a\n", "b.md": "b\n", "c.md": "c edited on two\n",
				"p1new.md": "new on one\n", "p2new.md": "new on two\n"},
			side2: map[string]string{"a.md": "a\n", "b.md": "b\n", "c.md": "c edited on two\n", "p2new.md": "new on two\n"},
			kept1: map[string][]string{"a.md": {"a edited on one\n"}},
		},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			e := modeScenario(t, tc.mode)
			checkTree(t, "path1", tree(t, e.p1), tc.side1, tc.kept1)
			checkTree(t, "path2", tree(t, e.p2), tc.side2, tc.kept2)
		})
	}
}

// TestBackupDir: with --backup-dir2, what a push-delete overwrites or
// deletes on path2 goes to the backup folder instead of a conflict copy.
func TestBackupDir(t *testing.T) {
	e := newEnv(t)
	backup := filepath.Join(e.root, "backup2")
	write(t, e.p1, "a.md", "a\n", "b.md", "b\n", "c.md", "c\n", "e.md", "e\n")
	e.sync()
	write(t, e.p1, "a.md", "a edited on one\n")
	remove(t, e.p1, "b.md")
	write(t, e.p2, "c.md", "c edited on two\n")
	e.sync("--mode", "push-delete", "--backup-dir2", backup)

	checkTree(t, "path2", tree(t, e.p2),
		map[string]string{"a.md": "a edited on one\n", "c.md": "c\n", "e.md": "e\n"}, nil)
	got := slices.Sorted(func(yield func(string) bool) {
		for _, c := range tree(t, backup) {
			if !yield(c) {
				return
			}
		}
	})
	for _, want := range []string{"b\n", "c edited on two\n"} {
		if !slices.Contains(got, want) {
			t.Errorf("backup dir lacks %q; it holds %q", want, got)
		}
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, sampleVault...)
	write(t, e.p2, "from-two.md", "two\n")

	// First run: not even the workdir is created.
	before1, before2 := snapshot(t, e.p1), snapshot(t, e.p2)
	homeBefore := snapshot(t, e.home)
	out := e.sync("--dry-run")
	if _, err := os.Stat(e.work); !os.IsNotExist(err) {
		t.Errorf("dry run created the workdir (stat: %v)", err)
	}
	if snapshot(t, e.p1) != before1 || snapshot(t, e.p2) != before2 {
		t.Errorf("dry run changed a side")
	}
	if got := snapshot(t, e.home); got != homeBefore {
		t.Errorf("dry run wrote under $HOME:\nbefore:\n%s\nafter:\n%s", homeBefore, got)
	}
	for _, want := range []string{"notes/todo.md", "from-two.md", "[06]", "[03]", lineDryRun} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}

	// Later run: the workdir, with its history, stays as it was.
	e.sync()
	write(t, e.p1, "notes/todo.md", "- buy milk\n- and bread\n")
	write(t, e.p2, "notes/ideas.md", "ideas, revised\n")
	remove(t, e.p2, "journal/2024-01-01.md")
	before1, before2, beforeWork := snapshot(t, e.p1), snapshot(t, e.p2), snapshot(t, e.work)
	out = e.sync("--dry-run")
	if snapshot(t, e.p1) != before1 || snapshot(t, e.p2) != before2 {
		t.Errorf("dry run changed a side")
	}
	if got := snapshot(t, e.work); got != beforeWork {
		t.Errorf("dry run changed the workdir:\nbefore:\n%s\nafter:\n%s", beforeWork, got)
	}
	for _, want := range [][]string{
		{"copy 1->2", "notes/todo.md", "[10]"},
		{"copy 2->1", "notes/ideas.md", "[09]"},
		{"delete on 1", "journal/2024-01-01.md", "[07]"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("dry-run output has no line with %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "3 actions planned") {
		t.Errorf("dry-run output does not count 3 actions:\n%s", out)
	}
}

// hasLine reports whether one line of out contains all of parts, in order.
func hasLine(out string, parts ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestWorkdirFiles(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	e.sync()
	id, err := os.ReadFile(filepath.Join(e.work, deviceIDFile))
	if err != nil || !validDeviceID(strings.TrimSpace(string(id))) {
		t.Errorf("device id: %q, %v", id, err)
	}
	hist, _ := filepath.Glob(filepath.Join(e.work, "*.hist"))
	if len(hist) != 1 || !strings.Contains(filepath.Base(hist[0]), "one..") {
		entries, _ := os.ReadDir(e.work)
		t.Errorf("want one history file named after the pair in the workdir, have %v", entries)
	}

	// Without --workdir, the state goes to $XDG_STATE_HOME/ferry.
	if code, stdout, stderr := e.run("sync", e.p1, e.p2); code != 0 {
		t.Fatalf("exit status %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(e.home, ".local", "state", "ferry", deviceIDFile)); err != nil {
		t.Errorf("default workdir not used: %v", err)
	}
}

func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	file := filepath.Join(e.root, "a-file")
	write(t, e.root, "a-file", "not a folder\n")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"bad flag", []string{"sync", e.p1, e.p2, "--no-such-flag"}, exitUsage},
		{"bad mode", []string{"sync", e.p1, e.p2, "--mode", "sideways"}, exitUsage},
		{"missing path", []string{"sync", e.p1}, exitUsage},
		{"unknown remote", []string{"sync", e.p1, "nosuchremote:vault", "--config", e.rcloneRC}, exitDirNotFound},
		{"unknown backend", []string{"sync", e.p1, ":nosuchbackend:vault"}, exitDirNotFound},
		{"root is a file", []string{"sync", e.p1, file}, exitDirNotFound},
		{"same folder twice", []string{"sync", e.p1, e.p1}, exitUsage},
		{"one path inside the other", []string{"sync", e.p1, filepath.Join(e.p1, "sub")}, exitUsage},
		{"backup dir inside a side", []string{"sync", e.p1, e.p2, "--backup-dir2", filepath.Join(e.p2, "bak")}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := e.run(append(tc.args, "--workdir", e.work)...)
			if code != tc.want {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			if !strings.HasPrefix(stderr, "ferry: ") && !strings.Contains(stderr, "\nferry: ") {
				t.Errorf("no error message on stderr:\n%s", stderr)
			}
		})
	}
	if _, err := os.Stat(e.work); !os.IsNotExist(err) {
		t.Errorf("a failed start created the workdir (stat: %v)", err)
	}
	if got := tree(t, e.p1); len(got) != 1 {
		t.Errorf("a failed start changed path1: %q", got)
	}
}
