//go:build unix

package history

import (
	"errors"
	"syscall"
)

// processExists reports whether a process with this pid exists on this
// host. Signal 0 checks without sending anything: ESRCH means there is no
// such process, and EPERM that there is one we may not signal. A pid
// that cannot name one process (0 or negative would address a group) is
// taken to exist, so that a damaged lock is never taken for a stale one.
func processExists(pid int) bool {
	if pid <= 0 {
		return true
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
