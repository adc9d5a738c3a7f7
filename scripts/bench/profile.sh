#!/usr/bin/env bash
# CPU and heap profiles of a no-change run of ferry's engine over two local
# folders of 100,000 files (BenchmarkRunLocalNoChange100k in
# backends/rclonefs: the same code path as `ferry sync`, less the command
# line and the lock), and the top entries by cumulative cost. The profiles
# cover only the timed runs, not the writing of the trees or the first run.
# The benchmark's ns/op is not a measurement here: the heap sampler collects
# garbage to take its snapshots.
#
#	bash scripts/bench/profile.sh [DIR]     # profiles are kept in DIR
set -euo pipefail
GO=${GO:-go}
cd "$(dirname "$0")/../.."
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
FERRY_BENCH_PROFILE="$dir" $GO test -run '^$' -bench '^BenchmarkRunLocalNoChange100k$' -benchmem -benchtime 5x \
	-o "$dir/rclonefs.test" ./backends/rclonefs
echo
echo "== CPU, by cumulative time (5 runs) =="
$GO tool pprof -top -cum -nodecount 40 "$dir/rclonefs.test" "$dir/cpu.prof" 2>/dev/null
echo
echo "== heap in use near the peak of a run, by cumulative bytes =="
$GO tool pprof -sample_index=inuse_space -top -cum -nodecount 30 "$dir/rclonefs.test" "$dir/heap.prof" 2>/dev/null
echo
echo "== bytes allocated by the timed runs (5), by cumulative bytes =="
$GO tool pprof -sample_index=alloc_space -base "$dir/allocs0.prof" -top -cum -nodecount 30 "$dir/rclonefs.test" "$dir/allocs.prof" 2>/dev/null
echo
echo "profiles in $dir"
