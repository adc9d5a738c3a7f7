package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		method, target, header, want string
	}{
		{"PROPFIND", "/ferry/bench/Notes/", "", "PROPFIND"},
		{"GET", "/ferry?list-type=2&prefix=bench%2F", "", classList},
		{"GET", "/ferry/bench/a.md", "", "GET"},
		{"PUT", "/ferry/bench/b.md", "ferry/bench/a.md", classCopy},
		{"PUT", "/ferry/bench/b.md", "", "PUT"},
		{"POST", "/ferry?delete", "", classDelete},
		{"PUT", "/ferry/bench/.ferry/deletions", "", "PUT" + metaSuffix},
		{"PROPFIND", "/ferry/bench/.ferry/", "", "PROPFIND" + metaSuffix},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.header != "" {
			r.Header.Set("X-Amz-Copy-Source", tc.header)
		}
		if got := classify(r); got != tc.want {
			t.Errorf("classify(%s %s) = %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}

func TestTraffic(t *testing.T) {
	before := traffic{"PROPFIND": {10, 0, 500}, "PUT": {1, 100, 0}}
	after := traffic{"PROPFIND": {14, 0, 700}, "PUT": {1, 100, 0}, "MOVE": {1, 0, 0}}
	d := after.sub(before)
	if got, want := d.mix(), "PROPFIND 4, MOVE 1"; got != want {
		t.Errorf("mix = %q, want %q", got, want)
	}
	if tot := d.total(); tot != (flow{5, 0, 200}) {
		t.Errorf("total = %+v", tot)
	}
	if n := listings(d); n != 4 {
		t.Errorf("listings = %d, want 4", n)
	}
	if n := perFile(d); n != 1 {
		t.Errorf("perFile = %d, want 1", n)
	}
}

// TestProxy: the proxy counts requests and body bytes, and passes the
// client's Host header on, which S3's signatures and WebDAV's Destination
// headers depend on.
func TestProxy(t *testing.T) {
	var host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "twelve bytes")
	}))
	defer srv.Close()
	p, err := startProxy("test", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	req, err := http.NewRequest(http.MethodPut, "http://"+p.addr+"/ferry/a.md", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if host != p.addr {
		t.Errorf("the server saw Host %q, want the proxy's %q", host, p.addr)
	}
	if got, want := p.snapshot()["PUT"], (flow{1, 5, 12}); got != want {
		t.Errorf("PUT traffic = %+v, want %+v", got, want)
	}
}

// TestProxyClientGone: a request whose client goes away in mid-answer is
// counted, and snapshot does not wait for it forever.
func TestProxyClientGone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// More than the proxy buffers, so that the client has the
		// answer's head and start, then nothing more.
		w.Header().Set("Content-Length", "1000000")
		_, _ = w.Write(make([]byte, 64<<10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	p, err := startProxy("test", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/ferry/big.png", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadFull(resp.Body, make([]byte, 100))
	cancel()
	resp.Body.Close()
	done := make(chan traffic)
	go func() { done <- p.snapshot() }()
	select {
	case tr := <-done:
		if n := tr["GET"].requests; n != 1 {
			t.Errorf("GET requests = %d, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("snapshot still waits for the abandoned request")
	}
}
