package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var testBegin = JournalBegin{
	ID: "0123456789abcdef", Start: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
	Mode: "bidirectional", Path1: "/home/me/vault", Path2: "vault-s3:notes",
	Hash1: "md5", Hash2: "", Planned: 7,
}

func rec(path string, size, mtime int64, hash string) Record {
	return Record{Path: path, One: Fingerprint{Size: size, ModTime: mtime, Hash: hash}, Two: Fingerprint{Size: size, ModTime: mtime}}
}

func set(r Record) Change    { return Change{Path: r.Path, Record: r} }
func remove(p string) Change { return Change{Path: p, Remove: true} }
func op(path string, decision int, what string, cs ...Change) OpRecord {
	return OpRecord{Path: path, Decision: decision, Op: what, Changes: cs}
}

// testOps cover what a change can hold.
func testOps() []OpRecord {
	const t0 = 1700000000123456789
	return []OpRecord{
		op("notes/a.md", 10, "copy 1->2", set(rec("notes/a.md", 120, t0, md5a))),
		op("notes/b.md", 7, "delete on 1", remove("notes/b.md")),
		op("notes/c.md", 16, "conflict",
			set(rec("notes/c.md", 5, t0+1, "")),
			set(Record{Path: "notes/c.conflict-20240506-dev.md", One: Fingerprint{Size: 6, ModTime: t0, Hash: "ABCDEF"}, Two: Fingerprint{Size: 6, ModTime: t0 / 1e9 * 1e9, Hash: "QUICKXOR=="}})),
		op("notes", 0, "mkdir", set(Record{Path: "notes", Dir: true, One: Fingerprint{Size: -1}, Two: Fingerprint{Size: -1}})),
		op("notes/gone", 1, "forget"),
		op("日本/ファイル.txt", 3, "copy 2->1", set(rec("日本/ファイル.txt", 1<<40, -1, "abc"))),
		op("x", -5, "", set(Record{Path: "x", One: Fingerprint{Size: math.MaxInt64, ModTime: math.MinInt64}, Two: Fingerprint{Size: math.MinInt64, ModTime: math.MaxInt64}})),
		op("y", math.MaxInt32, "other path", remove("z"), set(rec("", 0, 0, "00"))),
		op("\xff\xfeFRY", 2, "not UTF-8", set(rec("\xff\xfeFRY", 1, 2, "d41d8cd98f00b204e9800998ecf8427f"))),
	}
}

