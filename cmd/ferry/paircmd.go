package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sync/ferry/backends/rclonefs"
)

const pairExample = `  ferry pair add vault ~/vault vault-s3:notes --exclude '.obsidian/workspace*'
  ferry pair add photos ~/Pictures nas:photos --mode push --max-size 200M
  ferry pair list
  ferry pair show vault
  ferry sync vault                       # runs the stored pair
  ferry sync vault --dry-run --mode pull # flags on the command line win
  ferry pair remove photos`

// pairsFileUsage is the help of --pairs-file, on every command that has it.
const pairsFileUsage = "the pairs `FILE` (default $" + pairsFileEnv + ", else $XDG_CONFIG_HOME/ferry/pairs.toml or ~/.config/ferry/pairs.toml)"

func newPairCmd(stdout, _ io.Writer, started *bool) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "pair",
		Short: "Store pairs under a name, so that 'ferry sync NAME' runs them",
		Long: `A named pair stores two paths and sync's flags under one name, in the
pairs file, so that 'ferry sync NAME' (and a timer's command line) stays
short. Flags given on the command line override the stored ones, flag by
flag.

The pairs file is TOML, meant to be read and edited by hand: one table per
pair, [NAME], with path1, path2, and sync's flags without their dashes
(mode = 'push', exclude = ['*.tmp'], max-delete = 20). It is
$` + pairsFileEnv + `, else $XDG_CONFIG_HOME/ferry/pairs.toml, else
~/.config/ferry/pairs.toml; --pairs-file names another.

` + strings.ToUpper(pairNameRule[:1]) + pairNameRule[1:] + `.

The file stores what you typed, in plain text (mode 0600): keep passwords
and keys in rclone.conf (which rclone can encrypt), not in a connection
string of a pair.`,
		Example: pairExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf(cmd.CommandPath(), "unknown pair command %q: the commands are add, list, show and remove", args[0])
			}
			return usageErrorf(cmd.CommandPath(), "pair needs a command: add, list, show or remove")
		},
	}
	cmd.PersistentFlags().StringVar(&file, "pairs-file", "", pairsFileUsage)
	cmd.AddCommand(newPairAddCmd(&file, stdout, started), newPairListCmd(&file, stdout, started),
		newPairShowCmd(&file, stdout, started), newPairRemoveCmd(&file, stdout, started))
	return cmd
}

