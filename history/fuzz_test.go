package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// fuzzSamples are small encoded histories, seeds for both fuzz targets.
func fuzzSamples(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.hist"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	for name, h := range samples() {
		if name == "zero" || name == "header only" || name == "dirs and unknowns" ||
			name == "unicode" || name == "hash kinds" || name == "extreme ints" {
			out = append(out, encode(f, h))
		}
	}
	return out
}

// FuzzDecode feeds Decode arbitrary files, as they are and with the
// checksum made to match (random bytes almost never pass the checksum, and
// the fuzzer would not get past it). Decode must not panic; what it
// accepts must encode and decode back to the same History.
func FuzzDecode(f *testing.F) {
	for _, data := range fuzzSamples(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		if len(data) >= envelopeHead+checksumLen {
			resealed := bytes.Clone(data)
			body := resealed[:len(resealed)-checksumLen]
			binary.LittleEndian.PutUint64(resealed[len(body):], xxhash.Sum64(body))
			checkDecode(t, resealed)
		}
	})
}

// FuzzDecodeBody feeds Decode arbitrary version 1 bodies, compressed and
// sealed, to reach the parser behind zstd and the checksum.
func FuzzDecodeBody(f *testing.F) {
	for name, h := range samples() {
		if name != "many" && name != "long" {
			f.Add(rawBody(h, nil))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecode(t, sealBody(body))
	})
}

func checkDecode(t *testing.T, data []byte) {
	h, err := Decode(bytes.NewReader(data))
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat) {
			t.Fatalf("Decode error %v wraps neither ErrCorrupt nor ErrNewerFormat", err)
		}
		return
	}
	var buf bytes.Buffer
	if err := Encode(&buf, h); err != nil {
		t.Fatalf("Decode accepted what Encode refuses: %v", err)
	}
	h2, err := Decode(&buf)
	if err != nil {
		t.Fatalf("decoding re-encoded history: %v", err)
	}
	if !reflect.DeepEqual(h, h2) {
		t.Fatalf("round trip changed the history:\n got %+v\nwant %+v", h2, h)
	}
}
