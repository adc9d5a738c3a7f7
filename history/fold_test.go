package history

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func paths(recs []Record) string {
	var b strings.Builder
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", r.Path, r.One.Size)
	}
	return b.String()
}

// hist builds a history from "path:size" words.
func hist(spec string) *History {
	h := &History{Path1: "p1", Path2: "p2", Hash1: "md5", Filters: "f", Written: time.Unix(5, 0).UTC()}
	for _, w := range strings.Fields(spec) {
		var p string
		var size int64
		fmt.Sscanf(strings.Replace(w, ":", " ", 1), "%s %d", &p, &size)
		h.Records = append(h.Records, Record{Path: p, One: Fingerprint{Size: size}})
	}
	return h
}

func s(path string, size int64) Change {
	return Change{Path: path, Record: Record{Path: path, One: Fingerprint{Size: size}}}
}

func TestFold(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       string
		carried []Change
		ops     [][]Change // one op per element
		want    string
	}{
		{"nothing", "a:1 b:2", nil, nil, "a:1 b:2"},
		{"insert into empty", "", nil, [][]Change{{s("a", 1)}}, "a:1"},
		{"insert first", "b:2 c:3", nil, [][]Change{{s("a", 1)}}, "a:1 b:2 c:3"},
		{"insert middle", "a:1 c:3", nil, [][]Change{{s("b", 2)}}, "a:1 b:2 c:3"},
		{"insert last", "a:1 b:2", nil, [][]Change{{s("c", 3)}}, "a:1 b:2 c:3"},
		{"replace", "a:1 b:2 c:3", nil, [][]Change{{s("b", 9)}}, "a:1 b:9 c:3"},
		{"replace first and last", "a:1 b:2 c:3", nil, [][]Change{{s("c", 9)}, {s("a", 8)}}, "a:8 b:2 c:9"},
		{"remove", "a:1 b:2 c:3", nil, [][]Change{{remove("b")}}, "a:1 c:3"},
		{"remove all", "a:1 b:2", nil, [][]Change{{remove("b"), remove("a")}}, ""},
		{"remove absent", "a:1 c:3", nil, [][]Change{{remove("b"), remove("0"), remove("z")}}, "a:1 c:3"},
		{"remove from empty", "", nil, [][]Change{{remove("a")}}, ""},
		{"last wins: set, set", "a:1", nil, [][]Change{{s("a", 2)}, {s("a", 3)}}, "a:3"},
		{"last wins: set, remove", "", nil, [][]Change{{s("a", 2)}, {remove("a")}}, ""},
		{"last wins: remove, set", "a:1", nil, [][]Change{{remove("a")}, {s("a", 4)}}, "a:4"},
		{"last wins within an op", "a:1", nil, [][]Change{{s("a", 2), remove("a"), s("a", 5)}}, "a:5"},
		{"carried first", "a:1", []Change{s("a", 7), s("b", 7)}, [][]Change{{s("a", 8)}}, "a:8 b:7"},
		{"carried removal undone", "a:1", []Change{remove("a")}, [][]Change{{s("a", 2)}}, "a:2"},
		{"prefixes sort bytewise", "a:1 a/b:2 a0:3", nil, [][]Change{{s("a.", 4)}, {s("a/", 5)}, {s("", 6)}}, ":6 a:1 a.:4 a/:5 a/b:2 a0:3"},
		{"unordered ops", "m:1", nil, [][]Change{{s("z", 1)}, {s("a", 1)}, {remove("m")}, {s("k", 2)}}, "a:1 k:2 z:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hist(tc.h)
			before := paths(h.Records)
			j := &Journal{Begin: JournalBegin{Carried: tc.carried}}
			for _, cs := range tc.ops {
				j.Ops = append(j.Ops, OpRecord{Changes: cs})
			}
			got := j.Fold(h)
			if p := paths(got.Records); p != tc.want {
				t.Errorf("Fold = %q, want %q", p, tc.want)
			}
			if paths(h.Records) != before {
				t.Errorf("Fold changed its input to %q", paths(h.Records))
			}
			if got.Path1 != h.Path1 || got.Filters != h.Filters || !got.Written.Equal(h.Written) {
				t.Errorf("Fold changed the header: %+v", got)
			}
			if err := validate(got); err != nil {
				t.Errorf("Fold result does not encode: %v", err)
			}
		})
	}
}

