package rclonefs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fspath"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/operations"
)

// Stat reports p as List would. On a replica with directories it reports a
// directory too; that may cost a listing of p's parent.
func (r *Replica) Stat(ctx context.Context, p string) (backends.Entry, error) {
	ctx = r.with(ctx)
	o, err := r.f.NewObject(ctx, p)
	if err == nil && !o.Storable() {
		// A symlink the local backend does not follow: List skips it.
		o, err = nil, fs.ErrorObjectNotFound
	}
	switch {
	case err == nil:
		return r.entryOf(ctx, o), nil
	case !r.caps.Dirs:
		// Directories are not listed, so not reported either.
	case errors.Is(err, fs.ErrorIsDir):
		return backends.Entry{Path: p, Dir: true}, nil
	case errors.Is(err, fs.ErrorObjectNotFound), errors.Is(err, fs.ErrorNotAFile):
		isDir, derr := r.isDir(ctx, p)
		if derr != nil {
			return backends.Entry{}, r.wrap("stat", p, derr)
		}
		if isDir {
			return backends.Entry{Path: p, Dir: true}, nil
		}
	}
	if errors.Is(err, fs.ErrorIsDir) || errors.Is(err, fs.ErrorNotAFile) {
		err = fmt.Errorf("%w: %w", fs.ErrorObjectNotFound, err)
	}
	return backends.Entry{}, r.wrap("stat", p, err)
}

// isDir reports whether p is a directory, from a listing of its parent.
func (r *Replica) isDir(ctx context.Context, p string) (bool, error) {
	parent := path.Dir(p)
	if parent == "." {
		parent = ""
	}
	entries, err := r.f.List(ctx, parent)
	if errors.Is(err, fs.ErrorDirNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if d, ok := e.(fs.Directory); ok && d.Remote() == p {
			return true, nil
		}
	}
	return false, nil
}

// object finds the file at p.
func (r *Replica) object(ctx context.Context, op, p string) (fs.Object, error) {
	o, err := r.f.NewObject(ctx, p)
	if err == nil && !o.Storable() {
		err = fs.ErrorNotAFile
	}
	if errors.Is(err, fs.ErrorIsDir) || errors.Is(err, fs.ErrorNotAFile) {
		err = fmt.Errorf("%w: %w", fs.ErrorObjectNotFound, err)
	}
	return o, r.wrap(op, p, err)
}

// Open opens the file at p for reading. Errors while reading are wrapped
// like the others, so backends.IsRetryable can judge them.
func (r *Replica) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	ctx = r.with(ctx)
	o, err := r.object(ctx, "open", p)
	if err != nil {
		return nil, err
	}
	rc, err := o.Open(ctx)
	if err != nil {
		return nil, r.wrap("open", p, err)
	}
	return &reader{rc: rc, r: r, path: p, o: o, ctx: ctx}, nil
}

type reader struct {
	rc   io.ReadCloser
	r    *Replica
	path string
	o    fs.Object
	ctx  context.Context
}

var _ backends.OpenedModTime = (*reader)(nil)

// ModTime returns, on S3, the modification time rclone stored with the
// object, which the listing does not carry and the GET's answer does: the
// object read it from there, so this makes no request.
func (rd *reader) ModTime() (time.Time, bool) {
	if rd.r.caps.ListModTime || fs.Type(rd.r.f) != "s3" {
		return time.Time{}, false
	}
	return rd.o.ModTime(rd.ctx), true
}

func (rd *reader) Read(b []byte) (int, error) {
	n, err := rd.rc.Read(b)
	if err != nil && err != io.EOF {
		err = rd.r.wrap("read", rd.path, err)
	}
	return n, err
}

func (rd *reader) Close() error { return rd.r.wrap("close", rd.path, rd.rc.Close()) }

