package bisync_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/history"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newPair(t *testing.T, opts2 ...mem.Option) (*mem.Replica, *mem.Replica, bisync.Pair) {
	r1, r2 := mem.New("one"), mem.New("two", opts2...)
	return r1, r2, bisync.Pair{Path1: r1, Path2: r2, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
}

func sync(t *testing.T, p bisync.Pair, edit func(*bisync.Options)) *bisync.Result {
	t.Helper()
	opts := bisync.DefaultOptions()
	opts.DeviceID = "dev001"
	opts.Now = func() time.Time { return time.Date(2026, 11, 22, 21, 5, 0, 0, time.UTC) }
	if edit != nil {
		edit(&opts)
	}
	res, err := bisync.Run(context.Background(), p, opts)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res
}

func planOps(res *bisync.Result) []string {
	var out []string
	for _, a := range res.Plan {
		out = append(out, a.Op.String()+" "+a.Path)
	}
	return out
}

// TestFirstRunIsUnion: no history, files on both sides; equal content is
// recorded, different content is a conflict, nothing is overwritten.
func TestFirstRunIsUnion(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("only1.md", []byte("one"), t0)
	r2.WriteFile("only2.md", []byte("two"), t0)
	r1.WriteFile("same.md", []byte("same"), t0)
	r2.WriteFile("same.md", []byte("same"), t0.Add(time.Hour))
	r1.WriteFile("differ.md", []byte("mine"), t0)
	r2.WriteFile("differ.md", []byte("theirs"), t0)
	res := sync(t, p, nil)
	if !res.FirstRun {
		t.Error("FirstRun = false on a pair without history")
	}
	want := map[string]string{
		"only1.md": "one",
		"only2.md": "two",
		"same.md":  "same",
		"differ.conflict1-20261122-210500-dev001.md": "mine",
		"differ.conflict2-20261122-210500-dev001.md": "theirs",
	}
	for i, r := range []*mem.Replica{r1, r2} {
		if got := userFiles(r); !reflect.DeepEqual(got, want) {
			t.Errorf("path%d = %v, want %v", i+1, got, want)
		}
	}
	if res := sync(t, p, nil); len(res.Plan) != 0 {
		t.Errorf("second run plans %v, want nothing", planOps(res))
	}
}

// TestTouchIsNotAnEdit: a new modification time with the same content
// transfers nothing, and the new time is recorded so the file is not hashed
// again on the next run.
func TestTouchIsNotAnEdit(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("content"), t0)
	sync(t, p, nil)
	r1.WriteFile("a.md", []byte("content"), t0.Add(time.Hour))
	r2.ResetCalls()
	res := sync(t, p, nil)
	if len(res.Plan) != 0 {
		t.Errorf("touch planned %v, want nothing", planOps(res))
	}
	if n := r2.Calls("Put"); n != 0 {
		t.Errorf("touch made %d Put calls on path2", n)
	}
	r1.ResetCalls()
	sync(t, p, nil)
	// .ferry/format was read by the run before and is known by its
	// fingerprint now: any Open or Hash would be the file's.
	if n := r1.Calls("Hash") + r1.Calls("Open"); n != 0 {
		t.Errorf("the run after a touch read the file again (%d calls): the new time was not recorded", n)
	}
}

// TestSteadyStateReadsNoFile: a run where nothing changed lists both sides
// and does nothing else on them.
func TestSteadyStateReadsNoFile(t *testing.T) {
	r1, r2, p := newPair(t, mem.ListHash("md5"), mem.NoDirs())
	for _, n := range []string{"a.md", "b/c.md", "b/d/e.png"} {
		r1.WriteFile(n, []byte("content of "+n), t0)
	}
	sync(t, p, nil)
	sync(t, p, nil) // hashes settle
	r1.ResetCalls()
	r2.ResetCalls()
	if res := sync(t, p, nil); len(res.Plan) != 0 {
		t.Fatalf("steady state planned %v", planOps(res))
	}
	for i, r := range []*mem.Replica{r1, r2} {
		for _, m := range []string{"Stat", "Put", "Move", "Delete", "Hash", "Mkdir", "Rmdir", "CopyFrom"} {
			if n := r.Calls(m); n != 0 {
				t.Errorf("path%d: %d %s calls in a steady-state run", i+1, n, m)
			}
		}
		// Not even the side's format marker: the history remembers its
		// fingerprint from the run that read it (TestMarkerReadAgain).
		if n := r.Calls("Open"); n != 0 {
			t.Errorf("path%d: %d Open calls, want none", i+1, n)
		}
		if n := r.Calls("List"); n != 1 {
			t.Errorf("path%d: %d List calls, want 1", i+1, n)
		}
	}
}

