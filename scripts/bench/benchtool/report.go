package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// startup measures what every run of ferry pays before it does anything,
// next to rclone's own binary, and what that is made of.
func (b *bench) startup() error {
	c := b.cfg
	dir := filepath.Join(c.work, "startup")
	os.RemoveAll(dir)
	defer os.RemoveAll(dir)
	p := pair{filepath.Join(dir, "one"), filepath.Join(dir, "two"), filepath.Join(dir, "state")}
	for _, d := range []string{p.one, p.two, p.state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	syncEmpty := []string{c.ferry, "sync", p.one, p.two, "--workdir", p.state, "--config", c.rcloneConf, "-q"}
	if s := measure(nil, syncEmpty...); s.err != nil {
		return s.err
	}
	type cmd struct {
		name string
		argv []string
	}
	cmds := []cmd{{"ferry --version", []string{c.ferry, "--version"}}, {"ferry sync, two empty folders", syncEmpty}}
	if c.rclone != "" {
		cmds = append(cmds, cmd{"rclone version", []string{c.rclone, "version"}})
	}
	if c.tools["unison"] {
		cmds = append(cmds, cmd{"unison -version", []string{"unison", "-version"}})
	}
	ser := map[string]*series{}
	for _, cm := range cmds {
		ser[cm.name] = b.add("startup", "-", 0, cm.name)
	}
	b.logf("start-up, %d repetitions", c.startupReps)
	for rep := range c.startupReps {
		for _, cm := range rotate(cmds, rep) {
			ser[cm.name].record(measure(nil, cm.argv...))
		}
	}

	var notes strings.Builder
	if r, err := residentWhileWaiting(syncEmpty, p.state); err == nil {
		notes.WriteString(r)
	} else {
		fmt.Fprintf(&notes, "(the resident memory breakdown failed: %v)\n", err)
	}
	for _, bin := range []string{c.ferry, c.rclone} {
		if bin == "" {
			continue
		}
		if st, err := os.Stat(bin); err == nil {
			fmt.Fprintf(&notes, "- `%s`: %.1f MB on disk\n", filepath.Base(bin), float64(st.Size())/1e6)
		}
	}
	if groups, err := symbolGroups(c.ferry); err == nil {
		notes.WriteString("\nWhat ferry's binary is made of (`go tool nm -size`, symbol bytes by origin; the largest):\n\n| origin | MB |\n|---|---|\n")
		for _, g := range groups[:min(16, len(groups))] {
			fmt.Fprintf(&notes, "| %s | %.1f |\n", g.name, float64(g.size)/1e6)
		}
	} else {
		fmt.Fprintf(&notes, "\n(go tool nm failed: %v)\n", err)
	}
	if it, err := initTrace(c.ferry); err == nil {
		notes.WriteString("\n" + it)
	} else {
		fmt.Fprintf(&notes, "\n(inittrace failed: %v)\n", err)
	}
	b.startupNotes = notes.String()
	return nil
}

type group struct {
	name string
	size int64
}

// symbolGroups sums the sizes of the binary's symbols by where they come
// from: ferry, rclone's backends, the rest of rclone, the SDKs and libraries
// they pull in, Go's standard library and runtime metadata.
func symbolGroups(bin string) ([]group, error) {
	out, err := exec.Command("go", "tool", "nm", "-size", bin).Output()
	if err != nil {
		return nil, err
	}
	ef, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	var nobits [][2]uint64
	for _, sec := range ef.Sections {
		if sec.Type == elf.SHT_NOBITS {
			nobits = append(nobits, [2]uint64{sec.Addr, sec.Addr + sec.Size})
		}
	}
	sizes := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || f[2] == "U" {
			continue
		}
		name := strings.Join(f[3:], " ")
		g := symGroup(name)
		addr, _ := strconv.ParseUint(f[0], 16, 64)
		for _, r := range nobits {
			if addr >= r[0] && addr < r[1] {
				g = "zeroed data (bss: reserved address space, not on disk, resident only when touched)"
			}
		}
		sizes[g] += size
	}
	var gs []group
	for n, s := range sizes {
		gs = append(gs, group{n, s})
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].size > gs[j].size })
	return gs, nil
}

