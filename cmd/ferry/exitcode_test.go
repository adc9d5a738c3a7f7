package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rclone/rclone/lib/exitcode"

	"github.com/ferry-sync/ferry/backends/rclonefs"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

// TestExitNumbers pins ferry's exit statuses to rclone's.
func TestExitNumbers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
		number    int // the number as documented in docs/exit-codes.md
	}{
		{"success", exitSuccess, exitcode.Success, 0},
		{"uncategorized", exitUncategorized, exitcode.UncategorizedError, 1},
		{"usage", exitUsage, exitcode.UsageError, 2},
		{"dir not found", exitDirNotFound, exitcode.DirNotFound, 3},
		{"file not found", exitFileNotFound, exitcode.FileNotFound, 4},
		{"retry", exitRetry, exitcode.RetryError, 5},
		{"no retry", exitNoRetry, exitcode.NoRetryError, 6},
		{"fatal", exitFatal, exitcode.FatalError, 7},
		{"transfer exceeded", exitTransferExceeded, exitcode.TransferExceeded, 8},
		{"no files transferred", exitNoFilesTransferred, exitcode.NoFilesTransferred, 9},
		{"duration exceeded", exitDurationExceeded, exitcode.DurationExceeded, 10},
	} {
		if tc.got != tc.want || tc.got != tc.number {
			t.Errorf("%s: ferry uses %d, rclone %d, docs %d", tc.name, tc.got, tc.want, tc.number)
		}
	}
	// ferry's own codes come after rclone's last one, so that no rclone
	// meaning is reused.
	for _, tc := range []struct {
		name      string
		got, want int // want: the number as documented in docs/exit-codes.md
	}{
		{"safety check", exitSafetyCheck, 11},
	} {
		if tc.got != tc.want || tc.got <= exitcode.DurationExceeded {
			t.Errorf("%s: ferry uses %d, docs %d; it must be above rclone's last code %d", tc.name, tc.got, tc.want, exitcode.DurationExceeded)
		}
	}
}

// retryable is an error a replica marks as temporary.
type retryable struct{ error }

func (retryable) Retryable() bool { return true }

