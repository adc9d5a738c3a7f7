package history

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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func lockPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "home_me_vault..remote_vault-0123456789abcdef.lck")
}

func mustLock(t *testing.T, path string, opts LockOptions) *Held {
	t.Helper()
	h, err := Lock(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return h
}

func release(t *testing.T, h *Held) {
	t.Helper()
	if err := h.Release(); err != nil {
		t.Errorf("Release: %v", err)
	}
}

func readInfo(t *testing.T, path string) LockInfo {
	t.Helper()
	l, err := readLockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.unreadable != "" {
		t.Fatalf("lock file unreadable: %s: %q", l.unreadable, l.raw)
	}
	return l.info
}

// writeLock writes a lock file as another run would have.
func writeLock(t *testing.T, path string, info LockInfo) {
	t.Helper()
	if info.Token == "" {
		info.Token = "0000feedfacecafe"
	}
	if info.Started.IsZero() {
		info.Started = time.Now().Add(-time.Hour)
		info.Renewed = info.Started
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func hostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil || h == "" {
		t.Skipf("no host name (%v): cannot tell a local lock", err)
	}
	return h
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	pid := cmd.Process.Pid
	if processExists(pid) {
		t.Skipf("pid %d was reused at once", pid)
	}
	return pid
}

// checkDir checks that dir holds exactly the named files: no temporary
// file or takeover guard is left behind.
func checkDir(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func TestLockAndRelease(t *testing.T) {
	path := lockPath(t)
	before := time.Now()
	h := mustLock(t, path, LockOptions{Version: "v1.2.3"})
	info := readInfo(t, path)
	host, _ := os.Hostname()
	if info != h.Info() || info.PID != os.Getpid() || info.Host != host || info.Version != "v1.2.3" ||
		!validLockToken(info.Token) || info.Started.Before(before.Add(-time.Second)) ||
		!info.Renewed.Equal(info.Started) || !info.Expires.IsZero() {
		t.Errorf("lock file says %+v; Held says %+v", info, h.Info())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("lock file mode %v, want 0600", perm)
	}
	checkDir(t, filepath.Dir(path), filepath.Base(path))
	release(t, h)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file still there after Release (stat: %v)", err)
	}
	checkDir(t, filepath.Dir(path))
	if err := h.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}

	// Held again, by a new holder.
	h2 := mustLock(t, path, LockOptions{})
	if h2.Info().Token == info.Token {
		t.Errorf("a new holding reuses the token %s", info.Token)
	}
	release(t, h2)
}

func TestLockMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "x.lck")
	if _, err := Lock(context.Background(), path, LockOptions{}); err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("Lock in a missing directory: %v", err)
	}
}

func TestLockHeld(t *testing.T) {
	path := lockPath(t)
	h := mustLock(t, path, LockOptions{Version: "v9"})
	defer release(t, h)

	start := time.Now()
	_, err := Lock(context.Background(), path, LockOptions{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lock with Wait 0 took %v", d)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.Holder != h.Info() || le.Path != path {
		t.Fatalf("error %#v does not describe the holder %+v", err, h.Info())
	}
	host, _ := os.Hostname()
	msg := err.Error()
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), host, "ferry v9", path,
		h.Info().Started.Local().Format("2006-01-02 15:04:05")} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not say %q: %s", want, msg)
		}
	}

	// Waiting a little is not enough.
	calls := 0
	start = time.Now()
	_, err = Lock(context.Background(), path, LockOptions{Wait: 100 * time.Millisecond, OnWait: func(error) { calls++ }})
	if !errors.Is(err, ErrLocked) {
		t.Errorf("Lock with Wait: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("Lock with Wait 100ms returned after %v", d)
	}
	if calls != 1 {
		t.Errorf("OnWait called %d times, want 1", calls)
	}

	// A cancelled wait says so.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Lock(ctx, path, LockOptions{Wait: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with a cancelled context: %v", err)
	}
	if got := readInfo(t, path); got != h.Info() {
		t.Errorf("the holder's lock changed: %+v", got)
	}
}

