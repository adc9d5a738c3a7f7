package history

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The journal records a run in progress, beside the history of its pair
// (DESIGN.md "A run is a transaction"; layout in docs/transactions.md):
//
//	header "FERRYJNL" | version uint16 BE
//	frame  begin               the run: id, time, mode, sides, plan size
//	frame  carried*            changes recovered from interrupted runs
//	frame  done*               finished operations, one frame per flush
//	frame  commit?             every operation succeeded
//
// CreateJournal writes the header, the begin frame and the carried frames
// to a temporary file and renames it into place, so a journal always starts
// whole. After that, each flush appends exactly one frame and fsyncs it
// before the next is written: frames that reach the disk out of order can
// only be those of one unsynced flush, so at most the last frame can be
// torn, and an intact frame after a damaged one is real damage.
const (
	journalMagic = "FERRYJNL"
	// JournalVersion is the journal format this build writes and the
	// newest it reads.
	JournalVersion = 1
)

// Frame kinds of the journal.
const (
	kindBegin   = 'B'
	kindCarried = 'K'
	kindDone    = 'D'
	kindCommit  = 'C'
)

// Defaults of JournalWriter's knobs, and the size at which a batch is
// flushed whatever its count.
const (
	DefaultFlushEvery    = 256
	DefaultFlushInterval = time.Second
	batchBytes           = 1 << 20
)

// Change is one change to the history: set Record for Path, or remove Path.
type Change struct {
	Path string
	// Remove removes Path from the history, and only Path: a directory's
	// contents have changes of their own.
	Remove bool
	// Record is the path's new record when !Remove, with Record.Path ==
	// Path. With Remove it is ignored, and read back as the zero Record.
	Record Record
}

// OpRecord is one finished action of a run and what it changed in the
// history: usually one Change for Path, more when an action touches more
// paths (a conflict keeps the loser under a new name).
type OpRecord struct {
	Path     string
	Decision int    // the numbered cell of docs/algorithm.md
	Op       string // what was done, as the engine names it
	Changes  []Change
}

// JournalBegin opens a journal: which run this is and what it set out to do.
type JournalBegin struct {
	// ID names the run; the run log entry of the run carries the same.
	// CreateJournal makes a random one when it is empty.
	ID    string
	Start time.Time
	Mode  string
	// Path1 and Path2 are the canonical (secret-free) names of the sides,
	// Hash1 and Hash2 the kinds of the hashes in the changes' fingerprints.
	Path1, Path2 string
	Hash1, Hash2 string
	// Planned is the number of actions in the plan.
	Planned int
	// Carried are the changes of interrupted runs that this run recovered
	// (Journal.Changes of the journal it replaces), kept so that they
	// survive until a run commits. Fold applies them before Ops.
	Carried []Change
}

// Journal is what ReadJournal found.
type Journal struct {
	Begin JournalBegin
	// Ops are the operations recorded as done, in the order they were.
	Ops []OpRecord
	// Committed: the run succeeded and wrote its commit record.
	Committed bool
	// Torn: the file ended in a partial record, left by a crash while it
	// was being appended, and ignored. The operations in it were not
	// flushed; the run did not count on them being recorded.
	Torn bool
}

// NewRunID returns a random run id: 16 lowercase hex digits.
func NewRunID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make run id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// JournalWriter appends a run's finished operations to its journal. Done
// buffers them; they become durable, one frame and one fsync per batch,
// when FlushEvery are waiting, FlushInterval after the first of them
// arrived, on Flush, Commit or Close. A crash loses at most the batch being
// buffered; the engine finds those operations already done on the next run
// and records them then. Its methods may be called from several goroutines.
//
// After a failed write or fsync the writer refuses everything with that
// error: what reached the disk is unknown, and appending after a partial
// frame would turn a torn tail into damage in the middle.
type JournalWriter struct {
	// FlushEvery is the number of buffered operations that Done flushes
	// at once; 1 or less flushes every Done. Set it before the first Done.
	FlushEvery int
	// FlushInterval is how long an operation may wait in the buffer before
	// a timer flushes it; 0 or less leaves it to FlushEvery and the
	// explicit calls. Set it before the first Done.
	FlushInterval time.Duration

	path string
	id   string

	mu     sync.Mutex
	f      *os.File
	pend   []byte // encoded operations waiting to be flushed
	npend  int
	frame  []byte
	done   int // operations written in done frames
	timer  *time.Timer
	armed  bool
	err    error // sticky: the first failure
	closed bool
}

var errJournalClosed = errors.New("journal closed")

