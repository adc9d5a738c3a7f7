package history

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Deletion records (tombstones, DESIGN.md "The five inputs"; layout and
// policy in docs/deletion-records.md). Each side keeps one file of them,
// `.ferry/deletions`, written through the replica whenever ferry deletes
// files on that side. They matter only to a pair without history (a new
// device, a lost workdir): a file there that matches what a record says was
// deleted is a stale copy, not a new file.
//
//	magic "FERRYDEL" | version uint16 BE | zstd(body) | xxhash64 LE
//
// The envelope is the history's, with its own magic. This file does no I/O
// of its own: the engine reads and writes the bytes with the replica API.
const (
	tombMagic = "FERRYDEL"
	// TombstonesVersion is the deletion records format this build writes
	// and the newest it reads.
	TombstonesVersion = 1
)

// Memory. Prefix-compressed paths and zstd let a small file stand for
// records that take far more memory (a long folder name shared by many
// paths is stored once and decoded once per path), so the records a file
// holds may take at most tombMemFloor plus tombMemRatio bytes per byte of
// file, and never more than maxTombMem, counted as tombMem counts them.
// EncodeTombstones refuses what DecodeTombstones would, so every file it
// writes can be read back. Real records are far below the limits: 100,000
// records of a notes vault count 19 MB and make a 3.6 MB file, 5 bytes per
// byte of file (BenchmarkTombstones100k).
const (
	maxTombMem   = 512 << 20
	tombMemFloor = 64 << 20
	tombMemRatio = 256
	// tombRecordMem is what a record costs beside its strings: the
	// Tombstone, rounded up.
	tombRecordMem = 128
	// tombTableMem is what a value in a table costs beside its bytes.
	tombTableMem = 16
	// maxTombFile bounds the file: a record's encoding is smaller than
	// what it counts in memory, and zstd adds a few bytes per 128 KiB
	// block to what it cannot compress.
	maxTombFile = maxTombMem + maxTombMem/64 + 1<<10
)

// tombMemLimit is the memory the records of a file of n bytes may take.
func tombMemLimit(n int) int64 {
	return min(maxTombMem, tombMemFloor+tombMemRatio*int64(n))
}

// tombMem is what t counts against the limit. HashKind and Device are
// shared through the tables and counted there.
func tombMem(t *Tombstone) int64 {
	return tombRecordMem + int64(len(t.Path)) + int64(len(t.Hash))
}

// Defaults for PruneTombstones. A record is only ever read by a pair that
// has no history, on its first run: a device joining a remote, or one whose
// workdir was lost. A copy of a folder left untouched for longer than half
// a year is as likely to be wanted as stale, and bringing a deleted file
// back is the safe failure (nothing is lost; the user deletes it again),
// while the file of records is rewritten on every run that deletes
// something. At about 36 bytes per record compressed (a notes vault with
// md5 hashes; docs/deletion-records.md), 100,000 records are about 3.6 MB:
// years of deletions in a large vault, still a small upload, and a file
// that reads in well under a second.
const (
	DefaultTombstoneMaxAge   = 180 * 24 * time.Hour
	DefaultTombstoneMaxCount = 100_000
)

// Tombstone is the record of one file that ferry deleted on one side: what
// the file was when it was deleted, when, and by which device.
type Tombstone struct {
	// Path is the file's path on its side, slash-separated, relative to
	// the side's root, as backends.Entry.Path.
	Path string
	// Size is the file's size in bytes; -1 when unknown.
	Size int64
	// ModTime is the file's modification time in Unix nanoseconds; 0
	// when unknown.
	ModTime int64
	// Hash is the file's content hash of kind HashKind ("" when none is
	// known), lowercase hex as backends give it; any string is kept.
	Hash     string
	HashKind string // "md5", "sha1", ... as rclone names them
	// Deleted is when ferry deleted the file. It is stored to the
	// nanosecond, without location or monotonic reading, and comes back
	// in UTC.
	Deleted time.Time
	// Device is the id of the workdir whose run deleted the file.
	Device string
}

// EncodeTombstones writes ts as the deletion records of one side. ts must be
// sorted by path, one record per path, as MergeTombstones, PruneTombstones
// and RemoveTombstones return them. EncodeTombstones checks everything
// before it writes, and writes the whole file in one call to w, so an
// invalid ts leaves w untouched.
func EncodeTombstones(w io.Writer, ts []Tombstone) error {
	data, err := appendTombstones(nil, ts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("history: deletion records: write: %w", err)
	}
	return nil
}

// tombEncoder is shared: EncodeAll may be called concurrently, and an
// encoder costs megabytes to set up.
var tombEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBetterCompression),
		zstd.WithEncoderCRC(false), // the envelope has its own checksum
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(windowSize),
	)
})