func symGroup(name string) string {
	switch {
	case strings.HasPrefix(name, "go:"), strings.HasPrefix(name, "type:"), strings.HasPrefix(name, "runtime."),
		strings.HasPrefix(name, "gclocals"), strings.HasPrefix(name, "go."):
		return "Go runtime and type metadata"
	}
	pkg := name
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	elems := strings.Split(pkg, "/")
	switch {
	case strings.HasPrefix(pkg, "github.com/ferry-sync/ferry"):
		return "ferry itself"
	case strings.HasPrefix(pkg, "github.com/rclone/rclone/backend/"):
		return "rclone backends (backend/all)"
	case strings.HasPrefix(pkg, "github.com/rclone/rclone"):
		return "rclone core (fs, lib, ...)"
	case !strings.Contains(elems[0], "."):
		return "Go standard library"
	case strings.HasPrefix(pkg, "github.com/aws/"):
		return "AWS SDK (github.com/aws/...)"
	case strings.HasPrefix(pkg, "cloud.google.com/") || strings.HasPrefix(pkg, "google.golang.org/"):
		return "Google Cloud SDK, gRPC, protobuf"
	case strings.HasPrefix(pkg, "github.com/Azure/"):
		return "Azure SDK (github.com/Azure/...)"
	case strings.HasPrefix(pkg, "golang.org/x/"):
		return strings.Join(elems[:min(3, len(elems))], "/")
	case len(elems) >= 3:
		return strings.Join(elems[:3], "/")
	}
	return pkg
}

// initTrace runs `ferry --version` with GODEBUG=inittrace=1 and sums what
// package initialisation costs, with the costliest packages.
func initTrace(bin string) (string, error) {
	// Five runs; the one with the median total is shown.
	var traces []string
	var totals []float64
	for range 5 {
		cmd := exec.Command(bin, "--version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			return "", err
		}
		t := 0.0
		for _, l := range strings.Split(errb.String(), "\n") {
			if f := strings.Fields(strings.ReplaceAll(l, ",", "")); len(f) >= 10 && f[0] == "init" {
				ms, _ := strconv.ParseFloat(f[4], 64)
				t += ms
			}
		}
		traces, totals = append(traces, errb.String()), append(totals, t)
	}
	med := median(totals)
	errb := bytes.NewBufferString(traces[slices.Index(totals, med)])
	if slices.Index(totals, med) < 0 {
		errb = bytes.NewBufferString(traces[0])
	}
	type ini struct {
		pkg          string
		ms           float64
		bytes, alloc int64
	}
	var all []ini
	var totalMS float64
	var totalB int64
	byGroup := map[string]*ini{}
	for _, l := range strings.Split(errb.String(), "\n") {
		// init PKG @0.5 ms, 0.01 ms clock, 1234 bytes, 12 allocs
		f := strings.Fields(strings.ReplaceAll(l, ",", ""))
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		ms, _ := strconv.ParseFloat(f[4], 64)
		by, _ := strconv.ParseInt(f[7], 10, 64)
		al, _ := strconv.ParseInt(f[9], 10, 64)
		all = append(all, ini{f[1], ms, by, al})
		totalMS += ms
		totalB += by
		g := symGroup(f[1] + ".x")
		if byGroup[g] == nil {
			byGroup[g] = &ini{pkg: g}
		}
		byGroup[g].ms += ms
		byGroup[g].bytes += by
	}
	var s strings.Builder
	fmt.Fprintf(&s, "Package initialisation (`GODEBUG=inittrace=1 ferry --version`, the median of 5 runs): %d packages, %.1f ms of init functions, %.1f MB allocated by them.\n\n",
		len(all), totalMS, float64(totalB)/1e6)
	gs := slices.Collect(func(yield func(*ini) bool) {
		for _, g := range byGroup {
			yield(g)
		}
	})
	sort.Slice(gs, func(i, j int) bool { return gs[i].ms > gs[j].ms })
	s.WriteString("| origin | init ms | init MB allocated |\n|---|---|---|\n")
	for _, g := range gs[:min(8, len(gs))] {
		fmt.Fprintf(&s, "| %s | %.1f | %.2f |\n", g.pkg, g.ms, float64(g.bytes)/1e6)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ms > all[j].ms })
	s.WriteString("\nThe slowest package inits:\n\n| package | ms | bytes | allocs |\n|---|---|---|---|\n")
	for _, x := range all[:min(10, len(all))] {
		fmt.Fprintf(&s, "| %s | %.2f | %d | %d |\n", x.pkg, x.ms, x.bytes, x.alloc)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].bytes > all[j].bytes })
	s.WriteString("\nThe package inits that allocate most:\n\n| package | ms | bytes | allocs |\n|---|---|---|---|\n")
	for _, x := range all[:min(8, len(all))] {
		fmt.Fprintf(&s, "| %s | %.2f | %d | %d |\n", x.pkg, x.ms, x.bytes, x.alloc)
	}
	return s.String(), nil
}

