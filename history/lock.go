package history

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// The workdir lock lets one run of a pair at a time (docs/transactions.md,
// "The lock"). The lock is a file, PATH, holding a LockInfo as one line of
// JSON:
//
//	{"token":"9f2c…","pid":4242,"host":"laptop","version":"v1.2.0","started":"…","renewed":"…","expires":"…"}
//
// It is created whole, by a hard link from a synced temporary file (or with
// O_EXCL where the file system has no hard links), so a lock file exists
// only once a run holds it.
//
// A lock file is removed or replaced only under its takeover guard,
// PATH.takeover-TOKEN, a file created with O_EXCL, and only after reading
// the lock again under the guard and finding it unchanged. Takers of a stale
// lock, a holder renewing it and a holder releasing it all take that guard,
// so the two steps "check the content" and "remove the file", which POSIX
// cannot do as one, are never interleaved with another party's. A guard lives
// for a few milliseconds; one left by a crash is removed once its process is
// gone or it is a minute old.

// ErrLocked: another run holds the pair's lock. Errors that wrap it are
// *LockedError and name the holder.
var ErrLocked = errors.New("history: locked by another run")

// LockOptions say how Lock waits and how long a lock lives.
type LockOptions struct {
	// Wait is how long to wait for a held lock to be released; 0 fails at
	// once with ErrLocked.
	Wait time.Duration
	// MaxAge is rclone bisync's --max-lock: when non-zero, the lock
	// expires MaxAge after its last renewal, and Lock renews it every
	// MaxAge/3 until Release. An expired lock is taken over from any host,
	// for workdirs on shared disks. 0 writes a lock that never expires.
	MaxAge time.Duration
	// Version is written into the lock for people to read (the ferry
	// version); optional.
	Version string
	// OnWait, if set, is called once when Lock starts waiting for a held
	// lock, with the *LockedError that describes the holder.
	OnWait func(held error)
}

// LockInfo is what a lock file says about its holder.
type LockInfo struct {
	// Token is random and names this holding of the lock: the same
	// process can hold a lock, release it and hold it again.
	Token string `json:"token"`
	PID   int    `json:"pid"`
	// ProcStart tells the holder's process from a later one that got the
	// same pid (pids wrap around quickly on a busy machine): on Linux, the
	// process's start time in clock ticks since boot; "" where unknown.
	ProcStart string    `json:"proc_start,omitempty"`
	Host      string    `json:"host"`
	Version   string    `json:"version,omitempty"`
	Started   time.Time `json:"started"`
	// Renewed is the time of the last renewal: Started, then every
	// MaxAge/3 while the lock has an expiry.
	Renewed time.Time `json:"renewed"`
	// Expires is when the lock lapses unless renewed; zero for never.
	Expires time.Time `json:"expires,omitzero"`
}

// LockedError says that another run holds the lock. It wraps ErrLocked.
type LockedError struct {
	Path   string   // the lock file
	Holder LockInfo // zero when the file could not be read
	// Unreadable says why the lock file could not be read, when it could
	// not (a lock being written, or damaged); "" otherwise.
	Unreadable string
}

// lockTimeFormat is how lock times are shown to people: local time, to the
// second, with the zone, since the holder may be on another machine.
const lockTimeFormat = "2006-01-02 15:04:05 MST"

