package history

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// decoder parses a version 1 or 2 body from the decompressed stream. Every
// length it reads is checked against a limit before use, and buffers grow
// only as data actually arrives, so damaged input can neither panic it nor
// make it allocate more than the input holds.
type decoder struct {
	r       *bufio.Reader
	presize int // upper bound for pre-sizing Records from the stored count

	buf   []byte      // the current group's columns
	ints  [4][]uint64 // unshuffled integer columns: size1, time1, size2, time2
	hex   []byte
	arena arena

	index    uint64 // records decoded so far
	prevPath string
	prevTime int64

	// memLimit is the memory the records may take (histMemLimit), memLeft
	// what is left of it; both are counted as recordMem counts them.
	memLimit, memLeft int64
	fileLen           int
	// version is the format of the body: 2 adds the markers to the header.
	version uint16
}

// spend takes n bytes from the memory budget, before they are allocated.
func (d *decoder) spend(n uint64) error {
	if n > uint64(d.memLeft) {
		return corrupt("record %d: the records take over %d bytes in memory, more than a file of %d bytes may hold",
			d.index, d.memLimit, d.fileLen)
	}
	d.memLeft -= int64(n)
	return nil
}

func newDecoder(r io.Reader, presize int) *decoder {
	return &decoder{r: bufio.NewReaderSize(r, 16<<10), presize: presize}
}

// readErr turns a failure to read the body into a corruption error: the
// compressed payload is in memory and checksummed, so a short or undecodable
// stream is damage, not an I/O problem.
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("unexpected end of data reading %s", what)
	}
	return fmt.Errorf("%w: reading %s: %w", ErrCorrupt, what, err)
}

func (d *decoder) uvarint(what string) (uint64, error) {
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		return 0, readErr(what, err)
	}
	return v, nil
}

// readN reads exactly n bytes into d.buf, growing it at most a MiB ahead of
// the data read so far.
func (d *decoder) readN(what string, n int) ([]byte, error) {
	buf := d.buf[:0]
	for len(buf) < n {
		chunk := min(n-len(buf), 1<<20)
		buf = slices.Grow(buf, chunk)
		m, err := io.ReadFull(d.r, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+m]
		if err != nil {
			d.buf = buf
			return nil, readErr(what, err)
		}
	}
	d.buf = buf
	return buf, nil
}

func (d *decoder) string(what string) (string, error) {
	n, err := d.uvarint(what)
	if err != nil {
		return "", err
	}
	if n > maxString {
		return "", corrupt("%s is %d bytes long, over the limit of %d", what, n, maxString)
	}
	b, err := d.readN(what, int(n))
	return string(b), err
}

// history reads the header, the records and checks that nothing follows.
func (d *decoder) history() (*History, error) {
	h := new(History)
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"Path1", &h.Path1}, {"Path2", &h.Path2}, {"Hash1", &h.Hash1},
		{"Hash2", &h.Hash2}, {"Filters", &h.Filters},
	} {
		s, err := d.string(f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = s
	}
	sec, err := binary.ReadVarint(d.r)
	if err != nil {
		return nil, readErr("Written", err)
	}
	nsec, err := d.uvarint("Written")
	if err != nil {
		return nil, err
	}
	if sec < minUnix || sec > maxUnix || nsec >= 1e9 {
		return nil, corrupt("Written out of range (%d s, %d ns)", sec, nsec)
	}
	h.Written = time.Unix(sec, int64(nsec)).UTC()
	if d.version >= 2 {
		for _, m := range []*Fingerprint{&h.Marker1, &h.Marker2} {
			if m.Size, err = binary.ReadVarint(d.r); err != nil {
				return nil, readErr("marker size", err)
			}
			if m.ModTime, err = binary.ReadVarint(d.r); err != nil {
				return nil, readErr("marker time", err)
			}
			if m.Hash, err = d.string("marker hash"); err != nil {
				return nil, err
			}
		}
	}

	count, err := d.uvarint("record count")
	if err != nil {
		return nil, err
	}
	if count > 0 {
		h.Records = make([]Record, 0, min(count, uint64(d.presize)))
	}
	for d.index < count {
		n, err := d.uvarint("group size")
		if err != nil {
			return nil, err
		}
		if n == 0 || n > maxGroup || n > count-d.index {
			return nil, corrupt("group of %d records at record %d of %d", n, d.index, count)
		}
		if h.Records, err = d.group(h.Records, int(n)); err != nil {
			return nil, err
		}
	}
	switch _, err := d.r.ReadByte(); {
	case err == nil:
		return nil, corrupt("data after the last of %d records", count)
	case err != io.EOF:
		return nil, readErr("end of data", err)
	}
	return h, nil
}

