package testserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer is a loopback HTTP server behind a FaultProxy: GET /small
// and GET /big return known bytes, PUT returns the length and hash of the
// body it read, and it counts the requests that reached it and the bodies
// that ended early.
type echoServer struct {
	srv *httptest.Server
	big []byte

	mu        sync.Mutex
	requests  int
	cutBodies int
}

func newEchoServer(t *testing.T) *echoServer {
	t.Helper()
	e := &echoServer{big: make([]byte, 1<<20)}
	for i := range e.big {
		e.big[i] = byte(i*7 + i>>9)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.requests++
		e.mu.Unlock()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/small":
			_, _ = io.WriteString(w, "small answer")
		case r.Method == http.MethodGet && r.URL.Path == "/big":
			w.Header().Set("Content-Length", strconv.Itoa(len(e.big)))
			_, _ = w.Write(e.big)
		case r.Method == http.MethodPut:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				e.mu.Lock()
				e.cutBodies++
				e.mu.Unlock()
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%d %s", len(b), sum(b))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *echoServer) counts() (requests, cut int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests, e.cutBodies
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// exchange is one request through the proxy and what must come back.
type exchange struct {
	name   string
	method string
	path   string
	body   []byte
	// chunked sends the body without a length; expect with Expect:
	// 100-continue.
	chunked, expect bool
}

func exchanges(big []byte) []exchange {
	put := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	return []exchange{
		{name: "GET small", method: "GET", path: "/small"},
		{name: "GET big", method: "GET", path: "/big"},
		{name: "PUT small", method: "PUT", path: "/f", body: []byte("hello")},
		{name: "PUT big", method: "PUT", path: "/f", body: put},
		{name: "PUT chunked", method: "PUT", path: "/f", body: put[:70000], chunked: true},
		{name: "PUT expect", method: "PUT", path: "/f", body: put, expect: true},
		{name: "PUT empty", method: "PUT", path: "/f", body: []byte{}},
	}
}

// do runs x through the proxy with client; it returns the status and an
// error for a transport failure or a wrong answer to a 200.
func (e *echoServer) do(client *http.Client, proxy *FaultProxy, x exchange) (int, error) {
	var body io.Reader
	if x.body != nil {
		body = bytes.NewReader(x.body)
		if x.chunked {
			body = io.MultiReader(body) // hides the length: chunked
		}
	}
	req, err := http.NewRequest(x.method, "http://"+proxy.Addr+x.path, body)
	if err != nil {
		return 0, err
	}
	if x.expect {
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	var want []byte
	switch {
	case x.path == "/small":
		want = []byte("small answer")
	case x.path == "/big":
		want = e.big
	default:
		want = fmt.Appendf(nil, "%d %s", len(x.body), sum(x.body))
	}
	if !bytes.Equal(got, want) {
		return resp.StatusCode, fmt.Errorf("answer of %d bytes differs from the %d expected", len(got), len(want))
	}
	return resp.StatusCode, nil
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func TestFaultProxyHealthy(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 1)
	client := newClient(t)
	xs := exchanges(e.big)
	for i := range 3 * len(xs) {
		x := xs[i%len(xs)]
		if code, err := e.do(client, p, x); err != nil || code != 200 {
			t.Fatalf("%s through a healthy proxy: status %d, %v", x.name, code, err)
		}
	}
	st := p.Stats()
	t.Log(st)
	if st.Faults() != 0 || st.Requests != 3*len(xs) {
		t.Errorf("healthy proxy: %v; want %d requests and no fault", st, 3*len(xs))
	}
	if st.Conns > 2 {
		t.Errorf("%d connections for requests one at a time: keep-alive is broken", st.Conns)
	}
}

func TestFaultProxyErrors(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 2)
	p.Set(Faults{Error: 1})
	client := newClient(t)
	statuses := map[int]int{}
	for i, x := range slices.Concat(exchanges(e.big), exchanges(e.big), exchanges(e.big)) {
		code, err := e.do(client, p, x)
		if err != nil {
			t.Fatalf("request %d, %s: %v; want an answer of 500 or 503", i, x.name, err)
		}
		statuses[code]++
	}
	if len(statuses) != 2 || statuses[500] == 0 || statuses[503] == 0 {
		t.Errorf("statuses %v, want 500s and 503s only", statuses)
	}
	if n, _ := e.counts(); n != 0 {
		t.Errorf("%d requests reached the server; the proxy should have answered them all", n)
	}
	st := p.Stats()
	if st.Errors != st.Requests {
		t.Errorf("%v: want every request answered by the proxy", st)
	}

	// Healthy again: requests reach the server.
	p.Healthy()
	for _, x := range exchanges(e.big) {
		if code, err := e.do(client, p, x); err != nil || code != 200 {
			t.Fatalf("%s after Healthy: status %d, %v", x.name, code, err)
		}
	}
}

// TestFaultProxyResets: every request's connection is reset somewhere;
// the client sees transport errors (or, for a point past the end of a
// response, a whole answer, never a wrong one), and some uploads reach
// the server cut short.
func TestFaultProxyResets(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 3)
	p.Set(Faults{Reset: 1})
	client := newClient(t)
	var failed int
	for range 8 {
		for _, x := range exchanges(e.big) {
			code, err := e.do(client, p, x)
			switch {
			case err != nil && strings.Contains(err.Error(), "differs"):
				t.Errorf("%s: %v", x.name, err)
			case err != nil:
				// A reset, an EOF, or a response head cut short.
				failed++
			case code != 200:
				t.Errorf("%s: status %d", x.name, code)
			}
		}
	}
	st := p.Stats()
	t.Logf("%v; %d requests failed", st, failed)
	if failed == 0 || st.Resets == 0 {
		t.Errorf("no request failed: %v", st)
	}
	if _, cut := e.counts(); cut == 0 {
		t.Errorf("no upload reached the server cut short")
	}
	p.Healthy()
	for _, x := range exchanges(e.big) {
		if code, err := e.do(client, p, x); err != nil || code != 200 {
			t.Fatalf("%s after Healthy: status %d, %v", x.name, code, err)
		}
	}
}

func TestFaultProxyStalls(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 4)
	const stall = 200 * time.Millisecond
	p.Set(Faults{Stall: 1, StallFor: stall})
	client := newClient(t)
	start := time.Now()
	for _, x := range exchanges(e.big) {
		if code, err := e.do(client, p, x); err != nil || code != 200 {
			t.Fatalf("%s through stalls that go on: status %d, %v", x.name, code, err)
		}
	}
	took := time.Since(start)
	st := p.Stats()
	t.Logf("%v in %v", st, took)
	if st.Stalls == 0 || took < time.Duration(st.Stalls)*stall/2 {
		t.Errorf("%v in %v: want stalls of at least %v each", st, took, stall/2)
	}

	// Stalls that end in a reset fail the requests they hit.
	p.Set(Faults{Stall: 1, StallFor: 20 * time.Millisecond, StallClose: 1})
	var failed int
	for _, x := range exchanges(e.big) {
		if _, err := e.do(client, p, x); err != nil {
			failed++
		}
	}
	if st := p.Stats(); failed == 0 || st.StallRST == 0 {
		t.Errorf("%v, %d requests failed: want stalls that reset", st, failed)
	}
}

