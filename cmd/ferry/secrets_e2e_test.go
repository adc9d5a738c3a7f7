package main

// Secrets a remote carries (a WebDAV password in a connection string or in
// RCLONE_CONFIG_<NAME>_PASS) must never reach ferry's output, its logs or a
// file in the workdir: DESIGN.md, "Files in the workdir". The binary syncs
// with rclone's WebDAV server at -vv, including a run killed part way, so
// that the journal and the lock are left to read, and everything it wrote
// is searched for the password, plain and obscured.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
	"github.com/ferry-sync/ferry/history"
	"github.com/rclone/rclone/fs/config/obscure"
)

// secretRun runs the binary with the env's usual environment plus extra
// variables, and returns its output; it fails the test on a timeout only.
func (e *env) secretRun(extra []string, args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.secretCmd(ctx, extra, args...)
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

func (e *env) secretCmd(ctx context.Context, extra []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, ferryBin, args...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(e.home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(e.home, ".local", "state"),
		"RCLONE_CONFIG=" + e.rcloneRC,
		"TMPDIR=" + os.TempDir(),
	}, extra...)
	return cmd
}

// secrets is what must not appear, with a name for messages.
type secrets map[string]string

// check fails the test if text holds a secret.
func (s secrets) check(t *testing.T, where, text string) {
	t.Helper()
	for name, v := range s {
		if strings.Contains(text, v) {
			i := strings.Index(text, v)
			t.Errorf("%s holds the %s: ...%s...", where, name, text[max(0, i-80):min(len(text), i+len(v)+40)])
		}
	}
}

