package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

const md5a = "d41d8cd98f00b204e9800998ecf8427e"

// samples are histories that every round-trip test covers.
func samples() map[string]*History {
	many := &History{Path1: "/a", Path2: "s3:b"}
	for i := range maxGroup + 1234 { // more than one group
		many.Records = append(many.Records, Record{
			Path: fmt.Sprintf("d/%07d", i),
			One:  Fingerprint{Size: int64(i), ModTime: int64(i) * 1e9, Hash: fmt.Sprintf("%032x", i)},
			Two:  Fingerprint{Size: int64(i), ModTime: int64(i) * 1e9},
		})
	}
	long := &History{}
	for i := range 10 { // groups closed by size, not by count
		long.Records = append(long.Records, Record{
			Path: fmt.Sprintf("%02d/", i) + strings.Repeat("x", maxString-3),
			One:  Fingerprint{Size: 1, Hash: strings.Repeat("ab", maxString/2)},
			Two:  Fingerprint{Size: 1, Hash: strings.Repeat("Z", maxString)},
		})
	}
	return map[string]*History{
		"zero": {},
		"header only": {
			Path1: "/home/me/vault", Path2: "vault-s3:notes", Hash1: "md5", Hash2: "",
			Filters: "sha1:0123", Written: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
		},
		"markers": {
			Marker1: Fingerprint{Size: 20, ModTime: 1700000000123456789},
			Marker2: Fingerprint{Size: -1, ModTime: -5, Hash: md5a},
		},
		"written far":         {Written: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		"written before 1970": {Written: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		"dirs and unknowns": {Records: []Record{
			{Path: "", Dir: true, One: Fingerprint{Size: -1}, Two: Fingerprint{Size: -1}},
			{Path: "a", Dir: true, One: Fingerprint{Size: -1}, Two: Fingerprint{Size: 0}},
			{Path: "a/b", Dir: true},
			{Path: "a/b/c.md", One: Fingerprint{Size: -1, ModTime: 0, Hash: md5a}, Two: Fingerprint{Size: 5, ModTime: 1}},
			{Path: "a/bb", One: Fingerprint{Size: 0, ModTime: -1}},
		}},
		"unicode": {Records: []Record{
			{Path: "cafe\u0301.md", One: Fingerprint{Size: 3}},
			{Path: "café.md", One: Fingerprint{Size: 4}},
			{Path: "日本語/ファイル.txt", One: Fingerprint{Size: 5}},
			{Path: "🙂/\x00/\xff", One: Fingerprint{Size: 6}}, // not UTF-8: stored as bytes
		}},
		"hash kinds": {Records: []Record{
			{Path: "1", One: Fingerprint{Hash: "ABCDEF"}, Two: Fingerprint{Hash: "abcdef"}},
			{Path: "2", One: Fingerprint{Hash: "abc"}, Two: Fingerprint{Hash: "00"}},
			{Path: "3", One: Fingerprint{Hash: "QUICKXOR+/base64=="}, Two: Fingerprint{Hash: "g0"}},
			{Path: "4", One: Fingerprint{Hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, Two: Fingerprint{Hash: " "}},
			{Path: "5", Two: Fingerprint{Hash: md5a}},
			{Path: "6", One: Fingerprint{Hash: md5a}, Two: Fingerprint{Hash: md5a}},
			{Path: "7", One: Fingerprint{Hash: "6162"}, Two: Fingerprint{Hash: "ab"}}, // the same bytes stored
			{Path: "8", One: Fingerprint{Hash: "QX=="}, Two: Fingerprint{Hash: "QX=="}},
		}},
		"extreme ints": {Records: []Record{
			{Path: "a", One: Fingerprint{Size: math.MaxInt64, ModTime: math.MinInt64}, Two: Fingerprint{Size: math.MinInt64, ModTime: math.MaxInt64}},
			{Path: "b", One: Fingerprint{Size: math.MinInt64, ModTime: math.MaxInt64}, Two: Fingerprint{Size: -1, ModTime: math.MinInt64}},
			{Path: "c", One: Fingerprint{ModTime: math.MinInt64}, Two: Fingerprint{ModTime: 0}},
		}},
		"many":      many,
		"long":      long,
		"vault 10k": vault(10_000, false),
	}
}

func encode(t testing.TB, h *History) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, h); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// checkEqual compares two histories, Written as an instant.
func checkEqual(t testing.TB, got, want *History) {
	t.Helper()
	if !got.Written.Equal(want.Written) {
		t.Errorf("Written = %v, want %v", got.Written, want.Written)
	}
	g, w := *got, *want
	g.Written, w.Written = time.Time{}, time.Time{}
	if len(g.Records) == 0 && len(w.Records) == 0 {
		g.Records, w.Records = nil, nil
	}
	for i := range min(len(g.Records), len(w.Records)) {
		if g.Records[i] != w.Records[i] {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, g.Records[i], w.Records[i])
		}
	}
	if !reflect.DeepEqual(g, w) {
		g.Records, w.Records = nil, nil
		t.Fatalf("got %d records, want %d; header\n got %+v\nwant %+v", len(got.Records), len(want.Records), g, w)
	}
}

func TestRoundTrip(t *testing.T) {
	for name, h := range samples() {
		t.Run(name, func(t *testing.T) {
			data := encode(t, h)
			got, err := Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkEqual(t, got, h)
			if got.Written.Location() != time.UTC {
				t.Errorf("Written in %v, want UTC", got.Written.Location())
			}
		})
	}
}

func TestWrittenZeroStaysZero(t *testing.T) {
	got, err := Decode(bytes.NewReader(encode(t, &History{})))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Written.IsZero() || got.Written != (time.Time{}) {
		t.Errorf("Written = %#v, want the zero time", got.Written)
	}
}

func TestEncodeRefuses(t *testing.T) {
	rec := func(p string) Record { return Record{Path: p} }
	for _, tc := range []struct {
		name string
		h    *History
		want string
	}{
		{"nil", nil, "nil History"},
		{"unsorted", &History{Records: []Record{rec("b"), rec("a")}}, "not after"},
		{"duplicate", &History{Records: []Record{rec("a"), rec("b"), rec("b")}}, "not after"},
		{"empty path twice", &History{Records: []Record{rec(""), rec("")}}, "not after"},
		{"path too long", &History{Records: []Record{rec(strings.Repeat("p", maxString+1))}}, "over the limit"},
		{"hash too long", &History{Records: []Record{{Path: "a", Two: Fingerprint{Hash: strings.Repeat("0", maxString+2)}}}}, "over the limit"},
		{"header too long", &History{Filters: strings.Repeat("f", maxString+1)}, "Filters"},
		{"year 10000", &History{Written: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside"},
		{"year 0", &History{Written: time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)}, "outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tc.h)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode error = %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}

func TestEncodeWriteError(t *testing.T) {
	boom := errors.New("disk full")
	err := Encode(failWriter{boom}, samples()["vault 10k"])
	if !errors.Is(err, boom) {
		t.Fatalf("Encode = %v, want it to wrap %v", err, boom)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("i/o error")
	_, err := Decode(failReader{boom})
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Decode = %v, want it to wrap %v and not ErrCorrupt", err, boom)
	}
}

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

func small(t testing.TB) []byte {
	return encode(t, &History{Path1: "p1", Hash1: "md5", Records: []Record{
		{Path: "a", Dir: true, One: Fingerprint{Size: -1}},
		{Path: "a/b.md", One: Fingerprint{Size: 5, ModTime: 1700000000123456789, Hash: md5a}, Two: Fingerprint{Size: 5, ModTime: 1700000000123456789}},
		{Path: "a/c.md", One: Fingerprint{Size: 6, ModTime: 1700000001000000000, Hash: "xyz"}, Two: Fingerprint{Size: 6, ModTime: 1700000001000000000}},
	}})
}

func wantCorrupt(t *testing.T, data []byte, what string) {
	t.Helper()
	h, err := Decode(bytes.NewReader(data))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: Decode = %v, %v; want an error wrapping ErrCorrupt", what, h, err)
	}
}

func TestTruncated(t *testing.T) {
	data := small(t)
	for n := range len(data) {
		wantCorrupt(t, data[:n], fmt.Sprintf("first %d of %d bytes", n, len(data)))
	}
}

func TestBitFlips(t *testing.T) {
	data := small(t)
	for i := range len(data) * 8 {
		d := bytes.Clone(data)
		d[i/8] ^= 1 << (i % 8)
		wantCorrupt(t, d, fmt.Sprintf("bit %d of byte %d flipped", i%8, i/8))
	}
}

func TestTrailingGarbage(t *testing.T) {
	data := small(t)
	for _, extra := range []string{"\x00", "garbage!", strings.Repeat("\x00", 8), string(data)} {
		wantCorrupt(t, append(bytes.Clone(data), extra...), fmt.Sprintf("%d bytes appended", len(extra)))
	}
}

// seal wraps payload in the envelope with a valid checksum, so that tests
// reach the layers behind it.
func seal(version uint16, payload []byte) []byte {
	b := append([]byte(magic), byte(version>>8), byte(version))
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b))
}

var testEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderCRC(false))

// sealBody compresses a version 1 body and seals it.
func sealBody(body []byte) []byte {
	return seal(1, testEncoder.EncodeAll(body, nil))
}

// rawBody encodes h without validating it, applying mutate to each group
// before it is written.
func rawBody(h *History, mutate func(g *groupWriter)) []byte {
	var buf bytes.Buffer
	var b []byte
	for _, s := range []string{h.Path1, h.Path2, h.Hash1, h.Hash2, h.Filters} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, h.Written.Unix())
	b = binary.AppendUvarint(b, uint64(h.Written.Nanosecond()))
	b = binary.AppendUvarint(b, uint64(len(h.Records)))
	buf.Write(b)
	var g groupWriter
	for i := range h.Records {
		g.add(&h.Records[i])
	}
	if g.n > 0 {
		if mutate != nil {
			mutate(&g)
		}
		g.flush(&buf)
	}
	return buf.Bytes()
}

