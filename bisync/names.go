package bisync

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNameClash: two paths that differ only in case would become one file on
// a side that ignores case. Neither is written: one would overwrite the
// other, and the next run would take the lost one for a deletion.
var ErrNameClash = errors.New("bisync: names clash on a side that ignores case")

// checkNameClashes leaves alone every action that would write a path onto a
// case-insensitive side where another path of the same name in another case
// is or will be, and fails it with an error that names both.
func (e *engine) checkNameClashes(items []*item) {
	for d := range 2 {
		if !e.sides[d].caps.CaseInsensitive {
			continue
		}
		type occupant struct {
			path string
			it   *item
		}
		byName := map[string][]occupant{}
		for _, it := range items {
			for _, p := range finalNames(it, d) {
				k := strings.ToLower(p)
				byName[k] = append(byName[k], occupant{p, it})
			}
		}
		for _, occ := range byName {
			if len(occ) < 2 {
				continue
			}
			for _, o := range occ {
				if o.it.e[d] != nil && o.it.path == o.path {
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
				o.it.unreadable[d] = &OpError{Op: "copy", Side: d + 1, Path: o.path, Err: fmt.Errorf(
					"%w: %s would be the same file as %s on path%d (%s); rename one of them",
					ErrNameClash, o.path, strings.Join(others, ", "), d+1, e.sides[d].r)}
				e.leaveAlone(o.it)
			}
		}
	}
}
