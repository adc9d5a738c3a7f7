package rclonefs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
)

// ErrRemote is wrapped by Open's errors that come from the remote's
// description rather than from reaching it: a malformed remote, a remote name
// in neither the config file nor the environment, an unknown backend type, a
// root that is a file. The CLI maps it to rclone's exit code 3 (directory
// not found).
var ErrRemote = errors.New("rclonefs: unusable remote")

// opError is every error a Replica method returns: what it was doing, on
// which path of which remote. Its message is redacted, since rclone's own
// errors may quote a connection string.
type opError struct {
	Op     string // "list", "put", ...
	Remote string // Replica.String(), safe to print
	Path   string // "" for the whole replica
	Kind   error  // a backends sentinel the error also wraps, or nil
	Err    error
}

func (e *opError) Error() string {
	where := e.Remote
	if e.Path != "" {
		where = fmt.Sprintf("%q on %s", e.Path, e.Remote)
	}
	return redact(fmt.Sprintf("%s %s: %v", e.Op, where, e.Err))
}

// Unwrap lets errors.Is find both the sentinel ferry branches on and
// rclone's error underneath.
func (e *opError) Unwrap() []error {
	if e.Kind != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Err}
}

// Retryable reports a transient failure, as rclone's fserrors classifies
// it: a timeout, a dropped connection, a server asking to retry later. A
// cancelled context and errors rclone marks as fatal or not to be retried
// are not.
func (e *opError) Retryable() bool {
	// Not context.DeadlineExceeded: ferry sets no deadline of its own, and
	// net/http's timeouts ("timeout awaiting response headers") say they
	// are one.
	if errors.Is(e.Err, context.Canceled) {
		return false
	}
	if fserrors.IsFatalError(e.Err) || fserrors.IsNoRetryError(e.Err) {
		return false
	}
	return fserrors.IsRetryError(e.Err) || fserrors.IsRetryAfterError(e.Err) || fserrors.ShouldRetry(e.Err) ||
		brokenConnection(e.Err)
}

// brokenConnection reports an answer cut off part way or never come: net/http
// says its connection broke, whatever it found wrong with the half it read
// ("malformed MIME header", "malformed HTTP response"), or a request timed
// out. fserrors looks for that phrase only in the innermost error, which
// then is the complaint about the half answer; and some backends quote
// the timeout with %v, keeping its words but not the error.
func brokenConnection(err error) bool {
	var ne net.Error
	msg := err.Error()
	return strings.Contains(msg, "net/http: HTTP/1.x transport connection broken") ||
		strings.Contains(msg, "net/http: timeout awaiting response headers") ||
		errors.As(err, &ne) && ne.Timeout()
}

// wrap returns err as an *opError of r, marking rclone's not-found errors
// with backends.ErrNotFound. It returns nil for nil.
func (r *Replica) wrap(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var oe *opError
	if errors.As(err, &oe) {
		return err // already says where
	}
	var kind error
	switch {
	case errors.Is(err, backends.ErrNotFound), errors.Is(err, backends.ErrHashUnsupported),
		errors.Is(err, backends.ErrCannotCopy):
		// already carries its sentinel
	case errors.Is(err, fs.ErrorObjectNotFound), errors.Is(err, fs.ErrorDirNotFound):
		kind = backends.ErrNotFound
	}
	return &opError{Op: op, Remote: r.name, Path: path, Kind: kind, Err: err}
}