func TestExitCode(t *testing.T) {
	temp := retryable{errors.New("connection reset")}
	perm := errors.New("permission denied")
	open := func(err error) error { return &openError{what: "path2", remote: "nosuch:x", err: err} }
	failed := func(cause error, errs ...error) error {
		return &failedActionsError{failed: errs, total: 10, cause: cause}
	}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"usage", usageErrorf("ferry sync", "bad flag"), 2},
		{"wrapped usage", fmt.Errorf("x: %w", &usageError{err: errors.New("bad")}), 2},
		{"interrupted", fmt.Errorf("list path1: %w", context.Canceled), 1},
		{"interrupted with failed actions", failed(context.Canceled, perm), 1},
		{"failed action interrupted", failed(nil, fmt.Errorf("copy: %w", context.Canceled)), 1},
		{"locked", &history.LockedError{Path: "/w/x.lck", Holder: history.LockInfo{PID: 42, Host: "laptop"}}, 5},
		{"locked, wrapped", fmt.Errorf("sync: %w", &history.LockedError{Path: "/w/x.lck"}), 5},
		{"waiting for the lock interrupted", fmt.Errorf("lock /w/x.lck: stopped waiting: %w", context.Canceled), 1},
		{"history corrupt", fmt.Errorf("load: %w", history.ErrCorrupt), 7},
		{"history newer", fmt.Errorf("load: %w", history.ErrNewerFormat), 7},
		{"unknown remote", open(fmt.Errorf("%w: didn't find section in config file", rclonefs.ErrRemote)), 3},
		{"open retryable", open(temp), 5},
		{"open failed", open(errors.New("401 unauthorized")), 1},
		{"failed all retryable", failed(nil, temp, fmt.Errorf("copy: %w", temp)), 5},
		{"failed some permanent", failed(nil, temp, perm), 6},
		{"failed permanent", failed(errors.New("bisync: some actions failed"), perm), 6},
		{"retryable run error", fmt.Errorf("list path2: %w", temp), 5},
		{"too many deletes", fmt.Errorf("%w: 6 of 10", bisync.ErrTooManyDeletes), 11},
		{"too many deletes on both sides", errors.Join(bisync.ErrTooManyDeletes, bisync.ErrTooManyDeletes), 11},
		{"empty side", fmt.Errorf("%w: path2", bisync.ErrEmptySide), 11},
		{"access check", fmt.Errorf("%w: no RCLONE_TEST", bisync.ErrCheckAccess), 11},
		{"access check and too many deletes", errors.Join(bisync.ErrCheckAccess, bisync.ErrTooManyDeletes), 11},
		{"other", errors.New("boom"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestHintSaysWhatToDo(t *testing.T) {
	for _, err := range []error{
		context.Canceled,
		history.ErrCorrupt,
		history.ErrNewerFormat,
		&openError{what: "path1", remote: "x:", err: rclonefs.ErrRemote},
		&failedActionsError{failed: []error{errors.New("no")}},
		retryable{errors.New("timeout")},
		&history.LockedError{Path: "/w/x.lck"},
		bisync.ErrTooManyDeletes,
		bisync.ErrEmptySide,
		bisync.ErrCheckAccess,
	} {
		if hint(err) == "" {
			t.Errorf("no hint for %v", err)
		}
	}
}

// TestSafetyCheckHints: the hint of a safety check says that nothing
// changed, and names --force exactly where --force helps.
func TestSafetyCheckHints(t *testing.T) {
	for _, tc := range []struct {
		err   error
		force bool
	}{
		{fmt.Errorf("%w: 6 of 10", bisync.ErrTooManyDeletes), true},
		{fmt.Errorf("%w: path2", bisync.ErrEmptySide), true},
		{fmt.Errorf("%w: no RCLONE_TEST", bisync.ErrCheckAccess), false},
		{errors.Join(bisync.ErrTooManyDeletes, bisync.ErrCheckAccess), false},
	} {
		h := hint(tc.err)
		if !strings.Contains(h, "before it changed anything") {
			t.Errorf("%v: hint does not say nothing changed: %s", tc.err, h)
		}
		if tc.force && !strings.Contains(h, "run the same command again with --force") {
			t.Errorf("%v: hint does not point to --force: %s", tc.err, h)
		}
		if !tc.force && !strings.Contains(h, "--force does not override") {
			t.Errorf("%v: hint suggests --force where it does not help: %s", tc.err, h)
		}
	}
}

// TestMultiLineError: a joined error (both sides over --max-delete) is
// printed whole, each part on its own line.
func TestMultiLineError(t *testing.T) {
	var b strings.Builder
	err := errors.Join(fmt.Errorf("%w: path1: a.md", bisync.ErrTooManyDeletes), fmt.Errorf("%w: path2: b.md", bisync.ErrTooManyDeletes))
	printError(&b, "sync", err)
	got := b.String()
	want := "ferry: sync failed: bisync: too many deletions: path1: a.md\n  bisync: too many deletions: path2: b.md\nferry: a safety check"
	if !strings.HasPrefix(got, want) {
		t.Errorf("printed:\n%s\nwant it to start with:\n%s", got, want)
	}
}

func TestLockedHint(t *testing.T) {
	h := hint(fmt.Errorf("x: %w", &history.LockedError{Path: "/w/pair.lck"}))
	for _, want := range []string{"--lock-wait", "remove /w/pair.lck", "no ferry runs"} {
		if !strings.Contains(h, want) {
			t.Errorf("hint does not say %q: %s", want, h)
		}
	}
}

func TestOpenErrorHidesConnectionString(t *testing.T) {
	err := &openError{what: "path2", remote: ":webdav,url='http://h/dav',pass=s3cr3t:vault", err: errors.New("no")}
	if got := err.Error(); containsAny(got, "s3cr3t", "pass") {
		t.Errorf("error echoes a secret: %s", got)
	}
	err = &openError{what: "path2", remote: "nosuch:vault", err: errors.New("no")}
	if got := err.Error(); !containsAny(got, `"nosuch:vault"`) {
		t.Errorf("error does not name the remote: %s", got)
	}
}
