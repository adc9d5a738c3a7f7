package bisync

import (
	"testing"
	"time"
)

// TestParseConflictName: every name the namer makes is found again, with
// the path it is a version of, the side, the time and the device; other
// names are not taken for conflict copies.
func TestParseConflictName(t *testing.T) {
	at := time.Date(2026, 11, 22, 21, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		suffix string
		loser  ConflictLoser
		device string
	}{
		{"conflict", LoserNum, "k3x9q2"},
		{"conflict", LoserPathname, "k3x9q2"},
		{"conflict", LoserNum, ""},
		{"mine,theirs", LoserNum, "abcdef"},
		{"mine,theirs", LoserPathname, "abcdef"},
		{"c.x", LoserNum, "abcdef"},
	} {
		n := newConflictNamer(Options{ConflictSuffix: tc.suffix, ConflictLoser: tc.loser, DeviceID: tc.device}, at)
		for _, p := range []string{"notes/plan.md", "a.tar.gz", ".gitignore", "dir.v2/README", "x y/ünï.txt"} {
			for side := 1; side <= 2; side++ {
				for attempt := 1; attempt <= 2; attempt++ {
					name := n.name(p, side, attempt)
					got, ok := ParseConflictName(name, tc.suffix)
					want := ConflictCopy{Of: p, Side: side, Time: at, Device: tc.device}
					if !ok || got != want {
						t.Errorf("suffix %q loser %v: %s -> %+v, %v; want %+v", tc.suffix, tc.loser, name, got, ok, want)
					}
				}
			}
		}
	}
	for _, name := range []string{
		"notes/plan.md", "conflict.md", "notes/plan.conflict.md", "plan.conflict1.md",
		"plan.conflict1-2026-11-22.md", "plan.other1-20261122-210500-k3x9q2.md",
	} {
		if c, ok := ParseConflictName(name, "conflict"); ok {
			t.Errorf("%s taken for a conflict copy: %+v", name, c)
		}
	}
}
