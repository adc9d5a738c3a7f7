package history

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Records of the journal, inside its frames (docs/transactions.md):
//
//	begin   = string(ID) time(Start) string(Mode) string(Path1) string(Path2)
//	          string(Hash1) string(Hash2) uvarint(Planned) uvarint(len(Carried))
//	carried = change*                  paths always stored
//	done    = op*
//	commit  = uvarint(number of ops in done frames)
//	op      = string(Path) varint(Decision) string(Op) uvarint(len(Changes)) change*
//	change  = flags [string(Path)] [record]
//	record  = varint(One.Size) varint(One.ModTime)
//	          varint(Two.Size-One.Size) varint(Two.ModTime-One.ModTime)
//	          hash(One.Hash) hash(Two.Hash)
//
// Frames are not compressed: a batch of 256 ops shrinks by about half
// with zstd, but a journal lives for one run, and plain frames keep the
// writer and the reader simple (see the measurements in the docs).

// Flags of a change.
const (
	chRemove   = 1 << 0 // no record follows
	chDir      = 1 << 1
	chHash1    = 2      // shift of two bits: the kind of One.Hash
	chHash2    = 4      // shift of two bits: the kind of Two.Hash
	chSamePath = 1 << 6 // the path is the op's and is not stored
	chKnown    = 1<<7 - 1
)

// maxOpBytes bounds one encoded op, so that any batch fits in a frame.
const maxOpBytes = maxFrame / 4

func encodeJournalStart(b *JournalBegin) ([]byte, error) {
	for _, f := range []struct{ name, s string }{
		{"ID", b.ID}, {"Mode", b.Mode}, {"Path1", b.Path1}, {"Path2", b.Path2},
		{"Hash1", b.Hash1}, {"Hash2", b.Hash2},
	} {
		if err := checkString(f.name, f.s); err != nil {
			return nil, err
		}
	}
	if err := checkTime("Start", b.Start); err != nil {
		return nil, err
	}
	if b.Planned < 0 || b.Planned > math.MaxInt32 {
		return nil, fmt.Errorf("Planned is %d", b.Planned)
	}
	p := appendString(nil, b.ID)
	p = appendTime(p, b.Start)
	for _, s := range []string{b.Mode, b.Path1, b.Path2, b.Hash1, b.Hash2} {
		p = appendString(p, s)
	}
	p = binary.AppendUvarint(p, uint64(b.Planned))
	p = binary.AppendUvarint(p, uint64(len(b.Carried)))

	data := appendFileHead(nil, journalMagic, JournalVersion)
	data = appendFrame(data, kindBegin, p)
	p = p[:0]
	for i := range b.Carried {
		var err error
		if p, err = appendChange(p, "", &b.Carried[i]); err != nil {
			return nil, fmt.Errorf("Carried[%d]: %w", i, err)
		}
		if len(p) >= batchBytes {
			data = appendFrame(data, kindCarried, p)
			p = p[:0]
		}
	}
	if len(p) > 0 {
		data = appendFrame(data, kindCarried, p)
	}
	return data, nil
}

// appendOp encodes op, or refuses it without touching b's contents.
func appendOp(b []byte, op *OpRecord) ([]byte, error) {
	if err := checkString("Path", op.Path); err != nil {
		return b, err
	}
	if err := checkString("Op", op.Op); err != nil {
		return b, err
	}
	if op.Decision < math.MinInt32 || op.Decision > math.MaxInt32 {
		return b, fmt.Errorf("op on %q: decision %d out of range", op.Path, op.Decision)
	}
	start := len(b)
	b = appendString(b, op.Path)
	b = binary.AppendVarint(b, int64(op.Decision))
	b = appendString(b, op.Op)
	b = binary.AppendUvarint(b, uint64(len(op.Changes)))
	for i := range op.Changes {
		var err error
		if b, err = appendChange(b, op.Path, &op.Changes[i]); err != nil {
			return b[:start], fmt.Errorf("op on %q: change %d: %w", op.Path, i, err)
		}
		if len(b)-start > maxOpBytes {
			return b[:start], fmt.Errorf("op on %q: over %d bytes", op.Path, maxOpBytes)
		}
	}
	return b, nil
}

