// Package mem is an in-memory backends.Replica for engine tests. Knobs
// (Precision, NoSetModTime, ListHash, Hashes, CaseInsensitive, NoDirs, Clock,
// InSpace) make it behave like the backends ferry meets in the field, and
// helpers (WriteFile, ReadFile, Remove, Files, Calls) let a test set up a tree
// and check what the engine did without going through the Replica interface.
package mem

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sync/ferry/backends"
)

var (
	_ backends.Replica = (*Replica)(nil)
	_ backends.Copier  = (*Replica)(nil)
)

// Errors for paths of the wrong kind; not-found errors wrap
// backends.ErrNotFound instead.
var (
	errIsDir    = errors.New("is a directory")
	errNotDir   = errors.New("not a directory")
	errNotEmpty = errors.New("directory not empty")
)

// Replica is an in-memory replica. It is safe for concurrent use.
type Replica struct {
	name string
	cfg  config

	mu    sync.Mutex
	files map[string]*file // by key (the path, folded if case-insensitive)
	dirs  map[string]*dir  // by key; the root is implicit and not stored
	calls map[string]int   // by method name
}

type file struct {
	path     string // as written first (the case kept by a case-insensitive replica)
	data     []byte // never modified once stored, so readers may share it
	modTime  time.Time
	listHash string // the hash of kind cfg.listHash, computed on write
}

type dir struct {
	path     string
	children int // entries directly inside; lets NoDirs prune and Rmdir refuse in O(1)
}

// New returns an empty replica named name.
func New(name string, opts ...Option) *Replica {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.hashesSet {
		cfg.hashes = []string{backends.HashMD5}
	}
	if cfg.listHash != "" && !slices.Contains(cfg.hashes, cfg.listHash) {
		cfg.hashes = append(cfg.hashes, cfg.listHash)
	}
	if cfg.space == nil {
		cfg.space = NewSpace()
	}
	return &Replica{
		name:  name,
		cfg:   cfg,
		files: make(map[string]*file),
		dirs:  make(map[string]*dir),
		calls: make(map[string]int),
	}
}

// String returns "mem:" and the name given to New.
func (r *Replica) String() string { return "mem:" + r.name }

// Caps reports the capabilities the options chose.
func (r *Replica) Caps() backends.Caps {
	return backends.Caps{
		Precision:       r.cfg.precision,
		SetModTime:      r.cfg.precision > 0 && !r.cfg.noSetModTime,
		ListModTime:     r.cfg.precision > 0,
		ListHash:        r.cfg.listHash,
		Hashes:          slices.Clone(r.cfg.hashes),
		CaseInsensitive: r.cfg.caseInsensitive,
		Dirs:            !r.cfg.noDirs,
		ListSorted:      r.cfg.sortedList,
	}
}

