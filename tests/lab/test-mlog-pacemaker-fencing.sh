#!/bin/bash
# fencing = pacemaker against a real Pacemaker: the lab runs pacemakerd on
# every node (no fence devices, so stonith-enabled=false keeps Pacemaker from
# fencing on its own). A killed daemon's marked regions wait until
# Pacemaker's fencer has a fencing of that node on record after it left,
# here the administrator's `stonith_admin --confirm n3` (what
# `pcs stonith confirm` runs); the log's writer learns it through
# blkspace-fence-check, which asks libstonithd, and the regions resync.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

fence_check() { # fence_check WANT_EXIT NODEID SINCE
	local rc=0
	"$L" exec 1 blkspace-fence-check "$2" "$3" >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$1" ]
}

pacemaker_up
start=$(date +%s)
check "blkspace-fence-check 3: not fenced yet (exit 1)" fence_check 1 3 "$((start - 60))"
check "blkspace-fence-check without arguments: usage (exit 64)" fence_check 64 "" ""

uuid=LVM-pacemaker-fencing
regions=8
disk=$("$L" disk mlog-pacemaker-fencing) || exit 1
ctr="$((regions * 1024)) clustered-disk $disk 1024 nosync"
check "ctr + resume on nodes 1, 2, 3" ulog_activate "$uuid" "$ctr" 1 2 3
check "node 3: MARK 2 5, FLUSH with 6 (integrated mark)" ulog_ok 3 "$uuid" mark 2 5 flush 6
check "node 1: log show: 3 marked" wait_for 5 log_is 1 "$uuid" 'l["marked"]' 3

"$L" kill 3 daemon
check "node 1: waiting for node 3, 3 regions" wait_for 20 log_is 1 "$uuid" \
	'[(w["node"], w["regions"]) for w in l["awaiting_fencing"]]' "[(3, 3)]"
sleep 3 # the writer asked the fencer a few times meanwhile: no fencing on record
check "node 1: still 3 marked, 3 dirty 3 s later" log_is 1 "$uuid" 'l["marked"], l["dirty"]' "3 3"
check "node 2: GET_RESYNC_WORK: none while node 3 may still write" \
	ulog_is "work=0 region=0" 2 "$uuid" resync_work

check "node 1: stonith_admin --confirm n3" "$L" exec 1 stonith_admin --confirm n3
check "blkspace-fence-check 3: fenced since the start (exit 0)" fence_check 0 3 "$((start - 60))"
check "blkspace-fence-check 2: not fenced (exit 1)" fence_check 1 2 "$((start - 60))"
check "blkspace-fence-check 3 since after the fencing: not fenced (exit 1)" \
	fence_check 1 3 "$(($(date +%s) + 60))"
for n in 1 2; do
	check "node $n: then 0 marked, 3 dirty, nobody awaited" wait_for 15 log_is "$n" "$uuid" \
		'l["marked"], l["dirty"], l["awaiting_fencing"]' "0 3 []"
done
check "node 1's log: Pacemaker's fencer fenced node 3" \
	grep -q "Pacemaker's fencer fenced node 3 after it left" "$("$L" logs 1)/blkspace/blkspaced.log"
check "node 2 resyncs exactly regions 2 5 6" \
	[ "$(ulog_resync 2 "$uuid" | tr ' ' '\n' | sort -n | xargs)" = "2 5 6" ]
check "node 1: log show: 0 dirty" wait_for 5 log_is 1 "$uuid" 'l["dirty"]' 0