// appendChange encodes c; opPath is the path of its op ("" for carried
// changes, whose paths are always stored).
func appendChange(b []byte, opPath string, c *Change) ([]byte, error) {
	if err := checkString("Path", c.Path); err != nil {
		return b, err
	}
	if !c.Remove {
		r := &c.Record
		if r.Path != c.Path {
			return b, fmt.Errorf("Record.Path %q is not the change's Path %q", r.Path, c.Path)
		}
		if err := checkString("One.Hash", r.One.Hash); err != nil {
			return b, err
		}
		if err := checkString("Two.Hash", r.Two.Hash); err != nil {
			return b, err
		}
	}
	flagAt := len(b)
	var flags byte
	b = append(b, 0)
	if opPath != "" && c.Path == opPath {
		flags |= chSamePath
	} else {
		b = appendString(b, c.Path)
	}
	if c.Remove {
		flags |= chRemove
	} else {
		r := &c.Record
		if r.Dir {
			flags |= chDir
		}
		// Differences wrap around, and so does the sum that undoes them.
		b = binary.AppendVarint(b, r.One.Size)
		b = binary.AppendVarint(b, r.One.ModTime)
		b = binary.AppendVarint(b, r.Two.Size-r.One.Size)
		b = binary.AppendVarint(b, r.Two.ModTime-r.One.ModTime)
		var k1, k2 byte
		b, k1 = appendHashValue(b, r.One.Hash)
		b, k2 = appendHashValue(b, r.Two.Hash)
		flags |= k1<<chHash1 | k2<<chHash2
	}
	b[flagAt] = flags
	return b, nil
}

func (p *payload) change(opPath string, carried bool) Change {
	flags := p.byte("change flags")
	if flags&^chKnown != 0 || flags>>chHash1&3 > hashText || flags>>chHash2&3 > hashText ||
		carried && flags&chSamePath != 0 {
		p.fail("unknown change flags %#x", flags)
		return Change{}
	}
	var c Change
	if flags&chSamePath != 0 {
		c.Path = opPath
	} else {
		c.Path = p.string("change path")
	}
	if flags&chRemove != 0 {
		if flags&^(chRemove|chSamePath) != 0 {
			p.fail("removal with flags %#x", flags)
		}
		c.Remove = true
		return c
	}
	r := &c.Record
	r.Path, r.Dir = c.Path, flags&chDir != 0
	r.One.Size = p.varint("size")
	r.One.ModTime = p.varint("modtime")
	r.Two.Size = r.One.Size + p.varint("size")
	r.Two.ModTime = r.One.ModTime + p.varint("modtime")
	r.One.Hash = p.hash("hash", flags>>chHash1&3)
	r.Two.Hash = p.hash("hash", flags>>chHash2&3)
	return c
}

func (p *payload) op() OpRecord {
	var op OpRecord
	op.Path = p.string("op path")
	d := p.varint("decision")
	if d < math.MinInt32 || d > math.MaxInt32 {
		// A decision is a small number; bounding it keeps int(d) the same
		// on every platform.
		p.fail("decision %d", d)
	}
	op.Decision = int(d)
	op.Op = p.string("op")
	n := p.count("changes", 1)
	if n > 0 {
		op.Changes = make([]Change, 0, n)
	}
	for range n {
		c := p.change(op.Path, false)
		if p.err != nil {
			break
		}
		op.Changes = append(op.Changes, c)
	}
	return op
}