// TestLockConcurrent: two lockers at once, one gets the lock, the other
// ErrLocked; with Wait, the other gets it when the first releases it.
func TestLockConcurrent(t *testing.T) {
	path := lockPath(t)
	var (
		wg       sync.WaitGroup
		held     = make(chan *Held, 2)
		failures = make(chan error, 2)
	)
	for range 2 {
		wg.Go(func() {
			h, err := Lock(context.Background(), path, LockOptions{})
			if err != nil {
				failures <- err
				return
			}
			held <- h
		})
	}
	wg.Wait()
	if len(held) != 1 || len(failures) != 1 {
		t.Fatalf("%d got the lock, %d failed, want 1 and 1", len(held), len(failures))
	}
	if err := <-failures; !errors.Is(err, ErrLocked) {
		t.Errorf("the second locker: %v, want ErrLocked", err)
	}
	first := <-held

	got := make(chan *Held)
	go func() {
		h, err := Lock(context.Background(), path, LockOptions{Wait: 10 * time.Second})
		if err != nil {
			t.Error(err)
		}
		got <- h
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("a waiting Lock got a held lock")
	default:
	}
	releasedAt := time.Now()
	release(t, first)
	second := <-got
	if second == nil {
		return
	}
	if d := time.Since(releasedAt); d > 2*time.Second {
		t.Errorf("the waiting Lock took %v after the release", d)
	}
	if readInfo(t, path).Token != second.Info().Token {
		t.Errorf("the lock file is not the second holder's")
	}
	release(t, second)
}

// TestLockMutualExclusion: many goroutines take the lock in turn, with
// Wait; never are two inside at once.
func TestLockMutualExclusion(t *testing.T) {
	path := lockPath(t)
	var inside, most, turns atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			h, err := Lock(context.Background(), path, LockOptions{Wait: 30 * time.Second})
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			turns.Add(1)
			if err := h.Release(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 || turns.Load() != 20 {
		t.Errorf("%d turns, at most %d inside at once; want 20 and 1", turns.Load(), most.Load())
	}
	checkDir(t, filepath.Dir(path))
}

func TestLockStaleDeadProcess(t *testing.T) {
	path := lockPath(t)
	host := hostname(t)
	writeLock(t, path, LockInfo{PID: deadPID(t), Host: host})
	h := mustLock(t, path, LockOptions{})
	if got := readInfo(t, path); got.PID != os.Getpid() || got.Token != h.Info().Token {
		t.Errorf("stale lock not taken over: %+v", got)
	}
	checkDir(t, filepath.Dir(path), filepath.Base(path))
	release(t, h)
}

func TestLockLiveProcessNotTakenOver(t *testing.T) {
	host := hostname(t)
	for _, tc := range []struct {
		name string
		pid  int
	}{
		{"parent", os.Getppid()},
		{"init", 1},                      // EPERM for a user: it exists all the same
		{"this process", os.Getpid()},    // another Held of the same process
		{"bad pid", 0},                   // cannot be checked: taken as alive
		{"negative pid", -1},             // never kill(-1, 0)
		{"dead pid on another host", -2}, // set below
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := lockPath(t)
			info := LockInfo{PID: tc.pid, Host: host}
			if tc.pid == -2 {
				// The pid is gone here, but the lock is another
				// machine's: that says nothing about its process.
				info = LockInfo{PID: deadPID(t), Host: host + "-elsewhere"}
			}
			writeLock(t, path, info)
			if _, err := Lock(context.Background(), path, LockOptions{}); !errors.Is(err, ErrLocked) {
				t.Fatalf("Lock: %v, want ErrLocked", err)
			}
			if got := readInfo(t, path); got.PID != info.PID || got.Host != info.Host {
				t.Errorf("lock changed to %+v", got)
			}
		})
	}
}

func TestProcessExists(t *testing.T) {
	if !processExists(os.Getpid()) || !processExists(os.Getppid()) || !processExists(1) {
		t.Errorf("a live process is said to be gone")
	}
	if pid := deadPID(t); processExists(pid) {
		t.Errorf("pid %d of an exited process is said to exist", pid)
	}
	// syscall.Kill with 0 or -1 would address groups; never call it so.
	for _, pid := range []int{0, -1} {
		if !processExists(pid) {
			t.Errorf("processExists(%d) = false", pid)
		}
	}
}

