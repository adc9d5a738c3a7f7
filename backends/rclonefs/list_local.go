package rclonefs

// A faster listing of local folders. Listing through rclone's local backend
// costs, for every entry, an lstat by path, an rclone Object, its path
// joined, cleaned and encoded twice, and a sort of fs.DirEntries; on a
// no-change run of a local pair that was most of ferry's CPU time
// (docs/performance.md). localLister lists the same tree itself: one
// getdents buffer and one fstatat relative to the open directory per entry,
// several directories at once, names passed through rclone's encoder only
// when they hold a byte it might change.
//
// It must report exactly what the rclone walk reports (same paths after the
// local backend's name encoding, sizes, modtimes, directories; the same
// entries skipped with the same notices; the same failures, counted in the
// listing's stats group as the backend counts them), so it is only used for
// the plain local backend with options whose effect on a listing it
// reproduces. Anything else, or anything it cannot be sure of, falls back
// to the rclone walk: see newLocalLister. The equivalence tests in
// list_local_test.go compare both on trees built to hit every case.
//
// Unlike the walk, it reports the files in increasing order of Path, each
// once (each directory's entries sorted, each subtree where its "dir/"
// prefix sorts), which costs a sort of each directory and lets the engine
// join the listing with the history as it arrives (Caps.ListSorted). The
// one failure the walk does not have follows from that: two names in one
// directory that the encoding (or unicode normalization) maps to one path
// end the listing, where the walk reports the path twice (and the subtree
// of such a directory twice, which no order could keep sorted).
//
// Workers read directories ahead of the caller, but only about maxAhead
// entries ahead: once the engine streams a listing, what is read and not
// yet reported is most of the memory the listing costs.

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/backend/local"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/config/configstruct"
	"github.com/rclone/rclone/fs/filter"
	"github.com/rclone/rclone/lib/encoder"
	"golang.org/x/text/unicode/norm"
)

// localLister is what a fast listing of one local replica needs to know,
// settled when the replica is opened.
type localLister struct {
	f      fs.Fs  // for log lines, which rclone attributes to the Fs
	osRoot string // the root as the local backend uses it (an OS path)
	enc    encoder.MultiEncoder
	// maxAhead bounds the read-ahead: see localWalk.ahead.
	maxAhead int
	// Options of the local backend that change what a listing reports
	// or logs; every other one is at its default or has no effect on a
	// listing (see newLocalLister).
	utfNorm, oneFileSystem, skipLinks, skipSpecials bool
}

// newLocalLister returns a localLister for f, opened from remote, or nil
// when listings of f must go through the rclone walk: f is not the local
// backend itself (an alias or crypt of a local path is not), the platform
// has no fast listing, or one of its options changes a listing in a way
// localLister does not reproduce (-L/--copy-links, -l/--links, a time type
// other than mtime, an encoding other than the default), or rclone's
// filters are active in ctx (ferry never sets them, but RCLONE_* variables
// can; the Replica keeps ctx's filters for its later calls). The options
// are read as rclone's NewFs reads them for remote: connection string, the
// remote's RCLONE_CONFIG_* variables, RCLONE_LOCAL_* variables, the
// config file, defaults.
func newLocalLister(ctx context.Context, remote string, f fs.Fs) *localLister {
	if !localListSupported || !filter.GetConfig(ctx).InActive() {
		return nil
	}
	if _, ok := f.(*local.Fs); !ok {
		return nil
	}
	info, configName, fsPath, conn, err := fs.ParseRemote(remote)
	if err != nil || info.Name != "local" {
		return nil
	}
	for k := range conn {
		// override.* and global.* change the rclone config NewFs saw
		// (override.links is --links); not worth reproducing.
		if strings.HasPrefix(k, "override.") || strings.HasPrefix(k, "global.") {
			return nil
		}
	}
	if fs.GetConfig(ctx).Links {
		return nil // --links: the backend translates symlinks
	}
	var opt local.Options
	m := fs.ConfigMap(info.Prefix, info.Options, configName, conn)
	if err := configstruct.Set(m, &opt); err != nil {
		return nil
	}
	var defaults local.Options
	if opt.FollowSymlinks || opt.TranslateSymlinks || opt.TimeType != defaults.TimeType || opt.Enc != encoder.OS {
		return nil
	}
	osRoot, ok := localRoot(fsPath, opt.Enc, f.Root())
	if !ok {
		return nil
	}
	// The rest: nounc (Windows), no_check_updated (only after an
	// object's first stat), case_(in)sensitive (a feature flag), hashes
	// (not listed: hashing reads the file), and the options of writes.
	return &localLister{
		f:             f,
		osRoot:        osRoot,
		enc:           opt.Enc,
		maxAhead:      maxAhead,
		utfNorm:       opt.UTFNorm,
		oneFileSystem: opt.OneFileSystem,
		skipLinks:     opt.SkipSymlinks,
		skipSpecials:  opt.SkipSpecials,
	}
}

