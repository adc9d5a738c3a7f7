package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/backends/rclonefs"
	"github.com/ferry-sync/ferry/bisync"
	"github.com/ferry-sync/ferry/filters"
	"github.com/ferry-sync/ferry/history"
)

// syncFlags holds the sync command's flags as the user wrote them; options
// turns them into bisync.Options.
type syncFlags struct {
	mode            string
	dryRun          bool
	resync          bool
	compare         string
	conflictResolve string
	conflictLoser   string
	conflictSuffix  string
	createEmptyDirs bool
	removeEmptyDirs bool
	backupDir1      string
	backupDir2      string
	filter          filters.Options
	maxDelete       int
	maxDeleteCount  int
	force           bool
	checkAccess     bool
	checkFilename   string
	noDelete        bool
	transfers       int
	checkers        int
	lowLevelRetries int
	workdir         string
	lockWait        time.Duration
	maxLock         time.Duration
	config          string
	verbose         int
	quiet           bool
	json            bool          // --json: events on stdout instead of the report (jsonout.go)
	sched           scheduleFlags // --every and --pairs-file (every.go, pairs.go)
}

const syncExample = `  ferry sync ~/vault remote:vault                  # both ways (the default)
  ferry sync ~/vault remote:vault --mode push      # path1 -> path2, keep path2's extra files
  ferry sync ~/vault remote:vault --dry-run        # show what would be done, change nothing
  ferry sync ~/vault remote:vault --exclude '.obsidian/**' --max-size 50M
  ferry sync ~/vault remote:vault --filters-file ~/vault-filters.txt
  ferry sync ~/vault remote:vault --force          # let through a run a safety check stopped
  ferry sync ~/vault ":webdav,url='http://127.0.0.1:8080/dav',vendor=other:vault"
  ferry sync vault                                 # the pair stored as "vault" (ferry pair add)
  ferry sync vault --every 5m                      # again and again, until Ctrl-C or SIGTERM`

func newSyncCmd(stdout, stderr io.Writer, started *bool) *cobra.Command {
	return (&syncFlags{}).command(stdout, stderr, started)
}