// checkWorkdir searches every file under dir, raw, and the history files,
// run logs and journals decoded.
func (s secrets) checkWorkdir(t *testing.T, dir string) (files int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		s.check(t, "a workdir file's name", p)
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files++
		s.check(t, p, string(b))
		switch {
		case strings.HasSuffix(p, ".hist"):
			h, err := history.Load(p)
			if err != nil {
				t.Errorf("decode %s: %v", p, err)
				return nil
			}
			s.check(t, p+" decoded", fmt.Sprintf("%+v", *h))
		case strings.HasSuffix(p, ".runlog"):
			runs, err := history.ReadRuns(p)
			if err != nil {
				t.Errorf("decode %s: %v", p, err)
				return nil
			}
			s.check(t, p+" decoded", fmt.Sprintf("%+v", runs))
		case strings.HasSuffix(p, ".journal"):
			j, err := history.ReadJournal(p)
			if err != nil {
				t.Errorf("decode %s: %v", p, err)
				return nil
			}
			s.check(t, p+" decoded", fmt.Sprintf("%+v", *j))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSecretsNeverWritten(t *testing.T) {
	e := newEnv(t)
	srv := testserver.StartServer(t, testserver.WebDAVRclone)
	obscured := srv.Param("pass")
	plain, err := obscure.Reveal(obscured)
	if err != nil || plain == "" || obscured == "" {
		t.Fatalf("the server's password: %q, %v", obscured, err)
	}
	sec := secrets{"password": plain, "obscured password": obscured}

	const envName = "FERRYDAV"
	envRemote := []string{"RCLONE_CONFIG_" + envName + "_TYPE=" + srv.Type}
	for _, p := range srv.Params {
		envRemote = append(envRemote, "RCLONE_CONFIG_"+envName+"_"+strings.ToUpper(p.Key)+"="+p.Value)
	}
	t.Run("wrong password", func(t *testing.T) {
		wrong := "not-" + plain
		wrongObscured := obscure.MustObscure(wrong)
		bad := secrets{"wrong password": wrong, "obscured wrong password": wrongObscured}
		local, work := filepath.Join(e.root, "local-wrong"), filepath.Join(e.root, "work-wrong")
		write(t, local, "a.md", "a\n")
		remote := srv.Remote(testserver.Param{Key: "pass", Value: wrongObscured}) + "/secrets-wrong"
		env := []string{"RCLONE_CONFIG_" + envName + "_TYPE=" + srv.Type}
		for _, p := range srv.Params {
			v := p.Value
			if p.Key == "pass" {
				v = wrongObscured
			}
			env = append(env, "RCLONE_CONFIG_"+envName+"_"+strings.ToUpper(p.Key)+"="+v)
		}
		for _, r := range []string{remote, envName + ":" + srv.Path + "/secrets-wrong"} {
			for _, extra := range [][]string{nil, {"--dry-run"}} {
				args := append([]string{"sync", local, r, "--workdir", work, "-vv"}, extra...)
				code, stdout, stderr := e.secretRun(env, args...)
				if code == 0 {
					t.Errorf("ferry %s with a wrong password: exit status 0", strings.Join(extra, " "))
				}
				bad.check(t, "stdout with a wrong password", stdout)
				bad.check(t, "stderr with a wrong password", stderr)
				sec.check(t, "stderr with a wrong password", stderr)
				if !strings.Contains(stderr, "401") && !strings.Contains(strings.ToLower(stderr), "unauthorized") {
					t.Errorf("ferry %s with a wrong password does not say why it failed:\n%s", strings.Join(extra, " "), stderr)
				}
			}
		}
		if _, err := os.Stat(work); err == nil {
			bad.checkWorkdir(t, work)
		}
	})

	for _, tc := range []struct {
		name   string
		remote string
		env    []string
	}{
		{"connection string", srv.Remote() + "/secrets-cs", nil},
		{"environment", envName + ":" + srv.Path + "/secrets-env", envRemote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local := filepath.Join(e.root, "local-"+strings.ReplaceAll(tc.name, " ", "-"))
			work := filepath.Join(e.root, "work-"+strings.ReplaceAll(tc.name, " ", "-"))
			for i := range 60 {
				write(t, local, fmt.Sprintf("notes/d%02d/n%03d.md", i%10, i), strings.Repeat(fmt.Sprintf("note %d\n", i), 50))
			}
			syncArgs := []string{"sync", local, tc.remote, "--workdir", work, "-vv"}
			var out strings.Builder
			run := func(what string, args ...string) int {
				t.Helper()
				code, stdout, stderr := e.secretRun(tc.env, args...)
				sec.check(t, what+": stdout", stdout)
				sec.check(t, what+": stderr", stderr)
				fmt.Fprintf(&out, "== %s (exit %d)\n%s\n%s\n", what, code, stdout, stderr)
				return code
			}

			if code := run("dry run", append(syncArgs, "--dry-run")...); code != 0 {
				t.Fatalf("dry run: exit status %d\n%s", code, out.String())
			}

			// A run killed once its journal exists leaves the journal and
			// the lock for the next run, and for this test, to read.
			killed, killedOut := e.killOnJournal(t, tc.env, work, syncArgs...)
			sec.check(t, "killed run: output", killedOut)
			if killed {
				if n := sec.checkWorkdir(t, work); n == 0 {
					t.Errorf("the killed run left nothing in %s", work)
				}
				for _, pattern := range []string{"*.journal", "*.lck"} {
					if m, _ := filepath.Glob(filepath.Join(work, pattern)); len(m) == 0 {
						t.Errorf("the killed run left no %s in the workdir", pattern)
					}
				}
			}

			if code := run("sync", syncArgs...); code != 0 {
				t.Fatalf("sync: exit status %d\n%s", code, out.String())
			}
			write(t, local, "notes/d00/n000.md", "edited\n")
			if code := run("second sync", syncArgs...); code != 0 {
				t.Fatalf("second sync: exit status %d\n%s", code, out.String())
			}
			run("status", "status", local, tc.remote, "--workdir", work)
			run("log", "log", "--workdir", work, "-v")
			if code := run("check-access failure", append(syncArgs, "--check-access")...); code == 0 {
				t.Logf("--check-access without sentinels succeeded:\n%s", out.String())
			}
			if n := sec.checkWorkdir(t, work); n < 3 {
				t.Errorf("the workdir holds %d files, want the device id, history and run log at least", n)
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("output:\n%s", out.String())
			}
		})
	}
}

// killOnJournal starts a sync and kills it as soon as its journal appears
// in the workdir; it reports whether it did before the run ended.
func (e *env) killOnJournal(t *testing.T, extra []string, work string, args ...string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.secretCmd(ctx, extra, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ended:
			t.Logf("the run ended before its journal was seen; the journal is checked only as the finished runs leave it:\n%s", out.String())
			return false, out.String()
		case <-tick.C:
		}
		if m, _ := filepath.Glob(filepath.Join(work, "*.journal")); len(m) > 0 {
			_ = cmd.Process.Kill()
			<-ended
			return true, out.String()
		}
	}
}
