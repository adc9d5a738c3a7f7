//go:build unix

package main

// Faults on the wire (issue 5): the real binary syncs a local vault with a
// real S3 or WebDAV server on 127.0.0.1 through a proxy that resets
// connections, stalls and answers 500/503 for a share of the requests
// (testserver.FaultProxy). A run through the flaky link must either
// complete or stop, in bounded time, with a clear error; either way the
// next run through a healthy link must converge as after a crash (the
// checks of crash_test.go): the sides identical, every version the user
// wrote kept, no deleted file back, nothing left to do, and no half-written
// object left as a user's file on the server, which the test lists
// directly, bypassing ferry.
//
// `make test` runs three targeted scenarios and two seeds per server;
// FERRY_SOAK=1 runs FERRY_SOAK_SEEDS random seeds from FERRY_SOAK_SEED (as
// the crash test), with random tree sizes and fault rates. Other knobs:
// FERRY_WIRE_LATE=1 lets the random
// stalls deliver requests late (testserver.Faults.Late);
// FERRY_WIRE_DEBUG=dir keeps each run's output with rclone's debug log in
// dir.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	rfs "github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/walk"

	"github.com/ferry-sync/ferry/backends/rclonefs"
	"github.com/ferry-sync/ferry/backends/rclonefs/testserver"
)

// wireSettings say how much the wire test does.
type wireSettings struct {
	seeds []uint64
	// random draws the tree's size and the fault rate from the seed.
	random bool
}

func wireSettingsFromEnv(t *testing.T) wireSettings {
	if os.Getenv("FERRY_SOAK") == "" {
		return wireSettings{seeds: []uint64{1, 2}}
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
	ws := wireSettings{random: true}
	for i := range n {
		ws.seeds = append(ws.seeds, base+uint64(i)*0x9e3779b97f4a7c15)
	}
	t.Logf("soak: %d seeds from FERRY_SOAK_SEED=%d", n, base)
	return ws
}

// Bounds of the runs. Through the flaky link rclone's idle timeout is
// shorter than the longest stall, so that some stalls end in a timeout
// and a retry; through the healthy one it is rclone's default.
const (
	wireRunLimit     = 150 * time.Second // any run must end by then
	wireStall        = 2 * time.Second   // the longest stall
	wireFlakyTimeout = "1s"              // RCLONE_TIMEOUT, RCLONE_CONTIMEOUT
)

// TestWireFaults: on each server kind, targeted faults at the points
// where a lost request or answer matters, then, for each seed, a vault
// with changes on both sides (or a first run) synced through a link with
// random faults; each time followed by a run through a healthy link.
func TestWireFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("wire fault test: skipped with -short")
	}
	buildFerry(t)
	ws := wireSettingsFromEnv(t)
	for _, kind := range []testserver.Kind{testserver.S3, testserver.WebDAVRclone, testserver.WebDAVApache} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := testserver.StartServer(t, kind)
			for _, sc := range wireScenarios {
				t.Run(sc.name, func(t *testing.T) {
					wireTargeted(t, srv, sc)
				})
			}
			for _, seed := range ws.seeds {
				t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
					wireSeed(t, srv, seed, ws)
				})
			}
		})
	}
}

// wireScenario is a targeted fault: one request of a kind, at one point.
type wireScenario struct {
	name string
	// setup makes the user's files and changes, and returns the faults
	// for the server kind.
	setup func(w *wireWorld) testserver.Faults
	// late: wait after the faulty run until the stalled request has
	// reached the server.
	late bool
	// retry: the faulty run must stop with exit status 5 (temporary
	// error, run again later), and it may meet any number of faults.
	retry bool
}

// listingFaults returns a scenario's setup that makes one edit to sync,
// then has f hit every listing request (PROPFIND, or S3's GET).
func listingFaults(f testserver.Faults) func(w *wireWorld) testserver.Faults {
	return func(w *wireWorld) testserver.Faults {
		w.put(0, "notes/a.md", w.content("base a", 3000), time.Time{})
		w.syncOK()
		w.edit(0, "notes/a.md", w.content("a edit", 4000))
		f.Methods = []string{"PROPFIND"}
		if w.kind == testserver.S3 {
			f.Methods = []string{"GET"}
		}
		return f
	}
}

