package faulty_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/faulty"
	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/backends/replicatest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// A wrapper without rules is the replica it wraps: it passes the same
// conformance suite, server-side copies between wrappers included.
func TestConformance(t *testing.T) {
	t.Run("Plain", func(t *testing.T) {
		replicatest.Run(t, func(t *testing.T) backends.Replica {
			return faulty.New(mem.New(t.Name()))
		})
	})
	t.Run("SharedSpace", func(t *testing.T) {
		space := mem.NewSpace()
		replicatest.Run(t, func(t *testing.T) backends.Replica {
			return faulty.New(mem.New(t.Name(), mem.InSpace(space)))
		})
	})
}

// noCopier hides mem's CopyFrom: its method set is backends.Replica's.
type noCopier struct{ backends.Replica }

func TestCopierOnlyWhenInnerIsOne(t *testing.T) {
	if _, ok := faulty.New(mem.New("m")).(backends.Copier); !ok {
		t.Error("the wrapper of a Copier is not a Copier")
	}
	w := faulty.New(noCopier{mem.New("m")})
	if _, ok := w.(backends.Copier); ok {
		t.Error("the wrapper of a replica without CopyFrom is a Copier")
	}
	if faulty.Of(w) == nil || faulty.Of(mem.New("x")) != nil {
		t.Error("Of does not tell wrappers from other replicas")
	}
}

func put(ctx context.Context, r backends.Replica, p, content string) error {
	_, err := r.Put(ctx, p, strings.NewReader(content), backends.Entry{Path: p, Size: int64(len(content)), ModTime: t0})
	return err
}