// decodeJournal parses a whole journal file; see ReadJournal.
func decodeJournal(data []byte) (*Journal, error) {
	if _, err := checkFileHead(data, journalMagic, JournalVersion); err != nil {
		return nil, err
	}
	var (
		j       = new(Journal)
		begun   bool
		carried = -1 // number of carried changes the begin record announces
		sawDone bool
		arena   arena // shared by every frame's strings
	)
	off := fileHead
	for off < len(data) {
		kind, pl, next, ok := frameAt(data, off)
		if !ok {
			if q := nextFrame(data, off+1); q >= 0 {
				return nil, corrupt("damaged record at byte %d, followed by an intact one at byte %d", off, q)
			}
			if !begun {
				return nil, corrupt("begin record damaged")
			}
			j.Torn = true
			break
		}
		if j.Committed {
			return nil, corrupt("record after the commit record at byte %d", off)
		}
		p := &payload{b: pl, arena: arena}
		switch {
		case kind == kindBegin && !begun:
			p.what = "begin record"
			b := &j.Begin
			b.ID = p.string("ID")
			b.Start = p.time("Start")
			b.Mode = p.string("Mode")
			b.Path1 = p.string("Path1")
			b.Path2 = p.string("Path2")
			b.Hash1 = p.string("Hash1")
			b.Hash2 = p.string("Hash2")
			planned := p.uvarint("Planned")
			ncarried := p.uvarint("carried count")
			if planned > math.MaxInt32 || ncarried > math.MaxInt32 {
				p.fail("Planned %d, carried %d", planned, ncarried)
			}
			b.Planned, carried = int(planned), int(ncarried)
			begun = true
			// Pre-size from the counts, within what the rest of the file
			// can hold (a change takes at least 2 bytes, an op 4), so that
			// damaged counts cannot make us allocate much.
			rest := len(data) - next
			if carried > 0 {
				b.Carried = make([]Change, 0, min(carried, rest/2))
			}
			j.Ops = make([]OpRecord, 0, min(b.Planned, rest/4))
		case kind == kindCarried && begun && !sawDone && len(j.Begin.Carried) < carried:
			p.what = fmt.Sprintf("carried changes at byte %d", off)
			for p.err == nil && p.off < len(p.b) && len(j.Begin.Carried) < carried {
				c := p.change("", true)
				if p.err == nil {
					j.Begin.Carried = append(j.Begin.Carried, c)
				}
			}
		case kind == kindDone && begun && len(j.Begin.Carried) == carried:
			p.what = fmt.Sprintf("operations at byte %d", off)
			sawDone = true
			for p.err == nil && p.off < len(p.b) {
				op := p.op()
				if p.err == nil {
					j.Ops = append(j.Ops, op)
				}
			}
		case kind == kindCommit && begun && len(j.Begin.Carried) == carried:
			p.what = "commit record"
			n := p.uvarint("operation count")
			if p.err == nil && n != uint64(len(j.Ops)) {
				return nil, corrupt("commit record counts %d operations, the journal holds %d", n, len(j.Ops))
			}
			j.Committed = true
		default:
			return nil, corrupt("unexpected record of kind %q at byte %d", kind, off)
		}
		if err := p.done(); err != nil {
			return nil, err
		}
		arena = p.arena
		off = next
	}
	switch {
	case !begun:
		return nil, corrupt("no begin record")
	case len(j.Begin.Carried) != carried:
		return nil, corrupt("%d carried changes, the begin record announces %d", len(j.Begin.Carried), carried)
	}
	if len(j.Ops) == 0 {
		j.Ops = nil // as when there was nothing to pre-size
	}
	return j, nil
}

// Changes returns the net effect of the journal on a history: one Change
// per path, sorted by path, the last change of each path winning, in the
// order Begin.Carried, then Ops. A run that recovers this journal passes
// them on as its own Begin.Carried.
func (j *Journal) Changes() []Change {
	n := len(j.Begin.Carried)
	for i := range j.Ops {
		n += len(j.Ops[i].Changes)
	}
	all := make([]Change, 0, n)
	all = append(all, j.Begin.Carried...)
	for i := range j.Ops {
		all = append(all, j.Ops[i].Changes...)
	}
	return netChanges(all)
}

// netChanges sorts changes by path, keeping only the last of each path.
// It reorders changes in place.
func netChanges(changes []Change) []Change {
	slices.SortStableFunc(changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	out := changes[:0]
	for i := range changes {
		if i+1 < len(changes) && changes[i+1].Path == changes[i].Path {
			continue // a later change of the same path wins
		}
		out = append(out, changes[i])
	}
	return out
}

// Fold returns h with the journal's changes applied (see Changes): a set
// replaces the path's record or inserts it in order, a removal of a path
// not in h does nothing. h is not modified; the result shares nothing
// with it that either could change. A nil h is an empty history of the
// pair the journal names. The header (sides, hash kinds, filters, Written)
// is h's.
func (j *Journal) Fold(h *History) *History {
	return fold(h, j, j.Changes())
}

func fold(h *History, j *Journal, changes []Change) *History {
	out := new(History)
	var recs []Record
	if h != nil {
		*out = *h
		recs = h.Records
	} else {
		b := &j.Begin
		out.Path1, out.Path2, out.Hash1, out.Hash2 = b.Path1, b.Path2, b.Hash1, b.Hash2
	}
	// Merge: copy the records between two changed paths in one go, found
	// by binary search, so a few thousand changes to a million records
	// cost little more than one copy of them.
	next := make([]Record, 0, len(recs)+countSets(changes))
	for _, c := range changes {
		i, found := slices.BinarySearchFunc(recs, c.Path, func(r Record, p string) int { return strings.Compare(r.Path, p) })
		next = append(next, recs[:i]...)
		if found {
			i++
		}
		recs = recs[i:]
		if !c.Remove {
			r := c.Record
			r.Path = c.Path // as decoded; a Journal built by hand may differ
			next = append(next, r)
		}
	}
	out.Records = append(next, recs...)
	return out
}

func countSets(changes []Change) int {
	n := 0
	for i := range changes {
		if !changes[i].Remove {
			n++
		}
	}
	return n
}
