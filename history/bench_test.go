package history

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// vault builds a notes vault of about n records after a sync between a local
// folder (md5 hashes) and a remote without hashes: folders of 1,000 notes
// named like "notes/folder-12/note-3456.md", sizes of 200 B to 20 kB, the
// same size and nanosecond modification time on both sides. Notes in a
// folder were written one after another, about an hour apart, and one in
// ten was edited again at a random time; with uniform set, every time is
// instead uniformly random over three years, the worst case for the time
// column.
func vault(n int, uniform bool) *History {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	span := int64(3 * 365 * 24 * time.Hour)
	h := &History{
		Path1: "/home/me/notes", Path2: "vault-webdav:notes", Hash1: "md5",
		Written: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Records: make([]Record, 0, n+n/1000+1),
	}
	var sum [16]byte
	for folder := 0; len(h.Records) < n; folder++ {
		dir := fmt.Sprintf("notes/folder-%d", folder)
		h.Records = append(h.Records, Record{Path: dir, Dir: true, One: Fingerprint{Size: -1}, Two: Fingerprint{Size: -1}})
		t := base + rng.Int64N(span)
		for note := 0; note < 1000 && len(h.Records) < n; note++ {
			t += int64(rng.ExpFloat64() * float64(time.Hour))
			mt := t
			if uniform || rng.IntN(10) == 0 {
				mt = base + rng.Int64N(span)
			}
			for i := range sum {
				sum[i] = byte(rng.Uint32())
			}
			size := 200 + rng.Int64N(20000)
			h.Records = append(h.Records, Record{
				Path: fmt.Sprintf("%s/note-%d.md", dir, note),
				One:  Fingerprint{Size: size, ModTime: mt, Hash: hex.EncodeToString(sum[:])},
				Two:  Fingerprint{Size: size, ModTime: mt},
			})
		}
	}
	slices.SortFunc(h.Records, func(a, b Record) int { return strings.Compare(a.Path, b.Path) })
	return h
}

// syncedVault builds the history of n notes after a sync between two local
// folders, laid out like the benchmark's vault (scripts/bench/benchtool):
// folders like "Archive/Topic 0002/Part 6" of 20 to 180 notes named like
// "alpha design 2640.md", a median size of 1.5 kB, and modification times
// uniformly random over three years, to the nanosecond. Both sides have
// the same md5.
func syncedVault(n int) *History {
	tops := []string{"Projects", "Areas", "Resources", "Archive", "Journal", "Meetings", "People", "Reading notes", "Ideas", "Clients", "Research", "Daily"}
	words := []string{"alpha", "budget", "café", "design", "draft", "garden", "idea", "kickoff", "launch", "meeting", "notes", "plan", "query", "recipe", "review", "roadmap", "summary", "travel", "weekly", "zettel"}
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	span := int64(3 * 365 * 24 * time.Hour)
	h := &History{
		Path1: "/home/me/notes", Path2: "/mnt/backup/notes", Hash1: "md5", Hash2: "md5",
		Written: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Records: make([]Record, 0, n),
	}
	var sum [16]byte
	for leaf := 0; len(h.Records) < n; leaf++ {
		dir := fmt.Sprintf("%s/Topic %04d", tops[leaf%len(tops)], leaf/len(tops))
		if leaf%3 == 0 {
			dir += fmt.Sprintf("/Part %d", leaf%7)
		}
		for range 20 + rng.IntN(161) {
			if len(h.Records) == n {
				break
			}
			for i := range sum {
				sum[i] = byte(rng.Uint32())
			}
			fp := Fingerprint{
				Size:    int64(min(60_000, max(60, math.Exp(math.Log(1500)+0.9*rng.NormFloat64())))),
				ModTime: base + rng.Int64N(span),
				Hash:    hex.EncodeToString(sum[:]),
			}
			h.Records = append(h.Records, Record{
				Path: fmt.Sprintf("%s/%s %s %d.md", dir, words[rng.IntN(len(words))], words[rng.IntN(len(words))], len(h.Records)),
				One:  fp,
				Two:  fp,
			})
		}
	}
	slices.SortFunc(h.Records, func(a, b Record) int { return strings.Compare(a.Path, b.Path) })
	return h
}

