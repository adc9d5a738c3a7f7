package history

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchOps are n operations of a sync of the notes vault: copies with the
// new fingerprints of both sides.
func benchOps(n int) []OpRecord {
	h := vault(n, false)
	ops := make([]OpRecord, 0, len(h.Records))
	for _, r := range h.Records {
		ops = append(ops, OpRecord{Path: r.Path, Decision: 10, Op: "copy 1->2", Changes: []Change{{Path: r.Path, Record: r}}})
	}
	return ops
}

// BenchmarkJournal100k writes a journal of 100,000 operations with the
// default batching (256 per fsync) and commits it.
func BenchmarkJournal100k(b *testing.B) {
	ops := benchOps(100_000)
	dir := b.TempDir()
	var size int64
	for b.Loop() {
		path := filepath.Join(dir, "j")
		w, err := CreateJournal(path, testBegin)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range ops {
			if err := w.Done(o); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		size = fi.Size()
	}
	b.ReportMetric(float64(size)/float64(len(ops)), "B/op-on-disk")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ops)), "ns/journal-op")
}

func BenchmarkReadJournal100k(b *testing.B) {
	ops := benchOps(100_000)
	begin := testBegin
	begin.Planned = len(ops)
	path := writeJournal(b, begin, ops, DefaultFlushEvery, true)
	for b.Loop() {
		j, err := ReadJournal(path)
		if err != nil || len(j.Ops) != len(ops) {
			b.Fatal(err)
		}
	}
}

// BenchmarkFold5kInto1M folds 5,000 changes (replacements, insertions and
// removals) into a history of a million records.
func BenchmarkFold5kInto1M(b *testing.B) {
	h := vault(1_000_000, false)
	rng := rand.New(rand.NewPCG(5, 6))
	j := &Journal{}
	for i := range 5000 {
		var c Change
		switch i % 3 {
		case 0: // replace
			r := h.Records[rng.IntN(len(h.Records))]
			r.One.ModTime += int64(time.Hour)
			c = Change{Path: r.Path, Record: r}
		case 1: // insert
			p := fmt.Sprintf("notes/folder-%d/new-%d.md", rng.IntN(1000), i)
			c = Change{Path: p, Record: Record{Path: p, One: Fingerprint{Size: 5}}}
		default: // remove
			c = Change{Path: h.Records[rng.IntN(len(h.Records))].Path, Remove: true}
		}
		j.Ops = append(j.Ops, OpRecord{Path: c.Path, Changes: []Change{c}})
	}
	for b.Loop() {
		j.Fold(h)
	}
}

// BenchmarkRunLog appends and reads back a run of 100,000 actions.
func BenchmarkRunLog100k(b *testing.B) {
	e := testRun(1)
	e.Actions = nil
	for _, o := range benchOps(100_000) {
		e.Actions = append(e.Actions, LoggedAction{Path: o.Path, Decision: o.Decision, Op: o.Op, Reason: "modified on path1"})
	}
	dir := b.TempDir()
	var size int64
	for b.Loop() {
		path := filepath.Join(dir, "log")
		os.Remove(path)
		if err := AppendRun(path, e); err != nil {
			b.Fatal(err)
		}
		if _, err := ReadRuns(path); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		size = fi.Size()
	}
	b.ReportMetric(float64(size)/float64(len(e.Actions)), "B/action-on-disk")
}
