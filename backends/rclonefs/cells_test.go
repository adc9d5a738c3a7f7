package rclonefs

import (
	"testing"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/bisync/bisynctest"
)

// TestCellsLocal runs the engine's scenarios for every decision cell of
// every mode on two real local folders through rclone's local backend; on
// S3 and WebDAV servers, TestCellsServers runs them.
func TestCellsLocal(t *testing.T) {
	bisynctest.RunCells(t, func(t *testing.T) (backends.Replica, backends.Replica) {
		return open(t, t.TempDir()), open(t, t.TempDir())
	})
}
