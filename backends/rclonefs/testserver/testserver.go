// Package testserver starts real S3 and WebDAV servers on 127.0.0.1 for
// ferry's tests, and stops them when the test ends, passed or failed.
//
// The servers are installed and run by the scripts in scripts/testserver
// (one per kind, with install, start, stop and status: see
// scripts/testserver/lib.sh): installed once per machine into a cache
// folder, started on a free loopback port with their files in a fresh
// temporary folder, and waited for until they answer. A server that cannot
// be installed or started fails the test with the script's message; under
// go test -short the tests that need one are skipped.
//
// It imports no rclone package: it hands out rclone connection strings.
package testserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind names a server: the script scripts/testserver/<kind>.sh runs it.
type Kind string

const (
	// S3 is versitygw over a posix folder, with one bucket made through
	// S3. rclone: type s3, provider Other.
	S3 Kind = "s3"
	// WebDAVApache is Apache httpd with mod_dav_fs: no hashes, no
	// settable modification times. rclone: type webdav, vendor other.
	WebDAVApache Kind = "webdav-apache"
	// WebDAVRclone is rclone serve webdav with --etag-hash MD5: MD5
	// hashes and settable modification times, read as from ownCloud.
	// rclone: type webdav, vendor owncloud.
	WebDAVRclone Kind = "webdav-rclone"
)

// Kinds lists every kind of server.
var Kinds = []Kind{S3, WebDAVApache, WebDAVRclone}

// Param is one parameter of an rclone remote.
type Param struct{ Key, Value string }

// Server is a running server.
type Server struct {
	Kind Kind
	// Type is the rclone backend: "s3" or "webdav".
	Type string
	// Params are the remote's parameters as the script printed them
	// (endpoint or url, credentials, vendor, ...).
	Params []Param
	// Addr is the host:port that answers.
	Addr string
	// Path is the folder tests may use: on S3 the bucket.
	Path string

	script, state string
	stopOnce      sync.Once
	stopErr       error
}

// Start starts a server of the given kind for the test and returns the
// connection string of its test folder, such as
// ":s3,provider=Other,endpoint='http://127.0.0.1:40123',...:ferry". Append
// "/sub" for a folder of one's own.
func Start(t testing.TB, kind Kind) string {
	t.Helper()
	return StartServer(t, kind).Remote()
}

// StartServer starts a server of the given kind for the test; it is stopped
// and its files removed when the test and its subtests end.
func StartServer(t testing.TB, kind Kind) *Server {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: no real %s server", kind)
	}
	script, err := scriptPath(kind)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	// Its own temporary folder, not t.TempDir: Apache's workers run as
	// www-data when the tests run as root, and must reach the files.
	state, err := os.MkdirTemp("", "ferry-"+string(kind)+"-")
	if err == nil {
		err = os.Chmod(state, 0o755)
	}
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(state); err != nil {
			t.Errorf("testserver: removing %s: %v", state, err)
		}
	})
	s := &Server{Kind: kind, script: script, state: state}

	var out []byte
	for attempt := 1; ; attempt++ {
		port, perr := freePort()
		if perr != nil {
			t.Fatalf("testserver: no free port on 127.0.0.1: %v", perr)
		}
		var stderr string
		out, stderr, err = s.run(15*time.Minute, []string{"PORT=" + strconv.Itoa(port)}, "start")
		if err == nil {
			break
		}
		// Another process may have taken the port between freePort
		// and the server's bind.
		if attempt < 3 && strings.Contains(strings.ToLower(stderr), "in use") {
			continue
		}
		t.Fatalf("testserver: cannot start the %s server (%s start): %v\n%s", kind, script, err, stderr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.logTail(t)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("testserver: %v", err)
		}
	})
	if err := s.parse(out); err != nil {
		t.Fatalf("testserver: %s start: %v\n%s", script, err, out)
	}
	if err := waitHTTP(s.Addr, 30*time.Second); err != nil {
		t.Fatalf("testserver: the %s server started but does not answer: %v", kind, err)
	}
	return s
}

