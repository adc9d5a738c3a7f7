package rclonefs

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
)

// recorder is a slog.Handler that keeps records.
type recorder struct {
	level slog.Level
	mu    sync.Mutex
	recs  []slog.Record
}

func (h *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *recorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recorder) WithGroup(string) slog.Handler      { return h }

func TestLogBridge(t *testing.T) {
	rec := &recorder{level: slog.LevelInfo}
	if _, err := Setup(context.Background(), Options{ConfigPath: testConfig, Logger: slog.New(rec)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		if testCtx, err = Setup(context.Background(), Options{ConfigPath: testConfig}); err != nil {
			t.Error(err)
		}
	})
	if got := fs.GetConfig(context.Background()).LogLevel; got != fs.LogLevelInfo {
		t.Errorf("rclone's log level = %v, want INFO for a logger at Info", got)
	}
	fs.Debugf(nil, "debug line")
	fs.Infof("obj", "info line")
	fs.Logf(nil, "notice line")
	fs.Errorf(nil, "error line")

	type line struct {
		level slog.Level
		msg   string
	}
	var got []line
	for _, r := range rec.recs {
		got = append(got, line{r.Level, r.Message})
	}
	want := []line{
		{slog.LevelInfo, "rclone: info line"},
		{slog.LevelInfo, "rclone: notice line"},
		{slog.LevelError, "rclone: error line"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
	attrs := make(map[string]string)
	rec.recs[0].Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	if attrs["object"] != "obj" || len(attrs) != 1 {
		t.Errorf("attributes %v, want object=obj alone", attrs)
	}
}

func TestSetupOverridesDryRun(t *testing.T) {
	// As if RCLONE_DRY_RUN=true had been in the environment when rclone
	// started: writes would be skipped and reported done.
	global := fs.GetConfig(context.Background())
	global.DryRun, global.Interactive = true, true
	ctx, err := Setup(context.Background(), Options{ConfigPath: testConfig})
	if err != nil {
		t.Fatal(err)
	}
	if ci := fs.GetConfig(ctx); ci.DryRun || ci.Interactive || global.DryRun || global.Interactive {
		t.Errorf("after Setup DryRun=%v Interactive=%v, want both off", ci.DryRun, ci.Interactive)
	}
}

func TestSetupOptions(t *testing.T) {
	ctx, err := Setup(context.Background(), Options{
		ConfigPath: testConfig, Transfers: 7, Checkers: 9, LowLevelRetries: 2,
		Timeout: 3 * time.Minute, ConnectTimeout: 4 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ci := fs.GetConfig(ctx)
	if ci.Transfers != 7 || ci.Checkers != 9 || ci.LowLevelRetries != 2 ||
		time.Duration(ci.Timeout) != 3*time.Minute || time.Duration(ci.ConnectTimeout) != 4*time.Second {
		t.Errorf("config in ctx: transfers %d checkers %d retries %d timeout %v contimeout %v",
			ci.Transfers, ci.Checkers, ci.LowLevelRetries, ci.Timeout, ci.ConnectTimeout)
	}
	// A replica carries its configuration into calls made with other
	// contexts.
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := fs.GetConfig(r.with(context.Background())); got.Transfers != 7 {
		t.Errorf("replica call config has %d transfers, want 7", got.Transfers)
	}
	if fs.GetConfig(context.Background()).Transfers == 7 {
		t.Error("Setup changed rclone's global config, want only the returned context's")
	}
}

func TestFerryLevel(t *testing.T) {
	for in, want := range map[slog.Level]slog.Level{
		slog.LevelDebug:       slog.LevelDebug,
		slog.LevelInfo:        slog.LevelInfo,
		fs.SlogLevelNotice:    slog.LevelInfo,
		slog.LevelWarn:        slog.LevelWarn,
		slog.LevelError:       slog.LevelError,
		fs.SlogLevelCritical:  slog.LevelError,
		fs.SlogLevelEmergency: slog.LevelError,
	} {
		if got := ferryLevel(in); got != want {
			t.Errorf("ferryLevel(%v) = %v, want %v", in, got, want)
		}
	}
}
