// Package bisync is ferry's engine: it lists both sides, classifies every
// path against the history, decides what to do from the numbered decision
// tables of docs/algorithm.md, checks the plan, executes it, and commits the
// new history only when every operation succeeded.
//
// It reaches the two sides only through backends.Replica, so its tests run on
// in-memory replicas and never compile rclone. It prints nothing: the caller
// renders the Result.
package bisync