// appendTombstones appends the whole file holding ts to dst.
func appendTombstones(dst []byte, ts []Tombstone) ([]byte, error) {
	body, mem, err := tombBody(ts)
	if err != nil {
		return dst, fmt.Errorf("history: deletion records: encode: %w", err)
	}
	enc, err := tombEncoder()
	if err != nil {
		return dst, fmt.Errorf("history: deletion records: zstd: %w", err)
	}
	start := len(dst)
	dst = slices.Grow(dst, fileHead+len(body)/2+checksumLen) // it grows on if the body compresses less
	dst = appendFileHead(dst, tombMagic, TombstonesVersion)
	dst = enc.EncodeAll(body, dst)
	dst = binary.LittleEndian.AppendUint64(dst, xxhash.Sum64(dst[start:]))
	if n := len(dst) - start; mem > tombMemLimit(n) {
		return dst[:start], fmt.Errorf("history: deletion records: encode: %d records take %d bytes in memory, over the limit of %d for a file of %d bytes: prune them (PruneTombstones)",
			len(ts), mem, tombMemLimit(n), n)
	}
	return dst, nil
}

// The body, before compression:
//
//	body   = table(hash kinds) table(devices) uvarint(count) record*
//	table  = uvarint(n) string*             distinct, strictly increasing
//	record = uvarint(prefix) uvarint(suffix length) suffix
//	         flags                          bits 0-1: hash kind; others 0
//	         varint(Size) varint(ModTime)
//	         uvarint(HashKind's index in the hash kinds table)
//	         [uvarint(length) hash]         unless the hash kind is none
//	         varint(Deleted seconds - previous record's) uvarint(Deleted nanoseconds)
//	         uvarint(Device's index in the devices table)
//
// The path shares prefix bytes with the previous record's, as in the
// history; the previous path of the first record is "" and its previous
// Deleted 0 seconds. Hash kinds are the history's (hashNone, hashHex,
// hashText): lowercase hex is stored as bytes, half the size. Hash kinds
// and devices are few (a side has one or two kinds, a pair a few devices),
// so a record names them with one byte.
func tombBody(ts []Tombstone) ([]byte, int64, error) {
	kinds, devices := map[string]uint64{}, map[string]uint64{}
	var mem int64
	size := 16 // the body's size, about: most of a record is its path's suffix and its hash
	for i := range ts {
		t := &ts[i]
		if i > 0 && t.Path <= ts[i-1].Path {
			return nil, 0, fmt.Errorf("record %d: path %q is not after %q: records must be sorted by path, each path once (MergeTombstones makes them so)",
				i, t.Path, ts[i-1].Path)
		}
		for _, f := range []struct{ name, s string }{
			{"Path", t.Path}, {"Hash", t.Hash}, {"HashKind", t.HashKind}, {"Device", t.Device},
		} {
			if err := checkString(f.name, f.s); err != nil {
				return nil, 0, fmt.Errorf("record %d (%.64q): %w", i, t.Path, err)
			}
		}
		if err := checkTime("Deleted", t.Deleted); err != nil {
			return nil, 0, fmt.Errorf("record %d (%.64q): %w", i, t.Path, err)
		}
		kinds[t.HashKind] = 0
		devices[t.Device] = 0
		size += 32 + len(t.Hash) + len(t.Path)
		if i > 0 {
			size -= commonPrefix(ts[i-1].Path, t.Path)
		}
		if mem += tombMem(t); mem > maxTombMem {
			return nil, 0, fmt.Errorf("the first %d of %d records take over %d bytes in memory: prune them (PruneTombstones)", i+1, len(ts), maxTombMem)
		}
	}
	b := make([]byte, 0, size)
	for _, table := range []map[string]uint64{kinds, devices} {
		keys := make([]string, 0, len(table))
		for k := range table {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for i, k := range keys {
			b = appendString(b, k)
			table[k] = uint64(i)
			mem += tombTableMem + int64(len(k))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(ts)))
	prevPath, prevSec := "", int64(0)
	for i := range ts {
		t := &ts[i]
		p := commonPrefix(prevPath, t.Path)
		b = binary.AppendUvarint(b, uint64(p))
		b = appendString(b, t.Path[p:])
		flagAt := len(b)
		b = append(b, 0)
		b = binary.AppendVarint(b, t.Size)
		b = binary.AppendVarint(b, t.ModTime)
		b = binary.AppendUvarint(b, kinds[t.HashKind])
		var kind byte
		b, kind = appendHashValue(b, t.Hash)
		b[flagAt] = kind
		sec := t.Deleted.Unix()
		b = binary.AppendVarint(b, sec-prevSec)
		b = binary.AppendUvarint(b, uint64(t.Deleted.Nanosecond()))
		b = binary.AppendUvarint(b, devices[t.Device])
		prevPath, prevSec = t.Path, sec
	}
	return b, mem, nil
}

// DecodeTombstones reads deletion records written by EncodeTombstones of
// this or an older version. It reads all of r before it decodes, and checks
// the checksum first. A damaged file of any kind gives an error wrapping
// ErrCorrupt; a file from a newer ferry gives one wrapping ErrNewerFormat.
// The records come back sorted by path, one per path, Deleted in UTC; none
// gives a nil slice.
//
// Memory is bounded by the input: the body is parsed as it is
// decompressed, so a zstd bomb fails at its first bad byte; a stored count
// pre-sizes the result for at most one record per 4 bytes of file; every
// length is checked before anything is allocated for it; and the records
// may take at most 64 MiB plus 256 bytes per byte of file (512 MiB at
// most), which EncodeTombstones also checks.
func DecodeTombstones(r io.Reader) ([]Tombstone, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxTombFile+1))
	if err != nil {
		return nil, fmt.Errorf("history: deletion records: read: %w", err)
	}
	return decodeTombstones(data)
}

