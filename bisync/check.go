package bisync

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/ferry-sync/ferry/backends"
)

// Errors of the safety checks, which run after planning and before anything
// is changed. --force overrides them.
var (
	// ErrTooManyDeletes: the run would delete more than --max-delete
	// percent (or --max-delete-count files) of a side.
	ErrTooManyDeletes = errors.New("bisync: too many deletions")
	// ErrEmptySide: a side lists no file while the history holds some: a
	// missing mount, a wrong bucket, an expired token that lists nothing.
	ErrEmptySide = errors.New("bisync: a side is empty")
	// ErrCheckAccess: the --check-access sentinel files are missing or
	// differ between the sides.
	ErrCheckAccess = errors.New("bisync: access check failed")
)

// check runs the safety checks on a plan. histFiles is the number of files
// the history holds; j counts the files listed (in scope).
func (e *engine) check(items []item, j *joined, histFiles int) error {
	var errs []error
	if e.opts.CheckAccess {
		errs = append(errs, e.checkAccess(j.access))
	}
	if e.opts.Force {
		return errors.Join(errs...)
	}
	if histFiles > 0 {
		for s := range 2 {
			if j.files[s] == 0 {
				errs = append(errs, fmt.Errorf("%w: path%d (%s) lists no files, but the last run left %d there; "+
					"if that folder is really empty now, run again with --force, otherwise check the mount, bucket or credentials",
					ErrEmptySide, s+1, e.sides[s].r, histFiles))
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	var deletes [2][]string
	for i := range items {
		it := &items[i]
		switch it.act.Op {
		case OpDelete1:
			deletes[0] = append(deletes[0], it.path)
		case OpDelete2:
			deletes[1] = append(deletes[1], it.path)
		}
	}
	for s := range 2 {
		n := len(deletes[s])
		if n == 0 {
			continue
		}
		tooMany := e.opts.MaxDeleteCount > 0 && n > e.opts.MaxDeleteCount
		if histFiles > 0 && e.opts.MaxDelete < 100 && n*100 > e.opts.MaxDelete*histFiles {
			tooMany = true
		}
		if tooMany {
			errs = append(errs, fmt.Errorf("%w: the run would delete %d of %d files on path%d (%s), over --max-delete %d%%%s; "+
				"nothing was changed: check the other side, or run again with --force if the deletions are intended: %s",
				ErrTooManyDeletes, n, histFiles, s+1, e.sides[s].r, e.opts.MaxDelete, countLimit(e.opts.MaxDeleteCount), sample(deletes[s], 10)))
		}
	}
	return errors.Join(errs...)
}

func countLimit(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" or --max-delete-count %d", n)
}

// sample lists up to n paths, saying how many more there are.
func sample(paths []string, n int) string {
	if len(paths) <= n {
		return strings.Join(paths, ", ")
	}
	return strings.Join(paths[:n], ", ") + fmt.Sprintf(" and %d more", len(paths)-n)
}

// checkAccess requires the sentinel files on both sides at the same paths;
// found are those in scope on each side, in path order.
func (e *engine) checkAccess(found [2][]string) error {
	for s := range 2 {
		if len(found[s]) == 0 {
			return fmt.Errorf("%w: no %s file on path%d (%s); create one on both sides, or leave out --check-access",
				ErrCheckAccess, e.opts.CheckFilename, s+1, e.sides[s].r)
		}
	}
	if strings.Join(found[0], "\x00") != strings.Join(found[1], "\x00") {
		return fmt.Errorf("%w: the %s files differ: path1 has %s, path2 has %s",
			ErrCheckAccess, e.opts.CheckFilename, strings.Join(found[0], ", "), strings.Join(found[1], ", "))
	}
	return nil
}

// inScope reports whether a path is in the filters on every side where it
// is: a path that leaves the filters on either side is left alone on both.
func (e *engine) inScope(it *item, dirOK func(string) bool) bool {
	if !dirOK(path.Dir(it.path)) {
		return false
	}
	f := e.opts.Filter
	for s := range 2 {
		if it.e[s] != nil && !f.Include(it.path, it.e[s].Size) {
			return false
		}
	}
	if it.hist != nil && (!f.Include(it.path, it.hist.One.Size) || !f.Include(it.path, it.hist.Two.Size)) {
		return false
	}
	if it.e[0] == nil && it.e[1] == nil && it.hist == nil {
		return f.Include(it.path, -1)
	}
	return true
}

// dirFilter returns a memoised test of whether a directory and all its
// parents are in the filters, as a listing pruned by rclone would have it.
func (e *engine) dirFilter() func(string) bool {
	memo := map[string]bool{".": true, "": true}
	var ok func(string) bool
	ok = func(dir string) bool {
		if v, seen := memo[dir]; seen {
			return v
		}
		v := ok(path.Dir(dir)) && e.opts.Filter.IncludeDir(dir)
		memo[dir] = v
		return v
	}
	return ok
}

// scopeDirs returns the listed directories that are in the filters. It
// leaves dirs as it is (conflict names are checked against every name), and
// returns it itself when every directory is in.
func scopeDirs(dirs []backends.Entry, ok func(string) bool) []backends.Entry {
	for i, d := range dirs {
		if ok(d.Path) {
			continue
		}
		out := append([]backends.Entry(nil), dirs[:i]...)
		for _, d := range dirs[i+1:] {
			if ok(d.Path) {
				out = append(out, d)
			}
		}
		return out
	}
	return dirs
}