// TestDryRunChangesNothing: not the sides, not the history, not its folder.
func TestDryRunChangesNothing(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	r2.WriteFile("b.md", []byte("b"), t0)
	p.HistoryFile = filepath.Join(t.TempDir(), "missing-dir", "pair.hist")
	res := sync(t, p, func(o *bisync.Options) { o.DryRun = true })
	if got, want := planOps(res), []string{"copy 1->2 a.md", "copy 2->1 b.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("dry-run plan %v, want %v", got, want)
	}
	if len(userFiles(r1)) != 1 || len(userFiles(r2)) != 1 {
		t.Errorf("dry run changed the sides: %v %v", userFiles(r1), userFiles(r2))
	}
	if _, err := os.Stat(filepath.Dir(p.HistoryFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created the workdir: %v", err)
	}
	for _, a := range res.Plan {
		if a.Decision == 0 || a.Reason == "" {
			t.Errorf("action %+v lacks its decision or reason", a)
		}
	}
}

// TestConflictResolve covers --conflict-resolve and --conflict-loser.
func TestConflictResolve(t *testing.T) {
	tests := []struct {
		resolve bisync.ConflictResolve
		loser   bisync.ConflictLoser
		want    map[string]string
	}{
		{bisync.ResolveNewer, bisync.LoserNum, map[string]string{"a.md": "two, newer", "a.conflict1-20261122-210500-dev001.md": "one"}},
		{bisync.ResolveOlder, bisync.LoserNum, map[string]string{"a.md": "one", "a.conflict2-20261122-210500-dev001.md": "two, newer"}},
		{bisync.ResolveLarger, bisync.LoserPathname, map[string]string{"a.md": "two, newer", "a.conflict-path1-20261122-210500-dev001.md": "one"}},
		{bisync.ResolveSmaller, bisync.LoserDelete, map[string]string{"a.md": "one"}},
		{bisync.ResolvePath1, bisync.LoserDelete, map[string]string{"a.md": "one"}},
		{bisync.ResolvePath2, bisync.LoserNum, map[string]string{"a.md": "two, newer", "a.conflict1-20261122-210500-dev001.md": "one"}},
	}
	for _, tt := range tests {
		t.Run(tt.resolve.String()+"-"+tt.loser.String(), func(t *testing.T) {
			r1, r2, p := newPair(t)
			r1.WriteFile("a.md", []byte("base"), t0)
			sync(t, p, nil)
			r1.WriteFile("a.md", []byte("one"), t0.Add(time.Hour))
			r2.WriteFile("a.md", []byte("two, newer"), t0.Add(2*time.Hour))
			sync(t, p, func(o *bisync.Options) { o.ConflictResolve, o.ConflictLoser = tt.resolve, tt.loser })
			for i, r := range []*mem.Replica{r1, r2} {
				if got := userFiles(r); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("path%d = %v, want %v", i+1, got, tt.want)
				}
			}
		})
	}
}

// TestConflictSuffix: two suffixes name each side's version.
func TestConflictSuffix(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile(".gitignore", []byte("one"), t0)
	r2.WriteFile(".gitignore", []byte("two"), t0)
	sync(t, p, func(o *bisync.Options) { o.ConflictSuffix = "laptop,server" })
	want := map[string]string{
		".gitignore.laptop-20261122-210500-dev001": "one",
		".gitignore.server-20261122-210500-dev001": "two",
	}
	if got := userFiles(r2); !reflect.DeepEqual(got, want) {
		t.Errorf("path2 = %v, want %v", got, want)
	}
}

// TestBackupDir: overwritten and deleted files go to the backup dir first.
func TestBackupDir(t *testing.T) {
	r1, r2, p := newPair(t)
	b2 := mem.New("backup2")
	r1.WriteFile("edit.md", []byte("old"), t0)
	r1.WriteFile("gone.md", []byte("gone"), t0)
	sync(t, p, nil)
	r1.WriteFile("edit.md", []byte("new"), t0.Add(time.Hour))
	r1.Remove("gone.md")
	sync(t, p, func(o *bisync.Options) { o.BackupDir2 = b2 })
	want := map[string]string{"edit.md": "old", "gone.md": "gone"}
	if got := userFiles(b2); !reflect.DeepEqual(got, want) {
		t.Errorf("backup dir = %v, want %v", got, want)
	}
	if got := userFiles(r2); !reflect.DeepEqual(got, map[string]string{"edit.md": "new"}) {
		t.Errorf("path2 = %v", got)
	}
}

