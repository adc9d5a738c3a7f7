package rclonefs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/rc"
)

func TestLocalCaps(t *testing.T) {
	c := open(t, t.TempDir()).Caps()
	// Hashing a local file reads it: never in a listing.
	if c.ListHash != "" {
		t.Errorf("ListHash = %q, want none on a local disk", c.ListHash)
	}
	if len(c.Hashes) < 2 || c.Hashes[0] != backends.HashMD5 || c.Hashes[1] != backends.HashSHA1 {
		t.Errorf("Hashes = %q, want md5 and sha1 first", c.Hashes)
	}
	if c.Precision <= 0 || c.Precision > time.Second || !c.SetModTime || !c.ListModTime || !c.Dirs {
		t.Errorf("Caps = %+v, want modtimes and directories", c)
	}
	// Only ferry's own listing of local folders comes sorted.
	if c.ListSorted != localListSupported {
		t.Errorf("ListSorted = %v, want %v on %s", c.ListSorted, localListSupported, runtime.GOOS)
	}
}

// blockingReader yields data, then waits for release and fails.
type blockingReader struct {
	data    []byte
	reached chan struct{}
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	close(b.reached)
	<-b.release
	return 0, errors.New("source broke off")
}

// TestPutAtomicLocal checks what the conformance suite cannot see: while a
// Put is under way, the file at its path is the old one, and the temporary
// file is not listed.
func TestPutAtomicLocal(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	ctx := testCtx
	if _, err := r.Put(ctx, "d/f.txt", strings.NewReader("old"), backends.Entry{Size: 3}); err != nil {
		t.Fatal(err)
	}
	in := &blockingReader{data: make([]byte, 64<<10), reached: make(chan struct{}), release: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		_, err := r.Put(ctx, "d/f.txt", in, backends.Entry{Size: 1 << 20})
		errc <- err
	}()
	<-in.reached

	if b, err := os.ReadFile(filepath.Join(dir, "d", "f.txt")); err != nil || string(b) != "old" {
		t.Errorf("during Put the file reads %.10q, %v; want the old content", b, err)
	}
	onDisk, _ := os.ReadDir(filepath.Join(dir, "d"))
	if len(onDisk) != 2 {
		t.Errorf("during Put the directory holds %v, want the file and a temporary one", onDisk)
	}
	var listed []string
	if err := r.List(ctx, func(e backends.Entry) error { listed = append(listed, e.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, []string{"d", "d/f.txt"}) {
		t.Errorf("during Put List reports %q, want d and d/f.txt", listed)
	}

	close(in.release)
	if err := <-errc; err == nil {
		t.Fatal("Put from a failing reader returned no error")
	}
	onDisk, _ = os.ReadDir(filepath.Join(dir, "d"))
	if len(onDisk) != 1 || onDisk[0].Name() != "f.txt" {
		t.Errorf("after the failed Put the directory holds %v, want f.txt alone", onDisk)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "d", "f.txt")); string(b) != "old" {
		t.Errorf("after the failed Put the file reads %.10q, want the old content", b)
	}
}

func TestPutCancelled(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	ctx, cancel := context.WithCancel(testCtx)
	in := &blockingReader{data: make([]byte, 1000), reached: make(chan struct{}), release: make(chan struct{})}
	go func() { <-in.reached; cancel(); close(in.release) }()
	// The reader would fail anyway after the release; what matters is
	// that the error says cancelled and nothing stays behind.
	_, err := r.Put(ctx, "f.txt", io.MultiReader(in, strings.NewReader("more")), backends.Entry{Size: -1})
	if err == nil {
		t.Fatal("cancelled Put returned no error")
	}
	if onDisk, _ := os.ReadDir(dir); len(onDisk) != 0 {
		t.Errorf("after a cancelled Put the root holds %v", onDisk)
	}
}

func TestListHidesTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".f.txt.ferry-0123abcd.partial", "f.partial", ".f.ferry-xyz.partial", "keep.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var listed []string
	if err := open(t, dir).List(testCtx, func(e backends.Entry) error { listed = append(listed, e.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	if want := []string{".f.ferry-xyz.partial", "f.partial", "keep.txt"}; !slices.Equal(listed, want) {
		t.Errorf("List reports %q, want %q", listed, want)
	}
	for _, long := range []string{strings.Repeat("x", 300), strings.Repeat("é", 150)} {
		tmp := filepath.Base(tempName("a/b/" + long))
		if !isTempName(tmp) || !utf8.ValidString(tmp) || len(tmp) > 255 {
			t.Errorf("tempName of a long name gives %q", tmp)
		}
	}
}

func TestListErrorIsNotEmpty(t *testing.T) {
	// A root under a file exists neither as a directory nor as nothing:
	// listing it must fail, not report an empty side.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := open(t, filepath.Join(dir, "file", "sub"))
	err := r.List(testCtx, func(backends.Entry) error { return nil })
	if err == nil {
		t.Fatal("List of a root under a file returned no error")
	}
	if !strings.Contains(err.Error(), "list") || !strings.Contains(err.Error(), r.String()) {
		t.Errorf("List error %q does not say what failed where", err)
	}
}

func TestMissingRootListsEmpty(t *testing.T) {
	r := open(t, filepath.Join(t.TempDir(), "not", "yet"))
	n := 0
	if err := r.List(testCtx, func(backends.Entry) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("List of a missing root: %d entries, %v; want none, nil", n, err)
	}
}

func TestRetryable(t *testing.T) {
	r := open(t, t.TempDir())
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{timeout, true},
		{io.ErrUnexpectedEOF, true},
		{fserrors.RetryErrorf("server said later"), true},
		// What net/http returns for an answer cut in its head, and for
		// one that never came.
		{fmt.Errorf("couldn't list files: %w", &url.Error{Op: "Propfind", URL: "http://h/d/",
			Err: fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", textproto.ProtocolError(`malformed MIME header: missing colon: "\r"`))}), true},
		{fmt.Errorf("couldn't list files: %w", &url.Error{Op: "Propfind", URL: "http://h/d/", Err: timeoutError{}}), true},
		{fmt.Errorf("read metadata failed: %v", &url.Error{Op: "Propfind", URL: "http://h/d/", Err: timeoutError{}}), true},
		{fserrors.NoRetryError(timeout), false},
		{context.Canceled, false},
		{errors.New("permission denied"), false},
	} {
		err := r.wrap("put", "f", tc.err)
		if got := backends.IsRetryable(err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", err, got, tc.want)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%v does not wrap %v", err, tc.err)
		}
	}
}

func TestListUnreadableDirIsError(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked")
	if err := os.MkdirAll(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(locked, "f.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(locked, 0o700) })
	// rclone's local backend lists such a directory as empty and only
	// logs the failure; ferry must not take its files for deleted.
	err := open(t, dir).List(testCtx, func(backends.Entry) error { return nil })
	if err == nil {
		t.Error("List with an unreadable directory returned no error")
	}
}

func TestListDropsItsStats(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	listGroups := func() []string {
		out, err := rc.Calls.Get("core/group-list").Fn(testCtx, rc.Params{})
		if err != nil {
			t.Fatal(err)
		}
		groups, _ := out["groups"].([]string)
		return slices.DeleteFunc(groups, func(g string) bool { return !strings.HasPrefix(g, "ferry-list-") })
	}
	var during []string
	err := open(t, dir).List(testCtx, func(backends.Entry) error { during = listGroups(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(during) != 1 {
		t.Errorf("stats groups during List: %q, want one of its own", during)
	}
	if after := listGroups(); len(after) != 0 {
		t.Errorf("stats groups %q left behind", after)
	}
}

// timeoutError is what net/http returns when no answer came in time: a
// net.Error that is also context.DeadlineExceeded.
type timeoutError struct{}

func (timeoutError) Error() string        { return "net/http: timeout awaiting response headers" }
func (timeoutError) Timeout() bool        { return true }
func (timeoutError) Temporary() bool      { return true }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
