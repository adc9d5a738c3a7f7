package bisync_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ferry-sync/ferry/backends/faulty"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// TestDeletionRecordAfterAFailedRun: device A deletes stale.md; the run
// deletes it on the remote but fails on another file (or is interrupted),
// so it commits nothing and writes no deletion record (writeMeta runs only
// after a run where every action succeeded). The next run finds stale.md
// gone from both sides and forgets it (01), without a record either. Device
// B, joining the remote with an old copy of the vault and no history, then
// brings stale.md back: the deletion was never recorded on the remote.
// DESIGN.md: a deletion record is written "whenever ferry deletes a file".
func TestDeletionRecordAfterAFailedRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule func(cancel context.CancelFunc) faulty.Rule
	}{
		{"failed", func(context.CancelFunc) faulty.Rule {
			return faulty.Rule{On: faulty.Put, Path: "new.md", Err: errDiskFull}
		}},
		{"interrupted", func(cancel context.CancelFunc) faulty.Rule {
			return faulty.Rule{On: faulty.Delete, Path: "stale.md", Cancel: cancel}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			laptopA, laptopB := mem.New("laptopA"), mem.New("laptopB")
			remote := mem.New("remote")
			dir := t.TempDir()
			pairA := bisync.Pair{Path1: laptopA, Path2: remote, HistoryFile: filepath.Join(dir, "a.hist")}
			pairB := bisync.Pair{Path1: laptopB, Path2: remote, HistoryFile: filepath.Join(dir, "b.hist")}
			for _, n := range []string{"keep.md", "stale.md", "other1.md", "other2.md"} {
				laptopA.WriteFile(n, []byte("v1 of "+n), t0)
				laptopB.WriteFile(n, []byte("v1 of "+n), t0) // B's old copy of the vault
			}
			sync(t, pairA, nil)
			laptopA.Remove("stale.md")
			laptopA.WriteFile("new.md", []byte("new on A"), t0)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			broken := pairA
			broken.Path2 = faulty.New(remote, tc.rule(cancel))
			if _, err := bisync.Run(ctx, broken, bisync.DefaultOptions()); !errors.Is(err, bisync.ErrFailed) {
				t.Fatalf("faulted run: err = %v, want ErrFailed", err)
			}
			if _, err := remote.ReadFile("stale.md"); err == nil {
				t.Fatal("the faulted run did not delete stale.md on the remote; the scenario needs it to")
			}
			sync(t, pairA, nil) // recovers, copies new.md

			res := sync(t, pairB, func(o *bisync.Options) { o.DeviceID = "devB" })
			if _, err := remote.ReadFile("stale.md"); err == nil {
				t.Errorf("B brought stale.md, deleted by A in a run that failed, back to the remote (B's plan %v; remote's .ferry/deletions present: %v)",
					planOps(res), hasFile(remote, ".ferry/deletions"))
			}
		})
	}
}

func hasFile(r *mem.Replica, p string) bool {
	_, err := r.ReadFile(p)
	return err == nil
}
