// Package rclonefs implements backends.Replica over rclone, so that either
// side of a ferry sync can be anything rclone reaches: a local path, a remote
// from the user's rclone.conf ("vault-s3:notes"), a remote defined by
// RCLONE_CONFIG_<NAME>_* environment variables, or an on-the-fly connection
// string (":webdav,url='https://host/dav',vendor=nextcloud:vault").
//
// It is the only package of ferry that imports rclone: the engine and its
// tests see backends.Replica and never compile rclone (a test here checks
// that with go list -deps). It links every rclone backend, as the rclone
// binary does.
//
// Setup configures rclone once for the process (config file, transfer and
// retry settings, logging bridged to a *slog.Logger); Open then opens one
// remote. Replica.String never carries a secret from a connection string,
// and neither do the errors and log lines that pass through this package.
//
// rclone's global options set by RCLONE_* variables apply as in rclone
// (RCLONE_CA_CERT, RCLONE_USER_AGENT, ...), except dry-run and interactive,
// which are ferry's to decide, and the log level, which follows ferry's
// logger.
//
// A local folder is listed by the package's own walk (list_local.go): it
// reports what rclone's walk of the local backend would, at a fraction of
// the cost and in path order (Caps.ListSorted), and leaves to rclone the
// options it does not reproduce (-L, --links, ...) and the platforms other
// than Linux.
//
// What it deliberately does not do: cache Fs values (rclone's fs/cache),
// apply rclone's filters, or retry whole operations (the engine decides
// that, from backends.IsRetryable).
package rclonefs
