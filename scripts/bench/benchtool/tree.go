package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// A notes vault: folders of 20 to 180 markdown notes (median 1.5 kB, a few
// up to 60 kB), two or three levels deep, and one file in 400 an attachment
// of 100 kB to 2 MB in the folder's attachments/ subfolder. Everything,
// modification times included, follows from the seed.

var (
	tops  = []string{"Projects", "Areas", "Resources", "Archive", "Journal", "Meetings", "People", "Reading notes", "Ideas", "Clients", "Research", "Daily"}
	words = []string{"alpha", "budget", "café", "design", "draft", "garden", "idea", "kickoff", "launch", "meeting", "notes", "plan", "query", "recipe", "review", "roadmap", "summary", "travel", "weekly", "zettel"}
	exts  = []string{".png", ".pdf", ".jpg", ".m4a"}
)

type fileSpec struct {
	path   string
	size   int
	mtime  time.Time
	attach bool
	off    int // where its content starts in the shared text or noise
}

type genStats struct {
	files, dirs int
	bytes       int64
}

// vaultPlan lays out about n files.
func vaultPlan(n int, seed uint64) (specs []fileSpec, dirs []string) {
	rng := rand.New(rand.NewPCG(seed, 0x7661756c74))
	base := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(3 * 365 * 24 * time.Hour)
	seen := map[string]bool{}
	addDir := func(d string) {
		for ; d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for leaf := 0; len(specs) < n; leaf++ {
		dir := fmt.Sprintf("%s/Topic %04d", tops[leaf%len(tops)], leaf/len(tops))
		if leaf%3 == 0 {
			dir += fmt.Sprintf("/Part %d", leaf%7)
		}
		addDir(dir)
		count := 20 + rng.IntN(161)
		for i := 0; i < count && len(specs) < n; i++ {
			idx := len(specs)
			s := fileSpec{mtime: time.Unix(0, base.UnixNano()+rng.Int64N(span)).UTC()}
			if rng.IntN(400) == 0 {
				s.attach = true
				s.size = 100_000 + rng.IntN(1_900_001)
				s.path = fmt.Sprintf("%s/attachments/%s %d%s", dir, words[rng.IntN(len(words))], idx, exts[rng.IntN(len(exts))])
				s.off = rng.IntN(len(noise) - s.size)
				addDir(dir + "/attachments")
			} else {
				s.size = int(math.Min(60_000, math.Max(60, math.Exp(math.Log(1500)+0.9*rng.NormFloat64()))))
				s.path = fmt.Sprintf("%s/%s %s %d.md", dir, words[rng.IntN(len(words))], words[rng.IntN(len(words))], idx)
				s.off = rng.IntN(len(text) - s.size)
			}
			specs = append(specs, s)
		}
	}
	slices.Sort(dirs)
	return specs, dirs
}

// text is markdown-ish prose and noise incompressible bytes, shared by all
// files: each file takes a slice at its own offset.
var text, noise = func() ([]byte, []byte) {
	rng := rand.New(rand.NewPCG(42, 43))
	var b strings.Builder
	for b.Len() < 128<<10 {
		switch rng.IntN(12) {
		case 0:
			b.WriteString("\n\n## ")
		case 1:
			b.WriteString("\n- [[")
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteString("]] ")
		default:
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
	}
	n := make([]byte, 4<<20)
	for i := 0; i+8 <= len(n); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			n[i+j] = byte(v >> (8 * j))
		}
	}
	return []byte(b.String()), n
}()

func (s fileSpec) content() []byte {
	head := fmt.Appendf(nil, "# %s\n\n", path.Base(s.path))
	src := text
	if s.attach {
		src = noise
	}
	out := make([]byte, 0, s.size)
	out = append(out, head...)
	if len(out) > s.size {
		out = out[:s.size]
	}
	return append(out, src[s.off:s.off+s.size-len(out)]...)
}

// gen writes the vault under dir, which must not exist or be empty.
func gen(dir string, n int, seed uint64) (genStats, error) {
	specs, dirs := vaultPlan(n, seed)
	var st genStats
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return st, err
		}
	}
	jobs := make(chan fileSpec, 256)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for s := range jobs {
				p := filepath.Join(dir, filepath.FromSlash(s.path))
				err := os.WriteFile(p, s.content(), 0o644)
				if err == nil {
					err = os.Chtimes(p, s.mtime, s.mtime)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, s := range specs {
		jobs <- s
		st.bytes += int64(s.size)
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return st, err
	default:
	}
	st.files, st.dirs = len(specs), len(dirs)
	return st, nil
}

// listFiles returns the files under dir, sorted, with their sizes, leaving
// out ferry's own folder.
func listFiles(dir string) ([]string, map[string]int64, error) {
	var paths []string
	sizes := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".ferry" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		paths = append(paths, rel)
		sizes[rel] = info.Size()
		return nil
	})
	slices.Sort(paths)
	return paths, sizes, err
}

type mutateStats struct{ edited, created, deleted int }

