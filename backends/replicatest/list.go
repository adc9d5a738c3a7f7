package replicatest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
)

func testListEmpty(t *testing.T, r backends.Replica) {
	if m := list(t, r); len(m) != 0 {
		t.Errorf("List of a fresh replica reports %v, want nothing", slices.Sorted(maps.Keys(m)))
	}
}

func testListFnError(t *testing.T, r backends.Replica) {
	for i := range 3 {
		put(t, r, fmt.Sprintf("d/f%d.txt", i), []byte("f"), baseTime)
	}
	errStop := errors.New("replicatest: stop listing")
	var calls atomic.Int32
	err := r.List(t.Context(), func(backends.Entry) error {
		calls.Add(1)
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("List returned %v, want fn's error", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fn was called %d times, want once: its error must stop the listing", n)
	}
}

func testListNotConcurrent(t *testing.T, r backends.Replica) {
	// Several directories tempt a replica to list them in parallel.
	for i := range 24 {
		put(t, r, fmt.Sprintf("d%d/e%d/f%d.txt", i%4, i%3, i), []byte("f"), baseTime)
	}
	want := list(t, r)
	var inFlight atomic.Int32
	var overlapped atomic.Bool
	var mu sync.Mutex // guards seen only in case fn does run concurrently
	seen := make(map[string]int)
	err := r.List(t.Context(), func(e backends.Entry) error {
		if inFlight.Add(1) > 1 {
			overlapped.Store(true)
		}
		defer inFlight.Add(-1)
		time.Sleep(200 * time.Microsecond) // widen the window for an overlap
		mu.Lock()
		seen[e.Path]++
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if overlapped.Load() {
		t.Error("List called fn concurrently")
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("List reported %q %d times", p, n)
		}
	}
	if got, w := slices.Sorted(maps.Keys(seen)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
		t.Errorf("List reported %q, then %q", w, got)
	}
}

// testListSortedOrder lists names whose path order differs from the order
// of a walk that sorts each directory by name: "a.txt" sorts before "a/b"
// ('.' < '/'), and "a!" and "a b" before both. list checks the order when
// the replica promises it (Caps.ListSorted); any replica must list them all.
func testListSortedOrder(t *testing.T, r backends.Replica) {
	names := []string{
		"a b.txt", "a!.txt", "a-b.txt", "a.txt", "a/b.txt", "a/c/d.txt",
		"a0.txt", "ab/x.txt", "Z.txt", "b/a/z.txt", "b/a.txt", "b/a0/y.txt", "\u00e9.txt",
	}
	for _, n := range names {
		put(t, r, n, []byte(n), baseTime)
	}
	got := slices.Sorted(maps.Keys(list(t, r)))
	for _, n := range names {
		if !slices.Contains(got, n) {
			t.Errorf("List did not report %q; got %q", n, got)
		}
	}
}
