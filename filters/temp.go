package filters

import "strings"

// MetaDir is ferry's metadata folder at the root of each side. It and
// everything in it are always excluded.
const MetaDir = ".ferry"

const (
	partialSuffix = ".partial" // rclone's default --partial-suffix
	ferryInfix    = ".ferry-"
	hexDigits     = 8
)

// IsTemporary reports whether the last element of name is a file that an
// interrupted upload leaves behind, which is always excluded:
//
//   - rclone's partial uploads (rclone v1.76 fs/operations/copy.go):
//     "<name>.<8 hex digits>.partial", the digits a CRC-32 of the name and
//     the source's fingerprint, written as fmt.Sprintf("%08x"), before the
//     default --partial-suffix ".partial";
//   - ferry's own temporary names (backends/rclonefs):
//     ".<name>.ferry-<16 hex digits>.partial" (the time it was made and
//     random bits), or 8 random hex digits from earlier versions.
//
// Other names ending in ".partial", such as "notes.partial", are ordinary
// files.
func IsTemporary(name string) bool {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	rest, ok := strings.CutSuffix(name, partialSuffix)
	if !ok {
		return false
	}
	// ferry: "." prefix, ".ferry-" and 16 or 8 hex digits.
	if strings.HasPrefix(name, ".") {
		if i := strings.LastIndex(rest, ferryInfix); i >= 0 {
			digits := rest[i+len(ferryInfix):]
			if isLowerHex(digits) || len(digits) == 2*hexDigits && isLowerHex(digits[:hexDigits]) && isLowerHex(digits[hexDigits:]) {
				return true
			}
		}
	}
	// rclone: something, ".", 8 hex digits.
	n := len(rest) - hexDigits - 1
	return n > 0 && rest[n] == '.' && isLowerHex(rest[n+1:])
}

// isLowerHex reports whether s is exactly 8 lower-case hex digits.
func isLowerHex(s string) bool {
	if len(s) != hexDigits {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// alwaysExcluded reports whether a file path is excluded whatever the
// rules say: ferry's metadata and temporary files.
func alwaysExcluded(path string) bool {
	return path == MetaDir || strings.HasPrefix(path, MetaDir+"/") || IsTemporary(path)
}