func TestDecodeRefuses(t *testing.T) {
	recs := func(paths ...string) *History {
		h := &History{}
		for _, p := range paths {
			h.Records = append(h.Records, Record{Path: p, One: Fingerprint{Size: 1, Hash: md5a}})
		}
		return h
	}
	header := func(count uint64) []byte {
		b := bytes.Repeat([]byte{0}, 5)       // five empty strings
		b = binary.AppendVarint(b, 0)         // Written seconds
		b = binary.AppendUvarint(b, 0)        // nanoseconds
		return binary.AppendUvarint(b, count) // record count
	}
	valid := rawBody(recs("a", "b"), nil)
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty file", nil},
		{"bad magic", append([]byte("FERRYHSX"), small(t)[8:]...)},
		{"version 0", seal(0, testEncoder.EncodeAll(valid, nil))},
		{"payload not zstd", seal(1, []byte("definitely not zstd"))},
		{"empty payload", seal(1, nil)},
		{"empty body", sealBody(nil)},
		{"zstd then garbage", seal(1, append(testEncoder.EncodeAll(valid, nil), "junk"...))},
		{"body then more", sealBody(append(bytes.Clone(valid), 0))},
		{"body cut short", sealBody(valid[:len(valid)-1])},
		{"unsorted", sealBody(rawBody(recs("b", "a"), nil))},
		{"duplicate", sealBody(rawBody(recs("a", "b", "b"), nil))},
		{"duplicate empty", sealBody(rawBody(recs("", ""), nil))},
		{"huge header string", sealBody(binary.AppendUvarint(nil, 1<<62))},
		{"header string over limit", sealBody(binary.AppendUvarint(nil, maxString+1))},
		{"Written nanoseconds", sealBody(binary.AppendUvarint(binary.AppendVarint(bytes.Repeat([]byte{0}, 5), 0), 1e9))},
		{"Written seconds", sealBody(binary.AppendUvarint(binary.AppendVarint(bytes.Repeat([]byte{0}, 5), maxUnix+1), 0))},
		{"huge count, no records", sealBody(header(1 << 60))},
		{"huge group", sealBody(binary.AppendUvarint(header(1<<60), 1<<40))},
		{"group over count", sealBody(binary.AppendUvarint(header(1), 2))},
		{"empty group", sealBody(binary.AppendUvarint(header(1), 0))},
		{"huge column", sealBody(binary.AppendUvarint(binary.AppendUvarint(header(1), 1), 1<<62))},
		{"columns over limit", sealBody(append(binary.AppendUvarint(header(1), 1), bytes.Repeat([]byte{0x80, 0x80, 0x80, 0x04}, numCols)...))},
		{"unknown flag", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colFlags][0] |= 0x80 }))},
		{"hash kind 3", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colFlags][0] |= 3 << hashShift2 }))},
		{"flag without value", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colFlags][0] |= flagTime2 }))},
		{"value without flag", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.ints[colTime2] = append(g.ints[colTime2], 7) }))},
		{"prefix past previous path", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colPrefix][0] = 1 }))},
		{"suffix past column", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colSuffixLen][0] = 9 }))},
		{"bytes left in column", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colSuffix] = append(g.cols[colSuffix], 'x') }))},
		{"hash past column", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colHashLen1][0] = 17 }))},
		{"hash of length 0", sealBody(rawBody(recs("a"), func(g *groupWriter) { g.cols[colHashLen1][0] = 0 }))},
		{"v2 marker hash over limit", seal(2, testEncoder.EncodeAll(binary.AppendUvarint(binary.AppendVarint(binary.AppendVarint(
			binary.AppendUvarint(binary.AppendVarint(bytes.Repeat([]byte{0}, 5), 0), 0), 20), 0), maxString+1), nil))},
		{"v2 header cut in the markers", seal(2, testEncoder.EncodeAll(binary.AppendVarint(
			binary.AppendUvarint(binary.AppendVarint(bytes.Repeat([]byte{0}, 5), 0), 0), 20), nil))},
		{"flags column short", sealBody(rawBody(recs("a", "b"), func(g *groupWriter) { g.cols[colFlags] = g.cols[colFlags][:1] }))},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCorrupt(t, tc.file, tc.name) })
	}
}

