package rclonefs

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/rclone/rclone/fs"
)

// rclone's fs/log writes to stderr from its init; from ferry's init on,
// rclone logs through the bridge, which discards until Setup names a
// logger.
func init() { fs.SetLogger(bridgeHandler{}) }

// logTarget is ferry's logger, where bridgeHandler sends rclone's records.
// rclone has one process-wide logger (fs.SetLogger), so this is
// process-wide too.
var logTarget atomic.Pointer[slog.Logger]

// ferryLevel maps rclone's slog levels, which include NOTICE (2) and
// CRITICAL and above, onto the four levels ferry uses.
func ferryLevel(l slog.Level) slog.Level {
	switch {
	case l < slog.LevelInfo:
		return slog.LevelDebug
	case l < slog.LevelWarn: // INFO and NOTICE
		return slog.LevelInfo
	case l < slog.LevelError:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// rcloneLevel is the most verbose rclone level h keeps, so that rclone
// does not format messages that would be dropped.
func rcloneLevel(ctx context.Context, h slog.Handler) fs.LogLevel {
	switch {
	case h.Enabled(ctx, slog.LevelDebug):
		return fs.LogLevelDebug
	case h.Enabled(ctx, slog.LevelInfo):
		return fs.LogLevelInfo
	case h.Enabled(ctx, slog.LevelWarn):
		return fs.LogLevelWarning
	default:
		return fs.LogLevelError
	}
}

// bridgeHandler is the slog.Handler rclone logs to. It maps levels, redacts
// connection-string secrets (rclone logs the remote string it is asked to
// open, at debug level) and passes the record to logTarget, looked up per
// record so that a later Setup redirects rclone's logger.
type bridgeHandler struct {
	// with replays WithAttrs and WithGroup calls on the target, in order.
	with []func(slog.Handler) slog.Handler
}

func (b bridgeHandler) target() slog.Handler {
	l := logTarget.Load()
	if l == nil {
		return slog.DiscardHandler
	}
	h := l.Handler()
	for _, w := range b.with {
		h = w(h)
	}
	return h
}

func (b bridgeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return b.target().Enabled(ctx, ferryLevel(l))
}

func (b bridgeHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, ferryLevel(r.Level), "rclone: "+redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		// objectType is a Go type name, noise to a ferry user.
		if a.Key != "objectType" {
			out.AddAttrs(redactAttr(a))
		}
		return true
	})
	h := b.target()
	if !h.Enabled(ctx, out.Level) {
		return nil
	}
	return h.Handle(ctx, out)
}

func (b bridgeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return b.plus(func(h slog.Handler) slog.Handler { return h.WithAttrs(red) })
}

func (b bridgeHandler) WithGroup(name string) slog.Handler {
	return b.plus(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (b bridgeHandler) plus(w func(slog.Handler) slog.Handler) bridgeHandler {
	return bridgeHandler{with: append(b.with[:len(b.with):len(b.with)], w)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String()))
	case slog.KindAny:
		// rclone passes errors and Stringers as attrs; render them as
		// text so that they pass the redaction.
		return slog.String(a.Key, redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, a := range g {
			out[i] = redactAttr(a)
		}
		return slog.Group(a.Key, out...)
	}
	return slog.Attr{Key: a.Key, Value: v}
}