// command returns the sync command, with its flags bound to f.
func (f *syncFlags) command(stdout, stderr io.Writer, started *bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync PATH1 PATH2 | sync NAME",
		Short: "Bring two folders in step",
		Long: `Bring PATH1 and PATH2 in step. Each is a local path, a remote from
rclone.conf (name:path), or an rclone connection string. With one
argument, NAME, sync runs the pair stored under that name ('ferry pair
add'), with its flags; flags given here override the stored ones.

The first run of a pair is the union of both sides: files with the same
content are recorded, files that differ become conflicts, nothing is
overwritten. Later runs compare each side with the history of the last
successful run, so that deletions and edits travel in the direction of
--mode. Both versions of a file edited on both sides are kept.

One run of a pair at a time: a real run (not --dry-run) takes the pair's
lock in the workdir, and fails when another run holds it, unless
--lock-wait lets it wait. A lock whose process is gone is taken over.

Before changing anything, a run checks that it is safe: it stops when it
would delete more than --max-delete percent (or --max-delete-count files) of
a side, when a side lists no files although the last run left some there,
and, with --check-access, when the --check-filename files are missing on a
side. --force lets the first two through. Changing the filters never needs
--resync and never deletes anything.

--every runs the sync again and again, one run at a time, until a signal
stops it (with status 0). A failed run makes the next wait longer, up to an
hour; a failure that needs you (exit status 2, 3, 7 or 11) ends the loop.

Exit status: 0 on success, 2 for a usage error, 3 when a path is unusable
(unknown remote, a file), 5 when retrying later may help (including another
run holding the lock), 6 when some actions failed, 7 when the history needs
attention, 11 when a safety check stopped the run (nothing was changed), 1
otherwise, including an interrupted run (see docs/exit-codes.md).`,
		Example:           syncExample,
		Args:              f.checkArgs,
		ValidArgsFunction: f.completeArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			return f.runArgs(cmd, args, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	f.addFlags(fl, nil)
	return cmd
}

// addFlags defines sync's flags on fl, bound to f, in the order --help
// lists them; with keep, only the flags whose name keep accepts. Every flag
// sets its field of f to its default, defined on fl or not, so that options
// sees the defaults of the flags a command leaves out. ferry status uses it
// to take the flags that shape the plan from here, with the same names,
// defaults and help.
func (f *syncFlags) addFlags(fl *pflag.FlagSet, keep func(name string) bool) {
	def := bisync.DefaultOptions()
	all := pflag.NewFlagSet("sync", pflag.ContinueOnError)
	all.SortFlags = false
	all.StringVar(&f.mode, "mode", def.Mode.String(), "direction of changes: bidirectional, push, push-delete, pull or pull-delete")
	all.BoolVarP(&f.dryRun, "dry-run", "n", false, "print the plan and change nothing anywhere (not even the workdir)")
	all.BoolVarP(&f.resync, "resync", "1", false, "forget the history and make the union of both sides, as a first run does")
	all.StringVar(&f.compare, "compare", "size,modtime", "comma-separated properties that tell a file changed: size, modtime, checksum")
	all.StringVar(&f.conflictResolve, "conflict-resolve", def.ConflictResolve.String(), "pick a conflict's winner: none, newer, older, larger, smaller, path1, path2")
	all.StringVar(&f.conflictLoser, "conflict-loser", def.ConflictLoser.String(), "what to do with a conflict's loser: num, pathname, delete")
	all.StringVar(&f.conflictSuffix, "conflict-suffix", def.ConflictSuffix, "suffix of renamed conflict copies; two comma-separated values for path1,path2")
	all.BoolVar(&f.createEmptyDirs, "create-empty-src-dirs", false, "sync creation and deletion of empty directories")
	all.BoolVar(&f.removeEmptyDirs, "remove-empty-dirs", false, "remove empty directories at the end of the run")
	all.StringVar(&f.backupDir1, "backup-dir1", "", "copy files that the run overwrites or deletes on path1 here first (a folder outside both paths)")
	all.StringVar(&f.backupDir2, "backup-dir2", "", "copy files that the run overwrites or deletes on path2 here first (a folder outside both paths)")
	all.StringArrayVar(&f.filter.Filter, "filter", nil, "a filter `RULE`: '+ PATTERN', '- PATTERN' or '!' (repeatable; see docs/filters.md)")
	all.StringArrayVar(&f.filter.FilterFiles, "filters-file", nil, "read filter rules from `FILE`, one a line (repeatable; rclone's --filter-from)")
	all.StringArrayVar(&f.filter.Include, "include", nil, "sync only paths that match `PATTERN` (repeatable)")
	all.StringArrayVar(&f.filter.Exclude, "exclude", nil, "do not sync paths that match `PATTERN` (repeatable)")
	all.StringArrayVar(&f.filter.IncludeFrom, "include-from", nil, "read include patterns from `FILE`, one a line (repeatable)")
	all.StringArrayVar(&f.filter.ExcludeFrom, "exclude-from", nil, "read exclude patterns from `FILE`, one a line (repeatable)")
	all.StringVar(&f.filter.MinSize, "min-size", "off", "do not sync files smaller than `SIZE` (e.g. 10k, 1.5M; a bare number is KiB)")
	all.StringVar(&f.filter.MaxSize, "max-size", "off", "do not sync files larger than `SIZE` (e.g. 100M, 2G; a bare number is KiB)")
	all.IntVar(&f.maxDelete, "max-delete", def.MaxDelete, "stop, changing nothing, when the run would delete more than `PERCENT` percent of a side's files (100: no limit)")
	all.IntVar(&f.maxDeleteCount, "max-delete-count", def.MaxDeleteCount, "stop, changing nothing, when the run would delete more than `N` files on a side (0: no limit)")
	all.BoolVar(&f.force, "force", false, "run even when --max-delete, --max-delete-count or the empty-side check would stop it")
	all.BoolVar(&f.checkAccess, "check-access", false, "stop unless both sides hold the --check-filename files, at the same paths")
	all.StringVar(&f.checkFilename, "check-filename", def.CheckFilename, "the file `NAME` that --check-access looks for")
	all.BoolVar(&f.noDelete, "no-delete", false, "never delete a file: deletions are reported, not made, and stay pending")
	all.IntVar(&f.transfers, "transfers", def.Transfers, "number of file transfers to run in parallel")
	all.IntVar(&f.checkers, "checkers", def.Checkers, "number of hash computations and comparisons to run in parallel")
	all.IntVar(&f.lowLevelRetries, "low-level-retries", 10, "number of low level retries of a failed request (as rclone's flag)")
	all.StringVar(&f.workdir, "workdir", "", "folder for ferry's state: the device id and one history per pair (default $XDG_STATE_HOME/ferry or ~/.local/state/ferry)")
	all.DurationVar(&f.lockWait, "lock-wait", 0, "when another run of the pair holds the lock, wait this long for it (e.g. 10m) instead of failing at once")
	all.DurationVar(&f.maxLock, "max-lock", 0, "a lock not renewed for this long is expired and taken over, for workdirs on shared disks; at least 2m (0: never expires)")
	all.StringVar(&f.config, "config", "", "rclone config file (default: rclone's own, honouring RCLONE_CONFIG)")
	f.addScheduleFlags(all) // --every, --pairs-file
	all.CountVarP(&f.verbose, "verbose", "v", "list every action and log it to stderr (-v), with debug details (-vv)")
	all.BoolVarP(&f.quiet, "quiet", "q", false, "print only errors: no summary, no success line")
	all.BoolVar(&f.json, "json", false, "print one JSON object per event on stdout, ending with a summary, instead of the report (docs/json.md)")
	all.VisitAll(func(flag *pflag.Flag) {
		if keep == nil || keep(flag.Name) {
			fl.AddFlag(flag)
		}
	})
}

// options checks the flags and turns them into bisync.Options; the
// replicas, device id and logger are filled in later by run.
func (f *syncFlags) options(cmdPath string) (bisync.Options, error) {
	o := bisync.DefaultOptions()
	bad := func(err error) (bisync.Options, error) {
		return bisync.Options{}, &usageError{err: err, cmd: cmdPath}
	}
	var err error
	if o.Mode, err = bisync.ParseMode(f.mode); err != nil {
		return bad(fmt.Errorf("--mode: %w", err))
	}
	if o.Compare, err = bisync.ParseCompare(f.compare); err != nil {
		return bad(err)
	}
	if o.ConflictResolve, err = bisync.ParseConflictResolve(f.conflictResolve); err != nil {
		return bad(err)
	}
	if o.ConflictLoser, err = bisync.ParseConflictLoser(f.conflictLoser); err != nil {
		return bad(err)
	}
	switch {
	case f.conflictSuffix == "":
		return bad(fmt.Errorf("--conflict-suffix must not be empty"))
	case f.createEmptyDirs && f.removeEmptyDirs:
		return bad(fmt.Errorf("--create-empty-src-dirs and --remove-empty-dirs cannot be used together"))
	case f.transfers < 1:
		return bad(fmt.Errorf("--transfers must be at least 1 (got %d)", f.transfers))
	case f.checkers < 1:
		return bad(fmt.Errorf("--checkers must be at least 1 (got %d)", f.checkers))
	case f.lowLevelRetries < 1:
		return bad(fmt.Errorf("--low-level-retries must be at least 1 (got %d)", f.lowLevelRetries))
	case f.verbose > 0 && f.quiet:
		return bad(fmt.Errorf("-v and -q cannot be used together"))
	case f.lockWait < 0:
		return bad(fmt.Errorf("--lock-wait must not be negative (got %v)", f.lockWait))
	case f.maxLock < 0:
		return bad(fmt.Errorf("--max-lock must not be negative (got %v)", f.maxLock))
	case f.maxDelete < 0 || f.maxDelete > 100:
		return bad(fmt.Errorf("--max-delete is a percentage from 0 to 100 (got %d)", f.maxDelete))
	case f.maxDeleteCount < 0:
		return bad(fmt.Errorf("--max-delete-count must not be negative (got %d; 0 means no limit)", f.maxDeleteCount))
	case f.checkFilename == "" || strings.Contains(f.checkFilename, "/") || f.checkFilename == "." || f.checkFilename == "..":
		return bad(fmt.Errorf("--check-filename must be a file name, without a folder (got %q)", f.checkFilename))
	}
	if f.hasFilters() {
		// Parsed before anything is opened or listed: a bad rule names
		// its file and line, and nothing else happens.
		if o.Filter, err = filters.Parse(f.filter); err != nil {
			return bad(err)
		}
	}
	o.DryRun = f.dryRun
	o.Resync = f.resync
	o.ConflictSuffix = f.conflictSuffix
	o.CreateEmptySrcDirs = f.createEmptyDirs
	o.RemoveEmptyDirs = f.removeEmptyDirs
	o.Transfers = f.transfers
	o.Checkers = f.checkers
	o.MaxDelete = f.maxDelete
	o.MaxDeleteCount = f.maxDeleteCount
	o.Force = f.force
	o.CheckAccess = f.checkAccess
	o.CheckFilename = f.checkFilename
	o.NoDelete = f.noDelete
	return o, nil
}

// hasFilters reports whether any filter flag was given. Without one, the
// options carry no Filter: the engine then excludes only ferry's own files,
// which is what an empty set of rules means too.
func (f *syncFlags) hasFilters() bool {
	o := f.filter
	off := func(size string) bool { return size == "" || strings.EqualFold(size, "off") }
	return len(o.Filter)+len(o.FilterFiles)+len(o.Include)+len(o.Exclude)+len(o.IncludeFrom)+len(o.ExcludeFrom) > 0 ||
		!off(o.MinSize) || !off(o.MaxSize)
}

// logLevel maps -q, -v and -vv to a slog level. The default shows warnings.
func (f *syncFlags) logLevel() slog.Level {
	switch {
	case f.quiet:
		return slog.LevelError
	case f.verbose == 1:
		return slog.LevelInfo
	case f.verbose >= 2:
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// minMaxLock is the least --max-lock, as in rclone bisync: a shorter one is
// raised to it.
const minMaxLock = 2 * time.Minute

// lockFile is the path of the pair's lock, beside its history.
func lockFile(historyFile string) string {
	return strings.TrimSuffix(historyFile, ".hist") + ".lck"
}

// lock takes the pair's lock for a real run, waiting --lock-wait for it.
func (f *syncFlags) lock(ctx context.Context, historyFile string, stderr io.Writer) (*history.Held, error) {
	maxLock := f.maxLock
	if maxLock > 0 && maxLock < minMaxLock {
		if !f.quiet {
			fmt.Fprintf(stderr, "ferry: --max-lock %v is below its minimum; using %v\n", maxLock, minMaxLock)
		}
		maxLock = minMaxLock
	}
	return history.Lock(ctx, lockFile(historyFile), history.LockOptions{
		Wait:    f.lockWait,
		MaxAge:  maxLock,
		Version: version(),
		OnWait: func(held error) {
			if !f.quiet {
				fmt.Fprintf(stderr, "ferry: waiting up to %v: %v\n", f.lockWait, held)
			}
		},
	})
}

// run does one sync: open both sides, run the engine, print the report.
func (f *syncFlags) run(ctx context.Context, cmdPath, path1, path2 string, stdout, stderr io.Writer) (err error) {
	opts, err := f.options(cmdPath)
	if err != nil {
		return err
	}
	out := f.newOutput(stdout, stderr) // progress line or --json events (output.go)
	defer func() { out.end(err) }()
	logger := slog.New(slog.NewTextHandler(out.logOut, &slog.HandlerOptions{Level: f.logLevel()}))
	opts.Logger = logger

	workdir, err := f.workdirPath()
	if err != nil {
		return err
	}
	ctx, pair, err := f.openPair(ctx, cmdPath, path1, path2, workdir, &opts)
	if err != nil {
		return err
	}

	if !opts.DryRun {
		// A dry run writes nothing, not even the workdir, and takes no
		// lock: it changes nothing that another run could trip over.
		if err := os.MkdirAll(workdir, 0o700); err != nil {
			return fmt.Errorf("create workdir: %w", err)
		}
		held, err := f.lock(ctx, pair.HistoryFile, stderr)
		if err != nil {
			return err
		}
		defer func() {
			if err := held.Release(); err != nil {
				fmt.Fprintf(stderr, "ferry: warning: %v\n", err)
			}
		}()
	}
	if opts.DeviceID, err = deviceID(workdir, opts.DryRun); err != nil {
		return err
	}
	logger.Debug("starting", "path1", pair.Path1.String(), "path2", pair.Path2.String(),
		"mode", opts.Mode.String(), "history", pair.HistoryFile, "device", opts.DeviceID)

	out.started(pair.Path1.String(), pair.Path2.String(), &opts)
	res, runErr := bisync.Run(ctx, pair, opts)
	rep := report{
		out:      stdout,
		errOut:   stderr,
		name1:    pair.Path1.String(),
		name2:    pair.Path2.String(),
		mode:     opts.Mode,
		dryRun:   opts.DryRun,
		verbose:  f.verbose > 0,
		quiet:    f.quiet,
		noDelete: opts.NoDelete,
	}
	return out.report(rep, res, runErr)
}

// workdirPath is the absolute path of --workdir, or of the default workdir.
func (f *syncFlags) workdirPath() (string, error) {
	workdir := f.workdir
	if workdir == "" {
		var err error
		if workdir, err = defaultWorkdir(); err != nil {
			return "", err
		}
	}
	abs, err := filepath.Abs(workdir)
	if err != nil {
		return "", fmt.Errorf("workdir %s: %w", f.workdir, err)
	}
	return abs, nil
}

// openPair sets rclone up, opens both sides and the backup dirs (into
// opts), refuses overlapping ones, and names the pair's history file in
// workdir. It creates nothing. The context it returns carries rclone's
// configuration, for the run.
func (f *syncFlags) openPair(ctx context.Context, cmdPath, path1, path2, workdir string, opts *bisync.Options) (context.Context, bisync.Pair, error) {
	ctx, err := rclonefs.Setup(ctx, rclonefs.Options{
		ConfigPath:      f.config,
		Transfers:       f.transfers,
		Checkers:        f.checkers,
		LowLevelRetries: f.lowLevelRetries,
		Logger:          opts.Logger,
	})
	if err != nil {
		return nil, bisync.Pair{}, fmt.Errorf("set up rclone: %w", err)
	}
	pair := bisync.Pair{}
	if pair.Path1, err = openReplica(ctx, "path1", path1); err != nil {
		return nil, bisync.Pair{}, err
	}
	if pair.Path2, err = openReplica(ctx, "path2", path2); err != nil {
		return nil, bisync.Pair{}, err
	}
	if f.backupDir1 != "" {
		if opts.BackupDir1, err = openReplica(ctx, "--backup-dir1", f.backupDir1); err != nil {
			return nil, bisync.Pair{}, err
		}
	}
	if f.backupDir2 != "" {
		if opts.BackupDir2, err = openReplica(ctx, "--backup-dir2", f.backupDir2); err != nil {
			return nil, bisync.Pair{}, err
		}
	}
	if err := checkOverlap(cmdPath, pair, *opts); err != nil {
		return nil, bisync.Pair{}, err
	}
	pair.HistoryFile = filepath.Join(workdir, historyName(pair.Path1.String(), pair.Path2.String()))
	return ctx, pair, nil
}

// checkOverlap refuses a pair whose sides overlap (the same folder, or one
// inside the other), and a backup dir inside either side: each would sync
// ferry's own output back into the run.
func checkOverlap(cmdPath string, p bisync.Pair, o bisync.Options) error {
	n1, n2 := p.Path1.String(), p.Path2.String()
	if overlaps(n1, n2) {
		return usageErrorf(cmdPath, "path1 %s and path2 %s overlap: give two separate folders", n1, n2)
	}
	for i, b := range []backends.Replica{o.BackupDir1, o.BackupDir2} {
		if b == nil {
			continue
		}
		for _, side := range []string{n1, n2} {
			if overlaps(b.String(), side) {
				return usageErrorf(cmdPath, "--backup-dir%d %s overlaps %s: give a folder outside both paths", i+1, b, side)
			}
		}
	}
	return nil
}

// overlaps reports whether canonical names a and b are the same folder or
// one holds the other, as far as their names tell.
func overlaps(a, b string) bool {
	inside := func(outer, inner string) bool {
		if strings.HasSuffix(outer, "/") || strings.HasSuffix(outer, ":") {
			return strings.HasPrefix(inner, outer)
		}
		return strings.HasPrefix(inner, outer+"/")
	}
	return a == b || inside(a, b) || inside(b, a)
}

// openReplica opens one side; what names it in errors.
func openReplica(ctx context.Context, what, remote string) (*rclonefs.Replica, error) {
	r, err := rclonefs.Open(ctx, remote)
	if err != nil {
		return nil, &openError{what: what, remote: remote, err: err}
	}
	return r, nil
}
