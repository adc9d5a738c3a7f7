#!/usr/bin/env bash
# Installs the test servers (all, or the kinds named: s3, webdav-apache,
# webdav-rclone) into the cache, once per machine; later runs find them
# there and return at once. `make test` runs it before the tests, which
# also install what is missing when run by hand.
set -euo pipefail
dir=$(dirname "$0")
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(s3 webdav-apache webdav-rclone)
for kind in "${kinds[@]}"; do
	[ -f "$dir/$kind.sh" ] || { echo "install.sh: no server $kind" >&2; exit 2; }
	start=$SECONDS
	bash "$dir/$kind.sh" install >/dev/null
	echo "testserver: $kind ready ($((SECONDS - start)) s)"
done
