// Package faulty wraps a backends.Replica and makes chosen calls fail, for
// fault tests of the engine (kopia's FaultyStorage, restic's decorators): the
// third call of Put on one side, every Open of one path, or every call after
// the fifth change, which cancels the run's context as a Ctrl-C would.
//
// A wrapper forwards every call it does not fail to the replica it wraps,
// and counts the calls it sees, so that a test can first measure a healthy
// run and then fail each of its calls in turn. It implements backends.Copier
// exactly when the wrapped replica does, so the engine takes the same paths
// through a wrapper as without one.
//
// faulty imports only package backends; it is for tests, and no command
// uses it.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"sync"

	"github.com/ferry-sync/ferry/backends"
)

// Method is a set of Replica (and Copier) methods, as bits.
type Method uint16

// The methods a Rule can watch, and useful sets of them.
const (
	List Method = 1 << iota
	Stat
	Open
	Put
	Move
	Delete
	Hash
	Mkdir
	Rmdir
	CopyFrom

	// Mutating are the methods that change the replica.
	Mutating = Put | Move | Delete | Mkdir | Rmdir | CopyFrom
	// Reading are the methods that only look.
	Reading = List | Stat | Open | Hash
	// All is every method.
	All = Mutating | Reading
)

var methodNames = [...]string{"List", "Stat", "Open", "Put", "Move", "Delete", "Hash", "Mkdir", "Rmdir", "CopyFrom"}

// String names the methods of m, joined by "|".
func (m Method) String() string {
	if m == 0 {
		return "none"
	}
	var names []string
	for i, n := range methodNames {
		if m&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := m &^ All; rest != 0 {
		names = append(names, fmt.Sprintf("Method(%#x)", uint16(rest)))
	}
	return strings.Join(names, "|")
}

// ErrInjected is the error of a Rule that sets no Err of its own.
var ErrInjected = errors.New("faulty: injected fault")

// Rule chooses calls to fail. A rule counts the calls it watches (methods in
// On, on Path if set) and fires at the Nth of them, and at every later one
// if Sticky. A firing call fails with Err without reaching the wrapped
// replica; a rule with Cancel set and no Err lets the call through and then
// calls Cancel, as an interrupt arriving just after that call would.
type Rule struct {
	// On is the set of methods whose calls the rule counts; 0 means All.
	On Method
	// Path, when not empty, restricts the rule to calls on that path: for
	// Move the source or the destination, for CopyFrom the destination.
	// List has no path and is never counted by a rule with a Path.
	Path string
	// Nth is the counted call at which the rule fires, 1 for the first;
	// 0 means 1.
	Nth int
	// Sticky makes the rule fire at every counted call after the Nth too:
	// a disk that filled up, a file that stays unreadable.
	Sticky bool
	// Err is the error a firing call returns, wrapped with the method and
	// path. Nil means ErrInjected, unless Cancel is set.
	Err error
	// Cancel, when set, is called when the rule fires. With Err nil the
	// call first runs (and may succeed or fail on its own); with Err set it
	// fails with Err without running.
	Cancel context.CancelFunc
}

// Call is one call as the wrapper saw it.
type Call struct {
	Method Method
	Path   string // "" for List
}

func (c Call) String() string {
	if c.Path == "" {
		return c.Method.String()
	}
	return c.Method.String() + " " + c.Path
}

// Replica is a wrapper made by New. Use New's result as the replica, and
// Of(result) for the counters.
type Replica struct {
	inner backends.Replica
	rules []Rule

	mu    sync.Mutex
	seen  []int // per rule, counted calls so far
	calls [len(methodNames)]int
	fired []Call
}

// CopierReplica is the wrapper of a replica that implements
// backends.Copier: a *Replica with CopyFrom.
type CopierReplica struct {
	*Replica
}

var (
	_ backends.Replica = (*Replica)(nil)
	_ backends.Copier  = (*CopierReplica)(nil)
)

// New wraps inner with rules. The result is a *Replica, or a *CopierReplica
// when inner implements backends.Copier.
func New(inner backends.Replica, rules ...Rule) backends.Replica {
	f := &Replica{inner: inner, rules: rules, seen: make([]int, len(rules))}
	for i := range f.rules {
		if f.rules[i].On == 0 {
			f.rules[i].On = All
		}
		if f.rules[i].Nth <= 0 {
			f.rules[i].Nth = 1
		}
		if f.rules[i].Err == nil && f.rules[i].Cancel == nil {
			f.rules[i].Err = ErrInjected
		}
	}
	if _, ok := inner.(backends.Copier); ok {
		return &CopierReplica{f}
	}
	return f
}

// Of returns the wrapper behind a replica that New returned, or nil when r
// is not one.
func Of(r backends.Replica) *Replica {
	switch f := r.(type) {
	case *Replica:
		return f
	case *CopierReplica:
		return f.Replica
	}
	return nil
}

// Unwrap returns the wrapped replica.
func (f *Replica) Unwrap() backends.Replica { return f.inner }

// Calls returns how many calls of the methods in m the wrapper has seen,
// failed and injected ones included.
func (f *Replica) Calls(m Method) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for i, c := range f.calls {
		if m&(1<<i) != 0 {
			n += c
		}
	}
	return n
}

