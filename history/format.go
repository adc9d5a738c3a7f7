package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// The envelope, common to every format version so that any build can tell a
// damaged file from a newer one (docs/history-format.md):
//
//	magic "FERRYHST" | version uint16 big-endian | payload | xxhash64 LE
//
// The checksum covers everything before it. In versions 1 and 2 the payload
// is one zstd stream holding a header and the records in groups of columns;
// version 2 adds the side format markers' fingerprints to the header.
const (
	magic = "FERRYHST"
	// Version is the format this build writes; it reads versions 1..Version.
	Version = 2

	envelopeHead = len(magic) + 2
	checksumLen  = 8
)

// Limits. Encode refuses what Decode would refuse, so every file this
// package writes can be read back; Decode uses them to bound what a damaged
// length field can make it allocate.
const (
	maxString = 1 << 20 // a path, a hash or a header field, in bytes
	maxGroup  = 1 << 16 // records per group
	// groupSoftBytes closes a group once its columns hold this much.
	// Decode holds one group's columns while it builds the records, on
	// top of them: at 1 MiB (about 17,000 records of a notes vault) a
	// no-change run of 100,000 files peaks 5 MB lower than at 4 MiB, and
	// the file grows by under 2% (30.0 to 30.5 bytes a record).
	groupSoftBytes = 1 << 20
	// maxGroupBytes bounds a group's columns: a full group of the largest
	// records stays far below it (see groupWriter.full).
	maxGroupBytes = 16 << 20
	// windowSize is the zstd window: about two groups of a notes vault.
	// 8 MiB saved under 0.1% and cost 3 times the memory and time.
	windowSize    = 2 << 20
	maxWindowSize = 16 << 20 // what Decode accepts
)

// Memory. Prefix-compressed paths and zstd let a small file stand for
// records that take far more memory: a path that shares all but its last
// byte with the previous one costs a byte or two in the file and its whole
// length in memory, so a crafted file of kilobytes could otherwise decode
// to gigabytes. The records a file holds may take at most histMemFloor plus
// histMemRatio bytes per byte of file, counted as recordMem counts them,
// and Encode fails for a history that Decode would refuse. Real histories
// are far below it: a notes vault takes about 7 bytes of memory per byte of
// file, and even a folder of files whose paths are 4 kB long stays under
// 1,000. The deletion records have the same kind of limit (tombMemLimit).
const (
	histMemFloor = 64 << 20
	histMemRatio = 4096
	// histRecordMem is what a record costs beside its strings: the Record,
	// rounded up.
	histRecordMem = 96
)

// histMemLimit is the memory the records of a file of n bytes may take.
func histMemLimit(n int) int64 {
	return histMemFloor + histMemRatio*int64(n)
}

// recordMem is what r counts against the limit.
func recordMem(r *Record) int64 {
	return histRecordMem + int64(len(r.Path)) + int64(len(r.One.Hash)) + int64(len(r.Two.Hash))
}

