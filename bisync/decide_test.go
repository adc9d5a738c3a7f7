package bisync

import (
	"testing"
)

var allModes = []Mode{Bidirectional, Push, PushDelete, Pull, PullDelete}

// TestDecideCoversEveryReachablePair: every pair of states that can occur has
// exactly one decision in every mode, and pairs that cannot occur are errors.
func TestDecideCoversEveryReachablePair(t *testing.T) {
	withHistory := []State{Unchanged, Modified, Deleted}
	without := []State{Created, Deleted, Absent}
	for _, mode := range allModes {
		for _, one := range withHistory {
			for _, two := range withHistory {
				if _, err := decide(mode, one, two); err != nil {
					t.Errorf("%v %v,%v: %v", mode, one, two, err)
				}
			}
		}
		for _, one := range without {
			for _, two := range without {
				_, err := decide(mode, one, two)
				if one == Absent && two == Absent {
					if err == nil {
						t.Errorf("%v -,-: want an error, a path seen nowhere has no decision", mode)
					}
					continue
				}
				if err != nil {
					t.Errorf("%v %v,%v: %v", mode, one, two, err)
				}
			}
		}
		for _, impossible := range [][2]State{{Unchanged, Created}, {Created, Modified}, {Absent, Unchanged}} {
			if c, err := decide(mode, impossible[0], impossible[1]); err == nil {
				t.Errorf("%v %v,%v: got cell %d, want an error", mode, impossible[0], impossible[1], c.id)
			}
		}
	}
}

// TestOneWayModesNeverChangeTheSource: push never writes path1 and pull
// never writes path2, in any cell.
func TestOneWayModesNeverChangeTheSource(t *testing.T) {
	forbidden := map[Mode][]Op{
		Push:       {OpCopy2to1, OpDelete1, OpConflict},
		PushDelete: {OpCopy2to1, OpDelete1, OpConflict},
		Pull:       {OpCopy1to2, OpDelete2, OpConflict},
		PullDelete: {OpCopy1to2, OpDelete2, OpConflict},
	}
	for mode, ops := range forbidden {
		for _, c := range tables[mode] {
			for _, op := range ops {
				if c.op == op {
					t.Errorf("%v cell %02d (%v,%v) does %v", mode, c.id, c.one, c.two, op)
				}
			}
		}
	}
}

// TestOnlyDeleteModesDelete: plain push and pull never delete anything.
func TestOnlyDeleteModesDelete(t *testing.T) {
	for _, mode := range []Mode{Push, Pull} {
		for _, c := range tables[mode] {
			if c.op == OpDelete1 || c.op == OpDelete2 {
				t.Errorf("%v cell %02d (%v,%v) deletes", mode, c.id, c.one, c.two)
			}
		}
	}
}

func FuzzDecide(f *testing.F) {
	f.Add(0, 1, 2)
	f.Fuzz(func(t *testing.T, mode, one, two int) {
		if one < 0 || one >= int(numStates) || two < 0 || two >= int(numStates) {
			return
		}
		c, err := decide(Mode(mode), State(one), State(two))
		if (c == nil) == (err == nil) {
			t.Fatalf("decide(%d,%d,%d) = %v, %v: want exactly one of a cell and an error", mode, one, two, c, err)
		}
	})
}
