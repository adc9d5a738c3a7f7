package main

// Shell completion and man pages. cobra adds the completion command itself
// (ferry completion bash|zsh|fish|powershell); what is ferry's own here is
// what the scripts complete dynamically, through cobra's hidden __complete
// command: pair names, and the values of sync's enumerated flags.

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/ferry-sync/ferry/backends/rclonefs"
)

// completeArgs completes sync's first argument with the names of the stored
// pairs, unless what is typed so far can only be a path; everything else
// is completed as file names by the shell.
func (f *syncFlags) completeArgs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) != 0 || strings.ContainsAny(toComplete, "/:.~") {
		return nil, cobra.ShellCompDirectiveDefault
	}
	names := pairNamesFor(f.sched.pairsFile, toComplete)
	if len(names) == 0 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completePairNames completes one pair name from the pairs file *file.
func completePairNames(file *string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) != 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return pairNamesFor(*file, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// pairNamesFor lists the pair names that start with prefix, each with its
// two paths as the description the shells show beside it. A pairs file
// that cannot be read completes nothing: completion has nowhere to report.
func pairNamesFor(file, prefix string) []cobra.Completion {
	path, err := pairsFilePath(file)
	if err != nil {
		return nil
	}
	pf, err := readPairs(path)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, name := range pf.names() {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		p := pf.pairs[name]
		desc := "broken pair"
		if p.err == nil {
			desc = rclonefs.SafeName(p.path1) + " <-> " + rclonefs.SafeName(p.path2)
		}
		out = append(out, cobra.CompletionWithDesc(name, desc))
	}
	return out
}

// flagValueCompletions are the values of sync's enumerated flags.
var flagValueCompletions = map[string][]string{
	"mode":             {"bidirectional", "push", "push-delete", "pull", "pull-delete"},
	"conflict-resolve": {"none", "newer", "older", "larger", "smaller", "path1", "path2"},
	"conflict-loser":   {"num", "pathname", "delete"},
	"compare":          {"size,modtime", "size,checksum", "size,modtime,checksum", "size"},
}

// registerFlagCompletions makes the shells complete the values of the
// enumerated flags cmd has.
func registerFlagCompletions(cmd *cobra.Command) {
	for name, values := range flagValueCompletions {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		// The only error is a flag that does not exist, checked above.
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
}

// addCompletions adds the dynamic completions to ferry's commands, once
// they are all in the tree.
func addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		registerFlagCompletions(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func newManCmd(stdout io.Writer, started *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write ferry's man pages into DIR",
		Long: `Write a man page for ferry and for each of its commands (ferry.1,
ferry-sync.1, ...) into DIR, creating it if needed. Install them where man
looks, for example:

  ferry man ~/.local/share/man/man1`,
		Example: "  ferry man ./man && man ./man/ferry-sync.1",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf(cmd.CommandPath(), "man needs the folder DIR to write the pages into (got %d arguments)", len(args))
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			root := cmd.Root()
			// The completion command is cobra's, added when the
			// command line is executed; add it here too, so that it
			// has its page.
			root.InitDefaultCompletionCmd()
			header := &doc.GenManHeader{Title: "FERRY", Section: "1", Source: "ferry " + version(), Manual: "ferry manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man pages in %s: %w", dir, err)
			}
			fmt.Fprintf(stdout, "wrote the man pages into %s\n", dir)
			return nil
		},
	}
}