// Statistics. Memory is reported in MB (10^6 bytes), as issue 6 states its
// targets.

func median(xs []float64) float64 {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func minMax(xs []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// pairedRatio is the median over the repetitions of a[i]/b[i]: both ran in
// the same repetition, one right after the other, so the machine's noise
// cancels better than in a ratio of medians.
func pairedRatio(a, b []float64) float64 {
	var r []float64
	for i := range min(len(a), len(b)) {
		if !math.IsNaN(a[i]) && !math.IsNaN(b[i]) && b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return median(r)
}

func mb(mib float64) float64 { return mib * 1024 * 1024 / 1e6 }

func (b *bench) find(scenario, tree, tool string) *series {
	for _, s := range b.results {
		if s.scenario == scenario && s.tree == tree && s.tool == tool {
			return s
		}
	}
	return nil
}

func fmtF(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

func fmtSecs(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case x < 0.1:
		return fmtF(x*1000, 0) + " ms"
	case x < 10:
		return fmtF(x, 2) + " s"
	}
	return fmtF(x, 1) + " s"
}

var scenarioTitles = map[string]string{
	"startup":  "Start-up: the fixed cost of every run",
	"nochange": "(a) No change, local folder to local folder",
	"changed":  "(b) 1% of the files changed on each side (8 in 10 edited, 1 created, 1 deleted), local to local",
	"first":    "(c) First run: one side full, the other empty",
}

func (b *bench) machine() string {
	var s strings.Builder
	model := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(data))
		if len(f) > 1 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf("%.1f GiB", kb/1024/1024)
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	fmt.Fprintf(&s, "- Date: %s\n", b.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&s, "- Machine: %d CPUs (nproc), %s, %s RAM, Linux %s, %s\n", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)), fsOf(b.cfg.work))
	versions := [][]string{{b.cfg.ferry, "--version"}, {"go", "version"}}
	if b.cfg.rclone != "" {
		versions = append(versions, []string{b.cfg.rclone, "version"})
	}
	if b.cfg.tools["unison"] {
		versions = append(versions, []string{"unison", "-version"})
	}
	if b.cfg.tools["rsync"] {
		versions = append(versions, []string{"rsync", "--version"})
	}
	var vs []string
	for _, v := range versions {
		out, err := exec.Command(v[0], v[1:]...).Output()
		if err == nil {
			vs = append(vs, strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
		}
	}
	fmt.Fprintf(&s, "- Versions: %s\n", strings.Join(vs, "; "))
	return s.String()
}

// fsOf names the file system that holds dir, from /proc/mounts.
func fsOf(dir string) string {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return ""
	}
	best, kind := "", ""
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && (dir == f[1] || strings.HasPrefix(dir, strings.TrimSuffix(f[1], "/")+"/")) && len(f[1]) > len(best) {
			best, kind = f[1], f[2]
		}
	}
	return fmt.Sprintf("trees on %s (%s)", kind, best)
}

func (b *bench) commands() string {
	c := b.cfg
	var s strings.Builder
	s.WriteString("```\n")
	if !c.remote {
		s.WriteString("ferry sync ONE TWO --workdir STATE --config EMPTY_RCLONE_CONF -q\n" +
			"rclone bisync ONE TWO --workdir STATE --config EMPTY_RCLONE_CONF -q   # after one run with --resync\n" +
			"UNISON=STATE unison ONE TWO -auto -batch -times -silent               # after one first run\n" +
			"rsync -a --dry-run ONE/ TWO/\n" +
			"benchtool walk ONE                                                      # filepath.WalkDir + lstat of every entry\n" +
			"rclone sync FULL EMPTY --config EMPTY_RCLONE_CONF -q                    # first-run scenario\n")
	}
	if c.scenarios["remote"] || c.scenarios["rename"] {
		s.WriteString("ferry sync ONE SERVER:PATH/bench/FOLDER --workdir STATE --config SERVERS_RCLONE_CONF -q\n" +
			"rclone bisync ONE SERVER:PATH/bench/FOLDER --workdir STATE --config SERVERS_RCLONE_CONF -q   # after rclone mkdir and one run with --resync\n" +
			"rclone bisync ... --force   # rename scenario: a renamed folder is a mass deletion to rclone bisync, which stops without it\n" +
			"# SERVER: s3 (versitygw), webdav-rclone (rclone serve webdav), webdav-apache (Apache mod_dav), started by scripts/testserver/SERVER.sh\n" +
			"# and reached through benchtool's counting proxy on 127.0.0.1; WebDAV remotes with pacer_min_sleep = 1ms\n")
	}
	fmt.Fprintf(&s, "```\n\nEach timed command runs under `/usr/bin/time -f %%M` (peak RSS of the largest process, from wait4); "+
		"wall time is measured around it. The harness: `%s`.\n", c.commandLine)
	return s.String()
}