var wireScenarios = []wireScenario{
	{
		// Every answer to a listing request is cut part way, in its
		// headers or its body, rclone's retries included: the run
		// stops before changing anything, with a temporary error.
		name:  "listing-cut",
		retry: true,
		setup: listingFaults(testserver.Faults{Reset: 1, At: testserver.InResponse, CutWithin: 300}),
	},
	{
		// Every answer to a listing request is late past rclone's
		// timeout, retries included: a temporary error, as above.
		name:  "listing-timeout",
		retry: true,
		setup: listingFaults(testserver.Faults{Stall: 1, StallFor: 2 * time.Second, At: testserver.BeforeResponse}),
	},
	{
		// An upload cut in the middle of its body: the server must not
		// keep it, under the file's name or the old content's.
		name: "upload-cut",
		setup: func(w *wireWorld) testserver.Faults {
			w.put(0, "notes/a.md", w.content("base a", 3000), time.Time{})
			w.put(0, "big.bin", w.bigContent("base big"), time.Time{})
			w.syncOK()
			w.edit(0, "big.bin", w.bigContent("big edit"))
			w.edit(0, "notes/a.md", w.content("a edit", 5000))
			return testserver.Faults{Reset: 1, At: testserver.InRequestBody, Methods: []string{"PUT"}, Max: 1}
		},
	},
	{
		// A conflict: each side's version is renamed to a conflict
		// copy; the server's copy, the first half of a rename on S3 and
		// WebDAV, loses its answer after the server made it, and rclone
		// tries it again. (A repeated MOVE on golang.org/x/net/webdav
		// deletes its destination, so WebDAV renames are not MOVEs.)
		name: "answer-lost-rename",
		setup: func(w *wireWorld) testserver.Faults {
			w.put(0, "notes/a.md", w.content("base a", 3000), time.Time{})
			w.put(0, "notes/b.md", w.content("base b", 3000), time.Time{})
			w.syncOK()
			w.edit(0, "notes/a.md", w.content("conflict, local", 4000))
			w.edit(1, "notes/a.md", w.content("conflict, server", 5000))
			method := "COPY"
			if w.kind == testserver.S3 {
				method = "DELETE" // a CopyObject is a PUT, as the uploads
			}
			return testserver.Faults{Reset: 1, At: testserver.BeforeResponse, Methods: []string{method}, Max: 1}
		},
	},
	{
		// The second half of a rename, and a deletion: a DELETE loses its
		// answer after the server carried it out, and rclone's retry
		// finds nothing to delete.
		name: "answer-lost-delete",
		setup: func(w *wireWorld) testserver.Faults {
			w.put(0, "notes/a.md", w.content("base a", 3000), time.Time{})
			w.put(0, "notes/b.md", w.content("base b", 3000), time.Time{})
			w.syncOK()
			w.del(0, "notes/b.md")
			return testserver.Faults{Reset: 1, At: testserver.BeforeResponse, Methods: []string{"DELETE"}, Max: 1}
		},
	},
	{
		// A new file's upload (on WebDAV its copy from the temporary
		// name) stalls on its way to the server past rclone's timeout;
		// rclone tries again and succeeds, and the stalled request
		// reaches the server afterwards, when the temporary file may be
		// gone.
		name: "late-rename",
		late: true,
		setup: func(w *wireWorld) testserver.Faults {
			w.put(0, "notes/a.md", w.content("base a", 3000), time.Time{})
			w.syncOK()
			w.edit(0, "notes/new.md", w.content("new", 2000))
			method := "COPY"
			if w.kind == testserver.S3 {
				method = "PUT"
			}
			return testserver.Faults{Stall: 1, StallFor: 2500 * time.Millisecond, Late: true,
				At: testserver.BeforeRequest, Methods: []string{method}, Max: 1}
		},
	},
}

