package bisync

import (
	"path"
	"regexp"
	"strings"
	"time"
)

// ConflictCopy is what the name of a conflict copy tells.
type ConflictCopy struct {
	// Of is the path the copy is a version of.
	Of string
	// Side is whose version it is, 1 or 2; 0 when the name does not say
	// (it should: every name conflictNamer makes does).
	Side int
	// Time is when the run that made it started, to the second, in UTC.
	Time time.Time
	// Device is the device id of the workdir that made it; "" for none.
	Device string
}

// stampLayout is the time in a conflict name.
const stampLayout = "20060102-150405"

// ParseConflictName reports whether p is the name of a conflict copy made
// with the --conflict-suffix value suffix (one word, or two comma-separated
// for path1 and path2), and what its name tells. It is the inverse of the
// names conflictNamer makes, with either --conflict-loser num or pathname,
// so that ferry conflicts finds the copies a sync left.
func ParseConflictName(p, suffix string) (ConflictCopy, bool) {
	words := strings.SplitN(suffix, ",", 2)
	alts := make([]string, 0, 2)
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			alts = append(alts, regexp.QuoteMeta(w))
		}
	}
	if len(alts) == 0 {
		return ConflictCopy{}, false
	}
	// stem.TAG-STAMP[-DEVICE][-N]EXT, where TAG is a word followed by the
	// side's number, by -pathN, or by nothing when the two words differ.
	// A device id holds a letter, which tells it from the number N.
	re, err := regexp.Compile(`^(.+?)\.(` + strings.Join(alts, "|") + `)(\d|-path\d)?` +
		`-(\d{8}-\d{6})(?:-([a-z0-9]*[a-z][a-z0-9]*))?(?:-(\d+))?(\.[^.]*)?$`)
	if err != nil {
		return ConflictCopy{}, false
	}
	dir, base := path.Split(p)
	m := re.FindStringSubmatch(base)
	if m == nil {
		return ConflictCopy{}, false
	}
	t, err := time.Parse(stampLayout, m[4])
	if err != nil {
		return ConflictCopy{}, false
	}
	c := ConflictCopy{Of: dir + m[1] + m[7], Time: t, Device: m[5]}
	switch tag := strings.TrimPrefix(m[3], "-path"); {
	case tag == "1" || tag == "2":
		c.Side = int(tag[0] - '0')
	case len(words) == 2 && m[2] == regexp.QuoteMeta(strings.TrimSpace(words[0])):
		c.Side = 1
	case len(words) == 2:
		c.Side = 2
	}
	return c, true
}
