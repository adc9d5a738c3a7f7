package bisync_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends/mem"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/filters"
)

func run(p bisync.Pair, edit func(*bisync.Options)) (*bisync.Result, error) {
	opts := bisync.DefaultOptions()
	if edit != nil {
		edit(&opts)
	}
	return bisync.Run(context.Background(), p, opts)
}

// TestMassDeletionStops: a run that would delete most of a side stops before
// changing anything, names the count and a sample, and --force lets it go.
func TestMassDeletionStops(t *testing.T) {
	r1, r2, p := newPair(t)
	for i := range 10 {
		r1.WriteFile(fmt.Sprintf("n%d.md", i), []byte("x"), t0)
	}
	sync(t, p, nil)
	for i := range 6 {
		r1.Remove(fmt.Sprintf("n%d.md", i))
	}
	_, err := run(p, nil)
	if !errors.Is(err, bisync.ErrTooManyDeletes) || !strings.Contains(err.Error(), "6 of 10") || !strings.Contains(err.Error(), "n0.md") {
		t.Fatalf("err = %v, want ErrTooManyDeletes naming 6 of 10 and a sample", err)
	}
	if n := len(userFiles(r2)); n != 10 {
		t.Fatalf("path2 has %d files after a stopped run, want 10", n)
	}
	if _, err := run(p, func(o *bisync.Options) { o.MaxDeleteCount = 5; o.MaxDelete = 100 }); !errors.Is(err, bisync.ErrTooManyDeletes) {
		t.Errorf("--max-delete-count 5: err = %v, want ErrTooManyDeletes", err)
	}
	if _, err := run(p, func(o *bisync.Options) { o.Force = true }); err != nil {
		t.Fatalf("--force: %v", err)
	}
	if n := len(userFiles(r2)); n != 4 {
		t.Errorf("path2 has %d files after --force, want 4", n)
	}
}

// TestEmptySideStops: a side that lists nothing while the history holds
// files stops the run: an unmounted disk is not a mass deletion.
func TestEmptySideStops(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	sync(t, p, nil)
	r2.Remove("a.md")
	_, err := run(p, func(o *bisync.Options) { o.MaxDelete = 100 })
	if !errors.Is(err, bisync.ErrEmptySide) || !strings.Contains(err.Error(), "path2") {
		t.Fatalf("err = %v, want ErrEmptySide naming path2", err)
	}
	if _, err := r1.ReadFile("a.md"); err != nil {
		t.Errorf("path1 lost a.md: %v", err)
	}
}

func TestCheckAccess(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("RCLONE_TEST", []byte("x"), t0)
	r1.WriteFile("a.md", []byte("a"), t0)
	access := func(o *bisync.Options) { o.CheckAccess = true }
	if _, err := run(p, access); !errors.Is(err, bisync.ErrCheckAccess) {
		t.Fatalf("sentinel on path1 only: err = %v, want ErrCheckAccess", err)
	}
	if len(userFiles(r2)) != 0 {
		t.Fatal("a failed access check changed path2")
	}
	r2.WriteFile("RCLONE_TEST", []byte("x"), t0)
	if _, err := run(p, access); err != nil {
		t.Fatalf("sentinels on both sides: %v", err)
	}
}

// TestNoDelete: deletions are reported, not propagated, and stay pending.
func TestNoDelete(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	r1.WriteFile("b.md", []byte("b"), t0)
	r1.WriteFile("c.md", []byte("c"), t0)
	sync(t, p, nil)
	r1.Remove("a.md")
	noDelete := func(o *bisync.Options) { o.NoDelete = true }
	for range 2 {
		res := sync(t, p, noDelete)
		if len(res.Plan) != 1 || res.Plan[0].Op != bisync.OpNothing || !strings.Contains(res.Plan[0].Reason, "--no-delete") {
			t.Fatalf("plan %+v, want the blocked deletion reported", res.Plan)
		}
		if _, err := r2.ReadFile("a.md"); err != nil {
			t.Fatalf("--no-delete deleted a.md on path2: %v", err)
		}
	}
	sync(t, p, nil)
	if _, err := r2.ReadFile("a.md"); err == nil {
		t.Error("the pending deletion was not propagated once --no-delete was dropped")
	}
}

// TestFilterChangesNeverDelete: narrowing the filters forgets paths and
// leaves them alone; widening treats them as new, never deleting anything.
func TestFilterChangesNeverDelete(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("notes/a.md", []byte("a"), t0)
	r1.WriteFile("drafts/b.md", []byte("b"), t0)
	sync(t, p, nil)
	exclude, err := filters.Parse(filters.Options{Exclude: []string{"drafts/**"}})
	if err != nil {
		t.Fatal(err)
	}
	narrow := func(o *bisync.Options) { o.Filter = exclude }
	res := sync(t, p, narrow)
	if !res.FiltersChanged || len(res.Plan) != 0 {
		t.Errorf("narrowing: FiltersChanged %v, plan %v; want a change and nothing to do", res.FiltersChanged, planOps(res))
	}
	// Outside the filters, edits and deletions are left alone.
	r1.Remove("drafts/b.md")
	r2.WriteFile("drafts/b.md", []byte("edited outside the filters"), t0.Add(time.Hour))
	r2.WriteFile("drafts/new.md", []byte("new"), t0)
	if res := sync(t, p, narrow); len(res.Plan) != 0 {
		t.Errorf("excluded paths planned %v", planOps(res))
	}
	// Widening again: what is there is new on one side, nothing deleted.
	res = sync(t, p, nil)
	if !res.FiltersChanged {
		t.Error("widening: FiltersChanged = false")
	}
	want := map[string]string{"notes/a.md": "a", "drafts/b.md": "edited outside the filters", "drafts/new.md": "new"}
	for i, r := range []*mem.Replica{r1, r2} {
		if got := userFiles(r); !reflect.DeepEqual(got, want) {
			t.Errorf("path%d = %v, want %v", i+1, got, want)
		}
	}
}

// TestFerryFilesAreNeverSynced: the .ferry folder and partial uploads stay
// where they are, whatever the filters.
func TestFerryFilesAreNeverSynced(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile(".ferry/format", []byte("ferry side format 1\n"), t0)
	r1.WriteFile("a.md.0badc0de.partial", []byte("half"), t0)
	r1.WriteFile("a.md", []byte("a"), t0)
	sync(t, p, nil)
	if got, want := userFiles(r2), map[string]string{"a.md": "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("path2 = %v, want %v", got, want)
	}
}

// TestConflictCopyNeverOverwritesAFilteredFile: a conflict copy's name is
// chosen among all names on both sides, not only those in the filters.
func TestConflictCopyNeverOverwritesAFilteredFile(t *testing.T) {
	r1, r2, p := newPair(t)
	excluded := "a.conflict1-20261122-210500-dev001.md"
	r2.WriteFile(excluded, []byte("precious, outside the filters"), t0)
	r1.WriteFile("a.md", []byte("one"), t0)
	r2.WriteFile("a.md", []byte("two"), t0)
	f, err := filters.Parse(filters.Options{Exclude: []string{"*.conflict1-*"}})
	if err != nil {
		t.Fatal(err)
	}
	sync(t, p, func(o *bisync.Options) { o.Filter = f })
	if got, _ := r2.ReadFile(excluded); string(got) != "precious, outside the filters" {
		t.Errorf("the filtered file was overwritten: %q", got)
	}
	if got, _ := r2.ReadFile("a.conflict1-20261122-210500-dev001-2.md"); string(got) != "one" {
		t.Errorf("path1's version is not at the next free conflict name: %q", got)
	}
}