func wireTargeted(t *testing.T, srv *testserver.Server, sc wireScenario) {
	w := newWireWorld(t, srv, "t-"+sc.name, 0)
	faults := sc.setup(w)
	w.proxy.Set(faults)
	before := w.proxy.Stats()
	code, stdout, stderr, took := w.ferry(true, w.syncArgs()...)
	st := w.proxy.Stats().Sub(before)
	t.Logf("faulty run: exit status %d after %v; %s; the link: %v", code, took.Round(time.Millisecond), lastLines(stdout+stderr, 3), st)
	w.checkStopped(code, stdout, stderr)
	if sc.late {
		// Until the stalled request has gone on, and a little more for
		// the server to carry it out.
		deadline := time.Now().Add(faults.StallFor + 5*time.Second)
		for w.proxy.Stats().Sub(before).Stalls == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		st = w.proxy.Stats().Sub(before)
	}
	switch {
	case sc.retry && code != exitRetry:
		t.Errorf("the faulty run exited %d, want %d (temporary error)", code, exitRetry)
	case sc.retry && st.Faults() == 0:
		t.Errorf("the faulty run met no fault: %v", st)
	case !sc.retry && st.Faults() != 1:
		t.Errorf("the faulty run met %d faults, want 1: %v", st.Faults(), st)
	}
	w.proxy.Healthy()
	w.healthyRun()
	w.check()
}

// TestServerCrash kills the binary with SIGKILL part way through runs
// between a local vault and each server, a first run and runs with
// changes on both sides (twice in a row, so that a run starts from the
// journal of a killed one): the next run must converge as after any crash,
// with nothing lost and no half-written file left under a user's name.
func TestServerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test on servers: skipped with -short")
	}
	buildFerry(t)
	type crash struct {
		first bool
		kills []time.Duration
	}
	crashes := []crash{
		{first: true, kills: []time.Duration{700 * time.Millisecond}},
		{kills: []time.Duration{250 * time.Millisecond}},
		{kills: []time.Duration{900 * time.Millisecond, 400 * time.Millisecond}},
	}
	for _, kind := range []testserver.Kind{testserver.S3, testserver.WebDAVRclone, testserver.WebDAVApache} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := testserver.StartServer(t, kind)
			for i, c := range crashes {
				t.Run(fmt.Sprintf("crash%d", i), func(t *testing.T) {
					w := newWireWorld(t, srv, fmt.Sprintf("crash-%d", i), uint64(i+1))
					w.generate(120, c.first)
					var killed int
					for _, after := range c.kills {
						if w.killedSync(after) {
							killed++
						}
					}
					t.Logf("killed %d of %d runs (after %v)", killed, len(c.kills), c.kills)
					w.healthyRun()
					w.check()
				})
			}
		})
	}
}

