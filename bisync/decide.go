package bisync

import "fmt"

// State is what happened to a path on one side since the last committed run.
type State int

// The per-side states of docs/algorithm.md.
const (
	Absent    State = iota // "-": never seen, no deletion record
	Unchanged              // U
	Modified               // M
	Deleted                // D: in the history (or a deletion record), gone now
	Created                // C: present, not in the history
	numStates
)

func (s State) String() string { return [...]string{"-", "U", "M", "D", "C"}[s] }

// cell is one numbered decision of docs/algorithm.md. Decision numbers follow
// seeds/sync-algorithm-v3.md; do not renumber them: they appear in --dry-run
// output, the run log and bug reports.
type cell struct {
	id     int
	one    State // state on path1
	two    State // state on path2
	op     Op
	reason string
	// protect marks copies that overwrite the destination's own edit in a
	// one-way mode: when the content differs, the destination's version is
	// kept as a conflict copy (or in the backup dir) first.
	protect bool
	// stale marks copies of a survivor facing a deletion record: when the
	// survivor's content is what the record says was deleted, it is a stale
	// copy and is deleted instead.
	stale bool
}

const (
	U = Unchanged
	M = Modified
	D = Deleted
	C = Created
	A = Absent
)

var bidirectionalCells = []cell{
	{id: 2, one: U, two: U, op: OpNothing, reason: "unchanged on both sides"},
	{id: 9, one: U, two: M, op: OpCopy2to1, reason: "changed on path2"},
	{id: 7, one: U, two: D, op: OpDelete1, reason: "deleted on path2"},
	{id: 10, one: M, two: U, op: OpCopy1to2, reason: "changed on path1"},
	{id: 16, one: M, two: M, op: OpConflict, reason: "changed on both sides"},
	{id: 8, one: M, two: D, op: OpCopy1to2, reason: "changed on path1, deleted on path2: the edit wins"},
	{id: 4, one: D, two: U, op: OpDelete2, reason: "deleted on path1"},
	{id: 5, one: D, two: M, op: OpCopy2to1, reason: "deleted on path1, changed on path2: the edit wins"},
	{id: 1, one: D, two: D, op: OpForget, reason: "deleted on both sides"},
	{id: 3, one: D, two: C, op: OpCopy2to1, stale: true, reason: "new on path2, deleted earlier on path1"},
	{id: 6, one: C, two: D, op: OpCopy1to2, stale: true, reason: "new on path1, deleted earlier on path2"},
	{id: 11, one: C, two: C, op: OpConflict, reason: "new on both sides"},
	{id: 6, one: C, two: A, op: OpCopy1to2, reason: "new on path1"},
	{id: 3, one: A, two: C, op: OpCopy2to1, reason: "new on path2"},
}

var pushCells = []cell{
	{id: 2, one: U, two: U, op: OpNothing, reason: "unchanged on both sides"},
	{id: 26, one: U, two: M, op: OpCopy1to2, protect: true, reason: "changed on path2: push restores path1's version"},
	{id: 32, one: U, two: D, op: OpCopy1to2, reason: "deleted on path2: push restores path1's version"},
	{id: 10, one: M, two: U, op: OpCopy1to2, reason: "changed on path1"},
	{id: 25, one: M, two: M, op: OpCopy1to2, protect: true, reason: "changed on both sides: push keeps path1's version"},
	{id: 8, one: M, two: D, op: OpCopy1to2, reason: "changed on path1, deleted on path2"},
	{id: 29, one: D, two: U, op: OpNothing, reason: "deleted on path1: push does not delete"},
	{id: 30, one: D, two: M, op: OpNothing, reason: "deleted on path1, changed on path2: push leaves path2 alone"},
	{id: 28, one: D, two: C, op: OpNothing, reason: "new on path2: push leaves path2 alone"},
	{id: 6, one: C, two: D, op: OpCopy1to2, reason: "new on path1"},
	{id: 23, one: C, two: C, op: OpCopy1to2, protect: true, reason: "new on both sides: push keeps path1's version"},
	{id: 6, one: C, two: A, op: OpCopy1to2, reason: "new on path1"},
	{id: 0, one: A, two: C, op: OpNothing, reason: "new on path2: push leaves path2 alone"},
	{id: 1, one: D, two: D, op: OpForget, reason: "deleted on both sides"},
}

