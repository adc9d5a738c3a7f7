package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestProgressOnTerminalOnly runs the binary with its stderr on a
// pseudo-terminal, as a person at a terminal would, and checks that it
// draws a status line there (rewritten with carriage returns, listing counts
// first, then the actions); then with stderr in a pipe, as from a script
// or a timer, and with -q and --json on the terminal, and checks that no
// status line appears.
func TestProgressOnTerminalOnly(t *testing.T) {
	e := newEnv(t)
	// Enough files that the run lasts a few redraws on a busy machine too;
	// the first draw comes at once whatever the run's length.
	var files []string
	for i := range 300 {
		files = append(files, fmt.Sprintf("notes/n%03d.md", i), strings.Repeat("x", 1000+i))
	}
	write(t, e.p1, files...)

	tty := func(args ...string) (stdout, term string) {
		t.Helper()
		ptmx, tt, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal here: %v", err)
		}
		defer ptmx.Close()
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 120}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, ferryBin, append([]string{"sync", e.p1, e.p2, "--workdir", e.work}, args...)...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + e.home,
			"XDG_CONFIG_HOME=" + filepath.Join(e.home, ".config"),
			"XDG_CACHE_HOME=" + filepath.Join(e.home, ".cache"),
			"XDG_STATE_HOME=" + filepath.Join(e.home, ".local", "state"),
			"RCLONE_CONFIG=" + e.rcloneRC,
			"TMPDIR=" + os.TempDir(),
			"TERM=xterm",
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, tt, nil
		if err := cmd.Start(); err != nil {
			tt.Close()
			t.Fatal(err)
		}
		tt.Close() // the child has its own; the reader below ends when it exits
		var screen bytes.Buffer
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(&screen, ptmx)
			done <- err
		}()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("ferry sync %s on a terminal: %v\nstdout:\n%s", strings.Join(args, " "), err, out.String())
		}
		// Linux ends a pty's reads with EIO once the last writer is gone.
		if err := <-done; err != nil && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
			t.Fatalf("reading the terminal: %v", err)
		}
		return out.String(), screen.String()
	}

	stdout, screen := tty()
	if !strings.Contains(screen, "\rlisting: path1 ") {
		t.Errorf("no listing counts on the terminal:\n%q", screen)
	}
	if !strings.Contains(screen, "actions done") {
		t.Errorf("no count of actions on the terminal:\n%q", screen)
	}
	if !strings.HasSuffix(screen, "\r\x1b[K") {
		t.Errorf("the status line is not cleared at the end:\n%q", screen)
	}
	if strings.Contains(stdout, "\r") || !strings.Contains(stdout, lineSuccess) {
		t.Errorf("stdout, a pipe, holds a status line or lacks the success line:\n%q", stdout)
	}

	write(t, e.p1, "more.md", "one more\n")
	if _, stdout, stderr := e.syncCode(); stderr != "" || strings.Contains(stdout, "\r") {
		t.Errorf("in a pipe: stdout %q, stderr %q; want no status line anywhere", stdout, stderr)
	}

	write(t, e.p1, "more.md", "changed again\n")
	if _, screen := tty("-q"); screen != "" {
		t.Errorf("-q on a terminal drew %q", screen)
	}
	write(t, e.p1, "more.md", "and again, for --json\n")
	if stdout, screen := tty("--json"); screen != "" || !strings.Contains(stdout, `"event":"summary"`) {
		t.Errorf("--json on a terminal: stderr %q, stdout:\n%s", screen, stdout)
	}
}
