package bisync_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// TestNewDeviceDoesNotBringDeletedFilesBack: device A deletes notes on the
// remote; device B, joining the remote with stale copies and no history,
// deletes the stale copies and keeps the one it edited after the deletion.
func TestNewDeviceDoesNotBringDeletedFilesBack(t *testing.T) {
	laptopA, laptopB := mem.New("laptopA"), mem.New("laptopB")
	remote := mem.New("remote", mem.ListHash("md5"), mem.NoDirs())
	pairA := bisync.Pair{Path1: laptopA, Path2: remote, HistoryFile: filepath.Join(t.TempDir(), "a.hist")}
	pairB := bisync.Pair{Path1: laptopB, Path2: remote, HistoryFile: filepath.Join(t.TempDir(), "b.hist")}
	for _, n := range []string{"keep.md", "stale.md", "edited.md", "other1.md", "other2.md"} {
		laptopA.WriteFile(n, []byte("v1 of "+n), t0)
		laptopB.WriteFile(n, []byte("v1 of "+n), t0) // B's old copy of the vault
	}
	sync(t, pairA, nil)
	laptopA.Remove("stale.md")
	laptopA.Remove("edited.md")
	sync(t, pairA, nil)
	if _, err := remote.ReadFile("stale.md"); err == nil {
		t.Fatal("the deletion did not reach the remote")
	}
	laptopB.WriteFile("edited.md", []byte("v2, edited on B after A deleted it"), t0.Add(time.Hour))

	res := sync(t, pairB, func(o *bisync.Options) { o.DeviceID = "devB" })
	if _, err := laptopB.ReadFile("stale.md"); err == nil {
		t.Errorf("B kept its stale copy of a deleted file (plan %v)", planOps(res))
	}
	if _, err := remote.ReadFile("stale.md"); err == nil {
		t.Error("B brought the deleted stale.md back to the remote")
	}
	if got, _ := remote.ReadFile("edited.md"); string(got) != "v2, edited on B after A deleted it" {
		t.Errorf("remote edited.md = %q: an edit made after the deletion must win", got)
	}
	if got, _ := laptopB.ReadFile("keep.md"); string(got) != "v1 of keep.md" {
		t.Errorf("B lost keep.md: %q", got)
	}
}
