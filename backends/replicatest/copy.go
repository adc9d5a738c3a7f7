package replicatest

import (
	"errors"
	"testing"

	"github.com/ferry-sync/ferry/backends"
)

func testCopyFromSelf(t *testing.T, r backends.Replica) {
	content := []byte("copy me")
	put(t, r, "src.txt", content, baseTime)
	srcEntry := stat(t, r, "src.txt")
	checkCopy(t, r, r, "src.txt", "dst.txt", content)
	sameEntry(t, "source after CopyFrom", stat(t, r, "src.txt"), srcEntry)
	wantContent(t, r, "src.txt", content)
}

func testCopyFromOther(t *testing.T, src, dst backends.Replica) {
	content := []byte("copy me across")
	put(t, src, "src.txt", content, baseTime)
	checkCopy(t, dst, src, "src.txt", "dst.txt", content)
	wantContent(t, src, "src.txt", content)
}

// opaque is a replica type no backend knows, like a wrapper from another
// package: a copy from it cannot be server-side.
type opaque struct{ backends.Replica }

func testCopyFromForeign(t *testing.T, r backends.Replica) {
	content := []byte("copy me through a wrapper")
	put(t, r, "src.txt", content, baseTime)
	checkCopy(t, r, opaque{r}, "src.txt", "dst.txt", content)
}

func testCopyFromMissing(t *testing.T, r backends.Replica) {
	c := copier(t, r)
	if _, err := c.CopyFrom(t.Context(), r, "missing.txt", "dst.txt"); err == nil {
		t.Error("CopyFrom of a missing file returned no error")
	}
	_, err := r.Stat(t.Context(), "dst.txt")
	wantNotFound(t, "Stat after a failed CopyFrom", err)
}

func copier(t *testing.T, r backends.Replica) backends.Copier {
	t.Helper()
	c, ok := r.(backends.Copier)
	if !ok {
		t.Skip("replica does not implement backends.Copier")
	}
	return c
}

// checkCopy copies srcPath of src to dstPath of dst. A refusal must wrap
// backends.ErrCannotCopy and change nothing, and then skips the test; a copy
// must report what Stat and List report and hold the source's content.
func checkCopy(t *testing.T, dst, src backends.Replica, srcPath, dstPath string, content []byte) {
	t.Helper()
	e, err := copier(t, dst).CopyFrom(t.Context(), src, srcPath, dstPath)
	if errors.Is(err, backends.ErrCannotCopy) {
		_, serr := dst.Stat(t.Context(), dstPath)
		wantNotFound(t, "Stat after a refused CopyFrom", serr)
		t.Skipf("CopyFrom refused, which is allowed: %v", err)
	}
	if err != nil {
		t.Fatalf("CopyFrom: %v", err)
	}
	if e.Path != dstPath || e.Dir || e.Size != int64(len(content)) {
		t.Errorf("CopyFrom returned %+v, want file %q of %d bytes", e, dstPath, len(content))
	}
	if k := dst.Caps().ListHash; k != "" {
		if want, ok := localHash(k, content); ok && e.Hash != "" && e.Hash != want {
			t.Errorf("CopyFrom returned %s %q, want %q", k, e.Hash, want)
		}
	}
	sameEntry(t, "Stat after CopyFrom", stat(t, dst, dstPath), e)
	sameEntry(t, "List after CopyFrom", listed(t, dst, dstPath), e)
	wantContent(t, dst, dstPath, content)
}