func decodeTombstones(data []byte) ([]Tombstone, error) {
	if len(data) < len(tombMagic) || string(data[:len(tombMagic)]) != tombMagic {
		return nil, corrupt("not a ferry deletion records file (bad magic)")
	}
	if len(data) < fileHead+checksumLen {
		return nil, corrupt("deletion records: truncated: %d bytes", len(data))
	}
	if len(data) > maxTombFile {
		return nil, corrupt("deletion records: file over %d bytes", maxTombFile)
	}
	body, trailer := data[:len(data)-checksumLen], data[len(data)-checksumLen:]
	if xxhash.Sum64(body) != binary.LittleEndian.Uint64(trailer) {
		return nil, corrupt("deletion records: checksum mismatch (the file is damaged or truncated)")
	}
	switch v := binary.BigEndian.Uint16(data[len(tombMagic):]); {
	case v == 0:
		return nil, corrupt("deletion records: format version 0")
	case v > TombstonesVersion:
		return nil, fmt.Errorf("%w: deletion records format %d, this ferry reads up to format %d; upgrade ferry",
			ErrNewerFormat, v, TombstonesVersion)
	}
	payload := body[fileHead:]
	zr, err := zstd.NewReader(bytes.NewReader(payload),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxWindowSize),
	)
	if err != nil {
		return nil, fmt.Errorf("history: zstd: %w", err)
	}
	defer zr.Close()
	// A bytes.Reader has no Bytes method, so zstd streams it rather than
	// decompressing it whole first: the parser fails on the first bad
	// byte of a bomb, long before the rest is decompressed. Pre-sizing
	// for at most one record per 4 bytes of file, as the history does,
	// keeps a damaged count from allocating more than about 25 times the
	// file's size.
	d := &tombDecoder{
		decoder: &decoder{r: bufio.NewReaderSize(zr, 16<<10)},
		limit:   tombMemLimit(len(data)),
		fileLen: len(data),
	}
	d.budget = d.limit
	ts, err := d.tombstones(len(payload)/4 + 1024)
	if err != nil {
		// The parser shares the history's helpers, whose messages do not
		// say which file they read: say it once, after the sentinel.
		msg := strings.TrimPrefix(err.Error(), ErrCorrupt.Error()+": ")
		return nil, corrupt("deletion records: %s", msg)
	}
	return ts, nil
}

// tombDecoder parses a version 1 body with the history's streaming
// decoder, within a memory budget.
type tombDecoder struct {
	*decoder
	limit   int64 // memory the records may take, counted as tombMem
	budget  int64 // what is left of it
	fileLen int
}

// spend takes n bytes from the budget, before they are allocated.
func (d *tombDecoder) spend(n uint64) error {
	if n > uint64(d.budget) {
		return corrupt("the records take over %d bytes in memory, more than a file of %d bytes may hold", d.limit, d.fileLen)
	}
	d.budget -= int64(n)
	return nil
}