// TestLockExpiry: a lock past its expiry is taken over from any host; one
// before it is not.
func TestLockExpiry(t *testing.T) {
	path := lockPath(t)
	now := time.Now()
	writeLock(t, path, LockInfo{PID: 1, Host: "other-host", Started: now.Add(-time.Hour),
		Renewed: now.Add(-time.Minute), Expires: now.Add(time.Minute)})
	if _, err := Lock(context.Background(), path, LockOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock of an unexpired lock: %v, want ErrLocked", err)
	} else if !strings.Contains(err.Error(), "expires") {
		t.Errorf("message does not say when the lock expires: %v", err)
	}

	writeLock(t, path, LockInfo{PID: 1, Host: "other-host", Started: now.Add(-time.Hour),
		Renewed: now.Add(-3 * time.Minute), Expires: now.Add(-time.Minute)})
	h := mustLock(t, path, LockOptions{})
	if got := readInfo(t, path); got.Token != h.Info().Token {
		t.Errorf("expired lock not taken over: %+v", got)
	}
	release(t, h)
}

// TestLockRenewal: a holder with MaxAge renews its lock, so that it never
// expires while held; once renewals stop, it expires and is taken over,
// and the first holder's Release says so and leaves the new lock alone.
func TestLockRenewal(t *testing.T) {
	path := lockPath(t)
	const maxAge = time.Second // renewed every 333 ms
	h := mustLock(t, path, LockOptions{MaxAge: maxAge})
	first := readInfo(t, path)
	if d := first.Expires.Sub(first.Renewed); d != maxAge {
		t.Errorf("expires %v after the renewal, want %v", d, maxAge)
	}

	time.Sleep(maxAge + maxAge/2) // past the first expiry
	if _, err := Lock(context.Background(), path, LockOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock of a renewed lock: %v, want ErrLocked", err)
	}
	now := readInfo(t, path)
	if !now.Renewed.After(first.Renewed) || !now.Expires.After(time.Now()) || now.Started != first.Started || now.Token != first.Token {
		t.Errorf("lock not renewed: first %+v, now %+v", first, now)
	}
	if now != h.Info() {
		t.Errorf("Info %+v, file %+v", h.Info(), now)
	}
	checkDir(t, filepath.Dir(path), filepath.Base(path))

	// The holder stops renewing (it hangs, or its machine sleeps).
	h.stopRenewal()
	time.Sleep(maxAge + 50*time.Millisecond)
	h2 := mustLock(t, path, LockOptions{})
	err := h.Release()
	if err == nil || !strings.Contains(err.Error(), "taken over") {
		t.Errorf("Release of a lock taken over: %v", err)
	}
	if got := readInfo(t, path); got.Token != h2.Info().Token {
		t.Errorf("Release of a lock taken over removed or changed the new holder's: %+v", got)
	}
	release(t, h2)
}

// TestLockRenewalFindsItLost: a renewal that finds another holder's lock
// stops, and Release reports the loss and leaves that lock alone.
func TestLockRenewalFindsItLost(t *testing.T) {
	path := lockPath(t)
	h := mustLock(t, path, LockOptions{MaxAge: 90 * time.Millisecond})
	writeLock(t, path, LockInfo{Token: "0123456789abcdef", PID: 1, Host: "other-host"})
	time.Sleep(200 * time.Millisecond)
	if err := h.Release(); err == nil || !strings.Contains(err.Error(), "taken over") {
		t.Errorf("Release: %v", err)
	}
	if got := readInfo(t, path); got.Token != "0123456789abcdef" {
		t.Errorf("the other holder's lock changed: %+v", got)
	}
}

func TestReleaseOfRemovedLock(t *testing.T) {
	path := lockPath(t)
	h := mustLock(t, path, LockOptions{})
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := h.Release(); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Errorf("Release of a removed lock: %v", err)
	}
}