// Written is stored as Unix seconds and nanoseconds; seconds are kept
// within the years 1..9999 so that time.Unix round-trips them exactly.
const (
	minUnix = -62135596800 // 0001-01-01T00:00:00Z, time.Time{}
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// corrupt returns an error wrapping ErrCorrupt; every decoding failure goes
// through it so that callers can offer the previous generation or a resync.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Encode writes h in the current format. Records must be sorted by path,
// each path once; Encode checks that before it writes anything, so an
// invalid History leaves w untouched. The one check it can only make after
// writing is the memory limit, which depends on the size of the file: a
// history whose records take more memory than Decode accepts for a file of
// that size fails with an error once written, and Save then keeps the old
// file (see histMemLimit; no real history comes near it). Written is stored
// to the nanosecond, without its location or monotonic reading.
func Encode(w io.Writer, h *History) error {
	if err := validate(h); err != nil {
		return err
	}
	var mem int64
	for i := range h.Records {
		mem += recordMem(&h.Records[i])
	}
	hw := &hashWriter{w: w, h: xxhash.New()}
	head := make([]byte, 0, envelopeHead)
	head = append(head, magic...)
	head = binary.BigEndian.AppendUint16(head, Version)
	if _, err := hw.Write(head); err != nil {
		return fmt.Errorf("history: write: %w", err)
	}
	zw, err := getEncoder(hw)
	if err != nil {
		return fmt.Errorf("history: zstd: %w", err)
	}
	if err := encodeBody(zw, h); err != nil {
		zw.Close()
		return fmt.Errorf("history: write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("history: write: %w", err)
	}
	zw.Reset(nil) // drop w before pooling
	encoders.Put(zw)
	sum := binary.LittleEndian.AppendUint64(nil, hw.h.Sum64())
	if _, err := w.Write(sum); err != nil {
		return fmt.Errorf("history: write: %w", err)
	}
	if size := hw.n + checksumLen; mem > histMemLimit(size) {
		return fmt.Errorf("history: encode: %d records take %d bytes in memory, over the limit of %d for a file of %d bytes: "+
			"the paths are too long and too alike to be read back safely", len(h.Records), mem, histMemLimit(size), size)
	}
	return nil
}

// encoders holds idle zstd encoders: setting one up allocates megabytes of
// tables, more than encoding a small history takes.
var encoders sync.Pool

func getEncoder(w io.Writer) (*zstd.Encoder, error) {
	if e, ok := encoders.Get().(*zstd.Encoder); ok {
		e.Reset(w)
		return e, nil
	}
	// Async compression overlaps building the columns with compressing
	// them. The better level costs little because the hash columns are
	// incompressible and stored raw, and saves a byte or two per record.
	return zstd.NewWriter(w,
		zstd.WithEncoderLevel(zstd.SpeedBetterCompression),
		zstd.WithEncoderConcurrency(min(runtime.GOMAXPROCS(0), 4)),
		zstd.WithEncoderCRC(false), // the envelope has its own checksum
		zstd.WithWindowSize(windowSize),
	)
}

// hashWriter checksums what it passes on.
type hashWriter struct {
	w io.Writer
	h *xxhash.Digest
	n int // bytes written
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	hw.h.Write(p)
	n, err := hw.w.Write(p)
	hw.n += n
	return n, err
}

// validate checks what Decode would refuse, so that Encode never writes a
// file that cannot be read back.
func validate(h *History) error {
	if h == nil {
		return errors.New("history: encode: nil History")
	}
	for _, f := range []struct{ name, s string }{
		{"Path1", h.Path1}, {"Path2", h.Path2}, {"Hash1", h.Hash1},
		{"Hash2", h.Hash2}, {"Filters", h.Filters},
		{"Marker1.Hash", h.Marker1.Hash}, {"Marker2.Hash", h.Marker2.Hash},
	} {
		if len(f.s) > maxString {
			return fmt.Errorf("history: encode: %s is %d bytes, over the limit of %d", f.name, len(f.s), maxString)
		}
	}
	if s := h.Written.Unix(); s < minUnix || s > maxUnix {
		return fmt.Errorf("history: encode: Written %v is outside the years 1 to 9999", h.Written)
	}
	for i := range h.Records {
		r := &h.Records[i]
		if i > 0 && r.Path <= h.Records[i-1].Path {
			return fmt.Errorf("history: encode: record %d: path %q is not after %q: records must be sorted by path, each path once",
				i, r.Path, h.Records[i-1].Path)
		}
		if len(r.Path) > maxString || len(r.One.Hash) > maxString || len(r.Two.Hash) > maxString {
			return fmt.Errorf("history: encode: record %d (%.64q...): path or hash over the limit of %d bytes", i, r.Path, maxString)
		}
	}
	return nil
}

// Decode reads a History written by Encode of this or an older version. It
// reads all of r before it decodes, and checks the checksum first. A damaged
// file of any kind gives an error wrapping ErrCorrupt; a file from a newer
// ferry gives one wrapping ErrNewerFormat. Written comes back in UTC.
func Decode(r io.Reader) (*History, error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok {
		buf.Grow(l.Len() + bytes.MinRead) // read without regrowing
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("history: read: %w", err)
	}
	return decode(buf.Bytes())
}

func decode(data []byte) (*History, error) {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return nil, corrupt("not a ferry history file (bad magic)")
	}
	if len(data) < envelopeHead+checksumLen {
		return nil, corrupt("truncated: %d bytes", len(data))
	}
	body, trailer := data[:len(data)-checksumLen], data[len(data)-checksumLen:]
	if got, want := xxhash.Sum64(body), binary.LittleEndian.Uint64(trailer); got != want {
		return nil, corrupt("checksum mismatch (the file is damaged or truncated)")
	}
	v := binary.BigEndian.Uint16(data[len(magic):])
	switch {
	case v == 0:
		return nil, corrupt("format version 0")
	case v > Version:
		return nil, fmt.Errorf("%w: file format %d, this ferry reads up to format %d; upgrade ferry",
			ErrNewerFormat, v, Version)
	}
	return decodePayload(body[envelopeHead:], len(data), v)
}

// decodePayload decompresses and parses a version 1 or 2 payload.
func decodePayload(payload []byte, fileLen int, version uint16) (*History, error) {
	// Concurrency 1 decodes on this goroutine: the parsing, not zstd, is
	// what takes the time, and no goroutines are left to stop.
	zr, err := zstd.NewReader(bytes.NewReader(payload),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxWindowSize),
	)
	if err != nil {
		return nil, fmt.Errorf("history: zstd: %w", err)
	}
	defer zr.Close()
	// The stored count pre-sizes Records, but only up to one record per 4
	// bytes of file, so that a damaged count cannot make us allocate more
	// than about 22 times the file's size. Real histories are less dense
	// (a hash alone takes 16 bytes); denser ones just grow Records as
	// they go.
	d := newDecoder(zr, len(payload)/4+1024)
	d.memLimit = histMemLimit(fileLen)
	d.memLeft = d.memLimit
	d.fileLen = fileLen
	d.version = version
	return d.history()
}
