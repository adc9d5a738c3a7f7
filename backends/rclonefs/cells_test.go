package rclonefs

import (
	"fmt"
	"testing"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/bisync/bisynctest"
)

// TestCellsLocal runs the engine's scenarios for every decision cell of
// every mode on two real local folders through rclone's local backend.
func TestCellsLocal(t *testing.T) {
	bisynctest.RunCells(t, func(t *testing.T) (backends.Replica, backends.Replica) {
		return open(t, t.TempDir()), open(t, t.TempDir())
	})
}

// TestCellsLocalS3 runs them again between a local folder and an S3 bucket,
// where hashes come from ETags and modification times are not listed.
func TestCellsLocalS3(t *testing.T) {
	_, url := newFakeS3(t)
	bisynctest.RunCells(t, func(t *testing.T) (backends.Replica, backends.Replica) {
		return open(t, t.TempDir()), open(t, s3Remote(url, fmt.Sprintf("cells%d", s3Seq.Add(1))))
	})
}