// putFails makes Put fail for one path, to show that a failed action
// commits nothing and that the next run finishes the job.
type putFails struct {
	backends.Replica
	path string
}

func (f putFails) Put(ctx context.Context, p string, r io.Reader, src backends.Entry) (backends.Entry, error) {
	if p == f.path {
		return backends.Entry{}, errors.New("disk full")
	}
	return f.Replica.Put(ctx, p, r, src)
}

func TestFailedActionCommitsNothing(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("ok.md", []byte("ok"), t0)
	sync(t, p, nil)
	r1.WriteFile("ok.md", []byte("ok, edited"), t0.Add(time.Hour))
	r1.WriteFile("bad.md", []byte("bad"), t0)
	before, err := history.Load(p.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	broken := p
	broken.Path2 = putFails{r2, "bad.md"}
	opts := bisync.DefaultOptions()
	res, err := bisync.Run(context.Background(), broken, opts)
	if !errors.Is(err, bisync.ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Error(), "bad.md") || !strings.Contains(res.Failed[0].Error(), "path2") {
		t.Errorf("Failed = %v, want one error naming bad.md on path2", res.Failed)
	}
	after, err := history.Load(p.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Error("a run with a failed action changed the history")
	}
	sync(t, p, nil)
	if got, want := userFiles(r2), userFiles(r1); !reflect.DeepEqual(got, want) {
		t.Errorf("after a healthy run path2 = %v, want %v", got, want)
	}
	if res := sync(t, p, nil); len(res.Plan) != 0 {
		t.Errorf("third run plans %v", planOps(res))
	}
}

// userFiles are the files of a replica without ferry's own metadata.
func userFiles(r *mem.Replica) map[string]string {
	files := r.Files()
	for p := range files {
		if strings.HasPrefix(p, ".ferry/") {
			delete(files, p)
		}
	}
	return files
}

// TestMarkerReadAgain: the side format marker is read only when its listed
// fingerprint differs from the one the history remembers, so a marker
// rewritten by a newer ferry is still found.
func TestMarkerReadAgain(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	sync(t, p, nil) // writes the markers, and remembers them as written
	r1.ResetCalls()
	sync(t, p, nil)
	if n := r1.Calls("Open"); n != 0 {
		t.Errorf("%d Open calls with the marker unchanged, want none", n)
	}
	r2.WriteFile(".ferry/format", []byte("ferry side format 9\n"), t0.Add(time.Hour))
	opts := bisync.DefaultOptions()
	if _, err := bisync.Run(context.Background(), p, opts); !errors.Is(err, history.ErrNewerFormat) {
		t.Errorf("run after a newer ferry marked path2: %v, want ErrNewerFormat", err)
	}
}

// tempCleaning counts RemoveStaleTemps calls on a mem replica.
type tempCleaning struct {
	*mem.Replica
	calls int
	err   error
}

func (c *tempCleaning) RemoveStaleTemps(context.Context) (int, error) {
	c.calls++
	return 1, c.err
}

// TestStaleTempsRemovedAfterSuccess: each side is asked to remove the
// temporary files of killed uploads once a run succeeded, changed
// something or not; never by a dry run; and a failure to is a warning.
func TestStaleTempsRemovedAfterSuccess(t *testing.T) {
	r1, r2, p := newPair(t)
	c1, c2 := &tempCleaning{Replica: r1}, &tempCleaning{Replica: r2, err: errors.New("server said no")}
	p.Path1, p.Path2 = c1, c2
	r1.WriteFile("a.md", []byte("a"), t0)
	dry := bisync.DefaultOptions()
	dry.DryRun = true
	if _, err := bisync.Run(context.Background(), p, dry); err != nil {
		t.Fatal(err)
	}
	if c1.calls+c2.calls != 0 {
		t.Fatalf("a dry run removed temporary files: %d, %d calls", c1.calls, c2.calls)
	}
	for run := 1; run <= 2; run++ {
		res, err := bisync.Run(context.Background(), p, bisync.DefaultOptions())
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if c1.calls != run || c2.calls != run {
			t.Errorf("run %d: %d and %d calls, want %d each", run, c1.calls, c2.calls, run)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "server said no") }) {
			t.Errorf("run %d: warnings %q, want path2's failure", run, res.Warnings)
		}
	}
}
