package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
)

// The run log keeps every committed run of a pair (docs/transactions.md):
//
//	header "FERRYLOG" | version uint16 BE
//	frame  run*        one per run: a zstd frame holding the entry
//
// Each entry is a frame of its own, appended and fsynced, so a crash while
// appending tears only that entry; the next AppendRun cuts the torn bytes
// off before it appends. When the file would grow past RunLogMaxSize it is
// rotated: PATH becomes PATH.1, PATH.1 becomes PATH.2, and so on up to
// PATH.3 (RunLogKeep); the oldest is dropped.
const (
	runLogMagic = "FERRYLOG"
	// RunLogVersion is the run log format this build writes and the
	// newest it reads.
	RunLogVersion = 1
	kindRun       = 'R'

	// RunLogMaxSize is the size past which AppendRun starts a new file.
	RunLogMaxSize = 8 << 20
	// RunLogKeep is the number of older generations kept.
	RunLogKeep = 3

	// maxRunBody bounds an entry before compression. AppendRun leaves out
	// errors and actions that would not fit (RunEntry.Omitted); the
	// reader refuses more. A million actions take about 60 bytes each.
	maxRunBody = 64 << 20
)

// RunEntry is one committed run.
type RunEntry struct {
	ID       string // the run's id, as in its journal
	Start    time.Time
	Duration time.Duration
	Mode     string
	// Path1 and Path2 are the canonical (secret-free) names of the sides.
	Path1, Path2 string
	// Counts counts actions per label (a decision, an op: the engine's
	// choice). Nil when empty.
	Counts map[string]int
	// Bytes are the bytes written to path1 and to path2.
	Bytes [2]int64
	// Errors are the messages of what went wrong without failing the
	// run (retried, skipped). Nil when empty.
	Errors []string
	// Actions are what the run did, path by path. Nil when empty.
	Actions []LoggedAction
	// Omitted counts the errors and actions that AppendRun left out to
	// keep the entry under 64 MiB (first actions, then errors); Counts
	// still counts them.
	Omitted int
}

// LoggedAction is one action of a run, as the run log keeps it.
type LoggedAction struct {
	Path     string
	Decision int // the numbered cell of docs/algorithm.md
	Op       string
	Reason   string
}

// AppendRun appends e to the run log at path, creating the log if needed
// and rotating it when it would grow past RunLogMaxSize. Strings in Errors
// and Actions over 1 MiB are cut to 1 MiB. A log written by a newer ferry
// is left alone, with an error wrapping ErrNewerFormat; a log whose header
// is damaged is rotated away, so that what can be read of it is kept.
func AppendRun(path string, e RunEntry) error {
	return appendRun(path, &e, RunLogMaxSize, RunLogKeep)
}

func appendRun(path string, e *RunEntry, limit int64, keep int) error {
	body, err := encodeRunBody(e)
	if err != nil {
		return fmt.Errorf("append to run log %s: %w", path, err)
	}
	enc, err := newRunEncoder()
	if err != nil {
		return fmt.Errorf("append to run log %s: zstd: %w", path, err)
	}
	frame := appendFrame(nil, kindRun, enc.EncodeAll(body, nil))

	removeStaleTemps(path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return newRunLog(path, frame)
	}
	if err != nil {
		return fmt.Errorf("append to run log: %w", err)
	}
	defer f.Close()
	// The whole file is read to find where its last intact entry ends: a
	// few megabytes once per committed run.
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("append to run log: %w", err)
	}
	end := -1 // a damaged header: rotate the file away
	if _, err := checkFileHead(data, runLogMagic, RunLogVersion); errors.Is(err, ErrNewerFormat) {
		return fmt.Errorf("append to run log %s: %w", path, err)
	} else if err == nil {
		end = intactEnd(data)
	}
	if end < 0 || end > fileHead && int64(end)+int64(len(frame)) > limit {
		f.Close()
		if err := rotate(path, keep); err != nil {
			return fmt.Errorf("append to run log %s: rotate: %w", path, err)
		}
		return newRunLog(path, frame)
	}
	if end < len(data) {
		// A torn entry, left by a crash while appending: nothing intact
		// follows it, so cut it off rather than bury it under this one.
		if err := f.Truncate(int64(end)); err != nil {
			return fmt.Errorf("append to run log: cut torn entry: %w", err)
		}
	}
	if _, err := f.WriteAt(frame, int64(end)); err != nil {
		return fmt.Errorf("append to run log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("append to run log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append to run log: %w", err)
	}
	return nil
}

