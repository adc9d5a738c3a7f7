package history

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSideFormat(t *testing.T) {
	if got, want := string(EncodeSideFormat()), fmt.Sprintf("ferry side format %d\n", SideFormat); got != want {
		t.Fatalf("EncodeSideFormat = %q, want %q", got, want)
	}
	if n, err := ParseSideFormat(EncodeSideFormat()); n != SideFormat || err != nil {
		t.Fatalf("ParseSideFormat(EncodeSideFormat()) = %d, %v", n, err)
	}
	for _, s := range []string{
		"ferry side format 1",
		"ferry side format 1\r\n",
		"  ferry side format 1  \n\n",
		"\uFEFFferry side format 1\r\n", // saved by an editor that adds a BOM
	} {
		if n, err := ParseSideFormat([]byte(s)); n != 1 || err != nil {
			t.Errorf("ParseSideFormat(%q) = %d, %v; want 1", s, n, err)
		}
	}
}

func TestParseSideFormatNewer(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"ferry side format 2\n", 2},
		{"ferry side format 17\nextra: whatever format 17 adds\n", 17},
		{"ferry side format 2147483647", 2147483647},
	} {
		_, err := ParseSideFormat([]byte(tc.s))
		if !errors.Is(err, ErrNewerFormat) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("ParseSideFormat(%q) = %v, want ErrNewerFormat", tc.s, err)
		}
		want := fmt.Sprintf("this folder was written by a newer ferry (side format %d); upgrade ferry", tc.want)
		if err.Error() != want {
			t.Errorf("ParseSideFormat(%q) message %q, want %q", tc.s, err, want)
		}
	}
}

func TestParseSideFormatCorrupt(t *testing.T) {
	for _, s := range []string{
		"",
		"\n",
		"ferry side format",
		"ferry side format ",
		"ferry side format 0",
		"ferry side format 01",
		"ferry side format +1",
		"ferry side format -1",
		"ferry side format 1.0",
		"ferry side format 1 2",
		"ferry side format 0x1",
		"ferry side format 1_0",
		"ferry side format 2147483648", // beyond any format
		"ferry side format 99999999999999999999999",
		"Ferry side format 1",
		"ferry  side format 1",
		"ferry side format 1\nmore\n", // format 1 is one line
		"FERRYDEL\x00\x01",
		"\xff\xfe",
		strings.Repeat("x", 1000),
	} {
		n, err := ParseSideFormat([]byte(s))
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNewerFormat) {
			t.Errorf("ParseSideFormat(%.40q) = %d, %v; want ErrCorrupt", s, n, err)
			continue
		}
		if !strings.Contains(err.Error(), ".ferry/format") || len(err.Error()) > 200 {
			t.Errorf("ParseSideFormat(%.40q): message %q should name the file and be short", s, err)
		}
	}
}

func FuzzParseSideFormat(f *testing.F) {
	f.Add(EncodeSideFormat())
	f.Add([]byte("ferry side format 2\nmore\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseSideFormat(b)
		switch {
		case err == nil && (n < 1 || n > SideFormat):
			t.Fatalf("ParseSideFormat(%q) = %d", b, n)
		case err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat):
			t.Fatalf("ParseSideFormat(%q): error %v wraps neither sentinel", b, err)
		}
	})
}