// localRoot is the OS path rclone's local backend made of fsPath (its
// cleanRootPath, for the platforms with a fast listing), checked against
// root, what the backend reports as its root; ok is false when they
// disagree.
func localRoot(fsPath string, enc encoder.MultiEncoder, root string) (string, bool) {
	if runtime.GOOS == "windows" {
		return "", false
	}
	parts := strings.Split(fsPath, "/")
	for i, p := range parts {
		if p != "." && p != ".." {
			parts[i] = enc.FromStandardName(p)
		}
	}
	osRoot := filepath.Clean(filepath.FromSlash(strings.Join(parts, "/")))
	if enc.ToStandardPath(filepath.ToSlash(osRoot)) != root {
		return "", false
	}
	return osRoot, true
}

// maxAhead bounds how far a listing reads ahead of the caller, in entries
// (see localWalk.ahead): thousands, to keep the workers busy while the
// caller catches up, and at about 150 bytes each, well under a megabyte.
const maxAhead = 4096

// dirNode is one directory of a listing: read by a worker, then reported
// by the caller's goroutine.
type dirNode struct {
	remote string // the directory as the walk names it, "" for the root
	osPath string // where the local backend reads it
	done   chan struct{}
	taken  bool // a worker has it (guarded by localWalk.mu)
	// Set before done is closed:
	entries []backends.Entry // files and directories, sorted by Path
	subdirs []*dirNode       // sorted by remote+"/"
}

// held is what n counts for in localWalk.ahead once read.
func (n *dirNode) held() int { return len(n.entries) + len(n.subdirs) }

// localWalk is one listing in progress.
type localWalk struct {
	l       *localLister
	r       *Replica
	ctx     context.Context // cancelled when the listing ends
	rootDev uint64          // the root's device, for --one-file-system

	mu   sync.Mutex
	cond *sync.Cond // for workers: todo grew, ahead fell, want was set, or closed
	// todo is a stack, the children of the last directory read on top:
	// roughly the order the caller reports them in. A directory taken
	// out of turn (want) stays in it, taken, until it is popped.
	todo []*dirNode
	// ahead is what the directories read and not yet reached by the
	// caller hold (dirNode.held): the read-ahead. Workers take no
	// directory from todo while it is l.maxAhead or more; one that took
	// a directory below it may still end above it, by a directory.
	ahead int
	// want is the directory the caller waits for. Workers take it
	// first, whatever the read-ahead: the caller reports nothing more
	// until it is read, so waiting for the read-ahead to fall would be
	// waiting for ever.
	want    *dirNode
	closed  bool
	failed  chan struct{} // closed with err set, on the first failure
	err     error
	warned  map[string]bool // names with invalid UTF-8 already logged
	workers sync.WaitGroup
}

