//go:build unix

package history

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
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

// processStart returns the start time of process pid, in clock ticks since
// boot, from Linux's /proc (field 22 of /proc/PID/stat); "" where there is
// no /proc or the process is gone.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces
	// or parentheses itself: count fields after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // fields after ')' begin with field 3
	if len(f) <= startField {
		return ""
	}
	return f[startField]
}