// mutate changes frac of the files of a on a and another frac on b, disjoint:
// of each ten, eight edits (a line appended, a new modtime), one new file
// beside and one deletion. The same seed on the same trees makes the same
// changes, so every tool's pair gets the same change set.
func mutate(a, b string, seed uint64, frac float64) (mutateStats, error) {
	var st mutateStats
	paths, _, err := listFiles(a)
	if err != nil {
		return st, err
	}
	k := max(1, int(frac*float64(len(paths))))
	if 2*k > len(paths) {
		return st, fmt.Errorf("%s has %d files, too few to change %d on each side", a, len(paths), k)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d757461))
	perm := rng.Perm(len(paths))
	when := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seed) * time.Hour)
	for side, root := range []string{a, b} {
		for j, idx := range perm[side*k : (side+1)*k] {
			rel := paths[idx]
			p := filepath.Join(root, filepath.FromSlash(rel))
			mt := when.Add(time.Duration(j)*time.Millisecond + time.Duration(rng.IntN(1e6)))
			switch j % 10 {
			case 0:
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return st, err
				}
				st.deleted++
			case 1:
				np := filepath.Join(filepath.Dir(p), fmt.Sprintf("new %d-%d-%d.md", seed, side+1, j))
				if err := os.WriteFile(np, fmt.Appendf(nil, "# new note\n\nWritten in round %d on side %d.\n%s", seed, side+1, text[:rng.IntN(4000)]), 0o644); err != nil {
					return st, err
				}
				if err := os.Chtimes(np, mt, mt); err != nil {
					return st, err
				}
				st.created++
			default:
				// A new file renamed over the old one, never an edit in
				// place: the pairs share their files with the generated
				// tree through hard links (see run.go).
				old, err := os.ReadFile(p)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return st, err
				}
				tmp := p + ".benchtool-tmp"
				data := fmt.Appendf(old, "\n\nEdited in round %d on side %d, change %d.\n", seed, side+1, j)
				err = os.WriteFile(tmp, data, 0o644)
				if err == nil {
					err = os.Chtimes(tmp, mt, mt)
				}
				if err == nil {
					err = os.Rename(tmp, p)
				}
				if err != nil {
					return st, err
				}
				st.edited++
			}
		}
	}
	return st, nil
}

// walkStat walks dir and stats every entry, the least any sync tool does.
func walkStat(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if _, err := d.Info(); err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	return n, err
}

// same reports whether two trees hold the same files with the same sizes.
func same(a, b string) error {
	pa, sa, err := listFiles(a)
	if err != nil {
		return err
	}
	pb, sb, err := listFiles(b)
	if err != nil {
		return err
	}
	var diffs []string
	for _, p := range pa {
		if s, ok := sb[p]; !ok {
			diffs = append(diffs, "only in "+a+": "+p)
		} else if s != sa[p] {
			diffs = append(diffs, fmt.Sprintf("size differs: %s (%d, %d)", p, sa[p], s))
		}
	}
	for _, p := range pb {
		if _, ok := sa[p]; !ok {
			diffs = append(diffs, "only in "+b+": "+p)
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%d differences, first: %s", len(diffs), strings.Join(diffs[:min(5, len(diffs))], "; "))
	}
	return nil
}

// genAttachments writes the rename scenario's tree under dir: n attachments
// of 4 to 16 kB (incompressible, as photos and PDFs are) in the folder sub,
// and a note for each 25 of them in sub's parent. It follows from the seed.
func genAttachments(dir, sub string, n int, seed uint64) (genStats, error) {
	rng := rand.New(rand.NewPCG(seed, 0x61747461))
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var specs []fileSpec
	for i := range n {
		size := 4096 + rng.IntN(12*1024+1)
		specs = append(specs, fileSpec{
			path:   filepath.ToSlash(filepath.Join(sub, fmt.Sprintf("%s %04d%s", words[rng.IntN(len(words))], i, exts[rng.IntN(len(exts))]))),
			size:   size,
			mtime:  base.Add(time.Duration(i) * time.Minute),
			attach: true,
			off:    rng.IntN(len(noise) - size),
		})
	}
	for i := range n / 25 {
		size := 200 + rng.IntN(3000)
		specs = append(specs, fileSpec{
			path:  filepath.ToSlash(filepath.Join(filepath.Dir(sub), fmt.Sprintf("day %02d.md", i+1))),
			size:  size,
			mtime: base.Add(time.Duration(i) * 24 * time.Hour),
			off:   rng.IntN(len(text) - size),
		})
	}
	var st genStats
	if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
		return st, err
	}
	for _, s := range specs {
		p := filepath.Join(dir, filepath.FromSlash(s.path))
		if err := os.WriteFile(p, s.content(), 0o644); err != nil {
			return st, err
		}
		if err := os.Chtimes(p, s.mtime, s.mtime); err != nil {
			return st, err
		}
		st.files++
		st.bytes += int64(s.size)
	}
	return st, nil
}