func (e *LockedError) Error() string {
	if e.Unreadable != "" {
		return fmt.Sprintf("locked by another run: lock file %s exists but cannot be read (%s); it is taken over once it is %v old",
			e.Path, e.Unreadable, unreadableLockAge)
	}
	h := e.Holder
	who := fmt.Sprintf("pid %d on %s", h.PID, orUnknown(h.Host))
	if h.Version != "" {
		who += ", ferry " + h.Version
	}
	s := fmt.Sprintf("locked by another run (%s) since %s: %s", who, h.Started.Local().Format(lockTimeFormat), e.Path)
	if !h.Expires.IsZero() {
		s += fmt.Sprintf(" (expires %s unless renewed)", h.Expires.Local().Format(lockTimeFormat))
	}
	return s
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func orUnknown(s string) string {
	if s == "" {
		return "an unknown host"
	}
	return s
}

// Timings of the lock. Variables, so that tests can shorten them.
var (
	// lockPollMin and lockPollMax bound the interval at which a waiting
	// Lock looks at the lock again (doubling from the first to the last).
	lockPollMin = 10 * time.Millisecond
	lockPollMax = time.Second
	// lockBusyGrace is how long Lock, even with Wait 0, waits for another
	// taker to finish taking over a stale lock before judging what it
	// finds.
	lockBusyGrace = 2 * time.Second
	// releaseTimeout bounds how long Release waits for a takeover guard
	// on its lock (held for milliseconds unless its taker crashed).
	releaseTimeout = 5 * time.Second
	// unreadableLockAge is the age at which a lock file that cannot be
	// read, or a takeover guard, is taken for a leftover of a crash.
	unreadableLockAge = time.Minute
	// linkFile makes a hard link; a test replaces it to play a file
	// system without hard links.
	linkFile = os.Link
)

const (
	lockTmpInfix   = ".tmp-"
	takeoverInfix  = ".takeover-"
	maxLockFile    = 64 << 10
	lockTokenBytes = 8
)

// Held is a lock this process holds. Release it when the run ends.
type Held struct {
	path   string
	maxAge time.Duration

	mu       sync.Mutex
	info     LockInfo // as last written
	lost     error    // set when a renewal found the lock taken over
	released bool

	stop chan struct{} // closed by Release to end the renewals
	done chan struct{} // closed when the renewal goroutine has ended
}

// Lock takes the lock at path, which holds one run of a pair at a time,
// and returns it held. The lock's directory must exist.
//
// A lock held by another run makes Lock wait up to opts.Wait for it, and
// then fail with a *LockedError that wraps ErrLocked. A stale lock is taken
// over: one whose process is gone (written on this host by a pid that no
// longer exists), one that expired (its holder's MaxAge passed since the
// last renewal; on any host), and one that cannot be read and is over a
// minute old. Cancelling ctx stops the wait.
func Lock(ctx context.Context, path string, opts LockOptions) (*Held, error) {
	if opts.Wait < 0 || opts.MaxAge < 0 {
		return nil, fmt.Errorf("lock %s: negative Wait or MaxAge", path)
	}
	host, _ := os.Hostname()
	token, err := newLockToken()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var (
		start    = time.Now()
		deadline = start.Add(opts.Wait)
		graceEnd = start.Add(lockBusyGrace)
		poll     = lockPollMin
		waiting  bool
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		now := time.Now()
		me := LockInfo{Token: token, PID: os.Getpid(), ProcStart: processStart(os.Getpid()), Host: host,
			Version: opts.Version, Started: now.UTC(), Renewed: now.UTC()}
		if opts.MaxAge > 0 {
			me.Expires = now.Add(opts.MaxAge).UTC()
		}
		err := createLock(path, me)
		if err == nil {
			h := &Held{path: path, maxAge: opts.MaxAge, info: me}
			h.startRenewal()
			removeLockLeftovers(path)
			return h, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}

		cur, err := readLockFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released in between
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		busy := false // another party is taking the lock over
		if cur.stale(now, host) != "" {
			ok, err := removeIfUnchanged(path, cur)
			if err != nil {
				return nil, fmt.Errorf("lock %s: take over stale lock: %w", path, err)
			}
			if ok {
				continue // removed, or changed since: look again
			}
			busy = true
		}
		held := &LockedError{Path: path, Holder: cur.info, Unreadable: cur.unreadable}
		if busy && now.Before(graceEnd) {
			// Another taker is at work: what it leaves is worth judging
			// even when Wait is 0.
			if err := sleepCtx(ctx, lockPollMin); err != nil {
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			continue
		}
		if !now.Before(deadline) {
			return nil, held
		}
		if !waiting && opts.OnWait != nil {
			opts.OnWait(held)
		}
		waiting = true
		if err := sleepCtx(ctx, min(poll, deadline.Sub(now))); err != nil {
			return nil, fmt.Errorf("lock %s: stopped waiting for the run that holds it: %w", path, err)
		}
		poll = min(2*poll, lockPollMax)
	}
}

// Path returns the lock file's path.
func (h *Held) Path() string { return h.path }

// Info returns what the lock file says, as last written by this holder.
func (h *Held) Info() LockInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.info
}

// Release ends the renewals and removes the lock file, if it is still this
// holder's: a lock that was taken over (it expired, or someone removed it)
// is left to its new holder, and Release reports that it was lost. Release
// is idempotent.
func (h *Held) Release() error {
	h.stopRenewal()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return nil
	}
	h.released = true
	if h.lost != nil {
		return h.lost
	}
	deadline := time.Now().Add(releaseTimeout)
	for {
		var lost error
		ok, err := withTakeoverGuard(h.path, h.info.Token, func() error {
			cur, err := readLockFile(h.path)
			if err != nil || cur.info.Token != h.info.Token {
				lost = h.lostError(cur, err)
				return nil
			}
			return os.Remove(h.path)
		})
		switch {
		case err != nil:
			return fmt.Errorf("release lock %s: %w", h.path, err)
		case ok:
			return lost
		case time.Now().After(deadline):
			return fmt.Errorf("release lock %s: %s is in the way for over %v; remove both files if no ferry runs",
				h.path, guardName(h.path, h.info.Token), releaseTimeout)
		}
		time.Sleep(lockPollMin)
	}
}

