package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/rclonefs"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		every    time.Duration
		failures int
		want     time.Duration
	}{
		{5 * time.Minute, 1, 5 * time.Minute},
		{5 * time.Minute, 2, 10 * time.Minute},
		{5 * time.Minute, 3, 20 * time.Minute},
		{5 * time.Minute, 4, 40 * time.Minute},
		{5 * time.Minute, 5, time.Hour},
		{5 * time.Minute, 500, time.Hour},
		{2 * time.Hour, 3, 2 * time.Hour}, // never shorter than --every
		{time.Second, 13, time.Hour},
	} {
		if got := backoff(tc.every, tc.failures); got != tc.want {
			t.Errorf("backoff(%v, %d) = %v, want %v", tc.every, tc.failures, got, tc.want)
		}
	}
}

// TestNeedsUser pins which failures end --every: those where running
// again would fail the same way, and safety checks.
func TestNeedsUser(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&usageError{err: errors.New("bad flag")}, true},
		{fmt.Errorf("x: %w", bisync.ErrTooManyDeletes), true},
		{fmt.Errorf("x: %w", bisync.ErrEmptySide), true},
		{fmt.Errorf("x: %w", history.ErrCorrupt), true},
		{&openError{what: "path2", remote: "nosuch:x", err: fmt.Errorf("%w: not in config", rclonefs.ErrRemote)}, true},
		{&failedActionsError{failed: []error{errors.New("permission denied")}}, false},
		{&failedActionsError{failed: []error{retryable{}}}, false},
		{errors.New("something else"), false},
	} {
		if got := needsUser(tc.err); got != tc.want {
			t.Errorf("needsUser(%v) = %v, want %v (exit status %d)", tc.err, got, tc.want, exitCode(tc.err))
		}
	}
}

// TestEveryFlagChecks: --every refuses what makes no sense in a loop.
func TestEveryFlagChecks(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--every", "100ms"}, "at least 1s"},
		{[]string{"--every", "5m", "--dry-run"}, "--dry-run"},
		{[]string{"--every", "5m", "--resync"}, "--resync"},
		{[]string{"--every", "5m", "--force"}, "--force"},
		{[]string{"--every", "often"}, "often"},
	} {
		code, _, stderr := runFerry(t, append([]string{"sync", dir + "/a", dir + "/b", "--workdir", dir + "/w"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("sync %s: exit status %d, stderr %q", strings.Join(tc.args, " "), code, stderr)
		}
	}
	if _, err := os.Stat(dir + "/w"); err == nil {
		t.Error("a refused --every made the workdir")
	}
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start starts the binary with args, without waiting for it.
func (e *env) start(args ...string) (cmd *exec.Cmd, stdout, stderr *syncBuffer) {
	e.t.Helper()
	cmd, stdout, stderr = e.start0(args...)
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, stdout, stderr
}

// waitFor polls cond until it holds, or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEveryTwoTicksThenSignal runs ferry sync NAME --every 1s as a user
// would: a file made after the first run is synced by a later one, and
// SIGTERM ends ferry at once, with status 0.
func TestEveryTwoTicksThenSignal(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "first.md", "one")
	if code, stdout, stderr := e.run("pair", "add", "vault", e.p1, e.p2, "--workdir", e.work); code != 0 {
		t.Fatalf("pair add: exit status %d\n%s%s", code, stdout, stderr)
	}
	cmd, stdout, stderr := e.start("sync", "vault", "--every", "1s")
	runs := func() int { return strings.Count(stdout.String(), lineSuccess) }
	waitFor(t, time.Minute, "the first run", func() bool { return runs() >= 1 })
	if got := tree(t, e.p2); got["first.md"] != "one" {
		t.Fatalf("after the first run, path2 holds %v\nstderr:\n%s", got, stderr)
	}
	write(t, e.p1, "second.md", "two")
	waitFor(t, time.Minute, "a later run to copy second.md", func() bool {
		_, err := os.Stat(filepath.Join(e.p2, "second.md"))
		return err == nil
	})
	waitFor(t, time.Minute, "that run to finish", func() bool { return runs() >= 2 })

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v (want exit status 0)\nstderr:\n%s", err, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM\nstderr:\n%s", stderr)
	}
	if took := time.Since(sent); took > 10*time.Second {
		t.Errorf("took %v to stop after SIGTERM", took)
	}
	if !strings.Contains(stderr.String(), "stopped by a signal") {
		t.Errorf("stderr does not say ferry stopped for the signal:\n%s", stderr)
	}
	if got := tree(t, e.p2); got["second.md"] != "two" {
		t.Errorf("path2 holds %v", got)
	}
	// The workdir lock is gone: a later run of the pair starts at once.
	e.sync()
}

// TestEveryStopsForSafetyCheck: a failure that needs a person ends the
// loop with its own status instead of trying again and again.
func TestEveryStopsForSafetyCheck(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a", "b.md", "b")
	e.sync()
	remove(t, e.p1, "a.md", "b.md")
	code, stdout, stderr := e.syncCode("--every", "1s")
	if code != exitSafetyCheck || !strings.Contains(stderr, "--every stops") || strings.Count(stderr, "sync failed") != 1 {
		t.Errorf("exit status %d, want %d, one failure and a line saying --every stops\nstdout:\n%s\nstderr:\n%s", code, exitSafetyCheck, stdout, stderr)
	}
	if got := tree(t, e.p2); len(got) != 2 {
		t.Errorf("path2 holds %v; the safety check should have kept both files", got)
	}
}

// TestEveryBacksOff: a side that cannot be reached (a WebDAV server that
// refuses connections, on a loopback port just closed) fails each run with
// a temporary error; the loop goes on, waiting twice as long after each
// failure in a row, and says so.
func TestEveryBacksOff(t *testing.T) {
	e := newEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd, _, stderr := e.start("sync", e.p1, ":webdav,url='http://"+addr+"/dav',vendor=other:vault",
		"--workdir", e.work, "--every", "1s", "--low-level-retries", "1")
	waitFor(t, time.Minute, "two failed runs in a row", func() bool {
		return strings.Contains(stderr.String(), "(exit status 5; 2 in a row); next run in 2s")
	})
	for _, want := range []string{"run 1 failed (exit status 5; 1 in a row); next run in 1s", "connection refused"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v, want exit status 0\nstderr:\n%s", err, stderr)
	}
}
