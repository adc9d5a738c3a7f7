package main

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// defaultWorkdir is $XDG_STATE_HOME/ferry, or ~/.local/state/ferry when
// XDG_STATE_HOME is unset or not absolute (as the XDG spec asks).
func defaultWorkdir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ferry"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the default workdir: %w; pass --workdir", err)
	}
	return filepath.Join(home, ".local", "state", "ferry"), nil
}

// maxNamePart bounds each side's readable part of a history file name, so
// the whole name stays far below the 255 bytes file systems allow.
const maxNamePart = 48

// historyName is the history file's name for the pair of canonical
// (secret-free) remote names: both names made filesystem-safe and joined
// with "..", then an xxhash of the exact pair, which keeps pairs whose
// readable parts coincide (after sanitising or truncating, or on a
// case-insensitive file system) apart. For example:
//
//	home_me_vault..vault-s3_notes-3f0c2a9d17b4e6a1.hist
func historyName(name1, name2 string) string {
	h := xxhash.New()
	for _, n := range []string{name1, name2} {
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(n)))
		h.Write(l[:])
		h.WriteString(n)
	}
	return fmt.Sprintf("%s..%s-%016x.hist", sanitizeName(name1), sanitizeName(name2), h.Sum64())
}

// sanitizeName keeps ASCII letters, digits and '-', turns each run of other
// characters into one '_' (or one '.' when the run is only dots), trims '.'
// and '_' at both ends, and shortens the result to at most maxNamePart
// bytes by cutting out its middle.
func sanitizeName(s string) string {
	var b strings.Builder
	run, dotsOnly := false, true // inside a run of other characters
	flush := func() {
		if run {
			if dotsOnly {
				b.WriteByte('.')
			} else {
				b.WriteByte('_')
			}
		}
		run, dotsOnly = false, true
	}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			flush()
			b.WriteRune(r)
			continue
		}
		run = true
		dotsOnly = dotsOnly && r == '.'
	}
	flush()
	out := strings.Trim(b.String(), "._")
	if len(out) > maxNamePart {
		// Keep the start (the remote's name) and the end (the folder's
		// own name), the parts a person recognises.
		head := strings.TrimRight(out[:maxNamePart/3], "._")
		tail := strings.TrimLeft(out[len(out)-(maxNamePart-maxNamePart/3-1):], "._")
		out = head + "_" + tail
	}
	if out == "" {
		out = "_"
	}
	return out
}

// deviceIDFile holds this workdir's device id, which names the device in
// conflict copies and deletion records.
const deviceIDFile = "device-id"

// deviceID returns the workdir's device id. When it has none yet, it makes
// one and, unless dryRun, stores it; a dry run never writes, so it uses an
// id that lives only in memory.
func deviceID(workdir string, dryRun bool) (string, error) {
	path := filepath.Join(workdir, deviceIDFile)
	id, err := readDeviceID(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	id, err = newDeviceID()
	if err != nil || dryRun {
		return id, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readDeviceID(path) // another ferry made it first
	}
	if err != nil {
		return "", fmt.Errorf("create device id: %w", err)
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("write device id %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write device id %s: %w", path, err)
	}
	return id, nil
}

func readDeviceID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read device id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if !validDeviceID(id) {
		return "", fmt.Errorf("%s does not hold a device id (want 1 to 32 letters and digits); delete it and ferry will make a new one", path)
	}
	return id, nil
}

func validDeviceID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// newDeviceID returns 6 random lower-case base32 characters (30 bits).
func newDeviceID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make device id: %w", err)
	}
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
	return strings.ToLower(s[:6]), nil
}
