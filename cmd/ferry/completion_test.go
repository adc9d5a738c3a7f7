package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_ferry",
		"zsh":  "#compdef ferry",
		"fish": "complete -c ferry",
	} {
		code, stdout, stderr := runFerry(t, "completion", shell)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("completion %s: exit status %d, stdout lacks %q (%d bytes); stderr %q", shell, code, want, len(stdout), stderr)
		}
	}
}

// TestCompletePairNames asks what the shell scripts ask (cobra's hidden
// __complete command): pair names for sync's first argument and for pair
// show, files when what is typed can only be a path.
func TestCompletePairNames(t *testing.T) {
	file := writePairs(t, "[vault]\npath1 = '/home/me/vault'\npath2 = 'vault-s3:notes'\n[photos]\npath1 = '/p'\npath2 = 'nas:photos'\n[video]\npath1 = '/v'\npath2 = 'nas:video'\n")
	complete := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runFerry(t, append([]string{"__complete"}, args...)...)
		if code != 0 {
			t.Fatalf("__complete %q: exit status %d, stderr %q", args, code, stderr)
		}
		return stdout
	}
	out := complete("sync", "--pairs-file", file, "v")
	if !strings.Contains(out, "vault\t/home/me/vault <-> vault-s3:notes") || !strings.Contains(out, "video\t") || strings.Contains(out, "photos") {
		t.Errorf("sync v<TAB>:\n%s", out)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), ":4") { // ShellCompDirectiveNoFileComp
		t.Errorf("sync v<TAB> lets the shell add file names:\n%s", out)
	}
	out = complete("sync", "--pairs-file", file, "./")
	if strings.Contains(out, "vault") || !strings.HasSuffix(strings.TrimSpace(out), ":0") {
		t.Errorf("sync ./<TAB> should complete files only:\n%s", out)
	}
	t.Setenv(pairsFileEnv, file)
	out = complete("pair", "show", "p")
	if !strings.Contains(out, "photos") || strings.Contains(out, "vault") {
		t.Errorf("pair show p<TAB>:\n%s", out)
	}
	out = complete("sync", "/a", "/b", "--mode", "pu")
	if !strings.Contains(out, "push\n") || !strings.Contains(out, "pull-delete\n") {
		t.Errorf("--mode <TAB>:\n%s", out)
	}
}

func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man")
	code, stdout, stderr := runFerry(t, "man", dir)
	if code != 0 {
		t.Fatalf("man: exit status %d\n%s%s", code, stdout, stderr)
	}
	for _, page := range []string{"ferry.1", "ferry-sync.1", "ferry-pair-add.1", "ferry-config.1", "ferry-completion-bash.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(b), ".TH ") || !strings.Contains(string(b), ".SH NAME") {
			t.Errorf("%s is not a man page:\n%.300s", page, b)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "ferry-sync.1"))
	if !strings.Contains(string(b), "every") || !strings.Contains(string(b), "pairs-file") {
		t.Error("ferry-sync.1 does not document --every and --pairs-file")
	}
}

// TestConfigScripted drives ferry config as a script would, through
// stdin: quit at once; then add an alias remote with rclone's questions
// and sync through it; then run out of answers.
func TestConfigScripted(t *testing.T) {
	e := newEnv(t)
	config := func(stdin string) (int, string, string) {
		t.Helper()
		cmd, stdout, stderr := e.start0("config")
		cmd.Stdin = strings.NewReader(stdin)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Fatalf("ferry config did not end\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}

	code, stdout, stderr := config("q\n")
	if code != 0 || !strings.Contains(stdout, "No remotes found") || !strings.Contains(stdout, "q) Quit config") ||
		!strings.Contains(stderr, e.rcloneRC) {
		t.Errorf("quit: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// n) new remote "mine", of type alias, pointing at path1; no advanced
	// config; keep it; quit.
	code, stdout, stderr = config("n\nmine\nalias\n" + e.p1 + "\nn\ny\nq\n")
	conf, _ := os.ReadFile(e.rcloneRC)
	if code != 0 || !strings.Contains(string(conf), "[mine]") || !strings.Contains(string(conf), "type = alias") {
		t.Fatalf("new remote: exit status %d\nrclone.conf:\n%s\nstdout:\n%s\nstderr:\n%s", code, conf, stdout, stderr)
	}
	write(t, e.p1, "note.md", "hello")
	if code, stdout, stderr := e.run("sync", "mine:", e.p2, "--workdir", e.work); code != 0 || tree(t, e.p2)["note.md"] != "hello" {
		t.Errorf("sync through the new remote: exit status %d\n%s%s", code, stdout, stderr)
	}

	code, _, stderr = config("e\n")
	if code != exitUncategorized || !strings.Contains(stderr, "standard input ended") {
		t.Errorf("stdin ends early: exit status %d, stderr %q", code, stderr)
	}
}

// start0 is start without starting: the command, with env's environment
// and output buffers, for a test to set more (stdin) before it starts.
func (e *env) start0(args ...string) (cmd *exec.Cmd, stdout, stderr *syncBuffer) {
	cmd = exec.Command(ferryBin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(e.home, ".local", "state"),
		"RCLONE_CONFIG=" + e.rcloneRC,
		"TMPDIR=" + os.TempDir(),
	}
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}
