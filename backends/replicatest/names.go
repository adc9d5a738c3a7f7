package replicatest

import (
	"testing"

	"github.com/ferry-sync/ferry/backends"
)

func testUnicodeNames(t *testing.T, r backends.Replica) {
	// NFC accents must come back byte for byte; a space, "#", "%" and "+"
	// catch backends that mangle names in URLs.
	names := []string{
		"caf\u00e9.txt",
		"with space.txt",
		"hash#tag.txt",
		"100%25 sure+more.txt",
		"dir \u00e9/\u00fc #1.txt",
	}
	for _, p := range names {
		e := put(t, r, p, []byte(p), baseTime)
		checkFile(t, r, e, p, []byte(p), baseTime)
	}
	m := list(t, r)
	wantFiles(t, m, names...)
	if r.Caps().Dirs && !m["dir \u00e9"].Dir {
		t.Errorf("List reports %+v, want directory %q", m["dir \u00e9"], "dir \u00e9")
	}
	for _, p := range names {
		sameEntry(t, "Stat of "+p, stat(t, r, p), m[p])
		wantContent(t, r, p, []byte(p))
	}
}

func testCaseSensitivity(t *testing.T, r backends.Replica) {
	put(t, r, "Case.txt", []byte("upper"), baseTime)
	put(t, r, "case.txt", []byte("lower, longer"), baseTime)
	m := list(t, r)
	if !r.Caps().CaseInsensitive {
		wantFiles(t, m, "Case.txt", "case.txt")
		wantContent(t, r, "Case.txt", []byte("upper"))
		wantContent(t, r, "case.txt", []byte("lower, longer"))
		return
	}
	// Which case a case-insensitive replica keeps differs between
	// filesystems; that it keeps one file with the last content does not.
	got := files(m)
	if len(got) != 1 || !got["Case.txt"] && !got["case.txt"] {
		t.Fatalf("case-insensitive replica lists files %v, want one of Case.txt or case.txt", got)
	}
	if e := stat(t, r, "CASE.TXT"); e.Size != int64(len("lower, longer")) {
		t.Errorf("Stat(CASE.TXT) = %+v, want the last content's size", e)
	}
	wantContent(t, r, "cAsE.txt", []byte("lower, longer"))
}
