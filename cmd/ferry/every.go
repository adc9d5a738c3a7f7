package main

// ferry sync NAME (a named pair, pairs.go) and ferry sync --every, for
// people without a scheduler: run, wait, run again, until a signal.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sync/ferry/history"
)

// scheduleFlags are sync's flags for named pairs and --every.
type scheduleFlags struct {
	every     time.Duration
	pairsFile string
}

// minEvery is the shortest --every: a shorter one is a typo (--every 5
// means 5ns), and would only spin.
const minEvery = time.Second

// maxBackoff is the longest wait between failed runs, unless --every is
// longer.
const maxBackoff = time.Hour

func (f *syncFlags) addScheduleFlags(fl *pflag.FlagSet) {
	fl.DurationVar(&f.sched.every, "every", 0, "run again and again, waiting this long after each run (e.g. 5m), until stopped by a signal; failed runs back off (0: run once)")
	fl.StringVar(&f.sched.pairsFile, "pairs-file", "", pairsFileUsage)
}

// checkArgs accepts ferry sync's arguments: PATH1 PATH2, or one pair NAME.
func (f *syncFlags) checkArgs(cmd *cobra.Command, args []string) error {
	switch len(args) {
	case 1:
		if !validPairName(args[0]) {
			return usageErrorf(cmd.CommandPath(), "sync needs two paths, PATH1 and PATH2, or the NAME of a stored pair; %q is neither: %s", args[0], pairNameRule)
		}
		return nil
	case 2:
		return nil
	}
	return usageErrorf(cmd.CommandPath(), "sync needs two paths, PATH1 and PATH2, or the NAME of a stored pair (got %d arguments)", len(args))
}

// runArgs runs ferry sync on its arguments: the pair NAME's paths and
// flags (the command line's flags win), or PATH1 and PATH2; once, or
// with --every until a signal.
func (f *syncFlags) runArgs(cmd *cobra.Command, args []string, stdout, stderr io.Writer) error {
	cmdPath := cmd.CommandPath()
	path1, path2, err := f.pairPaths(cmd, args)
	if err != nil {
		return err
	}
	if f.sched.every == 0 {
		return f.run(cmd.Context(), cmdPath, path1, path2, stdout, stderr)
	}
	if err := f.checkEvery(cmdPath); err != nil {
		return err
	}
	return f.runEvery(cmd.Context(), cmdPath, path1, path2, stdout, stderr)
}

// pairPaths returns the two paths of args: PATH1 and PATH2, or those of
// the pair NAME, whose stored flags it then sets on cmd's flags, except
// those given on the command line.
func (f *syncFlags) pairPaths(cmd *cobra.Command, args []string) (path1, path2 string, err error) {
	if len(args) == 2 {
		return args[0], args[1], nil
	}
	pf, err := readPairsFlag(cmd, f.sched.pairsFile)
	if err != nil {
		return "", "", err
	}
	p, err := pf.lookup(cmd.CommandPath(), args[0])
	if err != nil {
		return "", "", err
	}
	if err := p.apply(cmd.Flags()); err != nil {
		return "", "", usageErrorf(cmd.CommandPath(), "pairs file %s: %w", pf.path, err)
	}
	// Checked here as well as by the run, so that a stored value the
	// parser took but sync refuses (mode = 'sideways') names its pair.
	if _, err := f.options(cmd.CommandPath()); err != nil {
		return "", "", usageErrorf(cmd.CommandPath(), "pair %q of %s, with the command line's flags: %w", p.name, pf.path, err)
	}
	return p.path1, p.path2, nil
}

// checkEvery refuses --every values and companions that make no sense in a
// loop.
func (f *syncFlags) checkEvery(cmdPath string) error {
	switch {
	case f.sched.every < minEvery:
		return usageErrorf(cmdPath, "--every must be at least %v (got %v); for one run, leave it out", minEvery, f.sched.every)
	case f.dryRun:
		return usageErrorf(cmdPath, "--every cannot be used with --dry-run: a dry run changes nothing, so repeating it shows the same plan")
	case f.resync:
		return usageErrorf(cmdPath, "--every cannot be used with --resync: run one --resync first, then --every")
	case f.force:
		return usageErrorf(cmdPath, "--every cannot be used with --force: a safety check needs a person; run once with --force after reading its message, then --every")
	}
	return nil
}

// runEvery runs the pair again and again, one run at a time, waiting
// --every after each, until ctx is cancelled (a signal) or a run fails in a
// way that needs the user (needsUser). A failed run that may pass later
// makes the next wait longer: --every, then twice, four times... up to
// maxBackoff (or --every, if longer); a successful run resets it.
//
// A signal stops the loop with success: while it waits, at once; during a
// run, that run is interrupted as any run is (its finished actions are
// kept, and the next run does the rest), then the loop stops.
func (f *syncFlags) runEvery(ctx context.Context, cmdPath, path1, path2 string, stdout, stderr io.Writer) error {
	every := f.sched.every
	say := func(format string, args ...any) {
		if !f.quiet {
			fmt.Fprintf(stderr, "ferry: "+format+"\n", args...)
		}
	}
	failures := 0
	for run := 1; ; run++ {
		err := f.run(ctx, cmdPath, path1, path2, stdout, stderr)
		if ctx.Err() != nil {
			if err != nil {
				say("stopped by a signal during run %d: nothing of it was committed; its finished actions are kept, and the next run does the rest", run)
			} else {
				say("stopped by a signal after run %d", run)
			}
			return nil
		}
		wait := every
		switch {
		case err == nil:
			if failures > 0 {
				say("run %d succeeded after %d failed %s; waiting %v between runs again", run, failures, plural(failures, "run", "runs"), every)
			}
			failures = 0
		case needsUser(err):
			fmt.Fprintf(stderr, "ferry: --every stops: run %d failed in a way that needs you (exit status %d); fix it, then start ferry again\n", run, exitCode(err))
			return err
		case errors.Is(err, history.ErrLocked):
			// Another ferry is syncing this pair: nothing is wrong,
			// and the next tick will find the lock free.
			say("run %d skipped: %v", run, err)
		default:
			printError(stderr, "sync", err)
			failures++
			wait = backoff(every, failures)
			// Shown even with -q: a timer's log should say why the
			// next run is late.
			fmt.Fprintf(stderr, "ferry: run %d failed (exit status %d; %d in a row); next run in %v\n", run, exitCode(err), failures, wait)
		}
		if f.verbose > 0 {
			fmt.Fprintf(stderr, "ferry: next run in %v, at %s\n", wait, time.Now().Add(wait).Format(time.TimeOnly))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			say("stopped by a signal while waiting, after run %d", run)
			return nil
		case <-timer.C:
		}
	}
}

// backoff is the wait after the failures-th failed run in a row: every,
// doubled for each failure after the first, up to maxBackoff (or every,
// when that is longer).
func backoff(every time.Duration, failures int) time.Duration {
	limit := max(every, maxBackoff)
	wait := every
	for i := 1; i < failures && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}

// needsUser reports whether a failed run needs a person before running
// again makes sense: the same run would fail the same way (a usage error, a
// path that cannot be opened, a history that needs attention), or it
// stopped for a safety check, which must never be retried blindly. Other
// failures (temporary errors, some actions failing) let the loop go on:
// the files that can be synced still are.
func needsUser(err error) bool {
	switch exitCode(err) {
	case exitUsage, exitDirNotFound, exitFatal, exitSafetyCheck:
		return true
	}
	return false
}