// Put writes in to p. Where the backend would show a partly written file
// (local disks, SFTP, ...), it writes to a temporary name beside p and
// renames it into place, removing it on failure; object stores and WebDAV
// only show a file once it is whole. A source of unknown size is streamed
// where the backend can, else spooled to a local temporary file first.
//
// A hash given in src (src.Hash of kind src.HashKind) goes to rclone with
// the upload, for the backend to check where it can: S3 sends it as
// Content-MD5, so the server refuses a body that does not match, cut short
// or otherwise; ownCloud-style WebDAV as OC-Checksum; B2 as its SHA-1.
// Where the listing carries a hash of that kind, Put also compares the
// uploaded file's with it, before renaming a temporary file into place.
// An object S3 takes in parts (over upload_cutoff) has no MD5 in its ETag;
// rclone keeps the given MD5 in its metadata, which the entry Put returns
// carries and a listing, which would need a HEAD per object for it, does
// not.
func (r *Replica) Put(ctx context.Context, p string, in io.Reader, src backends.Entry) (backends.Entry, error) {
	ctx = r.with(ctx)
	if err := r.checkHidden(ctx, p); err != nil {
		return backends.Entry{}, r.wrap("put", p, err)
	}
	in = ctxReader{ctx: ctx, r: in}
	size := src.Size
	if size < 0 && r.f.Features().PutStream == nil {
		spool, n, err := spoolToTemp(in)
		if err != nil {
			return backends.Entry{}, r.wrap("put", p, err)
		}
		defer func() { _ = spool.Close(); _ = os.Remove(spool.Name()) }()
		in, size = spool, n
	}
	target := p
	if r.partial {
		target = tempName(p)
	}
	kind, sum := srcHash(src)
	var hashes map[hash.Type]string
	if kind != hash.None {
		hashes = map[hash.Type]string{kind: sum}
	}
	info := object.NewStaticObjectInfo(target, timeOrNow(src.ModTime), size, true, hashes, nil)
	o, err := r.upload(ctx, in, info)
	if err == nil && size >= 0 && o.Size() >= 0 && o.Size() != size {
		err = fmt.Errorf("wrote %d bytes, the source said %d", o.Size(), size)
	}
	if err == nil && kind != hash.None && kind == r.listHash {
		// What the listing will say, so no request.
		if got, herr := o.Hash(done, kind); herr == nil && got != "" && got != sum {
			err = fmt.Errorf("the uploaded file's %s is %s, the source's %s", kind, got, sum)
		}
	}
	if err == nil && target != p {
		var moved fs.Object
		moved, err = r.rename(ctx, o, p)
		if err == nil {
			o = moved
		}
	}
	if err == nil && unusualName(p) && fs.Type(r.f) != "local" {
		if err = r.checkListed(ctx, p); err != nil {
			// Leave nothing under a name the next listing would show as
			// a stranger's file.
			err = errors.Join(err, r.remove(context.WithoutCancel(ctx), o))
		}
	}
	if err != nil {
		if target != p {
			err = errors.Join(err, r.removeTemp(ctx, target, o))
		}
		return backends.Entry{}, r.wrap("put", p, err)
	}
	r.wrote()
	return r.entryOf(ctx, o), nil
}

// ErrNameNotKept is the error of a Put whose file the server lists under
// another name than the one it was written to.
var ErrNameNotKept = errors.New("the server does not keep this name, it lists the file under another one: " +
	"rename the file, or leave it out with a filter")

// unusualName reports whether p holds a character outside letters, digits,
// marks, the space and printable ASCII: symbols, control characters and
// rclone's stand-ins for the characters a backend cannot hold (control
// pictures, full-width forms, its quote ‛). Servers have been seen to store
// or list such names changed (versitygw lists "␁" as "\ufffd"), and a name
// that comes back changed looks, to the next run, like a rename on the
// server, which the run would carry over to the user's own file.
func unusualName(p string) bool {
	for _, c := range p {
		switch {
		case c < utf8.RuneSelf && c >= ' ' && c != 0x7f:
		case c >= utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsMark(c)) && c != utf8.RuneError:
		default:
			return true
		}
	}
	return false
}

// checkHidden fails with ErrNameNotKept, before anything is written, when
// an unusual name p already holds a file on a remote that the listing does
// not show under p: another tool's file, which ferry has never seen under
// its name and which a Put would overwrite and then remove. It costs one
// request for an unusual name, and a listing when the file is there.
func (r *Replica) checkHidden(ctx context.Context, p string) error {
	if !unusualName(p) || fs.Type(r.f) == "local" {
		return nil
	}
	if _, err := r.f.NewObject(ctx, p); err != nil {
		return nil // not there (or not readable: the Put will say)
	}
	return r.checkListed(ctx, p)
}

