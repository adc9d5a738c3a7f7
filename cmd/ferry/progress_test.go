package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/bisync"
)

// TestProgressLine follows the status line through a run: the listing
// counts as they grow, then the actions with bytes, rate and time left.
// Log lines written meanwhile land above it, and stop removes it.
func TestProgressLine(t *testing.T) {
	var screen bytes.Buffer
	p := newProgress(&screen, func() int { return 0 })
	clock := time.Date(2026, 11, 22, 21, 5, 0, 0, time.UTC)
	p.mu.Lock()
	p.now = func() time.Time { return clock }
	p.mu.Unlock()
	o := bisync.DefaultOptions()
	p.hook(&o)

	status := func() string {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.status()
	}
	o.Listed(1, 1, false)
	o.Listed(2, 1, false)
	o.Listed(1, 1204, false)
	if got, want := status(), "listing: path1 1204 files..., path2 1 file..."; got != want {
		t.Errorf("listing: %q, want %q", got, want)
	}
	o.Listed(1, 1204, true)
	o.Listed(2, 980, true)
	if got, want := status(), "comparing: path1 1204 files, path2 980 files"; got != want {
		t.Errorf("listed: %q, want %q", got, want)
	}

	mib := int64(1 << 20)
	o.Planned([]bisync.Action{
		{Path: "a", Op: bisync.OpCopy1to2, Size: 4 * mib},
		{Path: "b", Op: bisync.OpCopy2to1, Size: 6 * mib},
		{Path: "c", Op: bisync.OpDelete1},
		{Path: "d", Op: bisync.OpNothing, Size: 99},
	})
	if got, want := status(), "0/3 actions done, 0 bytes of 10.0 MiB"; got != want {
		t.Errorf("planned: %q, want %q", got, want)
	}
	// Bytes show as they travel, before their copy is done.
	clock = clock.Add(time.Second)
	o.Moved(mib)
	o.Moved(mib / 2)
	if got, want := status(), "0/3 actions done, 1.5 MiB of 10.0 MiB, 1.5 MiB/s, 6s left"; got != want {
		t.Errorf("moving: %q, want %q", got, want)
	}
	clock = clock.Add(time.Second)
	o.Moved(4*mib - mib - mib/2)
	o.Progress(bisync.Action{Path: "a", Op: bisync.OpCopy1to2, Size: 4 * mib}, nil)
	o.Progress(bisync.Action{Path: "c", Op: bisync.OpDelete1}, errors.New("permission denied"))
	if got, want := status(), "2/3 actions done (1 failed), 4.0 MiB of 10.0 MiB, 2.0 MiB/s, 3s left"; got != want {
		t.Errorf("transferring: %q, want %q", got, want)
	}

	screen.Reset()
	p.logWriter().Write([]byte("time=... level=INFO msg=done\n"))
	want := "\r\x1b[Ktime=... level=INFO msg=done\n\r2/3 actions done"
	if got := screen.String(); !strings.HasPrefix(got, want) {
		t.Errorf("a log line: %q, want it to start %q", got, want)
	}
	p.stop()
	p.stop()
	if got := screen.String(); !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("stop did not clear the line: %q", got)
	}
	screen.Reset()
	p.logWriter().Write([]byte("late\n"))
	if got := screen.String(); got != "late\n" {
		t.Errorf("a log line after stop: %q, want it alone", got)
	}
}

func TestProgressTruncates(t *testing.T) {
	var screen bytes.Buffer
	p := newProgress(&screen, func() int { return 20 })
	p.stop()
	line := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(screen.String(), "\x1b[K", 2)[0], "\r"), "")
	if n := len([]rune(line)); n != 19 || !strings.HasSuffix(line, "…") {
		t.Errorf("on a terminal 20 wide the line is %q (%d runes), want 19 ending in …", line, n)
	}
}

func TestFormatLeft(t *testing.T) {
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond:                        "<1s",
		3*time.Second + 400*time.Millisecond:          "3s",
		5*time.Minute + 10*time.Second:                "5m10s",
		5 * time.Minute:                               "5m",
		2*time.Hour + 14*time.Minute + 50*time.Second: "2h15m",
	} {
		if got := formatLeft(d); got != want {
			t.Errorf("formatLeft(%v) = %q, want %q", d, got, want)
		}
	}
}
