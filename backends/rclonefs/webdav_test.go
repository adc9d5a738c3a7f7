package rclonefs

import (
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/replicatest"
	"golang.org/x/net/webdav"
)

var davSeq atomic.Int64

// TestConformanceWebDAV runs the suite over rclone's WebDAV backend against
// an in-memory server (vendor "other": no modtimes, no hashes, directories).
// It stays beside the real servers of TestConformanceServers: x/net/webdav
// writes an upload in place under vendor "other" (what Put's temporary
// names guard against), and it runs under -short. Its pacer spaces retries
// by at least 1ms: the server answers 423 Locked to a MKCOL while another
// MKCOL of the same folder runs, and retries a microsecond apart ran out
// on a loaded machine.
func TestConformanceWebDAV(t *testing.T) {
	srv := httptest.NewServer(&webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()})
	defer srv.Close()
	replicatest.Run(t, func(t *testing.T) backends.Replica {
		return open(t, fmt.Sprintf(":webdav,url='%s',vendor=other,pacer_min_sleep=1ms,user=someone,pass=%s:r%d",
			srv.URL, "tAKrJqdAyO7RaSYH1Ulc7q8TYaSbfSO4", davSeq.Add(1)))
	})
}