// TestCompactness pins the size target: under 25 bytes per record on disk
// for a notes vault, 16 of them the md5 hashes.
//
// The synced vault, whose times are random to the nanosecond over three
// years, cannot meet it: such a time holds log2(3 years in ns) = 56.4 bits,
// 7.05 bytes, and its size 1.56 bytes, so with the md5 it needs 24.6 bytes
// before its path. It takes about 30: 16 for the md5 (zstd finds the equal
// second md5 in the window, for next to nothing), 7.24 for the time, 1.73
// for the size, 4.9 for the path.
func TestCompactness(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 200,000 records")
	}
	for _, tc := range []struct {
		name  string
		h     *History
		limit float64
	}{
		{"vault", vault(200_000, false), 25},
		{"vault, uniform times", vault(200_000, true), 26},
		{"synced vault", syncedVault(200_000), 30.5},
	} {
		got := float64(len(encode(t, tc.h))) / float64(len(tc.h.Records))
		t.Logf("%s: %.2f bytes per record", tc.name, got)
		if got > tc.limit {
			t.Errorf("%s: %.2f bytes per record, want at most %v", tc.name, got, tc.limit)
		}
	}
}

// TestDecodeMemory pins what a decoded history holds: per record the Record,
// its path and its hash, held once for both sides, and hardly anything
// else. A sync keeps the history in memory from start to end, so every byte
// here is a byte per file at the peak of a run.
func TestDecodeMemory(t *testing.T) {
	h := syncedVault(100_000)
	file := encode(t, h)
	want := 0
	for _, r := range h.Records {
		want += int(unsafe.Sizeof(r)) + len(r.Path) + len(r.One.Hash)
	}
	before := liveHeap()
	got, err := Decode(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	live := liveHeap() - before
	n := float64(len(h.Records))
	t.Logf("%.1f bytes per record live, for %.1f in the records", float64(live)/n, float64(want)/n)
	// Slack for the last, partly filled arena chunk and the odd string
	// that did not fit at the end of one.
	if limit := uint64(want) + uint64(len(h.Records)); live > limit {
		t.Errorf("a decoded history of %d records holds %.1f bytes per record, want at most %.1f",
			len(h.Records), float64(live)/n, float64(limit)/n)
	}
	runtime.KeepAlive(got)
	runtime.KeepAlive(file) // counted in before, and so in after
}

// liveHeap returns the bytes of heap in use after full collections: two,
// since what sits in a sync.Pool (Encode's zstd encoders) survives one.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

var (
	bench1M     *History
	bench1MFile []byte
	benchOnce   sync.Once
)

func benchData(b *testing.B) (*History, []byte) {
	benchOnce.Do(func() {
		bench1M = vault(1_000_000, false)
		bench1MFile = encode(b, bench1M)
	})
	return bench1M, bench1MFile
}

func BenchmarkEncode1M(b *testing.B) {
	h, file := benchData(b)
	var buf bytes.Buffer
	buf.Grow(len(file) + 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/float64(len(h.Records)), "file-B/record")
}

func BenchmarkDecode1M(b *testing.B) {
	h, file := benchData(b)
	b.ReportAllocs()
	for b.Loop() {
		got, err := Decode(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		if len(got.Records) != len(h.Records) {
			b.Fatalf("%d records, want %d", len(got.Records), len(h.Records))
		}
	}
	b.ReportMetric(float64(len(file))/float64(len(h.Records)), "file-B/record")
}

func BenchmarkSaveLoad1M(b *testing.B) {
	h, _ := benchData(b)
	path := b.TempDir() + "/bench.hist"
	b.ReportAllocs()
	for b.Loop() {
		if err := Save(path, h); err != nil {
			b.Fatal(err)
		}
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
