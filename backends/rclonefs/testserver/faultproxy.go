package testserver

// A TCP proxy on 127.0.0.1 that stands between a client and a test server
// and breaks the link on purpose: issue 5's "faults on the wire".

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Faults says how often, where and to which requests a FaultProxy breaks
// the link. Probabilities are in [0, 1]; the zero value is a healthy link.
type Faults struct {
	// Refuse is the share of new connections reset (RST) as soon as they
	// are accepted, before the client's first request.
	Refuse float64
	// Error is the share of requests the proxy answers itself, without
	// forwarding them, with 500 Internal Server Error or 503 Service
	// Unavailable (one or the other at random). The answer closes the
	// connection.
	Error float64
	// Reset is the share of requests whose connection is reset (RST to
	// the client and to the server) at their fault point.
	Reset float64
	// Stall is the share of requests whose traffic stops at their fault
	// point for a time between StallFor/2 and StallFor; then it goes on,
	// or, for a share StallClose of the stalls, the connection is reset.
	Stall      float64
	StallFor   time.Duration
	StallClose float64
	// Late delivers a request stalled on its way to the server after the
	// stall even when its client gave up meanwhile, as TCP does with
	// what a client wrote before it closed once a broken path recovers,
	// or a queueing intermediary does: the server then carries out a
	// request the client has already retried. Without Late, such a
	// request is dropped (both connections reset) when its client has
	// closed during the stall.
	Late bool

	// At is where in an exchange resets and stalls happen; AnyPoint
	// draws one for each request. A request without a body has no
	// InRequestBody point: with At InRequestBody it gets no fault.
	At Point
	// CutWithin, when positive, puts a fault at InResponse within the
	// answer's first CutWithin bytes, in its head for a small value;
	// else anywhere from its status line to a few MiB into a body.
	CutWithin int64
	// Methods, when set, limits the faults (errors, resets, stalls) to
	// requests of these methods ("MOVE", "PUT", ...).
	Methods []string
	// Max, when positive, stops the faults after that many (refused
	// connections included) from the Set that set it.
	Max int
}

// Point is where in a request's exchange a fault happens.
type Point int

const (
	AnyPoint Point = iota
	// BeforeRequest: nothing of the request has reached the server.
	BeforeRequest
	// InRequestBody: part of the request's body has reached the server.
	InRequestBody
	// BeforeResponse: the server has the whole request (and may have
	// carried it out), none of its answer has reached the client.
	BeforeResponse
	// InResponse: part of the answer has reached the client.
	InResponse
)

// Flaky returns faults on a share p of the requests, spread over errors,
// resets and stalls: p/2 errors, p/4 resets and p/4 stalls of up to
// stall, a third of which end in a reset. One connection in ten of p is
// refused.
func Flaky(p float64, stall time.Duration) Faults {
	return Faults{
		Refuse:     p / 10,
		Error:      p / 2,
		Reset:      p / 4,
		Stall:      p / 4,
		StallFor:   stall,
		StallClose: 1.0 / 3,
	}
}

// FaultStats counts what a FaultProxy saw and did.
type FaultStats struct {
	Conns    int // connections accepted
	Requests int // request heads read from clients
	Refused  int // connections reset when accepted
	Errors   int // requests answered with 500 or 503
	Resets   int // connections reset at a request's fault point
	Stalls   int // stalls that went on afterwards
	StallRST int // stalls that ended in a reset
	Dropped  int // stalled requests dropped because their client had gone
	Missed   int // faults planned for a point past the end of the response
}

// Faults is the number of faults the proxy caused.
func (s FaultStats) Faults() int {
	return s.Refused + s.Errors + s.Resets + s.Stalls + s.StallRST + s.Dropped
}

// Sub returns the counts of s since earlier counts of the same proxy.
func (s FaultStats) Sub(earlier FaultStats) FaultStats {
	return FaultStats{
		Conns: s.Conns - earlier.Conns, Requests: s.Requests - earlier.Requests,
		Refused: s.Refused - earlier.Refused, Errors: s.Errors - earlier.Errors,
		Resets: s.Resets - earlier.Resets, Stalls: s.Stalls - earlier.Stalls,
		StallRST: s.StallRST - earlier.StallRST, Dropped: s.Dropped - earlier.Dropped,
		Missed: s.Missed - earlier.Missed,
	}
}

