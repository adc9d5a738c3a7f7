package history

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func testRun(i int) RunEntry {
	e := RunEntry{
		ID:       fmt.Sprintf("run%04d", i),
		Start:    time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC).Add(time.Duration(i) * time.Hour),
		Duration: 1500*time.Millisecond + time.Duration(i),
		Mode:     "bidirectional", Path1: "/home/me/vault", Path2: "vault-s3:notes",
		Counts: map[string]int{"02 nothing": 1000 + i, "10 copy 1->2": 2, "07 delete on 1": 1},
		Bytes:  [2]int64{int64(i), 1 << 40},
		Actions: []LoggedAction{
			{Path: "notes/a.md", Decision: 10, Op: "copy 1->2", Reason: "modified on path1"},
			{Path: "notes/b.md", Decision: 7, Op: "delete on 1", Reason: "deleted on path2"},
			{Path: "日本.txt", Decision: -1, Op: "", Reason: ""},
		},
	}
	if i%3 == 0 {
		e.Errors = []string{"copy notes/c.md on path2: permission denied (retried)"}
	}
	return e
}

func checkRuns(t *testing.T, got, want []RunEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d runs, want %d: got IDs %v", len(got), len(want), runIDs(got))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) {
			t.Errorf("run %d: Start %v, want %v", i, g.Start, w.Start)
		}
		g.Start, w.Start = time.Time{}, time.Time{}
		if len(w.Counts) == 0 {
			w.Counts = nil
		}
		if len(w.Errors) == 0 {
			w.Errors = nil
		}
		if len(w.Actions) == 0 {
			w.Actions = nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("run %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func runIDs(runs []RunEntry) []string {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func mustAppend(t testing.TB, path string, e RunEntry, limit int64) {
	t.Helper()
	if err := appendRun(path, &e, limit, RunLogKeep); err != nil {
		t.Fatal(err)
	}
}

func TestRunLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pair.log")
	want := []RunEntry{{}, {ID: "empty maps", Counts: map[string]int{}, Errors: []string{}, Actions: []LoggedAction{}}}
	for i := range 10 {
		want = append(want, testRun(i))
	}
	want = append(want, RunEntry{ID: "extremes", Start: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		Duration: math.MinInt64, Bytes: [2]int64{math.MinInt64, math.MaxInt64}, Omitted: 7,
		Counts:  map[string]int{"": math.MaxInt32, "x": math.MinInt32},
		Actions: []LoggedAction{{Path: "\xfeFRY\x00", Decision: math.MaxInt32}}})
	for _, e := range want {
		if err := AppendRun(path, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadRuns(path)
	if err != nil {
		t.Fatal(err)
	}
	checkRuns(t, got, want)
	if names := dirNames(t, filepath.Dir(path)); !reflect.DeepEqual(names, []string{"pair.log"}) {
		t.Errorf("directory holds %v", names)
	}
}

func TestRunLogRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	for name, e := range map[string]RunEntry{
		"long ID":    {ID: strings.Repeat("i", maxString+1)},
		"long label": {Counts: map[string]int{strings.Repeat("l", maxString+1): 1}},
		"start":      {Start: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		"omitted":    {Omitted: -1},
	} {
		if err := AppendRun(path, e); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: AppendRun = %v, want an error naming the log", name, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused entries left a log: %v", err)
	}
}

// An entry too big for the log keeps as many errors as fit, then as many
// actions as fit in what is left, and counts what it left out.
func TestRunLogOmits(t *testing.T) {
	big := strings.Repeat("e", maxString+100) // cut to maxString
	e := RunEntry{ID: "big", Omitted: 2}
	for range 70 {
		e.Errors = append(e.Errors, big)
	}
	e.Actions = []LoggedAction{{Path: "a"}}
	body, err := encodeRunBody(&e)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > maxRunBody {
		t.Fatalf("body of %d bytes, over %d", len(body), maxRunBody)
	}
	path := filepath.Join(t.TempDir(), "log")
	if err := AppendRun(path, e); err != nil {
		t.Fatal(err)
	}
	runs, err := ReadRuns(path)
	if err != nil {
		t.Fatal(err)
	}
	got := runs[0]
	if len(got.Errors) < 60 || len(got.Errors) >= 70 {
		t.Fatalf("kept %d errors and %d actions", len(got.Errors), len(got.Actions))
	}
	if want := 2 + 70 - len(got.Errors) + 1 - len(got.Actions); got.Omitted != want {
		t.Errorf("Omitted = %d, want %d", got.Omitted, want)
	}
	if got.Errors[0] != big[:maxString] {
		t.Errorf("long error kept as %d bytes, want it cut to %d", len(got.Errors[0]), maxString)
	}
}

func TestRunLogRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pair.log")
	const limit = 2000
	var all []RunEntry
	for i := range 60 {
		e := testRun(i)
		all = append(all, e)
		mustAppend(t, path, e, limit)
		for g := range RunLogKeep + 1 {
			if fi, err := os.Stat(generation(path, g)); err == nil && fi.Size() > limit {
				t.Fatalf("after %d appends: %s is %d bytes, over %d", i+1, generation(path, g), fi.Size(), limit)
			}
		}
	}
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"pair.log", "pair.log.1", "pair.log.2", "pair.log.3"}) {
		t.Fatalf("directory holds %v", names)
	}
	got, err := ReadRuns(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 10 || len(got) >= len(all) {
		t.Fatalf("%d runs kept of %d", len(got), len(all))
	}
	checkRuns(t, got, all[len(all)-len(got):]) // the newest, in order
}

