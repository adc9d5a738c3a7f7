#!/usr/bin/env bash
# S3 for the tests: versitygw, a real S3 gateway, over a posix folder in
# STATE_DIR. One bucket, "ferry", made through S3 by rclone once the
# gateway answers. The protocol is in lib.sh.
#
#   PORT=9000 scripts/testserver/s3.sh start /tmp/s3-state
#   scripts/testserver/s3.sh stop /tmp/s3-state
. "$(dirname "$0")/lib.sh"

VERSITYGW_VERSION=v1.8.0
BUCKET=ferry

install() {
	with_lock go_install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" \
		"versitygw-$VERSITYGW_VERSION" versitygw
	rclone_bin
}

start() {
	local gw rclone key pass endpoint
	gw=$CACHE/versitygw-$VERSITYGW_VERSION/versitygw
	rclone=$(rclone_bin)
	key=ferry$(secret | head -c 8)
	pass=$(secret)
	endpoint=http://127.0.0.1:$PORT
	mkdir -p "$STATE/data"
	# Credentials by environment, not on the command line (ps shows it).
	ROOT_ACCESS_KEY_ID=$key ROOT_SECRET_ACCESS_KEY=$pass \
		launch "$gw" --port "127.0.0.1:$PORT" --quiet posix "$STATE/data"
	wait_http 127.0.0.1 "$PORT" 30
	"$rclone" --config "" --low-level-retries 2 --retries 1 --contimeout 5s mkdir \
		":s3,provider=Other,endpoint='$endpoint',access_key_id=$key,secret_access_key=$pass:$BUCKET" \
		>>"$STATE/server.log" 2>&1 ||
		die "could not create bucket $BUCKET through S3; the end of $STATE/server.log:
$(tail -n 20 "$STATE/server.log")"
	echo type=s3
	echo provider=Other
	echo endpoint="$endpoint"
	echo access_key_id="$key"
	echo secret_access_key="$pass"
	echo _connect="127.0.0.1:$PORT"
	echo _path="$BUCKET"
}

main "$@"
