#!/bin/bash
# A daemon restarted under an active mirror log: until the kernel constructs
# the log again, every request for it is answered -ESRCH (which makes the
# real kernel re-send CTR and RESUME); after ctr0 + resume the node serves
# the log with the state its peers kept. SIGTERM to a daemon that serves an
# active log is refused (it keeps serving); a second SIGTERM within 10 s
# stops it, and the others go on without it.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

uuid=LVM-restart
regions=8
disk=$("$L" disk mlog-restart) || exit 1
ctr="$((regions * 1024)) clustered-disk $disk 1024 nosync"
log3=$("$L" logs 3)/blkspace/blkspaced.log

check "ctr + resume on nodes 1, 2, 3" ulog_activate "$uuid" "$ctr" 1 2 3
check "node 1: MARK 4, FLUSH" ulog_ok 1 "$uuid" mark 4 flush

"$L" kill 2 daemon
check "node 1: log members 1,3" wait_for 20 log_is 1 "$uuid" 'l["members"]' '[1, 3]'
check "restart node 2's daemon" "$L" start 2 daemon
link_count() { [ "$(daemon_log_count 2 'serving mirror logs over the sim kernel link')" = 2 ]; }
check "node 2: serves the sim kernel link again" wait_for 5 link_count
check "node 2: no log before the kernel constructs it" [ -z "$(log_uuids 2)" ]
for req in "is_clean 4" "mark 3" "flush" "sync_count" "status_info"; do
	# shellcheck disable=SC2086 # the request and its arguments
	check "node 2: $req before the constructor: error -3 (ESRCH)" [ "$(ulog_error 2 "$uuid" $req)" = -3 ]
done
check "node 2: one log line per refused request" \
	[ "$(daemon_log_count 2 "log $uuid: [A-Z_]+ for a log not constructed here")" = 5 ]
check "node 2: RESUME without a constructor: error -22 (EINVAL)" [ "$(ulog_error 2 "$uuid" resume)" = -22 ]

check "node 2: ctr0 + resume" ulog_ok 2 "$uuid" ctr0 "$ctr" resume
check "node 2: IS_CLEAN 4 = 0 (node 1's mark, from its peers)" ulog_is 0 2 "$uuid" is_clean 4
check "node 2: IS_CLEAN 3 = 1" ulog_is 1 2 "$uuid" is_clean 3
check "node 2: SYNC_COUNT $regions" ulog_is "$regions" 2 "$uuid" sync_count
check "node 2: log show: 1 marked, members 1,2,3" wait_for 10 log_is 2 "$uuid" \
	'l["marked"], l["members"]' '1 [1, 2, 3]'
check "node 2: MARK 3, FLUSH" ulog_ok 2 "$uuid" mark 3 flush
check "node 1: CLEAR 4, FLUSH" ulog_ok 1 "$uuid" clear 4 flush
check "node 2: IS_CLEAN 4 = 1 once node 1's clear is applied" wait_for 5 ulog_is 1 2 "$uuid" is_clean 4
check "disk: region 3 dirty, the others clean" \
	wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions" 3)"

pid3=$("$L" pid 3 daemon)
kill -TERM "$pid3"
check "node 3: SIGTERM refused with one log line" wait_for 5 \
	[ "$(grep -c 'refusing to stop: 1 mirror log(s) active here' "$log3")" = 1 ]
sleep 1
check "node 3: still running a second later" daemon_alive 3
check "node 3: still serves the log (MARK 6, FLUSH)" ulog_ok 3 "$uuid" mark 6 flush
check "node 3: still a member of the cluster" members_are 1 "1 2 3"
kill -TERM "$pid3"
check "node 3: a second SIGTERM stops it" wait_for 15 bash -c "! kill -0 $pid3 2>/dev/null"
check "node 3: it logged that it left" grep -q 'leaving the cluster' "$log3"
check "node 1: log members 1,2" wait_for 20 log_is 1 "$uuid" 'l["members"], l["registered"]' '[1, 2] [1, 2]'
check "node 1: node 3's region 6 is out of sync" ulog_is 0 1 "$uuid" in_sync 6
check "node 1: MARK 5, FLUSH without node 3" ulog_ok 1 "$uuid" mark 5 flush
check "node 2: IS_CLEAN 5 = 0" ulog_is 0 2 "$uuid" is_clean 5
check "node 2: blkspace status works" bs 2 status --quiet
