//go:build unix

package main

// Crash tests: run the real binary on real folders, kill it with SIGKILL at
// many points of a run (while it lists, between and during transfers, while
// it writes the history), in every mode, and check that the next plain
// `ferry sync` converges without any manual step: every version the user
// wrote kept, no deleted file back, and nothing left to do. SIGINT and
// SIGTERM must stop the run within seconds with a clear message, and the
// next run must say it recovered the interrupted one.
//
// `make test` runs fixed seeds and a bounded number of kill points;
// FERRY_SOAK=1 (`make soak`) runs more seeds with random kill points.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sync/ferry/history"
)

// crashSettings say how much the crash test does.
type crashSettings struct {
	seeds []uint64
	// timed is the number of kill points spread over a healthy run's
	// duration, per seed and scenario; each event point is tried too.
	timed int
	// random draws the timed points and the size of the tree at random
	// (soak), from the seed, instead of evenly.
	random bool
}

func crashSettingsFromEnv(t *testing.T) crashSettings {
	if os.Getenv("FERRY_SOAK") == "" {
		return crashSettings{seeds: []uint64{1}, timed: 8}
	}
	base := uint64(time.Now().UnixNano())
	if s := os.Getenv("FERRY_SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FERRY_SOAK_SEED: %v", err)
		}
		base = v
	}
	n := envInt(t, "FERRY_SOAK_SEEDS", 4)
	cs := crashSettings{timed: envInt(t, "FERRY_SOAK_KILLS", 40), random: true}
	for i := range n {
		cs.seeds = append(cs.seeds, base+uint64(i)*0x9e3779b97f4a7c15)
	}
	t.Logf("soak: %d seeds from FERRY_SOAK_SEED=%d, %d timed kill points each", n, base, cs.timed)
	return cs
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

// crashScenario is a mode, whether the run under test is a first run, and
// the number of small files in the tree.
type crashScenario struct {
	mode  string
	first bool
	// small is the number of small files; 0 means 300. A tree of 900 makes
	// the run finish more than 256 actions, so that the journal flushes a
	// batch of them in the middle of the run (history.DefaultFlushEvery)
	// and a kill after it leaves finished operations to fold in.
	small int
}

func (c crashScenario) name() string {
	if c.first {
		return c.mode + "-first-run"
	}
	return c.mode
}

var crashScenarios = []crashScenario{
	{mode: "bidirectional", small: 900},
	{mode: "push"},
	{mode: "push-delete"},
	{mode: "pull"},
	{mode: "pull-delete"},
	{mode: "bidirectional", first: true},
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	buildFerry(t)
	cs := crashSettingsFromEnv(t)
	for _, sc := range crashScenarios {
		t.Run(sc.name(), func(t *testing.T) {
			t.Parallel()
			for _, seed := range cs.seeds {
				t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
					crashSeed(t, sc, seed, cs)
				})
			}
		})
	}
}

