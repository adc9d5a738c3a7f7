package history

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Helpers shared by the journal and the run log, whose records are small
// and decoded from memory, unlike the history's streamed columns.

// appendTime stores t as varint seconds and uvarint nanoseconds, like the
// history's Written; checkTime has made sure it round-trips.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func checkTime(what string, t time.Time) error {
	if s := t.Unix(); s < minUnix || s > maxUnix {
		return fmt.Errorf("%s %v is outside the years 1 to 9999", what, t)
	}
	return nil
}

func checkString(what, s string) error {
	if len(s) > maxString {
		return fmt.Errorf("%s is %d bytes, over the limit of %d", what, len(s), maxString)
	}
	return nil
}

// appendHashValue stores a hash as uvarint length and bytes, lowercase hex
// as raw bytes (half the size), and returns its kind (hashNone, hashHex,
// hashText), which the caller keeps in a flags byte. Every string
// round-trips: anything but lowercase hex of even length is kept as text.
func appendHashValue(b []byte, s string) ([]byte, byte) {
	if s == "" {
		return b, hashNone
	}
	if len(s)%2 == 0 {
		start := len(b)
		b = binary.AppendUvarint(b, uint64(len(s)/2))
		var bad byte
		for i := 0; i+1 < len(s); i += 2 {
			hi, lo := unhexTable[s[i]], unhexTable[s[i+1]]
			bad |= hi | lo
			b = append(b, hi<<4|lo)
		}
		if bad&badHex == 0 {
			return b, hashHex
		}
		b = b[:start]
	}
	return appendString(b, s), hashText
}

// payload parses a frame's payload, or a decompressed body, held in memory.
// Its first failure sticks and later reads return zero values, so a decoder
// may read a whole record and check err once; lengths are checked before
// anything is allocated for them.
type payload struct {
	b     []byte
	off   int
	err   error
	what  string // what is being decoded, for messages
	arena arena
	hex   []byte
}

func (p *payload) fail(format string, args ...any) {
	if p.err == nil {
		p.err = corrupt("%s: %s at byte %d of %d", p.what, fmt.Sprintf(format, args...), p.off, len(p.b))
	}
}

func (p *payload) uvarint(what string) uint64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Uvarint(p.b[p.off:])
	if n <= 0 {
		p.fail("bad %s", what)
		return 0
	}
	p.off += n
	return v
}

func (p *payload) varint(what string) int64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Varint(p.b[p.off:])
	if n <= 0 {
		p.fail("bad %s", what)
		return 0
	}
	p.off += n
	return v
}

func (p *payload) byte(what string) byte {
	if p.err != nil {
		return 0
	}
	if p.off >= len(p.b) {
		p.fail("no %s", what)
		return 0
	}
	p.off++
	return p.b[p.off-1]
}

func (p *payload) next(what string, n uint64) []byte {
	if p.err != nil {
		return nil
	}
	if n > uint64(len(p.b)-p.off) {
		p.fail("%s of %d bytes runs past the end", what, n)
		return nil
	}
	s := p.b[p.off : p.off+int(n)]
	p.off += int(n)
	return s
}

func (p *payload) string(what string) string {
	n := p.uvarint(what)
	if n > maxString {
		p.fail("%s of %d bytes, over the limit of %d", what, n, maxString)
		return ""
	}
	return p.arena.concat("", p.next(what, n))
}

// count reads the number of items that follow, each at least min bytes
// long, and checks that they can fit, so that a damaged count cannot make
// the caller allocate for them.
func (p *payload) count(what string, min int) int {
	n := p.uvarint(what)
	if n > uint64(len(p.b)-p.off)/uint64(min) {
		p.fail("%d %s cannot fit", n, what)
		return 0
	}
	return int(n)
}

func (p *payload) time(what string) time.Time {
	sec := p.varint(what)
	nsec := p.uvarint(what)
	if p.err != nil {
		return time.Time{}
	}
	if sec < minUnix || sec > maxUnix || nsec >= 1e9 {
		p.fail("%s out of range (%d s, %d ns)", what, sec, nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// hash reads a hash stored by appendHashValue with the given kind.
func (p *payload) hash(what string, kind byte) string {
	switch kind {
	case hashNone:
		return ""
	case hashHex:
		n := p.uvarint(what)
		if n == 0 || n > maxString/2 {
			p.fail("%s of %d bytes", what, n)
			return ""
		}
		b := p.next(what, n)
		if p.err != nil {
			return ""
		}
		p.hex = hex.AppendEncode(p.hex[:0], b)
		return p.arena.concat("", p.hex)
	case hashText:
		s := p.string(what)
		if p.err == nil && s == "" {
			p.fail("empty %s", what)
		}
		return s
	}
	p.fail("%s of kind %d", what, kind)
	return ""
}

// done checks that the whole payload was used.
func (p *payload) done() error {
	if p.err == nil && p.off != len(p.b) {
		p.fail("%d bytes left over", len(p.b)-p.off)
	}
	return p.err
}
