package history

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenV1 is what testdata/v1-small.hist holds: a little of everything the
// format distinguishes.
func goldenV1() *History {
	const t0 = 1700000000123456789
	return &History{
		Path1: "/home/me/vault", Path2: "vault-s3:notes", Hash1: "md5", Hash2: "quickxor",
		Filters: "sha256:5f1d", Written: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
		Records: []Record{
			{Path: "notes", Dir: true, One: Fingerprint{Size: -1}, Two: Fingerprint{Size: -1}},
			{Path: "notes/a.md", One: Fingerprint{Size: 120, ModTime: t0, Hash: md5a}, Two: Fingerprint{Size: 120, ModTime: t0, Hash: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}},
			{Path: "notes/b.md", One: Fingerprint{Size: 0, ModTime: t0 + 3600e9, Hash: "d41d8cd98f00b204e9800998ecf8427f"}, Two: Fingerprint{Size: 0, ModTime: (t0 + 3600e9) / 1e9 * 1e9}},
			{Path: "notes/café.md", One: Fingerprint{Size: 7, ModTime: t0 - 1}, Two: Fingerprint{Size: -1, ModTime: 0}},
			{Path: "notes/sub", Dir: true},
			{Path: "notes/sub/日本.txt", One: Fingerprint{Size: 1 << 40, ModTime: -1, Hash: "ABCDEF"}, Two: Fingerprint{Size: 1 << 40, ModTime: -1, Hash: "abcdef01"}},
		},
	}
}

// dump prints a History one field and one record a line, for the golden
// text that a reviewer reads next to the binary file.
func dump(h *History) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Path1 %q\nPath2 %q\nHash1 %q\nHash2 %q\nFilters %q\nWritten %s\n",
		h.Path1, h.Path2, h.Hash1, h.Hash2, h.Filters, h.Written.UTC().Format(time.RFC3339Nano))
	for _, r := range h.Records {
		kind := "file"
		if r.Dir {
			kind = "dir"
		}
		fmt.Fprintf(&b, "%s %q one=%d,%d,%q two=%d,%d,%q\n", kind, r.Path,
			r.One.Size, r.One.ModTime, r.One.Hash, r.Two.Size, r.Two.ModTime, r.Two.Hash)
	}
	return b.String()
}

// TestGoldenV1 pins format version 1: the committed file must keep loading
// to the same History in every later version of ferry. This ferry writes
// version 2, so the file is kept as version 1 was released and -update
// leaves it alone.
func TestGoldenV1(t *testing.T) {
	bin := filepath.Join("testdata", "v1-small.hist")
	txt := filepath.Join("testdata", "v1-small.txt")
	h, err := Load(bin)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(txt)
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(h); got != string(want) {
		t.Errorf("%s decodes to\n%s\nwant (%s)\n%s", bin, got, txt, want)
	}
	checkEqual(t, h, goldenV1())
}

// goldenV2 is what testdata/v2-small.hist holds: version 1's sample with
// the side format markers that version 2 adds.
func goldenV2() *History {
	h := goldenV1()
	h.Marker1 = Fingerprint{Size: 20, ModTime: 1700000000123456789}
	h.Marker2 = Fingerprint{Size: 20, ModTime: 1700000000000000000, Hash: "5d41402abc4b2a76b9719d911017c592"}
	return h
}

func dumpV2(h *History) string {
	return dump(h) + fmt.Sprintf("Marker1 %d,%d,%q\nMarker2 %d,%d,%q\n",
		h.Marker1.Size, h.Marker1.ModTime, h.Marker1.Hash, h.Marker2.Size, h.Marker2.ModTime, h.Marker2.Hash)
}

// TestGoldenV2 pins format version 2 as TestGoldenV1 pins version 1.
// Regenerate with -update only when the sample itself changes, never to
// paper over a failure to read it.
func TestGoldenV2(t *testing.T) {
	bin := filepath.Join("testdata", "v2-small.hist")
	txt := filepath.Join("testdata", "v2-small.txt")
	if *update {
		h := goldenV2()
		if err := os.WriteFile(bin, encode(t, h), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(txt, []byte(dumpV2(h)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := Load(bin)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(txt)
	if err != nil {
		t.Fatal(err)
	}
	if got := dumpV2(h); got != string(want) {
		t.Errorf("%s decodes to\n%s\nwant (%s)\n%s", bin, got, txt, want)
	}
	checkEqual(t, h, goldenV2())
}
