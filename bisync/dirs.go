package bisync

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/history"
)

// dirAction is a directory operation: empty directories are synced only with
// --create-empty-src-dirs and removed only with --remove-empty-dirs; files
// carry their parents with them otherwise.
type dirAction struct {
	act    Action
	record bool // keep the directory in the history after the run
}

// planDirs plans directory operations after the file plan is known, so that a
// directory is removed only where nothing will remain under it.
func (e *engine) planDirs(l [2]listing, hist []history.Record, items []item, same []history.Record) []dirAction {
	if !e.opts.CreateEmptySrcDirs && !e.opts.RemoveEmptyDirs {
		return nil
	}
	final := [2][]string{finalFiles(items, same, 0), finalFiles(items, same, 1)}
	if e.opts.RemoveEmptyDirs {
		return e.planRemoveEmpty(l, final)
	}
	if !e.sides[0].caps.Dirs || !e.sides[1].caps.Dirs {
		e.log.Info("--create-empty-src-dirs has no effect: one side cannot hold empty directories")
		return nil
	}
	return e.planCreateEmpty(l, hist, final)
}

// planCreateEmpty syncs directories like files, by presence alone.
func (e *engine) planCreateEmpty(l [2]listing, hist []history.Record, final [2][]string) []dirAction {
	present := [2]map[string]bool{dirSet(l[0].dirs), dirSet(l[1].dirs)}
	inHist := map[string]bool{}
	all := map[string]bool{}
	for _, r := range hist {
		inHist[r.Path] = true
		all[r.Path] = true
	}
	for s := range 2 {
		for d := range present[s] {
			all[d] = true
		}
	}
	var out []dirAction
	mode := e.opts.Mode
	from1 := mode == Bidirectional || mode == Push || mode == PushDelete
	from2 := mode == Bidirectional || mode == Pull || mode == PullDelete
	for d := range all {
		p1, p2 := present[0][d], present[1][d]
		a := Action{Path: d}
		record := false
		switch {
		case p1 && p2:
			record = true
		case !p1 && !p2:
			// gone from both: forget
		case !inHist[d] && p1 && from1, inHist[d] && p1 && (mode == Push || mode == PushDelete):
			a.Op, a.Reason, record = OpMkdir2, "empty directory on path1", true
		case !inHist[d] && p2 && from2, inHist[d] && p2 && (mode == Pull || mode == PullDelete):
			a.Op, a.Reason, record = OpMkdir1, "empty directory on path2", true
		case inHist[d] && p1 && mode == Bidirectional, inHist[d] && p1 && mode == PullDelete:
			if emptyIn(final[0], d) {
				a.Op, a.Reason = OpRmdir1, "directory deleted on path2"
			} else {
				record = true
			}
		case inHist[d] && p2 && (mode == Bidirectional || mode == PushDelete):
			if emptyIn(final[1], d) {
				a.Op, a.Reason = OpRmdir2, "directory deleted on path1"
			} else {
				record = true
			}
		default:
			record = inHist[d] // a one-way mode leaves it pending
		}
		if a.Op != OpNothing || record {
			out = append(out, dirAction{act: a, record: record})
		}
	}
	sortDirActions(out)
	return out
}

// planRemoveEmpty removes, on each side that has directories, every listed
// directory that holds nothing after the run, deepest first.
func (e *engine) planRemoveEmpty(l [2]listing, final [2][]string) []dirAction {
	var out []dirAction
	for s := range 2 {
		if !e.sides[s].caps.Dirs {
			continue
		}
		dirs := make([]string, 0, len(l[s].dirs))
		for _, d := range l[s].dirs {
			dirs = append(dirs, d.Path)
		}
		// Deepest first, so that a parent is judged after its children.
		sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
		remaining := append([]string(nil), final[s]...)
		remaining = append(remaining, dirs...)
		sort.Strings(remaining)
		op := OpRmdir1
		if s == 1 {
			op = OpRmdir2
		}
		for _, d := range dirs {
			if !emptyIn(remaining, d) {
				continue
			}
			out = append(out, dirAction{act: Action{Path: d, Op: op, Reason: "empty directory (--remove-empty-dirs)"}})
			i := sort.SearchStrings(remaining, d)
			remaining = append(remaining[:i], remaining[i+1:]...)
		}
	}
	return out
}

