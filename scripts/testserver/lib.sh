# Sourced by the server scripts beside it; not run on its own.
#
# Every server script follows one protocol, after rclone's
# fstest/testserver/init.d:
#
#   SCRIPT install           install the server into the cache, if it is not
#                            there yet (prints what it has)
#   SCRIPT start STATE_DIR   start it on 127.0.0.1:$PORT with all its files in
#                            STATE_DIR, wait until it answers HTTP, and print
#                            the rclone remote's parameters as key=value
#                            lines (type=... first), then
#                              _connect=HOST:PORT  the address that answers
#                              _path=PATH          the folder tests may use
#   SCRIPT stop STATE_DIR    stop it and everything it started (idempotent)
#   SCRIPT status STATE_DIR  exit 0 if it runs
#
# Environment:
#   PORT              the loopback port to listen on (start)
#   FERRY_TEST_CACHE  where installs are kept; default
#                     ${XDG_CACHE_HOME:-$HOME/.cache}/ferry-test
#   FERRY_TEST_OWNER  a process id: when that process ends (a test binary
#                     killed by its timeout, say), the server is stopped too
#   GO                the go command that installs versitygw and rclone
#
# backends/rclonefs/testserver runs these scripts for the Go tests.

set -euo pipefail

CACHE=${FERRY_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-test}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAME=${NAME:-$(basename "$0" .sh)}
GO=${GO:-go}

die() {
	printf '%s: %s\n' "$NAME" "$*" >&2
	exit 1
}

# with_lock CMD...: runs CMD holding the cache's lock, so that two test
# processes never install the same thing at once.
with_lock() {
	mkdir -p "$CACHE"
	(
		flock -w 1200 9 || die "waited 20 minutes for the lock on $CACHE/.lock"
		"$@"
	) 9>"$CACHE/.lock"
}

# go_install PKG@VERSION DIR BINARY: go-installs PKG into $CACHE/DIR unless
# $CACHE/DIR/BINARY is there, and prints the binary's path.
go_install() {
	local pkg=$1 dir=$CACHE/$2 bin=$3
	if [ ! -x "$dir/$bin" ]; then
		command -v "$GO" >/dev/null || die "no go command ($GO): cannot install $pkg"
		local tmp start=$SECONDS
		tmp=$(mktemp -d "$CACHE/.install-XXXXXX")
		echo "$NAME: installing $pkg into $dir (once per machine)" >&2
		# Outside any module, so that pkg@version uses its own go.mod.
		if ! (cd "$tmp" && GOBIN="$tmp/bin" "$GO" install "$pkg") >"$tmp/log" 2>&1; then
			cat "$tmp/log" >&2
			rm -rf "$tmp"
			die "go install $pkg failed"
		fi
		mkdir -p "$dir"
		mv "$tmp/bin/$bin" "$dir/$bin"
		rm -rf "$tmp"
		echo "$NAME: installed $pkg in $((SECONDS - start)) s" >&2
	fi
	echo "$dir/$bin"
}

# rclone_bin installs (if needed) and prints the rclone binary of the
# version ferry's go.mod names, for serving WebDAV and creating buckets.
rclone_bin() {
	local v
	v=$(awk '$1 == "github.com/rclone/rclone" { print $2; exit }' "$REPO/go.mod")
	[ -n "$v" ] || die "no github.com/rclone/rclone version in $REPO/go.mod"
	with_lock go_install "github.com/rclone/rclone@$v" "rclone-$v" rclone
}

# secret prints a fresh random token (hex).
secret() {
	od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

# alive PID: the process exists and is no zombie.
alive() {
	local state
	state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# launch CMD...: starts CMD in the background in a session of its own (so
# that stop can end its whole process group), output to $STATE/server.log,
# and records its pid; with FERRY_TEST_OWNER, also a watchdog that stops it
# when the owner ends.
launch() {
	setsid "$@" </dev/null >>"$STATE/server.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$STATE/pid"
	if [ -n "${FERRY_TEST_OWNER:-}" ]; then
		setsid bash -c '
			while kill -0 "$1" 2>/dev/null; do sleep 1; done
			kill -TERM -- "-$2" 2>/dev/null || exit 0
			sleep 3
			kill -KILL -- "-$2" 2>/dev/null || true' \
			watchdog "$FERRY_TEST_OWNER" "$pid" </dev/null >/dev/null 2>&1 &
		echo "$!" >"$STATE/watchdog.pid"
	fi
}

# http_answers HOST PORT: something answers HTTP there.
http_answers() {
	(
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf 'GET / HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$1" "$2" >&3
		IFS= read -r -t 5 line <&3 || true
		[[ ${line:-} == HTTP/* ]]
	) 2>/dev/null
}

# wait_http HOST PORT SECONDS: waits until the launched server answers HTTP;
# fails at once, with its log, if it exits.
wait_http() {
	local deadline=$((SECONDS + $3)) pid
	pid=$(cat "$STATE/pid")
	while ((SECONDS < deadline)); do
		if ! alive "$pid"; then
			die "the server exited while starting; the end of $STATE/server.log:
$(tail -n 30 "$STATE/server.log")"
		fi
		if http_answers "$1" "$2"; then
			return 0
		fi
		sleep 0.2
	done
	die "no HTTP answer on $1:$2 after $3 s; the end of $STATE/server.log:
$(tail -n 30 "$STATE/server.log")"
}

do_stop() {
	if [ -f "$STATE/watchdog.pid" ]; then
		kill "$(cat "$STATE/watchdog.pid")" 2>/dev/null || true
		rm -f "$STATE/watchdog.pid"
	fi
	[ -f "$STATE/pid" ] || return 0
	local pid i
	pid=$(cat "$STATE/pid")
	kill -TERM -- "-$pid" 2>/dev/null || true
	for i in $(seq 50); do
		alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$STATE/pid"
}

do_status() {
	[ -f "$STATE/pid" ] && alive "$(cat "$STATE/pid")"
}

# main "$@": the protocol above, over the script's install and start
# functions.
main() {
	local cmd=${1:-}
	case "$cmd" in
	install)
		install
		;;
	start | stop | status)
		[ $# -eq 2 ] || die "usage: $0 $cmd STATE_DIR"
		mkdir -p "$2"
		STATE=$(cd "$2" && pwd)
		case "$cmd" in
		start)
			[ -n "${PORT:-}" ] || die "PORT is not set"
			do_status && die "already running in $STATE"
			install >/dev/null
			# A start that fails half way leaves nothing running.
			trap do_stop EXIT
			start
			trap - EXIT
			;;
		stop) do_stop ;;
		status) do_status ;;
		esac
		;;
	*)
		echo "usage: $0 {install|start STATE_DIR|stop STATE_DIR|status STATE_DIR}" >&2
		exit 2
		;;
	esac
}