// An entry bigger than the limit gets a file of its own.
func TestRunLogBigEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	mustAppend(t, path, testRun(1), 100)
	mustAppend(t, path, testRun(2), 100)
	got, err := readRuns(path, RunLogKeep)
	if err != nil {
		t.Fatal(err)
	}
	checkRuns(t, got, []RunEntry{testRun(1), testRun(2)})
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Fatal(err)
	}
}

// The run log's encoder takes what one entry needs, not megabytes: an entry
// far over its window, like the actions of a first sync of 100,000 files,
// still round-trips, and the encoder holds under 1 MiB after it (the shared
// encoder it replaced held 6 MB).
func TestRunEncoderMemory(t *testing.T) {
	big := testRun(1)
	big.Actions = nil
	for i := range 100_000 {
		big.Actions = append(big.Actions, LoggedAction{
			Path: fmt.Sprintf("Archive/Topic %04d/alpha design %d.md", i/150, i), Decision: 3, Op: "copy 1->2", Reason: "new on path1",
		})
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindowSize))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for _, e := range []RunEntry{testRun(2), big} {
		body, err := encodeRunBody(&e)
		if err != nil {
			t.Fatal(err)
		}
		before := liveHeap()
		enc, err := newRunEncoder()
		if err != nil {
			t.Fatal(err)
		}
		compressed := enc.EncodeAll(body, nil)
		held := int64(liveHeap()) - int64(before) - int64(cap(compressed))
		runtime.KeepAlive(enc)
		runtime.KeepAlive(body) // counted in before
		t.Logf("%d actions: %d bytes compress to %d; the encoder holds %d bytes", len(e.Actions), len(body), len(compressed), held)
		if held > 1<<20 {
			t.Errorf("%d actions: the encoder holds %d bytes, want under 1 MiB", len(e.Actions), held)
		}
		got, err := decodeRun(dec, compressed)
		if err != nil {
			t.Fatal(err)
		}
		checkRuns(t, []RunEntry{got}, []RunEntry{e})
	}
}

// A crash while appending tears the last entry: ReadRuns skips it without
// complaint, and the next AppendRun cuts it off before appending.
func TestRunLogTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	mustAppend(t, path, testRun(0), RunLogMaxSize)
	mustAppend(t, path, testRun(1), RunLogMaxSize)
	data := readFile(t, path)
	ends := frameEnds(t, data)
	step := 1
	if testing.Short() {
		step = 7 // each cut costs a few fsyncs
	}
	for n := ends[0]; n < len(data); n += step {
		for _, zeros := range []bool{false, true} {
			cut := bytes.Clone(data[:n])
			if zeros {
				cut = append(cut, make([]byte, len(data)-n)...)
			}
			if err := os.WriteFile(path, cut, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadRuns(path)
			if err != nil {
				t.Fatalf("cut at %d: %v", n, err)
			}
			checkRuns(t, got, []RunEntry{testRun(0)})
			mustAppend(t, path, testRun(2), RunLogMaxSize)
			got, err = ReadRuns(path)
			if err != nil {
				t.Fatalf("cut at %d, then appended: %v", n, err)
			}
			checkRuns(t, got, []RunEntry{testRun(0), testRun(2)})
		}
	}
}