// cursor walks one column of a group.
type cursor struct {
	b   []byte
	off int
}

func (c *cursor) uvarint() (uint64, bool) {
	v, k := binary.Uvarint(c.b[c.off:])
	if k <= 0 {
		return 0, false
	}
	c.off += k
	return v, true
}

func (c *cursor) next(n uint64) ([]byte, bool) {
	if n > uint64(len(c.b)-c.off) {
		return nil, false
	}
	s := c.b[c.off : c.off+int(n)]
	c.off += int(n)
	return s, true
}

// group reads one group of n records and appends them to recs.
func (d *decoder) group(recs []Record, n int) ([]Record, error) {
	var lens [numCols]uint64
	total := uint64(0)
	for c := range numCols {
		l, err := d.uvarint("column length")
		if err != nil {
			return nil, err
		}
		if l > maxGroupBytes {
			return nil, corrupt("column of %d bytes at record %d", l, d.index)
		}
		lens[c] = l
		total += l
	}
	if total > maxGroupBytes {
		return nil, corrupt("group of %d bytes at record %d", total, d.index)
	}
	data, err := d.readN("group", int(total))
	if err != nil {
		return nil, err
	}
	var cols [numCols]cursor
	for c := range numCols {
		cols[c].b, data = data[:lens[c]], data[lens[c]:]
	}

	// The flags say how long the optional columns are; check them all
	// before trusting any.
	flags := cols[colFlags].b
	if len(flags) != n {
		return nil, corrupt("group at record %d: %d flags for %d records", d.index, len(flags), n)
	}
	n2size, n2time := 0, 0
	for _, f := range flags {
		if f&^flagsKnown != 0 || f>>hashShift1&3 > hashText || f>>hashShift2&3 > hashText {
			return nil, corrupt("group at record %d: unknown flags %#x", d.index, f)
		}
		if f&flagSize2 != 0 {
			n2size++
		}
		if f&flagTime2 != 0 {
			n2time++
		}
	}
	for i, c := range []struct{ col, want int }{
		{colSize1, n}, {colTime1, n}, {colSize2, n2size}, {colTime2, n2time},
	} {
		if len(cols[c.col].b) != 8*c.want {
			return nil, corrupt("group at record %d: column %d is %d bytes, want %d", d.index, c.col, len(cols[c.col].b), 8*c.want)
		}
		d.ints[i] = unshuffle(d.ints[i], cols[c.col].b)
	}
	size1, time1, size2, time2 := d.ints[0], d.ints[1], d.ints[2], d.ints[3]

	i2size, i2time := 0, 0
	for i := range n {
		plen, ok1 := cols[colPrefix].uvarint()
		slen, ok2 := cols[colSuffixLen].uvarint()
		if !ok1 || !ok2 || plen > uint64(len(d.prevPath)) || slen > maxString-plen {
			return nil, corrupt("record %d: bad path length", d.index)
		}
		suffix, ok := cols[colSuffix].next(slen)
		if !ok {
			return nil, corrupt("record %d: path runs past its column", d.index)
		}
		// The path shares plen bytes with the previous one, so comparing
		// the rest is comparing the whole. The conversion does not allocate.
		if d.index > 0 && string(suffix) <= d.prevPath[plen:] {
			return nil, corrupt("record %d: path not after %q: not sorted, or a duplicate", d.index, d.prevPath)
		}
		// Check the path's memory, and the hashes' at most, before
		// anything is allocated for them.
		if err := d.spend(histRecordMem + plen + slen + hashMem(&cols[colHashLen1], flags[i]>>hashShift1&3) +
			hashMem(&cols[colHashLen2], flags[i]>>hashShift2&3)); err != nil {
			return nil, err
		}
		f := flags[i]
		r := Record{Path: d.arena.concat(d.prevPath[:plen], suffix), Dir: f&flagDir != 0}
		r.One.Size = unzigzag(size1[i])
		r.One.ModTime = d.prevTime + unzigzag(time1[i])
		r.Two.Size, r.Two.ModTime = r.One.Size, r.One.ModTime
		if f&flagSize2 != 0 {
			r.Two.Size = unzigzag(size2[i2size])
			i2size++
		}
		if f&flagTime2 != 0 {
			r.Two.ModTime = r.One.ModTime + unzigzag(time2[i2time])
			i2time++
		}
		kind1, kind2 := f>>hashShift1&3, f>>hashShift2&3
		hash1, ok := rawHash(kind1, &cols[colHashLen1], &cols[colHash1])
		if !ok {
			return nil, corrupt("record %d: bad hash for path1", d.index)
		}
		hash2, ok := rawHash(kind2, &cols[colHashLen2], &cols[colHash2])
		if !ok {
			return nil, corrupt("record %d: bad hash for path2", d.index)
		}
		r.One.Hash = d.hashString(kind1, hash1)
		// After a sync both sides usually hold the same content, and so
		// the same hash when they hash alike: hold it once. For an md5
		// that is 32 of the 195 bytes a record took.
		if kind2 == kind1 && bytes.Equal(hash2, hash1) {
			r.Two.Hash = r.One.Hash
		} else {
			r.Two.Hash = d.hashString(kind2, hash2)
		}
		recs = append(recs, r)
		d.prevPath, d.prevTime = r.Path, r.One.ModTime
		d.index++
	}
	for c := range numCols {
		// The flags and the integer columns had their lengths checked
		// exactly; the others are walked and must be used up.
		if c != colFlags && !shuffled(c) && cols[c].off != len(cols[c].b) {
			return nil, corrupt("group ending at record %d: %d bytes left in column %d", d.index, len(cols[c].b)-cols[c].off, c)
		}
	}
	return recs, nil
}

