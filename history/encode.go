package history

import (
	"encoding/binary"
	"io"
	"slices"
)

// Records are stored in groups of up to maxGroup, each group as columns: a
// column holds one field of every record in the group, so zstd sees long
// runs of alike data. This takes the file from about 30 bytes per record
// (one record after another) to about 25 for a notes vault, most of it the
// incompressible hashes.
//
// Integers that vary freely (sizes, times) are stored as 8 bytes each,
// byte-plane shuffled: byte 0 of every value in the group, then byte 1 of
// every value, and so on. The high planes are then nearly constant and zstd
// removes them, where varints would scatter them among the low bytes.
const (
	colPrefix    = iota // uvarint per record: bytes shared with the previous path
	colSuffixLen        // uvarint per record: bytes of the path after the prefix
	colSuffix           // those bytes, concatenated
	colFlags            // one byte per record
	colSize1            // shuffled zigzag(One.Size)
	colTime1            // shuffled zigzag(One.ModTime - previous record's One.ModTime)
	colHashLen1         // uvarint per record with a hash on path1
	colHash1            // those hashes: raw bytes (hashHex) or text (hashText)
	colSize2            // shuffled zigzag(Two.Size), records with flagSize2 only
	colTime2            // shuffled zigzag(Two.ModTime - One.ModTime), flagTime2 only
	colHashLen2         // as colHashLen1, for path2
	colHash2            // as colHash1, for path2
	numCols
)

// shuffled reports whether column c holds byte-plane shuffled integers.
func shuffled(c int) bool {
	return c == colSize1 || c == colTime1 || c == colSize2 || c == colTime2
}

// Flags, one byte per record. Two is usually a copy of One but for its
// hash, so its size and time are stored only when they differ.
const (
	flagDir    = 1 << 0
	hashShift1 = 1      // two bits: the hash kind of One
	hashShift2 = 3      // two bits: the hash kind of Two
	flagSize2  = 1 << 5 // Two.Size is stored; otherwise it equals One.Size
	flagTime2  = 1 << 6 // Two.ModTime is stored; otherwise it equals One.ModTime
	flagsKnown = 1<<7 - 1
)

// Hash kinds.
const (
	hashNone = 0 // empty
	hashHex  = 1 // lowercase hex of even length, stored as raw bytes: half the size
	hashText = 2 // anything else, stored as it is
)

// unhexTable maps a lowercase hex digit to its value and anything else to
// badHex, so that a hash is checked and converted in one pass.
var unhexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = badHex
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