// list calls fn for every entry under the root, from the caller's
// goroutine, in sorted order of Path. rootListed reports that the root
// exists as a directory: an fs.ErrorDirNotFound is then about a directory
// under it, which must fail the listing (not make it empty).
func (l *localLister) list(ctx context.Context, r *Replica, fn func(backends.Entry) error) (rootListed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &localWalk{l: l, r: r, ctx: ctx, failed: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	defer func() {
		cancel()
		w.mu.Lock()
		w.closed = true
		w.cond.Broadcast()
		w.mu.Unlock()
		w.workers.Wait()
	}()
	root := &dirNode{osPath: l.osRoot, done: make(chan struct{})}
	if _, err := os.Stat(root.osPath); err != nil {
		// As the local backend's List of the root: the caller tells a
		// missing root from a broken one.
		return false, w.listingError("", fs.ErrorDirNotFound)
	}
	if l.oneFileSystem {
		dev, ok := lstatDevice(l.osRoot)
		if !ok {
			// The backend keeps "unset", which no directory matches.
			dev = devUnset
		}
		w.rootDev = dev
	}
	w.todo = append(w.todo, root)
	// Directory reads block on the disk; rclone's --checkers (8 by
	// default) bounds how many run at once, as for its own walk.
	n := max(1, fs.GetConfig(ctx).Checkers)
	for range n {
		w.workers.Go(w.work)
	}
	return true, w.emit(root, fn)
}

// devUnset is what the local backend keeps as the root's device when it
// could not lstat the root.
const devUnset = 0xdeadbeefcafebabe

// work reads directories until the listing ends.
func (w *localWalk) work() {
	rd := newDirReader()
	for {
		n := w.next()
		if n == nil {
			return
		}
		if w.ctx.Err() != nil {
			close(n.done) // nobody waits for it any more
			continue
		}
		if err := rd.read(w, n); err != nil {
			if w.ctx.Err() == nil {
				err = w.listingError(n.remote, err)
			} // else the listing is over: nothing to tell
			w.fail(err)
		}
		w.mu.Lock()
		w.ahead += n.held()
		if len(n.subdirs) > 0 {
			// First subdirectory on top: the next the caller
			// reports.
			for i := len(n.subdirs) - 1; i >= 0; i-- {
				w.todo = append(w.todo, n.subdirs[i])
			}
			w.cond.Broadcast()
		}
		w.mu.Unlock()
		close(n.done) // n is the caller's from here on
	}
}

// next waits for a directory to read and takes it, or returns nil when
// the listing is over.
func (w *localWalk) next() *dirNode {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.closed {
		if n := w.want; n != nil && !n.taken {
			n.taken = true
			return n
		}
		for w.ahead < w.l.maxAhead && len(w.todo) > 0 {
			n := w.todo[len(w.todo)-1]
			w.todo = w.todo[:len(w.todo)-1]
			if !n.taken {
				n.taken = true
				return n
			}
		}
		w.cond.Wait()
	}
	return nil
}

// listingError logs and counts err, which ends the listing in the
// directory dir, as rclone's walk does.
func (w *localWalk) listingError(dir string, err error) error {
	err = fs.CountError(w.ctx, err)
	fs.ErrorfCtx(w.ctx, dir, "error listing: %v", err)
	return err
}

// fail ends the listing with err, unless it already failed.
func (w *localWalk) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
		close(w.failed)
	}
}

// emit reports n and everything under it, in sorted order of Path: an
// entry of n comes before the subtree of a directory "d" of n exactly when
// its path sorts before "d/".
func (w *localWalk) emit(n *dirNode, fn func(backends.Entry) error) error {
	if err := w.await(n); err != nil {
		return err
	}
	j := 0
	for i := range n.entries {
		e := &n.entries[i]
		for j < len(n.subdirs) && !beforeSubtree(e.Path, n.subdirs[j].remote) {
			if err := w.emit(n.subdirs[j], fn); err != nil {
				return err
			}
			j++
		}
		if err := fn(*e); err != nil {
			return w.listingError(n.remote, err)
		}
	}
	for ; j < len(n.subdirs); j++ {
		if err := w.emit(n.subdirs[j], fn); err != nil {
			return err
		}
	}
	n.entries, n.subdirs = nil, nil // reported: let them go
	return nil
}