// crashSeed builds the world of one seed, runs it healthy once to learn
// what it leaves and how long it takes, then kills it at every point.
func crashSeed(t *testing.T, sc crashScenario, seed uint64, cs crashSettings) {
	var stream uint64 // one random stream per scenario and seed
	for _, c := range sc.name() {
		stream = stream*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	if cs.random {
		sc.small = 200 + rng.IntN(1200)
	}
	w := newCrashWorld(t, sc, seed)
	w.reset()
	start := time.Now()
	w.syncOK("--mode", sc.mode)
	healthy := time.Since(start)
	w.check(nil)
	o := w.snapshot()
	t.Logf("%s seed %d: %d files on path1, a healthy run takes %v", sc.name(), seed, len(w.before[0]), healthy.Round(time.Millisecond))

	var points []killPoint
	for i := range cs.timed {
		var d time.Duration
		if cs.random {
			d = time.Duration(rng.Int64N(int64(healthy) + 1))
		} else {
			d = healthy * time.Duration(i) / time.Duration(cs.timed)
		}
		points = append(points, killPoint{name: fmt.Sprintf("after %v", d.Round(100*time.Microsecond)), delay: d})
	}
	points = append(points, eventPoints(w)...)
	killed, folds := 0, 0
	for _, kp := range points {
		w.reset()
		outcome := w.killedRun(kp, "--mode", sc.mode)
		if outcome == "killed" {
			killed++
		}
		if n := w.recoverRun(kp, outcome, sc.mode); n > 0 {
			folds++
			t.Logf("kill point %q left %d finished operations in the journal", kp.name, n)
		}
		w.check(o)
		if t.Failed() {
			t.Fatalf("seed %d, kill point %q (%s): see the errors above; FERRY_SOAK=1 FERRY_SOAK_SEED=%d FERRY_SOAK_SEEDS=1 runs this seed again",
				seed, kp.name, outcome, seed)
		}
	}
	t.Logf("%s seed %d: %d kill points, %d killed the run (the others came after its end), %d left finished operations in the journal",
		sc.name(), seed, len(points), killed, folds)
	if killed < len(points)/2 {
		t.Errorf("only %d of %d kill points hit the run: the runs are too short to test", killed, len(points))
	}
	if sc.small >= 900 && folds == 0 {
		t.Errorf("no kill point left finished operations in the journal: folding them in is not tested")
	}
}

// crashWorld is one scenario's folders. Every trial runs at the same paths
// (the history's name comes from them): trial/ is reset from template/
// before each one.
type crashWorld struct {
	*env
	sc       crashScenario
	template string
	// before is each side's tree (path -> content hash) before the run
	// under test; fresh holds the versions the user wrote for it, by
	// path; gone the paths whose deletion the mode propagates.
	before [2]map[string]string
	fresh  [2]map[string]string
	gone   []string
}

func newCrashWorld(t *testing.T, sc crashScenario, seed uint64) *crashWorld {
	t.Helper()
	root := t.TempDir()
	trial := filepath.Join(root, "trial")
	e := &env{
		t:        t,
		root:     trial,
		p1:       filepath.Join(trial, "one"),
		p2:       filepath.Join(trial, "two"),
		work:     filepath.Join(trial, "work"),
		home:     filepath.Join(trial, "home"),
		rcloneRC: filepath.Join(trial, "rclone.conf"),
	}
	for _, d := range []string{e.p1, e.p2, e.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(e.rcloneRC, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w := &crashWorld{env: e, sc: sc, template: filepath.Join(root, "template")}
	w.generate(seed)
	cp(t, trial, w.template)
	return w
}

// cp copies the folder src to dst (which must not exist), keeping
// modification times: they are part of what the history remembers.
func cp(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

// reset puts the trial folders back as they were before the run under
// test: the same files, contents, modes and modification times.
func (w *crashWorld) reset() {
	w.t.Helper()
	if err := restoreTree(w.template, w.root); err != nil {
		w.t.Fatalf("reset the trial folders: %v", err)
	}
}

// restoreTree makes dst a copy of src, rewriting only what differs (a run
// changes a small part of the tree; copying all of it each time would take
// most of the test's time). A file is kept only when its size,
// modification time, mode and content are those of src's.
func restoreTree(src, dst string) error {
	// Remove what src does not have, or has as another kind.
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		si, serr := os.Lstat(filepath.Join(src, rel))
		if serr == nil && si.Mode().Type() == d.Type() {
			return nil
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		si, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			return os.Chmod(target, si.Mode().Perm())
		}
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if di, err := os.Lstat(target); err == nil && di.Size() == si.Size() && di.ModTime().Equal(si.ModTime()) && di.Mode() == si.Mode() {
			if have, err := os.ReadFile(target); err == nil && bytes.Equal(have, want) {
				return nil
			}
		}
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.WriteFile(target, want, si.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Chmod(target, si.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(target, si.ModTime(), si.ModTime())
	})
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// generate writes the world of a seed into the trial folders: a base tree
// of a few hundred small files and some of 1 to 4 MiB, synced once (not for
// a first run), then the user's changes on both sides: edits, new files,
// deletions, touches, conflicting and equal edits, edits facing deletions.
func (w *crashWorld) generate(seed uint64) {
	t := w.t
	rng := rand.New(rand.NewPCG(seed, 0xfe77))
	baseTime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	side := [2]string{w.p1, w.p2}
	n := 0
	content := func(tag string, size int) []byte {
		n++
		b := make([]byte, 0, size+64)
		b = fmt.Appendf(b, "seed %d version %d %s\n", seed, n, tag)
		for len(b) < size {
			b = append(b, byte('a'+rng.IntN(26)))
			if rng.IntN(60) == 0 {
				b = append(b, '\n')
			}
		}
		return b
	}
	bigContent := func(tag string) []byte {
		n++
		size := 1<<20 + rng.IntN(3<<20)
		b := fmt.Appendf(make([]byte, 0, size), "seed %d version %d %s\n", seed, n, tag)
		for len(b) < size {
			b = append(b, byte(rng.Uint32()))
		}
		return b
	}
	put := func(s int, p string, b []byte, mtime time.Time) {
		full := filepath.Join(side[s], filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if !mtime.IsZero() {
			if err := os.Chtimes(full, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.fresh = [2]map[string]string{{}, {}}
	edit := func(s int, p string, b []byte) {
		put(s, p, b, time.Time{})
		w.fresh[s][p] = hashOf(b)
	}
	del := func(s int, p string) {
		if err := os.Remove(filepath.Join(side[s], filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	touch := func(s int, p string) {
		later := time.Now().Add(-time.Duration(rng.IntN(1000)) * time.Second)
		if err := os.Chtimes(filepath.Join(side[s], filepath.FromSlash(p)), later, later); err != nil {
			t.Fatal(err)
		}
	}

	var small, big []string
	nSmall := w.sc.small
	if nSmall == 0 {
		nSmall = 300
	}
	for i := range nSmall {
		small = append(small, fmt.Sprintf("d%d/s%d/n%03d.md", rng.IntN(10), rng.IntN(4), i))
	}
	for i := range 6 {
		big = append(big, fmt.Sprintf("big/b%d.bin", i))
	}
	for i, p := range small {
		b := content("base "+p, 200+rng.IntN(8000))
		put(0, p, b, baseTime.Add(time.Duration(i)*time.Second))
		if w.sc.first {
			// A first run meets files on both sides: some the same, some
			// different (conflicts), most only on path1.
			switch r := rng.IntN(10); {
			case r < 3:
				put(1, p, b, baseTime.Add(time.Duration(i)*time.Second+time.Hour))
				w.fresh[1][p] = hashOf(b)
			case r < 4:
				edit(1, p, content("path2's own "+p, 200+rng.IntN(8000)))
			}
			w.fresh[0][p] = hashOf(b)
		}
	}
	for i, p := range big {
		b := bigContent("base " + p)
		put(0, p, b, baseTime.Add(time.Duration(i)*time.Minute))
		if w.sc.first {
			w.fresh[0][p] = hashOf(b)
		}
	}
	if w.sc.first {
		for i := range 40 {
			edit(1, fmt.Sprintf("d%d/from-two-%02d.md", rng.IntN(10), i), content("new on two", 200+rng.IntN(4000)))
		}
		edit(1, "big/from-two.bin", bigContent("new on two"))
		w.recordBefore()
		return
	}
	w.syncOK() // the base: a first run, both ways

	goneOn := [2][]string{} // deleted on one side, untouched on the other
	for _, p := range small {
		switch r := rng.IntN(100); {
		case r < 8:
			edit(0, p, content("edit on one", 200+rng.IntN(8000)))
		case r < 16:
			edit(1, p, content("edit on two", 200+rng.IntN(8000)))
		case r < 21:
			del(0, p)
			goneOn[0] = append(goneOn[0], p)
		case r < 26:
			del(1, p)
			goneOn[1] = append(goneOn[1], p)
		case r < 29:
			edit(0, p, content("conflict on one", 200+rng.IntN(8000)))
			edit(1, p, content("conflict on two", 200+rng.IntN(8000)))
		case r < 31:
			b := content("same edit on both", 200+rng.IntN(8000))
			edit(0, p, b)
			edit(1, p, b)
		case r < 33:
			edit(0, p, content("edit on one, deleted on two", 200+rng.IntN(8000)))
			del(1, p)
		case r < 35:
			del(0, p)
			edit(1, p, content("deleted on one, edit on two", 200+rng.IntN(8000)))
		case r < 37:
			del(0, p)
			del(1, p)
			w.gone = append(w.gone, p) // D,D: forgotten in every mode
		case r < 39:
			touch(rng.IntN(2), p)
		}
	}
	edit(0, big[0], bigContent("big edit on one"))
	edit(1, big[1], bigContent("big edit on two"))
	edit(0, big[2], bigContent("big conflict on one"))
	edit(1, big[2], bigContent("big conflict on two"))
	del(0, big[3])
	goneOn[0] = append(goneOn[0], big[3])
	del(1, big[5])
	goneOn[1] = append(goneOn[1], big[5])
	edit(0, "big/new-on-one.bin", bigContent("new big on one"))
	edit(1, "big/new-on-two.bin", bigContent("new big on two"))
	for i := range 20 {
		edit(0, fmt.Sprintf("d%d/new-one-%02d.md", rng.IntN(12), i), content("new on one", 200+rng.IntN(4000)))
		edit(1, fmt.Sprintf("d%d/new-two-%02d.md", rng.IntN(12), i), content("new on two", 200+rng.IntN(4000)))
	}
	for i := range 4 {
		p := fmt.Sprintf("both/new-%d.md", i)
		edit(0, p, content("new on both, one", 300))
		edit(1, p, content("new on both, two", 300))
	}
	for s := range 2 {
		if modeCarries(w.sc.mode, s, true) {
			w.gone = append(w.gone, goneOn[s]...)
		}
	}
	w.recordBefore()
}

func (w *crashWorld) recordBefore() {
	w.before = [2]map[string]string{w.files(w.p1), w.files(w.p2)}
}

// modeCarries reports whether mode carries side s's changes (its deletions
// when del) to the other side.
func modeCarries(mode string, s int, del bool) bool {
	switch mode {
	case "bidirectional":
		return true
	case "push":
		return s == 0 && !del
	case "push-delete":
		return s == 0
	case "pull":
		return s == 1 && !del
	case "pull-delete":
		return s == 1
	}
	panic("unknown mode " + mode)
}

// tempFile matches the temporary names of a Put in progress (rclonefs).
var tempFile = regexp.MustCompile(`^\..*\.ferry-([0-9a-f]{8}){1,2}\.partial$`)

// files returns the synced files under dir, path -> content hash, leaving
// out ferry's metaDir and the temporary files of an interrupted Put.
func (w *crashWorld) files(dir string) map[string]string {
	w.t.Helper()
	m, _ := scanTree(w.t, dir)
	return m
}

// scanTree returns the files under dir, path -> content hash, without
// ferry's metaDir, and, apart, the temporary files of interrupted Puts.
func scanTree(t *testing.T, dir string) (files map[string]string, temps []string) {
	t.Helper()
	files = map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == metaDir {
				return filepath.SkipDir
			}
			return nil
		}
		if tempFile.MatchString(d.Name()) {
			temps = append(temps, rel)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = hashOf(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, temps
}

// conflictPart matches what ferry adds to a name for a conflict copy.
var conflictPart = regexp.MustCompile(`\.conflict[0-9A-Za-z-]*`)

// familiesOf groups a tree's versions by the path they are versions of:
// path -> sorted distinct content hashes, conflict copies under their
// original's path.
func familiesOf(files map[string]string) map[string][]string {
	fam := map[string][]string{}
	for p, h := range files {
		k := conflictPart.ReplaceAllString(p, "")
		if !slices.Contains(fam[k], h) {
			fam[k] = append(fam[k], h)
		}
	}
	for k := range fam {
		slices.Sort(fam[k])
	}
	return fam
}

// crashOracle is what a healthy run leaves: each side's families.
type crashOracle [2]map[string][]string

func (w *crashWorld) snapshot() *crashOracle {
	return &crashOracle{familiesOf(w.files(w.p1)), familiesOf(w.files(w.p2))}
}

// syncOK runs a plain sync and fails the test unless it succeeds.
func (w *crashWorld) syncOK(args ...string) (stdout, stderr string) {
	w.t.Helper()
	code, stdout, stderr := w.syncCode(args...)
	if code != 0 || !strings.Contains(stdout, lineSuccess) {
		w.t.Fatalf("ferry sync %s: exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout, stderr
}

// check checks the sides after the runs of a trial: equal for a
// bidirectional run, a one-way source untouched, every version the user
// wrote kept under its path's family (and carried where the mode carries
// it), no propagated deletion back, the same versions as a healthy run
// leaves (o, when not nil), and a dry run that has nothing to do.
func (w *crashWorld) check(o *crashOracle) {
	t := w.t
	t.Helper()
	var files [2]map[string]string
	for s, dir := range []string{w.p1, w.p2} {
		var temps []string
		files[s], temps = scanTree(w.t, dir)
		if len(temps) > 0 {
			t.Logf("path%d keeps %d temporary file(s) of a killed transfer: %q", s+1, len(temps), temps)
		}
	}
	if w.sc.mode == "bidirectional" && !maps.Equal(files[0], files[1]) {
		t.Errorf("the sides differ:\n%s", treeDiff(files[0], files[1]))
	}
	fams := [2]map[string][]string{familiesOf(files[0]), familiesOf(files[1])}
	for s := range 2 {
		if !modeCarries(w.sc.mode, 1-s, false) && !maps.Equal(files[s], w.before[s]) {
			t.Errorf("path%d, the source of a one-way sync, changed:\n%s", s+1, treeDiff(w.before[s], files[s]))
		}
		for p, h := range w.fresh[s] {
			if !slices.Contains(fams[s][p], h) {
				t.Errorf("path%d's version %s of %s is lost on path%d (it has %v)", s+1, h, p, s+1, fams[s][p])
			}
			if modeCarries(w.sc.mode, s, false) && !slices.Contains(fams[1-s][p], h) {
				t.Errorf("path%d's version %s of %s did not reach path%d (it has %v)", s+1, h, p, 2-s, fams[1-s][p])
			}
		}
	}
	for _, p := range w.gone {
		for s := range 2 {
			if v := fams[s][p]; len(v) > 0 {
				t.Errorf("%s was deleted and is back on path%d: %v", p, s+1, v)
			}
		}
	}
	if o != nil {
		for s := range 2 {
			if !maps.EqualFunc(fams[s], o[s], slices.Equal[[]string]) {
				t.Errorf("path%d holds other versions than a healthy run leaves:\n%s", s+1, familyDiff(fams[s], o[s]))
			}
		}
	}
	code, stdout, stderr := w.syncCode("--mode", w.sc.mode, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "ferry: in sync, nothing to do") {
		t.Errorf("a further run has work to do (exit status %d):\n%s\n%s", code, stdout, stderr)
	}
}

func treeDiff(a, b map[string]string) string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(a)) {
		if h, ok := b[p]; !ok {
			out = append(out, "- "+p)
		} else if h != a[p] {
			out = append(out, "~ "+p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[p]; !ok {
			out = append(out, "+ "+p)
		}
	}
	return strings.Join(out, "\n")
}

func familyDiff(got, want map[string][]string) string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if !slices.Equal(got[p], want[p]) {
			out = append(out, fmt.Sprintf("%s: %v, healthy %v", p, got[p], want[p]))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[p]; !ok {
			out = append(out, fmt.Sprintf("%s: missing, healthy %v", p, want[p]))
		}
	}
	return strings.Join(out, "\n")
}

// killPoint says when to kill a run: after a delay from its start, or when
// a condition on the folders becomes true (polled).
type killPoint struct {
	name  string
	delay time.Duration
	// watch, when set, returns the condition for one run.
	watch func() (fire func() bool)
}

// eventPoints are the kill points chosen by what the run is doing: the
// journal being created (the plan is made, nothing changed yet), the first
// transfers in flight, the history being written, right after it was
// renamed into place.
func eventPoints(w *crashWorld) []killPoint {
	work := func(match func(name string) bool) func() func() bool {
		return func() func() bool {
			return func() bool {
				entries, _ := os.ReadDir(w.work)
				for _, e := range entries {
					if match(e.Name()) {
						return true
					}
				}
				return false
			}
		}
	}
	partials := func(min int) func() func() bool {
		return func() func() bool {
			return func() bool {
				n := 0
				for _, d := range []string{w.p1, w.p2} {
					entries, _ := os.ReadDir(filepath.Join(d, "big"))
					for _, e := range entries {
						if tempFile.MatchString(e.Name()) {
							n++
						}
					}
				}
				return n >= min
			}
		}
	}
	// journalGrew fires when the journal grows past its first size: a
	// batch of finished operations (or the last batch and the commit)
	// reached it.
	journalGrew := func() func() bool {
		size := int64(-1)
		return func() bool {
			js, _ := filepath.Glob(filepath.Join(w.work, "*.journal"))
			if len(js) != 1 {
				return false
			}
			info, err := os.Stat(js[0])
			switch {
			case err != nil:
				return false
			case size < 0:
				size = info.Size()
				return false
			}
			return info.Size() > size
		}
	}
	histChanged := func() func() bool {
		// The template's history, if any: the trial's starts as a copy.
		old, _ := filepath.Glob(filepath.Join(w.template, "work", "*.hist"))
		var oldInfo fs.FileInfo
		if len(old) == 1 {
			oldInfo, _ = os.Stat(old[0])
		}
		return func() bool {
			now, _ := filepath.Glob(filepath.Join(w.work, "*.hist"))
			if len(now) != 1 {
				return false
			}
			info, err := os.Stat(now[0])
			return err == nil && (oldInfo == nil || !info.ModTime().Equal(oldInfo.ModTime()) || info.Size() != oldInfo.Size())
		}
	}
	return []killPoint{
		{name: "journal temp file created", watch: work(func(n string) bool { return strings.Contains(n, ".journal.tmp-") })},
		{name: "journal in place", watch: work(func(n string) bool { return strings.HasSuffix(n, ".journal") })},
		{name: "first transfer in flight", watch: partials(1)},
		{name: "two transfers in flight", watch: partials(2)},
		{name: "journal batch written", watch: journalGrew},
		{name: "history temp file created", watch: work(func(n string) bool { return strings.Contains(n, ".hist.tmp-") })},
		{name: "history renamed into place", watch: histChanged},
	}
}

// ferryCmd is the binary with args, in the test's environment.
func (w *crashWorld) ferryCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(ferryBin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.home,
		"XDG_CONFIG_HOME=" + filepath.Join(w.home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(w.home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(w.home, ".local", "state"),
		"RCLONE_CONFIG=" + w.rcloneRC,
		"TMPDIR=" + os.TempDir(),
	}
	return cmd
}

// killedRun starts a sync and kills it at kp. It returns "killed", or
// "finished" when the run ended first.
func (w *crashWorld) killedRun(kp killPoint, args ...string) string {
	t := w.t
	t.Helper()
	cmd := w.ferryCmd(append([]string{"sync", w.p1, w.p2, "--workdir", w.work}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := func() { _ = cmd.Process.Signal(syscall.SIGKILL) }
	stop := make(chan struct{})
	if kp.watch == nil {
		timer := time.AfterFunc(kp.delay, kill)
		defer timer.Stop()
	} else {
		fire := kp.watch()
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if fire() {
					kill()
					return
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
	}
	err := cmd.Wait()
	close(stop)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
		return "killed"
	case err != nil:
		t.Fatalf("kill point %q: the run failed on its own: %v\n%s", kp.name, err, out.String())
	}
	return "finished"
}

// recoverRun runs the plain sync after a killed run; it must succeed, and say
// it recovered an interrupted run when the killed one left an uncommitted
// journal. It returns the number of finished operations that journal held.
func (w *crashWorld) recoverRun(kp killPoint, outcome, mode string) (folded int) {
	t := w.t
	t.Helper()
	interrupted := false
	if js, _ := filepath.Glob(filepath.Join(w.work, "*.journal")); len(js) == 1 {
		j, err := history.ReadJournal(js[0])
		interrupted = err == nil && !j.Committed
		if interrupted {
			folded = len(j.Ops)
		}
	}
	code, stdout, stderr := w.syncCode("--mode", mode, "-v")
	if code != 0 || !strings.Contains(stdout, lineSuccess) {
		t.Fatalf("kill point %q (%s): the next run failed with exit status %d\nstdout:\n%s\nstderr:\n%s", kp.name, outcome, code, stdout, stderr)
	}
	if interrupted && !strings.Contains(stdout+stderr, "recovered an interrupted run") {
		t.Errorf("kill point %q: the next run does not say it recovered the interrupted run:\n%s\n%s", kp.name, stdout, stderr)
	}
	return folded
}

// TestCrashSignals: SIGINT and SIGTERM in the middle of the transfers stop
// the run within seconds, with a clear message and a non-zero exit status,
// and the next run recovers and converges.
func TestCrashSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	buildFerry(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			w := newCrashWorld(t, crashScenario{mode: "bidirectional"}, 2)
			w.reset()
			cmd := w.ferryCmd("sync", w.p1, w.p2, "--workdir", w.work, "--transfers", "1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			inFlight := eventPoints(w)[2].watch() // the first transfer in flight
			var sent time.Time
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
		wait:
			for {
				select {
				case err := <-done:
					t.Fatalf("the run ended (%v) before a transfer was seen in flight\n%s\n%s", err, stdout.String(), stderr.String())
				case <-ctx.Done():
					t.Fatal("no transfer seen in flight within a minute")
				default:
				}
				if inFlight() {
					sent = time.Now()
					if err := cmd.Process.Signal(sig); err != nil {
						t.Fatal(err)
					}
					break wait
				}
				time.Sleep(50 * time.Microsecond)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running 10s after %v", sig)
			}
			took := time.Since(sent)
			code := cmd.ProcessState.ExitCode()
			t.Logf("%v: exit status %d after %v\nstderr:\n%s", sig, code, took.Round(time.Millisecond), stderr.String())
			if code == 0 || code == -1 {
				t.Errorf("exit status %d after %v, want a non-zero exit of its own", code, sig)
			}
			if took > 5*time.Second {
				t.Errorf("took %v to stop after %v", took, sig)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say the run was interrupted:\n%s", stderr.String())
			}
			out, errOut := w.syncOK("-v")
			if !strings.Contains(out+errOut, "recovered an interrupted run") {
				t.Errorf("the next run does not say it recovered the interrupted run:\n%s\n%s", out, errOut)
			}
			w.check(nil)
		})
	}
}
