package mem

import (
	"fmt"
	"strings"
	"time"
)

// The tree is two maps keyed by path (folded when case-insensitive): files
// and directories. Each directory counts its direct children so that Rmdir
// and NoDirs pruning need no scan. The functions here expect r.mu held.

// key is the map key of path: the path itself, or its lower-case form on a
// case-insensitive replica. Folding rune by rune keeps the slashes in place,
// so parent(key(p)) == key(parent(p)).
func (r *Replica) key(path string) string {
	if r.cfg.caseInsensitive {
		return strings.ToLower(path)
	}
	return path
}

// display is the name path is stored under: on a case-insensitive replica,
// every element that exists already keeps the case it was created with.
func (r *Replica) display(path string) string {
	if !r.cfg.caseInsensitive || path == "" {
		return path
	}
	k := r.key(path)
	if f := r.files[k]; f != nil {
		return f.path
	}
	if d := r.dirs[k]; d != nil {
		return d.path
	}
	return join(r.display(parent(path)), base(path))
}

// store writes a file, creating its parents, and returns it. It checks
// everything that can fail before it changes anything.
func (r *Replica) store(path string, data []byte, modTime time.Time) (*file, error) {
	k := r.key(path)
	if r.dirs[k] != nil {
		return nil, errIsDir
	}
	f := &file{data: data, modTime: r.stamp(modTime)}
	if r.cfg.listHash != "" {
		f.listHash = sum(r.cfg.listHash, data)
	}
	if old := r.files[k]; old != nil {
		f.path = old.path
		r.files[k] = f
		return f, nil
	}
	if err := r.mkdirAll(parent(path)); err != nil {
		return nil, err
	}
	f.path = r.display(path)
	r.files[k] = f
	r.addChild(parent(k))
	return f, nil
}

// mkdirAll creates directory path and its parents; "" is the root, which
// always exists. Every level is checked before any is created, so a file in
// the way leaves the tree unchanged.
func (r *Replica) mkdirAll(path string) error {
	if path == "" {
		return nil
	}
	k := r.key(path)
	if r.dirs[k] != nil {
		return nil
	}
	if r.files[k] != nil {
		return fmt.Errorf("%s is a file: %w", path, errNotDir)
	}
	if err := r.mkdirAll(parent(path)); err != nil {
		return err
	}
	r.dirs[k] = &dir{path: r.display(path)}
	r.addChild(parent(k))
	return nil
}

func (r *Replica) addChild(dirKey string) {
	if dirKey != "" {
		r.dirs[dirKey].children++
	}
}

// removeChild accounts for an entry gone from dirKey; with NoDirs a directory
// left empty goes too, and so on up.
func (r *Replica) removeChild(dirKey string) {
	if dirKey == "" {
		return
	}
	d := r.dirs[dirKey]
	d.children--
	if d.children == 0 && r.cfg.noDirs {
		delete(r.dirs, dirKey)
		r.removeChild(parent(dirKey))
	}
}