// writeJournal writes a journal of ops to a new file, flushing every
// `every` ops, and returns its path.
func writeJournal(t testing.TB, begin JournalBegin, ops []OpRecord, every int, commit bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pair.journal")
	w, err := CreateJournal(path, begin)
	if err != nil {
		t.Fatal(err)
	}
	w.FlushEvery, w.FlushInterval = every, 0
	for _, o := range ops {
		if err := w.Done(o); err != nil {
			t.Fatal(err)
		}
	}
	if commit {
		err = w.Commit()
	} else {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// normOps makes empty Changes nil and zeroes the Record of removals, as
// the reader returns them.
func normOps(ops []OpRecord) []OpRecord {
	out := make([]OpRecord, 0, len(ops))
	for _, o := range ops {
		o.Changes = normChanges(o.Changes)
		out = append(out, o)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func normChanges(cs []Change) []Change {
	if len(cs) == 0 {
		return nil
	}
	out := make([]Change, len(cs))
	for i, c := range cs {
		if c.Remove {
			c.Record = Record{}
		}
		out[i] = c
	}
	return out
}

func checkJournal(t *testing.T, got *Journal, begin JournalBegin, ops []OpRecord, committed, torn bool) {
	t.Helper()
	if !got.Begin.Start.Equal(begin.Start) {
		t.Errorf("Start = %v, want %v", got.Begin.Start, begin.Start)
	}
	gb, wb := got.Begin, begin
	gb.Start, wb.Start = time.Time{}, time.Time{}
	wb.Carried = normChanges(wb.Carried)
	if !reflect.DeepEqual(gb, wb) {
		t.Errorf("Begin =\n%+v\nwant\n%+v", gb, wb)
	}
	if want := normOps(ops); !reflect.DeepEqual(got.Ops, want) {
		t.Errorf("Ops =\n%+v\nwant\n%+v", got.Ops, want)
	}
	if got.Committed != committed || got.Torn != torn {
		t.Errorf("Committed, Torn = %v, %v; want %v, %v", got.Committed, got.Torn, committed, torn)
	}
}

func TestJournalRoundTrip(t *testing.T) {
	carried := []Change{remove("old/x"), set(rec("old/y", 3, 4, md5a))}
	for _, tc := range []struct {
		name   string
		begin  JournalBegin
		ops    []OpRecord
		every  int
		commit bool
	}{
		{"committed", testBegin, testOps(), 4, true},
		{"interrupted", testBegin, testOps(), 4, false},
		{"flush each", testBegin, testOps(), 1, true},
		{"one batch", testBegin, testOps(), 1000, true},
		{"no ops", testBegin, nil, 1, true},
		{"no ops, interrupted", testBegin, nil, 1, false},
		{"zero begin", JournalBegin{ID: "x"}, testOps()[:2], 1, true},
		{"carried", func() JournalBegin { b := testBegin; b.Carried = carried; return b }(), testOps(), 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeJournal(t, tc.begin, tc.ops, tc.every, tc.commit)
			j, err := ReadJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			checkJournal(t, j, tc.begin, tc.ops, tc.commit, false)
		})
	}
}

// Carried changes past a frame's worth take several frames.
func TestJournalManyCarried(t *testing.T) {
	b := testBegin
	for i := range 40_000 {
		b.Carried = append(b.Carried, set(rec(fmt.Sprintf("dir/%06d.md", i), int64(i), int64(i)*1e9, md5a)))
	}
	path := writeJournal(t, b, testOps(), 2, true)
	data := readFile(t, path)
	if n := bytes.Count(data, []byte(frameMarker+string(rune(kindCarried)))); n < 2 {
		t.Fatalf("%d carried frames, want several", n)
	}
	j, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, j, b, testOps(), true, false)
}

func TestJournalID(t *testing.T) {
	b := testBegin
	b.ID = ""
	path := filepath.Join(t.TempDir(), "j")
	w, err := CreateJournal(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.ID()) != 16 {
		t.Errorf("ID() = %q, want 16 hex digits", w.ID())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Begin.ID != w.ID() {
		t.Errorf("stored ID %q, writer says %q", j.Begin.ID, w.ID())
	}
}

// CreateJournal replaces a journal whole and leaves no temporary files.
func TestCreateJournalReplaces(t *testing.T) {
	path := writeJournal(t, testBegin, testOps(), 1, false)
	dir := filepath.Dir(path)
	os.WriteFile(path+tmpInfix+"123", []byte("left by a crash"), 0o600)
	b := testBegin
	b.ID = "second"
	w, err := CreateJournal(path, b)
	if err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, j, b, nil, false, false)
	w.Close()
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"pair.journal"}) {
		t.Errorf("directory holds %v", names)
	}
}

