package rclonefs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/filter"
	"github.com/rclone/rclone/fs/fspath"
	"github.com/rclone/rclone/fs/hash"
)

// Replica is one rclone remote as a backends.Replica. It is safe for
// concurrent use.
type Replica struct {
	f    fs.Fs
	name string // canonical, secret-free
	// ci is the rclone configuration Open was given, put back into the
	// contexts of later calls: the engine passes its own contexts, and
	// rclone reads its configuration from them.
	ci *fs.ConfigInfo
	// fi is the rclone filter Open's context carried, likewise put
	// back: whether a listing may take the fast path, and so comes
	// sorted (Caps.ListSorted), depends on it, and is settled at Open.
	fi       *filter.Filter
	caps     backends.Caps
	listHash hash.Type // the kind of Caps.ListHash, or hash.None
	hashes   hash.Set  // the kinds of Caps.Hashes
	// partial is set when a failed or unfinished upload could be seen
	// under the file's name, and the backend can rename: then Put writes
	// to a temporary name and renames it into place. See Open.
	partial bool
	// renameByCopy is set on WebDAV, where a rename is a COPY and a
	// DELETE of the source rather than a MOVE; see rename.
	renameByCopy bool
	// stamped is set when the listed modtimes are the server's stamps of
	// the last write (ListModTime without SetModTime); lastWrite is then
	// when this replica last wrote a file, for Settle.
	stamped   bool
	writeMu   sync.Mutex
	lastWrite time.Time
	// stale are the old temporary files the last List saw (temps.go).
	stale staleTemps
	// local lists a local folder faster than rclone's walk; nil when
	// List must use the walk (see newLocalLister).
	local *localLister
}

var (
	_ backends.Replica = (*Replica)(nil)
	_ backends.Copier  = (*Replica)(nil)
	_ backends.Settler = (*Replica)(nil)
)

// Open opens remote, anything rclone accepts: a local path, "name:path"
// with name from the config file or RCLONE_CONFIG_<NAME>_* variables, or a
// connection string (":backend,param=value:path"). ctx must come from
// Setup.
//
// A root that does not exist yet is fine: it lists empty, and Put creates
// it. Errors describing an unusable remote wrap ErrRemote.
func Open(ctx context.Context, remote string) (*Replica, error) {
	if !setupDone.Load() {
		return nil, errors.New("rclonefs: Open called before Setup")
	}
	parsed, err := fspath.Parse(remote)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a valid rclone remote: %v", ErrRemote, shortRemote(remote), err)
	}
	info, _, _, _, err := fs.ParseRemote(remote)
	if errors.Is(err, fs.ErrorNotFoundInConfigFile) {
		return nil, fmt.Errorf("%w: remote %q is not defined in the rclone config file %s, nor by %s in the environment",
			ErrRemote, parsed.Name, configFileDesc(), fs.ConfigToEnv(parsed.Name, "type"))
	}
	if err != nil {
		// Most likely ":nosuchbackend:".
		return nil, fmt.Errorf("%w: %s: %v", ErrRemote, shortRemote(remote), err)
	}
	// Before rclone sees the string: learn its secrets so that its log
	// lines about it are redacted.
	early := sanitizeRemote(remote)

	f, err := fs.NewFs(ctx, remote)
	if errors.Is(err, fs.ErrorIsFile) {
		return nil, fmt.Errorf("%w: %s is a file; ferry syncs folders, so give the folder that holds it", ErrRemote, early)
	}
	if err != nil {
		var kind error
		if errors.Is(err, fs.ErrorNotFoundInConfigFile) {
			kind = ErrRemote // a remote that names an undefined one (alias, crypt)
		}
		return nil, &opError{Op: "open", Remote: early, Kind: kind, Err: err}
	}
	r := &Replica{
		f:    f,
		name: canonicalName(parsed, info, rootOf(parsed, info, f)),
		ci:   fs.GetConfig(ctx),
		fi:   filter.GetConfig(ctx),
	}
	r.caps, r.listHash = capsOf(f)
	r.stamped = r.caps.ListModTime && !r.caps.SetModTime
	for _, k := range r.caps.Hashes {
		var t hash.Type
		if t.Set(k) == nil {
			r.hashes.Add(t)
		}
	}
	ft := f.Features()
	// rclone marks the backends that write in place (local disks, SFTP,
	// FTP, SMB) with PartialUploads. WebDAV is not marked, since many
	// servers only show an upload once it is whole, but rclone's WebDAV
	// backend deletes the file when an upload fails, old content and all,
	// and some servers (golang.org/x/net/webdav) do write in place.
	r.partial = ft.Move != nil && (ft.PartialUploads || fs.Type(f) == "webdav")
	r.renameByCopy = fs.Type(f) == "webdav" && ft.Copy != nil
	if r.listHash == hash.None { // the fast listing never hashes
		r.local = newLocalLister(ctx, remote, f)
	}
	// rclone's walk lists in whatever order its directory reads end.
	r.caps.ListSorted = r.local != nil
	return r, nil
}