// hashMem is the memory the next hash in the length column lens takes once
// decoded, without moving the column on; the budget is checked against it
// before the hash is read, which checks the length properly.
func hashMem(lens *cursor, kind byte) uint64 {
	if kind == hashNone {
		return 0
	}
	n, k := binary.Uvarint(lens.b[lens.off:])
	if k <= 0 || n > maxString {
		return 0 // d.hash refuses it
	}
	if kind == hashHex {
		return 2 * n
	}
	return n
}

// rawHash reads one hash of the given kind from its length and data
// columns, as stored: raw bytes for hashHex, the text for hashText.
func rawHash(kind byte, lens, data *cursor) ([]byte, bool) {
	if kind == hashNone {
		return nil, true
	}
	n, ok := lens.uvarint()
	if !ok || n == 0 {
		return nil, false
	}
	if kind == hashHex && n > maxString/2 || n > maxString {
		return nil, false
	}
	return data.next(n)
}

// hashString turns a hash read by rawHash into the string it stands for.
func (d *decoder) hashString(kind byte, b []byte) string {
	if kind == hashHex {
		d.hex = hex.AppendEncode(d.hex[:0], b)
		b = d.hex
	}
	return d.arena.concat("", b)
}

// Decoded strings share chunks of memory that start small and double up to
// maxArenaChunk. Sharing saves an allocation per path and per hash; the cost
// is that one string kept alive keeps its whole chunk alive, and that the
// last chunk is left half empty on average. That is why chunks stay small:
// at 1 MiB the last one wasted 5 bytes per record of a history of 100,000,
// at 64 KiB it wastes 0.3, and allocating 16 times as many chunks does not
// show in the time to decode.
const (
	minArenaChunk = 4 << 10
	maxArenaChunk = 64 << 10
)

// arena hands out strings backed by shared chunks. A strings.Builder never
// changes bytes it has written, so the strings stay valid as it grows.
type arena struct {
	b     *strings.Builder
	chunk int
}

// concat returns prefix+string(suffix).
func (a *arena) concat(prefix string, suffix []byte) string {
	n := len(prefix) + len(suffix)
	if n == 0 {
		return ""
	}
	if a.b == nil || a.b.Cap()-a.b.Len() < n {
		a.chunk = min(max(2*a.chunk, minArenaChunk), maxArenaChunk)
		a.b = new(strings.Builder)
		a.b.Grow(max(a.chunk, n))
	}
	start := a.b.Len()
	a.b.WriteString(prefix)
	a.b.Write(suffix)
	return a.b.String()[start:]
}