func (s FaultStats) String() string {
	return fmt.Sprintf("%d connections, %d requests: %d refused, %d answered 500/503, %d reset, %d stalled then went on, %d stalled then reset, %d stalled and dropped (%d faults planned past a response's end)",
		s.Conns, s.Requests, s.Refused, s.Errors, s.Resets, s.Stalls, s.StallRST, s.Dropped, s.Missed)
}

// FaultProxy forwards TCP connections from a loopback port to a loopback
// server, reading just enough of the HTTP/1.1 requests that pass (the
// head; the body by Content-Length or chunked) to break the link at
// chosen points of chosen requests. Responses are forwarded as they come.
// The faults are drawn from a seeded random source, and can be changed at
// any time with Set.
type FaultProxy struct {
	// Addr is the proxy's host:port on 127.0.0.1.
	Addr   string
	target string
	ln     net.Listener

	mu     sync.Mutex
	rng    *rand.Rand
	faults Faults
	left   int // faults left under faults.Max
	stats  FaultStats
	conns  map[*proxyConn]struct{}
	closed bool

	done chan struct{} // closed by Close: ends stalls
	wg   sync.WaitGroup
}

// StartFaultProxy starts a healthy proxy to target, a host:port on a
// loopback address, drawing its faults from seed; it is closed when the
// test ends.
func StartFaultProxy(t testing.TB, target string, seed uint64) *FaultProxy {
	t.Helper()
	p, err := NewFaultProxy(target, seed)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// NewFaultProxy starts a healthy proxy to target, a host:port on a
// loopback address, drawing its faults from seed. Close stops it.
func NewFaultProxy(target string, seed uint64) (*FaultProxy, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("fault proxy target %q: %w", target, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("fault proxy target %q is not a loopback address", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{
		Addr:   ln.Addr().String(),
		target: target,
		ln:     ln,
		rng:    newRand(seed),
		conns:  map[*proxyConn]struct{}{},
		done:   make(chan struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xfa017)) }

// Set changes the faults, for the connections and requests to come (a
// fault already planned for a request in flight still happens).
func (p *FaultProxy) Set(f Faults) {
	p.mu.Lock()
	p.faults, p.left = f, f.Max
	p.mu.Unlock()
}

// Healthy makes the link healthy: the same as Set(Faults{}).
func (p *FaultProxy) Healthy() { p.Set(Faults{}) }

// Stats returns the counts so far.
func (p *FaultProxy) Stats() FaultStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Remote returns s's connection string with its address (the endpoint or
// url parameter) pointed at the proxy, and the parameters of override as
// Server.Remote takes them.
func (p *FaultProxy) Remote(s *Server, override ...Param) string {
	var params []Param
	for _, key := range []string{"endpoint", "url"} {
		v := s.Param(key)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			continue
		}
		u.Host = p.Addr
		params = append(params, Param{key, u.String()})
	}
	return s.Remote(append(params, override...)...)
}

// Close stops the proxy and closes every connection through it.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		c.close(false)
	}
	p.wg.Wait()
}

