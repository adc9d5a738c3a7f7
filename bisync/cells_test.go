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
		name        string
		opts1, opts []mem.Option // of path1, of path2
	}{
		{"local-like", nil, nil},
		// Both sides listed in path order: the join takes the listings
		// as they arrive (listJoined) on every run but the first.
		{"local-like-sorted", []mem.Option{mem.SortedList()}, []mem.Option{mem.SortedList()}},
		{"s3-like", nil, []mem.Option{mem.ListHash("md5"), mem.NoDirs()}},
		{"webdav-apache-like", nil, []mem.Option{mem.Precision(time.Second), mem.NoSetModTime(), mem.Hashes()}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			bisynctest.RunCells(t, func(t *testing.T) (backends.Replica, backends.Replica) {
				return mem.New("one", k.opts1...), mem.New("two", k.opts...)
			})
		})
	}
}