// Damage in the middle is skipped and reported; the entries around it are
// read, and appending goes on.
func TestRunLogDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	for i := range 4 {
		mustAppend(t, path, testRun(i), RunLogMaxSize)
	}
	data := readFile(t, path)
	ends := frameEnds(t, data)
	for _, at := range []int{ends[0] + 2, ends[0] + 20, ends[1] - 1} { // in the second entry
		d := bytes.Clone(data)
		d[at] ^= 0x10
		os.WriteFile(path, d, 0o600)
		got, err := ReadRuns(path)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Fatalf("damage at %d: ReadRuns error %v, want ErrCorrupt naming the file", at, err)
		}
		checkRuns(t, got, []RunEntry{testRun(0), testRun(2), testRun(3)})
		mustAppend(t, path, testRun(4), RunLogMaxSize)
		got, _ = ReadRuns(path)
		checkRuns(t, got, []RunEntry{testRun(0), testRun(2), testRun(3), testRun(4)})
	}
}

// A log with a damaged header is rotated away by AppendRun; ReadRuns still
// finds the entries in it and says that it is damaged.
func TestRunLogDamagedHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	mustAppend(t, path, testRun(0), RunLogMaxSize)
	data := readFile(t, path)
	data[0] = 'X'
	os.WriteFile(path, data, 0o600)
	mustAppend(t, path, testRun(1), RunLogMaxSize)
	got, err := ReadRuns(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path+".1") {
		t.Fatalf("ReadRuns error %v, want ErrCorrupt naming %s.1", err, path)
	}
	checkRuns(t, got, []RunEntry{testRun(0), testRun(1)})
}

func TestRunLogNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	newer := append(appendFileHead(nil, runLogMagic, RunLogVersion+1), "a newer layout"...)
	os.WriteFile(path, newer, 0o600)
	if err := AppendRun(path, testRun(0)); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("AppendRun = %v, want ErrNewerFormat", err)
	}
	if _, err := ReadRuns(path); !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadRuns = %v, want ErrNewerFormat naming the file", err)
	}
	if got := readFile(t, path); !bytes.Equal(got, newer) {
		t.Error("AppendRun changed a newer log")
	}
}

func TestReadRunsMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if _, err := ReadRuns(path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("ReadRuns = %v, want fs.ErrNotExist naming the file", err)
	}
	// Older generations without the current one (a crash while rotating)
	// are read.
	mustAppend(t, path, testRun(0), RunLogMaxSize)
	os.Rename(path, path+".2")
	got, err := ReadRuns(path)
	if err != nil {
		t.Fatal(err)
	}
	checkRuns(t, got, []RunEntry{testRun(0)})
}

func TestReadRunsRefuses(t *testing.T) {
	enc, err := newRunEncoder()
	if err != nil {
		t.Fatal(err)
	}
	good, _ := encodeRunBody(&RunEntry{ID: "x"})
	file := func(frames ...[]byte) []byte {
		d := appendFileHead(nil, runLogMagic, RunLogVersion)
		for _, f := range frames {
			d = append(d, f...)
		}
		return d
	}
	ok := frame(kindRun, enc.EncodeAll(good, nil))
	for name, f := range map[string][]byte{
		"not zstd":        frame(kindRun, []byte("plain")),
		"unknown kind":    frame('Q', enc.EncodeAll(good, nil)),
		"leftover":        frame(kindRun, enc.EncodeAll(append(bytes.Clone(good), 0), nil)),
		"short":           frame(kindRun, enc.EncodeAll(good[:len(good)-1], nil)),
		"too big":         frame(kindRun, enc.EncodeAll(make([]byte, maxRunBody+1), nil)),
		"labels unsorted": frame(kindRun, enc.EncodeAll(mustBody(t, "b", "a"), nil)),
	} {
		runs, err := decodeRuns(file(ok, f, ok))
		if !errors.Is(err, ErrCorrupt) || len(runs) != 2 {
			t.Errorf("%s: decodeRuns = %d runs, %v; want 2 runs and ErrCorrupt", name, len(runs), err)
		}
	}
}

// mustBody encodes an entry whose count labels are in the given order.
func mustBody(t *testing.T, labels ...string) []byte {
	body, err := encodeRunBody(&RunEntry{Counts: map[string]int{"a": 1, "b": 2}})
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(body, []byte("\x01a\x02\x01b\x04"), []byte("\x01"+labels[0]+"\x02\x01"+labels[1]+"\x04"), 1)
}
