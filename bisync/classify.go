package bisync

import (
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// side is what the engine knows about one side of the pair.
type side struct {
	n      int // 1 or 2
	r      backends.Replica
	caps   backends.Caps
	backup backends.Replica
	// hashKind is the kind of the hashes kept in the history for this
	// side: the listing's free hash where there is one, otherwise the
	// first kind the replica can compute ("" when it can compute none).
	hashKind string
}

func newSide(n int, r, backup backends.Replica) *side {
	s := &side{n: n, r: r, caps: r.Caps(), backup: backup}
	switch {
	case s.caps.ListHash != "":
		s.hashKind = s.caps.ListHash
	case len(s.caps.Hashes) > 0:
		s.hashKind = s.caps.Hashes[0]
	}
	return s
}

// verdict is what a fingerprint comparison can tell without reading a file.
type verdict int

const (
	same verdict = iota
	changed
	needHash // same size, other modtime: only the content can tell a touch from an edit
)

// compareFingerprint compares a side's current entry with its fingerprint in
// the history. A different size is a change. A hash from the listing settles
// it. A different modtime is only a hint: touch is not an edit, so it asks for
// the hash when the history has one to compare with.
func compareFingerprint(s *side, cmp Compare, e *backends.Entry, fp history.Fingerprint) verdict {
	if e.Size >= 0 && fp.Size >= 0 && e.Size != fp.Size {
		return changed
	}
	if s.caps.ListHash != "" && e.Hash != "" && fp.Hash != "" {
		if e.Hash == fp.Hash {
			return same
		}
		return changed
	}
	canHash := s.hashKind != "" && fp.Hash != ""
	if cmp.Checksum && canHash {
		return needHash
	}
	if cmp.ModTime && s.caps.ListModTime && !e.ModTime.IsZero() && fp.ModTime != 0 {
		if sameTime(e.ModTime, fp.ModTime, s.caps.Precision) {
			return same
		}
		if canHash {
			return needHash
		}
		return changed
	}
	// Neither modtime nor hash can tell: the size alone decides.
	return same
}

// sameTime reports whether t and the Unix-nanosecond time ns are equal within
// the side's precision. A side compares only with its own history, so
// precision matters only where a backend rounds differently between calls.
func sameTime(t time.Time, ns int64, precision time.Duration) bool {
	d := t.UnixNano() - ns
	if d < 0 {
		d = -d
	}
	if precision <= 0 {
		precision = time.Nanosecond
	}
	return time.Duration(d) < precision
}

// fingerprint makes the history fingerprint of an entry, with hash the hash of
// its content of the side's kind, "" when unknown.
func fingerprint(e *backends.Entry, hash string) history.Fingerprint {
	fp := history.Fingerprint{Size: e.Size, Hash: hash}
	if !e.ModTime.IsZero() {
		fp.ModTime = e.ModTime.UnixNano()
	}
	return fp
}
