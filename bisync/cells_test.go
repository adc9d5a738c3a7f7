package bisync_test

import (
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync/bisynctest"
)

// TestCells runs every decision cell of every mode on in-memory replicas of
// several kinds: the kinds ferry meets in the field.
func TestCells(t *testing.T) {
	kinds := []struct {
		name string
		opts []mem.Option
	}{
		{"local-like", nil},
		{"s3-like", []mem.Option{mem.ListHash("md5"), mem.NoDirs()}},
		{"webdav-apache-like", []mem.Option{mem.Precision(time.Second), mem.NoSetModTime(), mem.Hashes()}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			bisynctest.RunCells(t, func(t *testing.T) (backends.Replica, backends.Replica) {
				return mem.New("one"), mem.New("two", k.opts...)
			})
		})
	}
}