// sortDirActions orders creations parents first and removals children first.
func sortDirActions(out []dirAction) {
	sort.Slice(out, func(i, j int) bool {
		ri := out[i].act.Op == OpRmdir1 || out[i].act.Op == OpRmdir2
		rj := out[j].act.Op == OpRmdir1 || out[j].act.Op == OpRmdir2
		if ri != rj {
			return !ri
		}
		if ri {
			return out[i].act.Path > out[j].act.Path
		}
		return out[i].act.Path < out[j].act.Path
	})
}

// executeDirs runs directory operations one at a time, in order.
func (e *engine) executeDirs(ctx context.Context, dirs []dirAction) []error {
	var failed []error
	for i := range dirs {
		a := dirs[i].act
		var err error
		switch a.Op {
		case OpMkdir1:
			err = e.sides[0].r.Mkdir(ctx, a.Path)
		case OpMkdir2:
			err = e.sides[1].r.Mkdir(ctx, a.Path)
		case OpRmdir1:
			err = e.sides[0].r.Rmdir(ctx, a.Path)
		case OpRmdir2:
			err = e.sides[1].r.Rmdir(ctx, a.Path)
		default:
			continue
		}
		if err != nil {
			s := 1
			if a.Op == OpMkdir2 || a.Op == OpRmdir2 {
				s = 2
			}
			err = &OpError{Op: a.Op.String(), Side: s, Path: a.Path, Err: err}
			failed = append(failed, err)
			dirs[i].record = false
		}
		change := history.Change{Path: a.Path, Remove: true}
		if dirs[i].record {
			change = history.Change{Path: a.Path, Record: history.Record{Path: a.Path, Dir: true}}
		}
		if jerr := e.done(a, []history.Change{change}, err); jerr != nil {
			return append(failed, jerr)
		}
	}
	return failed
}

func dirSet(l []backends.Entry) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, d := range l {
		m[d.Path] = true
	}
	return m
}

// emptyIn reports whether nothing in the sorted paths lies under dir.
func emptyIn(sorted []string, dir string) bool {
	prefix := dir + "/"
	i := sort.SearchStrings(sorted, prefix)
	return i == len(sorted) || !strings.HasPrefix(sorted[i], prefix)
}

// finalFiles lists, sorted, the files that side s holds after the plan:
// those the items leave, and the paths unchanged on both sides (same).
func finalFiles(items []item, same []history.Record, s int) []string {
	out := make([]string, 0, len(items)+len(same))
	for i := range items {
		out = append(out, finalNames(&items[i], s)...)
	}
	for i := range same {
		out = append(out, same[i].Path)
	}
	slices.Sort(out)
	return out
}

// finalNames are the paths an item leaves on side s after its action: its
// own path where the file stays or arrives, and conflict copies.
func finalNames(it *item, s int) []string {
	var out []string
	present := it.e[s] != nil
	switch it.act.Op {
	case OpCopy1to2:
		present = present || s == 1
	case OpCopy2to1:
		present = present || s == 0
	case OpDelete1:
		present = present && s != 0
	case OpDelete2:
		present = present && s != 1
	case OpConflict:
		present = it.act.Winner != 0
		out = append(out, it.conflictName[0], it.conflictName[1])
	case OpMove1, OpMove2:
		present = true
	}
	if it.movedTo != "" {
		present = false
	}
	if it.cell != nil && it.cell.protect && it.e[s] != nil && it.act.Op != OpRecord {
		out = append(out, it.conflictName[s])
	}
	if present {
		out = append(out, it.path)
	}
	return out
}
