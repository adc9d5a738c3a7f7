// Command ferry keeps two folders in step, in both directions or in one. Each
// folder is anything rclone can reach: a local path, a remote from rclone.conf
// or an on-the-fly connection string.
//
// This package only wires things together: it turns command-line flags into
// bisync.Options, opens the two sides with backends/rclonefs, runs the engine,
// renders its Result, and maps the outcome to an exit status (see
// docs/exit-codes.md). The engine itself lives in package bisync.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// A sync's heap is mostly what it holds for the whole run
		// (the history, about 160 bytes a file), and the collector
		// lets the heap grow by GOGC percent of what it found live
		// before it runs again: the default of 100 nearly doubles the
		// peak. At 25 a no-change run of 100,000 local files peaks at
		// about 93 MB instead of 98 MB at 50 (and 103 MB before with
		// larger history groups), for about 10% more time, 0.41 s
		// against 0.37 s (docs/performance.md): each collection marks
		// the same few tens of MB, mostly on the second core. GOGC
		// still overrides.
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default behaviour so that a
		// second Ctrl-C ends the process at once.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// gcPercent is the GOGC that ferry runs with unless GOGC is set: see main.
const gcPercent = 25

// run executes the command line args and returns the process exit status.
// It writes the report to stdout and diagnostics to stderr, and never calls
// os.Exit, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	started := false // set once a command's RunE is entered
	root := newRootCmd(stdout, stderr, &started)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var ue *usageError
	if err != nil && !started && !errors.As(err, &ue) {
		// Everything cobra rejects before a command runs (unknown command
		// or flag, wrong number of arguments, bad flag value) is a usage
		// error.
		err = &usageError{err: err}
	}
	if err != nil {
		name := "ferry"
		if cmd != nil && cmd != root {
			name = cmd.Name()
		}
		printError(stderr, name, err)
	}
	return exitCode(err)
}

func newRootCmd(stdout, stderr io.Writer, started *bool) *cobra.Command {
	root := &cobra.Command{
		Use:   "ferry",
		Short: "Two-way file sync between any two places rclone can reach",
		Long: `ferry keeps two folders in step, in both directions or in one. Each folder
is anything rclone can reach: a local path, a remote from rclone.conf
(vault-s3:notes) or a connection string (":webdav,url='https://host/dav':vault").`,
		Version:       version(),
		SilenceErrors: true, // run prints errors itself, with a hint
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{err: err, cmd: c.CommandPath()}
	})
	root.AddCommand(newSyncCmd(stdout, stderr, started), newStatusCmd(stdout, stderr, started), newLogCmd(stdout, stderr, started))
	root.AddCommand(newConflictsCmd(stdout, stderr, started))
	root.AddCommand(newPairCmd(stdout, stderr, started), newConfigCmd(stderr, started), newManCmd(stdout, started))
	addCompletions(root)
	return root
}

// usageError is a syntax or usage error on the command line (exit status 2).
type usageError struct {
	err error
	cmd string // the command whose --help to suggest; "" for ferry
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), cmd: cmd}
}

// printError writes the error of the command name ("sync", "status", "log") and
// what to do about it to stderr.
func printError(stderr io.Writer, name string, err error) {
	var ue *usageError
	if errors.As(err, &ue) {
		cmd := ue.cmd
		if cmd == "" {
			cmd = "ferry"
		}
		fmt.Fprintf(stderr, "ferry: %v\nferry: run '%s --help' for usage\n", err, cmd)
		return
	}
	var stop *wouldStopError
	if errors.As(err, &stop) {
		// ferry status showed the check's error with the plan it stops.
		fmt.Fprintf(stderr, "ferry: %s: a safety check would stop a sync of this pair now (the report says why); nothing was changed\n", name)
		return
	}
	// An error may join several (both sides over --max-delete, say): one
	// a line, the later ones indented under the first.
	msg := strings.ReplaceAll(err.Error(), "\n", "\n  ")
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "ferry: %s failed: interrupted (%s)\n", name, msg)
	} else {
		fmt.Fprintf(stderr, "ferry: %s failed: %s\n", name, msg)
	}
	if h := hint(err); h != "" {
		fmt.Fprintf(stderr, "ferry: %s\n", h)
	}
}
