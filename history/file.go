package history

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// PrevSuffix names the previous generation: Save keeps the file it replaces
// as path+PrevSuffix.
const PrevSuffix = ".prev"

// tmpInfix names Save's temporary files: path+tmpInfix+random digits.
const tmpInfix = ".tmp-"

// Save writes h to path atomically: at every instant path holds either the
// old history or the new one, whole. It writes a temporary file in the same
// directory and syncs it, keeps the current file as path+PrevSuffix, renames
// the temporary file over path and syncs the directory. It removes
// temporary files left by a Save that crashed; the caller holds the workdir
// lock, so no other Save of the same path runs at the same time.
func Save(path string, h *History) (err error) {
	dir := filepath.Dir(path)
	removeStaleTemps(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := Encode(bw, h); err != nil {
		return fmt.Errorf("save history %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if err := keepPrevious(path); err != nil {
		return fmt.Errorf("save history %s: keep the previous generation: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("save history %s: sync directory: %w", path, err)
	}
	return nil
}

// keepPrevious makes path+PrevSuffix a copy of path, if path exists, while
// path stays in place: renaming path away first would leave a moment with
// no history at all, which a crash would turn into "no history" and a
// first-run sync. A hard link costs nothing; where links are not supported
// the file is copied.
func keepPrevious(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	prev := path + PrevSuffix
	tmp := prev + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Link(path, tmp); err != nil {
		if err := copyFile(path, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return os.Rename(tmp, prev)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeStaleTemps removes what a crashed Save of path left behind. Failing
// to is harmless: Load never reads them.
func removeStaleTemps(path string) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), base+tmpInfix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncDir makes the renames in dir durable. Windows cannot sync a
// directory, and its renames need no such step.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// Load reads the history at path. With no history there, the error wraps
// fs.ErrNotExist. A damaged file gives an error wrapping ErrCorrupt, one from
// a newer ferry an error wrapping ErrNewerFormat; either names the file and
// says what the user can do.
func Load(path string) (*History, error) {
	h, err := load(path)
	if err != nil && errors.Is(err, ErrCorrupt) {
		prev := path + PrevSuffix
		if _, serr := os.Stat(prev); serr == nil {
			return nil, fmt.Errorf("%w; the previous generation (before the last run that changed it) is at %s: move the corrupt file "+
				"aside and copy the previous generation in its place, or run with --resync", err, prev)
		}
		return nil, fmt.Errorf("%w; move the corrupt file aside and run with --resync", err)
	}
	return h, err
}

// LoadPrevious reads the previous generation of the history at path, the
// one Save kept as path+PrevSuffix.
func LoadPrevious(path string) (*History, error) {
	return load(path + PrevSuffix)
}

func load(path string) (*History, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// The *fs.PathError names the file and wraps fs.ErrNotExist.
		return nil, fmt.Errorf("load history: %w", err)
	}
	h, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("load history %s: %w", path, err)
	}
	return h, nil
}