func TestFaultProxyRefuse(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 5)
	p.Set(Faults{Refuse: 1})
	client := newClient(t)
	if _, err := e.do(client, p, exchange{name: "GET", method: "GET", path: "/small"}); err == nil {
		t.Error("a request on a refused connection succeeded")
	}
	if st := p.Stats(); st.Refused == 0 || st.Requests != 0 {
		t.Errorf("%v: want refused connections and no request read", st)
	}
	if n, _ := e.counts(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// TestFaultProxyFlaky runs requests from several goroutines through a
// flaky proxy: every answer is either an error or right, and the proxy
// closes cleanly with requests in flight.
func TestFaultProxyFlaky(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 6)
	p.Set(Flaky(0.5, 50*time.Millisecond))
	client := newClient(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				x := exchanges(e.big)[(g+i)%7]
				code, err := e.do(client, p, x)
				mu.Lock()
				switch {
				case err != nil && strings.Contains(err.Error(), "differs"):
					t.Errorf("%s: %v", x.name, err)
				case err != nil:
					outcomes["error"]++
				default:
					outcomes[strconv.Itoa(code)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st := p.Stats()
	t.Logf("%v; outcomes %v", st, outcomes)
	if outcomes["200"] == 0 || outcomes["error"]+outcomes["500"]+outcomes["503"] == 0 {
		t.Errorf("outcomes %v: want successes and failures", outcomes)
	}
	p.Close()
	if _, err := e.do(client, p, exchange{name: "GET", method: "GET", path: "/small"}); err == nil {
		t.Error("a request through a closed proxy succeeded")
	}
}

// TestFaultProxySeed: the same seed plans the same faults.
func TestFaultProxySeed(t *testing.T) {
	plans := func(seed uint64) string {
		p := &FaultProxy{rng: newRand(seed), faults: Flaky(0.5, time.Second)}
		var b strings.Builder
		for i := range 200 {
			f, status := p.plan("PUT", int64(i*100))
			if f != nil {
				fmt.Fprintf(&b, "%d:%d/%d/%d/%v/%v ", i, f.kind, f.at, f.offset, f.stall, f.thenRS)
			} else {
				fmt.Fprintf(&b, "%d:%d ", i, status)
			}
		}
		return b.String()
	}
	if a, b := plans(7), plans(7); a != b {
		t.Errorf("seed 7 plans differently twice:\n%s\n%s", a, b)
	}
	if a, b := plans(7), plans(8); a == b {
		t.Errorf("seeds 7 and 8 plan the same faults")
	}
}

// TestFaultProxyTargeted: Methods, At and Max aim the faults at one
// request: here the first PUT loses its answer after the server stored it.
func TestFaultProxyTargeted(t *testing.T) {
	e := newEchoServer(t)
	p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 9)
	p.Set(Faults{Reset: 1, At: BeforeResponse, Methods: []string{"PUT"}, Max: 1})
	client := newClient(t)
	get := exchange{name: "GET", method: "GET", path: "/small"}
	put := exchange{name: "PUT", method: "PUT", path: "/f", body: []byte("x")}
	for i, x := range []exchange{get, put, get, put} {
		_, err := e.do(client, p, x)
		if fail := i == 1; (err != nil) != fail {
			t.Errorf("request %d, %s: error %v, want one for the first PUT only", i, x.name, err)
		}
	}
	if n, _ := e.counts(); n != 4 {
		t.Errorf("%d requests reached the server, want 4 (the first PUT too, its answer lost)", n)
	}
	if st := p.Stats(); st.Resets != 1 || st.Faults() != 1 {
		t.Errorf("%v: want one reset", st)
	}
}

// TestFaultProxyLate: a request stalled on its way to the server, whose
// client gives up during the stall, is dropped; with Late it reaches the
// server after the stall.
func TestFaultProxyLate(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("late=%v", late), func(t *testing.T) {
			e := newEchoServer(t)
			p := StartFaultProxy(t, e.srv.Listener.Addr().String(), 10)
			const stall = 400 * time.Millisecond
			p.Set(Faults{Stall: 1, StallFor: stall, At: BeforeRequest, Late: late, Max: 1})
			impatient := &http.Client{Transport: &http.Transport{}, Timeout: 100 * time.Millisecond}
			put := exchange{name: "PUT", method: "PUT", path: "/f", body: []byte("late")}
			if _, err := e.do(impatient, p, put); err == nil {
				t.Fatal("the client did not give up during the stall")
			}
			time.Sleep(stall + 300*time.Millisecond)
			n, _ := e.counts()
			st := p.Stats()
			if late && (n != 1 || st.Stalls != 1) {
				t.Errorf("late: %d requests reached the server, %v; want the stalled one, late", n, st)
			}
			if !late && (n != 0 || st.Dropped != 1) {
				t.Errorf("not late: %d requests reached the server, %v; want it dropped", n, st)
			}
			// A stall the client waits out goes on either way.
			p.Set(Faults{Stall: 1, StallFor: 100 * time.Millisecond, At: BeforeRequest, Late: late})
			if code, err := e.do(newClient(t), p, put); err != nil || code != 200 {
				t.Errorf("a patient client: status %d, %v", code, err)
			}
		})
	}
}