func TestNewerFormat(t *testing.T) {
	for _, v := range []uint16{Version + 1, math.MaxUint16} {
		_, err := Decode(bytes.NewReader(seal(v, []byte("whatever a newer ferry writes"))))
		if !errors.Is(err, ErrNewerFormat) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("version %d: Decode = %v, want ErrNewerFormat", v, err)
		}
		if !strings.Contains(err.Error(), "upgrade ferry") || !strings.Contains(err.Error(), fmt.Sprint(v)) {
			t.Errorf("version %d: message %q should give the version and say to upgrade ferry", v, err)
		}
	}
}

// A hash that is the same on both sides is decoded once and held once:
// after a sync that is nearly every record, and a second copy of an md5
// would take 32 of the 195 bytes a record of a notes vault takes.
func TestDecodeSharesEqualHashes(t *testing.T) {
	h := &History{Records: []Record{
		{Path: "hex", One: Fingerprint{Hash: md5a}, Two: Fingerprint{Hash: md5a}},
		{Path: "other", One: Fingerprint{Hash: md5a}, Two: Fingerprint{Hash: "00" + md5a[2:]}},
		{Path: "text", One: Fingerprint{Hash: "QX=="}, Two: Fingerprint{Hash: "QX=="}},
		// Stored as the same two bytes, but as hex on path1 and as text on
		// path2: not the same hash.
		{Path: "x kinds", One: Fingerprint{Hash: "6162"}, Two: Fingerprint{Hash: "ab"}},
	}}
	got, err := Decode(bytes.NewReader(encode(t, h)))
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, h)
	for _, r := range got.Records {
		if r.One.Hash == "" {
			continue // no memory to share
		}
		shared := unsafe.StringData(r.One.Hash) == unsafe.StringData(r.Two.Hash)
		if want := r.One.Hash == r.Two.Hash; shared != want {
			t.Errorf("%s: hashes %q and %q share memory: %v, want %v", r.Path, r.One.Hash, r.Two.Hash, shared, want)
		}
	}
}

