package mem

import (
	"fmt"
	"slices"
	"time"
)

// Option changes how a Replica created by New behaves, so that engine tests
// can imitate the quirks of real backends.
type Option func(*config)

type config struct {
	precision       time.Duration
	noSetModTime    bool
	listHash        string
	hashes          []string
	hashesSet       bool
	caseInsensitive bool
	noDirs          bool
	sortedList      bool
	clock           func() time.Time
	space           *Space
}

func defaultConfig() config {
	// The defaults imitate a local disk on Linux: nanosecond modtimes that
	// Put keeps, md5 on request only, case-sensitive names, real directories.
	return config{
		precision: time.Nanosecond,
		clock:     time.Now,
	}
}

// Precision sets the resolution of the modification times the replica keeps;
// times are truncated to it on the way in. 0 means the replica keeps no
// modification times at all: listings report the zero time and Caps says
// neither SetModTime nor ListModTime.
func Precision(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("mem: negative precision %v", d))
	}
	return func(c *config) { c.precision = d }
}

// NoSetModTime makes Put ignore the source's modification time and stamp
// the replica's clock instead, as many WebDAV servers do.
func NoSetModTime() Option {
	return func(c *config) { c.noSetModTime = true }
}

// ListHash makes listings carry a hash of the given kind for free, as S3's
// ETag does for md5. The kind is added to Hashes if missing.
func ListHash(kind string) Option {
	checkKind(kind)
	return func(c *config) { c.listHash = kind }
}

// Hashes sets the kinds Hash can compute, preferred first ("md5", "sha1",
// "sha256"). The default is md5 alone; Hashes() with no kind makes a replica
// that cannot hash at all.
func Hashes(kinds ...string) Option {
	for _, k := range kinds {
		checkKind(k)
	}
	kinds = slices.Clone(kinds)
	return func(c *config) { c.hashes, c.hashesSet = kinds, true }
}

// CaseInsensitive makes names that differ only in case the same file, as on
// Windows and macOS. A name keeps the case it was first written with.
func CaseInsensitive() Option {
	return func(c *config) { c.caseInsensitive = true }
}

// NoDirs makes the replica behave like an object store: directories exist
// only while a file is under them, Mkdir does nothing and empty directories
// vanish. Listings still report the implied directories, as rclone reports
// an object store's prefixes.
func NoDirs() Option {
	return func(c *config) { c.noDirs = true }
}

// SortedList makes List report the files in path order and Caps say so
// (ListSorted), as ferry's own local listing does; directories still come
// in no particular order, before the files.
func SortedList() Option {
	return func(c *config) { c.sortedList = true }
}

// Clock sets the replica's clock, used to stamp files whose modification
// time is not kept (NoSetModTime, or a source without one).
func Clock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// Space is a storage account that several replicas can share: CopyFrom
// copies server-side between replicas of one Space and refuses with
// backends.ErrCannotCopy otherwise, as rclone does between two remotes.
type Space struct {
	_ byte // distinct Spaces must have distinct addresses
}

// NewSpace returns a Space to pass to InSpace.
func NewSpace() *Space { return &Space{} }

// InSpace puts the replica in s. Without it every replica is alone in its own
// Space and can copy server-side only within itself.
func InSpace(s *Space) Option {
	return func(c *config) { c.space = s }
}

var hashKinds = []string{"md5", "sha1", "sha256"}

func checkKind(kind string) {
	if !slices.Contains(hashKinds, kind) {
		panic(fmt.Sprintf("mem: unknown hash kind %q (want one of %v)", kind, hashKinds))
	}
}
