package bisync

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Two names are one file on a side when the side cannot tell them apart:
// names that differ only in case on a case-insensitive side, and names that
// differ only in their Unicode form (é as one character, NFC, or as e and
// a combining accent, NFD) on a side that normalizes them, as macOS does.
// ferry cannot ask a side whether it normalizes, so it treats every side
// as if it might: writing one form where the other is would, there,
// overwrite it, and the next run would take the lost name for a deletion.

// nameKey is the name under which p is one file with others on a side:
// p in NFC, and lower-cased on a case-insensitive side.
func nameKey(p string, caseInsensitive bool) string {
	k := p
	if !isASCII(p) {
		k = norm.NFC.String(p)
	}
	if caseInsensitive {
		k = strings.ToLower(k)
	}
	return k
}

// unnormalized reports whether p is not in NFC, so that another name may
// be the same file as p on a side that normalizes (see nameKey).
func unnormalized(p string) bool {
	return !isASCII(p) && !norm.NFC.IsNormalString(p)
}

// sameButForm reports whether a and b differ only in their Unicode form.
func sameButForm(a, b string) bool {
	return a != b && norm.NFC.String(a) == norm.NFC.String(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