var pullCells = []cell{
	{id: 2, one: U, two: U, op: OpNothing, reason: "unchanged on both sides"},
	{id: 9, one: U, two: M, op: OpCopy2to1, reason: "changed on path2"},
	{id: 33, one: U, two: D, op: OpNothing, reason: "deleted on path2: pull does not delete"},
	{id: 27, one: M, two: U, op: OpCopy2to1, protect: true, reason: "changed on path1: pull restores path2's version"},
	{id: 24, one: M, two: M, op: OpCopy2to1, protect: true, reason: "changed on both sides: pull keeps path2's version"},
	{id: 34, one: M, two: D, op: OpNothing, reason: "changed on path1, deleted on path2: pull leaves path1 alone"},
	{id: 35, one: D, two: U, op: OpCopy2to1, reason: "deleted on path1: pull restores path2's version"},
	{id: 5, one: D, two: M, op: OpCopy2to1, reason: "changed on path2"},
	{id: 3, one: D, two: C, op: OpCopy2to1, reason: "new on path2"},
	{id: 31, one: C, two: D, op: OpNothing, reason: "new on path1: pull leaves path1 alone"},
	{id: 22, one: C, two: C, op: OpCopy2to1, protect: true, reason: "new on both sides: pull keeps path2's version"},
	{id: 0, one: C, two: A, op: OpNothing, reason: "new on path1: pull leaves path1 alone"},
	{id: 3, one: A, two: C, op: OpCopy2to1, reason: "new on path2"},
	{id: 1, one: D, two: D, op: OpForget, reason: "deleted on both sides"},
}

// pushDeleteCells is push with cell 29 replaced by 38; pullDeleteCells is
// pull with 33 replaced by 39 (docs/algorithm.md).
var (
	pushDeleteCells = replaceCell(pushCells, cell{id: 38, one: D, two: U, op: OpDelete2, reason: "deleted on path1"})
	pullDeleteCells = replaceCell(pullCells, cell{id: 39, one: U, two: D, op: OpDelete1, reason: "deleted on path2"})
)

func replaceCell(cells []cell, c cell) []cell {
	out := append([]cell(nil), cells...)
	for i := range out {
		if out[i].one == c.one && out[i].two == c.two {
			out[i] = c
			return out
		}
	}
	panic(fmt.Sprintf("bisync: no cell %v,%v to replace", c.one, c.two))
}

// tables[mode] lists the cells of each mode, in the documentation's order.
var tables = map[Mode][]cell{
	Bidirectional: bidirectionalCells,
	Push:          pushCells,
	PushDelete:    pushDeleteCells,
	Pull:          pullCells,
	PullDelete:    pullDeleteCells,
}

// lookup[mode][one][two] is the cell for a pair of states; nil when the pair
// cannot occur (a path in the history is never Created or Absent).
var lookup = buildLookup()

func buildLookup() (l [5][numStates][numStates]*cell) {
	for mode, cells := range tables {
		for i := range cells {
			c := &cells[i]
			if l[mode][c.one][c.two] != nil {
				panic(fmt.Sprintf("bisync: two cells for %v,%v in mode %v", c.one, c.two, mode))
			}
			l[mode][c.one][c.two] = c
		}
	}
	return l
}

// noHistoryDeleted covers deletion records facing nothing on the other side
// (D,- and -,D, and D,D without a history): there is nothing to do or forget.
var noHistoryDeleted = cell{id: 1, op: OpForget, reason: "deleted, nothing to propagate"}

// decide returns the cell for a pair of states in a mode.
func decide(mode Mode, one, two State) (*cell, error) {
	if mode < 0 || int(mode) >= len(lookup) {
		return nil, fmt.Errorf("bisync: unknown mode %d", mode)
	}
	if c := lookup[mode][one][two]; c != nil {
		return c, nil
	}
	if (one == D && two == A) || (one == A && two == D) {
		return &noHistoryDeleted, nil
	}
	return nil, fmt.Errorf("bisync: no decision for path1 %v, path2 %v in %v mode", one, two, mode)
}