// Fold's result owns its records: changing them leaves the input alone.
func TestFoldDoesNotAlias(t *testing.T) {
	h := hist("a:1 b:2 c:3")
	got := (&Journal{Ops: []OpRecord{{Changes: []Change{s("b", 9)}}}}).Fold(h)
	got.Records[0].One.Size = 100
	if h.Records[0].One.Size != 1 {
		t.Fatal("Fold's records share memory with its input")
	}
}

func TestFoldNil(t *testing.T) {
	j := &Journal{Begin: testBegin, Ops: []OpRecord{{Changes: []Change{s("b", 2), s("a", 1), remove("c")}}}}
	got := j.Fold(nil)
	if p := paths(got.Records); p != "a:1 b:2" {
		t.Errorf("Fold(nil) = %q", p)
	}
	if got.Path1 != testBegin.Path1 || got.Path2 != testBegin.Path2 || got.Hash1 != testBegin.Hash1 {
		t.Errorf("Fold(nil) header %+v, want the journal's sides", got)
	}
	if got := (&Journal{}).Fold(nil); len(got.Records) != 0 {
		t.Errorf("empty Fold(nil) = %+v", got)
	}
}

// Fold agrees with a map on random histories and changes.
func TestFoldRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	name := func() string { return fmt.Sprintf("d%d/f%d", rng.IntN(20), rng.IntN(50)) }
	for range 300 {
		want := map[string]int64{}
		for range rng.IntN(200) {
			want[name()] = rng.Int64N(100)
		}
		h := &History{}
		for _, p := range slices.Sorted(maps.Keys(want)) {
			h.Records = append(h.Records, Record{Path: p, One: Fingerprint{Size: want[p]}})
		}
		j := &Journal{}
		for range rng.IntN(30) {
			var cs []Change
			for range 1 + rng.IntN(3) {
				p := name()
				if rng.IntN(3) == 0 {
					cs = append(cs, remove(p))
					delete(want, p)
				} else {
					size := rng.Int64N(100)
					cs = append(cs, s(p, size))
					want[p] = size
				}
			}
			j.Ops = append(j.Ops, OpRecord{Changes: cs})
		}
		got := j.Fold(h)
		gotMap := map[string]int64{}
		for _, r := range got.Records {
			gotMap[r.Path] = r.One.Size
		}
		if !reflect.DeepEqual(gotMap, want) || validate(got) != nil {
			t.Fatalf("Fold = %s\nwant %v", paths(got.Records), want)
		}
		// Folding is idempotent: recovering a journal whose changes are
		// already in the history changes nothing.
		if again := j.Fold(got); !reflect.DeepEqual(again.Records, got.Records) {
			t.Fatalf("folding twice = %s\nonce %s", paths(again.Records), paths(got.Records))
		}
	}
}

func TestChangesNet(t *testing.T) {
	j := &Journal{
		Begin: JournalBegin{Carried: []Change{s("b", 1), remove("x")}},
		Ops: []OpRecord{
			{Changes: []Change{s("c", 1), s("b", 2)}},
			{Changes: []Change{remove("b"), s("a", 3)}},
			{Changes: []Change{s("x", 4)}},
		},
	}
	got := j.Changes()
	want := []Change{s("a", 3), remove("b"), s("c", 1), s("x", 4)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Changes = %+v\nwant %+v", got, want)
	}
	// The journal itself is left as it was.
	if j.Ops[0].Changes[0].Path != "c" || j.Begin.Carried[0].Path != "b" {
		t.Error("Changes reordered the journal")
	}
}