func TestNthCallFails(t *testing.T) {
	ctx := t.Context()
	inner := mem.New("m")
	boom := errors.New("disk full")
	w := faulty.New(inner, faulty.Rule{On: faulty.Put, Nth: 2, Err: boom})
	for i, p := range []string{"a", "b", "c"} {
		err := put(ctx, w, p, p)
		switch {
		case i == 1 && !errors.Is(err, boom):
			t.Errorf("Put #2: err = %v, want %v", err, boom)
		case i == 1 && !strings.Contains(err.Error(), "Put b"):
			t.Errorf("Put #2: error %q does not name the call", err)
		case i != 1 && err != nil:
			t.Errorf("Put #%d: %v", i+1, err)
		}
	}
	if got, want := slices.Sorted(mapKeys(inner.Files())), []string{"a", "c"}; !slices.Equal(got, want) {
		t.Errorf("files %v, want %v: a failed call must not reach the inner replica", got, want)
	}
	if n := inner.Calls("Put"); n != 2 {
		t.Errorf("inner Put calls %d, want 2", n)
	}
	f := faulty.Of(w)
	if n := f.Calls(faulty.Put); n != 3 {
		t.Errorf("Calls(Put) = %d, want 3 (failed calls count)", n)
	}
	if got := f.Fired(); len(got) != 1 || got[0] != (faulty.Call{Method: faulty.Put, Path: "b"}) {
		t.Errorf("Fired = %v, want [Put b]", got)
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A rule on a set of methods counts them together; a Path narrows it, and
// Move counts for both of its paths.
func TestMethodSetAndPath(t *testing.T) {
	ctx := t.Context()
	inner := mem.New("m")
	inner.WriteFile("x", []byte("x"), t0)
	inner.WriteFile("y", []byte("y"), t0)
	w := faulty.New(inner,
		faulty.Rule{On: faulty.Mutating, Nth: 3},
		faulty.Rule{On: faulty.Move, Path: "z", Nth: 2},
	)
	if err := put(ctx, w, "a", "a"); err != nil { // mutating #1
		t.Fatal(err)
	}
	if _, err := w.Move(ctx, "x", "z"); err != nil { // mutating #2, Move on z #1
		t.Fatal(err)
	}
	if _, err := w.Stat(ctx, "z"); err != nil { // not counted
		t.Fatal(err)
	}
	if err := w.Delete(ctx, "a"); !errors.Is(err, faulty.ErrInjected) { // mutating #3
		t.Errorf("Delete (3rd mutating call): err = %v, want ErrInjected", err)
	}
	if _, err := w.Move(ctx, "z", "x"); !errors.Is(err, faulty.ErrInjected) { // Move on z #2
		t.Errorf("Move z -> x (2nd Move on z): err = %v, want ErrInjected", err)
	}
	if _, err := w.Move(ctx, "y", "w"); err != nil {
		t.Errorf("Move y -> w: %v", err)
	}
	if got := faulty.Of(w).Calls(faulty.Mutating); got != 5 {
		t.Errorf("Calls(Mutating) = %d, want 5", got)
	}
	if got := faulty.Of(w).Calls(faulty.Reading); got != 1 {
		t.Errorf("Calls(Reading) = %d, want 1", got)
	}
}

func TestSticky(t *testing.T) {
	ctx := t.Context()
	inner := mem.New("m")
	inner.WriteFile("locked", []byte("secret"), t0)
	inner.WriteFile("open", []byte("fine"), t0)
	denied := errors.New("permission denied")
	w := faulty.New(inner, faulty.Rule{On: faulty.Open | faulty.Hash, Path: "locked", Sticky: true, Err: denied})
	for range 3 {
		if _, err := w.Open(ctx, "locked"); !errors.Is(err, denied) {
			t.Errorf("Open locked: err = %v, want %v", err, denied)
		}
		if _, err := w.Hash(ctx, "locked", "md5"); !errors.Is(err, denied) {
			t.Errorf("Hash locked: err = %v, want %v", err, denied)
		}
		rc, err := w.Open(ctx, "open")
		if err != nil {
			t.Fatalf("Open open: %v", err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "fine" {
			t.Errorf("read %q", b)
		}
	}
	if n := len(faulty.Of(w).Fired()); n != 6 {
		t.Errorf("fired %d times, want 6", n)
	}
}

// Cancel without Err lets the call through and then cancels, as an
// interrupt arriving just after the call; later calls see the cancelled
// context.
func TestCancelAfterCall(t *testing.T) {
	inner := mem.New("m")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := faulty.New(inner, faulty.Rule{On: faulty.Mutating, Nth: 2, Cancel: cancel})
	if err := put(ctx, w, "a", "a"); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("cancelled too early")
	}
	if err := put(ctx, w, "b", "b"); err != nil {
		t.Fatalf("the call at which the rule fires must run: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("not cancelled after the 2nd mutating call")
	}
	if err := put(ctx, w, "c", "c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Put after the cancel: err = %v, want context.Canceled", err)
	}
	if got := len(inner.Files()); got != 2 {
		t.Errorf("%d files, want 2", got)
	}
}

// Cancel with Err fails the call and cancels.
func TestCancelWithError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	inner := mem.New("m")
	w := faulty.New(inner, faulty.Rule{On: faulty.Put, Err: context.Canceled, Cancel: cancel})
	if err := put(ctx, w, "a", "a"); !errors.Is(err, context.Canceled) || ctx.Err() == nil {
		t.Errorf("err = %v, ctx.Err = %v; want both cancelled", err, ctx.Err())
	}
	if len(inner.Files()) != 0 {
		t.Error("the refused Put reached the replica")
	}
}

// A server-side copy between two wrappers of one Space reaches the inner
// replicas' CopyFrom, and the destination's rules can fail it.
func TestCopyFromThroughWrappers(t *testing.T) {
	ctx := t.Context()
	space := mem.NewSpace()
	src, dst := mem.New("src", mem.InSpace(space)), mem.New("dst", mem.InSpace(space))
	src.WriteFile("a", []byte("aaa"), t0)
	src.WriteFile("b", []byte("bbb"), t0)
	ws := faulty.New(src, faulty.Rule{On: faulty.All, Sticky: true}) // the source's rules do not see it
	wd := faulty.New(dst, faulty.Rule{On: faulty.CopyFrom, Path: "b2"})
	c := wd.(backends.Copier)
	if _, err := c.CopyFrom(ctx, ws, "a", "a2"); err != nil {
		t.Fatalf("CopyFrom: %v", err)
	}
	if _, err := c.CopyFrom(ctx, ws, "b", "b2"); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("CopyFrom to b2: err = %v, want ErrInjected", err)
	}
	if got := dst.Files(); len(got) != 1 || got["a2"] != "aaa" {
		t.Errorf("dst = %v, want only a2", got)
	}
	if dst.Calls("Put") != 0 || dst.Calls("CopyFrom") != 1 {
		t.Errorf("inner dst: %d Put, %d CopyFrom; want a server-side copy only", dst.Calls("Put"), dst.Calls("CopyFrom"))
	}
	// Between different Spaces the inner replica refuses, as it should.
	other := faulty.New(mem.New("other"))
	if _, err := c.CopyFrom(ctx, other, "a", "x"); !errors.Is(err, backends.ErrCannotCopy) {
		t.Errorf("CopyFrom across Spaces: err = %v, want ErrCannotCopy", err)
	}
}

func TestMethodString(t *testing.T) {
	for m, want := range map[faulty.Method]string{
		faulty.Put:                         "Put",
		faulty.Put | faulty.Delete:         "Put|Delete",
		faulty.Mutating:                    "Put|Move|Delete|Mkdir|Rmdir|CopyFrom",
		0:                                  "none",
		faulty.Method(1 << 15):             "Method(0x8000)",
		faulty.List | faulty.Method(1<<14): "List|Method(0x4000)",
	} {
		if got := m.String(); got != want {
			t.Errorf("Method(%#x).String() = %q, want %q", uint16(m), got, want)
		}
	}
}
