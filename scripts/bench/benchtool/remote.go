package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The remote scenarios: a local folder synced with a real S3 or WebDAV
// server on 127.0.0.1 (see servers.go), every request counted.
//
//   - remote: a vault and its copy on a server; after an untimed first sync
//     (the upload), timed runs with no change, which should make listing
//     requests only (a PROPFIND per folder on WebDAV, a ListObjects per
//     1,000 keys on S3), never one per file.
//   - rename: a folder of 1,000 attachments renamed on the local side; the
//     timed run should move the files where they are (S3's server-side
//     copy, WebDAV's COPY or MOVE, a rename on a local disk) and send no
//     content.

// startServers starts the servers of -servers and writes the rclone config
// that reaches each through its proxy. A server that cannot start is left
// out with a note; stop stops those that did.
func (b *bench) startServers() (func(), error) {
	// Credentials of throwaway servers, but credentials still: 0600.
	b.remoteConf = filepath.Join(b.cfg.work, "remote-rclone.conf")
	var conf strings.Builder
	for _, kind := range b.cfg.servers {
		b.logf("starting the %s server (scripts/testserver/%s.sh)", kind, kind)
		srv, err := startServer(b.cfg.module, kind)
		if err != nil {
			b.logf("  left out: %v", err)
			b.serverNotes = append(b.serverNotes, fmt.Sprintf("%s: not run, the server did not start: %s", kind, truncate(err.Error(), 300)))
			continue
		}
		b.servers = append(b.servers, srv)
		conf.WriteString(srv.confSection() + "\n")
	}
	stop := func() {
		for _, srv := range b.servers {
			if err := srv.stop(); err != nil {
				b.logf("stopping the %s server: %v", srv.kind, err)
			}
		}
		os.Remove(b.remoteConf)
	}
	if err := os.WriteFile(b.remoteConf, []byte(conf.String()), 0o600); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// remotePair is one tool's pair in a remote scenario: a local folder and a
// folder on a server (srv nil: another local folder).
type remotePair struct {
	pair
	tool   syncTool
	srv    *server
	folder string  // on the server: the folder under its path
	row    *series // where its timed runs are recorded
}

// otherSide is the folder that holds the second side's files on this disk:
// the server's own data folder, read directly.
func (rp remotePair) otherSide() string {
	if rp.srv == nil {
		return rp.two
	}
	return rp.srv.dataDir(rp.folder)
}

// newRemotePair makes tool's pair of src under dir: a hard-linked copy of
// src, and an empty folder on srv, or (srv nil) a second hard-linked copy.
// The folder on the server is made first: rclone bisync will not start on a
// path that does not exist, and so every tool starts from the same point.
func (b *bench) newRemotePair(src, dir string, tool syncTool, srv *server, folder string) (remotePair, error) {
	os.RemoveAll(dir)
	rp := remotePair{pair: pair{one: filepath.Join(dir, "one"), state: filepath.Join(dir, "state")}, tool: tool, srv: srv, folder: folder}
	if err := os.MkdirAll(rp.state, 0o755); err != nil {
		return rp, err
	}
	if err := sh("cp", "-al", src, rp.one); err != nil {
		return rp, err
	}
	if srv == nil {
		rp.two = filepath.Join(dir, "two")
		return rp, sh("cp", "-al", src, rp.two)
	}
	rp.two = srv.remote(folder)
	if err := os.RemoveAll(rp.otherSide()); err != nil {
		return rp, err
	}
	return rp, sh(b.cfg.rclone, "mkdir", rp.two, "--config", b.remoteConf)
}

// timed runs the pair's tool once, with extra flags, and returns the
// sample and the requests it made to the server (nil for a local pair).
func (rp remotePair) timed(first bool, extra ...string) (sample, traffic) {
	var before traffic
	if rp.srv != nil {
		before = rp.srv.proxy.snapshot()
	}
	sm := measure(rp.tool.env(rp.pair), append(rp.tool.args(rp.pair, first), extra...)...)
	if rp.srv == nil {
		return sm, nil
	}
	return sm, rp.srv.proxy.snapshot().sub(before)
}

// firstSync runs the pair's untimed first sync (an upload when the second
// side is a server) and checks that both sides hold the same files.
func (b *bench) firstSync(rp remotePair, what string) error {
	b.logf("%s: first sync, untimed for the table", what)
	sm, wire := rp.timed(true)
	if sm.err != nil {
		return sm.err
	}
	if err := same(rp.one, rp.otherSide()); err != nil {
		return fmt.Errorf("the sides differ after the first sync: %w", err)
	}
	note := fmt.Sprintf("%s: %.1f s, %.0f MiB", what, sm.wall.Seconds(), float64(sm.rssKB)/1024)
	if wire != nil {
		files, _ := walkFiles(rp.one)
		tot := wire.total()
		note += fmt.Sprintf("; %d requests, %.1f per file (%s), %.1f MB sent", tot.requests, float64(tot.requests)/float64(files), wire.mix(), float64(tot.sent)/1e6)
	}
	b.remoteFirst = append(b.remoteFirst, note)
	return nil
}

// remoteNoChange is the remote scenario on one vault: for each server, each
// tool's pair uploaded once, then timed runs with no change.
func (b *bench) remoteNoChange(t tree) error {
	c := b.cfg
	base := filepath.Join(c.work, "remote", t.name)
	defer os.RemoveAll(base)
	folders, err := folderCount(t.dir)
	if err != nil {
		return err
	}
	for _, srv := range b.servers {
		var pairs []remotePair
		for _, tl := range b.syncTools(b.remoteConf, true) {
			slug := strings.ReplaceAll(tl.name, " ", "-")
			rp, err := b.newRemotePair(t.dir, filepath.Join(base, srv.kind, slug), tl, srv, "bench/"+t.name+"-"+slug)
			if err != nil {
				return err
			}
			if err := b.firstSync(rp, fmt.Sprintf("%s to %s, %s", t.name, srv.kind, tl.name)); err != nil {
				b.logf("  %s failed, left out: %v", tl.name, err)
				s := b.add("remote", t.name, t.files, tl.name)
				s.server, s.err = srv.kind, err.Error()
				continue
			}
			pairs = append(pairs, rp)
		}
		for i := range pairs {
			pairs[i].row = b.add("remote", t.name, t.files, pairs[i].tool.name)
			pairs[i].row.server, pairs[i].row.folders = srv.kind, folders
		}
		for rep := range c.reps {
			b.logf("%s on %s: no change, repetition %d of %d", t.name, srv.kind, rep+1, c.reps)
			for _, rp := range rotate(pairs, rep) {
				sm, wire := rp.timed(false)
				rp.row.record(sm)
				rp.row.wire = append(rp.row.wire, wire)
				b.logf("  %-30s %6.2f s %6.0f MiB  others %.2f cores  %s %v", rp.tool.name, sm.wall.Seconds(), float64(sm.rssKB)/1024, sm.other, wire.mix(), errText(sm.err))
			}
		}
		for _, rp := range pairs {
			if err := os.RemoveAll(rp.otherSide()); err != nil {
				return err
			}
		}
	}
	return nil
}

// The rename scenario's tree and its folder of attachments, which each
// repetition renames back and forth.
const (
	renameFiles  = 1000
	renameParent = "Projects/Trip 2025"
)

var renameNames = [2]string{"attachments", "media"}

// renameTree generates the rename scenario's tree once.
func (b *bench) renameTree() (string, error) {
	dir := filepath.Join(b.cfg.work, "trees", "attachments-1k")
	stamp := dir + ".done"
	if _, err := os.Stat(stamp); err == nil {
		return dir, nil
	}
	b.logf("generating attachments-1k")
	os.RemoveAll(dir)
	st, err := genAttachments(dir, filepath.FromSlash(renameParent+"/"+renameNames[0]), renameFiles, 1)
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(stamp, fmt.Appendf(nil, "%d files, %d bytes\n", st.files, st.bytes), 0o644)
}

// rename is the rename scenario: for a local pair and for each server, each
// tool's pair synced once; then each repetition renames the folder of
// attachments on the local side and times the run that carries the rename
// over.
func (b *bench) rename() error {
	c := b.cfg
	src, err := b.renameTree()
	if err != nil {
		return err
	}
	_, sizes, err := listFiles(filepath.Join(src, filepath.FromSlash(renameParent), renameNames[0]))
	if err != nil {
		return err
	}
	for _, n := range sizes {
		b.renameBytes += n
	}
	base := filepath.Join(c.work, "rename")
	defer os.RemoveAll(base)
	targets := append([]*server{nil}, b.servers...)
	var pairs []remotePair
	for _, srv := range targets {
		where := "local"
		if srv != nil {
			where = srv.kind
		}
		for _, tl := range b.syncTools(b.remoteConf, true) {
			slug := strings.ReplaceAll(tl.name, " ", "-")
			rp, err := b.newRemotePair(src, filepath.Join(base, where, slug), tl, srv, "bench/rename-"+slug)
			if err == nil {
				err = b.firstSync(rp, fmt.Sprintf("attachments-1k to %s, %s", where, tl.name))
			}
			rp.row = b.add("rename", "attachments-1k", renameFiles, tl.name)
			rp.row.server = where
			if err != nil {
				b.logf("  %s failed, left out: %v", tl.name, err)
				rp.row.err = err.Error()
				continue
			}
			pairs = append(pairs, rp)
		}
	}
	for rep := range c.reps {
		from, to := renameNames[rep%2], renameNames[(rep+1)%2]
		b.logf("rename %s to %s, repetition %d of %d", from, to, rep+1, c.reps)
		for _, rp := range rotate(pairs, rep) {
			oldDir := filepath.Join(rp.one, filepath.FromSlash(renameParent), from)
			newDir := filepath.Join(rp.one, filepath.FromSlash(renameParent), to)
			if err := os.Rename(oldDir, newDir); err != nil {
				return err
			}
			sm, wire := rp.timed(false, rp.tool.force...)
			written := math.NaN()
			if sm.err == nil {
				written, sm.err = rp.checkRename(from, to, wire)
			}
			rp.row.record(sm)
			rp.row.wire = append(rp.row.wire, wire)
			rp.row.written = append(rp.row.written, written)
			b.logf("  %-15s %-30s %6.2f s %6.0f MiB  others %.2f cores  %.1f MB of content  %s %v", rp.row.server, rp.tool.name, sm.wall.Seconds(), float64(sm.rssKB)/1024, sm.other, written/1e6, wire.mix(), errText(sm.err))
		}
	}
	for _, rp := range pairs {
		if rp.srv != nil {
			if err := os.RemoveAll(rp.otherSide()); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRename checks that both sides hold the folder under its new name,
// with the same content, and nothing under the old one (empty folders
// aside), and returns how many bytes of file content the run wrote to the
// second side: the bodies of uploads for a server, and for a local pair the
// files of the renamed folder that are no longer the first side's own (a
// rename keeps them hard links of the first side's files, a copy does not).
func (rp remotePair) checkRename(from, to string, wire traffic) (float64, error) {
	parent := filepath.FromSlash(renameParent)
	newOne, newTwo := filepath.Join(rp.one, parent, to), filepath.Join(rp.otherSide(), parent, to)
	for _, d := range []string{rp.one, rp.otherSide()} {
		n, err := walkFiles(filepath.Join(d, parent, from))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return math.NaN(), err
		}
		if n > 0 {
			return math.NaN(), fmt.Errorf("%s still holds %d files under %s", d, n, from)
		}
	}
	if err := sameContent(newOne, newTwo); err != nil {
		return math.NaN(), fmt.Errorf("the renamed folder differs: %w", err)
	}
	if n, err := walkFiles(newTwo); err != nil || n != renameFiles {
		return math.NaN(), fmt.Errorf("%s holds %d files, want %d (%v)", newTwo, n, renameFiles, err)
	}
	if rp.srv != nil {
		var sent int64
		for class, f := range wire {
			if sendsContent(class) {
				sent += f.sent
			}
		}
		return float64(sent), nil
	}
	return copiedBytes(newOne, newTwo)
}

// sameContent reports whether two folders hold the same files, byte for
// byte.
func sameContent(a, b string) error {
	if err := same(a, b); err != nil {
		return err
	}
	paths, _, err := listFiles(a)
	if err != nil {
		return err
	}
	for _, p := range paths {
		x, err := os.ReadFile(filepath.Join(a, filepath.FromSlash(p)))
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, filepath.FromSlash(p)))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			return fmt.Errorf("%s: the content differs", p)
		}
	}
	return nil
}

