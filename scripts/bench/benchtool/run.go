package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The harness. Every tool gets a pair of its own, made of hard links to the
// generated tree (cheap: no content is copied). That is safe because no tool
// writes a file in place: ferry, rclone and Unison write a temporary file
// and rename it, and mutate does the same, so a change on one side never
// shows through a link. Only the first-run scenario copies content.

type config struct {
	work, ferry, rclone, out, module, gosrc string
	sizes                                   []int
	reps, firstReps, startupReps            int
	scenarios                               map[string]bool
	tools                                   map[string]bool
	servers                                 []string
	large, remote                           bool
	self                                    string
	rcloneConf                              string
	commandLine                             string
}

func runCmd(args []string) error {
	fl := flag.NewFlagSet("run", flag.ExitOnError)
	var c config
	var sizes, scen, tools, servers string
	fl.StringVar(&c.work, "work", "", "folder for the trees, pairs and state (required)")
	fl.StringVar(&c.ferry, "ferry", "bin/ferry", "the ferry binary")
	fl.StringVar(&c.rclone, "rclone", "", "the rclone binary (the version in go.mod)")
	fl.StringVar(&c.out, "out", "docs/performance.md", "markdown file whose generated section is replaced ('' to print only)")
	fl.StringVar(&c.module, "module", ".", "the module's root, for the Go benchmarks")
	fl.StringVar(&c.gosrc, "gosrc", "", "a real tree to run as well (the Go source tree); '' for none")
	fl.StringVar(&sizes, "sizes", "10000,100000", "vault sizes, in files")
	fl.IntVar(&c.reps, "reps", 5, "repetitions of the no-change and 1%-changed scenarios")
	fl.IntVar(&c.firstReps, "first-reps", 2, "repetitions of the first-run scenario")
	fl.IntVar(&c.startupReps, "startup-reps", 10, "repetitions of the start-up measurements")
	fl.StringVar(&scen, "scenarios", "startup,nochange,changed,first,history,gobench", "scenarios to run; remote and rename (S3 and WebDAV servers, see -servers) are make bench-remote's")
	fl.StringVar(&tools, "tools", "ferry,rclone-bisync,unison,rsync,walk,rclone-sync", "tools to run (add unison-first for Unison in the first-run scenario)")
	fl.StringVar(&servers, "servers", strings.Join(serverKinds, ","), "test servers of the remote and rename scenarios (scripts/testserver/KIND.sh)")
	fl.BoolVar(&c.large, "large", false, "the large run: no change only, the curve over -sizes")
	fl.BoolVar(&c.remote, "remote", false, "the remote run: its own section of -out, for the remote and rename scenarios")
	_ = fl.Parse(args)
	if c.work == "" {
		return errors.New("run: -work is required")
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %w", err)
		}
		c.sizes = append(c.sizes, n)
	}
	c.scenarios, c.tools = set(scen), set(tools)
	for _, k := range strings.Split(servers, ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.servers = append(c.servers, k)
		}
	}
	var err error
	if c.self, err = os.Executable(); err != nil {
		return err
	}
	for _, p := range []*string{&c.work, &c.ferry, &c.rclone} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return err
			}
		}
	}
	if c.rclone == "" && (c.scenarios["remote"] || c.scenarios["rename"]) {
		// It makes the pairs' folders on the servers.
		return errors.New("run: the remote and rename scenarios need -rclone")
	}
	if c.rclone == "" {
		delete(c.tools, "rclone-bisync")
		delete(c.tools, "rclone-sync")
	}
	if _, err := exec.LookPath("unison"); err != nil {
		delete(c.tools, "unison")
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		delete(c.tools, "rsync")
	}
	c.commandLine = "benchtool run " + strings.Join(args, " ")
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	c.rcloneConf = filepath.Join(c.work, "rclone.conf") // empty: no remotes
	if err := os.WriteFile(c.rcloneConf, nil, 0o600); err != nil {
		return err
	}
	b := &bench{cfg: c, started: time.Now()}
	return b.run()
}

func set(list string) map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			m[s] = true
		}
	}
	return m
}

