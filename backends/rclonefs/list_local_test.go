//go:build linux

package rclonefs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/filter"
)

// The fast listing of local folders (list_local.go) against rclone's walk,
// entry for entry, failure for failure, notice for notice.

// listing is what one List call gave.
type listing struct {
	entries []backends.Entry
	err     string
	logs    []string // level, message and object of every log record, sorted
}

// listWith lists r, recording rclone's log lines.
func listWith(t *testing.T, r *Replica) listing {
	t.Helper()
	rec := &recorder{level: slog.LevelDebug}
	if _, err := Setup(context.Background(), Options{ConfigPath: testConfig, Logger: slog.New(rec)}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		var err error
		if testCtx, err = Setup(context.Background(), Options{ConfigPath: testConfig}); err != nil {
			t.Error(err)
		}
	}()
	var l listing
	err := r.List(testCtx, func(e backends.Entry) error {
		l.entries = append(l.entries, e)
		return nil
	})
	if err != nil {
		l.err = err.Error()
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, rr := range rec.recs {
		if rr.Level < slog.LevelInfo {
			continue // rclone's debug lines (creating backends, ...) differ
		}
		var obj string
		rr.Attrs(func(a slog.Attr) bool {
			if a.Key == "object" {
				obj = a.Value.String()
			}
			return true
		})
		l.logs = append(l.logs, fmt.Sprintf("%v %q %q", rr.Level, rr.Message, obj))
	}
	slices.Sort(l.logs)
	return l
}

// compareListings lists remote through the fast path and through rclone's
// walk and fails the test on any difference. It returns the fast listing.
func compareListings(t *testing.T, remote string) listing {
	t.Helper()
	fast := open(t, remote)
	if fast.local == nil || !fast.Caps().ListSorted {
		t.Fatalf("%s: no fast listing, or not said to be sorted", remote)
	}
	slow := open(t, remote)
	throughWalk(slow)
	f, s := listWith(t, fast), listWith(t, slow)
	if !slices.IsSortedFunc(f.entries, func(a, b backends.Entry) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("%s: the fast listing is not sorted by path", remote)
	}
	checkFileOrder(t, remote, f.entries)
	byPath := func(a, b backends.Entry) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Dir != b.Dir {
			if a.Dir {
				return 1
			}
			return -1
		}
		return 0
	}
	fe, se := slices.Clone(f.entries), slices.Clone(s.entries)
	slices.SortStableFunc(fe, byPath)
	slices.SortStableFunc(se, byPath)
	// Which of several failures is "the last" depends on timing, in both.
	lastless := func(e string) string { e, _, _ = strings.Cut(e, "; the last: "); return e }
	if f.err != s.err && (lastless(f.err) == f.err || lastless(f.err) != lastless(s.err)) {
		t.Errorf("%s: fast listing fails with %q, rclone's walk with %q", remote, f.err, s.err)
	}
	if f.err == "" && !slices.EqualFunc(fe, se, func(a, b backends.Entry) bool {
		return a.Path == b.Path && a.Dir == b.Dir && a.Size == b.Size && a.ModTime.Equal(b.ModTime) &&
			a.ModTime.Location() == b.ModTime.Location() && a.Hash == b.Hash && a.HashKind == b.HashKind
	}) {
		t.Errorf("%s: listings differ\nfast:  %s\nrclone: %s", remote, fmtEntries(fe), fmtEntries(se))
	}
	// When a failure ends a listing, the directories read and logged
	// before it stops depend on timing, in both. (Failures counted in
	// the stats do not end it.)
	if f.err != "" && s.err != "" && !strings.Contains(f.err, "could not be listed") {
		failed := func(logs []string) bool {
			return slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, "error listing") })
		}
		if !failed(f.logs) || !failed(s.logs) {
			t.Errorf("%s: the failure is not logged\nfast:  %q\nrclone: %q", remote, f.logs, s.logs)
		}
	} else if !slices.Equal(f.logs, s.logs) {
		t.Errorf("%s: log lines differ\nfast:  %q\nrclone: %q", remote, f.logs, s.logs)
	}
	return f
}