// await waits until n is read, and takes it out of the read-ahead.
func (w *localWalk) await(n *dirNode) error {
	select {
	case <-n.done:
	default:
		w.mu.Lock()
		w.want = n
		w.cond.Broadcast()
		w.mu.Unlock()
		select {
		case <-n.done:
		case <-w.failed:
		case <-w.ctx.Done():
		}
	}
	// A failure anywhere ends the listing, as in rclone's walk, whether
	// or not the failed directory was reported yet.
	select {
	case <-w.failed:
		return w.err
	default:
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	w.want = nil
	full := w.ahead >= w.l.maxAhead
	w.ahead -= n.held()
	if full && w.ahead < w.l.maxAhead {
		w.cond.Broadcast()
	}
	w.mu.Unlock()
	return nil
}

// beforeSubtree reports whether p sorts before dir+"/", without building
// that string. p and dir are entries of the same directory.
func beforeSubtree(p, dir string) bool {
	if len(p) > len(dir) && p[:len(dir)] == dir {
		return p[len(dir)] < '/'
	}
	// p is a prefix of dir (or equal to it), or they differ earlier.
	return p <= dir
}

// sortDir sorts the directory read into n, and fails when two of its files,
// or two of its directories, have one path: names that differ on disk but
// not once rclone's encoding (or unicode normalization) has been applied
// ("‛" and "‛‛" are both "‛‛"). rclone's walk would report that path twice,
// and all the subtree of such a directory twice, which no order keeps
// sorted; the engine cannot sync such names either way.
func sortDir(n *dirNode) error {
	slices.SortFunc(n.entries, func(a, b backends.Entry) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(n.subdirs, compareSubtrees)
	var file string // the last file, "" before the first
	for _, e := range n.entries {
		if e.Dir {
			continue
		}
		if e.Path == file {
			return sameNameError(e.Path)
		}
		file = e.Path
	}
	for i := 1; i < len(n.subdirs); i++ {
		if n.subdirs[i].remote == n.subdirs[i-1].remote {
			return sameNameError(n.subdirs[i].remote)
		}
	}
	return nil
}

func sameNameError(p string) error {
	return fmt.Errorf("two names on disk are both %q in rclone's encoding of local names: rename one of them", p)
}

// compareSubtrees orders directories as their "dir/" prefixes sort.
func compareSubtrees(a, b *dirNode) int {
	x, y := a.remote, b.remote
	n := min(len(x), len(y))
	if c := strings.Compare(x[:n], y[:n]); c != 0 {
		return c
	}
	switch {
	case len(x) == len(y):
		return 0
	case len(x) < len(y):
		return cmpByte('/', y[n])
	default:
		return cmpByte(x[n], '/')
	}
}

func cmpByte(a, b byte) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// remoteOf names the entry called name (as read from the disk) in the
// directory dir (a remote path) as the local backend does: unicode
// normalization if asked for, then the backend's encoding decoded into
// rclone's standard one. plain names, only printable ASCII, are the same
// in every encoding and form.
func (w *localWalk) remoteOf(dir, name string, plain bool) string {
	if plain {
		if dir == "" {
			return name
		}
		return dir + "/" + name
	}
	decoded := name
	if w.l.utfNorm {
		decoded = norm.NFC.String(decoded)
	}
	remote := path.Join(dir, w.l.enc.ToStandardName(decoded))
	if !utf8.ValidString(decoded) {
		w.mu.Lock()
		first := !w.warned[remote]
		if w.warned == nil {
			w.warned = map[string]bool{}
		}
		w.warned[remote] = true
		w.mu.Unlock()
		if first {
			fs.Logf(w.l.f, "Replacing invalid UTF-8 characters in %q", remote)
		}
	}
	return remote
}

// osPathOf is where the local backend reads the directory it names
// remote: its root joined with remote encoded back, which is not always
// where the directory was found (rclone's encoding does not round-trip
// every name, nor does normalization), and the read then fails as the
// backend's does.
func (w *localWalk) osPathOf(parentOS, remote string, plain bool) string {
	name := path.Base(remote)
	if !plain {
		name = w.l.enc.FromStandardName(name)
	}
	return filepath.Join(parentOS, name)
}

// isPlain reports whether name is printable ASCII only. No rclone encoding
// changes such a name on its way to or from the standard encoding (each
// replaces control characters and non-ASCII look-alikes, never these), nor
// does NFC normalization. "." and ".." are never read from a directory.
func isPlain(name []byte) bool {
	for _, c := range name {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// statsError counts err in the listing's stats group as the local backend
// counts a failure it logs and lists past: List reports it at the end.
func (w *localWalk) statsError(err error) {
	_ = accounting.Stats(w.ctx).Error(err)
}
