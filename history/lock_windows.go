//go:build windows

package history

import (
	"errors"
	"syscall"
)

// processExists reports whether a process with this pid exists on this
// host. Only ERROR_INVALID_PARAMETER from OpenProcess says that there is
// none; access denied means there is one we may not open. A process that
// exited but is still referenced reports STILL_ACTIVE no more.
func processExists(pid int) bool {
	if pid <= 0 {
		return true
	}
	const processQueryLimitedInformation = 0x1000
	const stillActive = 259
	const errorInvalidParameter = syscall.Errno(87) // ERROR_INVALID_PARAMETER
	h, err := syscall.OpenProcess(processQueryLimitedInformation, false, uint32(pid))
	if err != nil {
		return !errors.Is(err, errorInvalidParameter)
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}

// processStart cannot tell a process from a later one with its pid here.
func processStart(pid int) string { return "" }
