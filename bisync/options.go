package bisync

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/filters"
)

// Mode says in which directions changes flow.
type Mode int

// The five modes; see docs/algorithm.md.
const (
	Bidirectional Mode = iota
	Push               // path1 -> path2, path1's deletions are not propagated
	PushDelete         // path1 -> path2, with deletions
	Pull               // path2 -> path1, path2's deletions are not propagated
	PullDelete         // path2 -> path1, with deletions
)

var modeNames = []string{"bidirectional", "push", "push-delete", "pull", "pull-delete"}

func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// ParseMode accepts the names String returns.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if strings.EqualFold(s, n) {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q (want one of %s)", s, strings.Join(modeNames, ", "))
}

// ConflictResolve picks a winner between two versions of a file, as rclone
// bisync's --conflict-resolve.
type ConflictResolve int

// Values of --conflict-resolve.
const (
	ResolveNone ConflictResolve = iota
	ResolveNewer
	ResolveOlder
	ResolveLarger
	ResolveSmaller
	ResolvePath1
	ResolvePath2
)

var resolveNames = []string{"none", "newer", "older", "larger", "smaller", "path1", "path2"}

func (c ConflictResolve) String() string { return resolveNames[c] }

// ParseConflictResolve accepts the names String returns.
func ParseConflictResolve(s string) (ConflictResolve, error) {
	for i, n := range resolveNames {
		if strings.EqualFold(s, n) {
			return ConflictResolve(i), nil
		}
	}
	return 0, fmt.Errorf("unknown --conflict-resolve %q (want one of %s)", s, strings.Join(resolveNames, ", "))
}

// ConflictLoser says what happens to the version that lost, as rclone
// bisync's --conflict-loser.
type ConflictLoser int

// Values of --conflict-loser.
const (
	LoserNum      ConflictLoser = iota // rename to name.conflictN
	LoserPathname                      // rename to name.path1 / name.path2
	LoserDelete                        // delete it (only with a winner)
)

var loserNames = []string{"num", "pathname", "delete"}

func (c ConflictLoser) String() string { return loserNames[c] }

// ParseConflictLoser accepts the names String returns.
func ParseConflictLoser(s string) (ConflictLoser, error) {
	for i, n := range loserNames {
		if strings.EqualFold(s, n) {
			return ConflictLoser(i), nil
		}
	}
	return 0, fmt.Errorf("unknown --conflict-loser %q (want one of %s)", s, strings.Join(loserNames, ", "))
}

// Compare says which properties decide whether a file changed, as rclone
// bisync's --compare. Size is always compared when known.
type Compare struct {
	ModTime  bool
	Checksum bool
}

// ParseCompare parses a comma-separated list of size, modtime, checksum.
func ParseCompare(s string) (Compare, error) {
	var c Compare
	for _, f := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "size":
		case "modtime":
			c.ModTime = true
		case "checksum":
			c.Checksum = true
		default:
			return Compare{}, fmt.Errorf("unknown --compare field %q (want size, modtime or checksum)", f)
		}
	}
	return c, nil
}

// Options control one run. The zero value is not valid: use DefaultOptions.
type Options struct {
	Mode   Mode
	DryRun bool
	// Resync discards the history: the run is the union of both sides, as
	// a first run is.
	Resync  bool
	Compare Compare

	ConflictResolve ConflictResolve
	ConflictLoser   ConflictLoser
	// ConflictSuffix is the suffix for conflict copies; with two
	// comma-separated values, the first is for path1 and the second for
	// path2. Default "conflict".
	ConflictSuffix string

	CreateEmptySrcDirs bool
	RemoveEmptyDirs    bool
	// BackupDir1 and BackupDir2 receive files that a run overwrites or
	// deletes on path1 and path2; nil keeps no backup.
	BackupDir1, BackupDir2 backends.Replica

	// Filter selects the paths in scope; nil means every path but ferry's
	// own files. A path outside it on either side is left alone on both
	// sides and forgotten by the history.
	Filter *filters.Filter

	// MaxDelete stops the run, before anything is changed, when it would
	// delete more than this percentage of a side's files (rclone bisync's
	// --max-delete); 100 or more disables the check.
	MaxDelete int
	// MaxDeleteCount does the same for a number of files; 0 disables it.
	MaxDeleteCount int
	// Force overrides the safety checks.
	Force bool
	// CheckAccess requires the CheckFilename sentinel files to be present,
	// at the same paths, on both sides (rclone bisync's --check-access).
	CheckAccess   bool
	CheckFilename string
	// NoDelete blocks deletions: they are reported, never propagated.
	NoDelete bool

	Transfers int // parallel file transfers
	Checkers  int // parallel hash computations and comparisons

	// DeviceID names this workdir in conflict copies.
	DeviceID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Progress, when set, is called for each operation as it finishes
	// (never concurrently).
	Progress func(Action, error)
	// Listed, when set, is told how each side's listing grows, so that a
	// person watching a long listing sees it move: it is called with the
	// side (1 or 2) and the number of files listed there so far, once per
	// file, and once more with done set when that side's listing is
	// complete. The two sides list at once, so calls for side 1 and side 2
	// come concurrently; it must be quick.
	Listed func(side, files int, done bool)
	// Planned, when set, is called once with the plan (sorted by path)
	// before the safety checks and before any action is carried out, so
	// that the caller knows what Progress will report and how many bytes
	// will travel.
	Planned func(plan []Action)
	// Moved, when set, is told of file content as it travels: the bytes a
	// copy through ferry reads, as it reads them, and a server-side
	// copy's size when it is done, so that a long transfer is seen to
	// move. Copies run at once, so calls come concurrently; it must be
	// quick.
	Moved func(n int64)
}

// DefaultOptions are the options of a plain `ferry sync`.
func DefaultOptions() Options {
	return Options{
		Mode:           Bidirectional,
		Compare:        Compare{ModTime: true},
		ConflictLoser:  LoserNum,
		ConflictSuffix: "conflict",
		MaxDelete:      50,
		CheckFilename:  "RCLONE_TEST",
		Transfers:      4,
		Checkers:       8,
	}
}
