package main

// End-to-end tests of the workdir lock: the binary against a lock that this
// test process holds (a live process on the same host), a stale one, and a
// released one.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/history"
)

// pairLock returns the lock path of the env's pair, after a first sync
// made its history.
func (e *env) pairLock() string {
	e.t.Helper()
	hist, _ := filepath.Glob(filepath.Join(e.work, "*.hist"))
	if len(hist) != 1 {
		e.t.Fatalf("want one history in the workdir, have %q", hist)
	}
	return lockFile(hist[0])
}

func TestSyncLockHeld(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	e.sync()
	lock := e.pairLock()
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a finished run left its lock (stat: %v)", err)
	}

	held, err := history.Lock(context.Background(), lock, history.LockOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, e.p1, "b.md", "b\n")
	code, stdout, stderr := e.syncCode()
	if code != exitRetry {
		t.Errorf("sync while another run holds the lock: exit status %d, want %d\n%s\n%s", code, exitRetry, stdout, stderr)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "ferry test", lock, "--lock-wait", "remove " + lock} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if _, ok := tree(t, e.p2)["b.md"]; ok {
		t.Errorf("a run without the lock changed path2")
	}

	// A dry run takes no lock.
	if out := e.sync("--dry-run"); !strings.Contains(out, "b.md") {
		t.Errorf("dry run while locked:\n%s", out)
	}

	// With --lock-wait, the run waits for the release.
	go func() {
		time.Sleep(time.Second)
		if err := held.Release(); err != nil {
			t.Error(err)
		}
	}()
	code, stdout, stderr = e.syncCode("--lock-wait", "1m")
	if code != exitSuccess || !strings.Contains(stderr, "waiting up to 1m0s") {
		t.Errorf("sync --lock-wait: exit status %d\n%s\n%s", code, stdout, stderr)
	}
	if got := tree(t, e.p2)["b.md"]; got != "b\n" {
		t.Errorf("b.md on path2: %q", got)
	}
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the run left its lock (stat: %v)", err)
	}
}

func TestSyncTakesOverStaleLock(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	e.sync()
	lock := e.pairLock()

	// A run that died, on this host.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	b, _ := json.Marshal(history.LockInfo{Token: "00000000deadbeef", PID: dead.Process.Pid, Host: host,
		Started: time.Now().Add(-time.Hour), Renewed: time.Now().Add(-time.Hour)})
	if err := os.WriteFile(lock, b, 0o600); err != nil {
		t.Fatal(err)
	}
	write(t, e.p1, "b.md", "b\n")
	e.sync()
	if got := tree(t, e.p2)["b.md"]; got != "b\n" {
		t.Errorf("b.md on path2: %q", got)
	}
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the run left a lock (stat: %v)", err)
	}
	entries, _ := os.ReadDir(e.work)
	for _, d := range entries {
		if strings.Contains(d.Name(), ".lck") {
			t.Errorf("left in the workdir: %s", d.Name())
		}
	}
}

func TestSyncMaxLockMinimum(t *testing.T) {
	e := newEnv(t)
	write(t, e.p1, "a.md", "a\n")
	code, stdout, stderr := e.syncCode("--max-lock", "30s")
	if code != exitSuccess || !strings.Contains(stderr, "--max-lock 30s is below its minimum; using 2m0s") {
		t.Errorf("exit status %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = e.syncCode("--max-lock", "5m")
	if code != exitSuccess || stderr != "" {
		t.Errorf("--max-lock 5m: exit status %d, stderr %q", code, stderr)
	}
}
