package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/ferry-sync/ferry/bisync"
)

// progress shows how a run goes, on one status line of a terminal that it
// rewrites in place: first how many files each side has listed so far, then
// how many actions are done, with the bytes moved, the rate and the time
// left. It draws nothing else (no bars), and only on a terminal: in a pipe
// or a file, a line rewritten with carriage returns is noise.
//
// Log lines (-v, -vv) go through logWriter, which clears the status line,
// writes the log line and draws the status line again below it, as rclone
// does with --progress, so that neither garbles the other.
type progress struct {
	w     io.Writer
	width func() int // the terminal's width; 0 when unknown
	now   func() time.Time

	// Written by the listing goroutines of both sides at once.
	listed   [2]atomic.Int64
	listDone [2]atomic.Bool

	mu      sync.Mutex // guards the fields below and every write to w
	drawn   bool       // a status line is on the screen now
	planned bool
	// Totals of the plan, and what of it is finished.
	total, done, failed int
	totalBytes          int64
	// moved counts the bytes copies moved so far (bisync.Options.Moved),
	// written by the copies as they go.
	moved   atomic.Int64
	started time.Time // when the plan was made: transfers start
	stopped bool

	quit chan struct{}
	wg   sync.WaitGroup
}

// progressInterval is how often the status line is redrawn: often enough
// to look alive, rarely enough to cost nothing.
const progressInterval = 250 * time.Millisecond

// terminalWidth returns a function reporting the width of the terminal f,
// or 0 when it cannot tell.
func terminalWidth(f *os.File) func() int {
	return func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}

// isTerminal reports whether w is a terminal that can take a status line
// rewritten in place: not TERM=dumb, which cannot clear a line.
func isTerminal(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return nil, false
	}
	return f, term.IsTerminal(int(f.Fd()))
}

// newProgress starts drawing a status line on w, a terminal, refreshed
// every progressInterval until stop.
func newProgress(w io.Writer, width func() int) *progress {
	p := &progress{w: w, width: width, now: time.Now, quit: make(chan struct{})}
	// Drawn at once, so that even a run shorter than an interval shows
	// that it started.
	p.mu.Lock()
	p.draw()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// hook makes o report to p. It keeps o's own Progress, if any.
func (p *progress) hook(o *bisync.Options) {
	prevListed, prevPlanned, prevProgress := o.Listed, o.Planned, o.Progress
	o.Listed = func(side, files int, done bool) {
		p.listed[side-1].Store(int64(files))
		if done {
			p.listDone[side-1].Store(true)
		}
		if prevListed != nil {
			prevListed(side, files, done)
		}
	}
	o.Planned = func(plan []bisync.Action) {
		p.plan(plan)
		if prevPlanned != nil {
			prevPlanned(plan)
		}
	}
	prevMoved := o.Moved
	o.Moved = func(n int64) {
		p.moved.Add(n)
		if prevMoved != nil {
			prevMoved(n)
		}
	}
	o.Progress = func(a bisync.Action, err error) {
		p.finished(a, err)
		if prevProgress != nil {
			prevProgress(a, err)
		}
	}
}

func (p *progress) plan(plan []bisync.Action) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.planned = true
	p.started = p.now()
	for _, a := range plan {
		if a.Op != bisync.OpNothing {
			p.total++
			p.totalBytes += a.Size
		}
	}
	p.draw()
}

func (p *progress) finished(a bisync.Action, err error) {
	if a.Op == bisync.OpNothing {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if err != nil {
		p.failed++
	}
}

// status is the text of the status line now. Call with mu held.
func (p *progress) status() string {
	count := func(s int) string {
		n := p.listed[s].Load()
		text := fmt.Sprintf("path%d %d %s", s+1, n, plural(int(n), "file", "files"))
		if !p.listDone[s].Load() {
			text += "..."
		}
		return text
	}
	if !p.planned {
		if p.listDone[0].Load() && p.listDone[1].Load() {
			return "comparing: " + count(0) + ", " + count(1)
		}
		return "listing: " + count(0) + ", " + count(1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d %s done", p.done, p.total, plural(p.total, "action", "actions"))
	if p.failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", p.failed)
	}
	if p.totalBytes > 0 {
		// Bytes read by copies that then failed count too, as in
		// rclone's own accounting; never more than the plan's total.
		moved := min(p.moved.Load(), p.totalBytes)
		fmt.Fprintf(&b, ", %s of %s", formatBytes(moved), formatBytes(p.totalBytes))
		elapsed := p.now().Sub(p.started)
		if moved > 0 && elapsed > 0 {
			rate := float64(moved) / elapsed.Seconds()
			left := time.Duration(float64(p.totalBytes-moved) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", %s/s, %s left", formatBytes(int64(rate)), formatLeft(left))
		}
	}
	return b.String()
}

// formatLeft is a time left, rounded to what a person cares about.
func formatLeft(d time.Duration) string {
	switch {
	case d < time.Second:
		return "<1s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		// "5m0s" reads better as "5m"; "5m10s" stays.
		s := d.Round(time.Second).String()
		if t, ok := strings.CutSuffix(s, "m0s"); ok {
			return t + "m"
		}
		return s
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}

// draw rewrites the status line. Call with mu held.
func (p *progress) draw() {
	if p.stopped {
		return
	}
	line := p.status()
	// A line longer than the terminal would wrap, and the carriage
	// return would then rewrite only its last row.
	if w := p.width(); w > 1 && utf8.RuneCountInString(line) > w-1 {
		line = string([]rune(line)[:w-2]) + "…"
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

// clear removes the status line. Call with mu held.
func (p *progress) clear() {
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// stop removes the status line for good, before the report is printed.
// It may be called more than once.
func (p *progress) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.clear()
	p.stopped = true
	p.mu.Unlock()
	close(p.quit)
	p.wg.Wait()
}

// logWriter is where logs go while p draws: each write clears the status
// line first and draws it again after.
func (p *progress) logWriter() io.Writer { return progressLog{p} }

type progressLog struct{ p *progress }

func (l progressLog) Write(b []byte) (int, error) {
	p := l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	n, err := p.w.Write(b)
	if !p.stopped {
		p.draw()
	}
	return n, err
}