func TestFaultProxyLoopbackOnly(t *testing.T) {
	for _, target := range []string{"192.0.2.1:80", "example.com:80", "[2001:db8::1]:80", "127.0.0.1"} {
		if p, err := NewFaultProxy(target, 1); err == nil {
			p.Close()
			t.Errorf("NewFaultProxy(%q) accepted a target off the loopback", target)
		}
	}
}

func TestFaultProxyRemote(t *testing.T) {
	p := &FaultProxy{Addr: "127.0.0.1:7777"}
	s3 := &Server{Type: "s3", Path: "ferry", Params: []Param{{"provider", "Other"}, {"endpoint", "http://127.0.0.1:1234"}}}
	if got, want := p.Remote(s3), ":s3,provider=Other,endpoint='http://127.0.0.1:7777':ferry"; got != want {
		t.Errorf("Remote(s3) = %q, want %q", got, want)
	}
	dav := &Server{Type: "webdav", Path: "ferry", Params: []Param{{"url", "http://127.0.0.1:1234/dav/"}, {"vendor", "other"}}}
	if got, want := p.Remote(dav, Param{"vendor", "owncloud"}), ":webdav,url='http://127.0.0.1:7777/dav/',vendor=owncloud:ferry"; got != want {
		t.Errorf("Remote(dav) = %q, want %q", got, want)
	}
}