// Remote returns the connection string of the server's test folder, with
// the parameters in override replacing the server's own of the same key or
// added after them. Values holding characters that would end a parameter
// (":", ",", quotes) are quoted.
func (s *Server) Remote(override ...Param) string {
	params := append([]Param(nil), s.Params...)
	for _, o := range override {
		found := false
		for i := range params {
			if params[i].Key == o.Key {
				params[i].Value, found = o.Value, true
			}
		}
		if !found {
			params = append(params, o)
		}
	}
	var b strings.Builder
	b.WriteString(":" + s.Type)
	for _, p := range params {
		b.WriteString("," + p.Key + "=" + Quote(p.Value))
	}
	b.WriteString(":" + s.Path)
	return b.String()
}

// Param returns the value of the server's parameter key, "" if it has none.
func (s *Server) Param(key string) string {
	for _, p := range s.Params {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}

// Stop stops the server now, for a test of what a client does when its
// server is gone. It is called again, harmlessly, when the test ends.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if _, stderr, err := s.run(time.Minute, nil, "stop"); err != nil {
			s.stopErr = fmt.Errorf("stopping the %s server: %v\n%s", s.Kind, err, stderr)
		}
	})
	return s.stopErr
}

// Quote quotes a connection-string parameter value as rclone reads it,
// where it would otherwise end the parameter.
func Quote(v string) string {
	if v != "" && !strings.ContainsAny(v, `,:'"`) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// run runs the server's script with cmd and the state folder, and env
// added to the environment.
func (s *Server) run(timeout time.Duration, env []string, cmd string) (stdout []byte, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", s.script, cmd, s.state)
	// The owner: the script's watchdog stops the server when this
	// process ends without running the test's cleanup (killed by a
	// timeout, say).
	c.Env = append(os.Environ(), "FERRY_TEST_OWNER="+strconv.Itoa(os.Getpid()))
	c.Env = append(c.Env, env...)
	var errBuf bytes.Buffer
	c.Stderr = &errBuf
	// The script's servers run on in the background with their own
	// output; should one hold the pipes, do not wait for it.
	c.WaitDelay = 5 * time.Second
	stdout, err = c.Output()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (after %v)", err, timeout)
	}
	return stdout, strings.TrimSpace(errBuf.String()), err
}

// parse reads the script's key=value lines.
func (s *Server) parse(out []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || key == "" {
			continue
		}
		switch key {
		case "type":
			s.Type = value
		case "_connect":
			s.Addr = value
		case "_path":
			s.Path = value
		default:
			if strings.HasPrefix(key, "_") {
				continue // for a later version of the protocol
			}
			s.Params = append(s.Params, Param{key, value})
		}
	}
	switch {
	case s.Type == "":
		return errors.New("no type= line")
	case s.Addr == "":
		return errors.New("no _connect= line")
	}
	if host, _, err := net.SplitHostPort(s.Addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("_connect=%s is not a loopback address", s.Addr)
	}
	return nil
}

// logTail shows the end of the server's logs, for a test that failed.
func (s *Server) logTail(t testing.TB) {
	for _, name := range []string{"server.log", "error.log"} {
		b, err := os.ReadFile(filepath.Join(s.state, name))
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 30 {
			lines = lines[len(lines)-30:]
		}
		t.Logf("testserver: the end of the %s server's %s:\n%s", s.Kind, name, strings.Join(lines, "\n"))
	}
}

// waitHTTP waits until addr answers an HTTP request, whatever the status.
func waitHTTP(addr string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
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

// scriptPath finds scripts/testserver/<kind>.sh of the source tree this
// package was built from, or of the module around the working directory.
func scriptPath(kind Kind) (string, error) {
	rel := filepath.Join("scripts", "testserver", string(kind)+".sh")
	var tried []string
	if _, file, _, ok := runtime.Caller(0); ok {
		// backends/rclonefs/testserver/testserver.go
		p := filepath.Join(filepath.Dir(file), "..", "..", "..", rel)
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
		tried = append(tried, p)
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no script for server kind %q (looked for %s)", kind, strings.Join(tried, ", "))
}
