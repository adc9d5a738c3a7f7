package rclonefs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// testCtx is the context Setup returned; every test opens remotes with it.
var testCtx context.Context

// testConfig is an rclone config file of the tests' own, so that they
// never read the user's.
var testConfig string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rclonefs-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testConfig = filepath.Join(dir, "rclone.conf")
	conf := "[cfgremote]\ntype = local\n"
	if err := os.WriteFile(testConfig, []byte(conf), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCtx, err = Setup(context.Background(), Options{ConfigPath: testConfig})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// open opens remote with the test context and fails the test on error.
func open(t *testing.T, remote string) *Replica {
	t.Helper()
	r, err := Open(testCtx, remote)
	if err != nil {
		t.Fatalf("Open(%q): %v", remote, err)
	}
	return r
}

// throughWalk makes r list through rclone's walk, as a replica that the
// fast listing of local folders does not apply to would: in no particular
// order.
func throughWalk(r *Replica) {
	r.local = nil
	r.caps.ListSorted = false
}
