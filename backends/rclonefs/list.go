package rclonefs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/rc"
	"github.com/rclone/rclone/fs/walk"
)

// List reports every file and directory under the root, from as few
// requests as the backend allows: one recursive listing (ListR: S3, B2,
// Swift, ...) where it has one, else one listing per directory, several at
// once (rclone's --checkers); for a local folder, ferry's own walk, which
// reports the same in sorted order of Path (list_local.go): Caps.ListSorted
// says which. Entries carry only what the listing gives (see entryOf).
// Replicas without directories (Caps.Dirs false) report files only.
// Temporary files of a Put in progress or interrupted by a crash are not
// reported.
func (r *Replica) List(ctx context.Context, fn func(backends.Entry) error) error {
	ctx = r.with(ctx)
	r.stale.mu.Lock()
	r.stale.names = nil
	r.stale.mu.Unlock()
	// The local backend reports some failures (a directory it may not
	// read, an entry it cannot stat) only by logging them and counting
	// them in the accounting stats, and lists the rest: a stats group of
	// this listing's own catches them.
	group := fmt.Sprintf("ferry-list-%d", listSeq.Add(1))
	ctx = accounting.WithStatsGroup(ctx, group)
	defer deleteStatsGroup(ctx, group)
	var emitted int
	var fnErr error // fn's error, returned as it is
	emit := func(entries fs.DirEntries) error {
		for _, de := range entries {
			var e backends.Entry
			switch x := de.(type) {
			case fs.Object:
				if isTempName(path.Base(x.Remote())) {
					r.sawTemp(x.Remote(), time.Now())
					continue
				}
				e = r.entryOf(ctx, x)
			case fs.Directory:
				if !r.caps.Dirs {
					continue
				}
				e = backends.Entry{Path: x.Remote(), Dir: true}
			default:
				continue
			}
			emitted++
			if err := fn(e); err != nil {
				fnErr = err
				return err
			}
		}
		return nil
	}

	var err error
	rootListed := false // the root exists: a missing directory is one under it
	if r.local != nil {
		// Local folders: ferry's own walk, which reports what the
		// rclone walk below would, faster and sorted (list_local.go).
		rootListed, err = r.local.list(ctx, r, func(e backends.Entry) error {
			emitted++
			if err := fn(e); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
	} else if r.f.Features().ListR != nil {
		listType := walk.ListObjects
		if r.caps.Dirs {
			listType = walk.ListAll
		}
		err = walk.ListR(ctx, r.f, "", true, -1, listType, emit)
	} else {
		// Not walk.ListR's fallback: it logs each failed directory as
		// an error and carries on, and ferry wants the first failure,
		// once, as the result.
		err = walk.Walk(ctx, r.f, "", true, -1, func(dir string, entries fs.DirEntries, err error) error {
			if err != nil {
				return err
			}
			return emit(entries)
		})
	}
	if fnErr != nil && errors.Is(err, fnErr) {
		return fnErr
	}
	if err == nil {
		if st := accounting.StatsGroup(ctx, group); st.GetErrors() > 0 {
			err = fmt.Errorf("%d entries could not be listed; the last: %w", st.GetErrors(), st.GetLastError())
		}
	}
	if errors.Is(err, fs.ErrorDirNotFound) && emitted == 0 && !rootListed {
		// The root does not exist (yet). A directory that vanished
		// during the listing is an error: its parent was reported, so
		// emitted > 0.
		err = r.checkLocalRoot()
	}
	return r.wrap("list", "", err)
}

// listSeq numbers listings, for their stats groups.
var listSeq atomic.Int64

// deleteStatsGroup drops a listing's stats, through the call rclone's
// remote control offers for that (the package has no exported function).
func deleteStatsGroup(ctx context.Context, group string) {
	if call := rc.Calls.Get("core/stats-delete"); call != nil {
		_, _ = call.Fn(ctx, rc.Params{"group": group})
	}
}

// checkLocalRoot tells a local root that is missing (nil: it lists empty)
// from one that cannot be read or is under a file, which rclone's local
// backend also reports as "directory not found".
func (r *Replica) checkLocalRoot() error {
	if !r.f.Features().IsLocal {
		return nil
	}
	_, err := os.Stat(filepath.FromSlash(r.f.Root()))
	if err == nil || errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	return err
}

// Temporary names are ".<name>.ferry-<16 hex>.partial", in the directory of
// the file they will become (so that the final rename stays on one
// filesystem); the hex digits are the time the file was made and random
// bits (see tempName). Earlier versions wrote 8 random hex digits.
const (
	tempInfix   = ".ferry-"
	tempSuffix  = ".partial"
	tempRand    = 8  // hex digits of the older form
	tempStamped = 16 // hex digits: 8 of the time, 8 random
)

// isTempName reports whether a base name is one of Put's temporary names.
func isTempName(base string) bool {
	rest, ok := strings.CutSuffix(base, tempSuffix)
	if !ok || !strings.HasPrefix(base, ".") {
		return false
	}
	i := strings.LastIndex(rest, tempInfix)
	if n := len(rest) - i - len(tempInfix); i < 0 || n != tempRand && n != tempStamped {
		return false
	}
	for _, c := range rest[i+len(tempInfix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
