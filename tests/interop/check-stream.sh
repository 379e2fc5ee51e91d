#!/usr/bin/env bash
# The live stream of the running demo station: ffmpeg decodes 10 s without error, a raw ICY
# client reads StreamTitle blocks, and Icecast (started by run.sh, which configured the daemon
# to push to it) relays a stream that ffmpeg decodes, with the title.
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need ffmpeg python3 icecast2
[ -n "${ICECAST_URL:-}" ] || fail "run.sh did not start icecast2"
EXPECT_TITLE="Au fil des quartiers" exec bash "$INTEROP_DIR/stream.sh" "$ANTENNE_URL/stream"
