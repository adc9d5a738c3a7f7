package rclonefs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/config/configfile"
	"github.com/rclone/rclone/lib/terminal"

	// Every backend rclone has, so a ferry remote can be anything an
	// rclone remote can.
	_ "github.com/rclone/rclone/backend/all"
)

// Options are the rclone settings ferry exposes. Zero values keep rclone's
// defaults.
type Options struct {
	// ConfigPath is the rclone config file (rclone's --config). "" means
	// $RCLONE_CONFIG if set, else rclone's default search
	// (~/.config/rclone/rclone.conf and the other places rclone looks).
	ConfigPath string
	// Transfers and Checkers are rclone's --transfers and --checkers; some
	// backends size their upload concurrency and listing parallelism by them.
	Transfers, Checkers int
	// LowLevelRetries is rclone's --low-level-retries: how often one HTTP
	// request is retried before the operation fails.
	LowLevelRetries int
	// Timeout is rclone's --timeout (idle data channel) and ConnectTimeout
	// its --contimeout.
	Timeout, ConnectTimeout time.Duration
	// Logger receives rclone's log lines at the matching levels. nil
	// discards them: rclone never writes to stdout or stderr.
	Logger *slog.Logger
}

var (
	setupMu   sync.Mutex
	setupDone atomic.Bool
	// defaultConfigPath is where rclone looks for its config file when not
	// told, captured before Setup changes it.
	defaultConfigPath = config.GetConfigPath()
)

// Setup configures rclone for the process and returns ctx carrying rclone's
// configuration; Open must be given that context (or one derived from it).
// It loads the config file as rclone's own commands do, so remotes from the
// file and from RCLONE_CONFIG_<NAME>_* variables both work, and routes
// rclone's logging to opts.Logger.
//
// Setup may be called again (tests do); the last call's logger and config
// file win. It is not safe to call while replicas are in use.
func Setup(ctx context.Context, opts Options) (context.Context, error) {
	setupMu.Lock()
	defer setupMu.Unlock()

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logTarget.Store(logger)

	// rclone decides whether to format a message from its configured
	// level before it reaches the logger, so tell it what ferry's logger
	// would keep. This must be the global config: much of rclone logs
	// with context.Background().
	global := fs.GetConfig(context.Background())
	global.LogLevel = rcloneLevel(ctx, logger.Handler())
	// An encrypted config file may ask for its password, on stderr; only
	// when someone is there to answer.
	global.AskPassword = terminal.IsTerminal(int(os.Stdin.Fd()))
	// rclone reads its global flags from RCLONE_* variables when it
	// starts, and most are welcome (RCLONE_CA_CERT, RCLONE_USER_AGENT,
	// ...). These two are ferry's to decide: under --dry-run rclone
	// skips writes and reports success, and --interactive asks on the
	// terminal before each one.
	global.DryRun = false
	global.Interactive = false

	if err := loadConfigFile(opts.ConfigPath); err != nil {
		return ctx, err
	}

	ctx, ci := fs.AddConfig(ctx)
	if opts.Transfers > 0 {
		ci.Transfers = opts.Transfers
	}
	if opts.Checkers > 0 {
		ci.Checkers = opts.Checkers
	}
	if opts.LowLevelRetries > 0 {
		ci.LowLevelRetries = opts.LowLevelRetries
	}
	if opts.Timeout > 0 {
		ci.Timeout = fs.Duration(opts.Timeout)
	}
	if opts.ConnectTimeout > 0 {
		ci.ConnectTimeout = fs.Duration(opts.ConnectTimeout)
	}
	setupDone.Store(true)
	return ctx, nil
}

// loadConfigFile points rclone at the config file and loads it now, as
// rclone's cmd does with --config and configfile.Install, so that a broken
// file is an error here: loaded lazily, rclone would exit the process.
func loadConfigFile(path string) error {
	if path == "" {
		path = os.Getenv("RCLONE_CONFIG")
	}
	if path == "" {
		path = defaultConfigPath
	}
	if err := config.SetConfigPath(path); err != nil {
		return fmt.Errorf("rclone config file %q: %w", path, err)
	}
	configfile.Install()
	err := config.Data().Load()
	if err != nil && !errors.Is(err, config.ErrorConfigFileNotFound) {
		return fmt.Errorf("reading rclone config file %s: %w", configFileDesc(), err)
	}
	return nil
}

// configFileDesc names the config file for messages.
func configFileDesc() string {
	if p := config.GetConfigPath(); p != "" {
		return p
	}
	return "(none: rclone's config is in memory)"
}
