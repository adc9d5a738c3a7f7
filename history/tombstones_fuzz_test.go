package history

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// FuzzDecodeTombstones feeds DecodeTombstones arbitrary data three ways: as
// a file, as a file with its checksum made to match (random bytes almost
// never pass it, and the fuzzer would not get past it), and as a version 1
// body, compressed and sealed, to reach the parser behind zstd. Decoding
// must not panic; what it accepts must encode and decode back to the same
// records.
func FuzzDecodeTombstones(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "v1-deletions.del"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	for name, ts := range tombSamples() {
		if name == "long" || name == "many" {
			continue
		}
		f.Add(encodeTombs(f, ts))
		body, _, err := tombBody(ts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkTombDecode(t, data)
		if len(data) >= fileHead+checksumLen {
			resealed := bytes.Clone(data)
			n := len(resealed) - checksumLen
			binary.LittleEndian.PutUint64(resealed[n:], xxhash.Sum64(resealed[:n]))
			checkTombDecode(t, resealed)
		}
		checkTombDecode(t, sealTombBody(data))
	})
}

func checkTombDecode(t *testing.T, data []byte) {
	ts, err := DecodeTombstones(bytes.NewReader(data))
	if err != nil {
		wantDecodeError(t, err)
		return
	}
	var buf bytes.Buffer
	if err := EncodeTombstones(&buf, ts); err != nil {
		// A file that compresses worse than ferry's may hold records
		// over the memory limit of the smaller file ferry writes.
		var mem int64
		for i := range ts {
			mem += tombMem(&ts[i])
		}
		if mem > tombMemFloor {
			return
		}
		t.Fatalf("DecodeTombstones accepted what EncodeTombstones refuses: %v", err)
	}
	ts2, err := DecodeTombstones(&buf)
	if err != nil {
		t.Fatalf("decoding re-encoded records: %v", err)
	}
	if !reflect.DeepEqual(ts, ts2) {
		t.Fatalf("round trip changed the records:\n got %+v\nwant %+v", ts2, ts)
	}
}
