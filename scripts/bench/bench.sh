#!/usr/bin/env bash
# The benchmark of issue 6: `make bench` (bench.sh), `make bench-large`
# (bench.sh large) and `make bench-remote` (bench.sh remote). It installs the
# tools ferry is compared with (Unison and rsync from Debian's packages,
# rclone at the version in go.mod from the Go module proxy) and, for the
# remote run, the test suite's S3 and WebDAV servers (scripts/testserver),
# builds ferry and the harness, and runs scripts/bench/benchtool, which
# generates the trees, runs the scenarios and writes its section of
# docs/performance.md. Everything runs on local folders and on servers on
# 127.0.0.1.
#
# Environment: GO (go), FERRY_BENCH_CACHE (where the tools, trees and pairs
# live; ~/.cache/ferry-bench), FERRY_BENCH_OUT (docs/performance.md; empty to
# only print), BENCH_ARGS (more flags for `benchtool run`, e.g. "-reps 3"),
# BENCH_REMOTE_SIZES (the vaults of the remote run; 10000).
set -euo pipefail

GO=${GO:-go}
mode=${1:-main}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cache=${FERRY_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-bench}
out=${FERRY_BENCH_OUT-docs/performance.md}
mkdir -p "$cache"

# The anchors from Debian, once per machine.
missing=()
command -v unison >/dev/null || missing+=(unison)
command -v rsync >/dev/null || missing+=(rsync)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench: installing ${missing[*]}" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	else
		echo "bench: missing ${missing[*]} (install them as root: apt-get install ${missing[*]}); going on without" >&2
	fi
fi
if [ ! -x /usr/bin/time ]; then
	echo "bench: /usr/bin/time is needed for peak memory (apt-get install time)" >&2
	exit 1
fi

# rclone at the version ferry links, as the reference for rclone bisync and
# rclone sync.
rver=$($GO list -m -f '{{.Version}}' github.com/rclone/rclone)
rclone_dir="$cache/rclone-$rver"
if [ ! -x "$rclone_dir/rclone" ]; then
	echo "bench: go install github.com/rclone/rclone@$rver" >&2
	(cd "$cache" && GOBIN="$rclone_dir" $GO install "github.com/rclone/rclone@$rver")
fi

# The servers of the remote and rename scenarios, once per machine; one that
# cannot be installed (Apache, when not root) is left out of the run. (A
# server's script also installs it when started: this shows the progress.)
if [ "$mode" = remote ]; then
	for kind in s3 webdav-rclone webdav-apache; do
		GO=$GO bash scripts/testserver/install.sh "$kind" >&2 ||
			echo "bench: the $kind server is not installed; the run goes on without it" >&2
	done
fi

$GO build -o bin/ferry ./cmd/ferry
$GO build -o "$cache/benchtool" ./scripts/bench/benchtool

avail_gb=$(df -Pk "$cache" | awk 'NR==2 {print int($4/1024/1024)}')
case $mode in
main)
	need=8
	args=(-sizes 10000,100000 -reps 5 -first-reps 2 -gosrc "$($GO env GOROOT)/src")
	;;
large)
	# 1,000,000 files are about 5 GB; the pairs are hard links.
	need=12
	args=(-large -sizes "${BENCH_LARGE_SIZES:-10000,100000,1000000}" -reps 3 -tools ferry,unison,walk -scenarios nochange)
	;;
remote)
	# The trees; the servers' copies go to the system's temporary folder
	# (0.1 GB per tool and 10k files, one server at a time).
	need=2
	args=(-remote -sizes "${BENCH_REMOTE_SIZES:-10000}" -reps 5 -tools ferry,rclone-bisync -scenarios remote,rename)
	;;
*)
	echo "usage: bench.sh [main|large|remote]" >&2
	exit 2
	;;
esac
if ((avail_gb < need)); then
	echo "bench: $avail_gb GB free under $cache, want $need GB" >&2
	exit 1
fi

# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
exec "$cache/benchtool" run -work "$cache/work" -ferry bin/ferry -rclone "$rclone_dir/rclone" \
	-module . -out "$out" "${args[@]}" ${BENCH_ARGS:-}
