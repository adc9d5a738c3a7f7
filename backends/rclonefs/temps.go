package rclonefs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
)

// Put writes to a temporary name beside the file where a half-written file
// could be seen under its name (see Replica.partial). A process killed
// between the write and the rename leaves the temporary file behind:
// hidden from List, but taking space, a whole upload's worth on a server.
// Its name says when it was made, so that a later run can remove it once no
// upload can still be writing it (staleAfter), without knowing which run,
// or which device, made it.

// staleAfter is how old a temporary file must be before a run removes it:
// far longer than any one upload takes, even of a large file over a slow
// link, so that another device's upload in progress is never cut short,
// and long enough for clocks that are a few hours apart.
const staleAfter = 24 * time.Hour

var _ backends.TempCleaner = (*Replica)(nil)

// tempName returns a fresh temporary name in p's directory: see
// isTempName. The hex digits are the time, in seconds since 1970, and 32
// random bits.
func tempName(p string) string {
	return tempNameAt(p, time.Now())
}

func tempNameAt(p string, now time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	dir, base := path.Split(p)
	// Keep the name within the 255 bytes most filesystems allow, cut
	// between two characters.
	if n := 100; len(base) > n {
		for !utf8.RuneStart(base[n]) {
			n--
		}
		base = base[:n]
	}
	return dir + "." + base + tempInfix + hex.EncodeToString(b[:]) + tempSuffix
}

// tempTime returns when the temporary file of that base name was made;
// false for a name of the older form, with no time.
func tempTime(base string) (time.Time, bool) {
	if !isTempName(base) {
		return time.Time{}, false
	}
	rest := strings.TrimSuffix(base, tempSuffix)
	digits := rest[strings.LastIndex(rest, tempInfix)+len(tempInfix):]
	if len(digits) != tempStamped {
		return time.Time{}, false
	}
	secs, err := strconv.ParseUint(digits[:8], 16, 32)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}

// staleTemps are the temporary files a listing saw that are old enough to
// remove (see staleAfter).
type staleTemps struct {
	mu    sync.Mutex
	names []string
}

// sawTemp notes a temporary file a listing met, by its path, if it is
// stale at now.
func (r *Replica) sawTemp(p string, now time.Time) {
	made, ok := tempTime(path.Base(p))
	if !ok || now.Sub(made) < staleAfter {
		return
	}
	r.stale.mu.Lock()
	r.stale.names = append(r.stale.names, p)
	r.stale.mu.Unlock()
}

// RemoveStaleTemps removes the temporary files of interrupted uploads that
// the last List saw and that are older than staleAfter; see
// backends.TempCleaner. A file that is already gone counts as removed.
func (r *Replica) RemoveStaleTemps(ctx context.Context) (int, error) {
	ctx = r.with(ctx)
	r.stale.mu.Lock()
	names := r.stale.names
	r.stale.names = nil
	r.stale.mu.Unlock()
	var errs []error
	removed := 0
	for _, p := range names {
		o, err := r.f.NewObject(ctx, p)
		if errors.Is(err, fs.ErrorObjectNotFound) {
			removed++
			continue
		}
		if err == nil {
			err = r.remove(ctx, o)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		removed++
	}
	return removed, r.wrap("remove temporary files", "", errors.Join(errs...))
}
