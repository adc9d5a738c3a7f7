package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The S3 and WebDAV servers of the remote and rename scenarios are the test
// suite's own: scripts/testserver/KIND.sh installs one into the test cache
// and starts it on 127.0.0.1 (the protocol is in scripts/testserver/lib.sh;
// backends/rclonefs/testserver runs the same scripts for go test, but needs
// a testing.TB). Each one is reached through a countingProxy, so that the
// harness knows how many requests of which kind a run made and how many
// bytes it sent.

// serverKinds are the servers the scripts know, in the order they run.
var serverKinds = []string{"s3", "webdav-rclone", "webdav-apache"}

// server is a running test server behind its counting proxy.
type server struct {
	kind   string
	script string
	// state holds the server's files: what a client writes under the
	// folder f is in data/<path>/f (a bucket on S3), for every kind.
	state string
	// typ and params are the rclone remote as the script printed it.
	typ    string
	params [][2]string
	addr   string // host:port of the server itself
	path   string // the folder (the bucket on S3) clients may use
	proxy  *countingProxy
}

// startServer starts the server of kind with the script under module and a
// counting proxy in front of it. The server stops when stop is called, or,
// through the script's watchdog, when this process ends without calling it.
func startServer(module, kind string) (*server, error) {
	script, err := filepath.Abs(filepath.Join(module, "scripts", "testserver", kind+".sh"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("server %s: %w", kind, err)
	}
	// Under the system's temporary folder, not the benchmark's: Apache's
	// workers run as www-data when the harness runs as root, and must
	// reach the files (the cache is under a home that may be closed).
	state, err := os.MkdirTemp("", "ferry-bench-"+kind+"-")
	if err == nil {
		err = os.Chmod(state, 0o755)
	}
	if err != nil {
		return nil, err
	}
	s := &server{kind: kind, script: script, state: state}
	var out []byte
	for attempt := 1; ; attempt++ {
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		var stderr string
		out, stderr, err = s.runScript(15*time.Minute, "start", "PORT="+strconv.Itoa(port))
		// Another process may have taken the port between freePort
		// and the server's bind.
		if err == nil || attempt == 3 || !strings.Contains(strings.ToLower(stderr), "in use") {
			if err != nil {
				err = fmt.Errorf("%s start: %w: %s", script, err, stderr)
			}
			break
		}
	}
	if err == nil {
		err = s.parse(out)
	}
	if err == nil {
		s.proxy, err = startProxy(kind, s.addr)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("server %s: %w", kind, err), s.stop())
	}
	return s, nil
}

// stop stops the proxy and the server and removes the server's files.
func (s *server) stop() error {
	var errs []error
	if s.proxy != nil {
		errs = append(errs, s.proxy.close())
	}
	if _, stderr, err := s.runScript(time.Minute, "stop"); err != nil {
		errs = append(errs, fmt.Errorf("%s stop: %w: %s", s.script, err, stderr))
	}
	errs = append(errs, os.RemoveAll(s.state))
	return errors.Join(errs...)
}

// runScript runs the server's script with cmd and its state folder.
func (s *server) runScript(timeout time.Duration, cmd string, env ...string) (stdout []byte, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", s.script, cmd, s.state)
	// The owner: the script's watchdog stops the server when the harness
	// dies without stopping it (Ctrl-C, say).
	c.Env = append(os.Environ(), "FERRY_TEST_OWNER="+strconv.Itoa(os.Getpid()))
	c.Env = append(c.Env, env...)
	var errBuf bytes.Buffer
	c.Stderr = &errBuf
	// The server runs on in the background; should it hold the pipes, do
	// not wait for it.
	c.WaitDelay = 5 * time.Second
	stdout, err = c.Output()
	return stdout, strings.TrimSpace(errBuf.String()), err
}

// parse reads the key=value lines the script's start prints.
func (s *server) parse(out []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		switch {
		case !ok || key == "":
		case key == "type":
			s.typ = value
		case key == "_connect":
			s.addr = value
		case key == "_path":
			s.path = value
		case strings.HasPrefix(key, "_"): // for a later version of the protocol
		default:
			s.params = append(s.params, [2]string{key, value})
		}
	}
	host, _, err := net.SplitHostPort(s.addr)
	switch {
	case s.typ == "" || s.addr == "":
		return fmt.Errorf("no type= or _connect= line in %q", out)
	case err != nil || !net.ParseIP(host).IsLoopback():
		return fmt.Errorf("_connect=%s is not a loopback address", s.addr)
	}
	return nil
}

// confSection is the server's remote in rclone.conf, named after its kind,
// with its address replaced by the proxy's.
func (s *server) confSection() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\ntype = %s\n", s.kind, s.typ)
	for _, p := range s.params {
		v := p[1]
		if p[0] == "endpoint" || p[0] == "url" {
			if u, err := url.Parse(v); err == nil && u.Host != "" {
				u.Host = s.proxy.addr
				v = u.String()
			}
		}
		fmt.Fprintf(&b, "%s = %s\n", p[0], v)
	}
	if s.typ == "webdav" {
		// rclone's WebDAV client spaces its requests at least 10 ms
		// apart by default, which on loopback would be most of what is
		// measured (the wire tests lower it the same way).
		b.WriteString("pacer_min_sleep = 1ms\n")
	}
	return b.String()
}

// remote is the rclone path of folder on the server, through the proxy.
func (s *server) remote(folder string) string {
	return s.kind + ":" + s.path + "/" + folder
}

