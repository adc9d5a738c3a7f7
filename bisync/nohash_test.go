package bisync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
)

// noHashFor has no hash for one object, as S3 has none for a multipart
// upload without an md5 in its metadata.
type noHashFor struct {
	*mem.Replica
	path string
}

func (n noHashFor) Hash(ctx context.Context, p, kind string) (string, error) {
	if p == n.path {
		return "", fmt.Errorf("no %s known for this file: %w", kind, backends.ErrHashUnsupported)
	}
	return n.Replica.Hash(ctx, p, kind)
}

// TestChecksumCompareWithoutAHash: --compare checksum on an object that has
// no hash falls back to size and time instead of failing every run.
func TestChecksumCompareWithoutAHash(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("big.bin", []byte("parts"), t0)
	sync(t, p, nil)
	checksum := func(o *bisync.Options) { o.Compare = bisync.Compare{ModTime: true, Checksum: true} }
	hashless := p
	hashless.Path2 = noHashFor{r2, "big.bin"}
	opts := bisync.DefaultOptions()
	checksum(&opts)
	res, err := bisync.Run(context.Background(), hashless, opts)
	if err != nil {
		t.Fatalf("checksum run over an object without a hash: %v", err)
	}
	if len(res.Plan) != 0 {
		t.Errorf("plan %v, want nothing", planOps(res))
	}
}

// TestContentCheckWithoutAHash: a file new on both sides, whose hash one
// side does not have (an S3 object uploaded in parts), is compared by its
// bytes: the same bytes are recorded, different ones are a conflict;
// neither fails the run.
func TestContentCheckWithoutAHash(t *testing.T) {
	for _, c := range []struct {
		other string
		want  bisync.Op
	}{{"parts", bisync.OpRecord}, {"PARTS", bisync.OpConflict}} {
		t.Run(c.want.String(), func(t *testing.T) {
			r1, r2, p := newPair(t)
			r1.WriteFile("big.bin", []byte("parts"), t0)
			r2.WriteFile("big.bin", []byte(c.other), t0.Add(time.Hour))
			p.Path2 = noHashFor{r2, "big.bin"}
			res, err := bisync.Run(context.Background(), p, bisync.DefaultOptions())
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if len(res.Plan) != 1 || res.Plan[0].Op != c.want {
				t.Errorf("plan %v, want %v", planOps(res), c.want)
			}
		})
	}
}
