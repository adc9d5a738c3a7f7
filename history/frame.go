package history

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// The journal and the run log are append-only files: a header, then frames
// (docs/transactions.md). A frame is
//
//	marker "\xfeFRY" | kind uint8 | length uint32 LE | payload | xxhash64 LE
//
// and the checksum covers everything in the frame before it. The marker and
// the checksum together let a reader tell a whole frame from a torn one,
// and find the next whole frame after a damaged stretch: 0xFE never occurs
// in UTF-8, so a frame cannot hide in an ordinary path, and a chance match
// must also pass a 64-bit checksum.
const (
	frameMarker = "\xfeFRY"
	frameHead   = len(frameMarker) + 1 + 4
	frameOver   = frameHead + checksumLen // bytes a frame adds to its payload
	// maxFrame bounds a frame's payload. Writers keep far below it (a
	// journal batch closes at batchBytes, a run log entry at maxRunBody
	// before compression); readers refuse more.
	maxFrame = 256 << 20
)

// fileHead is the header of the journal and of each run log generation:
// an 8-byte magic and a version, as in the history's envelope.
const fileHead = envelopeHead

// appendFrame appends a frame holding payload to dst.
func appendFrame(dst []byte, kind byte, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, frameMarker...)
	dst = append(dst, kind)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = append(dst, payload...)
	return binary.LittleEndian.AppendUint64(dst, xxhash.Sum64(dst[start:]))
}

// frameAt reports whether a whole, intact frame starts at data[off], and if
// so its kind, payload and the offset just after it.
func frameAt(data []byte, off int) (kind byte, payload []byte, next int, ok bool) {
	rest := data[off:]
	if len(rest) < frameOver || string(rest[:len(frameMarker)]) != frameMarker {
		return 0, nil, 0, false
	}
	n := binary.LittleEndian.Uint32(rest[len(frameMarker)+1:])
	if n > maxFrame || uint64(n) > uint64(len(rest)-frameOver) {
		return 0, nil, 0, false
	}
	end := frameHead + int(n)
	if xxhash.Sum64(rest[:end]) != binary.LittleEndian.Uint64(rest[end:]) {
		return 0, nil, 0, false
	}
	return rest[len(frameMarker)], rest[frameHead:end], off + end + checksumLen, true
}

// nextFrame returns the offset of the first intact frame at or after from,
// or -1. It is how a reader tells a torn tail (no intact frame follows)
// from damage in the middle (one does).
func nextFrame(data []byte, from int) int {
	for off := from; off < len(data); off++ {
		i := bytes.Index(data[off:], []byte(frameMarker))
		if i < 0 {
			return -1
		}
		off += i
		if _, _, _, ok := frameAt(data, off); ok {
			return off
		}
	}
	return -1
}

// checkFileHead checks the magic and the version of a journal or run log
// file whose magic is want; the newest version this build reads is max.
func checkFileHead(data []byte, want string, max uint16) (uint16, error) {
	if len(data) < fileHead {
		return 0, corrupt("truncated header: %d bytes", len(data))
	}
	if string(data[:len(want)]) != want {
		return 0, corrupt("bad magic %q, want %q", data[:len(want)], want)
	}
	switch v := binary.BigEndian.Uint16(data[len(want):]); {
	case v == 0:
		return 0, corrupt("format version 0")
	case v > max:
		return 0, fmt.Errorf("%w: file format %d, this ferry reads up to format %d; upgrade ferry",
			ErrNewerFormat, v, max)
	default:
		return v, nil
	}
}

func appendFileHead(dst []byte, magic string, version uint16) []byte {
	dst = append(dst, magic...)
	return binary.BigEndian.AppendUint16(dst, version)
}