// checkFileOrder fails t unless the files of es come in increasing order
// of Path, each once, as Caps.ListSorted promises.
func checkFileOrder(t *testing.T, what string, es []backends.Entry) {
	t.Helper()
	prev := "" // no path is empty
	for _, e := range es {
		if e.Dir {
			continue
		}
		if prev != "" && e.Path <= prev {
			t.Errorf("%s: file %q listed after %q", what, e.Path, prev)
			return
		}
		prev = e.Path
	}
}

func fmtEntries(es []backends.Entry) string {
	var b strings.Builder
	for _, e := range es {
		if e.Dir {
			fmt.Fprintf(&b, "\n\t%q/", e.Path)
		} else {
			fmt.Fprintf(&b, "\n\t%q %d %s", e.Path, e.Size, e.ModTime.Format(time.RFC3339Nano))
		}
	}
	return b.String()
}

// tree writes files (path -> content; a path ending in "/" is a directory)
// under dir, each file with its own modtime to the nanosecond.
func tree(t *testing.T, dir string, files ...string) {
	t.Helper()
	base := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for i, p := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.Repeat("x", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := base.Add(time.Duration(i)*time.Hour + time.Duration(i)*7919)
		if err := os.Chtimes(full, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

// trickyTree writes a tree with every case the fast listing handles.
func trickyTree(t *testing.T, dir string) {
	t.Helper()
	tree(t, dir,
		// Order of paths against the walk's directory order: "a" sorts
		// before "a b", "a-b" and "a.txt", and "a/x.md" after them, as
		// after every byte below '/'; names the encoding changes sort
		// by what it makes of them. ferry's metadata files are files
		// like any.
		"a/x.md", "a/b/c/deep.md", "a-b", "a.txt", "a!", "A", "b/", "a b", "a#", "a-", "a.", "a0",
		"a\x01ctl", "a．", "aé", ".ferry/format", ".ferry/deletions", ".ferry-x", ".ferryz",
		"empty/", "empty2/nested/", "with space/f g.md", " lead", "trail ", "~tilde",
		// Names rclone's local encoding changes or might: control
		// characters and DEL, full-width look-alikes of "/" and ".",
		// the quote rune, the symbols for NUL and space, invalid UTF-8,
		// in files and in a directory.
		"ctl\x01char", "del\x7f", "nl\nname", "full／slash", "．", "．．", "dot．", "‛quoted", "␀sym", "␠sp",
		"bad\xffutf8", "bad\xfe/in bad dir", "é-nfc", "e\u0301-nfd", "日本/語.md", "back\\slash", "co:lon*?<>|\"",
		// ferry's temporary files are not listed; a directory with such
		// a name is.
		".f.txt.ferry-0123abcd.partial", "d/.x.ferry-deadbeef.partial", ".dir.ferry-0123abcd.partial/f",
		".f.ferry-xyz.partial", "f.partial",
	)
	// Sizes and times the tree does not have yet: empty, sparse and
	// large, before 1970.
	if err := os.WriteFile(filepath.Join(dir, "zero"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, "zero"), 0); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 5<<30); err != nil {
		t.Fatal(err)
	}
	old := time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "a.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	// Symbolic links: to a file, to a directory, dangling, to itself;
	// skipped with a notice.
	for link, target := range map[string]string{
		"link-file": "a.txt", "link-dir": "a", "a/link-up": "..", "dangling": "nowhere", "loop": "loop",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// Special files, skipped with another notice.
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := net.Listen("unix", filepath.Join(dir, "sock")); err == nil {
		t.Cleanup(func() { l.Close() })
	} // a path too long for a socket: no socket
}

func TestLocalListerMatchesWalk(t *testing.T) {
	dir := t.TempDir()
	trickyTree(t, dir)
	l := compareListings(t, dir)
	if l.err != "" {
		t.Fatalf("listing failed: %s", l.err)
	}
	// Spot checks, should both listings be wrong alike.
	want := map[string]bool{"a": true, "a/b/c/deep.md": true, "bad\xfe/in bad dir": true, "empty2/nested": true,
		"ctl␁char": true, ".dir.ferry-0123abcd.partial": true, "big.bin": true}
	for _, e := range l.entries {
		delete(want, e.Path)
		if !e.Dir && isTempName(path.Base(e.Path)) || strings.HasPrefix(e.Path, "link") || e.Path == "dangling" ||
			e.Path == "loop" || e.Path == "a/link-up" || e.Path == "fifo" || e.Path == "sock" {
			t.Errorf("listed %q", e.Path)
		}
	}
	if len(want) != 0 {
		t.Errorf("not listed: %v", want)
	}
}

// TestLocalListerOptions lists the tricky tree through remotes that set the
// local backend's options the fast listing reproduces.
func TestLocalListerOptions(t *testing.T) {
	dir := t.TempDir()
	trickyTree(t, dir)
	for _, remote := range []string{
		":local:" + dir,
		":local,unicode_normalization:" + dir,
		":local,skip_links,skip_specials:" + dir,
		":local,one_file_system:" + dir,
		":local,case_insensitive,no_set_modtime,hashes=md5:" + dir,
		":local,no_check_updated,nounc,no_preallocate,no_sparse:" + dir,
		"cfgremote:" + dir,
	} {
		compareListings(t, remote)
	}
	t.Run("env", func(t *testing.T) {
		t.Setenv("RCLONE_LOCAL_SKIP_LINKS", "true")
		t.Setenv("RCLONE_LOCAL_UNICODE_NORMALIZATION", "true")
		compareListings(t, dir)
	})
}

// TestLocalListerFallsBack checks that remotes whose options the fast
// listing does not reproduce list through rclone's walk.
func TestLocalListerFallsBack(t *testing.T) {
	dir := t.TempDir()
	for _, remote := range []string{
		":local,links:" + dir,
		":local,copy_links:" + dir,
		":local,time_type=ctime:" + dir,
		":local,encoding=Slash,Colon:" + dir,
		":local,override.links:" + dir,
		":alias,remote='" + dir + "':",
	} {
		if r := open(t, remote); r.local != nil || r.Caps().ListSorted {
			t.Errorf("%s: fast listing, or said to be sorted", remote)
		}
	}
	t.Run("env", func(t *testing.T) {
		t.Setenv("RCLONE_LOCAL_COPY_LINKS", "true")
		if r := open(t, dir); r.local != nil || r.Caps().ListSorted {
			t.Error("RCLONE_LOCAL_COPY_LINKS: fast listing, or said to be sorted")
		}
	})
	t.Run("filters", func(t *testing.T) {
		ctx, fi := filter.AddConfig(testCtx)
		if err := fi.Add(false, "*.tmp"); err != nil {
			t.Fatal(err)
		}
		r, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.local != nil || r.Caps().ListSorted {
			t.Error("rclone's filters: fast listing, or said to be sorted")
		}
	})
	t.Run("links", func(t *testing.T) {
		t.Setenv("RCLONE_CONFIG_LINKED_TYPE", "local")
		t.Setenv("RCLONE_CONFIG_LINKED_LINKS", "true")
		if r := open(t, "linked:"+dir); r.local != nil {
			t.Error("a remote with links = true: fast listing")
		}
	})
}

// TestLocalListerFailures compares how both fail: a directory the
// encoding does not give back (listed under a name that reads elsewhere),
// a missing root, a root under a file, a root that is a file by now, an
// unreadable directory.
func TestLocalListerFailures(t *testing.T) {
	t.Run("quote", func(t *testing.T) {
		dir := t.TempDir()
		tree(t, dir, "ok.md", "‛/f")
		if l := compareListings(t, dir); l.err == "" {
			t.Error("no error")
		}
	})
	t.Run("nfd", func(t *testing.T) {
		dir := t.TempDir()
		tree(t, dir, "ok.md", "e\u0301/f")
		if l := compareListings(t, ":local,unicode_normalization:"+dir); l.err == "" {
			t.Error("no error")
		}
	})
	t.Run("one path", func(t *testing.T) {
		// Names that rclone's encoding, or unicode normalization,
		// makes one path: the walk reports it twice (a directory's
		// subtree too), the fast listing fails.
		for _, tc := range []struct {
			remote string
			files  []string
			path   string
		}{
			{":local:", []string{"f‛．", "f‛‛．"}, "f‛‛．"},
			{":local:", []string{"d‛．/x", "d‛‛．/y"}, "d‛‛．"},
			{":local,unicode_normalization:", []string{"é", "e\u0301"}, "é"},
		} {
			dir := t.TempDir()
			tree(t, dir, tc.files...)
			fast, slow := open(t, tc.remote+dir), open(t, tc.remote+dir)
			throughWalk(slow)
			f, s := listWith(t, fast), listWith(t, slow)
			if !strings.Contains(f.err, sameNameError(tc.path).Error()) {
				t.Errorf("%q: fast listing fails with %q", tc.files, f.err)
			}
			n := 0
			for _, e := range s.entries {
				if e.Path == tc.path {
					n++
				}
			}
			if s.err != "" || n != 2 {
				t.Errorf("%q: rclone's walk lists %q %d times, and fails with %q", tc.files, tc.path, n, s.err)
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		compareListings(t, filepath.Join(t.TempDir(), "not", "yet"))
	})
	t.Run("under a file", func(t *testing.T) {
		dir := t.TempDir()
		tree(t, dir, "file")
		if l := compareListings(t, filepath.Join(dir, "file", "sub")); l.err == "" {
			t.Error("no error")
		}
	})
	t.Run("became a file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "root")
		fast, slow := open(t, dir), open(t, dir)
		throughWalk(slow)
		tree(t, filepath.Dir(dir), "root")
		f, s := listWith(t, fast), listWith(t, slow)
		if f.err != s.err || f.err == "" {
			t.Errorf("fast listing fails with %q, rclone's walk with %q", f.err, s.err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads every directory")
		}
		dir := t.TempDir()
		tree(t, dir, "ok.md", "locked/f.txt", "locked2/g.txt", "locked2/sub/h.txt")
		lock := func(d string) {
			if err := os.Chmod(filepath.Join(dir, d), 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, d), 0o755) })
		}
		lock("locked")
		l := compareListings(t, dir)
		if !strings.Contains(l.err, "1 entries could not be listed") || !strings.Contains(l.err, `failed to open directory "locked"`) {
			t.Errorf("error %q", l.err)
		}
		lock("locked2")
		l = compareListings(t, dir)
		if !strings.Contains(l.err, "2 entries could not be listed") {
			t.Errorf("error %q", l.err)
		}
	})
	t.Run("unsearchable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads every directory")
		}
		dir := t.TempDir()
		tree(t, dir, "ok.md", "noexec/f.txt")
		if err := os.Chmod(filepath.Join(dir, "noexec"), 0o444); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "noexec"), 0o755) })
		if l := compareListings(t, dir); l.err == "" {
			t.Error("no error")
		}
	})
}

