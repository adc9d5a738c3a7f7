// Package filters decides which paths a sync sees, with rclone's filter
// rules: the flags --filter, --filters-file (rclone bisync's name for
// --filter-from), --include, --exclude, --include-from, --exclude-from,
// --min-size and --max-size, their order, and the pattern syntax of
// rclone's docs/content/filtering.md. A pattern means the same in ferry as
// in rclone v1.76; the tests check that against rclone's own fs/filter
// package, and docs/filters.md lists the few patterns ferry refuses.
//
// Parse builds a Filter from the flags. Filter.Include decides for a file
// (its path and size), Filter.IncludeDir whether a directory is listed at
// all, as rclone prunes its listing; a file is synced when both say yes
// for it and for every directory above it. Paths are slash-separated,
// relative to the root of a side, without a leading "/".
//
// Whatever the rules, ferry's metadata folder (MetaDir at the root) and
// the temporary files of interrupted uploads (IsTemporary) are excluded.
//
// Patterns are read exactly as rclone reads them, into the regular
// expression rclone would match with, and that expression is compiled to
// a github.com/gobwas/glob matcher; see compile.go.
//
// The package imports no other ferry package and not rclone (only its
// tests do, to compare); bisync uses it.
package filters
