// Package history stores what both sides of a pair looked like after the last
// committed sync: one Record per path, sorted by path, in a versioned,
// checksummed, zstd-compressed file that is replaced atomically.
//
// It imports neither the engine nor the backends: bisync converts between its
// own types and Record.
package history

import (
	"errors"
	"time"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrCorrupt: the file is truncated, fails its checksum or does not
	// decode. The previous generation may still be good.
	ErrCorrupt = errors.New("history: corrupt file")
	// ErrNewerFormat: the file was written by a newer ferry.
	ErrNewerFormat = errors.New("history: written by a newer version of ferry")
)

// Fingerprint is what one side looked like: enough to tell whether the file
// changed since, without reading it.
type Fingerprint struct {
	Size    int64 // -1 when unknown
	ModTime int64 // Unix nanoseconds; 0 when unknown
	Hash    string
}

// Record is one path that was in sync after the last committed run.
type Record struct {
	Path string
	Dir  bool
	One  Fingerprint // path1
	Two  Fingerprint // path2
}

// History is the whole state of a pair.
type History struct {
	// Path1 and Path2 are the canonical (secret-free) names of the sides.
	Path1, Path2 string
	// Hash1 and Hash2 are the kinds of Fingerprint.Hash for each side.
	Hash1, Hash2 string
	// Filters is a fingerprint of the filter rules in force (issue 4).
	Filters string
	// Marker1 and Marker2 are the fingerprints of the side format markers
	// (`.ferry/format`) of path1 and path2 as the last run listed and
	// accepted them, or wrote them; the zero Fingerprint when there was
	// none. A run that lists a marker with the same fingerprint knows what
	// it holds without reading it. Stored from format version 2.
	Marker1, Marker2 Fingerprint
	// Written is when the history was committed. A run that changes
	// nothing does not write the history again (bisync), so it is the time
	// of the last run that changed something.
	Written time.Time
	// Records are sorted by Path, each path once.
	Records []Record
}