func (p *FaultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.stats.Conns++
		refuse := p.budget() && p.chance(p.faults.Refuse)
		if refuse {
			p.stats.Refused++
			p.left--
		}
		p.mu.Unlock()
		if refuse {
			reset(c)
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// budget reports whether Faults.Max allows another fault. p.mu must be
// held.
func (p *FaultProxy) budget() bool { return p.faults.Max <= 0 || p.left > 0 }

// chance draws true with probability q. p.mu must be held.
func (p *FaultProxy) chance(q float64) bool {
	return q > 0 && p.rng.Float64() < q
}

type faultKind int

const (
	kindReset faultKind = iota + 1
	kindStall
)

// fault is what to do to one request, and where.
type fault struct {
	kind   faultKind
	at     Point
	offset int64 // into the body or the answer
	stall  time.Duration
	thenRS bool // a stall ends in a reset
	late   bool // Faults.Late
}

// plan draws the fault of a request of method whose body is bodyLen bytes
// long (-1: chunked, of unknown length): nil for none, or a status the
// proxy answers the request with itself.
func (p *FaultProxy) plan(method string, bodyLen int64) (f *fault, answer int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	fs := p.faults
	if !p.budget() || len(fs.Methods) > 0 && !slices.Contains(fs.Methods, method) {
		return nil, 0
	}
	if fs.At == InRequestBody && bodyLen == 0 {
		return nil, 0
	}
	switch {
	case p.chance(fs.Error):
		p.stats.Errors++
		p.left--
		if p.rng.IntN(2) == 0 {
			return nil, 500
		}
		return nil, 503
	case p.chance(fs.Reset):
		f = &fault{kind: kindReset}
	case p.chance(fs.Stall):
		f = &fault{kind: kindStall, thenRS: p.chance(fs.StallClose), late: fs.Late}
		if fs.StallFor > 0 {
			f.stall = fs.StallFor/2 + time.Duration(p.rng.Int64N(int64(fs.StallFor/2)+1))
		}
	default:
		return nil, 0
	}
	p.left--
	f.at = fs.At
	if f.at == AnyPoint {
		points := []Point{BeforeRequest, BeforeResponse, InResponse}
		if bodyLen != 0 {
			points = append(points, InRequestBody)
		}
		f.at = points[p.rng.IntN(len(points))]
	}
	switch f.at {
	case InRequestBody:
		if bodyLen > 0 {
			f.offset = p.rng.Int64N(bodyLen)
		} else {
			f.offset = p.rng.Int64N(64 << 10)
		}
	case InResponse:
		// From a byte into the status line to a few MiB into a
		// download, spread evenly over the orders of magnitude.
		f.offset = 1 + p.rng.Int64N(int64(1)<<(4+p.rng.IntN(19)))
		if fs.CutWithin > 0 {
			f.offset = 1 + p.rng.Int64N(fs.CutWithin)
		}
	}
	return f, 0
}

// fired counts a fault that happened; dropped a stalled request dropped.
func (p *FaultProxy) fired(f *fault, dropped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case dropped:
		p.stats.Dropped++
	case f.kind == kindReset:
		p.stats.Resets++
	case f.thenRS:
		p.stats.StallRST++
	default:
		p.stats.Stalls++
	}
}

// missed counts a fault planned past the end of a response.
func (p *FaultProxy) missed() {
	p.mu.Lock()
	p.stats.Missed++
	p.mu.Unlock()
}

// proxyConn is one client connection and its connection to the server.
type proxyConn struct {
	p          *FaultProxy
	client, up net.Conn
	// in reads the client's bytes; a stall that reads ahead while it
	// waits puts what it read in front.
	in   *bufio.Reader
	once sync.Once

	// The answer's fault, set by the request side before it forwards a
	// request; guarded by mu.
	mu       sync.Mutex
	respF    *fault
	respDone int64
}

// errFault ends the forwarding of a connection the proxy broke.
var errFault = errors.New("fault injected")

func (p *FaultProxy) serve(client net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		// As a client would see a server that is down.
		reset(client)
		return
	}
	c := &proxyConn{p: p, client: client, up: up, in: bufio.NewReaderSize(client, 32<<10)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close(false)
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()

	respDone := make(chan struct{})
	go func() {
		defer close(respDone)
		c.responses()
	}()
	err = c.requests()
	if errors.Is(err, io.EOF) {
		// The client is done sending: let the server finish, for a
		// while.
		_ = closeWrite(up)
		select {
		case <-respDone:
		case <-time.After(30 * time.Second):
		case <-p.done:
		}
	}
	c.close(errors.Is(err, errFault))
	<-respDone
}

// close closes both connections, with an RST when rst.
func (c *proxyConn) close(rst bool) {
	c.once.Do(func() {
		if rst {
			reset(c.client)
			reset(c.up)
			return
		}
		_ = c.client.Close()
		_ = c.up.Close()
	})
}

// responses copies the server's bytes to the client, breaking the link
// where the current request's fault says.
func (c *proxyConn) responses() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.up.Read(buf)
		if n > 0 {
			c.mu.Lock()
			f, done := c.respF, c.respDone
			c.respDone += int64(n)
			if f != nil && f.offset < done+int64(n) {
				c.respF = nil
			}
			c.mu.Unlock()
			if werr := c.write(c.client, buf[:n], f, done); werr != nil {
				c.close(errors.Is(werr, errFault))
				return
			}
		}
		if err != nil {
			// The server closed (or the connection was closed): tell
			// the client, which ends the request side.
			_ = closeWrite(c.client)
			return
		}
	}
}

