#!/bin/bash
# kill -9 of a daemon that has regions marked: the survivors see it leave
# the log and its marked regions become out of sync (a write may have
# reached one mirror leg only), but stay marked, unresynced, until the node
# is known to be fenced (lab: fencing = pacemaker without Pacemaker, so an
# administrator's `blkspace node confirm-fenced`). IN_SYNC says so to a kernel that has not
# been told every region is in sync; one that has (a full SYNC_COUNT) keeps
# hearing 1 until IS_REMOTE_RECOVERING gives it a lower hint, so that it
# writes those regions with a mark. GET_RESYNC_WORK / SET_REGION_SYNC from a
# survivor resync exactly those regions, a mark of a region being resynced
# elsewhere waits until it is done. The restarted daemon is constructed
# again with the constructor string plus NUL (as the kernel re-sends it)
# and rejoins with the cluster's sync state, not a fresh one.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

uuid=LVM-node-killed
regions=8
disk=$("$L" disk mlog-node-killed) || exit 1
# "sync": resync everything at first; a node that wrongly started over
# would report 0 in sync again
ctr="$((regions * 1024)) clustered-disk $disk 1024 sync"

check "ctr + resume on nodes 1, 2, 3" ulog_activate "$uuid" "$ctr" 1 2 3
check "node 2: sync: 0 regions in sync" ulog_is 0 2 "$uuid" sync_count
check "disk: every region dirty" wait_for 5 disk_bits_are "$disk" "$regions" 00000000
check "node 1 resyncs every region" [ "$(ulog_resync 1 "$uuid")" = "0 1 2 3 4 5 6 7" ]
# node 2's kernel is not told the full count (see IN_SYNC below)
for n in 1 3; do
	check "node $n: SYNC_COUNT $regions" ulog_is "$regions" "$n" "$uuid" sync_count
done
check "node 2: log show: $regions in sync" wait_for 5 log_is 2 "$uuid" 'l["in_sync"]' "$regions"
check "disk: every region clean" wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions")"

check "node 3: MARK 2 5, FLUSH with 6 (integrated mark)" ulog_ok 3 "$uuid" mark 2 5 flush 6
check "node 1: log show: 3 marked" wait_for 5 log_is 1 "$uuid" 'l["marked"], l["dirty"]' "3 3"
check "disk: regions 2 5 6 dirty, the others clean" \
	disk_bits_are "$disk" "$regions" "$(clean_except "$regions" 2 5 6)"

"$L" kill 3 daemon
for n in 1 2; do
	check "node $n: log members and registered 1,2" wait_for 20 log_is "$n" "$uuid" \
		'l["members"], l["registered"]' '[1, 2] [1, 2]'
	check "node $n: node 3's marks wait for its fencing: 3 marked, 3 dirty, 5 in sync" \
		log_is "$n" "$uuid" 'l["marked"], l["dirty"], l["in_sync"]' "3 3 5"
	check "node $n: log show: waiting for node 3, 3 regions" log_is "$n" "$uuid" \
		'[(w["node"], w["regions"]) for w in l["awaiting_fencing"]]' "[(3, 3)]"
	check "node $n: SYNC_COUNT 5" ulog_is 5 "$n" "$uuid" sync_count
done
check "node 2: GET_RESYNC_WORK: none while node 3 may still write" \
	ulog_is "work=0 region=0" 2 "$uuid" resync_work
sleep 3 # the writer asked the fencer (none runs here) a few times meanwhile
check "node 1: still 3 marked 3 s later" log_is 1 "$uuid" 'l["marked"]' 3
check "node 1: blkspace node confirm-fenced 3" "$L" exec 1 blkspace node confirm-fenced 3
for n in 1 2; do
	check "node $n: then 0 marked, 3 dirty, 5 in sync, nobody awaited" wait_for 10 log_is "$n" "$uuid" \
		'l["marked"], l["dirty"], l["in_sync"], l["awaiting_fencing"]' "0 3 5 []"