// series is one tool's repetitions in one scenario on one tree.
type series struct {
	scenario, tree string
	files          int
	tool           string
	walls, rss     []float64 // seconds and MiB, by repetition; NaN where it failed
	other          []float64 // the rest of the machine's CPU use during each run, in cores
	err            string

	// The remote and rename scenarios.
	server  string    // the second side: a server kind, or "local"
	folders int       // folders of the tree, its root included
	wire    []traffic // by repetition: the requests to the server
	written []float64 // rename, by repetition: bytes of file content written to the second side
}

type bench struct {
	cfg     config
	started time.Time
	results []*series
	// Extra text for the report.
	startupNotes, historyOut, goBenchOut, profileNote string
	initRuns                                          []string

	// The remote and rename scenarios: the servers that started, the
	// rclone config that reaches them, why others did not, and the first
	// syncs of the pairs.
	servers                  []*server
	remoteConf               string
	serverNotes, remoteFirst []string
	renameBytes              int64 // the renamed folder's files
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.0fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

// sample is one timed run: wall time, peak RSS (the largest process's, as
// /usr/bin/time reports it from wait4), and how it ended.
type sample struct {
	wall  time.Duration
	rssKB int64
	// other is the CPU time that the rest of the machine used during the
	// run, in cores (busy time from /proc/stat less the tool's own user and
	// system time): near 0 on a quiet machine.
	other float64
	err   error
}

// busyCPU is the machine's busy CPU time so far, from /proc/stat.
func busyCPU() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return math.NaN()
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / 100 // USER_HZ
}

// measure runs argv under /usr/bin/time and returns its wall time and peak
// RSS. A non-zero exit is an error carrying the end of stderr.
func measure(env []string, argv ...string) sample {
	tf, err := os.CreateTemp("", "benchtool-time-")
	if err != nil {
		return sample{err: err}
	}
	tf.Close()
	defer os.Remove(tf.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M %U %S", "-o", tf.Name()}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	busy0 := busyCPU()
	start := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(start)}
	busy := busyCPU() - busy0
	if err != nil {
		tail := out.String()
		if len(tail) > 600 {
			tail = "..." + tail[len(tail)-600:]
		}
		s.err = fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(tail))
	}
	data, _ := os.ReadFile(tf.Name())
	// The last line; GNU time may write "Command exited with non-zero
	// status" before it.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if f := strings.Fields(lines[len(lines)-1]); len(f) == 3 {
		s.rssKB, _ = strconv.ParseInt(f[0], 10, 64)
		u, _ := strconv.ParseFloat(f[1], 64)
		sy, _ := strconv.ParseFloat(f[2], 64)
		s.other = math.Max(0, (busy-u-sy)/s.wall.Seconds())
	}
	return s
}

func (b *bench) add(scenario, tree string, files int, tool string) *series {
	s := &series{scenario: scenario, tree: tree, files: files, tool: tool}
	b.results = append(b.results, s)
	return s
}

func (s *series) record(sm sample) {
	s.other = append(s.other, sm.other)
	if sm.err != nil {
		if s.err == "" {
			s.err = sm.err.Error()
		}
		s.walls = append(s.walls, math.NaN())
		s.rss = append(s.rss, math.NaN())
		return
	}
	s.walls = append(s.walls, sm.wall.Seconds())
	s.rss = append(s.rss, float64(sm.rssKB)/1024)
}

// pair is two folders and the state a tool keeps about them.
type pair struct{ one, two, state string }

// syncTool is a two-way tool: its first sync builds its state, later runs
// are timed.
type syncTool struct {
	name string
	args func(p pair, first bool) []string
	env  func(p pair) []string
	// force are the flags that let a run through the tool's check against
	// deleting much of a side, which a renamed folder trips when the tool
	// sees it as deletions.
	force []string
}

// syncTools are the two-way tools of the run, with conf as rclone's config
// file; remote leaves out those that sync local folders only.
func (b *bench) syncTools(conf string, remote bool) []syncTool {
	c := b.cfg
	var out []syncTool
	noEnv := func(pair) []string { return nil }
	if c.tools["ferry"] {
		out = append(out, syncTool{"ferry", func(p pair, first bool) []string {
			return []string{c.ferry, "sync", p.one, p.two, "--workdir", p.state, "--config", conf, "-q"}
		}, noEnv, nil})
	}
	if c.tools["rclone-bisync"] && !c.large {
		out = append(out, syncTool{"rclone bisync", func(p pair, first bool) []string {
			a := []string{c.rclone, "bisync", p.one, p.two, "--workdir", p.state, "--config", conf, "-q"}
			if first {
				a = append(a, "--resync")
			}
			return a
		}, noEnv, []string{"--force"}})
	}
	if c.tools["unison"] && !remote {
		out = append(out, syncTool{"unison", func(p pair, first bool) []string {
			return []string{"unison", p.one, p.two, "-auto", "-batch", "-times", "-silent"}
		}, func(p pair) []string { return []string{"UNISON=" + p.state} }, nil})
	}
	return out
}

