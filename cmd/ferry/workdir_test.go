package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// safeName is what every history file name must look like: portable
// characters only, no leading dot, the hash and the suffix.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*\.\.[A-Za-z0-9._-]+-[0-9a-f]{16}\.hist$`)

func TestHistoryName(t *testing.T) {
	long := "/home/me/" + strings.Repeat("very-long-folder-name/", 20) + "vault"
	pairs := [][2]string{
		{"/home/me/vault", "vault-s3:notes"},
		{"/home/me/vault", "vault-s3:Notes"},  // differs only in case
		{"/home/me/vault", "vault-s3:notes/"}, // differs only in a character sanitising drops
		{"/home/me/vault", "vault_s3:notes"},  // sanitises to the same as the first
		{"vault-s3:notes", "/home/me/vault"},  // the same sides swapped
		{"/home/me/ab", "c"},
		{"/home/me/a", "bc"}, // concatenation of the names is the same as above
		{long + "1", long + "2"},
		{long + "2", long + "1"},
		{"C:\\Users\\me\\vault", ":webdav,url='https://host/dav',vendor=nextcloud:vault"},
		{"/home/me/ノート", "remote:ノート"},
		{"/", "remote:"},
		{"..", "."},
		{"", ""},
	}
	seen := map[string][2]string{}
	for _, p := range pairs {
		name := historyName(p[0], p[1])
		if again := historyName(p[0], p[1]); again != name {
			t.Errorf("historyName%q not stable: %s then %s", p, name, again)
		}
		if !safeName.MatchString(name) {
			t.Errorf("historyName%q = %q, not filesystem-safe", p, name)
		}
		if len(name) > 150 {
			t.Errorf("historyName%q is %d bytes long", p, len(name))
		}
		if q, ok := seen[strings.ToLower(name)]; ok {
			t.Errorf("pairs %q and %q share the history name %s (ignoring case)", q, p, name)
		}
		seen[strings.ToLower(name)] = p
	}

	// Readable, and pinned: the name of an existing pair must never change, or its
	// history would be lost.
	if got, want := historyName("/home/me/vault", "vault-s3:notes"), "home_me_vault..vault-s3_notes-261ddca2a8d32e3e.hist"; got != want {
		t.Errorf("historyName = %s, want %s", got, want)
	}
}

// TestHistoryNameHoldsOnlyTheCanonicalNames checks that the name is made from
// the canonical names alone: what is not in them (a password the user typed
// in a connection string, which the canonical name leaves out) cannot reach
// it.
func TestHistoryNameHoldsOnlyTheCanonicalNames(t *testing.T) {
	name := historyName("/home/me/vault", ":webdav,url='https://host/dav':vault")
	for _, word := range []string{"pass", "secret", "token", "user"} {
		if strings.Contains(name, word) {
			t.Errorf("history name %s contains %q", name, word)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/home/me/vault", "home_me_vault"},
		{"vault-s3:notes", "vault-s3_notes"},
		{"remote:a..b", "remote_a.b"},
		{"remote:a._b", "remote_a_b"},
		{".hidden", "hidden"},
		{"/", "_"},
		{"", "_"},
		{"C:\\Users\\me", "C_Users_me"},
		{"ノート/x", "x"},
		{strings.Repeat("a", maxNamePart), strings.Repeat("a", maxNamePart)},
		{"remote:" + strings.Repeat("x/", 100) + "vault", "remote_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_vault"},
		{strings.Repeat("a", 100), strings.Repeat("a", 16) + "_" + strings.Repeat("a", 31)},
	} {
		if got := sanitizeName(tc.in); got != tc.want {
			t.Errorf("sanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDefaultWorkdir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	if got, _ := defaultWorkdir(); got != filepath.Join("/state", "ferry") {
		t.Errorf("with XDG_STATE_HOME: %s", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative/state") // ignored, as the spec says
	t.Setenv("HOME", "/home/me")
	if got, _ := defaultWorkdir(); got != filepath.Join("/home/me", ".local", "state", "ferry") {
		t.Errorf("without XDG_STATE_HOME: %s", got)
	}
}

func TestDeviceID(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, deviceIDFile)

	// A dry run makes up an id but writes nothing.
	id, err := deviceID(dir, true)
	if err != nil || !validDeviceID(id) || len(id) != 6 {
		t.Fatalf("dry run: deviceID = %q, %v", id, err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("dry run wrote %s (stat: %v)", file, err)
	}

	// A real run stores it, and later runs read it back.
	first, err := deviceID(dir, false)
	if err != nil || !validDeviceID(first) {
		t.Fatalf("deviceID = %q, %v", first, err)
	}
	for _, dry := range []bool{false, true} {
		if again, err := deviceID(dir, dry); again != first || err != nil {
			t.Errorf("deviceID(dryRun=%v) = %q, %v; want the stored %q", dry, again, err, first)
		}
	}

	// A damaged file is reported, not silently replaced.
	if err := os.WriteFile(file, []byte("not an id!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := deviceID(dir, false); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("damaged device-id: err = %v", err)
	}
}

func TestNewDeviceIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := newDeviceID()
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[a-z2-7]{6}$`).MatchString(id) {
			t.Fatalf("newDeviceID = %q", id)
		}
		seen[id] = true
	}
	if len(seen) < 99 {
		t.Errorf("only %d distinct ids in 100", len(seen))
	}
}