func (b *bench) render() string {
	var s strings.Builder
	c := b.cfg
	switch {
	case c.large:
		fmt.Fprintf(&s, "## The large run (`make bench-large`)\n\n")
	case c.remote:
		fmt.Fprintf(&s, "## S3 and WebDAV servers (`make bench-remote`)\n\n")
	default:
		fmt.Fprintf(&s, "## Results of `make bench`\n\n")
	}
	s.WriteString(b.machine())
	reps := fmt.Sprintf("%d (no change, 1%% changed), %d (first run), %d (start-up)", c.reps, c.firstReps, c.startupReps)
	if c.remote {
		reps = fmt.Sprintf("%d (no change against each server, renames)", c.reps)
	}
	fmt.Fprintf(&s, "- Repetitions: %s; every repetition runs each tool once, in a rotating order. "+
		"Medians; the ratio columns are medians of the per-repetition ratios (tools of one repetition ran back to back). "+
		"Memory is peak RSS in MB (10^6 bytes). The page cache is warm: the trees were read before. "+
		"Others' CPU is the most CPU the rest of the machine used during one of the runs (cores, from /proc/stat less the tool's own time): "+
		"well above 0.1, another job ran alongside and that row is noisier.\n", reps)
	fmt.Fprintf(&s, "- Trees: seeded notes vaults from `benchtool gen` (folders of 20-180 markdown notes of median 1.5 kB, one file in 400 an attachment of 100 kB-2 MB)")
	if c.gosrc != "" && !c.large {
		fmt.Fprintf(&s, ", and `%s` copied (go-src)", c.gosrc)
	}
	s.WriteString(". Each tool syncs a pair of its own: two hard-linked copies of the tree")
	if b.servers != nil {
		s.WriteString(" or, with a server, a hard-linked copy and a folder on the server")
	}
	if c.scenarios["rename"] {
		fmt.Fprintf(&s, ". The rename scenario's tree: %d attachments of 4-16 kB (%.1f MB) in one folder, and a note for every 25", renameFiles, float64(b.renameBytes)/1e6)
	}
	s.WriteString(".\n\n")
	s.WriteString(b.commands())

	switch {
	case c.large:
		s.WriteString("\n### The curve\n\n" + b.curve())
	case c.remote:
		s.WriteString("\n### Targets of issue 6\n\n| target | measured | verdict |\n|---|---|---|\n" + b.remoteTargets())
	default:
		s.WriteString("\n### Targets of issue 6\n\n" + b.targets())
	}

	for _, scen := range []string{"startup", "nochange", "changed", "first"} {
		var rows []*series
		for _, r := range b.results {
			if r.scenario == scen {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&s, "\n### %s\n\n", scenarioTitles[scen])
		ref := "ferry"
		if scen == "first" {
			ref = "rclone sync"
		}
		fmt.Fprintf(&s, "| tree | files | tool | wall (median) | min-max | peak RSS (median) | time / %s's | RSS / %s's | others' CPU (max) |\n|---|---|---|---|---|---|---|---|---|\n", ref, ref)
		for _, r := range rows {
			lo, hi := minMax(r.walls)
			files := strconv.Itoa(r.files)
			if r.files == 0 {
				files = "-"
			}
			tr, rr := "", ""
			if scen != "startup" {
				if rs := b.find(scen, r.tree, ref); rs != nil {
					tr = fmtF(pairedRatio(r.walls, rs.walls), 2)
					rr = fmtF(pairedRatio(r.rss, rs.rss), 2)
				}
			}
			note := ""
			if r.err != "" {
				note = " (FAILED: " + strings.ReplaceAll(truncate(r.err, 200), "|", "\\|") + ")"
			}
			_, busy := minMax(r.other)
			fmt.Fprintf(&s, "| %s | %s | %s%s | %s | %s-%s | %s MB | %s | %s | %s |\n", r.tree, files, r.tool, note,
				fmtSecs(median(r.walls)), fmtSecs(lo), fmtSecs(hi), fmtF(mb(median(r.rss)), 0), tr, rr, fmtF(busy, 2))
		}
		if scen == "startup" {
			s.WriteString("\n" + b.startupNotes)
		}
	}
	s.WriteString(b.remoteTable())
	s.WriteString(b.renameTable())
	if len(b.remoteFirst) > 0 {
		s.WriteString("\nFirst syncs of the remote and rename pairs (one run each, before the repetitions; ferry's makes the server's copy, rclone bisync's is its --resync):\n\n")
		for _, l := range b.remoteFirst {
			s.WriteString("- " + l + "\n")
		}
	}
	for _, l := range b.serverNotes {
		s.WriteString("\n" + l + "\n")
	}
	if len(b.initRuns) > 0 {
		s.WriteString("\nFirst syncs of identical sides (one run each, before the repetitions; they build each tool's state and read every file):\n\n")
		for _, l := range b.initRuns {
			s.WriteString("- " + l + "\n")
		}
	}
	if b.historyOut != "" {
		s.WriteString("\n### (d) The history alone: 1,000,000 records\n\n`go test -run '^$' -bench '^Benchmark(Encode1M|Decode1M|SaveLoad1M)$' -benchmem -benchtime 1x ./history`:\n\n```\n" + b.historyOut + "```\n")
	}
	if b.goBenchOut != "" {
		s.WriteString("\n### Go benchmarks of the hot pieces\n\n`go test -run '^$' -bench ... -benchmem -benchtime 3x ./bisync ./backends/rclonefs` " +
			"(Plan100k: join, classify, decide and checks over 100,000 unchanged files on mem replicas; DryRun100k and RunNoChange100k: whole runs on mem replicas; " +
			"List100k: one listing of 100,000 local files through rclonefs; RunLocalNoChange100k: a whole no-change run over two local folders of 100,000 files):\n\n```\n" + b.goBenchOut + "```\n")
	}
	return s.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func verdict(ok bool, known bool) string {
	switch {
	case !known:
		return "not measured"
	case ok:
		return "**met**"
	}
	return "**not met**"
}

// benchLine finds a Go benchmark's value for unit in go test's output.
func benchLine(out, name, unit string) float64 {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasPrefix(f[0], "Benchmark"+name+"-") && f[0] != "Benchmark"+name {
			continue
		}
		for i := 1; i+1 < len(f); i++ {
			if f[i+1] == unit {
				v, err := strconv.ParseFloat(f[i], 64)
				if err == nil {
					return v
				}
			}
		}
	}
	return math.NaN()
}

func (b *bench) targets() string {
	var s strings.Builder
	s.WriteString("| target | measured | verdict |\n|---|---|---|\n")
	row := func(target, measured string, ok, known bool) {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", target, measured, verdict(ok, known))
	}
	tree := "vault-100k"
	files := 100_000.0
	f := b.find("nochange", tree, "ferry")
	u := b.find("nochange", tree, "unison")
	r := b.find("nochange", tree, "rclone bisync")
	if f != nil && u != nil {
		x := pairedRatio(f.walls, u.walls)
		row("No change, 100k: ferry at most as slow as Unison", fmt.Sprintf("ferry %s, Unison %s: ferry takes %sx Unison's time", fmtSecs(median(f.walls)), fmtSecs(median(u.walls)), fmtF(x, 2)), x <= 1, !math.IsNaN(x))
	}
	if f != nil && r != nil {
		x := pairedRatio(r.walls, f.walls)
		row("No change, 100k: at least 6x faster than rclone bisync", fmt.Sprintf("rclone bisync %s: ferry is %sx faster", fmtSecs(median(r.walls)), fmtF(x, 1)), x >= 6, !math.IsNaN(x))
	}
	if f != nil {
		m := mb(median(f.rss))
		row("No change, 100k: peak memory under 150 MB", fmt.Sprintf("%s MB", fmtF(m, 0)), m < 150, !math.IsNaN(m))
		if st := b.find("startup", "-", "ferry sync, two empty folders"); st != nil {
			base := mb(median(st.rss))
			per := (m - base) * 1e6 / files
			row("No change, 100k: under 300 bytes per file above the start-up cost",
				fmt.Sprintf("(%s - %s MB at start-up) / 100,000 = %s B/file", fmtF(m, 0), fmtF(base, 0), fmtF(per, 0)), per < 300, !math.IsNaN(per))
		}
	}
	fc, uc := b.find("changed", tree, "ferry"), b.find("changed", tree, "unison")
	if fc != nil && uc != nil {
		x := pairedRatio(fc.walls, uc.walls)
		row("1% changed on each side, 100k: no slower than Unison", fmt.Sprintf("ferry %s, Unison %s: %sx Unison's time", fmtSecs(median(fc.walls)), fmtSecs(median(uc.walls)), fmtF(x, 2)), x <= 1, !math.IsNaN(x))
	}
	ff, rs := b.find("first", tree, "ferry"), b.find("first", tree, "rclone sync")
	if ff != nil && rs != nil {
		x := pairedRatio(ff.walls, rs.walls)
		row("First run, 100k: within 1.3x of rclone sync", fmt.Sprintf("ferry %s, rclone sync %s: %sx", fmtSecs(median(ff.walls)), fmtSecs(median(rs.walls)), fmtF(x, 2)), x <= 1.3, !math.IsNaN(x))
	}
	if b.historyOut != "" {
		enc := benchLine(b.historyOut, "Encode1M", "ns/op") / 1e9
		dec := benchLine(b.historyOut, "Decode1M", "ns/op") / 1e9
		sl := benchLine(b.historyOut, "SaveLoad1M", "ns/op") / 1e9
		per := benchLine(b.historyOut, "Encode1M", "file-B/record")
		row("History, 1M records: load under a second", fmt.Sprintf("decode %s; save+load from disk %s", fmtSecs(dec), fmtSecs(sl)), dec < 1 && sl < 2, !math.IsNaN(dec))
		row("History, 1M records: save under a second", fmt.Sprintf("encode %s; save+load from disk %s", fmtSecs(enc), fmtSecs(sl)), enc < 1 && sl < 2, !math.IsNaN(enc))
		row("History: under 25 bytes per file on disk", fmt.Sprintf("%s B/record", fmtF(per, 1)), per < 25, !math.IsNaN(per))
	}
	row("1M files, no change: under 10 s and 600 MB, linear", "see `make bench-large` below", false, false)
	s.WriteString(b.remoteTargets())
	return s.String()
}

// The targets of issue 6 about servers, as they are phrased there.
const (
	targetRemote = "S3 and WebDAV, no change: listing requests only, none per file; files per second"
	targetRename = "A renamed folder of 1,000 attachments moves, no content sent"
)

// remoteTargets are the rows of the targets table for the remote and rename
// scenarios: ferry's no-change runs must make listing requests only (bar
// the few that open the remote), and its renames must send no file
// content.
func (b *bench) remoteTargets() string {
	var s strings.Builder
	elsewhere := "see `make bench-remote`"
	if b.cfg.remote {
		elsewhere = "not in this run (-scenarios)"
	}
	var nochange, renames []string
	listingsOnly, measured := true, false
	for _, r := range b.results {
		if r.scenario != "remote" || r.tool != "ferry" || r.err != "" {
			continue
		}
		w := medianTraffic(r.wire)
		tot := w.total().requests
		measured = true
		for _, x := range r.wire {
			if perFile(x) > openRequests {
				listingsOnly = false
			}
		}
		wall := median(r.walls)
		nochange = append(nochange, fmt.Sprintf("%s, %s: %s, %s files/s, %d requests of which %d listings (%d folders)",
			r.server, r.tree, fmtSecs(wall), fmtF(float64(r.files)/wall, 0), tot, listings(w), r.folders))
	}
	if measured {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", targetRemote, strings.Join(nochange, "; "), verdict(listingsOnly, true))
	} else {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", targetRemote, elsewhere, verdict(false, false))
	}
	noContent, measured := true, false
	for _, r := range b.results {
		if r.scenario != "rename" || r.tool != "ferry" || r.err != "" {
			continue
		}
		measured = true
		for _, x := range r.written {
			if math.IsNaN(x) || x > 0 {
				noContent = false
			}
		}
		how := "a local rename"
		if w := medianTraffic(r.wire); w != nil {
			how = w.mix()
		}
		renames = append(renames, fmt.Sprintf("%s: %s, %s of content sent (%s)", r.server, fmtSecs(median(r.walls)), fmtBytes(median(r.written)), how))
	}
	if measured {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", targetRename, strings.Join(renames, "; "), verdict(noContent, true))
	} else {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", targetRename, elsewhere, verdict(false, false))
	}
	return s.String()
}

// openRequests is how many requests for a user's file a no-change run may
// make: opening a remote may look at its root (a HEAD on S3; on WebDAV a
// PROPFIND of depth 0, counted as a listing) once per run, never per file.
const openRequests = 2

// listings counts the listing requests of a traffic.
func listings(t traffic) int64 {
	var n int64
	for class, f := range t {
		if listing(class) {
			n += f.requests
		}
	}
	return n
}

// perFile counts the requests of a traffic that are for a user's file:
// neither listings nor for ferry's own files on the side.
func perFile(t traffic) int64 {
	var n int64
	for class, f := range t {
		if !listing(class) && !ferryOwn(class) {
			n += f.requests
		}
	}
	return n
}

func fmtBytes(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case x < 1e3:
		return fmtF(x, 0) + " B"
	case x < 1e6:
		return fmtF(x/1e3, 1) + " kB"
	}
	return fmtF(x/1e6, 1) + " MB"
}

