#!/bin/bash
# Clean suspends (PRESUSPEND + POSTSUSPEND, as when a node deactivates the
# mirror): the node leaves the log and is no longer counted; the others go
# on. A mirror on nodes 2 and 3 keeps serving node 3 after node 2, the
# lower id, suspends; a log suspended on nodes 1, 2, 3 one after the other
# answers every suspend. A suspended node resumes again.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

regions=8
disk=$("$L" disk mlog-suspend) || exit 1
ctr="$((regions * 1024)) clustered-disk $disk 1024 nosync"
two=LVM-suspend-two
disk2=$("$L" disk mlog-suspend-two) || exit 1
ctr2="$((regions * 1024)) clustered-disk $disk2 1024 nosync"

check "$two: ctr + resume on nodes 2 and 3" ulog_activate "$two" "$ctr2" 2 3
check "$two: node 2: PRESUSPEND, POSTSUSPEND" ulog_ok 2 "$two" --timeout 10000 presuspend postsuspend
check "$two: node 3: members and registered 3, active" wait_for 10 log_is 3 "$two" \
	'l["members"], l["registered"], l["phase"]' '[3] [3] active'
check "$two: node 3: MARK 1, FLUSH still answered" ulog_ok 3 "$two" --timeout 10000 mark 1 flush
check "$two: node 2: RESUME again" ulog_ok 2 "$two" --timeout 10000 resume
check "$two: node 2: IS_CLEAN 1 = 0 (node 3's mark)" ulog_is 0 2 "$two" --timeout 10000 is_clean 1

uuid=LVM-suspend-all
check "$uuid: ctr + resume on nodes 1, 2, 3" ulog_activate "$uuid" "$ctr" 1 2 3
for n in 1 2 3; do
	check "$uuid: node $n: PRESUSPEND, POSTSUSPEND, DTR" \
		ulog_ok "$n" "$uuid" --timeout 10000 presuspend postsuspend dtr "$ctr"
	check "$uuid: node $n: the log is gone from log list" log_not_listed "$n" "$uuid"
done
pid=$("$L" pid 1 daemon)
kill -TERM "$pid"
check "node 1: without active logs one SIGTERM stops the daemon" wait_for 10 bash -c "! kill -0 $pid 2>/dev/null"