func newPairAddCmd(file *string, stdout io.Writer, started *bool) *cobra.Command {
	var (
		f       syncFlags
		replace bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME PATH1 PATH2 [flags]",
		Short: "Store PATH1, PATH2 and sync's flags under NAME",
		Long: `Store PATH1, PATH2 and the given flags of ferry sync under NAME in the pairs
file. The flags are checked as ferry sync checks them (a filter file must be
readable, for example). Local paths, and the files and folders that flags
name, are stored absolute, so the pair runs from any folder. --dry-run,
--resync, --force and --every are for one run and cannot be stored.

The rest of the file, comments included, is kept as it is; a new pair is
added at its end, and --replace rewrites an existing one in place.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 3 {
				return usageErrorf(cmd.CommandPath(), "pair add needs NAME, PATH1 and PATH2 (got %d arguments)", len(args))
			}
			if !validPairName(args[0]) {
				return usageErrorf(cmd.CommandPath(), "%q cannot be a pair name: %s", args[0], pairNameRule)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			return pairAdd(cmd, &f, *file, args, replace, stdout)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	// The flags a pair cannot store are there, hidden, so that giving one
	// says why rather than "unknown flag". --pairs-file is pair's own.
	f.addFlags(fl, func(name string) bool { return name != "pairs-file" })
	for name := range notStorable {
		if fl.Lookup(name) != nil {
			_ = fl.MarkHidden(name) // cannot fail: the flag exists
		}
	}
	fl.BoolVar(&replace, "replace", false, "replace the pair if the pairs file already has one of that name")
	return cmd
}

// pairAdd stores a pair: its paths and the flags given on the command line.
func pairAdd(cmd *cobra.Command, f *syncFlags, file string, args []string, replace bool, stdout io.Writer) error {
	cmdPath := cmd.CommandPath()
	var bad error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		// --pairs-file here is pair's own, naming the file to edit.
		if why, ok := notStorable[fl.Name]; ok && fl.Name != "pairs-file" && bad == nil {
			bad = usageErrorf(cmdPath, "--%s cannot be stored in a pair: %s", fl.Name, why)
		}
	})
	if bad != nil {
		return bad
	}
	// The same checks as sync's, before anything is written.
	if _, err := f.options(cmdPath); err != nil {
		return err
	}
	p := &namedPair{name: args[0]}
	var err error
	if p.path1, err = absPath("path1", args[1], true); err != nil {
		return err
	}
	if p.path2, err = absPath("path2", args[2], true); err != nil {
		return err
	}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if fl.Name == "replace" || fl.Name == "pairs-file" || err != nil {
			return
		}
		values := []string{fl.Value.String()}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for i, v := range values {
			if slices.Contains(localPathFlags, fl.Name) || slices.Contains(remotePathFlags, fl.Name) {
				if values[i], err = absPath("--"+fl.Name, v, slices.Contains(remotePathFlags, fl.Name)); err != nil {
					return
				}
			}
		}
		p.flags = append(p.flags, pairFlag{name: fl.Name, values: values})
	})
	if err != nil {
		return err
	}
	sortPairFlags(p.flags)

	path, err := pairsFilePath(file)
	if err != nil {
		return err
	}
	pf, err := readPairs(path)
	if err != nil {
		return usageErrorf(cmdPath, "%w", err)
	}
	if old, ok := pf.pairs[p.name]; ok && !replace {
		return usageErrorf(cmdPath, "the pairs file %s already has a pair %q (%s <-> %s): pass --replace to replace it",
			path, p.name, rclonefs.SafeName(old.path1), rclonefs.SafeName(old.path2))
	}
	block, err := p.block()
	if err != nil {
		return err
	}
	text := pf.text
	if !pf.exists {
		text = []byte(pairsFileHeader)
	}
	verb := "added"
	if _, ok := pf.pairs[p.name]; ok {
		text, err = replaceBlock(text, p.name, block)
		verb = "replaced"
	} else {
		text = appendBlock(text, block)
	}
	if err != nil {
		return fmt.Errorf("pairs file %s: %w", path, err)
	}
	if err := pf.write(text, p.name, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s pair %s in %s: %s <-> %s\n", verb, p.name, path, rclonefs.SafeName(p.path1), rclonefs.SafeName(p.path2))
	fmt.Fprintf(stdout, "run it with: ferry sync %s\n", p.name)
	return nil
}

// absPath makes a local path absolute (after expanding ~), for storing; a
// remote, when maybeRemote, is kept as it is.
func absPath(what, p string, maybeRemote bool) (string, error) {
	if maybeRemote && !rclonefs.IsLocal(p) {
		return p, nil
	}
	abs, err := filepath.Abs(expandHome(p))
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", what, p, err)
	}
	return abs, nil
}

// pairsFileHeader starts a pairs file that ferry creates.
const pairsFileHeader = `# ferry's named pairs: 'ferry sync NAME' runs the pair [NAME].
# path1 and path2 are the two folders; every other key is a flag of
# 'ferry sync' without its dashes (see 'ferry sync --help'), and a
# repeatable flag takes a list: exclude = ['*.tmp', '.trash/**'].
# Flags on the command line override these. This file is plain text:
# keep passwords and keys in rclone.conf, not here.
`

// appendBlock adds a pair's block at the end of text, after a blank line.
func appendBlock(text []byte, block string) []byte {
	s := strings.TrimRight(string(text), "\n")
	if s != "" {
		s += "\n\n"
	}
	return []byte(s + block)
}

// findBlock finds the lines of the pair's table in text: from its header
// to its last line that is neither blank nor a comment (those, up to the
// next header, may well be about the next pair). It returns the byte range.
func findBlock(text []byte, name string) (start, end int, ok bool) {
	header := regexp.MustCompile(`^\s*\[\s*(?:` + regexp.QuoteMeta(name) + `|"` + regexp.QuoteMeta(name) + `"|'` + regexp.QuoteMeta(name) + `')\s*\]\s*(?:#.*)?$`)
	anyHeader := regexp.MustCompile(`^\s*\[`)
	pos, in := 0, false
	for _, line := range strings.SplitAfter(string(text), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && header.MatchString(strings.TrimRight(line, "\r\n")):
			in, start, end = true, pos, pos+len(line)
		case in && anyHeader.MatchString(line):
			return start, end, true
		case in && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			end = pos + len(line)
		}
		pos += len(line)
	}
	return start, end, in
}

// replaceBlock puts block where the pair's table is in text.
func replaceBlock(text []byte, name, block string) ([]byte, error) {
	start, end, ok := findBlock(text, name)
	if !ok {
		return nil, fmt.Errorf("cannot find the line [%s]: edit the file by hand", name)
	}
	if !strings.HasSuffix(string(text[:end]), "\n") {
		block = strings.TrimSuffix(block, "\n")
	}
	return slices.Concat(text[:start], []byte(block), text[end:]), nil
}

// removeBlock takes the pair's table out of text.
func removeBlock(text []byte, name string) ([]byte, error) {
	out, err := replaceBlock(text, name, "")
	if err != nil {
		return nil, err
	}
	return regexp.MustCompile(`\n{3,}`).ReplaceAll(out, []byte("\n\n")), nil
}

// write replaces the pairs file with text, after checking that text holds
// the same pairs as before except name (changed, or gone when !present):
// an edit of the text that went wrong must never lose another pair. The
// file is written whole and renamed into place, mode 0600.
func (pf *pairsFile) write(text []byte, name string, present bool) error {
	raw, err := decodePairs(pf.path, text)
	if err != nil {
		return fmt.Errorf("editing the pairs file went wrong (%w): it is unchanged; edit it by hand", err)
	}
	_, has := raw[name]
	want, got := without(pf.raw, name), without(raw, name)
	if has != present || !reflect.DeepEqual(want, got) {
		return fmt.Errorf("editing the pairs file %s as text would change other pairs: it is unchanged; edit it by hand", pf.path)
	}
	if present {
		if p := parsePair(name, raw[name]); p.err != nil {
			return fmt.Errorf("pairs file %s: %w", pf.path, p.err)
		}
	}
	dir := filepath.Dir(pf.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the pairs file's folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".pairs-*.toml")
	if err != nil {
		return fmt.Errorf("write pairs file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return fmt.Errorf("write pairs file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write pairs file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write pairs file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), pf.path); err != nil {
		return fmt.Errorf("write pairs file: %w", err)
	}
	return nil
}

// without is raw without the pair name.
func without(raw map[string]any, name string) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		if k != name {
			out[k] = v
		}
	}
	return out
}

