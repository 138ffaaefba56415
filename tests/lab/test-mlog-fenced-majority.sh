#!/bin/bash
# A mirror on nodes 1 and 2 of three loses its lower node: node 2 alone holds
# half of the log's quorum set {1, 2} without the lowest, so it waits (node 1
# might live in another partition, still writing). Here node 1 did: cut off,
# it went on alone (half with the lowest) and marked region 6, which node 2
# never heard of; then it died. Once node 2 knows node 1 was fenced (lab:
# fencing = pacemaker without Pacemaker, so `blkspace node confirm-fenced`)
# and node 3, the rest of the cluster, runs with it, node 2 goes on alone:
# its waiting mark is answered and the whole mirror resyncs, region 6 too.
# Node 1 comes back with a new table and joins the log in sync.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

logged() { [ "$(daemon_log_count "$1" "$2")" -ge 1 ]; } # logged N REGEX
shows() { "$L" exec "$1" blkspace log show "$2" | grep -q -- "$3"; } # shows N UUID TEXT

uuid=LVM-fenced-majority
regions=8
disk=$("$L" disk mlog-fenced-majority) || exit 1
ctr="$((regions * 1024)) clustered-disk $disk 1024 sync"

check "ctr + resume on nodes 1, 2 (node 3 runs no mirror)" ulog_activate "$uuid" "$ctr" 1 2
check "node 1 resyncs every region" [ "$(ulog_resync 1 "$uuid")" = "0 1 2 3 4 5 6 7" ]
check "disk: every region clean" wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions")"
check "node 2: quorum set 1,2" wait_for 5 log_is 2 "$uuid" 'l["quorum_set"]' "[1, 2]"

"$L" cut 1
check "node 2: log members 2" wait_for 20 log_is 2 "$uuid" 'l["members"]' "[2]"
check "node 1: log members 1" wait_for 20 log_is 1 "$uuid" 'l["members"]' "[1]"
check "node 1 alone (half of {1, 2} with the lowest): MARK 6, FLUSH" ulog_ok 1 "$uuid" mark 6 flush
check "disk: region 6 dirty, written by node 1" \
	disk_bits_are "$disk" "$regions" "$(clean_except "$regions" 6)"
check "node 2 never heard of it: 0 marked" log_is 2 "$uuid" 'l["marked"]' 0
"$L" kill 1 daemon
"$L" kill 1 corosync

out=$(mktemp)
ulog 2 "$uuid" mark 5 flush >"$out" 2>&1 &
marker=$!
check "node 2: the log is inquorate" wait_for 20 log_is 2 "$uuid" 'l["phase"]' inquorate
sleep 3
check "node 2: MARK 5 still waits 3 s later" kill -0 $marker
check "node 2 logged that it asks whether node 1 was fenced" \
	wait_for 10 logged 2 'node 1 is outside the cluster while a mirror log here lacks a majority'
check "node 2: blkspace node confirm-fenced 1" "$L" exec 2 blkspace node confirm-fenced 1
check "node 2: then MARK 5 is answered" wait_for 20 bash -c "! kill -0 $marker 2>/dev/null"
rc=0
wait $marker || rc=$?
check "... with error 0 ($(tr '\n' ' ' <"$out"), exit $rc)" [ $rc = 0 ]
rm -f "$out"
check "node 2: active, vouched, registered 2, quorum set 2" log_is 2 "$uuid" \
	'l["phase"], l["quorum_vouched"], l["registered"], l["quorum_set"]' "active True [2] [2]"
check "node 2: the whole mirror is out of sync, 1 marked" log_is 2 "$uuid" \
	'l["in_sync"], l["marked"]' "0 1"
check "node 2 logged that it went on by vouching" \
	logged 2 'each vouches that the nodes it lacks are fenced: going on'
check "blkspace log show says so" shows 2 "$uuid" 'its absent nodes are fenced'
check "node 2: IN_SYNC 6 = 0 (region 6 was written by node 1 alone)" ulog_is 0 2 "$uuid" in_sync 6
check "node 2 resyncs every region but its own 5" \
	[ "$(ulog_resync 2 "$uuid" | tr ' ' '\n' | sort -n | xargs)" = "0 1 2 3 4 6 7" ]
check "node 2: CLEAR 5, FLUSH" ulog_ok 2 "$uuid" clear 5 flush
check "node 2 resyncs region 5" [ "$(ulog_resync 2 "$uuid")" = "5" ]
check "node 2: SYNC_COUNT $regions" ulog_is "$regions" 2 "$uuid" sync_count
check "disk: every region clean after the resync" \
	wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions")"

"$L" heal 1
check "start corosync on node 1" "$L" start 1 corosync
check "start node 1's daemon" "$L" start 1 daemon
check "node 1: ctr (a new table after the fencing) + resume" ulog_ok 1 "$uuid" ctr "$ctr" resume
check "node 1: SYNC_COUNT $regions, from node 2" ulog_is "$regions" 1 "$uuid" sync_count
for n in 1 2; do
	check "node $n: members and registered 1,2, quorum set 1,2, not vouched" wait_for 20 log_is "$n" \
		"$uuid" 'l["members"], l["registered"], l["quorum_set"], l["quorum_vouched"]' \
		"[1, 2] [1, 2] [1, 2] False"
done
check "node 1: MARK 3, FLUSH" ulog_ok 1 "$uuid" mark 3 flush
check "node 2: IS_CLEAN 3 = 0" ulog_is 0 2 "$uuid" is_clean 3
