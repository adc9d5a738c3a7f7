package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/ferry-sync/ferry/backends/rclonefs"
)

func newConfigCmd(stderr io.Writer, started *bool) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Add, change or remove remotes in rclone.conf (rclone's own interactive setup)",
		Long: `Run rclone's interactive remote setup, the same questions 'rclone config'
asks, on the rclone config file ferry reads: --config, else $RCLONE_CONFIG,
else rclone's default (~/.config/rclone/rclone.conf). Use it to add an S3 or
WebDAV remote, then give 'name:path' as a path of ferry sync; the rclone
binary is not needed.

The menus go to stdout and the answers come from stdin, so the setup can be
scripted too; when stdin ends before the questions do, ferry config stops
with an error, keeping what was saved so far.`,
		Example: `  ferry config                                  # n) New remote, then follow the questions
  ferry config --config ~/secrets/rclone.conf
  ferry sync ~/vault vault-s3:notes             # then use the remote`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			*started = true
			// rclone's own warnings (a config file it cannot save,
			// say) go to stderr; its questions go to stdout.
			logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			ctx, err := rclonefs.Setup(cmd.Context(), rclonefs.Options{ConfigPath: configPath, Logger: logger})
			if err != nil {
				return fmt.Errorf("set up rclone: %w", err)
			}
			if file := rclonefs.ConfigFile(); file != "" {
				fmt.Fprintf(stderr, "ferry: rclone config file: %s\n", file)
			}
			return rclonefs.EditConfig(ctx)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "rclone config `FILE` to edit (default: rclone's own, honouring RCLONE_CONFIG)")
	return cmd
}
