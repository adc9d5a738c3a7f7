package bisync

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// conflictNamer makes the names of conflict copies. A name carries the word
// of --conflict-suffix (default "conflict"), which side's version it is, the
// time of the run and the device, and keeps the extension so that an editor
// still opens it:
//
//	notes/plan.md -> notes/plan.conflict1-20261122-210500-k3x9q2.md
type conflictNamer struct {
	suffix [2]string // per side; from --conflict-suffix
	loser  ConflictLoser
	stamp  string
	device string
}

func newConflictNamer(opts Options, now time.Time) conflictNamer {
	n := conflictNamer{loser: opts.ConflictLoser, stamp: now.UTC().Format(stampLayout), device: opts.DeviceID}
	parts := strings.SplitN(opts.ConflictSuffix, ",", 2)
	n.suffix[0] = strings.TrimSpace(parts[0])
	n.suffix[1] = n.suffix[0]
	if len(parts) == 2 {
		n.suffix[1] = strings.TrimSpace(parts[1])
	}
	return n
}

// name is the conflict name of side's version of p; attempt > 1 makes it
// distinct from a name already taken.
func (n conflictNamer) name(p string, side, attempt int) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if ext == base { // a dotfile such as ".gitignore" is all stem
		ext = ""
	}
	stem := strings.TrimSuffix(base, ext)
	tag := n.suffix[side-1]
	switch {
	case n.loser == LoserPathname:
		tag += fmt.Sprintf("-path%d", side)
	case n.suffix[0] == n.suffix[1]:
		tag += fmt.Sprint(side)
	}
	tag += "-" + n.stamp
	if n.device != "" {
		tag += "-" + n.device
	}
	if attempt > 1 {
		tag += fmt.Sprintf("-%d", attempt)
	}
	return dir + stem + "." + tag + ext
}

// unique returns a name for side's version of p that is not in taken, and
// adds it to taken.
func (n conflictNamer) unique(p string, side int, taken *takenNames) string {
	name := n.name(p, side, 1)
	for i := 2; taken.has(name); i++ {
		name = n.name(p, side, i)
	}
	taken.add(name)
	return name
}
