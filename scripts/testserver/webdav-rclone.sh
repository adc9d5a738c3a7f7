#!/usr/bin/env bash
# WebDAV for the tests: `rclone serve webdav` over a folder in STATE_DIR,
# with MD5 hashes (ownCloud-style oc:checksums properties) and settable
# modification times (X-OC-Mtime): what rclone's webdav backend reads from
# ownCloud, so the client says vendor=owncloud. The rclone binary is the
# version ferry's go.mod names. The protocol is in lib.sh.
. "$(dirname "$0")/lib.sh"

install() {
	rclone_bin
}

start() {
	local rclone user=ferry pass
	rclone=$(rclone_bin)
	pass=$(secret)
	mkdir -p "$STATE/data"
	# The password by environment, not on the command line (ps shows it).
	RCLONE_PASS=$pass launch "$rclone" --config "" serve webdav "$STATE/data" \
		--addr "127.0.0.1:$PORT" --etag-hash MD5 --user "$user"
	wait_http 127.0.0.1 "$PORT" 30
	echo type=webdav
	echo url="http://127.0.0.1:$PORT/"
	echo vendor=owncloud
	echo user="$user"
	echo pass="$("$rclone" --config "" obscure "$pass")"
	echo _connect="127.0.0.1:$PORT"
	echo _path=ferry
}

main "$@"
