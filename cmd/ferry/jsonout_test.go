package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// goldenIn compares got with testdata/dir/name.golden, or with -update
// writes it.
func goldenIn(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", dir, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s: got:\n%s\nwant:\n%s", path, got, want)
	}
}

var (
	jsonTime     = regexp.MustCompile(`"time":"[^"]*"`)
	jsonDuration = regexp.MustCompile(`"duration_seconds":[0-9.e+-]+`)
	jsonRunID    = regexp.MustCompile(`"run_id":"[^"]+"`)
	jsonEvent    = regexp.MustCompile(`"event":"([a-z]+)"`)
)

// normaliseEvents makes a --json output comparable across runs: times,
// durations and run ids are replaced, the test's temporary folder is
// $ROOT, and the events that come in no fixed order (the two sides' listings,
// actions done in parallel) are sorted within each run of the same event.
func normaliseEvents(out, root string) string {
	out = strings.ReplaceAll(out, root, "$ROOT")
	out = jsonTime.ReplaceAllString(out, `"time":"TIME"`)
	out = jsonDuration.ReplaceAllString(out, `"duration_seconds":0`)
	out = jsonRunID.ReplaceAllString(out, `"run_id":"RUNID"`)
	lines := strings.SplitAfter(out, "\n")
	kind := func(l string) string {
		m := jsonEvent.FindStringSubmatch(l)
		if m == nil {
			return ""
		}
		switch m[1] {
		case "done", "failed":
			return "finished"
		}
		return m[1]
	}
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && kind(lines[j]) == kind(lines[i]) {
			j++
		}
		slices.Sort(lines[i:j])
		i = j
	}
	return strings.Join(lines, "")
}

// checkEventLines checks what a script relies on: every line of stdout is
// one JSON object with the schema and an event name, and the last one is
// the summary, with the exit status the command exited with.
func checkEventLines(t *testing.T, stdout string, code int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	for i, l := range lines {
		var ev struct {
			Schema   int    `json:"schema"`
			Event    string `json:"event"`
			ExitCode *int   `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		if ev.Schema != jsonSchema || ev.Event == "" {
			t.Errorf("line %d: schema %d, event %q: %s", i+1, ev.Schema, ev.Event, l)
		}
		last := i == len(lines)-1
		if (ev.Event == "summary") != last {
			t.Errorf("line %d: event %q; the summary must be the last line, and only it", i+1, ev.Event)
		}
		if last && (ev.ExitCode == nil || *ev.ExitCode != code) {
			t.Errorf("summary exit_code %v, the command exited %d", ev.ExitCode, code)
		}
	}
}

// TestJSONEventsGolden runs ferry sync --json on real folders through a
// first run, edits, a dry run, a run a safety check stops and a side that
// cannot be opened, and compares the events with golden files.
func TestJSONEventsGolden(t *testing.T) {
	root := t.TempDir()
	p1, p2, work := filepath.Join(root, "one"), filepath.Join(root, "two"), filepath.Join(root, "work")
	write(t, p1, "a.md", "alpha\n", "same.md", "same\n", "notes/n1.md", "1\n", "notes/n2.md", "2\n", "notes/n3.md", "3\n")
	write(t, p2, "b.md", "bravo\n", "same.md", "same\n")
	rc := emptyRcloneConfig(t, root)
	sync := func(name string, wantCode int, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"sync", p1, p2, "--workdir", work, "--config", rc, "--json"}, args...), &out, &errOut)
		if code != wantCode {
			t.Fatalf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, wantCode, out.String(), errOut.String())
		}
		checkEventLines(t, out.String(), code)
		goldenIn(t, "json", name, normaliseEvents(out.String(), root))
	}

	sync("first-run", 0)
	write(t, p1, "a.md", "alpha, edited\n")
	remove(t, p2, "b.md")
	sync("dry-run", 0, "--dry-run")
	sync("edits", 0)
	remove(t, p1, "notes/n1.md", "notes/n2.md", "notes/n3.md", "same.md")
	sync("stopped", exitSafetyCheck)

	var out, errOut bytes.Buffer
	file := filepath.Join(root, "a-file")
	write(t, root, "a-file", "not a folder")
	code := run(context.Background(), []string{"sync", p1, file, "--workdir", work, "--config", rc, "--json"}, &out, &errOut)
	if code != exitDirNotFound {
		t.Fatalf("a file as path2: exit status %d, want %d\n%s", code, exitDirNotFound, errOut.String())
	}
	checkEventLines(t, out.String(), code)
	goldenIn(t, "json", "open-failed", normaliseEvents(out.String(), root))
	if !strings.Contains(errOut.String(), "ferry: sync failed") {
		t.Errorf("the error is not on stderr too:\n%s", errOut.String())
	}
}

// emptyRcloneConfig makes an empty rclone.conf in dir, for in-process runs
// that must not read or create the user's.
func emptyRcloneConfig(t *testing.T, dir string) string {
	t.Helper()
	rc := filepath.Join(dir, "rclone.conf")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}