// CreateJournal starts the journal of a run at path, replacing any journal
// there: it writes the header, begin and begin.Carried to a temporary file
// in the same directory, fsyncs it and renames it over path, so that path
// holds either the old journal or the new one, whole.
func CreateJournal(path string, begin JournalBegin) (*JournalWriter, error) {
	if begin.ID == "" {
		id, err := NewRunID()
		if err != nil {
			return nil, fmt.Errorf("create journal %s: %w", path, err)
		}
		begin.ID = id
	}
	data, err := encodeJournalStart(&begin)
	if err != nil {
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	removeStaleTemps(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tmpInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	fail := func(err error) (*JournalWriter, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	// The file stays open: after the rename it is the journal, and the
	// writer appends to it.
	if err := os.Rename(f.Name(), path); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("create journal %s: sync directory: %w", path, err)
	}
	return &JournalWriter{
		FlushEvery:    DefaultFlushEvery,
		FlushInterval: DefaultFlushInterval,
		path:          path,
		id:            begin.ID,
		f:             f,
	}, nil
}

// ID returns the run's id, the one in the begin record.
func (w *JournalWriter) ID() string { return w.id }

// Done records op as finished. It encodes op at once, so the caller may
// reuse op's memory, and refuses an op that a reader would refuse (a
// Change whose Record.Path is not its Path, a string over 1 MiB) without
// recording it. It returns an error when op is refused or when the flush it
// triggers fails.
func (w *JournalWriter) Done(op OpRecord) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	start := len(w.pend)
	var err error
	if w.pend, err = appendOp(w.pend, &op); err != nil {
		w.pend = w.pend[:start]
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	w.npend++
	if w.npend >= w.FlushEvery || len(w.pend) >= batchBytes {
		return w.flush()
	}
	if w.FlushInterval > 0 && !w.armed {
		if w.timer == nil {
			w.timer = time.AfterFunc(w.FlushInterval, w.tick)
		} else {
			w.timer.Reset(w.FlushInterval)
		}
		w.armed = true
	}
	return nil
}

// tick is the timer's flush. Its error sticks and is returned by the next
// call.
func (w *JournalWriter) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	if w.usable() == nil {
		w.flush()
	}
}

// Flush makes every operation recorded so far durable.
func (w *JournalWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	return w.flush()
}

// Commit flushes, appends the commit record, fsyncs and closes the journal:
// the run succeeded. It fails, and the journal stays uncommitted, after any
// earlier failure.
func (w *JournalWriter) Commit() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		w.close()
		return err
	}
	// The commit record gets its own fsync, after the last batch's: a
	// commit on disk then means every frame before it is on disk too.
	w.frame = appendFrame(w.frame[:0], kindCommit, binary.AppendUvarint(nil, uint64(w.done)))
	if err := w.write(w.frame); err != nil {
		w.close()
		return err
	}
	return w.close()
}

// Close flushes and closes the journal without committing it: the run was
// interrupted or some operation failed, and the next run recovers what it
// records. Close after Commit or Close does nothing and returns nil.
func (w *JournalWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	err := w.err
	if err == nil {
		err = w.flush()
	}
	if cerr := w.close(); err == nil {
		err = cerr
	}
	return err
}

func (w *JournalWriter) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("journal %s: %w", w.path, errJournalClosed)
	}
	return nil
}

// flush writes the buffered operations as one frame and fsyncs it.
func (w *JournalWriter) flush() error {
	if w.npend == 0 {
		return nil
	}
	w.frame = appendFrame(w.frame[:0], kindDone, w.pend)
	if err := w.write(w.frame); err != nil {
		return err
	}
	w.done += w.npend
	w.pend, w.npend = w.pend[:0], 0
	if w.armed {
		w.timer.Stop()
		w.armed = false
	}
	return nil
}

func (w *JournalWriter) write(frame []byte) error {
	if _, err := w.f.Write(frame); err != nil {
		w.err = fmt.Errorf("journal %s: write: %w", w.path, err)
		return w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("journal %s: fsync: %w", w.path, err)
		return w.err
	}
	return nil
}

func (w *JournalWriter) close() error {
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
		w.armed = false
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("journal %s: close: %w", w.path, err)
	}
	return nil
}

// RemoveJournal removes the journal at path, once the run it records is
// committed to the history, and makes the removal durable. A missing
// journal is not an error.
func RemoveJournal(path string) error {
	removeStaleTemps(path)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove journal: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("remove journal %s: sync directory: %w", path, err)
	}
	return nil
}

// ReadJournal reads the journal at path. With no journal there, the error
// wraps fs.ErrNotExist. A torn last frame is ignored and reported in
// Journal.Torn; any other damage (a bad header, a missing begin record, a
// damaged frame with intact ones after it, a record that does not decode)
// gives an error wrapping ErrCorrupt, and a journal from a newer ferry one
// wrapping ErrNewerFormat.
func ReadJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	j, err := decodeJournal(data)
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	return j, nil
}