// TestLockRacingTakeover: many goroutines find the same stale lock at
// once; exactly one of them holds it after.
func TestLockRacingTakeover(t *testing.T) {
	host := hostname(t)
	dead := deadPID(t)
	for round := range 20 {
		path := lockPath(t)
		writeLock(t, path, LockInfo{PID: dead, Host: host})
		const n = 32
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			held  = make(chan *Held, n)
		)
		for range n {
			wg.Go(func() {
				<-start
				h, err := Lock(context.Background(), path, LockOptions{})
				switch {
				case err == nil:
					held <- h
				case !errors.Is(err, ErrLocked):
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		close(held)
		var holders []*Held
		for h := range held {
			holders = append(holders, h)
		}
		if len(holders) != 1 {
			t.Fatalf("round %d: %d holders, want 1", round, len(holders))
		}
		if got := readInfo(t, path); got.Token != holders[0].Info().Token {
			t.Errorf("round %d: the lock file is not the holder's", round)
		}
		checkDir(t, filepath.Dir(path), filepath.Base(path))
		release(t, holders[0])
	}
}

func TestLockUnreadable(t *testing.T) {
	for _, content := range []string{"", "garbage\n", `{"token":"../../etc","pid":1}`} {
		path := lockPath(t)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		// Fresh: another run may be writing it.
		_, err := Lock(context.Background(), path, LockOptions{})
		var le *LockedError
		if !errors.As(err, &le) || le.Unreadable == "" || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("%q: Lock of a fresh unreadable lock: %v", content, err)
		}
		// Old: left by a crash.
		old := time.Now().Add(-2 * unreadableLockAge)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		h := mustLock(t, path, LockOptions{})
		if got := readInfo(t, path); got.Token != h.Info().Token {
			t.Errorf("%q: old unreadable lock not taken over", content)
		}
		checkDir(t, filepath.Dir(path), filepath.Base(path))
		release(t, h)
	}
}

// TestLockGuards: a takeover guard in the way holds a takeover back while
// its taker lives, and is removed once it is a leftover.
func TestLockGuards(t *testing.T) {
	host := hostname(t)
	path := lockPath(t)
	stale := LockInfo{Token: "00000000000000aa", PID: deadPID(t), Host: host}
	writeLock(t, path, stale)
	guard := guardName(path, stale.Token)

	// A live taker's guard: Lock waits for it, then gives up.
	saved := lockBusyGrace
	lockBusyGrace = 100 * time.Millisecond
	defer func() { lockBusyGrace = saved }()
	writeLock(t, guard, LockInfo{Token: stale.Token, PID: os.Getppid(), Host: host, Started: time.Now(), Renewed: time.Now()})
	if _, err := Lock(context.Background(), path, LockOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock with a live guard in the way: %v, want ErrLocked", err)
	}

	// A dead taker's guard is removed, and the lock taken over.
	writeLock(t, guard, LockInfo{Token: stale.Token, PID: deadPID(t), Host: host, Started: time.Now(), Renewed: time.Now()})
	h := mustLock(t, path, LockOptions{})
	checkDir(t, filepath.Dir(path), filepath.Base(path))
	release(t, h)

	// So is a guard over a minute old, and old temporary files.
	writeLock(t, path, stale)
	old := time.Now().Add(-2 * unreadableLockAge)
	for _, f := range []string{guard, path + lockTmpInfix + "123"} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	h = mustLock(t, path, LockOptions{})
	checkDir(t, filepath.Dir(path), filepath.Base(path))
	release(t, h)
}

// TestLockWithoutHardLinks: where links fail, the lock is created with
// O_EXCL, and still only once.
func TestLockWithoutHardLinks(t *testing.T) {
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }
	defer func() { linkFile = os.Link }()
	path := lockPath(t)
	h := mustLock(t, path, LockOptions{Version: "v1"})
	if got := readInfo(t, path); got != h.Info() {
		t.Errorf("lock file %+v, Held %+v", got, h.Info())
	}
	if _, err := Lock(context.Background(), path, LockOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock: %v, want ErrLocked", err)
	}
	checkDir(t, filepath.Dir(path), filepath.Base(path))
	release(t, h)
	checkDir(t, filepath.Dir(path))
}

func TestLockOptionsChecked(t *testing.T) {
	path := lockPath(t)
	for _, o := range []LockOptions{{Wait: -1}, {MaxAge: -time.Second}} {
		if _, err := Lock(context.Background(), path, o); err == nil {
			t.Errorf("Lock(%+v) accepted", o)
		}
	}
}

// TestLockOfAReusedPIDIsStale: a lock whose pid now names another process
// (pids wrap around) is stale: the start time tells them apart.
func TestLockOfAReusedPIDIsStale(t *testing.T) {
	if processStart(os.Getpid()) == "" {
		t.Skip("no /proc: process start times cannot be read on this system")
	}
	path := filepath.Join(t.TempDir(), "pair.lck")
	host, _ := os.Hostname()
	// Our own pid, alive, but with another start time: a reused pid.
	info := LockInfo{Token: "old", PID: os.Getpid(), ProcStart: "1", Host: host, Started: time.Now().UTC(), Renewed: time.Now().UTC()}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	held, err := Lock(context.Background(), path, LockOptions{})
	if err != nil {
		t.Fatalf("a lock of a reused pid was not taken over: %v", err)
	}
	held.Release()
}
