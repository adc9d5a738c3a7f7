package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// reseal recomputes the checksum of every frame it can walk in a journal
// or run log file, so that the fuzzer's changes reach the decoders behind
// the checksums; random bytes almost never pass one.
func reseal(data []byte) []byte {
	d := bytes.Clone(data)
	for off := fileHead; off+frameOver <= len(d); {
		if string(d[off:off+len(frameMarker)]) != frameMarker {
			break
		}
		n := binary.LittleEndian.Uint32(d[off+len(frameMarker)+1:])
		if uint64(n) > uint64(len(d)-off-frameOver) {
			break
		}
		end := off + frameHead + int(n)
		binary.LittleEndian.PutUint64(d[end:], xxhash.Sum64(d[off:end]))
		off = end + checksumLen
	}
	return d
}

func wantDecodeError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("error %v wraps neither ErrCorrupt nor ErrNewerFormat", err)
	}
}

// FuzzReadJournal feeds the journal decoder arbitrary files, as they are
// and resealed. It must not panic; what it accepts must write back to a
// journal that reads the same, and fold into a valid history.
func FuzzReadJournal(f *testing.F) {
	carried := testBegin
	carried.Carried = []Change{remove("a"), set(rec("b", 1, 2, md5a))}
	for _, tc := range []struct {
		begin  JournalBegin
		commit bool
	}{{testBegin, true}, {testBegin, false}, {carried, false}} {
		data := readFile(f, writeJournal(f, tc.begin, testOps(), 3, tc.commit))
		f.Add(data)
		f.Add(data[:len(data)-5])
	}
	f.Add(journalFile(1, frame(kindBegin, beginPayload(0))))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkJournalDecode(t, data)
		checkJournalDecode(t, reseal(data))
	})
}

func checkJournalDecode(t *testing.T, data []byte) {
	j, err := decodeJournal(data)
	if err != nil {
		wantDecodeError(t, err)
		return
	}
	if err := validate(j.Fold(nil)); err != nil {
		t.Fatalf("Fold made a history that does not encode: %v", err)
	}
	again := encodeJournal(t, j)
	j2, err := decodeJournal(again)
	if err != nil {
		t.Fatalf("decoding a re-encoded journal: %v", err)
	}
	want := *j
	want.Torn = false
	if !reflect.DeepEqual(j2, &want) {
		t.Fatalf("round trip changed the journal:\n got %+v\nwant %+v", j2, &want)
	}
}

// encodeJournal writes j back as one file: what the writer would have
// written, with every op in one frame.
func encodeJournal(t *testing.T, j *Journal) []byte {
	data, err := encodeJournalStart(&j.Begin)
	if err != nil {
		t.Fatalf("the reader accepted a begin record the writer refuses: %v", err)
	}
	var ops []byte
	for i := range j.Ops {
		if ops, err = appendOp(ops, &j.Ops[i]); err != nil {
			t.Fatalf("the reader accepted an op the writer refuses: %v", err)
		}
	}
	if len(ops) > 0 {
		data = appendFrame(data, kindDone, ops)
	}
	if j.Committed {
		data = appendFrame(data, kindCommit, binary.AppendUvarint(nil, uint64(len(j.Ops))))
	}
	return data
}

// FuzzReadRuns feeds the run log decoder arbitrary files, as they are and
// resealed, and arbitrary entry bodies, compressed and framed, to reach
// the parser behind zstd. It must not panic; every run it returns must
// write back to the same run.
func FuzzReadRuns(f *testing.F) {
	path := f.TempDir() + "/log"
	for i := range 3 {
		mustAppend(f, path, testRun(i), RunLogMaxSize)
	}
	data := readFile(f, path)
	f.Add(data)
	f.Add(data[:len(data)-7])
	for _, e := range []RunEntry{testRun(0), {}} {
		body, err := encodeRunBody(&e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	enc, err := newRunEncoder()
	if err != nil {
		f.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRunsDecode(t, enc, dec, data)
		checkRunsDecode(t, enc, dec, reseal(data))
		body := appendFileHead(nil, runLogMagic, RunLogVersion)
		checkRunsDecode(t, enc, dec, appendFrame(body, kindRun, enc.EncodeAll(data, nil)))
	})
}

func checkRunsDecode(t *testing.T, enc *zstd.Encoder, dec *zstd.Decoder, data []byte) {
	runs, err := decodeRuns(data)
	if err != nil {
		wantDecodeError(t, err)
	}
	for _, r := range runs {
		body, err := encodeRunBody(&r)
		if err != nil {
			t.Fatalf("the reader accepted a run the writer refuses: %v", err)
		}
		r2, err := decodeRun(dec, enc.EncodeAll(body, nil))
		if err != nil {
			t.Fatalf("decoding a re-encoded run: %v", err)
		}
		if !reflect.DeepEqual(r2, r) {
			t.Fatalf("round trip changed the run:\n got %+v\nwant %+v", r2, r)
		}
	}
}
