package replicatest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"testing"

	"github.com/ferry-sync/ferry/backends"
)

func testHashes(t *testing.T, r backends.Replica) {
	c := r.Caps()
	if len(c.Hashes) == 0 {
		t.Skip("replica computes no hashes (Caps.Hashes is empty)")
	}
	one, two := []byte("content one\n"), []byte("content two, a little longer\n")
	put(t, r, "one.txt", one, baseTime)
	put(t, r, "two.txt", two, baseTime)
	for _, k := range c.Hashes {
		h1, h2 := hashOf(t, r, "one.txt", k), hashOf(t, r, "two.txt", k)
		if want, ok := localHash(k, one); ok && h1 != want {
			t.Errorf("%s: got %q, want %q", k, h1, want)
		}
		if h1 == "" {
			t.Errorf("%s: empty hash", k)
		}
		if again := hashOf(t, r, "one.txt", k); again != h1 {
			t.Errorf("%s is not stable: %q, then %q", k, h1, again)
		}
		if h1 == h2 {
			t.Errorf("%s is %q for two different contents", k, h1)
		}
	}
	if c.ListHash != "" {
		if got, want := listed(t, r, "one.txt").Hash, hashOf(t, r, "one.txt", c.ListHash); got != want {
			t.Errorf("listed %s %q differs from Hash's %q", c.ListHash, got, want)
		}
	}
}

func testHashUnsupported(t *testing.T, r backends.Replica) {
	put(t, r, "f.txt", []byte("f"), baseTime)
	_, err := r.Hash(t.Context(), "f.txt", "ferry-no-such-hash")
	if !errors.Is(err, backends.ErrHashUnsupported) {
		t.Errorf("Hash of an unknown kind: got %v, want an error wrapping backends.ErrHashUnsupported", err)
	}
}

func hashOf(t *testing.T, r backends.Replica, path, kind string) string {
	t.Helper()
	h, err := r.Hash(t.Context(), path, kind)
	if err != nil {
		t.Fatalf("Hash(%q, %s): %v", path, kind, err)
	}
	return h
}

// localHash computes the kinds the standard library knows, as rclone names
// and spells them; ok is false for other kinds.
func localHash(kind string, data []byte) (sum string, ok bool) {
	var h hash.Hash
	switch kind {
	case backends.HashMD5:
		h = md5.New()
	case backends.HashSHA1:
		h = sha1.New()
	case "sha256":
		h = sha256.New()
	default:
		return "", false
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), true
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}