// The stored record count is only a hint for pre-sizing: a small file that
// claims a huge count must not allocate for it.
func TestHugeCountDoesNotAllocate(t *testing.T) {
	b := bytes.Repeat([]byte{0}, 5)
	b = binary.AppendVarint(b, 0)
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, 1<<40)
	file := sealBody(b)
	allocs := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Decode(bytes.NewReader(file))
		}
	}).AllocedBytesPerOp()
	if allocs > 8<<20 {
		t.Errorf("decoding a %d-byte file allocated %d bytes", len(file), allocs)
	}
}

// A file of paths that each add to the previous one is small, but its
// records take memory quadratic in their number: decoding stops at the
// memory limit for the file's size, with an error that says so, and
// Encode fails for such a history instead of writing one that cannot be
// read back.
func TestPrefixBomb(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	h := &History{}
	for i := range 2000 { // paths share one string: the set costs nothing to build
		h.Records = append(h.Records, Record{Path: long[:500*(i+1)]})
	}
	file := sealBody(rawBody(h, nil))
	limit := histMemLimit(len(file))
	if len(file) > 64<<10 {
		t.Fatalf("the bomb is %d bytes; want a small file", len(file))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "in memory") {
		t.Fatalf("Decode = %v, want ErrCorrupt for memory", err)
	}
	if allocs := after.TotalAlloc - before.TotalAlloc; allocs > uint64(2*limit) {
		t.Errorf("decoding a %d-byte file allocated %d bytes, over twice its limit of %d", len(file), allocs, limit)
	}

	var buf bytes.Buffer
	if err := Encode(&buf, h); err == nil || !strings.Contains(err.Error(), "in memory") {
		t.Errorf("Encode = %v; want it to fail for memory", err)
	}
	path := filepath.Join(t.TempDir(), "pair.hist")
	if err := Save(path, h); err == nil {
		t.Errorf("Save of the bomb succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Save left a file that cannot be loaded: %v", err)
	}
	h.Records = h.Records[:200] // 10 MB of paths: fine
	if err := Encode(&buf, h); err != nil {
		t.Errorf("Encode of 200 long paths: %v", err)
	}
}
