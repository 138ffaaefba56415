#!/bin/bash
# Hostile input on the sim kernel link of node 2 (the link treats it as the
# netlink link does, daemon/kernel-link.c): a frame too short to carry a seq
# gets no answer; any other undecodable frame gets an error answer with its
# seq (-EBADMSG short or data_size not the frame's, -EPROTO bad version,
# -EOPNOTSUPP unknown type); a frame length of 0 or over 4256 closes the
# connection; after 16 bad frames a connection is no longer logged. Unknown
# logs, bad payloads and bad constructors get error answers. Each gets one
# log line, and the daemon keeps serving.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

uuid=LVM-bad-input
regions=8
disk=$("$L" disk mlog-bad-input) || exit 1
ctr="$((regions * 1024)) clustered-disk $disk 1024 nosync"
log2=$("$L" logs 2)/blkspace/blkspaced.log
lines() { grep -cF -- "$1" "$log2"; }
# raw_answer HEX WANT: node 2 answers the frame with the line WANT
raw_answer() {
	local out
	out=$(ulog 2 "$uuid" raw "$1" 2>&1)
	[ "$out" = "$2" ] && return 0
	shown "$out" "(want: $2)"
	return 1
}
still_serving() {
	check "node 2 still serves the log (SYNC_COUNT $regions)" ulog_is "$regions" 2 "$uuid" sync_count
}

check "ctr + resume on nodes 1, 2, 3" ulog_activate "$uuid" "$ctr" 1 2 3

# undecodable frames (a 160-byte header; the seq ends at byte 152)
check "a 100-byte frame (no seq): no answer" raw_answer "$(ulog_frame uuid="$uuid" cut=100)" "raw no answer"
check "... one log line" [ "$(lines "bad request (100 bytes, no seq)")" = 1 ]
check "a 156-byte frame: -EBADMSG" \
	raw_answer "$(ulog_frame uuid="$uuid" seq=901 cut=156)" "UNKNOWN seq=901 error=-74 data="
check "... one log line" [ "$(lines "bad request seq 901 (156 bytes")" = 1 ]
check "version 9: -EPROTO" \
	raw_answer "$(ulog_frame uuid="$uuid" seq=902 version=9 data=0000000000000000)" "IS_CLEAN seq=902 error=-71 data="
check "... one log line" [ "$(lines "bad request seq 902 (168 bytes, version 9, type 0x7)")" = 1 ]
check "type 99: -EOPNOTSUPP" \
	raw_answer "$(ulog_frame uuid="$uuid" seq=903 type=99)" "UNKNOWN seq=903 error=-95 data="
check "... one log line" [ "$(lines "bad request seq 903 (160 bytes, version 3, type 0x63)")" = 1 ]
check "data_size 64 with 8 bytes of data: -EBADMSG" \
	raw_answer "$(ulog_frame uuid="$uuid" seq=904 size=64 data=0000000000000000)" "IS_CLEAN seq=904 error=-74 data="
check "... one log line" [ "$(lines "bad request seq 904 (168 bytes")" = 1 ]
check "a uuid without its NUL: -EBADMSG" \
	raw_answer "$(ulog_frame uuid="$(printf 'x%.0s' $(seq 129))" seq=905)" "IS_CLEAN seq=905 error=-74 data="
check "... one log line" [ "$(lines "bad request seq 905")" = 1 ]
still_serving

# frame lengths the link refuses: the connection is closed
ulog 2 "$uuid" raw "" >/dev/null 2>&1
check "frame length 0: connection closed (ulog-client exit 3)" [ $? = 3 ]
check "... one log line" [ "$(lines "frame length 0 not in 1..4256, connection closed")" = 1 ]
ulog 2 "$uuid" raw "$(ulog_frame uuid="$uuid" seq=906 data="$(printf '00%.0s' $(seq 4097))")" >/dev/null 2>&1
check "frame length 4257: connection closed (ulog-client exit 3)" [ $? = 3 ]
check "... one log line" [ "$(lines "frame length 4257 not in 1..4256, connection closed")" = 1 ]
still_serving

# one connection sending 20 bad frames: 16 lines, then one saying so
frames=()
frame=$(ulog_frame uuid="$uuid" type=99)
for seq in $(seq 1000 1019); do # the seq is the u32 at byte 148
	frames+=(raw "${frame:0:296}$(printf '%02x%02x0000' $((seq & 255)) $((seq >> 8)))${frame:304}")
done
check "20 bad frames on one connection: 20 error answers" \
	[ "$(ulog 2 "$uuid" "${frames[@]}" | grep -c ' error=-95 ')" = 20 ]
check "... 16 log lines" [ "$(grep -cE 'bad request seq 10[01][0-9] ' "$log2")" = 16 ]
check "... then one saying the rest is not logged" [ "$(lines "further bad requests are not logged")" = 1 ]
still_serving

# decodable requests that are wrong
check "IS_CLEAN of an unknown log: -ESRCH" [ "$(ulog_error 2 no-such-log is_clean 0)" = -3 ]
check "... one log line" [ "$(lines "log no-such-log: IS_CLEAN for a log not constructed here")" = 1 ]
check "RESUME of an unknown log: -EINVAL" [ "$(ulog_error 2 no-such-log resume)" = -22 ]
check "... one log line" [ "$(lines "log no-such-log: RESUME without a constructor")" = 1 ]
check "MARK of region $regions (one past the end): -EINVAL" [ "$(ulog_error 2 "$uuid" mark "$regions")" = -22 ]
check "... one log line" [ "$(lines "log $uuid: MARK_REGION with a bad payload of 8 bytes")" = 1 ]
check "IS_CLEAN with a 4-byte payload: -EINVAL" \
	raw_answer "$(ulog_frame uuid="$uuid" seq=907 data=00000000)" "IS_CLEAN seq=907 error=-22 data="
check "... one log line" [ "$(lines "log $uuid: IS_CLEAN with a bad payload of 4 bytes")" = 1 ]
check "a bad constructor: -EINVAL" [ "$(ulog_error 2 LVM-other ctr "0 clustered-disk $disk 1024")" = -22 ]
check "... one log line" [ "$(lines "log LVM-other: bad constructor '0 clustered-disk")" = 1 ]
check "... and no log made of it" [ "$(log_uuids 2)" = "$uuid" ]

check "node 2's daemon still runs" daemon_alive 2
still_serving
check "node 2: MARK 1, FLUSH" ulog_ok 2 "$uuid" mark 1 flush
check "node 1: IS_CLEAN 1 = 0" ulog_is 0 1 "$uuid" is_clean 1
check "node 2: blkspace status works" bs 2 status --quiet
check "all nodes agree" wait_for 10 same_view 1 2 3
