package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

// Exit statuses. The numbers up to 10 are rclone's
// (github.com/rclone/rclone/lib/exitcode), spelled out because they are part
// of ferry's interface; 11 is ferry's own. A test pins them all.
// docs/exit-codes.md says which ferry condition maps to which.
const (
	exitSuccess            = 0  // the run finished without error
	exitUncategorized      = 1  // any error not categorised below; also an interrupted run
	exitUsage              = 2  // syntax or usage error on the command line
	exitDirNotFound        = 3  // a path is unusable: unknown remote or backend, bad connection string, root is a file
	exitFileNotFound       = 4  // not used by ferry
	exitRetry              = 5  // temporary errors: running again later may succeed; also another run holds the lock
	exitNoRetry            = 6  // some actions failed and running again will not fix them by itself
	exitFatal              = 7  // needs the user: history corrupt or written by a newer ferry
	exitTransferExceeded   = 8  // not used by ferry
	exitNoFilesTransferred = 9  // not used by ferry
	exitDurationExceeded   = 10 // not used by ferry

	// ferry's own, past rclone's last code.
	exitSafetyCheck = 11 // a safety check stopped the run before it changed anything
)

// exitCode is the one place that maps the outcome of a command to an exit
// status. The order of the cases matters: an interrupted run reports the
// interruption even when actions failed because of it.
func exitCode(err error) int {
	var (
		usage  *usageError
		failed *failedActionsError
	)
	switch {
	case err == nil:
		return exitSuccess
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitUncategorized
	case errors.Is(err, history.ErrLocked):
		return exitRetry
	case errors.Is(err, history.ErrCorrupt), errors.Is(err, history.ErrNewerFormat):
		return exitFatal
	case isSafetyCheck(err):
		return exitSafetyCheck
	case errors.Is(err, rclonefs.ErrRemote):
		return exitDirNotFound
	case errors.As(err, &failed):
		if failed.allRetryable() {
			return exitRetry
		}
		return exitNoRetry
	case backends.IsRetryable(err):
		return exitRetry
	default:
		return exitUncategorized
	}
}

// hint says what the user can do about err, or "" when there is nothing
// more to say than the error itself.
func hint(err error) string {
	var (
		failed *failedActionsError
		locked *history.LockedError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted: nothing was committed; run the same command again to finish (actions already done are not redone)"
	case errors.As(err, &locked):
		return fmt.Sprintf("another ferry run of this pair is in progress: run again once it has finished, or pass --lock-wait (e.g. --lock-wait 10m) to wait for it; "+
			"if you are sure that no ferry runs for this pair, here or on another machine sharing the workdir, remove %s", locked.Path)
	case errors.Is(err, history.ErrNewerFormat):
		return "a file in the workdir was written by a newer version of ferry: upgrade ferry, or pass another --workdir to start a new history"
	case errors.Is(err, bisync.ErrCheckAccess):
		return "a safety check stopped the run before it changed anything: make sure both paths are the folders you mean " +
			"and hold the same check files (--check-filename, RCLONE_TEST by default); --force does not override this check"
	case errors.Is(err, bisync.ErrEmptySide):
		return "a safety check stopped the run before it changed anything: if that folder is really empty now, " +
			"run the same command again with --force; otherwise check the mount, the bucket or the credentials"
	case errors.Is(err, bisync.ErrTooManyDeletes):
		return "a safety check stopped the run before it changed anything: if the deletions are intended, " +
			"run the same command again with --force (or raise --max-delete or --max-delete-count); --dry-run lists them all"
	case errors.Is(err, history.ErrCorrupt):
		return "the history file is damaged: run again with --resync to rebuild it from both sides (a resync deletes nothing; files that differ become conflicts)"
	case errors.Is(err, rclonefs.ErrRemote):
		return "check the path, or the remote's name with 'rclone listremotes' (and --config if your rclone.conf is elsewhere)"
	case errors.As(err, &failed):
		if failed.allRetryable() {
			return "these errors look temporary: run the same command again later; actions already done are not redone"
		}
		return "fix the errors listed above and run the same command again; actions already done are not redone"
	case backends.IsRetryable(err):
		return "this error looks temporary: run the same command again later"
	}
	return ""
}

// isSafetyCheck reports whether err is a safety check that stopped the run
// before it changed anything.
func isSafetyCheck(err error) bool {
	return errors.Is(err, bisync.ErrTooManyDeletes) || errors.Is(err, bisync.ErrEmptySide) || errors.Is(err, bisync.ErrCheckAccess)
}

// openError is a failure to open one side of the pair (or a backup dir).
type openError struct {
	what   string // "path1", "path2", "--backup-dir1", "--backup-dir2"
	remote string // as the user wrote it
	err    error
}

func (e *openError) Error() string {
	return fmt.Sprintf("cannot open %s %s: %v", e.what, printableRemote(e.remote), e.err)
}

func (e *openError) Unwrap() error { return e.err }

// printableRemote returns the remote as the user wrote it, unless it may
// carry a secret: a connection string's parameters are not echoed.
func printableRemote(remote string) string {
	if strings.ContainsAny(remote, ",=") {
		return "(connection string)"
	}
	return fmt.Sprintf("%q", remote)
}

// failedActionsError says that some actions of a run failed, so the run
// committed nothing. It unwraps to every action's error.
type failedActionsError struct {
	failed []error
	done   int   // actions that completed
	total  int   // actions in the plan
	cause  error // the engine's own error for the run, if any
}

func (e *failedActionsError) Error() string {
	return fmt.Sprintf("%d %s failed, %d of %d done; the history was not updated",
		len(e.failed), plural(len(e.failed), "action", "actions"), e.done, e.total)
}

// Unwrap returns the actions' errors and the engine's, so that errors.Is
// sees an interruption behind them.
func (e *failedActionsError) Unwrap() []error {
	if e.cause == nil {
		return e.failed
	}
	return append(slices.Clip(e.failed), e.cause)
}

func (e *failedActionsError) allRetryable() bool {
	for _, err := range e.failed {
		if !backends.IsRetryable(err) {
			return false
		}
	}
	return len(e.failed) > 0
}
