#!/usr/bin/env bash
# Runs every fuzz target in the module, one `go test -fuzz` per target (the go
# command fuzzes one target at a time). Targets are found by grep, so new ones
# are picked up without editing this script.
#
#   FUZZTIME=1m scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}

files=$(grep -rlE --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git \
	'^func Fuzz[A-Za-z0-9_]*\(' . | sort || true)
if [ -z "$files" ]; then
	echo "fuzz: no fuzz targets found"
	exit 0
fi
for file in $files; do
	dir=$(dirname "$file")
	for target in $(sed -n -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file"); do
		echo "fuzz: $target in $dir for $FUZZTIME"
		"$GO" test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$dir"
	done
done
