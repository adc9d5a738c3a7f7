package bisync_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// editWhileRead edits the file on its replica while ferry is reading it, as
// an editor saving a note during a sync would.
type editWhileRead struct {
	*mem.Replica
	path string
}

func (e editWhileRead) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	rc, err := e.Replica.Open(ctx, p)
	if err != nil || p != e.path {
		return rc, err
	}
	e.Replica.WriteFile(p, []byte("SAVED!"), t0.Add(time.Hour))
	return rc, nil
}

// TestFileChangedDuringCopy: the copy is refused rather than recorded, the
// destination keeps what it had, and the next run copies the new version.
func TestFileChangedDuringCopy(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("first"), t0)
	sync(t, p, nil)
	r1.WriteFile("a.md", []byte("second"), t0.Add(time.Minute))
	broken := p
	broken.Path1 = editWhileRead{r1, "a.md"}
	_, err := bisync.Run(context.Background(), broken, bisync.DefaultOptions())
	if !errors.Is(err, bisync.ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if got, _ := r2.ReadFile("a.md"); string(got) != "first" {
		t.Errorf("path2 a.md = %q, want the old version kept whole", got)
	}
	sync(t, p, nil)
	if got, _ := r2.ReadFile("a.md"); string(got) != "SAVED!" {
		t.Errorf("path2 a.md = %q after the next run, want the saved version", got)
	}
}

var _ backends.Replica = editWhileRead{}

// hashFails makes Hash and Open fail for one path, as an unreadable file
// would.
type hashFails struct {
	*mem.Replica
	path string
}

func (h hashFails) Hash(ctx context.Context, p, kind string) (string, error) {
	if p == h.path {
		return "", errors.New("permission denied")
	}
	return h.Replica.Hash(ctx, p, kind)
}

func (h hashFails) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if p == h.path {
		return nil, errors.New("permission denied")
	}
	return h.Replica.Open(ctx, p)
}

// TestUnreadableFileFailsOnlyItself: a touched file that cannot be read is
// left alone and named, while the rest of the run goes on.
func TestUnreadableFileFailsOnlyItself(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("locked.md", []byte("locked"), t0)
	r1.WriteFile("b.md", []byte("b"), t0)
	sync(t, p, nil)
	r1.WriteFile("locked.md", []byte("locked"), t0.Add(time.Hour)) // touched: needs its hash
	r1.WriteFile("new.md", []byte("new"), t0)
	broken := p
	broken.Path1 = hashFails{r1, "locked.md"}
	res, err := bisync.Run(context.Background(), broken, bisync.DefaultOptions())
	if !errors.Is(err, bisync.ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Error(), "locked.md") {
		t.Errorf("Failed = %v, want the unreadable file named", res.Failed)
	}
	if got, _ := r2.ReadFile("new.md"); string(got) != "new" {
		t.Errorf("the other changes did not sync: path2 new.md = %q", got)
	}
	if got, _ := r2.ReadFile("locked.md"); string(got) != "locked" {
		t.Errorf("path2 locked.md = %q, want it left alone", got)
	}
}
