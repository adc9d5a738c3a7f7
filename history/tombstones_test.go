package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

var del0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// tombSamples are record sets that every round-trip test covers.
func tombSamples() map[string][]Tombstone {
	many := make([]Tombstone, 0, 5000)
	for i := range 5000 {
		many = append(many, Tombstone{
			Path: fmt.Sprintf("notes/folder-%02d/note-%04d.md", i/100, i), Size: int64(200 + i*7),
			ModTime: 1700000000e9 + int64(i)*987654321, Hash: fmt.Sprintf("%032x", i*7919), HashKind: "md5",
			Deleted: del0.Add(time.Duration(i%50) * time.Hour), Device: []string{"abc123", "q7x9zz", "m0m0m0"}[i%3],
		})
	}
	return map[string][]Tombstone{
		"none": nil,
		"one":  {{Path: "a.md", Size: 5, ModTime: 1700000000123456789, Hash: md5a, HashKind: "md5", Deleted: del0, Device: "abc123"}},
		"unicode": {
			{Path: "cafe\u0301.md", Size: 3, Deleted: del0},
			{Path: "café.md", Size: 4, Deleted: del0},
			{Path: "日本語/ファイル.txt", Size: 5, Deleted: del0.Add(-time.Second)},
			{Path: "🙂/\x00/\xff", Size: 6, Deleted: del0}, // not UTF-8: stored as bytes
		},
		"hash kinds": {
			{Path: "1", Hash: "ABCDEF", HashKind: "md5", Deleted: del0},
			{Path: "2", Hash: "abc", HashKind: "md5", Deleted: del0},
			{Path: "3", Hash: "QUICKXOR+/base64==", HashKind: "quickxor", Deleted: del0},
			{Path: "4", Hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709", HashKind: "sha1", Deleted: del0},
			{Path: "5", Hash: " ", HashKind: "", Deleted: del0},
			{Path: "6", Hash: "", HashKind: "md5", Deleted: del0},
			{Path: "7", Hash: "00", HashKind: "whirlpool", Deleted: del0},
		},
		"unknowns": {
			{Path: "", Size: -1},
			{Path: "a", Size: -1, ModTime: 0, Deleted: del0},
			{Path: "b", Size: 0, ModTime: 0, Deleted: del0, Device: ""},
		},
		"extremes": {
			{Path: "a", Size: math.MaxInt64, ModTime: math.MinInt64, Deleted: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
			{Path: "b", Size: math.MinInt64, ModTime: math.MaxInt64, Deleted: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
			{Path: "c", Size: -1, ModTime: -1, Deleted: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
			{Path: "d", Deleted: time.Unix(-1, 0).UTC()},
		},
		"long": {
			{Path: strings.Repeat("x", maxString), Hash: strings.Repeat("ab", maxString/2), HashKind: strings.Repeat("k", maxString), Deleted: del0, Device: strings.Repeat("d", maxString)},
			{Path: strings.Repeat("x", maxString-1) + "y", Hash: strings.Repeat("Z", maxString), Deleted: del0},
		},
		"many": many,
	}
}

func encodeTombs(t testing.TB, ts []Tombstone) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeTombstones(&buf, ts); err != nil {
		t.Fatalf("EncodeTombstones: %v", err)
	}
	return buf.Bytes()
}

// checkTombs compares records, Deleted as an instant that must come back
// in UTC.
func checkTombs(t testing.TB, got, want []Tombstone) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Deleted.Equal(w.Deleted) {
			t.Fatalf("record %d (%.40q): Deleted = %v, want %v", i, w.Path, g.Deleted, w.Deleted)
		}
		if g.Deleted.Location() != time.UTC {
			t.Fatalf("record %d: Deleted in %v, want UTC", i, g.Deleted.Location())
		}
		g.Deleted, w.Deleted = time.Time{}, time.Time{}
		if g != w {
			t.Fatalf("record %d:\n got %.200v\nwant %.200v", i, g, w)
		}
	}
}

func TestTombstonesRoundTrip(t *testing.T) {
	for name, ts := range tombSamples() {
		t.Run(name, func(t *testing.T) {
			data := encodeTombs(t, ts)
			got, err := DecodeTombstones(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("DecodeTombstones: %v", err)
			}
			checkTombs(t, got, ts)
			if len(ts) == 0 && got != nil {
				t.Errorf("no records decode to %#v, want nil", got)
			}
		})
	}
}

func TestTombstonesTimes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CEST", 2*3600)
	}
	now := time.Now() // with a monotonic reading
	ts := []Tombstone{
		{Path: "a", Deleted: now},
		{Path: "b", Deleted: del0.In(paris)},
		{Path: "c"}, // the zero time
	}
	got, err := DecodeTombstones(bytes.NewReader(encodeTombs(t, ts)))
	if err != nil {
		t.Fatal(err)
	}
	checkTombs(t, got, ts)
	if got[2].Deleted != (time.Time{}) {
		t.Errorf("the zero time decodes to %#v", got[2].Deleted)
	}
}

