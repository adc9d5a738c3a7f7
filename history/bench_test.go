package history

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
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

// TestCompactness pins the size target: under 25 bytes per record on disk
// for a notes vault, 16 of them the md5 hashes.
func TestCompactness(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 200,000 records")
	}
	for _, tc := range []struct {
		uniform bool
		limit   float64
	}{{false, 25}, {true, 26}} {
		h := vault(200_000, tc.uniform)
		got := float64(len(encode(t, h))) / float64(len(h.Records))
		t.Logf("uniform times %v: %.2f bytes per record", tc.uniform, got)
		if got > tc.limit {
			t.Errorf("uniform times %v: %.2f bytes per record, want at most %v", tc.uniform, got, tc.limit)
		}
	}
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