const badHex = 0x10

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeBody writes the version 2 body: the header, the record count, then
// the groups. h has been validated.
func encodeBody(w io.Writer, h *History) error {
	var b []byte
	for _, s := range []string{h.Path1, h.Path2, h.Hash1, h.Hash2, h.Filters} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, h.Written.Unix())
	b = binary.AppendUvarint(b, uint64(h.Written.Nanosecond()))
	for _, m := range []*Fingerprint{&h.Marker1, &h.Marker2} {
		b = binary.AppendVarint(b, m.Size)
		b = binary.AppendVarint(b, m.ModTime)
		b = appendString(b, m.Hash)
	}
	b = binary.AppendUvarint(b, uint64(len(h.Records)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	var g groupWriter
	for i := range h.Records {
		g.add(&h.Records[i])
		if g.full() {
			if err := g.flush(w); err != nil {
				return err
			}
		}
	}
	if g.n > 0 {
		return g.flush(w)
	}
	return nil
}

// groupWriter collects the columns of one group. Its buffers are reused
// from group to group, so encoding allocates little beyond the first group.
type groupWriter struct {
	cols [numCols][]byte
	ints [numCols][]uint64 // shuffled columns, before shuffling
	n    int
	head []byte
	// The previous record, across groups: paths and times are coded
	// against it.
	prevPath string
	prevTime int64
}

func (g *groupWriter) add(r *Record) {
	p := commonPrefix(g.prevPath, r.Path)
	g.cols[colPrefix] = binary.AppendUvarint(g.cols[colPrefix], uint64(p))
	g.cols[colSuffixLen] = binary.AppendUvarint(g.cols[colSuffixLen], uint64(len(r.Path)-p))
	g.cols[colSuffix] = append(g.cols[colSuffix], r.Path[p:]...)

	f := g.appendHash(colHashLen1, colHash1, r.One.Hash)<<hashShift1 |
		g.appendHash(colHashLen2, colHash2, r.Two.Hash)<<hashShift2
	if r.Dir {
		f |= flagDir
	}
	// Differences wrap around on overflow, and so does the sum that
	// undoes them, so every int64 round-trips.
	g.ints[colSize1] = append(g.ints[colSize1], zigzag(r.One.Size))
	g.ints[colTime1] = append(g.ints[colTime1], zigzag(r.One.ModTime-g.prevTime))
	if r.Two.Size != r.One.Size {
		f |= flagSize2
		g.ints[colSize2] = append(g.ints[colSize2], zigzag(r.Two.Size))
	}
	if r.Two.ModTime != r.One.ModTime {
		f |= flagTime2
		g.ints[colTime2] = append(g.ints[colTime2], zigzag(r.Two.ModTime-r.One.ModTime))
	}
	g.cols[colFlags] = append(g.cols[colFlags], f)

	g.prevPath, g.prevTime = r.Path, r.One.ModTime
	g.n++
}

// appendHash stores s in the given columns and returns its kind.
func (g *groupWriter) appendHash(lenCol, col int, s string) byte {
	if s == "" {
		return hashNone
	}
	if len(s)%2 == 0 {
		start := len(g.cols[col])
		dst := slices.Grow(g.cols[col], len(s)/2)
		var bad byte
		for i := 0; i+1 < len(s); i += 2 {
			hi, lo := unhexTable[s[i]], unhexTable[s[i+1]]
			bad |= hi | lo
			dst = append(dst, hi<<4|lo)
		}
		if bad&badHex == 0 {
			g.cols[col] = dst
			g.cols[lenCol] = binary.AppendUvarint(g.cols[lenCol], uint64(len(s)/2))
			return hashHex
		}
		g.cols[col] = dst[:start]
	}
	g.cols[col] = append(g.cols[col], s...)
	g.cols[lenCol] = binary.AppendUvarint(g.cols[lenCol], uint64(len(s)))
	return hashText
}

// full reports whether the group should be written now. A group closes at
// groupSoftBytes, and one record adds at most 3*maxString plus a few dozen
// bytes, so no group reaches maxGroupBytes.
func (g *groupWriter) full() bool {
	if g.n >= maxGroup {
		return true
	}
	size := 0
	for c := range numCols {
		size += len(g.cols[c]) + 8*len(g.ints[c])
	}
	return size >= groupSoftBytes
}

// flush writes the group: its record count, the byte length of each
// column, then the columns.
func (g *groupWriter) flush(w io.Writer) error {
	for c := range numCols {
		if shuffled(c) {
			g.cols[c] = shuffle(g.cols[c], g.ints[c])
		}
	}
	g.head = binary.AppendUvarint(g.head[:0], uint64(g.n))
	for c := range numCols {
		g.head = binary.AppendUvarint(g.head, uint64(len(g.cols[c])))
	}
	if _, err := w.Write(g.head); err != nil {
		return err
	}
	for c := range numCols {
		if len(g.cols[c]) == 0 {
			continue
		}
		if _, err := w.Write(g.cols[c]); err != nil {
			return err
		}
	}
	for c := range numCols {
		g.cols[c] = g.cols[c][:0]
		g.ints[c] = g.ints[c][:0]
	}
	g.n = 0
	return nil
}

// shuffle stores vals as 8 little-endian byte planes in dst, reusing its
// memory.
func shuffle(dst []byte, vals []uint64) []byte {
	n := len(vals)
	dst = slices.Grow(dst[:0], 8*n)[:8*n]
	for j := range 8 {
		plane := dst[j*n : (j+1)*n]
		shift := 8 * j
		for i, v := range vals {
			plane[i] = byte(v >> shift)
		}
	}
	return dst
}

// unshuffle is the inverse of shuffle; len(src) is a multiple of 8.
func unshuffle(dst []uint64, src []byte) []uint64 {
	n := len(src) / 8
	dst = slices.Grow(dst[:0], n)[:n]
	clear(dst)
	for j := range 8 {
		plane := src[j*n : (j+1)*n]
		shift := 8 * j
		for i, b := range plane {
			dst[i] |= uint64(b) << shift
		}
	}
	return dst
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
