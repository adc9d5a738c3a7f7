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
func TestConformanceWebDAV(t *testing.T) {
	srv := httptest.NewServer(&webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()})
	defer srv.Close()
	replicatest.Run(t, func(t *testing.T) backends.Replica {
		return open(t, fmt.Sprintf(":webdav,url='%s',vendor=other,pacer_min_sleep=1us,user=someone,pass=%s:r%d",
			srv.URL, "tAKrJqdAyO7RaSYH1Ulc7q8TYaSbfSO4", davSeq.Add(1)))
	})
}