// lostError says that the lock is no longer this holder's; cur and err are
// what reading the lock file gave.
func (h *Held) lostError(cur *lockFile, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("lock %s was removed while this run held it", h.path)
	case err != nil:
		return fmt.Errorf("lock %s: %w", h.path, err)
	case cur.unreadable != "":
		return fmt.Errorf("lock %s was replaced by an unreadable file while this run held it", h.path)
	}
	return fmt.Errorf("lock %s was taken over while this run held it, by pid %d on %s at %s",
		h.path, cur.info.PID, orUnknown(cur.info.Host), cur.info.Started.Local().Format(lockTimeFormat))
}

// startRenewal starts the goroutine that renews a lock with an expiry.
func (h *Held) startRenewal() {
	h.stop = make(chan struct{})
	h.done = make(chan struct{})
	if h.maxAge <= 0 {
		close(h.done)
		return
	}
	every := h.maxAge / 3
	go func() {
		defer close(h.done)
		t := time.NewTimer(every)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
			next := every
			switch done, err := h.renew(); {
			case done:
				return // the lock was lost
			case err != nil:
				// A guard in the way, or an I/O error: try again soon,
				// well before the lock expires.
				next = min(every/4, time.Second)
			}
			t.Reset(next)
		}
	}()
}

func (h *Held) stopRenewal() {
	h.mu.Lock()
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.mu.Unlock()
	<-h.done
}

// renew rewrites the lock with a new renewal time and expiry. It reports
// lost when the lock is no longer this holder's, and an error when it
// could not renew this time.
func (h *Held) renew() (lost bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ok, err := withTakeoverGuard(h.path, h.info.Token, func() error {
		cur, err := readLockFile(h.path)
		if err != nil || cur.info.Token != h.info.Token {
			h.lost = h.lostError(cur, err)
			return nil
		}
		now := time.Now()
		next := h.info
		next.Renewed = now.UTC()
		next.Expires = now.Add(h.maxAge).UTC()
		if err := replaceLock(h.path, next); err != nil {
			return err
		}
		h.info = next
		return nil
	})
	switch {
	case err != nil:
		return false, err
	case !ok:
		return false, errors.New("takeover guard in the way")
	}
	return h.lost != nil, nil
}

// lockFile is a lock file as read.
type lockFile struct {
	raw        []byte
	info       LockInfo
	unreadable string    // why raw does not decode; "" when it does
	modTime    time.Time // of the file
}

// key names the lock's takeover guard: the holder's token, or for a lock
// that cannot be read, a hash of its bytes.
func (l *lockFile) key() string {
	if l.unreadable != "" {
		return fmt.Sprintf("x%016x", xxhash.Sum64(l.raw))
	}
	return l.info.Token
}

// stale says why the lock can be taken over, or "" when it cannot.
func (l *lockFile) stale(now time.Time, host string) string {
	if l.unreadable != "" {
		if now.Sub(l.modTime) > unreadableLockAge {
			return "unreadable and over " + unreadableLockAge.String() + " old"
		}
		return ""
	}
	if !l.info.Expires.IsZero() && now.After(l.info.Expires) {
		return "expired"
	}
	if host != "" && l.info.Host == host && !holderAlive(l.info) {
		return "its process is gone"
	}
	return ""
}