// remoteTable is the remote scenario's table: each tool's no-change runs
// against each server, with the requests they made.
func (b *bench) remoteTable() string {
	var s strings.Builder
	for _, r := range b.results {
		if r.scenario != "remote" {
			continue
		}
		if s.Len() == 0 {
			s.WriteString("\n### (e) No change, local folder to an S3 or WebDAV server on 127.0.0.1\n\n" +
				"Requests are counted by a proxy in front of the server; \"listings\" are PROPFINDs (WebDAV) and ListObjects (S3, 1,000 keys each); " +
				"\".ferry/\" marks requests for ferry's own files on the side (its format marker and deletion records). " +
				"Answers' bodies are the bytes the server sent back. Others' CPU includes the server's and the proxy's.\n\n" +
				"| server | tree | files | folders | tool | wall (median) | min-max | peak RSS (median) | files per second | requests (median run) | of which listings | request mix | answers' bodies | time / ferry's | others' CPU (max) |\n" +
				"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		}
		if r.err != "" {
			fmt.Fprintf(&s, "| %s | %s | %d | | %s (FAILED: %s) | | | | | | | | | | |\n", r.server, r.tree, r.files, r.tool, cell(r.err))
			continue
		}
		lo, hi := minMax(r.walls)
		wall := median(r.walls)
		w := medianTraffic(r.wire)
		tr := ""
		if f := b.findOn("remote", r.tree, r.server, "ferry"); f != nil {
			tr = fmtF(pairedRatio(r.walls, f.walls), 2)
		}
		_, busy := minMax(r.other)
		fmt.Fprintf(&s, "| %s | %s | %d | %d | %s | %s | %s-%s | %s MB | %s | %d | %d | %s | %s | %s | %s |\n",
			r.server, r.tree, r.files, r.folders, r.tool, fmtSecs(wall), fmtSecs(lo), fmtSecs(hi), fmtF(mb(median(r.rss)), 0),
			fmtF(float64(r.files)/wall, 0), w.total().requests, listings(w), w.mix(), fmtBytes(float64(w.total().received)), tr, fmtF(busy, 2))
	}
	return s.String()
}

// renameTable is the rename scenario's table: the run after the folder of
// attachments was renamed on the first side.
func (b *bench) renameTable() string {
	var s strings.Builder
	for _, r := range b.results {
		if r.scenario != "rename" {
			continue
		}
		if s.Len() == 0 {
			fmt.Fprintf(&s, "\n### (f) A folder of %d attachments (%.1f MB) renamed on the local side\n\n"+
				"Content written is the bodies of uploads through the proxy (PUT and POST, not S3's server-side copy) or, to a local folder, "+
				"the files of the renamed folder that are no longer hard links of the first side's (a rename keeps them). "+
				"After each run both sides hold the folder under its new name with the same bytes, and no file under the old one. "+
				"\".ferry/\" marks requests for ferry's own files on the side (its format marker and deletion records).\n\n"+
				"| second side | tool | wall (median) | min-max | peak RSS (median) | content written (median) | requests (median run) | request mix | time / ferry's | others' CPU (max) |\n"+
				"|---|---|---|---|---|---|---|---|---|---|\n", renameFiles, float64(b.renameBytes)/1e6)
		}
		if r.err != "" {
			fmt.Fprintf(&s, "| %s | %s (FAILED: %s) | | | | | | | | |\n", r.server, r.tool, cell(r.err))
			continue
		}
		lo, hi := minMax(r.walls)
		reqs, mix := "-", "-"
		if w := medianTraffic(r.wire); w != nil {
			reqs, mix = strconv.FormatInt(w.total().requests, 10), w.mix()
		}
		tr := ""
		if f := b.findOn("rename", r.tree, r.server, "ferry"); f != nil {
			tr = fmtF(pairedRatio(r.walls, f.walls), 2)
		}
		_, busy := minMax(r.other)
		fmt.Fprintf(&s, "| %s | %s | %s | %s-%s | %s MB | %s | %s | %s | %s | %s |\n",
			r.server, r.tool, fmtSecs(median(r.walls)), fmtSecs(lo), fmtSecs(hi), fmtF(mb(median(r.rss)), 0),
			fmtBytes(median(r.written)), reqs, mix, tr, fmtF(busy, 2))
	}
	return s.String()
}

// findOn is find for the scenarios whose rows differ by server too.
func (b *bench) findOn(scenario, tree, server, tool string) *series {
	for _, s := range b.results {
		if s.scenario == scenario && s.tree == tree && s.server == server && s.tool == tool {
			return s
		}
	}
	return nil
}

// cell makes an error fit in a table cell.
func cell(err string) string {
	return strings.ReplaceAll(truncate(err, 200), "|", "\\|")
}

// curve is the large run's table: time and memory by size, and what each
// file costs at the margin (from one size to the next), which is what
// "linear or better" is about.
func (b *bench) curve() string {
	var s strings.Builder
	s.WriteString("| files | tool | wall (median) | peak RSS (median) | µs per file | marginal µs per file | marginal bytes per file |\n|---|---|---|---|---|---|---|\n")
	prev := map[string]*series{}
	for _, r := range b.results {
		if r.scenario != "nochange" || (r.tool != "ferry" && r.tool != "unison") {
			continue
		}
		w, m := median(r.walls), mb(median(r.rss))
		dt, dm := "", ""
		if p := prev[r.tool]; p != nil && r.files > p.files {
			n := float64(r.files - p.files)
			dt = fmtF((w-median(p.walls))*1e6/n, 1)
			dm = fmtF((m-mb(median(p.rss)))*1e6/n, 0)
		}
		prev[r.tool] = r
		fmt.Fprintf(&s, "| %d | %s | %s | %s MB | %s | %s | %s |\n", r.files, r.tool, fmtSecs(w), fmtF(m, 0), fmtF(w*1e6/float64(r.files), 1), dt, dm)
	}
	var big *series
	for _, r := range b.results {
		if r.scenario == "nochange" && r.tool == "ferry" && (big == nil || r.files > big.files) {
			big = r
		}
	}
	if big != nil {
		w, m := median(big.walls), mb(median(big.rss))
		fmt.Fprintf(&s, "\nTarget (1,000,000 files, no change: under 10 s and under 600 MB): at %d files ferry took %s and %s MB: %s.\n",
			big.files, fmtSecs(w), fmtF(m, 0), verdict(w < 10 && m < 600 && big.files >= 1_000_000, big.files >= 1_000_000))
	}
	return s.String()
}

// residentWhileWaiting shows what ferry's resident memory is made of once it
// has started, set rclone up and opened both sides: it holds the pair's lock
// (as a live process of this host would), starts `ferry sync --lock-wait`,
// which then waits, reads its /proc status, and stops it.
func residentWhileWaiting(syncArgs []string, state string) (string, error) {
	hists, _ := filepath.Glob(filepath.Join(state, "*.hist"))
	if len(hists) != 1 {
		return "", fmt.Errorf("want one history in %s, found %d", state, len(hists))
	}
	lock := strings.TrimSuffix(hists[0], ".hist") + ".lck"
	host, _ := os.Hostname()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	info := fmt.Sprintf(`{"token":"benchtool%d","pid":%d,"host":%q,"started":%q,"renewed":%q}`+"\n", os.Getpid(), os.Getpid(), host, now, now)
	if err := os.WriteFile(lock, []byte(info), 0o600); err != nil {
		return "", err
	}
	defer os.Remove(lock)
	cmd := exec.Command(syncArgs[0], append(slices.Clone(syncArgs[1:]), "--lock-wait", "60s")...)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	time.Sleep(2 * time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return "", err
	}
	val := map[string]string{}
	for _, l := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			val[k] = strings.TrimSpace(v)
		}
	}
	kb := func(k string) string {
		f := strings.Fields(val[k])
		if len(f) == 0 {
			return "?"
		}
		n, _ := strconv.ParseFloat(f[0], 64)
		return fmtF(n*1024/1e6, 1) + " MB"
	}
	return fmt.Sprintf("What `ferry sync` holds in memory once it has started, set rclone up and opened both sides (read from /proc while it waits for the pair's lock): "+
		"resident %s, of which %s are pages of the binary mapped from disk (RssFile: code and read-only data actually touched, shared with other processes) "+
		"and %s anonymous memory (RssAnon: Go heap, stacks, written data); %s of address space reserved (VmSize), threads: %s.\n\n",
		kb("VmRSS"), kb("RssFile"), kb("RssAnon"), kb("VmSize"), val["Threads"]), nil
}