func (b *bench) run() error {
	c := b.cfg
	if c.scenarios["startup"] && !c.large {
		if err := b.startup(); err != nil {
			return err
		}
	}
	var trees []tree
	if c.scenarios["nochange"] || c.scenarios["changed"] || c.scenarios["first"] || c.scenarios["remote"] {
		var err error
		if trees, err = b.trees(); err != nil {
			return err
		}
	}
	if c.scenarios["remote"] || c.scenarios["rename"] {
		stop, err := b.startServers()
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, t := range trees {
		if c.scenarios["nochange"] || c.scenarios["changed"] {
			if err := b.twoWay(t); err != nil {
				return err
			}
		}
		if c.scenarios["first"] && !c.large {
			if err := b.firstRun(t); err != nil {
				return err
			}
		}
		if c.scenarios["remote"] && t.vault {
			if err := b.remoteNoChange(t); err != nil {
				return err
			}
		}
	}
	if c.scenarios["rename"] {
		if err := b.rename(); err != nil {
			return err
		}
	}
	if c.scenarios["history"] && !c.large {
		b.logf("history benchmarks (1,000,000 records)")
		b.historyOut = b.goBench("./history", "^Benchmark(Encode1M|Decode1M|SaveLoad1M)$", "1x")
	}
	if c.scenarios["gobench"] && !c.large {
		b.logf("Go benchmarks of the hot pieces")
		b.goBenchOut = b.goBench("./bisync", "^Benchmark(Plan100k|DryRun100k|RunNoChange100k)$", "3x") +
			b.goBench("./backends/rclonefs", "^Benchmark(List100k|RunLocalNoChange100k)$", "3x")
	}
	report := b.render()
	fmt.Println(report)
	if c.out != "" {
		marker := "make bench"
		switch {
		case c.large:
			marker = "make bench-large"
		case c.remote:
			marker = "make bench-remote"
		}
		if err := writeSection(c.out, marker, report); err != nil {
			return err
		}
		b.logf("wrote %s", c.out)
	}
	return nil
}

type tree struct {
	name, dir string
	files     int
	vault     bool // generated by gen, not a copy of a real tree
}

// trees generates the vaults (once: a stamp marks a finished one) and copies
// the real tree.
func (b *bench) trees() ([]tree, error) {
	var out []tree
	for _, n := range b.cfg.sizes {
		name := "vault-" + short(n)
		dir := filepath.Join(b.cfg.work, "trees", name)
		stamp := dir + ".done"
		if _, err := os.Stat(stamp); err != nil {
			b.logf("generating %s (%d files)", name, n)
			os.RemoveAll(dir)
			st, err := gen(dir, n, 1)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(stamp, fmt.Appendf(nil, "%d files, %d bytes\n", st.files, st.bytes), 0o644); err != nil {
				return nil, err
			}
		}
		out = append(out, tree{name, dir, n, true})
	}
	if b.cfg.gosrc != "" && !b.cfg.large {
		dir := filepath.Join(b.cfg.work, "trees", "gosrc")
		stamp := dir + ".done"
		if _, err := os.Stat(stamp); err != nil {
			b.logf("copying %s", b.cfg.gosrc)
			os.RemoveAll(dir)
			if err := sh("cp", "-a", b.cfg.gosrc, dir); err != nil {
				return nil, err
			}
			if err := os.WriteFile(stamp, []byte(b.cfg.gosrc+"\n"), 0o644); err != nil {
				return nil, err
			}
		}
		n, err := walkFiles(dir)
		if err != nil {
			return nil, err
		}
		out = append(out, tree{"go-src", dir, n, false})
	}
	return out, nil
}

func walkFiles(dir string) (int, error) {
	p, _, err := listFiles(dir)
	return len(p), err
}

func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

func sh(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// linkPair makes a pair of hard-linked copies of src under dir.
func linkPair(src, dir string) (pair, error) {
	os.RemoveAll(dir)
	p := pair{filepath.Join(dir, "one"), filepath.Join(dir, "two"), filepath.Join(dir, "state")}
	if err := os.MkdirAll(p.state, 0o755); err != nil {
		return p, err
	}
	for _, d := range []string{p.one, p.two} {
		if err := sh("cp", "-al", src, d); err != nil {
			return p, err
		}
	}
	return p, nil
}

// rotate returns xs starting at the i-th, so that no tool always runs first.
func rotate[T any](xs []T, i int) []T {
	if len(xs) == 0 {
		return xs
	}
	i %= len(xs)
	return append(slices.Clone(xs[i:]), xs[:i]...)
}

// twoWay runs the no-change and the 1%-changed scenarios on one tree.
func (b *bench) twoWay(t tree) error {
	c := b.cfg
	base := filepath.Join(c.work, "pairs", t.name)
	defer os.RemoveAll(base)
	tools := b.syncTools(c.rcloneConf, false)
	pairs := map[string]pair{}
	var live []syncTool
	for _, tl := range tools {
		p, err := linkPair(t.dir, filepath.Join(base, strings.ReplaceAll(tl.name, " ", "-")))
		if err != nil {
			return err
		}
		b.logf("%s: first sync of %s (identical sides), untimed for the table", t.name, tl.name)
		s := measure(tl.env(p), tl.args(p, true)...)
		if s.err != nil {
			b.logf("  %s failed, left out: %v", tl.name, s.err)
			b.add("nochange", t.name, t.files, tl.name).err = s.err.Error()
			continue
		}
		b.initRuns = append(b.initRuns, fmt.Sprintf("%s, %s: %.1f s, %.0f MiB", t.name, tl.name, s.wall.Seconds(), float64(s.rssKB)/1024))
		pairs[tl.name] = p
		live = append(live, tl)
	}
	if c.scenarios["nochange"] {
		type ref struct {
			name string
			argv []string
		}
		ref1, err := linkPair(t.dir, filepath.Join(base, "ref"))
		if err != nil {
			return err
		}
		var refs []ref
		if c.tools["rsync"] && !c.large {
			refs = append(refs, ref{"rsync -a --dry-run (one way)", []string{"rsync", "-a", "--dry-run", ref1.one + "/", ref1.two + "/"}})
		}
		if c.tools["walk"] {
			refs = append(refs, ref{"walk+stat one tree", []string{c.self, "walk", ref1.one}})
		}
		ser := map[string]*series{}
		for _, tl := range live {
			ser[tl.name] = b.add("nochange", t.name, t.files, tl.name)
		}
		for _, r := range refs {
			ser[r.name] = b.add("nochange", t.name, t.files, r.name)
		}
		names := slices.Collect(func(yield func(string) bool) {
			for _, tl := range live {
				yield(tl.name)
			}
			for _, r := range refs {
				yield(r.name)
			}
		})
		reps := c.reps
		for rep := range reps {
			b.logf("%s: no change, repetition %d of %d", t.name, rep+1, reps)
			for _, name := range rotate(names, rep) {
				var sm sample
				if i := slices.IndexFunc(live, func(tl syncTool) bool { return tl.name == name }); i >= 0 {
					tl, p := live[i], pairs[name]
					sm = measure(tl.env(p), tl.args(p, false)...)
				} else {
					i := slices.IndexFunc(refs, func(r ref) bool { return r.name == name })
					sm = measure(nil, refs[i].argv...)
				}
				ser[name].record(sm)
				b.logf("  %-30s %6.2f s %6.0f MiB  others %.2f cores %v", name, sm.wall.Seconds(), float64(sm.rssKB)/1024, sm.other, errText(sm.err))
			}
		}
	}
	if c.scenarios["changed"] && !c.large {
		ser := map[string]*series{}
		for _, tl := range live {
			ser[tl.name] = b.add("changed", t.name, t.files, tl.name)
		}
		for rep := range c.reps {
			b.logf("%s: 1%% changed on each side, repetition %d of %d", t.name, rep+1, c.reps)
			for _, tl := range rotate(live, rep) {
				p := pairs[tl.name]
				if _, err := mutate(p.one, p.two, uint64(100+rep), 0.01); err != nil {
					return err
				}
				sm := measure(tl.env(p), tl.args(p, false)...)
				if sm.err == nil {
					if err := same(p.one, p.two); err != nil {
						sm.err = fmt.Errorf("the sides differ after the run: %w", err)
					}
				}
				ser[tl.name].record(sm)
				b.logf("  %-30s %6.2f s %6.0f MiB  others %.2f cores %v", tl.name, sm.wall.Seconds(), float64(sm.rssKB)/1024, sm.other, errText(sm.err))
			}
		}
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "FAILED: " + err.Error()
}

// firstRun copies a full side to an empty one: ferry's first run against
// rclone sync doing the same one-way copy (and, for reference, the first run
// of rclone bisync, and of Unison with -tools ...,unison-first).
func (b *bench) firstRun(t tree) error {
	c := b.cfg
	base := filepath.Join(c.work, "first", t.name)
	defer os.RemoveAll(base)
	src := filepath.Join(base, "src")
	os.RemoveAll(base)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	if err := sh("cp", "-al", t.dir, src); err != nil {
		return err
	}
	dst, state := filepath.Join(base, "dst"), filepath.Join(base, "state")
	type tool struct {
		name string
		argv []string
		env  []string
	}
	var tools []tool
	if c.tools["ferry"] {
		tools = append(tools, tool{"ferry", []string{c.ferry, "sync", src, dst, "--workdir", state, "--config", c.rcloneConf, "-q"}, nil})
	}
	if c.tools["rclone-sync"] {
		tools = append(tools, tool{"rclone sync", []string{c.rclone, "sync", src, dst, "--config", c.rcloneConf, "-q"}, nil})
	}
	if c.tools["rclone-bisync"] {
		tools = append(tools, tool{"rclone bisync --resync", []string{c.rclone, "bisync", src, dst, "--resync", "--workdir", state, "--config", c.rcloneConf, "-q"}, nil})
	}
	if c.tools["unison-first"] {
		tools = append(tools, tool{"unison", []string{"unison", src, dst, "-auto", "-batch", "-times", "-silent"}, []string{"UNISON=" + state}})
	}
	ser := map[string]*series{}
	for _, tl := range tools {
		ser[tl.name] = b.add("first", t.name, t.files, tl.name)
	}
	for rep := range c.firstReps {
		b.logf("%s: first run into an empty folder, repetition %d of %d", t.name, rep+1, c.firstReps)
		for _, tl := range rotate(tools, rep) {
			for _, d := range []string{dst, state, filepath.Join(src, ".ferry")} {
				if err := os.RemoveAll(d); err != nil {
					return err
				}
			}
			if err := os.MkdirAll(state, 0o755); err != nil {
				return err
			}
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			sm := measure(tl.env, tl.argv...)
			if sm.err == nil {
				if err := same(src, dst); err != nil {
					sm.err = fmt.Errorf("the sides differ after the run: %w", err)
				}
			}
			ser[tl.name].record(sm)
			b.logf("  %-30s %6.2f s %6.0f MiB  others %.2f cores %v", tl.name, sm.wall.Seconds(), float64(sm.rssKB)/1024, sm.other, errText(sm.err))
		}
	}
	return os.RemoveAll(filepath.Join(src, ".ferry"))
}

// goBench runs Go benchmarks of one package and returns their result lines.
func (b *bench) goBench(pkg, pattern, benchtime string) string {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchmem", "-benchtime", benchtime, "-count", "1", "-timeout", "60m", pkg)
	cmd.Dir = b.cfg.module
	out, err := cmd.CombinedOutput()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Benchmark") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	if err != nil {
		lines = append(lines, fmt.Sprintf("go test %s FAILED: %v\n%s", pkg, err, lastLines(string(out), 20)))
	}
	return strings.Join(lines, "\n") + "\n"
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// writeSection replaces the part of file between the markers of name with
// text, or appends it.
func writeSection(file, name, text string) error {
	begin := "<!-- BEGIN " + name + " (generated by scripts/bench: do not edit by hand) -->"
	end := "<!-- END " + name + " -->"
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	block := begin + "\n" + text + "\n" + end
	i, j := strings.Index(s, begin), strings.Index(s, end)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + block + s[j+len(end):]
	case s == "":
		s = "# Performance\n\n" + block + "\n"
	default:
		s = strings.TrimRight(s, "\n") + "\n\n" + block + "\n"
	}
	return os.WriteFile(file, []byte(s), 0o644)
}
