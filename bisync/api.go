package bisync

import (
	"github.com/ferry-sync/ferry/backends"
)

// Pair is the two sides of a sync and where their shared state lives.
type Pair struct {
	Path1, Path2 backends.Replica
	// HistoryFile is the history's path in the workdir, ending in ".hist".
	// The journal and the run log sit beside it, with the suffixes
	// ".journal" and ".runlog". Its directory must exist unless the run is a
	// dry run, which writes nothing.
	HistoryFile string
}

// Op is what an action does.
type Op int

// The operations a plan can hold.
const (
	OpNothing  Op = iota // in sync, or a change the mode does not propagate
	OpCopy1to2           // copy path1's version over path2
	OpCopy2to1           // copy path2's version over path1
	OpDelete1            // delete on path1
	OpDelete2            // delete on path2
	OpConflict           // both changed, different content: keep both versions
	OpRecord             // equal content on both sides: record it in the history
	OpForget             // gone from both sides: drop it from the history
	OpMkdir1             // create an empty directory on path1
	OpMkdir2             // create an empty directory on path2
	OpRmdir1             // remove a directory on path1
	OpRmdir2             // remove a directory on path2
	OpMove1              // rename on path1 what was renamed on path2
	OpMove2              // rename on path2 what was renamed on path1
)

var opNames = []string{"nothing", "copy 1->2", "copy 2->1", "delete on 1", "delete on 2",
	"conflict", "record", "forget", "mkdir on 1", "mkdir on 2", "rmdir on 1", "rmdir on 2", "move on 1", "move on 2"}

func (o Op) String() string { return opNames[o] }

// Action is one planned operation on one path.
type Action struct {
	Path     string
	Decision int // the numbered cell of docs/algorithm.md; 0 for housekeeping
	Op       Op
	Reason   string // in words, for --dry-run and the summary
	// Winner and Loser are set for an OpConflict resolved by
	// --conflict-resolve: the side (1 or 2) whose version is kept under the
	// path; 0 when both versions are kept under new names.
	Winner int
	// From is, for OpMove1 and OpMove2, the path renamed to Path.
	From string
	// Size is the number of bytes the action transfers.
	Size int64
}

// Result says what a run did (or, for a dry run, would do).
type Result struct {
	// FirstRun is true when there was no history (or --resync).
	FirstRun bool
	// Plan is every action that changes something, sorted by path.
	Plan []Action
	// Done counts the actions that completed, by Op.
	Done map[Op]int
	// Bytes transferred towards each side: [0] to path1, [1] to path2.
	Bytes [2]int64
	// Failed holds one *OpError per action that failed.
	Failed []error
	// Committed is true when the history holds the run's outcome: the new
	// history was written, or the run changed nothing and the history
	// already held it (it is then left alone).
	Committed bool
	// Recovered is true when an interrupted run's journal was folded in.
	Recovered bool
	// FiltersChanged is true when the filters differ from the last run's:
	// paths that left them were forgotten, paths that entered are new.
	FiltersChanged bool
	// RunID names the run in its journal and the run log.
	RunID string
	// Warnings are problems that did not stop the run.
	Warnings []string
}