// List reports every file and directory, in Go's random map order so that
// engine tests cannot come to depend on an order real replicas do not give,
// or with SortedList the files in path order after the directories. fn is
// called without the lock held, so it may call the replica.
func (r *Replica) List(ctx context.Context, fn func(backends.Entry) error) error {
	r.mu.Lock()
	r.calls["List"]++
	if err := ctx.Err(); err != nil {
		// Never an empty listing for a failure: the engine would read it
		// as "everything was deleted".
		r.mu.Unlock()
		return err
	}
	entries := make([]backends.Entry, 0, len(r.files)+len(r.dirs))
	for _, d := range r.dirs {
		entries = append(entries, backends.Entry{Path: d.path, Dir: true})
	}
	dirs := len(entries)
	for _, f := range r.files {
		entries = append(entries, r.entry(f))
	}
	r.mu.Unlock()
	if r.cfg.sortedList {
		slices.SortFunc(entries[dirs:], func(a, b backends.Entry) int { return strings.Compare(a.Path, b.Path) })
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Stat reports one file or directory as List would.
func (r *Replica) Stat(ctx context.Context, path string) (backends.Entry, error) {
	if err := r.begin(ctx, "Stat", "stat", path); err != nil {
		return backends.Entry{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.key(path)
	if f := r.files[k]; f != nil {
		return r.entry(f), nil
	}
	if d := r.dirs[k]; d != nil {
		return backends.Entry{Path: d.path, Dir: true}, nil
	}
	return backends.Entry{}, notFound("stat", path)
}

// Open returns a reader of the file's content as it is now; a later Put does
// not change what an open reader sees.
func (r *Replica) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	if err := r.begin(ctx, "Open", "open", path); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.lookupFile("open", path)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

// Put reads r to the end before touching the tree, so a reader that fails
// leaves the replica as it was. A src.Size (other than -1) that differs from
// what was read is an error too, as rclone refuses a transfer whose sizes
// differ.
func (r *Replica) Put(ctx context.Context, path string, rd io.Reader, src backends.Entry) (backends.Entry, error) {
	if err := r.begin(ctx, "Put", "put", path); err != nil {
		return backends.Entry{}, err
	}
	// Read outside the lock: a slow source must not stall the replica.
	data, err := io.ReadAll(ctxReader{ctx, rd})
	if err != nil {
		return backends.Entry{}, &fs.PathError{Op: "put", Path: path, Err: err}
	}
	if src.Size >= 0 && int64(len(data)) != src.Size {
		return backends.Entry{}, &fs.PathError{Op: "put", Path: path,
			Err: fmt.Errorf("read %d bytes, source said %d", len(data), src.Size)}
	}
	// A given hash is checked, as S3 checks a Content-MD5.
	if src.Hash != "" && slices.Contains(hashKinds, src.HashKind) {
		if got := sum(src.HashKind, data); got != strings.ToLower(src.Hash) {
			return backends.Entry{}, &fs.PathError{Op: "put", Path: path,
				Err: fmt.Errorf("content %s %s, source said %s", src.HashKind, got, src.Hash)}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	modTime := src.ModTime
	if r.cfg.noSetModTime {
		modTime = time.Time{}
	}
	f, err := r.store(path, data, modTime)
	if err != nil {
		return backends.Entry{}, &fs.PathError{Op: "put", Path: path, Err: err}
	}
	return r.entry(f), nil
}

// Move renames a file, creating the parents of to and replacing a file
// there. On a case-insensitive replica a rename that changes only the case
// changes the kept name.
func (r *Replica) Move(ctx context.Context, from, to string) (backends.Entry, error) {
	if err := r.begin(ctx, "Move", "move", from); err != nil {
		return backends.Entry{}, err
	}
	if err := checkPath("move", to); err != nil {
		return backends.Entry{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.lookupFile("move", from)
	if err != nil {
		return backends.Entry{}, err
	}
	fk, tk := r.key(from), r.key(to)
	if fk == tk {
		f.path = join(r.display(parent(to)), base(to))
		return r.entry(f), nil
	}
	if r.dirs[tk] != nil {
		return backends.Entry{}, &fs.PathError{Op: "move", Path: to, Err: errIsDir}
	}
	if err := r.mkdirAll(parent(to)); err != nil {
		return backends.Entry{}, &fs.PathError{Op: "move", Path: to, Err: err}
	}
	if old := r.files[tk]; old != nil {
		f.path = old.path // the name in place keeps its case, as on Windows
	} else {
		f.path = r.display(to)
		r.addChild(parent(tk))
	}
	r.files[tk] = f
	delete(r.files, fk)
	r.removeChild(parent(fk))
	return r.entry(f), nil
}

// Delete removes a file. The directory it was in stays unless NoDirs.
func (r *Replica) Delete(ctx context.Context, path string) error {
	if err := r.begin(ctx, "Delete", "delete", path); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.lookupFile("delete", path); err != nil {
		return err
	}
	k := r.key(path)
	delete(r.files, k)
	r.removeChild(parent(k))
	return nil
}

// Hash computes the content hash of the given kind from the stored bytes.
func (r *Replica) Hash(ctx context.Context, path string, kind string) (string, error) {
	if err := r.begin(ctx, "Hash", "hash", path); err != nil {
		return "", err
	}
	if !slices.Contains(r.cfg.hashes, kind) {
		return "", &fs.PathError{Op: "hash", Path: path,
			Err: fmt.Errorf("%w: %q", backends.ErrHashUnsupported, kind)}
	}
	r.mu.Lock()
	f, err := r.lookupFile("hash", path)
	var data []byte
	if err == nil {
		data = f.data
	}
	r.mu.Unlock()
	if err != nil {
		return "", err
	}
	return sum(kind, data), nil
}

// Mkdir creates a directory and its parents. With NoDirs it does nothing,
// like an object store.
func (r *Replica) Mkdir(ctx context.Context, path string) error {
	if err := r.begin(ctx, "Mkdir", "mkdir", path); err != nil {
		return err
	}
	if r.cfg.noDirs {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.mkdirAll(path); err != nil {
		return &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	return nil
}

// Rmdir removes an empty directory. With NoDirs a directory that does not
// exist is not an error (there was nothing to remove), but one with files
// under it is.
func (r *Replica) Rmdir(ctx context.Context, path string) error {
	if err := r.begin(ctx, "Rmdir", "rmdir", path); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.key(path)
	d := r.dirs[k]
	switch {
	case d == nil && r.files[k] != nil:
		return &fs.PathError{Op: "rmdir", Path: path, Err: errNotDir}
	case d == nil && r.cfg.noDirs:
		return nil
	case d == nil:
		return notFound("rmdir", path)
	case d.children > 0:
		return &fs.PathError{Op: "rmdir", Path: path, Err: errNotEmpty}
	}
	delete(r.dirs, k)
	r.removeChild(parent(k))
	return nil
}

// CopyFrom copies a file server-side when src is a *Replica in the same
// Space (or r itself), keeping its modification time where r keeps them. Any
// other source gets an error wrapping backends.ErrCannotCopy.
func (r *Replica) CopyFrom(ctx context.Context, src backends.Replica, srcPath, dstPath string) (backends.Entry, error) {
	if err := r.begin(ctx, "CopyFrom", "copy", dstPath); err != nil {
		return backends.Entry{}, err
	}
	s, ok := src.(*Replica)
	if !ok || s.cfg.space != r.cfg.space {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: dstPath,
			Err: fmt.Errorf("%w: %v and %v are not in one mem.Space", backends.ErrCannotCopy, src, r)}
	}
	if err := checkPath("copy", srcPath); err != nil {
		return backends.Entry{}, err
	}
	// Take the two locks one after the other, never nested, so copies in
	// both directions between two replicas cannot deadlock.
	s.mu.Lock()
	f, err := s.lookupFile("copy", srcPath)
	var data []byte
	var modTime time.Time
	if err == nil {
		data, modTime = f.data, f.modTime
	}
	s.mu.Unlock()
	if err != nil {
		return backends.Entry{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.noSetModTime {
		modTime = time.Time{}
	}
	nf, err := r.store(dstPath, data, modTime)
	if err != nil {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: dstPath, Err: err}
	}
	return r.entry(nf), nil
}

// begin counts the call and checks what every method checks first.
func (r *Replica) begin(ctx context.Context, method, op, path string) error {
	r.mu.Lock()
	r.calls[method]++
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	return checkPath(op, path)
}

// entry is f as a listing reports it, given the replica's Caps.
func (r *Replica) entry(f *file) backends.Entry {
	e := backends.Entry{Path: f.path, Size: int64(len(f.data))}
	if r.cfg.precision > 0 {
		e.ModTime = f.modTime
	}
	if r.cfg.listHash != "" {
		e.Hash = f.listHash
	}
	return e
}

// lookupFile returns the file at path, or an error saying why there is none.
func (r *Replica) lookupFile(op, path string) (*file, error) {
	k := r.key(path)
	if f := r.files[k]; f != nil {
		return f, nil
	}
	if r.dirs[k] != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: errIsDir}
	}
	return nil, notFound(op, path)
}

// stamp turns a source's modification time into the one the replica keeps:
// the clock when there is none, truncated to the precision, zero when the
// replica keeps none.
func (r *Replica) stamp(t time.Time) time.Time {
	if r.cfg.precision == 0 {
		return time.Time{}
	}
	if t.IsZero() {
		t = r.cfg.clock()
	}
	return t.Truncate(r.cfg.precision).UTC()
}

func notFound(op, path string) error {
	return &fs.PathError{Op: op, Path: path, Err: backends.ErrNotFound}
}

func checkPath(op, path string) error {
	if path == "." || !fs.ValidPath(path) {
		return &fs.PathError{Op: op, Path: path, Err: fs.ErrInvalid}
	}
	return nil
}

func sum(kind string, data []byte) string {
	var h hash.Hash
	switch kind {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha256":
		h = sha256.New()
	default:
		panic("mem: unknown hash kind " + kind) // options reject these
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// ctxReader stops a long Put when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func base(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
