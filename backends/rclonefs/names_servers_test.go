package rclonefs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/bisync/bisynctest"
	"github.com/rclone/rclone/fs/object"
)

// awkwardNames are names a user's local folder may hold that a server may
// store under another name (rclone's encodings), or refuse.
var awkwardNames = []string{
	"question?.md", "hash#.md", "percent%20.md", "star*.md", "colon:.md",
	`back\slash.md`, "lt<gt>.md", "pipe|.md", `quote".md`, "apos'.md",
	"trailing space .md", "trailing-dot.", "trailing space ", " leading space.md",
	"tab\t.md", "newline\n.md", "control\x01.md", "del\x7f.md",
	"emoji 😀.md", "nbsp\u00a0.md", "bidi\u202e.md",
	"bad utf8 \xff\xfe.md",
	"dir?#%/inner.md", "dir. /inner.md",
	strings.Repeat("n", 200) + ".md",
	strings.Repeat("é", 120) + ".md", // 240 bytes
}

// TestServerAwkwardNames syncs a local folder holding awkward names with
// each server, three times. A name the server cannot hold may fail its
// copy, with an error naming it, on every run; it must never turn into a
// deletion or an overwrite of another file, nor into a copy back under
// another name. Every name the server took must list back as it was
// written, so that the later runs transfer nothing.
func TestServerAwkwardNames(t *testing.T) {
	for _, kind := range testserver.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			skipKnown(t, kind)
			var local *counting
			dir := t.TempDir()
			local = &counting{Replica: open(t, dir)}
			server := &counting{Replica: openServer(t, folder(testserver.Start(t, kind), "names"))}
			p := bisync.Pair{Path1: local, Path2: server, HistoryFile: filepath.Join(t.TempDir(), "pair.hist")}
			for i, name := range awkwardNames {
				full := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(fmt.Sprintf("file %d %q\n", i, name)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			onDisk := diskContents(t, dir)
			// The names as ferry lists them: rclone's, which stand for a
			// few characters by others (a control character by its
			// symbol, say).
			want := bisynctest.Contents(t, local)
			if len(want) != len(awkwardNames) {
				t.Fatalf("the local folder lists %d files, want %d: %q", len(want), len(awkwardNames), want)
			}
			local.take()
			server.take()

			var refused []string
			opts := bisync.DefaultOptions()
			opts.DeviceID = "test01"
			for run := 1; run <= 3; run++ {
				res, err := bisync.Run(context.Background(), p, opts)
				if err != nil && !errors.Is(err, bisync.ErrFailed) {
					t.Fatalf("run %d: %v", run, err)
				}
				var failed []string
				for _, f := range res.Failed {
					var oe *bisync.OpError
					if !errors.As(f, &oe) || oe.Side != 2 || oe.Op != "copy" || want[oe.Path] == "" {
						t.Errorf("run %d: a failure that is not a refused copy of an awkward name to the server: %v", run, f)
						continue
					}
					if !strings.Contains(f.Error(), oe.Path) {
						t.Errorf("run %d: the error does not name the path %q: %v", run, oe.Path, f)
					}
					failed = append(failed, oe.Path)
					t.Logf("run %d: %v", run, f)
				}
				slices.Sort(failed)
				// A name the server refuses fails on every run; a failure
				// that goes away (a server's hiccup) is only logged.
				if run > 1 {
					for _, p := range refused {
						if !slices.Contains(failed, p) {
							t.Logf("run %d: %q, which failed before, went through", run, p)
						}
					}
					for _, p := range failed {
						if !slices.Contains(refused, p) {
							t.Errorf("run %d: %q failed, which went through before", run, p)
						}
					}
				}
				for _, a := range res.Plan {
					if a.Op != bisync.OpNothing && (run > 1 && !slices.Contains(refused, a.Path) || a.Op != bisync.OpCopy1to2) {
						t.Errorf("run %d: plans %v %q [%02d] %s", run, a.Op, a.Path, a.Decision, a.Reason)
					}
				}
				if got := diskContents(t, dir); !maps.Equal(got, onDisk) {
					t.Errorf("run %d: the local folder changed: %q, was %q", run, got, onDisk)
				}
				refused = failed
			}
			accepted := maps.Clone(want)
			for _, name := range refused {
				delete(accepted, name)
			}
			if got := bisynctest.Contents(t, server); !maps.Equal(got, accepted) {
				t.Errorf("the server holds %q, want %q", got, accepted)
			}
			t.Logf("%s refused %d of %d names: %q", kind, len(refused), len(awkwardNames), refused)

			// A rename to a name the server may not keep: carried over,
			// or failed with the file left where it was on the server.
			if err := os.Rename(filepath.Join(dir, "hash#.md"), filepath.Join(dir, "renamed\x02.md")); err != nil {
				t.Fatal(err)
			}
			onDisk = diskContents(t, dir)
			for run := 1; run <= 2; run++ {
				res, err := bisync.Run(context.Background(), p, opts)
				if err != nil && !errors.Is(err, bisync.ErrFailed) {
					t.Fatalf("rename run %d: %v", run, err)
				}
				for _, f := range res.Failed {
					var oe *bisync.OpError
					if errors.As(f, &oe) && slices.Contains(refused, oe.Path) {
						continue
					}
					if !errors.Is(f, ErrNameNotKept) || !strings.Contains(f.Error(), "renamed") {
						t.Errorf("rename run %d: %v", run, f)
					}
				}
				if got := diskContents(t, dir); !maps.Equal(got, onDisk) {
					t.Errorf("rename run %d: the local folder changed: %q, was %q", run, got, onDisk)
				}
				// The server may hold the file under its old name (the
				// move undone), its new one (kept), or not at all (the
				// rename carried over as a deletion and a copy that
				// fails): never under a third.
				for name := range bisynctest.Contents(t, server) {
					if want[name] == "" && name != "renamed␂.md" {
						t.Errorf("rename run %d: the server holds %q", run, name)
					}
				}
			}
		})
	}
}

// diskContents reads every file under dir, by its name on disk.
func diskContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && d.Name() == ".ferry" {
				return filepath.SkipDir
			}
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestS3HiddenNameNotOverwritten: a file another tool put on S3 under a name
// the listing changes (a control character) is not overwritten, nor
// removed, by a Put of that name: the Put fails before it writes.
func TestS3HiddenNameNotOverwritten(t *testing.T) {
	r := openServer(t, folder(testserver.Start(t, testserver.S3), "hidden"))
	const name = "notes/ctl\x01.md"
	other := []byte("written by another tool")
	info := object.NewStaticObjectInfo(name, time.Now(), int64(len(other)), true, nil, nil)
	if _, err := r.f.Put(r.with(testCtx), bytes.NewReader(other), info); err != nil {
		t.Fatal(err)
	}
	mine := []byte("ferry's version")
	_, err := r.Put(testCtx, name, bytes.NewReader(mine), backends.Entry{Size: int64(len(mine)), ModTime: time.Now()})
	if !errors.Is(err, ErrNameNotKept) {
		t.Fatalf("Put over a hidden file: %v, want ErrNameNotKept", err)
	}
	rc, err := r.Open(testCtx, name)
	if err != nil {
		t.Fatalf("the other tool's file is gone: %v", err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, other) {
		t.Errorf("the other tool's file holds %q, want %q", got, other)
	}
}