// TestLocalListerRoots lists roots given in other forms: relative, through
// a symbolic link, "/"-less names with characters the encoding changes.
func TestLocalListerRoots(t *testing.T) {
	base := t.TempDir()
	tree(t, base, "real/a/f", "real/g", "odd ‛．name/h", "ctl\x01root/i")
	if err := os.Symlink("real", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	compareListings(t, filepath.Join(base, "link"))
	compareListings(t, filepath.Join(base, "odd ‛．name"))
	t.Chdir(base)
	compareListings(t, "real")
	compareListings(t, "./real/")
	compareListings(t, "real/../real/a")
	// rclone's encoding of the root would make it "ctl␁root": the fast
	// listing takes no chances with that.
	r := open(t, filepath.Join(base, "ctl\x01root"))
	if r.local != nil {
		compareListings(t, filepath.Join(base, "ctl\x01root"))
	}
}

// TestLocalListerRandomTrees compares both listings on random trees of
// names drawn from the characters that matter.
func TestLocalListerRandomTrees(t *testing.T) {
	alphabet := []string{"a", "b", "A", "-", ".", "!", " ", "~", "_", "0", "é", "e\u0301", "／", "．", "‛", "␀", "\x01", "\x7f", "\xff", "\xc3", "日", ":", "\\"}
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 6))
		dir := t.TempDir()
		name := func() string {
			var b strings.Builder
			for range 1 + rng.IntN(4) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			s := b.String()
			if s == "." || s == ".." || strings.HasPrefix(s, "‛") {
				// "." and ".." are not names; a leading quote rune
				// makes rclone's walk fail (TestLocalListerFailures),
				// which would hide every other difference.
				return "n" + s
			}
			return s
		}
		dirs := []string{dir}
		for range 60 {
			parent := dirs[rng.IntN(len(dirs))]
			p := filepath.Join(parent, name())
			switch k := rng.IntN(10); {
			case k < 6:
				if err := os.WriteFile(p, make([]byte, rng.IntN(100)), 0o644); err == nil {
					mt := time.Unix(rng.Int64N(2e9), rng.Int64N(1e9))
					_ = os.Chtimes(p, mt, mt)
				}
			case k < 9:
				// A quote rune, or NFD on odd seeds (unicode_normalization
				// fails on such directories), makes the listing fail.
				if !strings.Contains(p, "‛") && (seed%2 == 0 || !strings.Contains(p, "\u0301")) && os.Mkdir(p, 0o755) == nil {
					dirs = append(dirs, p)
				}
			default:
				_ = os.Symlink(name(), p)
			}
		}
		l := compareListings(t, dir)
		ln := compareListings(t, ":local,unicode_normalization:"+dir)
		t.Logf("seed %d: %d entries %q; normalized: %d entries %q", seed, len(l.entries), l.err, len(ln.entries), ln.err)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

