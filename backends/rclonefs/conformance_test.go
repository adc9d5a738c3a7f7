package rclonefs

import (
	"path/filepath"
	"testing"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/replicatest"
)

func TestConformanceLocal(t *testing.T) {
	replicatest.Run(t, func(t *testing.T) backends.Replica {
		return open(t, filepath.Join(t.TempDir(), "root"))
	})
}

func TestConformanceLocalConnectionString(t *testing.T) {
	replicatest.Run(t, func(t *testing.T) backends.Replica {
		return open(t, ":local:"+filepath.Join(t.TempDir(), "root"))
	})
}