func wireSeed(t *testing.T, srv *testserver.Server, seed uint64, ws wireSettings) {
	var stream uint64
	for _, c := range string(srv.Kind) {
		stream = stream*31 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	first := seed%2 == 0 // the flaky run is the pair's first
	small, rate := 150, []float64{0.06, 0.15}[seed%2]
	if ws.random {
		first = rng.IntN(2) == 0
		small = 100 + rng.IntN(500)
		// Past a quarter of the requests, rclone's pacer spaces them
		// seconds apart and a run takes minutes.
		rate = 0.02 + 0.2*rng.Float64()
	}
	start := time.Now()
	w := newWireWorld(t, srv, fmt.Sprintf("seed-%d", seed), seed)
	w.generate(small, first)
	t.Logf("%s seed %d: %d files on the local side, %d on the server, first run %v, fault rate %.2f; set up in %v",
		srv.Kind, seed, len(w.scanLocal()), len(w.scanRemote()), first, rate, time.Since(start).Round(time.Millisecond))

	// The flaky runs: one, and up to two more while they fail, so that
	// a run also starts from the journal of a failed one.
	faults := testserver.Flaky(rate, wireStall)
	faults.Late = os.Getenv("FERRY_WIRE_LATE") != ""
	w.proxy.Set(faults)
	before := w.proxy.Stats()
	for i := range 3 {
		code, stdout, stderr, took := w.ferry(true, w.syncArgs()...)
		t.Logf("flaky run %d: exit status %d after %v; %s", i+1, code, took.Round(time.Millisecond), lastLines(stdout+stderr, 3))
		w.checkStopped(code, stdout, stderr)
		if code == 0 {
			break
		}
	}
	st := w.proxy.Stats().Sub(before)
	t.Logf("the flaky link: %v", st)
	if st.Faults() == 0 {
		t.Errorf("the flaky runs met no fault: %v", st)
	}
	w.proxy.Healthy()
	w.healthyRun()
	w.check()
	if t.Failed() {
		t.Fatalf("%s seed %d: see above; FERRY_SOAK=1 FERRY_SOAK_SEED=%d FERRY_SOAK_SEEDS=1 runs this seed again (with its random sizes)", srv.Kind, seed, seed)
	}
}

// checkStopped checks the outcome of a run through a faulty link: success,
// or a clear error.
func (w *wireWorld) checkStopped(code int, stdout, stderr string) {
	t := w.t
	t.Helper()
	switch code {
	case exitSuccess:
		if !strings.Contains(stdout, lineSuccess) {
			t.Errorf("exit status 0 without %q:\n%s\n%s", lineSuccess, stdout, stderr)
		}
		return
	case exitRetry, exitNoRetry:
	default:
		t.Errorf("exit status %d, want 0, or 5 or 6 (retry later, actions failed)\nstdout:\n%s\nstderr:\n%s",
			code, stdout, stderr)
	}
	if !strings.HasPrefix(stderr, "ferry: ") && !strings.Contains(stderr, "\nferry: ") {
		t.Errorf("exit status %d with no error message on stderr:\n%s", code, stderr)
	}
}

// healthyRun runs ferry sync through the healthy link; it must succeed.
func (w *wireWorld) healthyRun() {
	w.t.Helper()
	code, stdout, stderr, took := w.ferry(false, w.syncArgs()...)
	w.t.Logf("healthy run: exit status %d after %v; %s", code, took.Round(time.Millisecond), lastLines(stdout, 2))
	if code != 0 || !strings.Contains(stdout, lineSuccess) {
		w.t.Fatalf("the run through a healthy link failed: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// wireWorld is one pair: a local folder, and a folder on the server
// reached by ferry through the proxy and by the test directly.
type wireWorld struct {
	t              *testing.T
	kind           testserver.Kind
	local, work    string
	home, rcloneRC string
	remote         string // through the proxy
	direct         rfs.Fs // the same folder, straight to the server
	proxy          *testserver.FaultProxy

	rng *rand.Rand
	tag string // starts every content the user writes
	n   int    // numbers the contents
	// fresh holds the versions the user wrote since the last sync, by
	// side and path; gone the paths deleted for good; versions every
	// content the user ever wrote, by hash; byHeadline the same by
	// first line.
	fresh      [2]map[string]string
	gone       []string
	versions   map[string]userVersion
	byHeadline map[string]string
}

// userVersion is one content the user wrote, by its first line (unique: it
// numbers the version) and size.
type userVersion struct {
	headline string
	size     int
}

// newWireWorld makes a pair with the folder name on the server, its proxy
// drawing faults from seed.
func newWireWorld(t *testing.T, srv *testserver.Server, name string, seed uint64) *wireWorld {
	t.Helper()
	root := t.TempDir()
	w := &wireWorld{
		t:          t,
		kind:       srv.Kind,
		local:      filepath.Join(root, "local"),
		work:       filepath.Join(root, "work"),
		home:       filepath.Join(root, "home"),
		rcloneRC:   filepath.Join(root, "rclone.conf"),
		rng:        rand.New(rand.NewPCG(seed, uint64(len(name)))),
		tag:        name,
		fresh:      [2]map[string]string{{}, {}},
		versions:   map[string]userVersion{},
		byHeadline: map[string]string{},
	}
	for _, d := range []string{w.local, w.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(w.rcloneRC, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var params []testserver.Param
	switch srv.Type {
	case "webdav":
		// rclone's WebDAV client paces its requests 10 ms apart by
		// default: on loopback, that alone would make the test slow.
		params = append(params, testserver.Param{Key: "pacer_min_sleep", Value: "1ms"})
	case "s3":
		// Files over 2 MiB go up as multipart uploads (of one part),
		// so that faults hit those too.
		params = append(params, testserver.Param{Key: "upload_cutoff", Value: "2Mi"})
	}
	folder := "/wire-" + name
	w.proxy = testserver.StartFaultProxy(t, srv.Addr, seed)
	w.remote = w.proxy.Remote(srv, params...) + folder
	f, err := rfs.NewFs(wireCtx(t), srv.Remote(params...)+folder)
	if err != nil {
		t.Fatalf("opening the server's folder directly: %v", err)
	}
	w.direct = f
	return w
}

// wireCtx is rclone's configuration for the test's own requests to the
// servers, set up once: no config file of the user's, few retries.
var wireCtx = func() func(t *testing.T) context.Context {
	var (
		once sync.Once
		ctx  context.Context
		err  error
	)
	return func(t *testing.T) context.Context {
		once.Do(func() {
			conf := filepath.Join(binDir, "wire-rclone.conf")
			if err = os.WriteFile(conf, nil, 0o600); err != nil {
				return
			}
			ctx, err = rclonefs.Setup(context.Background(), rclonefs.Options{
				ConfigPath: conf, LowLevelRetries: 3,
				Timeout: 30 * time.Second, ConnectTimeout: 5 * time.Second,
			})
		})
		if err != nil {
			t.Fatalf("setting rclone up: %v", err)
		}
		return ctx
	}
}()

func (w *wireWorld) syncArgs() []string {
	return []string{"sync", w.local, w.remote, "--workdir", w.work}
}

// ferry runs the binary with args, failing the test if it runs longer than
// wireRunLimit. flaky lowers rclone's retries, and its timeouts through
// its environment; otherwise rclone's defaults hold (rclone serve answers
// 423 Locked to a MKCOL while another one of the same folder runs, which
// only a few retries survive).
func (w *wireWorld) ferry(flaky bool, args ...string) (code int, stdout, stderr string, took time.Duration) {
	w.t.Helper()
	if flaky {
		args = append(args, "--low-level-retries", "2")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wireRunLimit)
	defer cancel()
	if dir := os.Getenv("FERRY_WIRE_DEBUG"); dir != "" {
		// Keep each run's output, with rclone's requests, in dir.
		args = append(args, "-vv")
		defer func() {
			name := filepath.Join(dir, fmt.Sprintf("%s-%d.log", strings.ReplaceAll(w.t.Name(), "/", "_"), time.Now().UnixNano()))
			_ = os.WriteFile(name, []byte(strings.Join(args, " ")+"\n"+stdout+"\n----\n"+stderr), 0o644)
		}()
	}
	cmd := w.command(ctx, flaky, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	stdout, stderr = out.String(), errOut.String()
	if ctx.Err() != nil {
		w.t.Fatalf("ferry %s: still running after %v (the link: %v)\nstdout:\n%s\nstderr:\n%s",
			args[0], wireRunLimit, w.proxy.Stats(), stdout, stderr)
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		w.t.Fatalf("ferry: %v", err)
	}
	return code, stdout, stderr, took
}

// command returns the binary's command line, in the world's environment.
func (w *wireWorld) command(ctx context.Context, flaky bool, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, ferryBin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.home,
		"XDG_CONFIG_HOME=" + filepath.Join(w.home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(w.home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(w.home, ".local", "state"),
		"RCLONE_CONFIG=" + w.rcloneRC,
		"TMPDIR=" + os.TempDir(),
	}
	if flaky {
		cmd.Env = append(cmd.Env, "RCLONE_TIMEOUT="+wireFlakyTimeout, "RCLONE_CONTIMEOUT="+wireFlakyTimeout)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// killedSync runs ferry sync and kills it with SIGKILL after the given
// time, unless it has ended by then; it reports whether it was killed.
func (w *wireWorld) killedSync(after time.Duration) bool {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wireRunLimit)
	defer cancel()
	cmd := w.command(ctx, false, w.syncArgs()...)
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	timer := time.AfterFunc(after, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	err := cmd.Wait()
	stopped := timer.Stop()
	if ctx.Err() != nil {
		w.t.Fatalf("ferry sync: still running after %v", wireRunLimit)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		w.t.Fatal(err)
	}
	return !stopped
}

// syncOK runs ferry sync through the link as it is, and fails the test
// unless it succeeds. What the user wrote before is in sync after it.
func (w *wireWorld) syncOK() {
	w.t.Helper()
	code, stdout, stderr, _ := w.ferry(false, w.syncArgs()...)
	if code != 0 || !strings.Contains(stdout, lineSuccess) {
		w.t.Fatalf("ferry sync: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	w.fresh = [2]map[string]string{{}, {}}
}

// content returns a new small version, starting with a line that names
// it.
func (w *wireWorld) content(what string, size int) []byte {
	w.n++
	b := make([]byte, 0, size+64)
	b = fmt.Appendf(b, "%s version %d %s\n", w.tag, w.n, what)
	for len(b) < size {
		b = append(b, byte('a'+w.rng.IntN(26)))
		if w.rng.IntN(60) == 0 {
			b = append(b, '\n')
		}
	}
	return b
}

// bigContent returns a new version of 1 to 4 MiB.
func (w *wireWorld) bigContent(what string) []byte {
	w.n++
	size := 1<<20 + w.rng.IntN(3<<20)
	b := fmt.Appendf(make([]byte, 0, size), "%s version %d %s\n", w.tag, w.n, what)
	for len(b) < size {
		b = append(b, byte(w.rng.Uint32()))
	}
	return b
}

// put writes b at p on side s (0 local, 1 the server, directly), with
// mtime unless zero.
func (w *wireWorld) put(s int, p string, b []byte, mtime time.Time) {
	t := w.t
	t.Helper()
	w.wrote(b)
	if s == 0 {
		full := filepath.Join(w.local, filepath.FromSlash(p))
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
		return
	}
	if mtime.IsZero() {
		mtime = time.Now()
	}
	info := object.NewStaticObjectInfo(p, mtime, int64(len(b)), true, nil, w.direct)
	if _, err := w.direct.Put(wireCtx(t), bytes.NewReader(b), info); err != nil {
		t.Fatalf("writing %s on the server: %v", p, err)
	}
}

// edit writes a version the next sync must keep.
func (w *wireWorld) edit(s int, p string, b []byte) {
	w.t.Helper()
	w.put(s, p, b, time.Time{})
	w.fresh[s][p] = hashOf(b)
}

// del deletes p on side s.
func (w *wireWorld) del(s int, p string) {
	t := w.t
	t.Helper()
	if s == 0 {
		if err := os.Remove(filepath.Join(w.local, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
		return
	}
	o, err := w.direct.NewObject(wireCtx(t), p)
	if err == nil {
		err = o.Remove(wireCtx(t))
	}
	if err != nil {
		t.Fatalf("deleting %s on the server: %v", p, err)
	}
}

// generate writes a seed's world: a tree of small files and some of 1 to
// 4 MiB on the local side, synced once through the healthy link (unless
// first), then the user's changes on both sides, the server's made
// directly: edits, new files, deletions, touches, conflicting and equal
// edits, edits facing deletions; for a first run, files on both sides,
// some the same, some different.
func (w *wireWorld) generate(nSmall int, first bool) {
	t, rng := w.t, w.rng
	baseTime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var small, big []string
	for i := range nSmall {
		small = append(small, fmt.Sprintf("d%d/s%d/n%03d.md", rng.IntN(8), rng.IntN(3), i))
	}
	for i := range 4 {
		big = append(big, fmt.Sprintf("big/b%d.bin", i))
	}
	for i, p := range small {
		b := w.content("base "+p, 200+rng.IntN(6000))
		w.put(0, p, b, baseTime.Add(time.Duration(i)*time.Second))
		if first {
			switch r := rng.IntN(10); {
			case r < 2:
				w.put(1, p, b, time.Time{})
				w.fresh[1][p] = hashOf(b)
			case r < 3:
				w.edit(1, p, w.content("the server's own "+p, 200+rng.IntN(6000)))
			}
			w.fresh[0][p] = hashOf(b)
		}
	}
	for i, p := range big[:3] {
		b := w.bigContent("base " + p)
		w.put(0, p, b, baseTime.Add(time.Duration(i)*time.Minute))
		if first {
			w.fresh[0][p] = hashOf(b)
		}
	}
	if first {
		for i := range 20 {
			w.edit(1, fmt.Sprintf("d%d/from-server-%02d.md", rng.IntN(8), i), w.content("new on the server", 200+rng.IntN(4000)))
		}
		w.edit(1, big[3], w.bigContent("big, new on the server"))
		return
	}
	w.syncOK() // the base, through the healthy link

	for _, p := range small {
		switch r := rng.IntN(100); {
		case r < 8:
			w.edit(0, p, w.content("edit on local", 200+rng.IntN(6000)))
		case r < 16:
			w.edit(1, p, w.content("edit on the server", 200+rng.IntN(6000)))
		case r < 21:
			w.del(0, p)
			w.gone = append(w.gone, p)
		case r < 26:
			w.del(1, p)
			w.gone = append(w.gone, p)
		case r < 29:
			w.edit(0, p, w.content("conflict, local", 200+rng.IntN(6000)))
			w.edit(1, p, w.content("conflict, server", 200+rng.IntN(6000)))
		case r < 31:
			b := w.content("same edit on both", 200+rng.IntN(6000))
			w.edit(0, p, b)
			w.edit(1, p, b)
		case r < 33:
			w.edit(0, p, w.content("edit on local, deleted on the server", 200+rng.IntN(6000)))
			w.del(1, p)
		case r < 35:
			w.del(0, p)
			w.edit(1, p, w.content("deleted on local, edit on the server", 200+rng.IntN(6000)))
		case r < 37:
			w.del(0, p)
			w.del(1, p)
			w.gone = append(w.gone, p)
		case r < 39:
			later := time.Now().Add(-time.Duration(rng.IntN(1000)) * time.Second)
			if err := os.Chtimes(filepath.Join(w.local, filepath.FromSlash(p)), later, later); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.edit(0, big[0], w.bigContent("big edit on local"))
	w.edit(1, big[1], w.bigContent("big edit on the server"))
	w.edit(0, big[2], w.bigContent("big conflict, local"))
	w.edit(1, big[2], w.bigContent("big conflict, server"))
	w.edit(0, big[3], w.bigContent("big, new on local"))
	for i := range 10 {
		w.edit(0, fmt.Sprintf("d%d/new-local-%02d.md", rng.IntN(10), i), w.content("new on local", 200+rng.IntN(4000)))
		w.edit(1, fmt.Sprintf("d%d/new-server-%02d.md", rng.IntN(10), i), w.content("new on the server", 200+rng.IntN(4000)))
	}
	for i := range 3 {
		p := fmt.Sprintf("both/new-%d.md", i)
		w.edit(0, p, w.content("new on both, local", 300))
		w.edit(1, p, w.content("new on both, server", 300))
	}
}

// wrote records a content the user wrote.
func (w *wireWorld) wrote(b []byte) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	h := hashOf(b)
	w.versions[h] = userVersion{headline: string(line), size: len(b)}
	w.byHeadline[string(line)] = h
}

// scanLocal returns the local side's files, path -> content hash, without
// ferry's metaDir and temporary files.
func (w *wireWorld) scanLocal() map[string]string {
	files, _ := w.scanLocalAll()
	return files
}

func (w *wireWorld) scanLocalAll() (files map[string]string, temps []string) {
	w.t.Helper()
	return scanTree(w.t, w.local)
}

// scanRemote returns the server's files as the test lists them directly,
// without ferry's metaDir and temporary files.
func (w *wireWorld) scanRemote() map[string]string {
	files, _, _ := w.scanRemoteAll()
	return files
}

// scanRemoteAll lists every object in the server's folder and reads it:
// the files (path -> content hash), the temporary files of ferry's
// uploads, and the first line and size of each file, to name a bad one.
func (w *wireWorld) scanRemoteAll() (files map[string]string, temps []string, heads map[string]userVersion) {
	w.t.Helper()
	ctx := wireCtx(w.t)
	files, heads = map[string]string{}, map[string]userVersion{}
	err := walk.ListR(ctx, w.direct, "", true, -1, walk.ListObjects, func(entries rfs.DirEntries) error {
		for _, e := range entries {
			o, ok := e.(rfs.Object)
			if !ok {
				continue
			}
			p := o.Remote()
			if p == metaDir || strings.HasPrefix(p, metaDir+"/") {
				continue
			}
			if tempFile.MatchString(path.Base(p)) {
				temps = append(temps, fmt.Sprintf("%s (%d bytes)", p, o.Size()))
				continue
			}
			rc, err := o.Open(ctx)
			if err != nil {
				return fmt.Errorf("open %s: %w", p, err)
			}
			b, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			files[p] = hashOf(b)
			line, _, _ := bytes.Cut(b, []byte("\n"))
			heads[p] = userVersion{headline: string(line), size: len(b)}
		}
		return nil
	})
	if errors.Is(err, rfs.ErrorDirNotFound) {
		err = nil
	}
	if err != nil {
		w.t.Fatalf("listing the server's folder directly: %v", err)
	}
	return files, temps, heads
}

// check checks the sides after the healthy run: identical, every version
// the user wrote kept on both (under its path's family: conflict copies
// count), no deleted path back, every file on the server a whole version
// the user wrote, and a further run with nothing to do.
func (w *wireWorld) check() {
	t := w.t
	t.Helper()
	local, ltemps := w.scanLocalAll()
	remote, rtemps, heads := w.scanRemoteAll()
	if len(ltemps) > 0 {
		t.Logf("the local side keeps %d temporary file(s) of failed transfers: %q", len(ltemps), ltemps)
	}
	if len(rtemps) > 0 {
		t.Logf("the server keeps %d temporary file(s) of failed uploads (hidden from ferry's listing): %q", len(rtemps), rtemps)
	}
	if !maps.Equal(local, remote) {
		t.Errorf("the sides differ (- local only, + server only, ~ different):\n%s", treeDiff(local, remote))
	}
	for s, files := range []map[string]string{local, remote} {
		for _, p := range slices.Sorted(maps.Keys(files)) {
			h := files[p]
			if _, ok := w.versions[h]; ok {
				continue
			}
			what := "a content no user wrote"
			if hd, ok := heads[p]; ok && s == 1 {
				what += fmt.Sprintf(": %d bytes starting %q", hd.size, hd.headline)
				if vh, ok := w.byHeadline[hd.headline]; ok {
					what += fmt.Sprintf(", a cut copy of the user's version of %d bytes", w.versions[vh].size)
				}
			}
			t.Errorf("%s on %s holds %s", p, sideName(s), what)
		}
		fams := familiesOf(files)
		for from := range 2 {
			for p, h := range w.fresh[from] {
				if !slices.Contains(fams[p], h) {
					t.Errorf("%s's version %s of %s is missing on %s (it has %v)", sideName(from), h, p, sideName(s), fams[p])
				}
			}
		}
		for _, p := range w.gone {
			if v := fams[p]; len(v) > 0 {
				t.Errorf("%s was deleted and is back on %s: %v", p, sideName(s), v)
			}
		}
	}
	code, stdout, stderr, _ := w.ferry(false, append(w.syncArgs(), "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "ferry: in sync, nothing to do") {
		t.Errorf("a further run has work to do (exit status %d):\n%s\n%s", code, stdout, stderr)
	}
}

func sideName(s int) string {
	if s == 0 {
		return "the local side"
	}
	return "the server"
}
