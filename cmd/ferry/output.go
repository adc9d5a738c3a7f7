package main

import (
	"io"

	"github.com/ferry-sync/ferry/bisync"
)

// runOutput is what a sync shows while it runs, besides its report: the
// status line on a terminal (progress), or with --json the events on
// stdout, which then carry the summary instead of the report.
type runOutput struct {
	stdout, stderr io.Writer
	prog           *progress   // nil unless stderr is a terminal
	events         *jsonEvents // nil without --json
	// logOut is where the logs go: stderr, through the status line's
	// writer while it is drawn.
	logOut io.Writer
	dryRun bool
}

// newOutput decides what the run shows. The status line is for a person
// watching: only on a terminal, and neither with -q nor with --json, which
// are for scripts.
func (f *syncFlags) newOutput(stdout, stderr io.Writer) *runOutput {
	o := &runOutput{stdout: stdout, stderr: stderr, logOut: stderr, dryRun: f.dryRun}
	if f.json {
		o.events = newJSONEvents(stdout)
	}
	if term, ok := isTerminal(stderr); ok && !f.quiet && !f.json {
		o.prog = newProgress(stderr, terminalWidth(term))
		o.logOut = o.prog.logWriter()
	}
	return o
}

// started says that both sides are open, under their canonical names, and
// makes opts report to the status line or the events.
func (o *runOutput) started(name1, name2 string, opts *bisync.Options) {
	if o.events != nil {
		o.events.startRun(name1, name2, *opts)
		o.events.hook(opts)
	}
	if o.prog != nil {
		o.prog.hook(opts)
	}
}

// report prints what the run did: the report of rep, or with --json only
// its diagnostics on stderr (the summary follows in end). It returns the
// error the command fails with.
func (o *runOutput) report(rep report, res *bisync.Result, runErr error) error {
	if o.prog != nil {
		o.prog.stop()
	}
	if o.events != nil {
		// The same checks and the same error as the report, with the
		// text for people discarded: warnings and failed actions still
		// go to stderr.
		rep.out = io.Discard
		rep.verbose = false
	}
	err := rep.print(res, runErr)
	if o.events != nil {
		o.events.finish(res, o.dryRun, err)
	}
	return err
}

// end runs when the command ends, however it ends: it removes the status
// line and, with --json, writes the summary of a run that failed before
// it could report (a side that could not be opened, the lock held).
func (o *runOutput) end(err error) {
	if o.prog != nil {
		o.prog.stop()
	}
	if o.events != nil {
		o.events.finish(nil, o.dryRun, err) // dropped if report wrote one
	}
}
