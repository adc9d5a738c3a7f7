package bisync

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/ferry-sync/ferry/backends"
)

// sameContent reports whether both sides of an item hold the same bytes. It
// uses hashes where both sides can give one of a common kind, and reads and
// compares both files otherwise: a conflict is declared only when content
// really differs.
func (e *engine) sameContent(ctx context.Context, it *item) (bool, error) {
	e1, e2 := it.e[0], it.e[1]
	if e1.Size >= 0 && e2.Size >= 0 && e1.Size != e2.Size {
		return false, nil
	}
	s1, s2 := e.sides[0], e.sides[1]
	if s1.hashKind != "" && s1.hashKind == s2.hashKind && it.hash[0] != "" && it.hash[1] != "" {
		return it.hash[0] == it.hash[1], nil
	}
	if kind := backends.CommonHash(s1.caps, s2.caps); kind != "" {
		var h [2]string
		for s := range 2 {
			if e.sides[s].hashKind == kind && it.hash[s] != "" {
				h[s] = it.hash[s]
				continue
			}
			v, err := e.sides[s].r.Hash(ctx, it.path, kind)
			if errors.Is(err, backends.ErrHashUnsupported) {
				break // no hash for this object: see below
			}
			if err != nil {
				return false, &OpError{Op: "hash", Side: s + 1, Path: it.path, Err: err}
			}
			h[s] = v
			if e.sides[s].hashKind == kind {
				it.hash[s] = v
			}
		}
		// A backend may have no hash for one object (an S3 multipart
		// upload by another tool, or by ferry from a local file): then
		// only the bytes can tell.
		if h[0] != "" && h[1] != "" {
			return h[0] == h[1], nil
		}
	}
	return e.sameBytes(ctx, it)
}

// sameBytes reads both files and compares them, hashing each on the way so
// that the history can keep the hashes and the next run need not read again.
func (e *engine) sameBytes(ctx context.Context, it *item) (bool, error) {
	var r [2]io.ReadCloser
	for s := range 2 {
		rc, err := e.sides[s].r.Open(ctx, it.path)
		if err != nil {
			if r[0] != nil {
				r[0].Close()
			}
			return false, &OpError{Op: "read", Side: s + 1, Path: it.path, Err: err}
		}
		r[s] = rc
	}
	defer r[0].Close()
	defer r[1].Close()
	var hs [2]*hashingReader
	for s := range 2 {
		hs[s] = newHashingReader(r[s], e.sides[s].hashKind)
	}
	eq, err := equalReaders(hs[0], hs[1])
	if err != nil {
		return false, fmt.Errorf("compare %s: %w", it.path, err)
	}
	if eq {
		for s := range 2 {
			if h := hs[s].sum(); h != "" {
				it.hash[s] = h
			}
		}
	}
	return eq, nil
}

// equalReaders compares two streams in blocks.
func equalReaders(a, b io.Reader) (bool, error) {
	const block = 64 << 10
	ba, bb := make([]byte, block), make([]byte, block)
	for {
		na, erra := io.ReadFull(a, ba)
		nb, errb := io.ReadFull(b, bb)
		if !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		endA := errors.Is(erra, io.EOF) || errors.Is(erra, io.ErrUnexpectedEOF)
		endB := errors.Is(errb, io.EOF) || errors.Is(errb, io.ErrUnexpectedEOF)
		if erra != nil && !endA {
			return false, erra
		}
		if errb != nil && !endB {
			return false, errb
		}
		if endA || endB {
			return endA && endB, nil
		}
	}
}

// hashingReader hashes what passes through it, with the kinds ferry can
// compute itself; other kinds leave sum empty.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
	// read is true once the whole stream has passed through.
	read bool
}

func newHashingReader(r io.Reader, kind string) *hashingReader {
	hr := &hashingReader{r: r}
	switch kind {
	case backends.HashMD5:
		hr.h = md5.New()
	case backends.HashSHA1:
		hr.h = sha1.New()
	}
	return hr
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	if n > 0 {
		hr.n += int64(n)
		if hr.h != nil {
			hr.h.Write(p[:n])
		}
	}
	if err == io.EOF {
		hr.read = true
	}
	return n, err
}

// sum is the hex hash of everything read, or "" when the kind is not one
// ferry computes or the stream was not read to its end.
func (hr *hashingReader) sum() string {
	if hr.h == nil || !hr.read {
		return ""
	}
	return hex.EncodeToString(hr.h.Sum(nil))
}