// intactEnd returns where the file can be appended to: after its last
// intact frame when nothing intact follows the damage there, else its end.
func intactEnd(data []byte) int {
	off := fileHead
	for off < len(data) {
		_, _, next, ok := frameAt(data, off)
		if ok {
			off = next
			continue
		}
		q := nextFrame(data, off+1)
		if q < 0 {
			return off // a torn tail
		}
		off = q // damage in the middle: keep it for ReadRuns to report
	}
	return len(data)
}

// newRunLog creates a run log holding one frame, by way of a temporary
// file, so that a log always starts with a whole header.
func newRunLog(path string, frame []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("create run log: %w", err)
	}
	data := appendFileHead(make([]byte, 0, fileHead+len(frame)), runLogMagic, RunLogVersion)
	data = append(data, frame...)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("create run log %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("create run log %s: sync directory: %w", path, err)
	}
	return nil
}

// rotate shifts the generations: PATH.keep-1 over PATH.keep, ..., PATH
// to PATH.1. A crash between two renames leaves a gap, which ReadRuns
// skips.
func rotate(path string, keep int) error {
	for i := keep - 1; i >= 0; i-- {
		if err := os.Rename(generation(path, i), generation(path, i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// generation names the run log file of generation i: 0 is the current.
func generation(path string, i int) string {
	if i == 0 {
		return path
	}
	return fmt.Sprintf("%s.%d", path, i)
}

// ReadRuns reads every run in the run log at path, oldest first, across
// its generations. With no log there, the error wraps fs.ErrNotExist; a
// generation from a newer ferry gives an error wrapping ErrNewerFormat.
//
// A torn last entry (a crash while appending) is skipped silently. Damage
// anywhere else is skipped too, resuming at the next intact entry, and
// reported: ReadRuns then returns every intact run and an error wrapping
// ErrCorrupt that names the files and the damaged bytes. Resuming is safe
// because an entry is taken only whole, behind its marker and checksum.
func ReadRuns(path string) ([]RunEntry, error) {
	return readRuns(path, RunLogKeep)
}

func readRuns(path string, keep int) ([]RunEntry, error) {
	var (
		runs   []RunEntry
		damage []error
		found  bool
	)
	for i := keep; i >= 0; i-- {
		name := generation(path, i)
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read run log: %w", err)
		}
		found = true
		rs, err := decodeRuns(data)
		if errors.Is(err, ErrNewerFormat) {
			return nil, fmt.Errorf("read run log %s: %w", name, err)
		}
		if err != nil {
			damage = append(damage, fmt.Errorf("read run log %s: %w", name, err))
		}
		runs = append(runs, rs...)
	}
	if !found {
		return nil, fmt.Errorf("read run log: %w", &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist})
	}
	return runs, errors.Join(damage...)
}

// decodeRuns parses one run log file: the runs it could read, and an error
// wrapping ErrCorrupt describing what it skipped (see ReadRuns), or one
// wrapping ErrNewerFormat and no runs.
func decodeRuns(data []byte) ([]RunEntry, error) {
	var (
		runs    []RunEntry
		skipped []string
		dec     *zstd.Decoder
	)
	defer func() {
		if dec != nil {
			dec.Close()
		}
	}()
	off := fileHead
	if _, err := checkFileHead(data, runLogMagic, RunLogVersion); errors.Is(err, ErrNewerFormat) {
		return nil, err
	} else if err != nil {
		skipped = append(skipped, err.Error())
		if off = nextFrame(data, 0); off < 0 {
			off = len(data)
		}
	}
	for off < len(data) {
		kind, pl, next, ok := frameAt(data, off)
		if !ok {
			q := nextFrame(data, off+1)
			if q < 0 {
				break // a torn tail
			}
			skipped = append(skipped, fmt.Sprintf("bytes %d to %d damaged", off, q))
			off = q
			continue
		}
		if kind != kindRun {
			skipped = append(skipped, fmt.Sprintf("record of unknown kind %q at byte %d", kind, off))
			off = next
			continue
		}
		if dec == nil {
			var err error
			// Streaming keeps memory in step with what a damaged frame
			// actually decodes to, whatever size it claims.
			dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindowSize))
			if err != nil {
				return runs, fmt.Errorf("zstd: %w", err)
			}
		}
		e, err := decodeRun(dec, pl)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("entry at byte %d: %v", off, err))
		} else {
			runs = append(runs, e)
		}
		off = next
	}
	if len(skipped) > 0 {
		const show = 5
		more := ""
		if len(skipped) > show {
			more = fmt.Sprintf("; and %d more", len(skipped)-show)
			skipped = skipped[:show]
		}
		return runs, corrupt("skipped: %s%s", joinSemi(skipped), more)
	}
	return runs, nil
}