func newPairListCmd(file *string, stdout io.Writer, started *bool) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the stored pairs",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			pf, err := readPairsFlag(cmd, *file)
			if err != nil {
				return err
			}
			if len(pf.pairs) == 0 {
				fmt.Fprintf(stdout, "no pairs in %s; add one with 'ferry pair add NAME PATH1 PATH2 [flags]'\n", pf.path)
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			for _, name := range pf.names() {
				p := pf.pairs[name]
				if p.err != nil {
					fmt.Fprintf(tw, "%s\t(broken: %v)\n", name, p.err)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s <-> %s\t%s\n", name, rclonefs.SafeName(p.path1), rclonefs.SafeName(p.path2), p.commandLine())
			}
			return tw.Flush()
		},
	}
}

func newPairShowCmd(file *string, stdout io.Writer, started *bool) *cobra.Command {
	return &cobra.Command{
		Use:               "show NAME",
		Short:             "Show a stored pair, and the sync command it stands for",
		Args:              oneName,
		ValidArgsFunction: completePairNames(file),
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			pf, err := readPairsFlag(cmd, *file)
			if err != nil {
				return err
			}
			p, err := pf.lookup(cmd.CommandPath(), args[0])
			if err != nil {
				return err
			}
			p1, p2 := shellQuote(rclonefs.SafeName(p.path1)), shellQuote(rclonefs.SafeName(p.path2))
			flags := p.commandLine()
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "pair\t%s\nfile\t%s\npath1\t%s\npath2\t%s\n", p.name, pf.path, p1, p2)
			if flags != "" {
				fmt.Fprintf(tw, "flags\t%s\n", flags)
			}
			fmt.Fprintf(tw, "runs\t%s\n", strings.TrimSpace("ferry sync "+p1+" "+p2+" "+flags))
			return tw.Flush()
		},
	}
}

func newPairRemoveCmd(file *string, stdout io.Writer, started *bool) *cobra.Command {
	return &cobra.Command{
		Use:               "remove NAME",
		Aliases:           []string{"rm"},
		Short:             "Remove a stored pair (its folders, history and workdir are not touched)",
		Args:              oneName,
		ValidArgsFunction: completePairNames(file),
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			pf, err := readPairsFlag(cmd, *file)
			if err != nil {
				return err
			}
			if _, ok := pf.pairs[args[0]]; !ok {
				_, err := pf.lookup(cmd.CommandPath(), args[0])
				return err
			}
			text, err := removeBlock(pf.text, args[0])
			if err != nil {
				return fmt.Errorf("pairs file %s: %w", pf.path, err)
			}
			if err := pf.write(text, args[0], false); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed pair %s from %s\n", args[0], pf.path)
			return nil
		},
	}
}

// readPairsFlag reads the pairs file that --pairs-file names (or the
// default one); a file ferry cannot use is a usage error.
func readPairsFlag(cmd *cobra.Command, file string) (*pairsFile, error) {
	path, err := pairsFilePath(file)
	if err != nil {
		return nil, err
	}
	pf, err := readPairs(path)
	if err != nil {
		return nil, usageErrorf(cmd.CommandPath(), "%w", err)
	}
	return pf, nil
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) != 0 {
		return usageErrorf(cmd.CommandPath(), "%s takes no arguments (got %q)", cmd.Name(), args)
	}
	return nil
}

func oneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErrorf(cmd.CommandPath(), "%s needs one pair NAME (got %d arguments)", cmd.Name(), len(args))
	}
	return nil
}