// The same records in the same order make the same bytes, whatever order
// the tables' values first appear in.
func TestTombstonesDeterministic(t *testing.T) {
	ts := tombSamples()["many"]
	a := encodeTombs(t, ts)
	b := encodeTombs(t, ts)
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of the same records differ")
	}
}

func TestEncodeTombstonesRefuses(t *testing.T) {
	rec := func(p string) Tombstone { return Tombstone{Path: p, Deleted: del0} }
	long := strings.Repeat("p", maxString+1)
	for _, tc := range []struct {
		name string
		ts   []Tombstone
		want string
	}{
		{"unsorted", []Tombstone{rec("b"), rec("a")}, "not after"},
		{"duplicate", []Tombstone{rec("a"), rec("b"), rec("b")}, "MergeTombstones"},
		{"path too long", []Tombstone{rec(long)}, "Path is"},
		{"hash too long", []Tombstone{{Path: "a", Hash: strings.Repeat("0", maxString+2)}}, "Hash is"},
		{"hash kind too long", []Tombstone{{Path: "a", HashKind: long}}, "HashKind is"},
		{"device too long", []Tombstone{{Path: "a", Device: long}}, "Device is"},
		{"year 10000", []Tombstone{{Path: "a", Deleted: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, "outside"},
		{"year 0", []Tombstone{{Path: "a", Deleted: time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)}}, "outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := EncodeTombstones(&buf, tc.ts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("EncodeTombstones error = %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("EncodeTombstones wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}

func TestTombstonesWriteAndReadErrors(t *testing.T) {
	boom := errors.New("disk full")
	if err := EncodeTombstones(failWriter{boom}, tombSamples()["one"]); !errors.Is(err, boom) {
		t.Errorf("EncodeTombstones = %v, want it to wrap %v", err, boom)
	}
	boom = errors.New("i/o error")
	if _, err := DecodeTombstones(failReader{boom}); !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Errorf("DecodeTombstones = %v, want it to wrap %v and not ErrCorrupt", err, boom)
	}
}

func smallTombs(t testing.TB) []byte {
	return encodeTombs(t, []Tombstone{
		{Path: "a/b.md", Size: 5, ModTime: 1700000000123456789, Hash: md5a, HashKind: "md5", Deleted: del0, Device: "abc123"},
		{Path: "a/c.md", Size: -1, Hash: "xyz", HashKind: "quickxor", Deleted: del0.Add(time.Minute), Device: "q7x9zz"},
	})
}

func wantTombsCorrupt(t *testing.T, data []byte, what string) {
	t.Helper()
	ts, err := DecodeTombstones(bytes.NewReader(data))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: DecodeTombstones = %v, %v; want an error wrapping ErrCorrupt", what, ts, err)
	}
	if !strings.Contains(err.Error(), "deletion records") {
		t.Errorf("%s: message %q does not say it is about deletion records", what, err)
	}
}

func TestTombstonesTruncated(t *testing.T) {
	data := smallTombs(t)
	for n := range len(data) {
		wantTombsCorrupt(t, data[:n], fmt.Sprintf("first %d of %d bytes", n, len(data)))
	}
}

func TestTombstonesBitFlips(t *testing.T) {
	data := smallTombs(t)
	for i := range len(data) * 8 {
		d := bytes.Clone(data)
		d[i/8] ^= 1 << (i % 8)
		wantTombsCorrupt(t, d, fmt.Sprintf("bit %d of byte %d flipped", i%8, i/8))
	}
}

func TestTombstonesTrailingGarbage(t *testing.T) {
	data := smallTombs(t)
	for _, extra := range []string{"\x00", "garbage!", strings.Repeat("\x00", 8), string(data)} {
		wantTombsCorrupt(t, append(bytes.Clone(data), extra...), fmt.Sprintf("%d bytes appended", len(extra)))
	}
}

// A history is not deletion records, nor the other way round.
func TestTombstonesNotHistory(t *testing.T) {
	wantTombsCorrupt(t, small(t), "a history file")
	if _, err := Decode(bytes.NewReader(smallTombs(t))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Decode of deletion records = %v, want ErrCorrupt", err)
	}
}

// sealTombs wraps payload in the envelope with a valid checksum.
func sealTombs(version uint16, payload []byte) []byte {
	b := appendFileHead(nil, tombMagic, version)
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b))
}

// sealTombBody compresses a version 1 body and seals it.
func sealTombBody(body []byte) []byte {
	return sealTombs(1, testEncoder.EncodeAll(body, nil))
}

// tombBuilder writes version 1 bodies field by field, for tests that need
// bodies EncodeTombstones would not write.
type tombBuilder struct{ b []byte }

func (tb *tombBuilder) uv(v uint64) *tombBuilder { tb.b = binary.AppendUvarint(tb.b, v); return tb }
func (tb *tombBuilder) v(v int64) *tombBuilder   { tb.b = binary.AppendVarint(tb.b, v); return tb }
func (tb *tombBuilder) raw(s string) *tombBuilder {
	tb.b = append(tb.b, s...)
	return tb
}
func (tb *tombBuilder) str(s string) *tombBuilder { tb.b = appendString(tb.b, s); return tb }

// tables writes the hash kinds and devices tables.
func (tb *tombBuilder) tables(kinds, devices []string) *tombBuilder {
	for _, table := range [][]string{kinds, devices} {
		tb.uv(uint64(len(table)))
		for _, s := range table {
			tb.str(s)
		}
	}
	return tb
}

// rec writes a record with no hash, at the previous record's Deleted.
func (tb *tombBuilder) rec(prefix uint64, suffix string) *tombBuilder {
	return tb.uv(prefix).str(suffix).raw("\x00").v(1).v(2).uv(0).v(0).uv(0).uv(0)
}

func newBody() *tombBuilder {
	return new(tombBuilder).tables([]string{""}, []string{""})
}

func TestDecodeTombstonesRefuses(t *testing.T) {
	valid := newBody().uv(2).rec(0, "a").rec(0, "b").b
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty file", nil},
		{"bad magic", append([]byte("FERRYDEX"), smallTombs(t)[8:]...)},
		{"version 0", sealTombs(0, testEncoder.EncodeAll(valid, nil))},
		{"payload not zstd", sealTombs(1, []byte("definitely not zstd"))},
		{"empty payload", sealTombs(1, nil)},
		{"empty body", sealTombBody(nil)},
		{"zstd then garbage", sealTombs(1, append(testEncoder.EncodeAll(valid, nil), "junk"...))},
		{"body then more", sealTombBody(append(bytes.Clone(valid), 0))},
		{"body cut short", sealTombBody(valid[:len(valid)-1])},
		{"kinds unsorted", sealTombBody(new(tombBuilder).tables([]string{"sha1", "md5"}, nil).uv(0).b)},
		{"devices repeated", sealTombBody(new(tombBuilder).tables(nil, []string{"a", "a"}).uv(0).b)},
		{"huge table", sealTombBody(new(tombBuilder).uv(1 << 62).b)},
		{"table string over limit", sealTombBody(new(tombBuilder).uv(1).uv(maxString + 1).b)},
		{"huge count, no records", sealTombBody(newBody().uv(1 << 60).b)},
		{"unsorted", sealTombBody(newBody().uv(2).rec(0, "b").rec(0, "a").b)},
		{"duplicate", sealTombBody(newBody().uv(2).rec(0, "a").rec(1, "").b)},
		{"duplicate empty", sealTombBody(newBody().uv(2).rec(0, "").rec(0, "").b)},
		{"prefix past previous path", sealTombBody(newBody().uv(2).rec(0, "a").rec(2, "b").b)},
		{"path over limit", sealTombBody(newBody().uv(1).uv(0).uv(maxString + 1).b)},
		{"path past end", sealTombBody(newBody().uv(1).uv(0).uv(9).raw("ab").b)},
		{"unknown flag", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x04").v(1).v(2).uv(0).v(0).uv(0).uv(0).b)},
		{"hash kind 3", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x03").v(1).v(2).uv(0).uv(1).raw("x").v(0).uv(0).uv(0).b)},
		{"hex hash of length 0", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x01").v(1).v(2).uv(0).uv(0).v(0).uv(0).uv(0).b)},
		{"text hash of length 0", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x02").v(1).v(2).uv(0).uv(0).v(0).uv(0).uv(0).b)},
		{"hash past end", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x02").v(1).v(2).uv(0).uv(5).raw("ab").b)},
		{"hash kind index", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x00").v(1).v(2).uv(1).v(0).uv(0).uv(0).b)},
		{"device index", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x00").v(1).v(2).uv(0).v(0).uv(0).uv(1).b)},
		{"no tables", sealTombBody(new(tombBuilder).tables(nil, nil).uv(1).rec(0, "a").b)},
		{"Deleted nanoseconds", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x00").v(1).v(2).uv(0).v(0).uv(1e9).uv(0).b)},
		{"Deleted seconds", sealTombBody(newBody().uv(1).uv(0).str("a").raw("\x00").v(1).v(2).uv(0).v(maxUnix + 1).uv(0).uv(0).b)},
		{"Deleted seconds, summed", sealTombBody(newBody().uv(2).uv(0).str("a").raw("\x00").v(1).v(2).uv(0).v(maxUnix).uv(0).uv(0).
			uv(0).str("b").raw("\x00").v(1).v(2).uv(0).v(1).uv(0).uv(0).b)},
		{"zeros", sealTombBody(make([]byte, 1<<20))},
	} {
		t.Run(tc.name, func(t *testing.T) { wantTombsCorrupt(t, tc.file, tc.name) })
	}
	// The builder makes what EncodeTombstones makes.
	got, err := DecodeTombstones(bytes.NewReader(sealTombBody(valid)))
	if err != nil || len(got) != 2 || got[1].Path != "b" || got[1].Size != 1 || got[1].ModTime != 2 || !got[1].Deleted.Equal(time.Unix(0, 0)) {
		t.Fatalf("the valid body decodes to %v, %v", got, err)
	}
}

func TestTombstonesNewerFormat(t *testing.T) {
	for _, v := range []uint16{TombstonesVersion + 1, math.MaxUint16} {
		_, err := DecodeTombstones(bytes.NewReader(sealTombs(v, []byte("whatever a newer ferry writes"))))
		if !errors.Is(err, ErrNewerFormat) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("version %d: DecodeTombstones = %v, want ErrNewerFormat", v, err)
		}
		for _, want := range []string{"upgrade ferry", "deletion records", fmt.Sprint(v)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("version %d: message %q should contain %q", v, err, want)
			}
		}
	}
}

// A file of paths that each add a byte to the previous one is small, but
// its records take memory quadratic in their number: decoding stops at the
// memory limit for the file's size, and encoding refuses such a set.
func TestTombstonesPrefixBomb(t *testing.T) {
	const n = 100_000
	b := newBody().uv(n)
	for i := range n {
		b.rec(uint64(i), "x")
	}
	file := sealTombBody(b.b)
	limit := tombMemLimit(len(file))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := DecodeTombstones(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "in memory") {
		t.Fatalf("DecodeTombstones = %v, want ErrCorrupt for memory", err)
	}
	if allocs := after.TotalAlloc - before.TotalAlloc; allocs > uint64(2*limit) {
		t.Errorf("decoding a %d-byte file allocated %d bytes, over twice its limit of %d", len(file), allocs, limit)
	}

	long := strings.Repeat("x", 71_000)
	var ts []Tombstone
	for i := range 1100 { // paths share one string: the set costs nothing to build
		ts = append(ts, Tombstone{Path: long[:69_000+i], Deleted: del0})
	}
	var buf bytes.Buffer
	if err := EncodeTombstones(&buf, ts); err == nil || !strings.Contains(err.Error(), "prune them") || buf.Len() != 0 {
		t.Errorf("EncodeTombstones = %v after writing %d bytes; want it to refuse before writing", err, buf.Len())
	}
	if err := EncodeTombstones(&buf, ts[:900]); err != nil {
		t.Errorf("EncodeTombstones of 900 records of 70 kB: %v", err)
	}
}

// Neither a stored count nor a body that decompresses to far more than
// the file makes the decoder allocate for it.
func TestDecodeTombstonesBounded(t *testing.T) {
	for name, file := range map[string][]byte{
		"huge count": sealTombBody(newBody().uv(1 << 40).b),
		// 256 MiB of zeros compress to a few kilobytes; the body is
		// refused at its fourth byte, before the rest is decompressed.
		"zstd bomb": sealTombBody(make([]byte, 256<<20)),
	} {
		if len(file) > 64<<10 {
			t.Fatalf("%s: the file is %d bytes", name, len(file))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := DecodeTombstones(bytes.NewReader(file))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeTombstones = %v, want ErrCorrupt", name, err)
		}
		if allocs := after.TotalAlloc - before.TotalAlloc; allocs > 20<<20 {
			t.Errorf("%s: decoding a %d-byte file allocated %d bytes", name, len(file), allocs)
		}
	}
}

func TestGoldenTombstonesV1(t *testing.T) {
	bin := filepath.Join("testdata", "v1-deletions.del")
	txt := filepath.Join("testdata", "v1-deletions.txt")
	if *update {
		ts := goldenTombstones()
		if err := os.WriteFile(bin, encodeTombs(t, ts), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(txt, []byte(dumpTombstones(ts)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := DecodeTombstones(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(txt)
	if err != nil {
		t.Fatal(err)
	}
	if got := dumpTombstones(ts); got != string(want) {
		t.Errorf("%s decodes to\n%s\nwant (%s)\n%s", bin, got, txt, want)
	}
	checkTombs(t, ts, goldenTombstones())
}

// goldenTombstones is what testdata/v1-deletions.del holds: a little of
// everything the format distinguishes. Regenerate the file with
// go test ./history -run GoldenTombstones -update only when this sample
// changes, never to make a failing test pass.
func goldenTombstones() []Tombstone {
	const t0 = 1700000000123456789
	return []Tombstone{
		{Path: "notes/a.md", Size: 120, ModTime: t0, Hash: md5a, HashKind: "md5", Deleted: del0, Device: "abc123"},
		{Path: "notes/b.md", Size: 0, ModTime: int64(t0) / 1e9 * 1e9, Hash: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", HashKind: "quickxor", Deleted: del0.Add(-90 * time.Second), Device: "q7x9zz"},
		{Path: "notes/café.md", Size: -1, Deleted: del0.Add(24 * time.Hour), Device: "abc123"},
		{Path: "notes/sub/日本.txt", Size: 1 << 40, ModTime: -1, Hash: "ABCDEF", HashKind: "md5", Deleted: time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
		{Path: "z", Size: 7, Hash: "abcdef01", HashKind: "sha1", Device: "m0m0m0"},
	}
}

func dumpTombstones(ts []Tombstone) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "%q size=%d modtime=%d hash=%q:%q deleted=%s device=%q\n",
			t.Path, t.Size, t.ModTime, t.HashKind, t.Hash, t.Deleted.UTC().Format(time.RFC3339Nano), t.Device)
	}
	return b.String()
}

// tomb makes a record deleted at day days after del0.
func tomb(path string, day int, device string) Tombstone {
	return Tombstone{Path: path, Size: int64(len(path)), Deleted: del0.AddDate(0, 0, day), Device: device}
}

// names lists the path and device of each record, for compact tables.
func names(ts []Tombstone) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Path+"@"+t.Device)
	}
	return out
}

func TestMergeTombstones(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, add []Tombstone
		want     []string
	}{
		{"both empty", nil, nil, []string{}},
		{"old only", []Tombstone{tomb("a", 0, "x")}, nil, []string{"a@x"}},
		{"add only", nil, []Tombstone{tomb("a", 0, "x")}, []string{"a@x"}},
		{"disjoint, interleaved", []Tombstone{tomb("a", 0, "x"), tomb("c", 0, "x")}, []Tombstone{tomb("b", 0, "y"), tomb("d", 0, "y")},
			[]string{"a@x", "b@y", "c@x", "d@y"}},
		{"newer add wins", []Tombstone{tomb("a", 0, "x")}, []Tombstone{tomb("a", 1, "y")}, []string{"a@y"}},
		{"newer old wins", []Tombstone{tomb("a", 2, "x")}, []Tombstone{tomb("a", 1, "y")}, []string{"a@x"}},
		{"tie: add wins", []Tombstone{tomb("a", 1, "x")}, []Tombstone{tomb("a", 1, "y")}, []string{"a@y"}},
		{"unsorted inputs", []Tombstone{tomb("c", 0, "x"), tomb("a", 0, "x")}, []Tombstone{tomb("b", 0, "y")},
			[]string{"a@x", "b@y", "c@x"}},
		{"duplicates within old", []Tombstone{tomb("a", 3, "x"), tomb("a", 1, "y"), tomb("a", 3, "z")}, nil, []string{"a@z"}},
		{"duplicates within add", nil, []Tombstone{tomb("a", 1, "x"), tomb("a", 5, "y"), tomb("a", 2, "z")}, []string{"a@y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldCopy, addCopy := slices.Clone(tc.old), slices.Clone(tc.add)
			got := MergeTombstones(tc.old, tc.add)
			if g := names(got); !slices.Equal(g, tc.want) {
				t.Errorf("MergeTombstones = %v, want %v", g, tc.want)
			}
			if !slices.Equal(tc.old, oldCopy) || !slices.Equal(tc.add, addCopy) {
				t.Error("MergeTombstones modified its inputs")
			}
			// What Merge makes, Encode takes.
			encodeTombs(t, got)
		})
	}
}

func TestPruneTombstones(t *testing.T) {
	now := del0.AddDate(0, 0, 10)
	day := 24 * time.Hour
	set := []Tombstone{tomb("a", 0, "x"), tomb("b", 9, "x"), tomb("c", 5, "x"), tomb("d", 5, "x"), tomb("e", 12, "x"), tomb("f", 1, "x")}
	for _, tc := range []struct {
		name     string
		maxAge   time.Duration
		maxCount int
		want     []string
	}{
		{"no limits", 0, 0, []string{"a", "b", "c", "d", "e", "f"}},
		{"negative limits", -day, -1, []string{"a", "b", "c", "d", "e", "f"}},
		{"age", 5 * day, 0, []string{"b", "c", "d", "e"}}, // c and d are exactly 5 days old
		{"age just under", 5*day - 1, 0, []string{"b", "e"}},
		{"age drops all but the future", day / 2, 0, []string{"e"}},
		{"count", 0, 3, []string{"b", "c", "e"}}, // c and d tie: d, later in path order, goes
		{"count 1", 0, 1, []string{"e"}},
		{"count over", 0, 6, []string{"a", "b", "c", "d", "e", "f"}},
		{"age then count", 9 * day, 2, []string{"b", "e"}},
		{"count after age", 9*day + 1, 4, []string{"b", "c", "d", "e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(set)
			got := PruneTombstones(set, now, tc.maxAge, tc.maxCount)
			var g []string
			for _, t := range got {
				g = append(g, t.Path)
			}
			if !slices.Equal(g, tc.want) {
				t.Errorf("PruneTombstones(age %v, count %d) = %v, want %v", tc.maxAge, tc.maxCount, g, tc.want)
			}
			if !slices.Equal(set, before) {
				t.Error("PruneTombstones modified its input")
			}
		})
	}
	if got := PruneTombstones(nil, now, DefaultTombstoneMaxAge, DefaultTombstoneMaxCount); len(got) != 0 {
		t.Errorf("pruning nothing gives %v", got)
	}
}

// Pruning a large set keeps exactly the newest, in path order.
func TestPruneTombstonesLarge(t *testing.T) {
	ts := tombSamples()["many"] // 5000 records, 50 distinct times
	got := PruneTombstones(ts, del0, 0, 1234)
	if len(got) != 1234 || !slices.IsSortedFunc(got, func(a, b Tombstone) int { return strings.Compare(a.Path, b.Path) }) {
		t.Fatalf("got %d records, sorted %v", len(got), slices.IsSortedFunc(got, func(a, b Tombstone) int { return strings.Compare(a.Path, b.Path) }))
	}
	oldestKept := got[0].Deleted
	for _, t := range got {
		if t.Deleted.Before(oldestKept) {
			oldestKept = t.Deleted
		}
	}
	kept := map[string]bool{}
	for _, k := range got {
		kept[k.Path] = true
	}
	for _, r := range ts {
		if !kept[r.Path] && r.Deleted.After(oldestKept) {
			t.Fatalf("%s (deleted %v) dropped while one deleted at %v is kept", r.Path, r.Deleted, oldestKept)
		}
	}
}

func TestRemoveTombstones(t *testing.T) {
	set := []Tombstone{tomb("a", 0, "x"), tomb("b", 0, "x"), tomb("c", 0, "x")}
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"none", nil, []string{"a@x", "b@x", "c@x"}},
		{"one", []string{"b"}, []string{"a@x", "c@x"}},
		{"unknown paths", []string{"zz", "", "b/"}, []string{"a@x", "b@x", "c@x"}},
		{"all, unsorted, repeated", []string{"c", "a", "b", "a"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(set)
			if got := names(RemoveTombstones(set, tc.paths...)); !slices.Equal(got, tc.want) {
				t.Errorf("RemoveTombstones(%q) = %v, want %v", tc.paths, got, tc.want)
			}
			if !slices.Equal(set, before) {
				t.Error("RemoveTombstones modified its input")
			}
		})
	}
}

func TestFindTombstone(t *testing.T) {
	ts := tombSamples()["many"]
	for _, want := range []Tombstone{ts[0], ts[1234], ts[len(ts)-1]} {
		got, ok := FindTombstone(ts, want.Path)
		if !ok || got != want {
			t.Errorf("FindTombstone(%q) = %v, %v", want.Path, got, ok)
		}
	}
	for _, p := range []string{"", "notes", "notes/folder-00/note-0000.md~", "zzz"} {
		if got, ok := FindTombstone(ts, p); ok {
			t.Errorf("FindTombstone(%q) = %v, want none", p, got)
		}
	}
}

// The engine's update of a side's records on a run, end to end.
func TestTombstonesUpdate(t *testing.T) {
	old := []Tombstone{tomb("back.md", -3, "dev1"), tomb("gone.md", -400, "old1"), tomb("kept.md", -2, "dev1")}
	file := encodeTombs(t, old)
	read, err := DecodeTombstones(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	now := del0
	ts := MergeTombstones(read, []Tombstone{tomb("new.md", 0, "dev2"), tomb("kept.md", 0, "dev2")})
	ts = RemoveTombstones(ts, "back.md")
	ts = PruneTombstones(ts, now, DefaultTombstoneMaxAge, DefaultTombstoneMaxCount)
	if got, want := names(ts), []string{"kept.md@dev2", "new.md@dev2"}; !slices.Equal(got, want) {
		t.Fatalf("records after the run: %v, want %v", got, want)
	}
	again, err := DecodeTombstones(bytes.NewReader(encodeTombs(t, ts)))
	if err != nil {
		t.Fatal(err)
	}
	checkTombs(t, again, ts)
}

// BenchmarkTombstones100k encodes and decodes DefaultTombstoneMaxCount
// records of a notes vault and reports the file's bytes per record.
func BenchmarkTombstones100k(b *testing.B) {
	ts := vaultTombstones(DefaultTombstoneMaxCount)
	data := encodeTombs(b, ts)
	var mem int64
	for i := range ts {
		mem += tombMem(&ts[i])
	}
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			EncodeTombstones(&bytes.Buffer{}, ts)
		}
		b.ReportMetric(float64(len(data))/float64(len(ts)), "file-B/record")
		b.ReportMetric(float64(mem)/float64(len(data)), "mem/file")
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeTombstones(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// vaultTombstones makes n records as a vault's deletions would be: paths in
// folders, md5 hashes, nanosecond modtimes, deleted in runs of a few files
// over half a year by three devices.
func vaultTombstones(n int) []Tombstone {
	ts := make([]Tombstone, 0, n)
	for i := range n {
		h := xxhash.Sum64String(fmt.Sprint(i))
		run := time.Duration(h%2000) * 2 * time.Hour // one of 2000 runs over about half a year
		ts = append(ts, Tombstone{
			Path:     fmt.Sprintf("notes/folder-%d/note-%d.md", i/1000, i),
			Size:     200 + int64(h%20000),
			ModTime:  1700000000e9 + int64(h%(3*365*86400e9)),
			Hash:     fmt.Sprintf("%016x%016x", h, h*0x9e3779b97f4a7c15),
			HashKind: "md5",
			Deleted:  del0.Add(run).Add(time.Duration(i%7) * time.Millisecond),
			Device:   []string{"abc123", "q7x9zz", "m0m0m0"}[h%3],
		})
	}
	return MergeTombstones(nil, ts) // sorted
}
