package rclonefs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-sync/ferry/backends"
	"github.com/rclone/rclone/fs/config/obscure"
)

// captureLogs points rclone's logging at a buffer, at debug level, for the
// rest of the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if testCtx, err = Setup(context.Background(), Options{ConfigPath: testConfig, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		if testCtx, err = Setup(context.Background(), Options{ConfigPath: testConfig}); err != nil {
			t.Error(err)
		}
	})
	return &buf
}

func TestStringHidesSecrets(t *testing.T) {
	logs := captureLogs(t)
	// A WebDAV server where nothing exists: Open succeeds, Stat fails.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	u := srv.URL + "/dav"
	userURL := strings.Replace(u, "http://", "http://someone:secret@", 1)
	obscured := obscure.MustObscure("hunter2-revealed")
	for _, remote := range []string{
		":webdav,pass=" + obscure.MustObscure("secret") + ",user=u,url='" + u + "':vault",
		":webdav,url='" + userURL + "?token=secret',vendor=other:vault",
		":webdav,url='" + u + "',bearer_token=secret,headers='Authorization,secret':vault",
		":webdav,url='" + u + "',pass=" + obscured + ":vault",
		":alias,remote=':webdav,url=''" + u + "'',pass=" + obscure.MustObscure("secret") + ":x':vault",
	} {
		r, err := Open(testCtx, remote)
		if err != nil {
			t.Errorf("Open(%q): %v", remote, err)
			continue
		}
		name := r.String()
		for _, s := range []string{"secret", obscured, "hunter2", "someone", "token", "pass="} {
			if strings.Contains(name, s) {
				t.Errorf("String() = %q shows %q", name, s)
			}
		}
		if !strings.Contains(name, u) && !strings.Contains(name, "''"+u+"''") || !strings.HasSuffix(name, ":vault") {
			t.Errorf("String() = %q: want the URL and root kept", name)
		}
		_, err = r.Stat(testCtx, "f")
		if !errors.Is(err, backends.ErrNotFound) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Stat: %v, want not found without the secret", err)
		}
	}
	// Not obscured, the password makes rclone fail; the error must not
	// quote it either.
	_, err := Open(testCtx, ":webdav,url='"+u+"',pass=secret:vault")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open with a password rclone cannot reveal: %v, want an error without it", err)
	}
	if !strings.Contains(logs.String(), "Creating backend") {
		t.Errorf("rclone's debug logs were not captured:\n%s", logs)
	}
	for _, s := range []string{"secret", "hunter2", obscured, "someone"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("rclone's logs show %q:\n%s", s, logs)
		}
	}
}

func TestStringKeepsParamsSorted(t *testing.T) {
	dir := t.TempDir()
	r := open(t, ":local,nounc=true,case_sensitive=true:"+dir)
	if want := ":local,case_sensitive=true,nounc=true:" + dir; r.String() != want {
		t.Errorf("String() = %q, want %q", r.String(), want)
	}
}

func TestSanitizeRemote(t *testing.T) {
	for remote, want := range map[string]string{
		"myremote:path": "myremote:path",
		":s3,provider=AWS,secret_access_key=k3y,access_key_id=id:b/p":   ":s3,provider=AWS:b/p",
		":webdav,url='https://u:p4ss@h/dav?sig=x#f',vendor=nextcloud:v": ":webdav,url='https://h/dav',vendor=nextcloud:v",
		":crypt,remote=':s3,secret_access_key=k3y:b',password=pw:":      ":crypt,remote=':s3:b':",
		":webdav,nosuchoption=value:v":                                  ":webdav:v",
	} {
		if got := sanitizeRemote(remote); got != want {
			t.Errorf("sanitizeRemote(%q) = %q, want %q", remote, got, want)
		}
	}
	if got := redact("pass k3y p4ss sig=x"); strings.Contains(got, "k3y") || strings.Contains(got, "p4ss") || strings.Contains(got, "sig=x") {
		t.Errorf("redact left a secret: %q", got)
	}
	// A user name is left out of the name but is no secret: text that
	// holds the same word, a path say, stays readable.
	if got, want := sanitizeRemote(":webdav,user=notes,pass=s3cr3t,url='http://notes@h/':v"), ":webdav,url='http://h/':v"; got != want {
		t.Errorf("sanitizeRemote = %q, want %q", got, want)
	}
	if got, want := redact("/home/me/notes/a.md s3cr3t"), "/home/me/notes/a.md ***"; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}

func TestLocalStringIsAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	r := open(t, "sub/../sub2/")
	if want := filepath.Join(dir, "sub2"); r.String() != want {
		t.Errorf("String() = %q, want %q", r.String(), want)
	}
}

func TestUnknownRemote(t *testing.T) {
	_, err := Open(testCtx, "nosuchremote:path")
	if !errors.Is(err, ErrRemote) {
		t.Fatalf("Open of an unknown remote: %v, want ErrRemote", err)
	}
	for _, want := range []string{`"nosuchremote"`, testConfig, "RCLONE_CONFIG_NOSUCHREMOTE_TYPE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestUnknownNestedRemote(t *testing.T) {
	_, err := Open(testCtx, ":alias,remote='nosuchremote:x':")
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "nosuchremote") {
		t.Errorf("Open of an alias of an unknown remote: %v, want ErrRemote naming it", err)
	}
}

func TestUnknownBackend(t *testing.T) {
	_, err := Open(testCtx, ":nosuchbackend,pass=secret:x")
	if !errors.Is(err, ErrRemote) || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of an unknown backend: %v, want ErrRemote without the secret", err)
	}
	_, err = Open(testCtx, ":webdav,url='unterminated:x")
	if !errors.Is(err, ErrRemote) {
		t.Errorf("Open of a malformed connection string: %v, want ErrRemote", err)
	}
}

func TestFileAsRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(testCtx, file)
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "folder") {
		t.Errorf("Open of a file: %v, want ErrRemote asking for a folder", err)
	}
}

func TestEnvRemote(t *testing.T) {
	t.Setenv("RCLONE_CONFIG_MYREMOTE_TYPE", "local")
	dir := t.TempDir()
	r := open(t, "myremote:"+dir)
	if want := "myremote:" + dir; r.String() != want {
		t.Errorf("String() = %q, want %q", r.String(), want)
	}
	if _, err := r.Put(testCtx, "f.txt", strings.NewReader("env"), backends.Entry{Size: 3}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "f.txt")); err != nil || string(b) != "env" {
		t.Errorf("file on disk: %q, %v", b, err)
	}
}

func TestConfigFileRemote(t *testing.T) {
	dir := t.TempDir()
	r := open(t, "cfgremote:"+dir)
	if want := "cfgremote:" + dir; r.String() != want {
		t.Errorf("String() = %q, want %q", r.String(), want)
	}
}

func TestOpenBeforeSetupIsNotPossibleToForget(t *testing.T) {
	// Setup ran in TestMain; a missing config file is no error (rclone
	// then uses defaults), a broken one is.
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("RCLONE_ENCRYPT_V0:\nnot base64 at all!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		if testCtx, err = Setup(context.Background(), Options{ConfigPath: testConfig}); err != nil {
			t.Error(err)
		}
	})
	t.Setenv("RCLONE_CONFIG_PASS", "wrong")
	if _, err := Setup(context.Background(), Options{ConfigPath: bad}); err == nil {
		t.Error("Setup with an undecryptable config file returned no error")
	}
	if _, err := Setup(context.Background(), Options{ConfigPath: filepath.Join(t.TempDir(), "missing.conf")}); err != nil {
		t.Errorf("Setup with a missing config file: %v", err)
	}
}
