package history

import (
	"bytes"
	"fmt"
	"strconv"
)

// The side format marker, `.ferry/format` on each side, says which layout
// of `.ferry/` ferry wrote there (docs/deletion-records.md), so that an older
// ferry refuses a side that a newer one has changed instead of misreading
// it. It is one line of text, readable by anyone who finds the folder:
//
//	ferry side format 1
//
// A later format may add lines after the first; a reader that knows the
// format of the first line reads the rest, one that does not refuses the
// side.
const (
	// SideFormat is the side format this build writes and the newest it
	// reads. Version 1: `.ferry/format` and `.ferry/deletions`.
	SideFormat = 1

	sideFormatPrefix = "ferry side format "
)

// EncodeSideFormat returns the content of `.ferry/format` for SideFormat.
func EncodeSideFormat() []byte {
	return fmt.Appendf(nil, "%s%d\n", sideFormatPrefix, SideFormat)
}

// ParseSideFormat reads the content of `.ferry/format` and returns its
// format. One from a newer ferry gives an error wrapping ErrNewerFormat that
// says to upgrade; anything else that is not a marker gives one wrapping
// ErrCorrupt. Line ends may be "\n" or "\r\n", a UTF-8 byte order mark
// and surrounding blank space are ignored: an editor may have saved it.
func ParseSideFormat(b []byte) (int, error) {
	first, rest, _ := bytes.Cut(bytes.TrimPrefix(b, []byte("\uFEFF")), []byte("\n"))
	line := string(bytes.TrimSpace(first))
	digits, ok := bytes.CutPrefix([]byte(line), []byte(sideFormatPrefix))
	n, err := strconv.ParseUint(string(digits), 10, 31)
	if !ok || err != nil || n == 0 || digits[0] == '0' {
		return 0, corrupt(".ferry/format: want %q, got %.64q", sideFormatPrefix+"N", b)
	}
	if n > SideFormat {
		return 0, newerSideError{int(n)}
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return 0, corrupt(".ferry/format: side format %d has one line, got more: %.64q", n, b)
	}
	return int(n), nil
}

// newerSideError is the error of a side written by a newer ferry: its
// message is the whole story, and it wraps ErrNewerFormat.
type newerSideError struct{ format int }

func (e newerSideError) Error() string {
	return fmt.Sprintf("this folder was written by a newer ferry (side format %d); upgrade ferry", e.format)
}

func (e newerSideError) Unwrap() error { return ErrNewerFormat }
