package rclonefs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/fserrors"
	"golang.org/x/sys/unix"
)

// The fast listing of local folders reads linux_dirent64 records itself;
// other platforms list through rclone (list_local_other.go).
const localListSupported = true

// Offsets in a linux_dirent64 record (getdents64(2)).
const (
	direntIno    = int(unsafe.Offsetof(unix.Dirent{}.Ino))
	direntReclen = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	direntName   = int(unsafe.Offsetof(unix.Dirent{}.Name))
)

// dirReader is one worker's buffers, reused from one directory to the next.
type dirReader struct {
	buf []byte // getdents
	st  unix.Stat_t
	// entries collects a directory's entries, of which the dirNode gets
	// a copy of the right size, allocated once: the node holds it until
	// the caller has reported them.
	entries []backends.Entry
}

func newDirReader() *dirReader {
	// As os.File.ReadDir's buffer, times four: fewer calls for big
	// directories.
	return &dirReader{buf: make([]byte, 32<<10)}
}

// lstatDevice is the device of the file at p, as the local backend reads
// it for --one-file-system.
func lstatDevice(p string) (uint64, bool) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Lstat(p, &st) }); err != nil {
		return 0, false
	}
	return uint64(st.Dev), true //nolint:unconvert // not uint64 everywhere
}

// read lists the directory n as the local backend's List does, step by step
// (rclone's backend/local/local.go, v1.76): stat the directory, open it,
// read its names, lstat each; n.entries and n.subdirs are set, sorted. A
// directory it may not open is logged and counted in the stats and lists
// empty; an entry it cannot lstat likewise, and is left out; one that
// vanished is left out silently. Any other failure is returned and ends
// the listing, and so do two names that are one path (sortDir).
func (rd *dirReader) read(w *localWalk, n *dirNode) (err error) {
	if err := ignoringEINTR(func() error { return unix.Stat(n.osPath, &rd.st) }); err != nil {
		return fs.ErrorDirNotFound
	}
	d, err := os.Open(n.osPath)
	if err != nil {
		isPerm := os.IsPermission(err)
		err = fmt.Errorf("failed to open directory %q: %w", n.remote, err)
		fs.Errorf(n.remote, "%v", err)
		if isPerm {
			w.statsError(fserrors.NoRetryError(err))
			return nil
		}
		return err
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("failed to close directory %q:: %w", n.remote, cerr)
		}
	}()
	rc, err := d.SyscallConn()
	if err != nil {
		return fmt.Errorf("failed to read directory entry: %w", err)
	}
	listed := 0
	cerr := rc.Control(func(fd uintptr) {
		listed, err = rd.readFd(w, n, int(fd))
	})
	if err == nil {
		err = cerr
	}
	if err == nil {
		n.entries = slices.Clone(rd.entries)
	}
	clear(rd.entries) // else they keep n's paths alive after n is reported
	rd.entries = rd.entries[:0]
	if err != nil {
		n.subdirs = nil
		return err
	}
	accounting.Stats(w.ctx).Listed(int64(listed))
	if err := sortDir(n); err != nil {
		n.entries, n.subdirs = nil, nil
		return err
	}
	return nil
}

// readFd reads the open directory n. listed counts the entries the local
// backend's List would return (the walk counts them in the stats).
func (rd *dirReader) readFd(w *localWalk, n *dirNode, fd int) (listed int, err error) {
	for {
		if err := w.ctx.Err(); err != nil {
			return 0, err
		}
		var nb int
		err := ignoringEINTR(func() (err error) {
			nb, err = unix.ReadDirent(fd, rd.buf)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("failed to read directory entry: %w", &os.PathError{Op: "readdirent", Path: n.osPath, Err: err})
		}
		if nb <= 0 {
			return listed, nil
		}
		for b := rd.buf[:nb]; len(b) > 0; {
			reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
			rec := b[:reclen]
			b = b[reclen:]
			if binary.NativeEndian.Uint64(rec[direntIno:]) == 0 {
				continue // deleted, as os.File.ReadDir skips it
			}
			name := rec[direntName:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if string(name) == "." || string(name) == ".." {
				continue
			}
			ok, err := rd.entry(w, n, fd, name)
			if err != nil {
				return 0, err
			}
			if ok {
				listed++
			}
		}
	}
}

// entry lstats the entry called name of the open directory n and adds it
// to rd.entries, and a directory to n.subdirs, as the local backend would;
// ok reports that the backend's List would have returned it.
func (rd *dirReader) entry(w *localWalk, n *dirNode, fd int, name []byte) (ok bool, err error) {
	plain := isPlain(name)
	var remote, osName string
	if plain {
		// The only allocation for most entries: the path, which
		// holds the name to stat.
		remote = joinPlain(n.remote, name)
		osName = remote[len(remote)-len(name):]
	} else {
		osName = string(name)
	}
	st := &rd.st
	err = ignoringEINTR(func() error { return unix.Fstatat(fd, osName, st, unix.AT_SYMLINK_NOFOLLOW) })
	if errors.Is(err, unix.ENOENT) {
		return false, nil // removed since the directory was read
	}
	if err != nil {
		namepath := filepath.Join(n.osPath, osName)
		err = fmt.Errorf("failed to get info about directory entry %q: %w", namepath, &os.PathError{Op: "lstat", Path: namepath, Err: err})
		fs.Errorf(n.remote, "%v", err)
		w.statsError(fserrors.NoRetryError(err))
		return false, nil
	}
	if !plain {
		remote = w.remoteOf(n.remote, osName, false)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if w.l.oneFileSystem && uint64(st.Dev) != w.rootDev { //nolint:unconvert
			return false, nil // another file system: not listed
		}
		n.subdirs = append(n.subdirs, &dirNode{
			remote: remote,
			osPath: w.osPathOf(n.osPath, remote, plain),
			done:   make(chan struct{}),
		})
		if w.r.caps.Dirs {
			rd.entries = append(rd.entries, backends.Entry{Path: remote, Dir: true})
		}
		return true, nil
	case unix.S_IFLNK:
		if !w.l.skipLinks {
			fs.Logf(remote, "Can't follow symlink without -L/--copy-links")
		}
		return false, nil
	case unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFBLK, unix.S_IFCHR:
		if !w.l.skipSpecials {
			fs.Logf(remote, "Can't transfer non file/directory")
		}
		return false, nil
	}
	// A regular file, or a type Go's os package does not know, which it
	// reports as one.
	if isTempName(path.Base(remote)) {
		w.r.sawTemp(remote, time.Now())
		return true, nil
	}
	e := backends.Entry{Path: remote, Size: st.Size}
	if w.r.caps.ListModTime {
		e.ModTime = time.Unix(st.Mtim.Unix()).UTC()
		if e.ModTime.IsZero() {
			e.ModTime = time.Unix(0, 0).UTC() // as entryOf
		}
	}
	rd.entries = append(rd.entries, e)
	return true, nil
}

// joinPlain is w.remoteOf(dir, string(name), true), in one allocation.
func joinPlain(dir string, name []byte) string {
	var b strings.Builder
	if dir == "" {
		b.Grow(len(name))
	} else {
		b.Grow(len(dir) + 1 + len(name))
		b.WriteString(dir)
		b.WriteByte('/')
	}
	b.Write(name)
	return b.String()
}

// ignoringEINTR retries fn while a signal interrupts it, as package os
// does for the same calls.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if err != unix.EINTR {
			return err
		}
	}
}
