package mem

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The helpers below stand for what happens to a replica outside ferry (a
// user editing files) and for what a test checks afterwards. They are not
// counted by Calls, and they panic on a misuse because a test that misuses
// them is wrong, not the replica.

// WriteFile stores content at path as a user's edit would, creating parents
// and replacing a file there. mtime is kept (truncated to the precision) even
// with NoSetModTime, because it stands for the time of the edit; a zero mtime
// stamps the clock.
func (r *Replica) WriteFile(path string, content []byte, mtime time.Time) {
	mustPath(path)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.store(path, bytes.Clone(content), mtime); err != nil {
		panic(fmt.Sprintf("mem: WriteFile(%q): %v", path, err))
	}
}

// ReadFile returns a copy of the file's content, or an error wrapping
// backends.ErrNotFound.
func (r *Replica) ReadFile(path string) ([]byte, error) {
	mustPath(path)
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.lookupFile("read", path)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(f.data), nil
}

// Remove deletes the file or the directory tree at path, like os.RemoveAll;
// a path that does not exist is not an error.
func (r *Replica) Remove(path string) {
	mustPath(path)
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.key(path)
	if r.files[k] != nil {
		delete(r.files, k)
		r.removeChild(parent(k))
		return
	}
	if r.dirs[k] == nil {
		return
	}
	// Descendants go without accounting: their directories go with them.
	prefix := k + "/"
	for fk := range r.files {
		if strings.HasPrefix(fk, prefix) {
			delete(r.files, fk)
		}
	}
	for dk := range r.dirs {
		if strings.HasPrefix(dk, prefix) {
			delete(r.dirs, dk)
		}
	}
	delete(r.dirs, k)
	r.removeChild(parent(k))
}

// Files returns the content of every file by path (as listed).
func (r *Replica) Files() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]string, len(r.files))
	for _, f := range r.files {
		m[f.path] = string(f.data)
	}
	return m
}

// Dirs returns the path of every directory, sorted; with NoDirs, the
// directories the files imply.
func (r *Replica) Dirs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ds := make([]string, 0, len(r.dirs))
	for _, d := range r.dirs {
		ds = append(ds, d.path)
	}
	slices.Sort(ds)
	return ds
}

// methods are the names Calls accepts: the Replica and Copier methods that
// would cost a request on a real backend.
var methods = []string{"List", "Stat", "Open", "Put", "Move", "Delete", "Hash", "Mkdir", "Rmdir", "CopyFrom"}

// Calls returns how many times method was called since New or the last
// ResetCalls, failed calls included. method is one of List, Stat, Open, Put,
// Move, Delete, Hash, Mkdir, Rmdir and CopyFrom; Calls panics on another
// name, so that a misspelt method cannot make an assertion of zero pass.
func (r *Replica) Calls(method string) int {
	if !slices.Contains(methods, method) {
		panic(fmt.Sprintf("mem: Calls(%q): not one of %v", method, methods))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[method]
}

// ResetCalls sets every counter of Calls to zero, typically between the
// setup run of a test and the run it checks.
func (r *Replica) ResetCalls() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.calls)
}

func mustPath(path string) {
	if err := checkPath("mem", path); err != nil {
		panic(err)
	}
}
