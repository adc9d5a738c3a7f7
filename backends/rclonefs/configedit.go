package rclonefs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/fspath"
	"github.com/rclone/rclone/lib/terminal"
)

// EditConfig runs rclone's own interactive remote setup (what `rclone
// config` runs) on the config file Setup loaded, so that nobody needs the
// rclone binary to add an S3 or WebDAV remote. It prints its menus to
// stdout and reads the answers from stdin, as rclone does, and saves the
// file after each change. ctx must come from Setup.
//
// On a terminal it reads with rclone's line editor. Otherwise it reads
// plain lines, so it can be scripted; when stdin ends before rclone stops
// asking, it returns an error instead of letting rclone end the process.
func EditConfig(ctx context.Context) (err error) {
	if !setupDone.Load() {
		return errors.New("rclonefs: EditConfig called before Setup")
	}
	if !terminal.IsTerminal(int(os.Stdin.Fd())) || !terminal.IsTerminal(int(os.Stdout.Fd())) {
		// rclone's ReadLine picks its line editor by stdout alone, and
		// with it an ended stdin reads as an empty answer, which a
		// required question asks again for ever; without it, an ended
		// stdin is fatal (os.Exit). Read plain lines, and turn the end
		// of stdin into an error.
		saved := config.ReadLine
		config.ReadLine = readPlainLine
		defer func() { config.ReadLine = saved }()
		defer func() {
			if r := recover(); r != nil {
				end, ok := r.(stdinEnded)
				if !ok {
					panic(r)
				}
				err = end.err
			}
		}()
	}
	return config.EditConfig(ctx)
}

// ConfigFile is the rclone config file in use after Setup, for messages;
// "" when rclone keeps its config in memory only.
func ConfigFile() string { return config.GetConfigPath() }

// stdinEnded is what readPlainLine panics with, for EditConfig to recover:
// rclone's prompts have no way to return an error.
type stdinEnded struct{ err error }

var (
	stdinOnce   sync.Once
	stdinReader *bufio.Reader
)

// readPlainLine reads one answer from stdin, without a line editor. The
// prompt is printed, as rclone's own plain reader does not, so that a
// transcript shows what each answer was for.
func readPlainLine(prompt string) string {
	stdinOnce.Do(func() { stdinReader = bufio.NewReader(os.Stdin) })
	fmt.Print(prompt)
	line, err := stdinReader.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		fmt.Println()
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		panic(stdinEnded{fmt.Errorf("standard input ended before rclone's config questions did: %w", err)})
	}
	if err != nil {
		fmt.Println()
	}
	return strings.TrimSpace(line)
}

// IsLocal reports whether remote names a local path rather than a remote
// ("name:path") or a connection string, by rclone's own parsing rules.
func IsLocal(remote string) bool {
	parsed, err := fspath.Parse(remote)
	return err == nil && parsed.Name == ""
}

// SafeName is remote with the parameters of a connection string that may
// hold a secret left out, for showing to a person: what Replica.String
// would show for it, without opening it.
func SafeName(remote string) string { return sanitizeRemote(remote) }