// write writes b, the bytes from offset done on of a body or an answer,
// to w; when f's point falls within them, or at their start, it writes up
// to the point and applies f. A reset, or a stall that ends in one,
// returns errFault.
func (c *proxyConn) write(w net.Conn, b []byte, f *fault, done int64) error {
	if f != nil && f.offset >= done && f.offset < done+int64(len(b)) {
		k := f.offset - done
		if _, err := w.Write(b[:k]); err != nil {
			return err
		}
		if err := c.apply(f, w == c.up); err != nil {
			return err
		}
		b = b[k:]
	}
	_, err := w.Write(b)
	return err
}

// apply carries out f: a reset, or a stall and then a reset or nothing.
// toServer says that the request is on its way to the server: then,
// unless f.late, a stall watches the client, and drops the request if the
// client closes meanwhile.
func (c *proxyConn) apply(f *fault, toServer bool) error {
	if f.kind == kindStall {
		var err error
		if toServer && !f.late {
			err = c.stallWatching(f.stall)
		} else {
			select {
			case <-time.After(f.stall):
			case <-c.p.done:
				err = errFault
			}
		}
		if errors.Is(err, errClientGone) {
			c.p.fired(f, true)
			c.close(true)
			return errFault
		}
		c.p.fired(f, false)
		if err != nil {
			c.close(true)
			return errFault
		}
		if !f.thenRS {
			return nil
		}
	} else {
		c.p.fired(f, false)
	}
	c.close(true)
	return errFault
}

// errClientGone: the client closed its connection during a stall.
var errClientGone = errors.New("the client has gone")

// stallWatching waits for d while reading ahead what the client sends, and
// returns errClientGone if it closes meanwhile.
func (c *proxyConn) stallWatching(d time.Duration) error {
	_ = c.client.SetReadDeadline(time.Now().Add(d))
	var ahead bytes.Buffer
	_, err := io.Copy(&ahead, c.in)
	_ = c.client.SetReadDeadline(time.Time{})
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		return errClientGone
	}
	c.in = bufio.NewReaderSize(io.MultiReader(&ahead, c.client), 32<<10)
	return nil
}

// maxHead bounds a request's head.
const maxHead = 64 << 10

// requests reads the client's requests, and for each one either forwards
// it, with its fault, or answers it. It returns io.EOF when the client
// has closed its side between requests.
func (c *proxyConn) requests() error {
	for {
		head, err := readHead(c.in)
		if err != nil {
			return err
		}
		h, err := parseHead(head)
		if err != nil {
			// Not a request the proxy understands: it forwards the rest
			// of the connection as it is, without faults.
			if _, err := c.up.Write(head); err != nil {
				return err
			}
			_, err = io.Copy(c.up, c.in)
			if err == nil {
				err = io.EOF
			}
			return err
		}
		f, status := c.p.plan(h.method, h.bodyLen)
		if status != 0 {
			return c.answer(h, status)
		}
		var bodyF *fault
		c.mu.Lock()
		if c.respF != nil {
			c.p.missed()
		}
		c.respF, c.respDone = nil, 0
		if f != nil && (f.at == BeforeResponse || f.at == InResponse) {
			c.respF = f
		}
		c.mu.Unlock()
		if f != nil {
			switch f.at {
			case BeforeRequest:
				if err := c.apply(f, true); err != nil {
					return err
				}
			case InRequestBody:
				bodyF = f
			}
		}
		if _, err := c.up.Write(head); err != nil {
			return err
		}
		if err := c.forwardBody(h, bodyF); err != nil {
			return err
		}
		if bodyF != nil && !h.chunked && bodyF.offset >= h.bodyLen {
			c.p.missed()
		}
	}
}

// reqHead is what the proxy needs to know of a request.
type reqHead struct {
	method  string
	bodyLen int64 // -1 when chunked
	chunked bool
	expect  bool // Expect: 100-continue
}

// readHead reads a request's head, up to and including its empty line.
func readHead(br *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			// A long line: go on reading it.
		case err != nil:
			if len(head) == 0 {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("request head cut short: %w", err)
		case len(head) == len(line) && (string(line) == "\r\n" || string(line) == "\n"):
			// Stray empty lines before a request are allowed (RFC
			// 9112, 2.2).
			head = head[:0]
			continue
		case string(line) == "\r\n" || string(line) == "\n":
			return head, nil
		}
		if len(head) > maxHead {
			return nil, fmt.Errorf("request head over %d bytes", maxHead)
		}
	}
}

