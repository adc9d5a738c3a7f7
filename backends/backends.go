// Package backends defines what ferry needs from one side of a sync: the
// Replica interface, the Entry a listing yields, and the capabilities a side
// declares. It imports no rclone package; backends/rclonefs implements
// Replica over rclone and backends/mem in memory for tests.
//
// Paths are slash-separated, relative to the replica root, never empty, and
// never contain "." or ".." elements or a leading or trailing slash (as in
// io/fs.ValidPath).
package backends

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) by Open, Stat, Move, Delete and Hash when
// the path does not exist on the replica.
var ErrNotFound = errors.New("not found")

// ErrHashUnsupported is returned by Hash when the replica cannot produce the
// requested kind of hash.
var ErrHashUnsupported = errors.New("hash kind not supported")

// ErrCannotCopy is returned by Copier.CopyFrom when a server-side copy is not
// possible between the two replicas; the caller then streams the content.
var ErrCannotCopy = errors.New("server-side copy not possible")

// Entry is one file or directory as a listing reports it. Only what the
// listing gives for free is filled in: a steady-state sync must not make a
// request per object.
type Entry struct {
	Path    string
	Dir     bool      // a directory; Size, ModTime and Hash are then zero
	Size    int64     // bytes; -1 when unknown
	ModTime time.Time // zero when the listing cannot tell it cheaply
	// Hash is the content hash of kind Caps.ListHash, lower-case hex, when
	// the listing gives it for free; "" otherwise.
	Hash string
	// HashKind names the kind of Hash when it is not the listing
	// replica's Caps.ListHash. Entries a replica returns leave it "".
	// The caller of Put sets it, with Hash, to pass on a hash it knows of
	// the content, whatever replica it came from; Put ignores a Hash
	// without a HashKind. See Replica.Put.
	HashKind string
}

// Caps describes what a replica can tell and do. It is plain data and does
// not change during the life of a replica.
type Caps struct {
	// Precision is the resolution of modification times the replica
	// stores and reports; 0 means it keeps no usable modification times.
	Precision time.Duration
	// SetModTime reports whether Put keeps the source's modification time.
	SetModTime bool
	// ListModTime reports whether List fills Entry.ModTime.
	ListModTime bool
	// ListHash is the kind of hash List fills in Entry.Hash ("md5",
	// "sha1", ...), or "" when the listing carries none.
	ListHash string
	// Hashes are the kinds Hash can produce, preferred first; it may be
	// costly (a local replica reads the file).
	Hashes []string
	// CaseInsensitive reports that names differing only in case are the
	// same file.
	CaseInsensitive bool
	// Dirs reports that the replica stores directories (empty directories
	// can exist); object stores usually do not.
	Dirs bool
	// ListSorted reports that List calls fn for the files (the entries
	// that are not directories) in increasing order of Path, compared as
	// strings.Compare does, each path once. The engine then joins a
	// listing with the history as it arrives instead of holding all of it
	// and sorting it. A replica that cannot promise it for every List
	// leaves it false.
	ListSorted bool
}

// Replica is one side of a sync. Implementations are safe for concurrent use.
type Replica interface {
	// String is the canonical name of the replica, safe to print and to
	// store: it never carries a secret from a connection string.
	String() string
	// Caps reports the replica's capabilities.
	Caps() Caps
	// List calls fn once for every file and directory under the root, in
	// no particular order unless Caps.ListSorted, never concurrently. Replicas without Caps.Dirs
	// report the directories their files imply. An error from fn stops
	// the listing and is returned. A root that does not exist lists
	// nothing and returns nil; any other failure is an error, never an
	// empty list.
	List(ctx context.Context, fn func(Entry) error) error
	// Stat reports one path as List would, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, path string) (Entry, error)
	// Open opens the file for reading.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Put writes the content of r to path, creating parent directories and
	// replacing a file that is there. It never leaves a partial file under
	// path: the content appears whole or not at all. src gives the size
	// (-1 if unknown) and modification time to keep where the replica can.
	// When src.Hash and src.HashKind are set, src.Hash is the content's
	// hash of that kind, and a replica that can check an upload against a
	// hash of that kind (S3's Content-MD5, ownCloud's OC-Checksum) does,
	// failing the Put on a mismatch; a kind it cannot check is ignored.
	// It returns the entry as a listing would now report it, except that
	// its Hash may be one the listing lacks (see rclonefs.Replica.Put).
	Put(ctx context.Context, path string, r io.Reader, src Entry) (Entry, error)
	// Move renames a file within the replica, creating the parents of to
	// and replacing a file there; the modification time stays where the
	// replica keeps them.
	Move(ctx context.Context, from, to string) (Entry, error)
	// Delete removes a file. Deleting a path that does not exist returns an
	// error wrapping ErrNotFound. On a replica with Caps.Dirs the file's
	// directory stays, even when it becomes empty.
	Delete(ctx context.Context, path string) error
	// Hash computes the content hash of the given kind.
	Hash(ctx context.Context, path string, kind string) (string, error)
	// Mkdir creates a directory and its parents; it is not an error if it
	// exists. Replicas without directories do nothing.
	Mkdir(ctx context.Context, path string) error
	// Rmdir removes an empty directory; a missing one is an error wrapping
	// ErrNotFound.
	Rmdir(ctx context.Context, path string) error
}

// Copier is implemented by replicas that can copy a file from another replica
// without streaming it through ferry (a server-side copy, when both are on one
// remote). Like Put, it creates parents and replaces a file at dstPath.
// CopyFrom returns an error wrapping ErrCannotCopy when it cannot, before
// changing anything.
type Copier interface {
	CopyFrom(ctx context.Context, src Replica, srcPath, dstPath string) (Entry, error)
}

// TempCleaner is implemented by replicas whose Put writes to a temporary
// name first and renames it into place, which a process killed in between
// leaves behind (List does not report it). RemoveStaleTemps removes the
// temporary files the last List saw that are older than any upload still
// in progress can be, and returns how many it removed.
type TempCleaner interface {
	RemoveStaleTemps(ctx context.Context) (removed int, err error)
}

// OpenedModTime is implemented by a reader from Replica.Open that learnt,
// by opening the file, a modification time that the listing does not give
// (Caps.ListModTime is false): S3 sends the time stored with an object in
// the answer to the GET that reads it. ok is false when it knows none.
type OpenedModTime interface {
	ModTime() (t time.Time, ok bool)
}

// Settler is implemented by replicas whose listed modification times are
// stamped by the server when a file is written, to a precision, rather than
// kept from the source (Caps.ListModTime without Caps.SetModTime: Apache's
// WebDAV). A file written again within the same tick, with the same size,
// would list exactly as before. Before it records the listings and the
// entries its writes returned as the history, the engine calls Settle,
// which returns once any later write will get a later stamp: at most a
// precision after the replica's last write of this run, at once when it
// wrote nothing, or when ctx is done.
type Settler interface {
	Settle(ctx context.Context)
}

// IsRetryable reports whether err is a transient failure (a network error, a
// server asking to slow down) that the same operation may survive on a later
// try. Replicas mark such errors by wrapping them in a type with a
// Retryable() bool method.
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// Common hash kinds, named as rclone names them.
const (
	HashMD5  = "md5"
	HashSHA1 = "sha1"
)

// CommonHash returns the first kind in a's preference order that b can also
// produce, or "".
func CommonHash(a, b Caps) string {
	for _, k := range a.Hashes {
		for _, l := range b.Hashes {
			if k == l {
				return k
			}
		}
	}
	return ""
}