func joinSemi(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// runWindow is the zstd window of a run entry. An entry is usually a few
// hundred bytes, but one that lists the actions of a first sync of 100,000
// files takes 8 MB and one can take up to maxRunBody, so the window cannot
// cover the largest entry: it only bounds the encoder's memory. What repeats
// in an entry is near at hand (paths one after another, the same ops and
// reasons), so a small window costs little: the entry of a first sync of a
// 100,000-file vault takes 847 kB, where a 2 MiB window and the default
// level took 866 kB.
const runWindow = 64 << 10

// newRunEncoder returns an encoder for one run entry. Each append sets up
// its own: with the fastest level and a small window the encoder takes
// about 0.3 MB, little to set up once per run, where a shared one would keep
// its tables, up to 0.6 MB after a big entry, for the life of the process,
// between the runs of "ferry sync --every" too. The fastest level leaves a
// small entry as it is, some 20 bytes more than the default level: nothing
// in a log of 8 MiB.
func newRunEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), // the frame has its own checksum
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(runWindow),
		zstd.WithLowerEncoderMem(true),
	)
}

// The body of a run entry, before compression:
//
//	string(ID) time(Start) varint(Duration) string(Mode) string(Path1) string(Path2)
//	uvarint(len(Counts)) (string(label) varint(count))*   sorted by label
//	varint(Bytes[0]) varint(Bytes[1])
//	uvarint(len(Errors)) string*
//	uvarint(len(Actions)) (string(Path) varint(Decision) string(Op) string(Reason))*
//	uvarint(Omitted)
func encodeRunBody(e *RunEntry) ([]byte, error) {
	for _, f := range []struct{ name, s string }{
		{"ID", e.ID}, {"Mode", e.Mode}, {"Path1", e.Path1}, {"Path2", e.Path2},
	} {
		if err := checkString(f.name, f.s); err != nil {
			return nil, err
		}
	}
	if err := checkTime("Start", e.Start); err != nil {
		return nil, err
	}
	if e.Omitted < 0 {
		return nil, fmt.Errorf("Omitted is %d", e.Omitted)
	}
	labels := make([]string, 0, len(e.Counts))
	for l := range e.Counts {
		if err := checkString("a Counts label", l); err != nil {
			return nil, err
		}
		labels = append(labels, l)
	}
	slices.Sort(labels)

	b := appendString(nil, e.ID)
	b = appendTime(b, e.Start)
	b = binary.AppendVarint(b, int64(e.Duration))
	for _, s := range []string{e.Mode, e.Path1, e.Path2} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(labels)))
	for _, l := range labels {
		b = appendString(b, l)
		b = binary.AppendVarint(b, int64(clampInt32(e.Counts[l])))
	}
	b = binary.AppendVarint(b, e.Bytes[0])
	b = binary.AppendVarint(b, e.Bytes[1])
	// Room for the two counts and Omitted, then errors before actions:
	// they say what went wrong, and there are fewer of them.
	budget := maxRunBody - len(b) - 3*binary.MaxVarintLen64
	if budget < 0 {
		return nil, fmt.Errorf("entry over %d bytes before its errors and actions", maxRunBody)
	}
	nerr, errBytes := fitting(len(e.Errors), budget, func(i int) int { return stringLen(e.Errors[i]) })
	budget -= errBytes
	nact, actBytes := fitting(len(e.Actions), budget, func(i int) int {
		a := &e.Actions[i]
		return stringLen(a.Path) + varintLen(int64(clampInt32(a.Decision))) + stringLen(a.Op) + stringLen(a.Reason)
	})
	b = slices.Grow(b, errBytes+actBytes+3*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, uint64(nerr))
	for _, s := range e.Errors[:nerr] {
		b = appendString(b, cut(s))
	}
	b = binary.AppendUvarint(b, uint64(nact))
	for i := range e.Actions[:nact] {
		a := &e.Actions[i]
		b = appendString(b, cut(a.Path))
		b = binary.AppendVarint(b, int64(clampInt32(a.Decision)))
		b = appendString(b, cut(a.Op))
		b = appendString(b, cut(a.Reason))
	}
	omitted := clampInt32(e.Omitted + len(e.Errors) - nerr + len(e.Actions) - nact)
	return binary.AppendUvarint(b, uint64(omitted)), nil
}