// readLockFile reads and decodes a lock file or a takeover guard. Content
// that does not decode is not an error: it is reported in unreadable.
func readLockFile(path string) (*lockFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxLockFile+1))
	if err != nil {
		return nil, err
	}
	l := &lockFile{raw: raw, modTime: fi.ModTime()}
	switch {
	case len(raw) > maxLockFile:
		l.unreadable = "over 64 KiB"
	case len(raw) == 0:
		l.unreadable = "empty"
	default:
		if err := json.Unmarshal(raw, &l.info); err != nil {
			l.unreadable = "not JSON: " + err.Error()
		} else if !validLockToken(l.info.Token) {
			l.unreadable = "no valid token"
		}
	}
	if l.unreadable != "" {
		l.info = LockInfo{}
	}
	return l, nil
}

// removeIfUnchanged removes the stale lock cur from path, under its
// takeover guard, if path still holds exactly cur's bytes. It reports
// whether the guard was free (false: another party is at work on the same
// lock); removing nothing because the lock changed is not an error.
func removeIfUnchanged(path string, cur *lockFile) (bool, error) {
	return withTakeoverGuard(path, cur.key(), func() error {
		again, err := readLockFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(again.raw, cur.raw) {
			return nil // renewed or replaced: judged again by the caller
		}
		return os.Remove(path)
	})
}

// withTakeoverGuard runs fn holding the takeover guard for the lock named
// key. It reports false, without running fn, when another party holds the
// guard. A guard whose process is gone, or that is over a minute old, is
// removed first.
func withTakeoverGuard(path, key string, fn func() error) (bool, error) {
	guard := guardName(path, key)
	host, _ := os.Hostname()
	me := LockInfo{Token: key, PID: os.Getpid(), ProcStart: processStart(os.Getpid()), Host: host}
	for attempt := 0; ; attempt++ {
		now := time.Now()
		me.Started, me.Renewed = now.UTC(), now.UTC()
		err := createExclusive(guard, me)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("takeover guard: %w", err)
		}
		if attempt >= 3 {
			return false, nil
		}
		g, err := readLockFile(guard)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("takeover guard: %w", err)
		}
		if !g.guardStale(now, host) {
			return false, nil
		}
		// A leftover of a crashed taker. Two parties finding it at the
		// same instant could both remove it, a race we accept: it needs
		// a crash inside a takeover first.
		if err := os.Remove(guard); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("takeover guard: %w", err)
		}
	}
	defer os.Remove(guard)
	return true, fn()
}

// guardStale reports whether a takeover guard was left by a crash.
func (l *lockFile) guardStale(now time.Time, host string) bool {
	if now.Sub(l.modTime) > unreadableLockAge {
		return true
	}
	return l.unreadable == "" && host != "" && l.info.Host == host && !holderAlive(l.info)
}

func guardName(path, key string) string { return path + takeoverInfix + key }

// createLock creates path holding info, failing with an error that wraps
// fs.ErrExist when path exists. The file appears whole: it is written
// under a temporary name, synced, and hard-linked to path. Where the file
// system has no hard links, path is created with O_EXCL and then written.
func createLock(path string, info LockInfo) error {
	data, err := encodeLock(info)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	err = linkFile(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	return createExclusive(path, info)
}

// createExclusive creates path with O_EXCL and writes info to it.
func createExclusive(path string, info LockInfo) error {
	data, err := encodeLock(info)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// replaceLock replaces the lock file at path (this holder's, under its
// guard) with info, atomically.
func replaceLock(path string, info LockInfo) error {
	data, err := encodeLock(info)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a new synced temporary file beside path and
// returns its name.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+lockTmpInfix+"*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func encodeLock(info LockInfo) ([]byte, error) {
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// removeLockLeftovers removes temporary files and takeover guards of path
// that crashes left behind: those over a minute old. Failing to is
// harmless.
func removeLockLeftovers(path string) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() ||
			!strings.HasPrefix(name, base+lockTmpInfix) && !strings.HasPrefix(name, base+takeoverInfix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > unreadableLockAge {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

func newLockToken() (string, error) {
	var b [lockTokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// validLockToken accepts what can safely be part of a file name.
func validLockToken(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// holderAlive reports whether the process that wrote info still runs on
// this host: its pid exists and, where the start time can be read, it is
// the same process and not a later one that reused the pid.
func holderAlive(info LockInfo) bool {
	if !processExists(info.PID) {
		return false
	}
	if info.ProcStart == "" {
		return true
	}
	now := processStart(info.PID)
	return now == "" || now == info.ProcStart
}
