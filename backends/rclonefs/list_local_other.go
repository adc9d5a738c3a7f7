//go:build !linux

package rclonefs

// Only Linux has the fast listing of local folders for now: elsewhere
// every listing goes through rclone's walk (newLocalLister returns nil).
const localListSupported = false

type dirReader struct{}

func newDirReader() *dirReader { return &dirReader{} }

func (rd *dirReader) read(w *localWalk, n *dirNode) error { panic("unreachable") }

func lstatDevice(p string) (uint64, bool) { return 0, false }