// fitting returns how many of n items, of the given encoded sizes, fit in
// budget bytes, and the bytes they take.
func fitting(n, budget int, size func(int) int) (int, int) {
	used := 0
	for i := range n {
		s := size(i)
		if used+s > budget {
			return i, used
		}
		used += s
	}
	return n, used
}

// stringLen is the size of appendString(cut(s)).
func stringLen(s string) int {
	n := min(len(s), maxString)
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], uint64(n)) + n
}

func varintLen(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}

func cut(s string) string { return s[:min(len(s), maxString)] }

func clampInt32(v int) int { return max(min(v, math.MaxInt32), math.MinInt32) }

// decodeRun decompresses and parses one entry.
func decodeRun(dec *zstd.Decoder, compressed []byte) (RunEntry, error) {
	if err := dec.Reset(bytes.NewReader(compressed)); err != nil {
		return RunEntry{}, corrupt("zstd: %v", err)
	}
	var buf bytes.Buffer
	// The size the frame declares saves regrowing the buffer; a damaged
	// one cannot make it much larger than any real entry compresses from.
	var zh zstd.Header
	if zh.Decode(compressed) == nil && zh.HasFCS {
		buf.Grow(int(min(zh.FrameContentSize, maxRunBody, 1024*uint64(len(compressed)))) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(dec, maxRunBody+1))
	if err != nil {
		return RunEntry{}, corrupt("zstd: %v", err)
	}
	if n > maxRunBody {
		return RunEntry{}, corrupt("entry over %d bytes", maxRunBody)
	}
	p := &payload{b: buf.Bytes(), what: "run entry"}
	var e RunEntry
	e.ID = p.string("ID")
	e.Start = p.time("Start")
	e.Duration = time.Duration(p.varint("Duration"))
	e.Mode = p.string("Mode")
	e.Path1 = p.string("Path1")
	e.Path2 = p.string("Path2")
	if n := p.count("counts", 2); n > 0 {
		e.Counts = make(map[string]int, n)
		prev := ""
		for i := range n {
			l := p.string("label")
			c := p.varint("count")
			if p.err != nil {
				break
			}
			if i > 0 && l <= prev {
				p.fail("label %q not after %q", l, prev)
				break
			}
			if c < math.MinInt32 || c > math.MaxInt32 {
				p.fail("count %d", c)
				break
			}
			e.Counts[l], prev = int(c), l
		}
	}
	e.Bytes[0] = p.varint("Bytes")
	e.Bytes[1] = p.varint("Bytes")
	if n := p.count("errors", 1); n > 0 {
		e.Errors = make([]string, 0, n)
		for range n {
			e.Errors = append(e.Errors, p.string("error"))
		}
	}
	if n := p.count("actions", 4); n > 0 {
		e.Actions = make([]LoggedAction, 0, n)
		for range n {
			var a LoggedAction
			a.Path = p.string("action path")
			d := p.varint("decision")
			if d < math.MinInt32 || d > math.MaxInt32 {
				p.fail("decision %d", d)
			}
			a.Decision = int(d)
			a.Op = p.string("op")
			a.Reason = p.string("reason")
			if p.err != nil {
				break
			}
			e.Actions = append(e.Actions, a)
		}
	}
	omitted := p.uvarint("Omitted")
	if omitted > math.MaxInt32 {
		p.fail("Omitted %d", omitted)
	}
	e.Omitted = int(omitted)
	if err := p.done(); err != nil {
		return RunEntry{}, err
	}
	return e, nil
}