// parseHead reads the request line and the headers that say how long the
// body is.
func parseHead(head []byte) (reqHead, error) {
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	parts := strings.Fields(lines[0])
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return reqHead{}, fmt.Errorf("not an HTTP/1 request line: %q", lines[0])
	}
	h := reqHead{method: parts[0]}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(strings.TrimRight(l, "\r"), ":")
		if !ok {
			return reqHead{}, fmt.Errorf("bad header line %q", l)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || (h.bodyLen > 0 && n != h.bodyLen) {
				return reqHead{}, fmt.Errorf("bad Content-Length %q", value)
			}
			h.bodyLen = n
		case "transfer-encoding":
			if strings.EqualFold(value, "chunked") {
				h.chunked = true
			} else if !strings.EqualFold(value, "identity") {
				return reqHead{}, fmt.Errorf("transfer coding %q", value)
			}
		case "expect":
			h.expect = strings.EqualFold(value, "100-continue")
		}
	}
	if h.chunked {
		h.bodyLen = -1
	}
	return h, nil
}

// forwardBody forwards a request's body to the server, applying f at its
// offset.
func (c *proxyConn) forwardBody(h reqHead, f *fault) error {
	if !h.chunked {
		return c.copyN(h.bodyLen, f, 0)
	}
	var done int64
	for {
		line, err := c.in.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("chunk size line: %w", err)
		}
		size, err := chunkSize(line)
		if err != nil {
			return err
		}
		if _, err := c.up.Write(line); err != nil {
			return err
		}
		if size == 0 {
			// The trailer, up to an empty line.
			for {
				line, err := c.in.ReadSlice('\n')
				if err != nil {
					return fmt.Errorf("chunked trailer: %w", err)
				}
				if _, err := c.up.Write(line); err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if err := c.copyN(size, f, done); err != nil {
			return err
		}
		done += size
		crlf, err := c.in.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("chunk end: %w", err)
		}
		if _, err := c.up.Write(crlf); err != nil {
			return err
		}
	}
}

func chunkSize(line []byte) (int64, error) {
	s := strings.TrimSpace(string(line))
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 16, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad chunk size line %q", line)
	}
	return n, nil
}

// copyN copies n bytes of the request's body to the server; done is the
// body's offset at their start, for f.
func (c *proxyConn) copyN(n int64, f *fault, done int64) error {
	buf := make([]byte, 32<<10)
	for n > 0 {
		m := min(int64(len(buf)), n)
		k, err := io.ReadFull(c.in, buf[:m])
		if k > 0 {
			if werr := c.write(c.up, buf[:k], f, done); werr != nil {
				return werr
			}
			done += int64(k)
			n -= int64(k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// answer answers a request with status instead of forwarding it, as a
// server does: it reads the request's body unless the client waits for a
// 100 Continue, writes the answer, and closes the connection without
// losing the answer to an RST (it stops writing, then reads what the
// client still sends, for a while).
func (c *proxyConn) answer(h reqHead, status int) error {
	if !h.expect {
		_ = c.client.SetReadDeadline(time.Now().Add(30 * time.Second))
		var err error
		if h.chunked {
			err = discardChunked(c.in)
		} else {
			_, err = io.CopyN(io.Discard, c.in, h.bodyLen)
		}
		if err != nil {
			return err
		}
	}
	code := "InternalError"
	if status == 503 {
		code = "ServiceUnavailable"
	}
	body := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>injected by the test's fault proxy</Message></Error>\n", code)
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, statusText(status), len(body), body)
	_ = c.client.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.client, resp); err != nil {
		return err
	}
	_ = closeWrite(c.client)
	_ = c.client.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, c.in)
	return io.ErrClosedPipe // not io.EOF: close both sides now
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, err := chunkSize(line)
		if err != nil {
			return err
		}
		if size == 0 {
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := io.CopyN(io.Discard, br, size+2); err != nil {
			return err
		}
	}
}

func statusText(code int) string {
	switch code {
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	}
	return "Error"
}

// reset closes c with an RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// closeWrite sends a FIN on c and keeps it open for reading.
func closeWrite(c net.Conn) error {
	if tc, ok := c.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return c.Close()
}