// copiedBytes sums the sizes of the files under b that are not the same
// file (inode) as their namesake under a.
func copiedBytes(a, b string) (float64, error) {
	paths, sizes, err := listFiles(b)
	if err != nil {
		return math.NaN(), err
	}
	var n int64
	for _, p := range paths {
		x, err := os.Stat(filepath.Join(a, filepath.FromSlash(p)))
		if err != nil {
			return math.NaN(), err
		}
		y, err := os.Stat(filepath.Join(b, filepath.FromSlash(p)))
		if err != nil {
			return math.NaN(), err
		}
		if !os.SameFile(x, y) {
			n += sizes[p]
		}
	}
	return float64(n), nil
}

// folderCount counts the folders of a tree, its root included: a WebDAV
// client lists each with one PROPFIND.
func folderCount(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			n++
		}
		return err
	})
	return n, err
}

// medianTraffic is the repetition whose request count is the median's, or
// nil if none was counted.
func medianTraffic(ws []traffic) traffic {
	var counted []traffic
	for _, w := range ws {
		if w != nil {
			counted = append(counted, w)
		}
	}
	if len(counted) == 0 {
		return nil
	}
	slices.SortFunc(counted, func(x, y traffic) int { return int(x.total().requests - y.total().requests) })
	return counted[len(counted)/2]
}