func TestJournalFlushEvery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := CreateJournal(path, testBegin)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.FlushEvery, w.FlushInterval = 3, 0
	ops := testOps()
	count := func() int {
		j, err := ReadJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		return len(j.Ops)
	}
	for i, want := range []int{0, 0, 3, 3, 3, 6} {
		if err := w.Done(ops[i]); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != want {
			t.Fatalf("after %d Done: %d ops on disk, want %d", i+1, got, want)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 6 {
		t.Fatalf("after Flush: %d ops on disk, want 6", got)
	}
}

func TestJournalFlushInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := CreateJournal(path, testBegin)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.FlushEvery, w.FlushInterval = 1000, 20*time.Millisecond
	for i, o := range testOps()[:3] {
		if err := w.Done(o); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			j, err := ReadJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(j.Ops) == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("op %d not flushed by the timer after 5 s", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestJournalRefusesOp(t *testing.T) {
	long := strings.Repeat("x", maxString+1)
	path := filepath.Join(t.TempDir(), "j")
	w, err := CreateJournal(path, testBegin)
	if err != nil {
		t.Fatal(err)
	}
	w.FlushEvery = 1
	good := testOps()[0]
	for _, tc := range []struct {
		name string
		op   OpRecord
		want string
	}{
		{"record of another path", op("a", 1, "copy", Change{Path: "a", Record: Record{Path: "b"}}), "not the change's Path"},
		{"long path", op(long, 1, "copy"), "over the limit"},
		{"long change path", op("a", 1, "copy", remove(long)), "over the limit"},
		{"long hash", op("a", 1, "copy", set(rec("a", 1, 1, long))), "over the limit"},
		{"long op", op("a", 1, long), "over the limit"},
		{"decision", op("a", math.MaxInt32+1, "copy"), "decision"},
		{"second change bad", op("a", 1, "copy", set(rec("a", 1, 1, "")), Change{Path: "b", Record: Record{Path: "a"}}), "change 1"},
	} {
		if math.MaxInt == math.MaxInt32 && tc.name == "decision" {
			continue
		}
		if err := w.Done(tc.op); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Done = %v, want an error containing %q", tc.name, err, tc.want)
		}
		if err := w.Done(good); err != nil {
			t.Fatalf("%s: the writer refuses a good op after a bad one: %v", tc.name, err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Ops) != 7 || !j.Committed {
		t.Errorf("journal has %d ops, committed %v; want the 7 good ones, committed", len(j.Ops), j.Committed)
	}
}

func TestCreateJournalRefuses(t *testing.T) {
	for name, b := range map[string]JournalBegin{
		"long mode":        {Mode: strings.Repeat("m", maxString+1)},
		"start":            {Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"planned":          {Planned: -1},
		"carried mismatch": {Carried: []Change{{Path: "a", Record: Record{Path: "b"}}}},
	} {
		path := filepath.Join(t.TempDir(), "j")
		if _, err := CreateJournal(path, b); err == nil {
			t.Errorf("%s: CreateJournal accepted %+v", name, b)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: refused, yet a journal was left: %v", name, err)
		}
	}
}

func TestJournalAfterCommitOrClose(t *testing.T) {
	for _, commit := range []bool{true, false} {
		w, err := CreateJournal(filepath.Join(t.TempDir(), "j"), testBegin)
		if err != nil {
			t.Fatal(err)
		}
		if commit {
			err = w.Commit()
		} else {
			err = w.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Done(testOps()[0]); !errors.Is(err, errJournalClosed) {
			t.Errorf("Done after the end = %v", err)
		}
		if err := w.Commit(); !errors.Is(err, errJournalClosed) {
			t.Errorf("Commit after the end = %v", err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close after the end = %v, want nil", err)
		}
	}
}

// After a failed write the writer refuses everything, and the journal on
// disk is never committed.
func TestJournalWriteFailureSticks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := CreateJournal(path, testBegin)
	if err != nil {
		t.Fatal(err)
	}
	w.FlushEvery = 1
	if err := w.Done(testOps()[0]); err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the disk goes away
	err = w.Done(testOps()[1])
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Done on a closed file = %v, want an error naming %s", err, path)
	}
	for what, err := range map[string]error{"Flush": w.Flush(), "Done": w.Done(testOps()[2]), "Commit": w.Commit(), "Close": w.Close()} {
		if err == nil {
			t.Errorf("%s after a failure = nil", what)
		}
	}
	j, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, j, testBegin, testOps()[:1], false, false)
}

func TestReadJournalMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope")
	_, err := ReadJournal(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("ReadJournal = %v, want fs.ErrNotExist naming the file", err)
	}
}

func TestRemoveJournal(t *testing.T) {
	path := writeJournal(t, testBegin, testOps(), 2, true)
	if err := RemoveJournal(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJournal(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after RemoveJournal: %v", err)
	}
	if err := RemoveJournal(path); err != nil {
		t.Fatalf("RemoveJournal of a missing journal = %v", err)
	}
}

// frameEnds returns the offset after each frame of a well-formed file.
func frameEnds(t testing.TB, data []byte) []int {
	t.Helper()
	var ends []int
	for off := fileHead; off < len(data); {
		_, _, next, ok := frameAt(data, off)
		if !ok {
			t.Fatalf("no intact frame at %d", off)
		}
		ends = append(ends, next)
		off = next
	}
	return ends
}

// A crash can cut the journal anywhere after its begin record (CreateJournal
// writes that part whole). Every cut must give the operations of the
// frames before it, no more, no fewer, and say it was torn; a cut before
// the begin record is whole is damage. The same holds when the lost bytes
// read back as zeros, as after a crash on some file systems.
func TestJournalTornTail(t *testing.T) {
	ops := testOps()
	const every = 2
	data := readFile(t, writeJournal(t, testBegin, ops, every, true))
	ends := frameEnds(t, data)
	beginEnd := ends[0]
	for n := 0; n <= len(data); n++ {
		for _, zeros := range []bool{false, true} {
			cut := bytes.Clone(data[:n])
			if zeros {
				cut = append(cut, make([]byte, len(data)-n)...)
			}
			what := fmt.Sprintf("cut at %d of %d (zeros %v)", n, len(data), zeros)
			j, err := decodeJournal(cut)
			if n < beginEnd {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v, %v; want ErrCorrupt", what, j, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			whole := 0 // done frames wholly before n
			for _, e := range ends[1:] {
				if e <= n {
					whole++
				}
			}
			nops := min(whole*every, len(ops))
			committed := n == len(data)
			torn := n != len(data) && (zeros || !slices.Contains(ends, n))
			t.Run("", func(t *testing.T) {
				checkJournal(t, j, testBegin, ops[:nops], committed, torn)
			})
			if t.Failed() {
				t.Fatalf("%s", what)
			}
		}
	}
}

// Every flipped bit is caught: as damage, or, in the last frame, as a torn
// tail that drops just that frame. Nothing decodes to a wrong op.
func TestJournalBitFlips(t *testing.T) {
	ops := testOps()
	const every = 3
	data := readFile(t, writeJournal(t, testBegin, ops, every, false))
	ends := frameEnds(t, data)
	lastStart := ends[len(ends)-2]
	for i := range len(data) * 8 {
		d := bytes.Clone(data)
		d[i/8] ^= 1 << (i % 8)
		what := fmt.Sprintf("bit %d of byte %d flipped", i%8, i/8)
		j, err := decodeJournal(d)
		if i/8 >= lastStart {
			if err != nil {
				t.Fatalf("%s: %v; want the last frame dropped as torn", what, err)
			}
			t.Run("", func(t *testing.T) {
				checkJournal(t, j, testBegin, ops[:(len(ends)-2)*every], false, true)
			})
			if t.Failed() {
				t.Fatal(what)
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat) {
			t.Fatalf("%s: %+v, %v; want an error", what, j, err)
		}
	}
}

// journalFile assembles a journal from frames with valid checksums, to
// test what the reader refuses behind them.
func journalFile(version uint16, frames ...[]byte) []byte {
	data := appendFileHead(nil, journalMagic, version)
	for _, f := range frames {
		data = append(data, f...)
	}
	return data
}

func frame(kind byte, payload []byte) []byte { return appendFrame(nil, kind, payload) }

func beginPayload(carried uint64) []byte {
	b := appendString(nil, "id")
	b = appendTime(b, time.Unix(0, 0))
	for range 5 {
		b = appendString(b, "")
	}
	b = binary.AppendUvarint(b, 3)
	return binary.AppendUvarint(b, carried)
}

func opPayload(ops ...OpRecord) []byte {
	var b []byte
	for i := range ops {
		var err error
		if b, err = appendOp(b, &ops[i]); err != nil {
			panic(err)
		}
	}
	return b
}

func TestReadJournalRefuses(t *testing.T) {
	begin := frame(kindBegin, beginPayload(0))
	done := frame(kindDone, opPayload(testOps()[:2]...))
	commit := func(n uint64) []byte { return frame(kindCommit, binary.AppendUvarint(nil, n)) }
	change := func(flags byte, rest ...byte) []byte {
		b := appendString(nil, "p")
		b = binary.AppendVarint(b, 1)
		b = appendString(b, "op")
		b = binary.AppendUvarint(b, 1)
		return append(append(b, flags), rest...)
	}
	valid := journalFile(1, begin, done, commit(2))
	if _, err := decodeJournal(valid); err != nil {
		t.Fatalf("the valid sample: %v", err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short header", []byte("FERRYJN")},
		{"bad magic", append([]byte("FERRYHST"), valid[8:]...)},
		{"version 0", journalFile(0, begin, done)},
		{"header only", journalFile(1)},
		{"begin torn", journalFile(1, begin[:len(begin)-1])},
		{"no begin", journalFile(1, done, commit(2))},
		{"two begins", journalFile(1, begin, begin)},
		{"begin not first", journalFile(1, done, begin)},
		{"commit count", journalFile(1, begin, done, commit(3))},
		{"after commit", journalFile(1, begin, done, commit(2), done)},
		{"two commits", journalFile(1, begin, commit(0), commit(0))},
		{"unknown kind", journalFile(1, begin, frame('X', nil))},
		{"damaged middle", journalFile(1, begin, flipLast(done), done)},
		{"garbage then a frame", journalFile(1, begin, done, []byte("garbage"), done)},
		{"carried missing", journalFile(1, frame(kindBegin, beginPayload(2)), frame(kindCarried, []byte{chRemove, 1, 'a'}))},
		{"carried too many", journalFile(1, frame(kindBegin, beginPayload(1)), frame(kindCarried, []byte{chRemove, 1, 'a', chRemove, 1, 'b'}))},
		{"carried after done", journalFile(1, frame(kindBegin, beginPayload(1)), done, frame(kindCarried, []byte{chRemove, 1, 'a'}))},
		{"carried same path", journalFile(1, frame(kindBegin, beginPayload(1)), frame(kindCarried, []byte{chRemove | chSamePath}))},
		{"carried missing, torn", journalFile(1, frame(kindBegin, beginPayload(1)), []byte(frameMarker))},
		{"begin leftover", journalFile(1, frame(kindBegin, append(beginPayload(0), 0)))},
		{"begin short", journalFile(1, frame(kindBegin, beginPayload(0)[:4]))},
		{"begin bad time", journalFile(1, frame(kindBegin, append(append(appendString(nil, "id"), binary.AppendVarint(nil, maxUnix+1)...), 0)))},
		{"op cut", journalFile(1, begin, frame(kindDone, opPayload(testOps()[0])[:5]))},
		{"change flag 7", journalFile(1, begin, frame(kindDone, change(0x80)))},
		{"hash kind 3", journalFile(1, begin, frame(kindDone, change(3<<chHash2|chSamePath, 0, 0, 0, 0)))},
		{"removal with dir", journalFile(1, begin, frame(kindDone, change(chRemove|chDir|chSamePath)))},
		{"hex hash of 0 bytes", journalFile(1, begin, frame(kindDone, change(hashHex<<chHash1|chSamePath, 0, 0, 0, 0, 0)))},
		{"text hash of 0 bytes", journalFile(1, begin, frame(kindDone, change(hashText<<chHash1|chSamePath, 0, 0, 0, 0, 0)))},
		{"huge change count", journalFile(1, begin, frame(kindDone, append(binary.AppendUvarint(append(appendString(nil, "p"), 2, 0), 1<<60), 0)))},
		{"huge string", journalFile(1, begin, frame(kindDone, binary.AppendUvarint(nil, 1<<62)))},
		{"string over limit", journalFile(1, begin, frame(kindDone, binary.AppendUvarint(nil, maxString+1)))},
		{"decision over int32", journalFile(1, begin, frame(kindDone, append(binary.AppendVarint(appendString(nil, "p"), math.MaxInt32+1), 0, 0)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := decodeJournal(tc.data)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeJournal = %+v, %v; want ErrCorrupt", j, err)
			}
		})
	}
}

func TestReadJournalNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	os.WriteFile(path, journalFile(JournalVersion+1, []byte("a newer layout")), 0o600)
	_, err := ReadJournal(path)
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), path) {
		t.Fatalf("ReadJournal = %v, want ErrNewerFormat naming the file", err)
	}
}

// A frame hidden in a path must not make a torn tail look like damage in
// the middle: 0xFE cannot occur in UTF-8, and a non-UTF-8 path would also
// need the frame's checksum, which a reader only finds by scanning past a
// damaged frame; that case is reported as damage, which is safe.
func TestJournalTornTailNoFalseFrame(t *testing.T) {
	ops := []OpRecord{op("a", 1, "copy", set(rec("a", 1, 1, ""))), op("b", 1, "copy", set(rec("b", 2, 2, "")))}
	data := readFile(t, writeJournal(t, testBegin, ops, 1, false))
	j, err := decodeJournal(data[:len(data)-3])
	if err != nil || !j.Torn || len(j.Ops) != 1 {
		t.Fatalf("decodeJournal = %+v, %v; want one op and a torn tail", j, err)
	}
}

func flipLast(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 0xff
	return b
}

// The engine may record ops from several goroutines while the timer
// flushes; every op must land once.
func TestJournalConcurrentDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := CreateJournal(path, testBegin)
	if err != nil {
		t.Fatal(err)
	}
	w.FlushEvery, w.FlushInterval = 7, time.Millisecond
	const workers, each = 4, 100
	errs := make(chan error, workers)
	for g := range workers {
		go func() {
			for i := range each {
				p := fmt.Sprintf("g%d/%03d", g, i)
				if err := w.Done(op(p, 10, "copy", set(rec(p, int64(i), 0, "")))); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range j.Ops {
		if seen[o.Path] {
			t.Fatalf("%s recorded twice", o.Path)
		}
		seen[o.Path] = true
	}
	if len(seen) != workers*each || !j.Committed {
		t.Fatalf("%d ops recorded, committed %v; want %d, committed", len(seen), j.Committed, workers*each)
	}
}
