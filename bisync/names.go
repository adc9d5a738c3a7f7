package bisync

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-sync/ferry/history"
)

// ErrNameClash: two paths that differ only in case, or only in their
// Unicode form (NFC/NFD), would become one file on a side that ignores case
// or normalizes names (see nameKey). Neither is written: one would
// overwrite the other, and the next run would take the lost one for a
// deletion.
var ErrNameClash = errors.New("bisync: names clash on a side that cannot tell them apart")

// checkNameClashes leaves alone every action that would write a path onto a
// side where another path of the same name in another case (on a
// case-insensitive side) or in another Unicode form (on any side) is or
// will be, and fails it with an error that names both.
//
// same are the paths unchanged on both sides, which are never written but
// may be the other name.
func (e *engine) checkNameClashes(items []item, same []history.Record) {
	for d := range 2 {
		ci := e.sides[d].caps.CaseInsensitive
		if !writesOn(items, d) {
			continue
		}
		// On a side that tells case apart, only a name not in NFC can
		// be the same as another: without one, there is nothing to
		// check, and no map of every name to build.
		var forms map[string]bool
		if !ci {
			forms = unnormalizedKeys(items, same, d)
			if len(forms) == 0 {
				continue
			}
		}
		type occupant struct {
			path string
			it   *item // nil for a path unchanged on both sides
		}
		byName := map[string][]occupant{}
		add := func(p string, it *item) {
			k := nameKey(p, ci)
			if forms != nil && !forms[k] {
				return
			}
			byName[k] = append(byName[k], occupant{p, it})
		}
		// In path order, items and unchanged paths merged, so that an
		// error names the others in the same order every time.
		k := 0
		for i := range items {
			it := &items[i]
			for ; k < len(same) && same[k].Path < it.path; k++ {
				add(same[k].Path, nil)
			}
			for _, p := range finalNames(it, d) {
				add(p, it)
			}
		}
		for ; k < len(same); k++ {
			add(same[k].Path, nil)
		}
		for _, occ := range byName {
			if len(occ) < 2 {
				continue
			}
			for _, o := range occ {
				if o.it == nil || o.it.e[d] != nil && o.it.path == o.path {
					continue // already there: it is not being written
				}
				others := make([]string, 0, len(occ)-1)
				for _, x := range occ {
					if x.path != o.path {
						others = append(others, x.path)
					}
				}
				if len(others) == 0 {
					continue
				}
				how := "in another case"
				if sameButForm(o.path, others[0]) {
					how = "in another Unicode form (NFC/NFD: the same characters, encoded differently)"
				}
				o.it.unreadable[d] = &OpError{Op: "copy", Side: d + 1, Path: o.path, Err: fmt.Errorf(
					"%w: %s would be the same file as %s, the same name %s, on path%d (%s); rename one of them",
					ErrNameClash, o.path, strings.Join(others, ", "), how, d+1, e.sides[d].r)}
				e.leaveAlone(o.it)
			}
		}
	}
}

// unnormalizedKeys returns the keys (nameKey, case kept) of the names not
// in NFC among the paths unchanged on both sides and those the items leave
// on side d; nil when there are none.
func unnormalizedKeys(items []item, same []history.Record, d int) map[string]bool {
	var keys map[string]bool
	note := func(p string) {
		if unnormalized(p) {
			if keys == nil {
				keys = map[string]bool{}
			}
			keys[nameKey(p, false)] = true
		}
	}
	for i := range same {
		note(same[i].Path)
	}
	for i := range items {
		for _, p := range finalNames(&items[i], d) {
			note(p)
		}
	}
	return keys
}

// writesOn reports whether any item writes a name on side d: a copy, a
// move or a conflict copy. A run that writes nothing there cannot make two
// names clash.
func writesOn(items []item, d int) bool {
	for i := range items {
		it := &items[i]
		for _, p := range finalNames(it, d) {
			if it.e[d] == nil || it.path != p {
				return true
			}
		}
	}
	return false
}