// rootOf is the root as the replica's name gives it: for the local
// backend the absolute path it opened; else the path as written, cleaned,
// since a wrapping backend (alias, crypt) may report the root of what it
// wraps.
func rootOf(parsed fspath.Parsed, info *fs.RegInfo, f fs.Fs) string {
	if info.Name == "local" {
		// rclone's local backend keeps a relative root relative; the
		// name must not depend on the directory ferry runs in.
		if abs, err := filepath.Abs(f.Root()); err == nil {
			return abs
		}
		return f.Root()
	}
	if parsed.Path == "" {
		return ""
	}
	return path.Clean(parsed.Path)
}

// String returns the canonical name of the replica: for a local path the
// absolute, cleaned path; for a remote its name (or ":backend" and the
// connection string's parameters that cannot be secret, sorted), ":" and
// the path as written, cleaned. It never holds a password, key,
// token or URL userinfo, so it can be printed and stored.
func (r *Replica) String() string { return r.name }

// Caps reports what the backend can tell and do; see capsOf.
func (r *Replica) Caps() backends.Caps {
	c := r.caps
	c.Hashes = slices.Clone(c.Hashes)
	return c
}

// capsOf derives a Replica's Caps from rclone's description of the backend.
func capsOf(f fs.Fs) (backends.Caps, hash.Type) {
	ft := f.Features()
	c := backends.Caps{
		CaseInsensitive: ft.CaseInsensitive,
		Dirs:            ft.CanHaveEmptyDirectories,
	}
	// The Go type of the backend, not the name the remote was given:
	// a remote from rclone.conf, an RCLONE_CONFIG_<NAME>_* one and an
	// alias of either are all "webdav" here.
	webdav := fs.Type(f) == "webdav"
	// rclone's precision doubles as "can set modtimes": a backend that
	// cannot keep the source's time reports ModTimeNotSupported.
	switch p := f.Precision(); {
	case p > 0 && p != fs.ModTimeNotSupported:
		c.Precision = p
		c.SetModTime = true
		// S3 keeps the source's time in metadata that costs a HEAD
		// per object; such backends set SlowModTime.
		c.ListModTime = !ft.SlowModTime
	case webdav:
		// WebDAV without a vendor that sets times (vendor other: Apache,
		// nginx; SharePoint): every server lists getlastmodified, to the
		// second (RFC 1123), and rclone reports it as the modtime. It is
		// the time of the upload, not the source's, so it is a
		// fingerprint only: it changes when the file is written, and
		// ferry compares it with this side's own history, never with the
		// other side. An edit that keeps the size within the second of
		// the last upload is not seen (docs/backends.md).
		c.Precision = time.Second
		c.ListModTime = true
	}
	set := f.Hashes()
	if webdav {
		// rclone's WebDAV hashes are the checksums the server lists
		// (oc:checksums), never computed; each vendor preset claims
		// every kind that vendor may send (owncloud: MD5 and SHA-1), but
		// a server sends what it is set up to send (rclone serve
		// --etag-hash MD5: MD5 only). Trust one kind, the one read from
		// the listing: MD5 for owncloud, which both ownCloud and rclone
		// serve --etag-hash MD5 give; SHA-1 for nextcloud, fastmail and
		// infinitescale, the only kind rclone reads from them.
		set = webdavHashes(set)
	}
	// md5 and sha1 first: the kinds most backends share, so
	// backends.CommonHash finds one.
	for _, t := range []hash.Type{hash.MD5, hash.SHA1} {
		if set.Contains(t) {
			c.Hashes = append(c.Hashes, t.String())
		}
	}
	for _, t := range set.Array() {
		if t != hash.MD5 && t != hash.SHA1 {
			c.Hashes = append(c.Hashes, t.String())
		}
	}
	listHash := hash.None
	if !ft.SlowHash { // local, SFTP: hashing reads the file
		switch {
		case set.Contains(hash.MD5):
			listHash = hash.MD5
		case set.Contains(hash.SHA1):
			listHash = hash.SHA1
		}
	}
	if listHash != hash.None {
		c.ListHash = listHash.String()
	}
	return c, listHash
}

