package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-sync/ferry/backends"
	"github.com/ferry-sync/ferry/bisync"
)

// conflictsFlags holds the conflicts command's flags: those of sync it
// needs to find the pair and recognise the names.
type conflictsFlags struct {
	sync syncFlags
	// loc is the time zone of the times shown: time.Local, except in tests.
	loc *time.Location
}

// conflictsSyncFlags are the flags of ferry sync that ferry conflicts takes.
var conflictsSyncFlags = []string{"conflict-suffix", "workdir", "config", "low-level-retries"}

const conflictsExample = `  ferry conflicts ~/vault remote:vault   # the conflict copies on both sides of a pair
  ferry conflicts                        # ... of every pair the workdir knows`

func newConflictsCmd(stdout, stderr io.Writer, started *bool) *cobra.Command {
	return (&conflictsFlags{loc: time.Local}).command(stdout, stderr, started)
}

func (f *conflictsFlags) command(stdout, stderr io.Writer, started *bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "conflicts [PATH1 PATH2]",
		Short: "List the conflict copies on both sides of a pair",
		Long: `List the conflict copies that syncs left on PATH1 and PATH2: the files
named like notes/plan.conflict1-20261122-210500-k3x9q2.md, grouped by the file
they are a version of, each with whose version it is, when the sync that
made it ran, on which device, and on which sides it is now.

Without paths, list them for every pair the workdir knows (as ferry status
shows them). Give --conflict-suffix if you sync with one.

Merge the versions by hand and delete the copies; the next sync carries
that over. conflicts only lists: it changes nothing anywhere.`,
		Example: conflictsExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return usageErrorf(cmd.CommandPath(), "conflicts takes no paths, or two, PATH1 and PATH2 (got %d)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			if len(args) == 2 {
				return f.runPair(cmd.Context(), cmd.CommandPath(), args[0], args[1], stdout, stderr)
			}
			return f.runWorkdir(cmd.Context(), cmd.CommandPath(), stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	f.sync.addFlags(fl, func(name string) bool { return slices.Contains(conflictsSyncFlags, name) })
	return cmd
}

// conflictCopy is one conflict copy found, and where.
type conflictCopy struct {
	path string
	bisync.ConflictCopy
	on [2]bool // on path1, on path2
}

// pairConflicts lists both sides of the pair path1, path2 and returns
// their conflict copies, sorted by the path they are a version of, then
// by name.
func (f *conflictsFlags) pairConflicts(ctx context.Context, cmdPath, path1, path2 string, stderr io.Writer) (name1, name2 string, copies []conflictCopy, err error) {
	if strings.TrimSpace(f.sync.conflictSuffix) == "" {
		return "", "", nil, usageErrorf(cmdPath, "--conflict-suffix must not be empty")
	}
	workdir, err := f.sync.workdirPath()
	if err != nil {
		return "", "", nil, err
	}
	opts := bisync.DefaultOptions()
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, pair, err := f.sync.openPair(ctx, cmdPath, path1, path2, workdir, &opts)
	if err != nil {
		return "", "", nil, err
	}
	found := map[string]*conflictCopy{}
	for s, r := range []backends.Replica{pair.Path1, pair.Path2} {
		err := r.List(ctx, func(e backends.Entry) error {
			if e.Dir || strings.HasPrefix(e.Path, metaDirName+"/") {
				return nil
			}
			cc, ok := bisync.ParseConflictName(e.Path, f.sync.conflictSuffix)
			if !ok {
				return nil
			}
			c := found[e.Path]
			if c == nil {
				c = &conflictCopy{path: e.Path, ConflictCopy: cc}
				found[e.Path] = c
			}
			c.on[s] = true
			return nil
		})
		if err != nil {
			return "", "", nil, fmt.Errorf("list path%d %s: %w", s+1, r, err)
		}
	}
	for _, c := range found {
		copies = append(copies, *c)
	}
	slices.SortFunc(copies, func(a, b conflictCopy) int {
		return cmp.Or(strings.Compare(a.Of, b.Of), strings.Compare(a.path, b.path))
	})
	return pair.Path1.String(), pair.Path2.String(), copies, nil
}

// metaDirName is ferry's own folder on each side; nothing in it is a
// user's file.
const metaDirName = ".ferry"

func (f *conflictsFlags) runPair(ctx context.Context, cmdPath, path1, path2 string, stdout, stderr io.Writer) error {
	name1, name2, copies, err := f.pairConflicts(ctx, cmdPath, path1, path2, stderr)
	if err != nil {
		return err
	}
	renderConflicts(stdout, name1, name2, copies, f.loc)
	return nil
}

// runWorkdir lists the conflict copies of every pair the workdir knows. A
// pair whose sides cannot be opened or listed any more is reported on
// stderr and skipped; the command then fails after listing the others.
func (f *conflictsFlags) runWorkdir(ctx context.Context, cmdPath string, stdout, stderr io.Writer) error {
	workdir, err := f.sync.workdirPath()
	if err != nil {
		return err
	}
	ws, err := readWorkdirStatus(workdir, stderr)
	if err != nil {
		return err
	}
	var failed []error
	shown := 0
	for _, p := range ws.pairs {
		if p.name1 == "" || p.name2 == "" {
			continue
		}
		name1, name2, copies, err := f.pairConflicts(ctx, cmdPath, p.name1, p.name2, stderr)
		if err != nil {
			failed = append(failed, fmt.Errorf("pair %s <-> %s: %w", p.name1, p.name2, err))
			fmt.Fprintf(stderr, "ferry: warning: pair %s <-> %s: %v\n", p.name1, p.name2, err)
			continue
		}
		if shown > 0 {
			fmt.Fprintln(stdout)
		}
		renderConflicts(stdout, name1, name2, copies, f.loc)
		shown++
	}
	if shown == 0 && len(failed) == 0 {
		fmt.Fprintf(stdout, "no pairs: no sync has run with the workdir %s yet\n", workdir)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d %s could not be listed; the first: %w", len(failed), plural(len(failed), "pair", "pairs"), failed[0])
	}
	return nil
}

// renderConflicts writes the conflict copies of one pair:
//
//	/home/me/vault <-> remote:vault
//	notes/plan.md
//	  notes/plan.conflict1-20261122-210500-k3x9q2.md  path1's version, 2026-11-22 22:05:00 on k3x9q2, on both sides
//	1 conflict copy of 1 file
func renderConflicts(w io.Writer, name1, name2 string, copies []conflictCopy, loc *time.Location) {
	fmt.Fprintf(w, "%s <-> %s\n", printablePath(name1), printablePath(name2))
	if len(copies) == 0 {
		fmt.Fprintln(w, "no conflict copies")
		return
	}
	width := 0
	for _, c := range copies {
		width = max(width, len(printablePath(c.path)))
	}
	width = min(width, maxPathColumn+20)
	files := 0
	for i, c := range copies {
		if i == 0 || c.Of != copies[i-1].Of {
			files++
			fmt.Fprintln(w, printablePath(c.Of))
		}
		whose := "a version"
		if c.Side > 0 {
			whose = fmt.Sprintf("path%d's version", c.Side)
		}
		when := c.Time.In(loc).Format(logTimeFormat)
		if c.Device != "" {
			when += " on " + c.Device
		}
		where := "on both sides"
		switch {
		case !c.on[1]:
			where = "on path1 only"
		case !c.on[0]:
			where = "on path2 only"
		}
		fmt.Fprintf(w, "  %-*s  %s, %s, %s\n", width, printablePath(c.path), whose, when, where)
	}
	fmt.Fprintf(w, "%d conflict %s of %d %s\n", len(copies), plural(len(copies), "copy", "copies"), files, plural(files, "file", "files"))
}