done
for r in 2 5 6; do
	check "node 2: IN_SYNC $r = 0" ulog_is 0 2 "$uuid" in_sync "$r"
done
check "node 2: IN_SYNC 4 = 1 (not marked by node 3)" ulog_is 1 2 "$uuid" in_sync 4
check "node 1: IN_SYNC 5 = 1 (its kernel was told all $regions are in sync)" ulog_is 1 1 "$uuid" in_sync 5
check "node 1: IS_REMOTE_RECOVERING 5: yes, hint 2 (lowest out of sync)" \
	ulog_is "recovering=1 hint=2" 1 "$uuid" remote_recovering 5
check "node 1: now IN_SYNC 5 = 0, IN_SYNC 2 = 0, IN_SYNC 1 = 1" \
	ulog_data_are "0 0 1" 1 "$uuid" in_sync 5 in_sync 2 in_sync 1
check "disk: still regions 2 5 6 dirty, the others clean" \
	disk_bits_are "$disk" "$regions" "$(clean_except "$regions" 2 5 6)"

# node 1 asked about region 5: it is resynced first
check "node 2: GET_RESYNC_WORK: region 5" ulog_is "work=1 region=5" 2 "$uuid" resync_work
out=$(mktemp)
ulog 1 "$uuid" mark 5 >"$out" 2>&1 &
marker=$!
sleep 1
check "node 1: MARK 5 waits while node 2 resyncs region 5" kill -0 $marker
check "node 2: SET_REGION_SYNC 5 1" ulog_ok 2 "$uuid" set_sync 5 1
check "node 1: then MARK 5 is answered" wait_for 10 bash -c "! kill -0 $marker 2>/dev/null"
rc=0
wait $marker || rc=$?
check "... with error 0 ($(cat "$out"), exit $rc)" [ $rc = 0 ]
rm -f "$out"
check "node 2: IS_CLEAN 5 = 0 (node 1 writes it)" ulog_is 0 2 "$uuid" is_clean 5
check "node 1: CLEAR 5, FLUSH, IS_CLEAN 5 = 1" ulog_is 1 1 "$uuid" clear 5 flush is_clean 5

check "node 2 resyncs the rest: exactly regions 2 6" [ "$(ulog_resync 2 "$uuid" | tr ' ' '\n' | sort -n | xargs)" = "2 6" ]
for n in 1 2; do
	check "node $n: SYNC_COUNT $regions again" ulog_is "$regions" "$n" "$uuid" sync_count
	check "node $n: log show: 0 dirty, $regions in sync" wait_for 5 log_is "$n" "$uuid" \
		'l["dirty"], l["in_sync"]' "0 $regions"
done
check "disk: every region clean after the resync" \
	wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions")"

check "restart node 3's daemon" "$L" start 3 daemon
check "node 3: ctr0 (constructor with NUL) + resume" ulog_ok 3 "$uuid" ctr0 "$ctr" resume
# IN_SYNC first: a SYNC_COUNT of all regions would make it answer 1 anyway
check "node 3: IN_SYNC 5 = 1 (a node that started over would say 0)" ulog_is 1 3 "$uuid" in_sync 5
check "node 3: SYNC_COUNT $regions, as the survivors" ulog_is "$regions" 3 "$uuid" sync_count
for n in 1 2 3; do
	check "node $n: log members and registered 1,2,3, $regions in sync" wait_for 10 log_is "$n" "$uuid" \
		'l["members"], l["registered"], l["in_sync"]' "[1, 2, 3] [1, 2, 3] $regions"
done
check "node 3: MARK 7, FLUSH" ulog_ok 3 "$uuid" mark 7 flush
check "node 1: IS_CLEAN 7 = 0" ulog_is 0 1 "$uuid" is_clean 7
check "disk: region 7 dirty" disk_bits_are "$disk" "$regions" "$(clean_except "$regions" 7)"