// tombstones parses a version 1 body from the decompressed stream.
func (d *tombDecoder) tombstones(presize int) ([]Tombstone, error) {
	var tables [2][]string // hash kinds, devices
	for i, what := range []string{"hash kind", "device"} {
		n, err := d.uvarint(what + " count")
		if err != nil {
			return nil, err
		}
		for j := range n {
			s, err := d.arenaString(what)
			if err != nil {
				return nil, err
			}
			if j > 0 && s <= tables[i][j-1] {
				return nil, corrupt("%s %.64q not after %.64q", what, s, tables[i][j-1])
			}
			tables[i] = append(tables[i], s)
		}
	}
	kinds, devices := tables[0], tables[1]

	count, err := d.uvarint("record count")
	if err != nil {
		return nil, err
	}
	var ts []Tombstone
	if count > 0 {
		ts = make([]Tombstone, 0, min(count, uint64(presize)))
	}
	var prevSec int64
	for ; d.index < count; d.index++ {
		t, err := d.tombstone(kinds, devices, &prevSec)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	switch _, err := d.r.ReadByte(); {
	case err == nil:
		return nil, corrupt("data after the last of %d records", count)
	case err != io.EOF:
		return nil, readErr("end of data", err)
	}
	return ts, nil
}

// tombstone reads one record.
func (d *tombDecoder) tombstone(kinds, devices []string, prevSec *int64) (Tombstone, error) {
	var t Tombstone
	plen, err := d.uvarint("path prefix")
	if err != nil {
		return t, err
	}
	slen, err := d.uvarint("path length")
	if err != nil {
		return t, err
	}
	if plen > uint64(len(d.prevPath)) || slen > maxString-plen {
		return t, corrupt("record %d: bad path length", d.index)
	}
	if err := d.spend(tombRecordMem + plen + slen); err != nil {
		return t, err
	}
	suffix, err := d.readN("path", int(slen))
	if err != nil {
		return t, err
	}
	// The path shares plen bytes with the previous one, so comparing the
	// rest is comparing the whole.
	if d.index > 0 && string(suffix) <= d.prevPath[plen:] {
		return t, corrupt("record %d: path not after %.64q: not sorted, or a duplicate", d.index, d.prevPath)
	}
	t.Path = d.arena.concat(d.prevPath[:plen], suffix)
	d.prevPath = t.Path

	flags, err := d.r.ReadByte()
	if err != nil {
		return t, readErr("flags", err)
	}
	if flags > hashText {
		return t, corrupt("record %d: unknown flags %#x", d.index, flags)
	}
	if t.Size, err = d.varint("size"); err != nil {
		return t, err
	}
	if t.ModTime, err = d.varint("modtime"); err != nil {
		return t, err
	}
	if t.HashKind, err = d.tableEntry(kinds, "hash kind"); err != nil {
		return t, err
	}
	if t.Hash, err = d.hashValue(flags); err != nil {
		return t, err
	}
	delta, err := d.varint("Deleted")
	if err != nil {
		return t, err
	}
	nsec, err := d.uvarint("Deleted")
	if err != nil {
		return t, err
	}
	sec := *prevSec + delta // wraps like the difference that made it
	if sec < minUnix || sec > maxUnix || nsec >= 1e9 {
		return t, corrupt("record %d: Deleted out of range (%d s, %d ns)", d.index, sec, nsec)
	}
	t.Deleted = time.Unix(sec, int64(nsec)).UTC()
	*prevSec = sec
	if t.Device, err = d.tableEntry(devices, "device"); err != nil {
		return t, err
	}
	return t, nil
}

func (d *tombDecoder) varint(what string) (int64, error) {
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		return 0, readErr(what, err)
	}
	return v, nil
}

// tableEntry reads an index into table and returns the entry.
func (d *tombDecoder) tableEntry(table []string, what string) (string, error) {
	i, err := d.uvarint(what)
	if err != nil {
		return "", err
	}
	if i >= uint64(len(table)) {
		return "", corrupt("record %d: %s %d of %d", d.index, what, i, len(table))
	}
	return table[i], nil
}

// arenaString reads a table's value into the arena.
func (d *tombDecoder) arenaString(what string) (string, error) {
	n, err := d.uvarint(what)
	if err != nil {
		return "", err
	}
	if n > maxString {
		return "", corrupt("%s is %d bytes long, over the limit of %d", what, n, maxString)
	}
	if err := d.spend(tombTableMem + n); err != nil {
		return "", err
	}
	b, err := d.readN(what, int(n))
	if err != nil {
		return "", err
	}
	return d.arena.concat("", b), nil
}