// checkListed lists p's directory and fails with ErrNameNotKept when p is
// not in it. It costs a listing of one directory, which is why Put does it
// only for unusual names.
func (r *Replica) checkListed(ctx context.Context, p string) error {
	dir := path.Dir(p)
	if dir == "." {
		dir = ""
	}
	entries, err := r.f.List(ctx, dir)
	if err != nil {
		return fmt.Errorf("listing %q to check the name was kept: %w", dir, err)
	}
	for _, e := range entries {
		if e.Remote() == p {
			return nil
		}
	}
	return ErrNameNotKept
}

// srcHash returns the hash a Put's source carries, or hash.None when it
// carries none, or none that rclone knows, or one that is not hex of the
// kind's width.
func srcHash(src backends.Entry) (hash.Type, string) {
	var t hash.Type
	if src.Hash == "" || src.HashKind == "" || t.Set(src.HashKind) != nil || t == hash.None {
		return hash.None, ""
	}
	sum := strings.ToLower(src.Hash)
	if _, err := hex.DecodeString(sum); err != nil || len(sum) != hash.Width(t, false) {
		return hash.None, ""
	}
	return t, sum
}

// upload writes in under info.Remote().
func (r *Replica) upload(ctx context.Context, in io.Reader, info *object.StaticObjectInfo) (fs.Object, error) {
	ft := r.f.Features()
	if ft.DuplicateFiles {
		// Google Drive and the like would add a second file of the same
		// name: update the one that is there.
		old, err := r.f.NewObject(ctx, info.Remote())
		if err == nil {
			return old, old.Update(ctx, in, info)
		}
		if !errors.Is(err, fs.ErrorObjectNotFound) {
			return nil, err
		}
	}
	if info.Size() < 0 {
		return ft.PutStream(ctx, in, info)
	}
	return r.f.Put(ctx, in, info)
}

// removeTemp removes a temporary upload, found by name if the failed
// upload did not return it. A temporary file that is not there is fine.
func (r *Replica) removeTemp(ctx context.Context, name string, o fs.Object) error {
	// The upload may have failed because ctx was cancelled; the clean-up
	// must still run.
	ctx = context.WithoutCancel(ctx)
	if o == nil {
		var err error
		o, err = r.f.NewObject(ctx, name)
		if errors.Is(err, fs.ErrorObjectNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("removing temporary file %q: %w", name, err)
		}
	}
	if err := r.remove(ctx, o); err != nil {
		return fmt.Errorf("removing temporary file %q: %w", name, err)
	}
	return nil
}

// remove removes o. A file that is gone when the removal fails was removed:
// by this request, whose answer was lost before rclone retried it and got
// 404, or by someone else; either way the outcome is the one asked for.
func (r *Replica) remove(ctx context.Context, o fs.Object) error {
	err := o.Remove(ctx)
	if err == nil || errors.Is(err, fs.ErrorObjectNotFound) {
		return nil
	}
	if _, serr := r.f.NewObject(ctx, o.Remote()); errors.Is(serr, fs.ErrorObjectNotFound) {
		return nil
	}
	return err
}

// rename renames o to name, replacing a file there. On WebDAV it copies
// and then removes the source: servers built on golang.org/x/net/webdav
// (rclone serve webdav, and many small Go servers) carry out a MOVE whose
// source is gone by first deleting its destination (Overwrite: T) and then
// failing, so a MOVE that is repeated, by rclone's retry after a lost
// answer or by a request that arrives late, deletes the file the first one
// made. A repeated COPY finds its source first: while the source is there
// it copies the same bytes again, once the source is removed it fails with
// nothing changed. The price is that the server copies the bytes instead
// of renaming them.
func (r *Replica) rename(ctx context.Context, o fs.Object, name string) (fs.Object, error) {
	ft := r.f.Features()
	if !r.renameByCopy {
		return ft.Move(ctx, o, name)
	}
	copied, err := ft.Copy(ctx, o, name)
	if err != nil {
		return nil, err
	}
	if err := r.remove(ctx, o); err != nil {
		return nil, fmt.Errorf("copied to %q but could not remove %q: %w", name, o.Remote(), err)
	}
	return copied, nil
}

