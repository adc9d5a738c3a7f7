package history

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func gen(n int) *History {
	h := goldenV1()
	h.Written = h.Written.Add(time.Duration(n) * time.Hour)
	h.Records = h.Records[:n]
	return h
}

func mustSave(t *testing.T, path string, h *History) {
	t.Helper()
	if err := Save(path, h); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func mustLoad(t *testing.T, load func(string) (*History, error), path string, want *History) {
	t.Helper()
	got, err := load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	checkEqual(t, got, want)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLoadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pair.hist")
	for name, load := range map[string]func(string) (*History, error){"Load": Load, "LoadPrevious": LoadPrevious} {
		_, err := load(path)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a missing file = %v, want fs.ErrNotExist", name, err)
		}
	}
}

func TestSaveKeepsPreviousGeneration(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pair.hist")
	mustSave(t, path, gen(1))
	mustLoad(t, Load, path, gen(1))
	if _, err := LoadPrevious(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the first Save, LoadPrevious = %v, want fs.ErrNotExist", err)
	}
	for n := 2; n <= 4; n++ {
		mustSave(t, path, gen(n))
		mustLoad(t, Load, path, gen(n))
		mustLoad(t, LoadPrevious, path, gen(n-1))
	}
	if got, want := dirNames(t, dir), []string{"pair.hist", "pair.hist.prev"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600: the history names every file", fi.Mode().Perm())
		}
	}
}

// A Save that fails leaves both generations as they were and no temporary
// file behind.
func TestSaveFailureChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pair.hist")
	mustSave(t, path, gen(1))
	mustSave(t, path, gen(2))
	bad := gen(3)
	bad.Records[1], bad.Records[2] = bad.Records[2], bad.Records[1]
	if err := Save(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Save of unsorted records = %v, want an error naming %s", err, path)
	}
	mustLoad(t, Load, path, gen(2))
	mustLoad(t, LoadPrevious, path, gen(1))
	if got, want := dirNames(t, dir), []string{"pair.hist", "pair.hist.prev"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// What a Save that crashed part way leaves behind: a temporary file cut
// short, or a half-made previous generation. Neither confuses Load, and the
// next Save clears them away.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pair.hist")
	mustSave(t, path, gen(1))
	mustSave(t, path, gen(2))
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"pair.hist.tmp-123456": full[:len(full)/2],
		"pair.hist.tmp-999":    nil,
		"pair.hist.prev.tmp":   full[:10],
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustLoad(t, Load, path, gen(2))
	mustLoad(t, LoadPrevious, path, gen(1))
	mustSave(t, path, gen(3))
	mustLoad(t, Load, path, gen(3))
	mustLoad(t, LoadPrevious, path, gen(2))
	if got, want := dirNames(t, dir), []string{"pair.hist", "pair.hist.prev"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// Other files in the workdir, such as another pair's history, are not
// taken for leftovers.
func TestSaveLeavesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	others := []string{"pair.hist.journal", "pair.histx.tmp-1", "other.hist", "other.hist.tmp-1"}
	for _, name := range others {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustSave(t, filepath.Join(dir, "pair.hist"), gen(1))
	want := append([]string{"pair.hist"}, others...)
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func TestLoadCorruptSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pair.hist")
	if err := os.WriteFile(path, []byte("FERRYHST\x00\x01 cut short"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load = %v, want ErrCorrupt", err)
	}
	for _, want := range []string{path, "--resync"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not mention %q", err, want)
		}
	}

	// With a previous generation, the message points to it.
	mustSave(t, path, gen(1))
	mustSave(t, path, gen(2))
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load = %v, want ErrCorrupt", err)
	}
	for _, want := range []string{path, path + PrevSuffix, "--resync"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not mention %q", err, want)
		}
	}
	mustLoad(t, LoadPrevious, path, gen(1))
}

func TestLoadNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pair.hist")
	if err := os.WriteFile(path, seal(Version+1, []byte("future")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "upgrade ferry") {
		t.Fatalf("Load = %v, want ErrNewerFormat naming the file and saying to upgrade", err)
	}
}

func TestSaveIntoMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "pair.hist")
	if err := Save(path, gen(1)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Save = %v, want fs.ErrNotExist", err)
	}
}

// copyFile is keepPrevious's fallback where hard links are not supported.
func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(src, []byte("contents"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dst); err != nil || string(got) != "contents" {
		t.Fatalf("copy holds %q, %v", got, err)
	}
	if err := copyFile(src, dst); err == nil {
		t.Error("copyFile over an existing file succeeded, want an error")
	}
}