// webdavHashes keeps the one kind of set that a WebDAV replica trusts: MD5
// if rclone claims it, else SHA-1, else none.
func webdavHashes(set hash.Set) hash.Set {
	for _, t := range []hash.Type{hash.MD5, hash.SHA1} {
		if set.Contains(t) {
			return hash.NewHashSet(t)
		}
	}
	return hash.NewHashSet()
}

// maxSettle bounds Settle's wait, whatever precision a backend claims.
const maxSettle = 5 * time.Second

// wrote notes a write that the server stamped with its own time.
func (r *Replica) wrote() {
	if !r.stamped {
		return
	}
	r.writeMu.Lock()
	r.lastWrite = time.Now()
	r.writeMu.Unlock()
}

// Settle waits, on a replica that stamps its own modtimes (Apache's
// WebDAV: the upload time, to the second), until a precision has passed
// since its last write, so that any later write gets a later stamp than
// the ones the engine is about to record. Elapsed time on ferry's clock is
// elapsed time on the server's, whatever their offset. Other replicas, and
// one that wrote nothing, return at once.
func (r *Replica) Settle(ctx context.Context) {
	r.writeMu.Lock()
	last := r.lastWrite
	r.writeMu.Unlock()
	if last.IsZero() {
		return
	}
	wait := min(r.caps.Precision, maxSettle) - time.Since(last)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// with returns ctx carrying the rclone configuration and filters the
// replica was opened with.
func (r *Replica) with(ctx context.Context) context.Context {
	if fs.GetConfig(ctx) != r.ci {
		var ci *fs.ConfigInfo
		ctx, ci = fs.AddConfig(ctx)
		*ci = *r.ci
	}
	if filter.GetConfig(ctx) != r.fi {
		ctx = filter.ReplaceConfig(ctx, r.fi)
	}
	return ctx
}

// done is a context that is already cancelled. Asking an object for its
// hash with it can only be answered from what the object already holds
// (what the listing gave), never with a request: that is how List keeps
// S3's multipart objects, whose ETag is no MD5, from costing a HEAD each.
var done = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// entryOf reports o as List does, with only what costs no request.
func (r *Replica) entryOf(ctx context.Context, o fs.Object) backends.Entry {
	e := backends.Entry{Path: o.Remote(), Size: o.Size()}
	if r.caps.ListModTime {
		e.ModTime = o.ModTime(ctx).UTC()
		if e.ModTime.IsZero() {
			// A server that lists no time for this file (golang.org/x/net/
			// webdav for an empty one): the epoch, as rclone's WebDAV
			// reports an empty time, which the engine takes as unknown.
			e.ModTime = time.Unix(0, 0).UTC()
		}
	}
	if r.listHash != hash.None {
		if h, err := o.Hash(done, r.listHash); err == nil {
			e.Hash = h
		}
	}
	return e
}

// timeOrNow is the modification time to give an upload whose source has
// none.
func timeOrNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