// spoolToTemp copies in to a local temporary file, to learn its size for a
// backend that must know it before the upload starts. The file is open and
// positioned at its start.
func spoolToTemp(in io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "ferry-spool-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, in)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// ctxReader stops a copy when ctx is cancelled: rclone's local backend,
// for one, reads its source to the end whatever the context says.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// Move renames from to to, replacing a file at to: server-side where the
// backend can (a rename, or S3's copy and delete), else by copying through
// ferry and deleting the source.
func (r *Replica) Move(ctx context.Context, from, to string) (backends.Entry, error) {
	ctx = r.with(ctx)
	src, err := r.object(ctx, "move", from)
	if err != nil {
		return backends.Entry{}, err
	}
	// operations.Move deletes a destination it is given before moving.
	// Where a rename replaces the destination anyway (the backends Put
	// renames into place on, as rclone's own copies do) or a copy does
	// (object stores), it is not given one, so the old file stays until
	// the new one takes its place.
	var moved fs.Object
	if r.renameByCopy {
		// See rename: a repeated MOVE on WebDAV can delete its destination.
		moved, err = r.rename(ctx, src, to)
	} else {
		var dst fs.Object
		if !r.partial && !r.f.Features().BucketBased {
			dst, err = r.f.NewObject(ctx, to)
			if err != nil && !errors.Is(err, fs.ErrorObjectNotFound) {
				return backends.Entry{}, r.wrap("move", to, err)
			}
		}
		moved, err = operations.Move(ctx, r.f, dst, to, src)
	}
	if err != nil {
		return backends.Entry{}, r.wrap("move", from, err)
	}
	r.wrote() // a rename keeps the stamp; a move by copy does not
	if moved == nil {
		if moved, err = r.object(ctx, "move", to); err != nil {
			return backends.Entry{}, err
		}
	}
	if unusualName(to) && fs.Type(r.f) != "local" {
		if err := r.checkListed(ctx, to); err != nil {
			// Put it back where it was, by the name the server did keep.
			back := context.WithoutCancel(ctx)
			var berr error
			if r.renameByCopy {
				_, berr = r.rename(back, moved, from)
			} else {
				_, berr = operations.Move(back, r.f, nil, from, moved)
			}
			if berr != nil {
				err = errors.Join(err, fmt.Errorf("moving it back to %q: %w", from, berr))
			}
			return backends.Entry{}, r.wrap("move", to, err)
		}
	}
	return r.entryOf(ctx, moved), nil
}

// Delete removes the file at p.
func (r *Replica) Delete(ctx context.Context, p string) error {
	ctx = r.with(ctx)
	o, err := r.object(ctx, "delete", p)
	if err != nil {
		return err
	}
	return r.wrap("delete", p, r.remove(ctx, o))
}

// Hash returns the hash of the given kind (as rclone names it: "md5",
// "sha1", ...), lower-case hex. It reads the file on backends that keep no
// hashes (local disks). A kind the backend cannot produce, or a hash the
// backend does not have for this file (an S3 object uploaded in parts by
// another tool), is an error wrapping backends.ErrHashUnsupported.
func (r *Replica) Hash(ctx context.Context, p string, kind string) (string, error) {
	ctx = r.with(ctx)
	var t hash.Type
	if err := t.Set(kind); err != nil || t == hash.None || !r.hashes.Contains(t) {
		return "", r.wrap("hash", p, fmt.Errorf("%w: %q", backends.ErrHashUnsupported, kind))
	}
	o, err := r.object(ctx, "hash", p)
	if err != nil {
		return "", err
	}
	h, err := o.Hash(ctx, t)
	if errors.Is(err, hash.ErrUnsupported) || err == nil && h == "" {
		err = fmt.Errorf("%w: no %s known for this file", backends.ErrHashUnsupported, kind)
	}
	if err != nil {
		return "", r.wrap("hash", p, err)
	}
	return h, nil
}

// Mkdir creates the directory p and its parents. On a replica without
// directories it does nothing: in particular it does not create buckets.
func (r *Replica) Mkdir(ctx context.Context, p string) error {
	if !r.caps.Dirs {
		return nil
	}
	ctx = r.with(ctx)
	if !r.f.Features().IsLocal {
		// rclone's WebDAV backend takes the server's "exists" for
		// success even when a file is in the way, at p or above it.
		for q := p; q != "."; q = path.Dir(q) {
			_, err := r.f.NewObject(ctx, q)
			if err == nil {
				return r.wrap("mkdir", p, fmt.Errorf("%q is a file", q))
			}
			if errors.Is(err, fs.ErrorIsDir) {
				break // so are its parents
			}
		}
	}
	return r.wrap("mkdir", p, r.f.Mkdir(ctx, p))
}

// Rmdir removes the empty directory p. On a replica without directories
// it does nothing.
func (r *Replica) Rmdir(ctx context.Context, p string) error {
	if !r.caps.Dirs {
		return nil
	}
	return r.wrap("rmdir", p, r.f.Rmdir(r.with(ctx), p))
}

// CopyFrom copies srcPath of src to dstPath server-side, when src is a
// Replica of the same rclone remote (same config name and parameters) and
// the backend can copy (S3, WebDAV, Drive, ...). Otherwise it returns an
// error wrapping backends.ErrCannotCopy before changing anything, and the
// caller streams the file through Put.
func (r *Replica) CopyFrom(ctx context.Context, src backends.Replica, srcPath, dstPath string) (backends.Entry, error) {
	ctx = r.with(ctx)
	s, ok := src.(*Replica)
	ft := r.f.Features()
	switch {
	case !ok:
		return backends.Entry{}, r.wrap("copy", dstPath, fmt.Errorf("%w: %s is not an rclone remote", backends.ErrCannotCopy, src))
	case ft.Copy == nil:
		return backends.Entry{}, r.wrap("copy", dstPath, fmt.Errorf("%w: backend has no server-side copy", backends.ErrCannotCopy))
	case !operations.SameConfig(s.f, r.f):
		return backends.Entry{}, r.wrap("copy", dstPath, fmt.Errorf("%w: %s is another remote", backends.ErrCannotCopy, s))
	case ft.DuplicateFiles:
		// A copy would add a second file beside one already at dstPath.
		return backends.Entry{}, r.wrap("copy", dstPath, fmt.Errorf("%w: backend allows duplicate names", backends.ErrCannotCopy))
	}
	o, err := s.object(ctx, "copy", srcPath)
	if err != nil {
		return backends.Entry{}, err
	}
	if fs.FullPath(o) == fspath.JoinRootPath(fs.ConfigString(r.f), dstPath) {
		return r.entryOf(ctx, o), nil // onto itself: nothing to do
	}
	target := dstPath
	if r.partial && !r.renameByCopy {
		// Where the rename would be a second copy (see rename), the copy
		// goes straight to its place: it is made by the server, so no
		// broken connection leaves it half-written.
		target = tempName(dstPath)
	}
	copied, err := ft.Copy(ctx, o, target)
	if errors.Is(err, fs.ErrorCantCopy) {
		return backends.Entry{}, r.wrap("copy", dstPath, fmt.Errorf("%w: %w", backends.ErrCannotCopy, err))
	}
	if err == nil && target != dstPath {
		var moved fs.Object
		moved, err = r.rename(ctx, copied, dstPath)
		if err == nil {
			copied = moved
		}
	}
	if err != nil {
		if target != dstPath {
			err = errors.Join(err, r.removeTemp(ctx, target, copied))
		}
		return backends.Entry{}, r.wrap("copy", dstPath, err)
	}
	r.wrote()
	if unusualName(dstPath) && fs.Type(r.f) != "local" {
		if err := r.checkListed(ctx, dstPath); err != nil {
			return backends.Entry{}, r.wrap("copy", dstPath, errors.Join(err, r.remove(context.WithoutCancel(ctx), copied)))
		}
	}
	return r.entryOf(ctx, copied), nil
}