// Fired returns the calls at which a rule fired, in order.
func (f *Replica) Fired() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.fired...)
}

// begin counts a call and applies the rules: it returns the cancel funcs
// of the rules that fired, for the caller to call once the call has run (or
// was refused), and the error the call must fail with instead of running.
func (f *Replica) begin(m Method, paths ...string) (after []context.CancelFunc, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[bits.TrailingZeros16(uint16(m))]++
	fired := false
	var cancels []context.CancelFunc
	for i := range f.rules {
		r := &f.rules[i]
		if r.On&m == 0 || (r.Path != "" && !contains(paths, r.Path)) {
			continue
		}
		f.seen[i]++
		if f.seen[i] < r.Nth || (f.seen[i] > r.Nth && !r.Sticky) {
			continue
		}
		fired = true
		if r.Err != nil && err == nil {
			err = r.Err
		}
		if r.Cancel != nil {
			cancels = append(cancels, r.Cancel)
		}
	}
	if fired {
		p := ""
		if len(paths) > 0 {
			p = paths[0]
		}
		f.fired = append(f.fired, Call{Method: m, Path: p})
	}
	if err != nil {
		err = fmt.Errorf("%v %s: %w", m, strings.Join(paths, " -> "), err)
	}
	return cancels, err
}

func contains(paths []string, p string) bool {
	for _, q := range paths {
		if q == p {
			return true
		}
	}
	return false
}

func cancelAll(cs []context.CancelFunc) {
	for _, c := range cs {
		c()
	}
}

// String returns the wrapped replica's name: a wrapper is the same replica.
func (f *Replica) String() string { return f.inner.String() }

// Caps returns the wrapped replica's capabilities.
func (f *Replica) Caps() backends.Caps { return f.inner.Caps() }

// List lists the wrapped replica, unless a rule fails it.
func (f *Replica) List(ctx context.Context, fn func(backends.Entry) error) error {
	after, err := f.begin(List)
	defer cancelAll(after)
	if err != nil {
		return err
	}
	return f.inner.List(ctx, fn)
}

// Stat forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Stat(ctx context.Context, path string) (backends.Entry, error) {
	after, err := f.begin(Stat, path)
	defer cancelAll(after)
	if err != nil {
		return backends.Entry{}, err
	}
	return f.inner.Stat(ctx, path)
}

// Open forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	after, err := f.begin(Open, path)
	defer cancelAll(after)
	if err != nil {
		return nil, err
	}
	return f.inner.Open(ctx, path)
}

// Put forwards to the wrapped replica, unless a rule fails it; a failed Put
// does not read r.
func (f *Replica) Put(ctx context.Context, path string, r io.Reader, src backends.Entry) (backends.Entry, error) {
	after, err := f.begin(Put, path)
	defer cancelAll(after)
	if err != nil {
		return backends.Entry{}, err
	}
	return f.inner.Put(ctx, path, r, src)
}

// Move forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Move(ctx context.Context, from, to string) (backends.Entry, error) {
	after, err := f.begin(Move, from, to)
	defer cancelAll(after)
	if err != nil {
		return backends.Entry{}, err
	}
	return f.inner.Move(ctx, from, to)
}

// Delete forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Delete(ctx context.Context, path string) error {
	after, err := f.begin(Delete, path)
	defer cancelAll(after)
	if err != nil {
		return err
	}
	return f.inner.Delete(ctx, path)
}

// Hash forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Hash(ctx context.Context, path string, kind string) (string, error) {
	after, err := f.begin(Hash, path)
	defer cancelAll(after)
	if err != nil {
		return "", err
	}
	return f.inner.Hash(ctx, path, kind)
}

// Mkdir forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Mkdir(ctx context.Context, path string) error {
	after, err := f.begin(Mkdir, path)
	defer cancelAll(after)
	if err != nil {
		return err
	}
	return f.inner.Mkdir(ctx, path)
}

// Rmdir forwards to the wrapped replica, unless a rule fails it.
func (f *Replica) Rmdir(ctx context.Context, path string) error {
	after, err := f.begin(Rmdir, path)
	defer cancelAll(after)
	if err != nil {
		return err
	}
	return f.inner.Rmdir(ctx, path)
}

// CopyFrom forwards to the wrapped replica's CopyFrom, unless a rule fails
// it. A source that is itself a wrapper is unwrapped first, so that a
// server-side copy between two wrapped replicas works as between the
// replicas they wrap; the source wrapper's rules do not see such a copy.
func (c *CopierReplica) CopyFrom(ctx context.Context, src backends.Replica, srcPath, dstPath string) (backends.Entry, error) {
	after, err := c.begin(CopyFrom, dstPath)
	defer cancelAll(after)
	if err != nil {
		return backends.Entry{}, err
	}
	for {
		w := Of(src)
		if w == nil {
			break
		}
		src = w.inner
	}
	return c.inner.(backends.Copier).CopyFrom(ctx, src, srcPath, dstPath)
}