// TestLocalListerStops checks that an error from fn ends the listing, and is
// returned as it is.
func TestLocalListerStops(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 300 {
		files = append(files, fmt.Sprintf("d%02d/f%03d", i%30, i))
	}
	tree(t, dir, files...)
	r := open(t, dir)
	stop := fmt.Errorf("enough")
	n := 0
	err := r.List(testCtx, func(backends.Entry) error {
		n++
		if n == 50 {
			return stop
		}
		return nil
	})
	if err != stop || n != 50 {
		t.Errorf("List returned %v after %d entries, want %v after 50", err, n, stop)
	}
	ctx, cancel := context.WithCancel(testCtx)
	cancel()
	if err := r.List(ctx, func(backends.Entry) error { return nil }); err == nil {
		t.Error("List with a cancelled context returned no error")
	}
}

// TestLocalListerKeepsOpenFilters checks that a listing comes sorted, as
// Caps says, whatever rclone filters the context of List carries: the
// replica lists with the ones Open saw (none), through the fast listing.
func TestLocalListerKeepsOpenFilters(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, "b.txt", "a.tmp", "c/d.txt")
	r := open(t, dir)
	ctx, fi := filter.AddConfig(testCtx)
	if err := fi.Add(false, "*.tmp"); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := r.List(ctx, func(e backends.Entry) error {
		got = append(got, e.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.tmp", "b.txt", "c", "c/d.txt"}; !r.Caps().ListSorted || !slices.Equal(got, want) {
		t.Errorf("listed %q (ListSorted %v), want %q", got, r.Caps().ListSorted, want)
	}
}

// TestLocalListerReadAhead checks that workers read no further ahead of a
// slow caller than the limit allows: at most the limit, plus a directory
// for each worker that began reading below it and one for the directory
// the caller waits for; the caller itself holds the entries it has yet to
// report of the directories it is in.
func TestLocalListerReadAhead(t *testing.T) {
	const dirs, subdirs, files = 8, 16, 8 // dN/sNN/fNN
	dir := t.TempDir()
	var paths []string
	for i := range dirs {
		for j := range subdirs {
			for k := range files {
				paths = append(paths, fmt.Sprintf("d%d/s%02d/f%02d", i, j, k))
			}
		}
	}
	tree(t, dir, paths...)
	const checkers, limit = 4, 64
	ctx, r := openReadAhead(t, dir, checkers, limit)
	// The walk counts the entries it read in the stats group of its
	// context, as the local backend does: read and not yet reported is
	// that count less what fn got.
	group := t.Name()
	ctx = accounting.WithStatsGroup(ctx, group)
	t.Cleanup(func() { deleteStatsGroup(ctx, group) })
	reported, peak := 0, 0
	_, err := r.local.list(ctx, r, func(backends.Entry) error {
		reported++
		listed := accounting.Stats(ctx).Listed(0) // adds none, returns the count
		peak = max(peak, int(listed)-reported)
		if reported%64 == 0 {
			time.Sleep(time.Millisecond) // a busy engine
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total := dirs + dirs*subdirs + len(paths); reported != total {
		t.Errorf("reported %d entries, want %d", reported, total)
	}
	held := subdirs + subdirs                   // what a dN counts for: entries and subdirectories
	inside := dirs + subdirs + files            // the root, a dN, an sNN
	bound := limit + (checkers+1)*held + inside // of 1160 entries
	t.Logf("at most %d entries read and not reported, bound %d", peak, bound)
	if peak > bound {
		t.Errorf("%d entries read and not reported, want at most %d", peak, bound)
	}
}

// TestLocalListerSmallReadAhead lists a deep and wide tree with almost no
// read-ahead allowed, so that the caller gets nearly every directory read
// on demand, out of the order workers take them in. A listing waiting for a
// directory no worker would read would end at the context's deadline.
func TestLocalListerSmallReadAhead(t *testing.T) {
	dir := t.TempDir()
	var files []string
	var grow func(p string, depth int)
	grow = func(p string, depth int) {
		for _, f := range []string{"a b", "a.txt", "b0"} {
			files = append(files, path.Join(p, f))
		}
		if depth > 0 {
			for _, d := range []string{"a", "a-b", "b"} {
				grow(path.Join(p, d), depth-1)
			}
		}
	}
	grow("", 5) // 364 directories
	tree(t, dir, files...)
	slices.Sort(files)
	for _, checkers := range []int{1, 4} {
		for _, limit := range []int{1, 2} {
			_, r := openReadAhead(t, dir, checkers, limit)
			ctx, cancel := context.WithTimeout(testCtx, time.Minute)
			var got []string
			err := r.List(ctx, func(e backends.Entry) error {
				if !e.Dir {
					got = append(got, e.Path)
				}
				return nil
			})
			if err != nil || !slices.Equal(got, files) {
				t.Errorf("%d checkers, limit %d: listed %d files, want %d in order; error %v", checkers, limit, len(got), len(files), err)
			}
			// An error from fn still ends the listing.
			stop := errors.New("enough")
			n := 0
			err = r.List(ctx, func(backends.Entry) error {
				if n++; n == 100 {
					return stop
				}
				return nil
			})
			cancel()
			if err != stop {
				t.Errorf("%d checkers, limit %d: List returned %v, want %v", checkers, limit, err, stop)
			}
		}
	}
}

// openReadAhead opens the local folder dir with the fast lister reading
// with checkers workers and at most limit entries ahead, and returns the
// context it was opened with, which carries the checkers.
func openReadAhead(t *testing.T, dir string, checkers, limit int) (context.Context, *Replica) {
	t.Helper()
	ctx, ci := fs.AddConfig(testCtx)
	ci.Checkers = checkers
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.local == nil {
		t.Fatalf("%s: no fast listing", dir)
	}
	r.local.maxAhead = limit
	return ctx, r
}