// dataDir is where the server keeps what clients write under folder, read
// directly to check a run's outcome without going through ferry or rclone.
func (s *server) dataDir(folder string) string {
	return filepath.Join(s.state, "data", s.path, filepath.FromSlash(folder))
}

// freePort returns a loopback port that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// flow counts the requests of one class and the bytes of their bodies.
type flow struct {
	requests int64
	sent     int64 // request bodies, client to server
	received int64 // response bodies, server to client
}

// traffic is what went through a proxy, by request class (see classify).
type traffic map[string]flow

// sub returns t less what an earlier snapshot of the same proxy held.
func (t traffic) sub(earlier traffic) traffic {
	d := traffic{}
	for k, f := range t {
		e := earlier[k]
		if f.requests != e.requests {
			d[k] = flow{f.requests - e.requests, f.sent - e.sent, f.received - e.received}
		}
	}
	return d
}

// total sums the classes.
func (t traffic) total() flow {
	var s flow
	for _, f := range t {
		s.requests += f.requests
		s.sent += f.sent
		s.received += f.received
	}
	return s
}

// Request classes that are not a bare HTTP method.
const (
	classList   = "GET list"    // S3 ListObjects
	classCopy   = "PUT copy"    // S3 server-side copy (x-amz-copy-source)
	classDelete = "POST delete" // S3 DeleteObjects: a batch of keys to delete
	// metaSuffix follows the method of a request for a file of ferry's
	// own folder on the side (.ferry/format, .ferry/deletions): not a
	// user's file, and read or written once per run, not per file.
	metaSuffix = " .ferry/"
)

// listing reports whether a request class lists a folder rather than
// touching one object: WebDAV's PROPFIND (depth 1, one per folder, or 0 on
// the root when a client opens it) and S3's ListObjects (up to 1,000 keys
// each).
func listing(class string) bool { return class == "PROPFIND" || class == classList }

// sendsContent reports whether a request class sends the content of a user's
// file: a PUT that is neither S3's server-side copy nor one of ferry's own
// files (WebDAV's COPY and MOVE have no body), or a POST other than S3's
// batch deletion. Those other POSTs start and end S3's multipart uploads,
// whose small bodies are no content, but are counted with it so that the
// figure errs on the high side.
func sendsContent(class string) bool { return class == "PUT" || class == "POST" }

// ferryOwn reports whether a request class is about ferry's own files.
func ferryOwn(class string) bool { return strings.HasSuffix(class, metaSuffix) }

// classify names what a request does.
func classify(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return classCopy
	case r.Method == http.MethodGet && (q.Has("list-type") || q.Has("delimiter") || q.Has("prefix")):
		return classList
	case r.Method == http.MethodPost && q.Has("delete"):
		return classDelete
	case strings.Contains(r.URL.Path, "/.ferry/"):
		return r.Method + metaSuffix
	}
	return r.Method
}

// countingProxy is a reverse proxy on 127.0.0.1 that counts the requests
// it passes to one server and the bytes of their bodies. It keeps the
// client's Host header, so that S3's signatures and WebDAV's Destination
// headers, made for the proxy's address, still match.
type countingProxy struct {
	addr     string
	srv      *http.Server
	mu       sync.Mutex
	idle     *sync.Cond // broadcast when inflight falls to 0
	inflight int
	seen     traffic
}

// startProxy starts a proxy for the server of kind at target.
func startProxy(kind, target string) (*countingProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{addr: l.Addr().String(), seen: traffic{}}
	p.idle = sync.NewCond(&p.mu)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	// Keep connections to the server open between requests, as many as a
	// client runs at once (the default keeps two).
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
	// Its errors are mostly a client that went away in mid-answer; say
	// whose they are.
	rp.ErrorLog = log.New(os.Stderr, "benchtool: the proxy of "+kind+": ", log.LstdFlags)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class := classify(r)
		p.mu.Lock()
		p.inflight++
		p.mu.Unlock()
		var sent int64
		if r.Body != nil {
			r.Body = &countingReader{r: r.Body, n: &sent}
		}
		cw := &countingWriter{ResponseWriter: w}
		// Deferred: the reverse proxy panics with http.ErrAbortHandler
		// when the client goes away in mid-answer.
		defer func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			f := p.seen[class]
			p.seen[class] = flow{f.requests + 1, f.sent + atomic.LoadInt64(&sent), f.received + cw.n}
			if p.inflight--; p.inflight == 0 {
				p.idle.Broadcast()
			}
		}()
		rp.ServeHTTP(cw, r)
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// snapshot returns what went through the proxy so far, once the requests
// in flight have ended: a client that has exited had all its answers, but
// the proxy may not have counted the last of them yet.
func (p *countingProxy) snapshot() traffic {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inflight > 0 {
		p.idle.Wait()
	}
	return maps.Clone(p.seen)
}

func (p *countingProxy) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

type countingReader struct {
	r io.ReadCloser
	n *int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	atomic.AddInt64(c.n, int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Unwrap lets the reverse proxy flush the response it streams.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// mix shows a traffic's classes, the most requests first: "PROPFIND 178,
// MOVE 1".
func (t traffic) mix() string {
	classes := slices.Collect(maps.Keys(t))
	slices.SortFunc(classes, func(a, b string) int {
		if d := t[b].requests - t[a].requests; d != 0 {
			return int(d)
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, c := range classes {
		parts = append(parts, fmt.Sprintf("%s %d", c, t[c].requests))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