// hashValue reads a hash stored by appendHashValue with the given kind.
func (d *tombDecoder) hashValue(kind byte) (string, error) {
	if kind == hashNone {
		return "", nil
	}
	n, err := d.uvarint("hash")
	if err != nil {
		return "", err
	}
	if n == 0 || kind == hashHex && n > maxString/2 || n > maxString {
		return "", corrupt("record %d: hash of %d bytes", d.index, n)
	}
	mem := n
	if kind == hashHex {
		mem = 2 * n
	}
	if err := d.spend(mem); err != nil {
		return "", err
	}
	b, err := d.readN("hash", int(n))
	if err != nil {
		return "", err
	}
	if kind == hashHex {
		d.hex = hex.AppendEncode(d.hex[:0], b)
		b = d.hex
	}
	return d.arena.concat("", b), nil
}

// MergeTombstones returns the records of old and add together, sorted by
// path, one per path: of two records of one path the one deleted later
// wins, and on a tie the one from add (or the later one within a slice).
// Neither input needs to be sorted, and neither is modified.
func MergeTombstones(old, add []Tombstone) []Tombstone {
	all := make([]Tombstone, 0, len(old)+len(add))
	all = append(all, old...)
	all = append(all, add...)
	slices.SortStableFunc(all, func(a, b Tombstone) int { return strings.Compare(a.Path, b.Path) })
	out := all[:0]
	for _, t := range all {
		if n := len(out); n > 0 && out[n-1].Path == t.Path {
			if !t.Deleted.Before(out[n-1].Deleted) {
				out[n-1] = t
			}
			continue
		}
		out = append(out, t)
	}
	return out
}

// PruneTombstones bounds a side's records in age and number: it drops those
// deleted more than maxAge before now, then, while more than maxCount are
// left, the oldest (of records deleted at the same instant, those later in
// path order go first). Records dated after now (another device's clock) are
// kept. A maxAge or maxCount of zero or less sets no limit of that kind. The
// result keeps the order of ts; ts is not modified. Use DefaultTombstoneMaxAge and DefaultTombstoneMaxCount unless
// the user asked for others.
func PruneTombstones(ts []Tombstone, now time.Time, maxAge time.Duration, maxCount int) []Tombstone {
	out := make([]Tombstone, 0, len(ts))
	cutoff := now.Add(-maxAge)
	for _, t := range ts {
		if maxAge <= 0 || !t.Deleted.Before(cutoff) {
			out = append(out, t)
		}
	}
	if maxCount <= 0 || len(out) <= maxCount {
		return out
	}
	// Rank by Deleted, newest first, then by path and position, so that
	// the result does not depend on the order of equal times.
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := out[b].Deleted.Compare(out[a].Deleted); c != 0 {
			return c
		}
		if c := strings.Compare(out[a].Path, out[b].Path); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	keep := make([]bool, len(out))
	for _, i := range order[:maxCount] {
		keep[i] = true
	}
	kept := out[:0]
	for i, t := range out {
		if keep[i] {
			kept = append(kept, t)
		}
	}
	return kept
}

// RemoveTombstones returns ts without the records of paths: on a side where
// a file exists again at a deleted path (created there, or copied there by
// this run), its record is void. The result keeps the order of ts; ts is
// not modified.
//
// On each run that changes a side, the engine updates that side's records
// as
//
//	ts = MergeTombstones(old, deletedThisRun)
//	ts = RemoveTombstones(ts, pathsThatExistNow...)
//	ts = PruneTombstones(ts, now, DefaultTombstoneMaxAge, DefaultTombstoneMaxCount)
func RemoveTombstones(ts []Tombstone, paths ...string) []Tombstone {
	gone := make(map[string]struct{}, len(paths))
	for _, p := range paths {
		gone[p] = struct{}{}
	}
	out := make([]Tombstone, 0, len(ts))
	for _, t := range ts {
		if _, ok := gone[t.Path]; !ok {
			out = append(out, t)
		}
	}
	return out
}

// FindTombstone returns the record of path in ts, which is sorted by path
// (as every function here returns it).
func FindTombstone(ts []Tombstone, path string) (Tombstone, bool) {
	i, ok := slices.BinarySearchFunc(ts, path, func(t Tombstone, p string) int { return strings.Compare(t.Path, p) })
	if !ok {
		return Tombstone{}, false
	}
	return ts[i], true
}
