#!/bin/bash
# test-mirror.sh — blkspaced serving the kernel's dm-log-userspace requests over the
# netlink connector on 3 VMs: a 2-leg `mirror userspace` table with a clustered-disk log
# on every node, its initial resync, data written on one node and read on another, a
# node crashed while it writes (the survivors keep serving and resync what it had
# marked; both legs compared byte for byte on the host), the crashed node rejoining,
# and every table removed. Run by tests/vm/run-tests; needs the daemon in $BLKSPACE_BUILD.
# shellcheck disable=SC2016,SC2317 # guest commands in single quotes; functions run by check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source-path=SCRIPTDIR source=mirror-lib.sh
. "$(dirname "$0")/mirror-lib.sh"

# Pattern A (seed 1, 4 MiB at 0), pattern B (seed 2, 2 MiB at 8 MiB, where node2 writes
# when it crashes), pattern C (seed 3, 1 MiB at 20 MiB).
WINDOW_MIB=8
WINDOW_LEN_MIB=2

# --- node2 writing when it crashes ---------------------------------------------------------

# four writers in parallel, each over a quarter of the window, so that node2 always
# holds marks (a single sequential writer is between two regions now and then)
start_writer() {
	vm exec 2 "$G W=$((WINDOW_MIB * 16)) C=$((WINDOW_LEN_MIB * 4)); "'setsid bash -c "echo \$\$ > /tmp/vmtest-writer.pid
		for k in 0 1 2 3; do
			while dd if=/dev/urandom of=/dev/mapper/$MIRROR bs=64K seek=\$(($W + $C * k)) count=$C oflag=direct status=none
			do :; done &
		done; wait" > /tmp/vmtest-writer.log 2>&1 < /dev/null &
		sleep 0.5; kill -0 "$(cat /tmp/vmtest-writer.pid)" || { cat /tmp/vmtest-writer.log; exit 1; }'
}
# node2's writers run and regions are marked (the crash then leaves its marks behind)
writing() {
	vm exec 2 'kill -0 "$(cat /tmp/vmtest-writer.pid)"' || { echo "node2's writers stopped"; return 1; }
	logs_are 1 "[1,2,3]" 'l["marked"] >= 2'
}

# --- 1. blkspaced on all nodes, the table on all nodes --------------------------------------

mirror_test_begin
check "dmsetup create of a 2-leg mirror with a clustered-disk log returns on all nodes (CTR, RESUME answered)" \
	vm exec -t 90 all "dmsetup create $MIRROR --table '$TABLE'"
check "blkspace log list on all nodes: the log, resumed, members and registered [1,2,3]" \
	wait_until 30 logs_are 1,2,3 "[1,2,3]"
check "dmsetup status on all nodes: a clustered-disk log on the log device, state A (cmirrord's format)" \
	status_is all "[0-9]+"

# --- 2. the initial resync ----------------------------------------------------------------

check "resync: in_sync == regions on all nodes, dmsetup status $REGIONS/$REGIONS" wait_until 120 in_sync 1,2,3 "[1,2,3]"
check "host: after the resync both legs are identical (leg 2's random data overwritten)" legs_equal

# --- 3. written on node1, read on node3 -----------------------------------------------------

check "node1 writes 4 MiB of pattern A through the mirror (O_DIRECT)" write_pattern 1 1 4 0
check "node3 reads pattern A back (O_DIRECT)" read_pattern 3 1 4 0

# --- 4. node2 crashes while it writes ------------------------------------------------------

# Node2's kernel sends a flush's clears before its marks and holds the new writes
# until the marks are answered, so its writers, which meet at every flush, now and
# then all wait between the two. A crash then (seen in CI) rightly leaves no marks
# and nothing to resync: node2 comes back and crashes again, at most three times.
rejoin_node2() {
	restart_node 2 && start_blkspaced 2 &&
		wait_until 60 serving 2 && vm exec -t 90 2 "dmsetup create $MIRROR --table '$TABLE'" &&
		wait_until 60 in_sync 1,2,3 "[1,2,3]"
}
crash_writing_node2() {
	local try
	for try in 1 2 3; do
		start_writer && wait_until 30 writing || { echo "node2's writes are not in flight"; return 1; }
		vm crash 2 > /dev/null
		wait_until 60 logs_are 1,3 "[1,3]" || return 1
		logs_are 1,3 "[1,3]" 'l["marked"] >= 1' > /dev/null && return 0
		echo "# node2 crashed between a flush's clears and its marks; once more"
		rejoin_node2 || { echo "node2 did not rejoin the log"; return 1; }
	done
	echo "node2 never crashed with marks"
	return 1
}
check "node2 writes through the mirror (4 writers, $WINDOW_MIB-$((WINDOW_MIB + WINDOW_LEN_MIB)) MiB) and crashes mid-write; nodes 1 and 3 keep the log with members and registered [1,3]" \
	crash_writing_node2
echo "# after node2's crash: $(vm exec 1 "blkspace log show $UUID --output-format=json" | jget log.in_sync) of $REGIONS regions in sync"
# node2 might still be writing what it marked until it is known to be fenced (no
# Pacemaker here: the host killed it, and the administrator says so)
check "node2's marked regions wait for its fencing on nodes 1 and 3" \
	logs_are 1,3 "[1,3]" '[w["node"] for w in l["awaiting_fencing"]] == [2]' 'l["marked"] >= 1'
check "node1: blkspace node confirm-fenced 2" vm exec 1 "blkspace node confirm-fenced 2"
check "then nothing waits for fencing on nodes 1 and 3" \
	wait_until 20 logs_are 1,3 "[1,3]" 'l["awaiting_fencing"] == []'
check "the survivors keep serving: node1 writes pattern B over node2's window" \
	write_pattern 1 2 "$WINDOW_LEN_MIB" "$WINDOW_MIB"
check "node3 reads pattern B back" read_pattern 3 2 "$WINDOW_LEN_MIB" "$WINDOW_MIB"
# The kernels of nodes 1 and 3 were told the whole mirror is in sync: dm-log-userspace
# asks for resync work again only after a resume, so the log's writer (node1) suspends
# and resumes its mirror once the stall has lasted 10 s (mirror_auto_resume)
auto_resumed() {
	vm exec 1 'grep -q "the mirror was resumed, its resync goes on" /var/log/blkspace/blkspaced.log' ||
		{ echo "node1 did not resume its mirror"; return 1; }
	! vm exec 3 'grep "suspending and resuming the mirror" /var/log/blkspace/blkspaced.log' ||
		{ echo "node3 (not the writer) resumed its mirror too"; return 1; }
}
check "node1, the log's writer, suspends and resumes its mirror to restart the resync" \
	wait_until 60 auto_resumed
check "the log is in sync again on nodes 1 and 3 (node2's marked regions resynced)" \
	wait_until 60 eval 'in_sync 1,3 "[1,3]" && logs_are 1,3 "[1,3]" "l[\"resync_needs_resume\"] is False"'
warned_once() {
	vm exec 1,3 '[ "$(grep -c "resyncs only after its next resume" /var/log/blkspace/blkspaced.log)" = 1 ]'
}
check "blkspaced on nodes 1 and 3 logged one warning that the resync waited for a resume" warned_once
check "dmsetup suspend on nodes 1 and 3 returns (PRESUSPEND, POSTSUSPEND answered)" \
	vm exec -t 60 1,3 "dmsetup suspend $MIRROR"
check "host: both legs byte-identical over the mirror's 32 MiB" legs_equal
check "host: both legs hold pattern A and pattern B" eval 'legs_hold 1 4 0 && legs_hold 2 "$WINDOW_LEN_MIB" "$WINDOW_MIB"'
check "host: the log device holds a disk log (MiRr, version 2, $REGIONS regions), all clean" disk_log_clean
check "dmsetup resume on nodes 1 and 3 returns (RESUME answered)" vm exec -t 60 1,3 "dmsetup resume $MIRROR"
check "the log is back on nodes 1 and 3 from the disk log: members [1,3], in sync" \
	wait_until 60 in_sync 1,3 "[1,3]"

check "crashed node2 starts again, corosync has 3 members" restart_node 2
check "blkspaced starts again on node2, the netlink kernel link open" \
	eval 'start_blkspaced 2 && wait_until 60 serving 2'
check "dmsetup create on node2 returns (CTR, RESUME answered)" vm exec -t 90 2 "dmsetup create $MIRROR --table '$TABLE'"
check "node2 rejoins the log: members and registered [1,2,3] on all nodes, in sync" \
	wait_until 60 in_sync 1,2,3 "[1,2,3]"
check "node2 reads patterns A and B" eval 'read_pattern 2 1 4 0 && read_pattern 2 2 "$WINDOW_LEN_MIB" "$WINDOW_MIB"'
check "nodes 1 and 3 took direct receipts, rejected none" vm exec 1,3 \
	'blkspace status | grep -E "^Direct receipts: UDP port 5409, .*received [1-9][0-9]*, rejected 0$"'

# --- 5. removal -------------------------------------------------------------------------------

# one node after the other, each once the others have seen it leave: every departure
# must leave the rest a log they can still change (and so remove), also when the lowest
# of two leaves (the tie-breaker of the log's quorum then favours the node that left)
check "dmsetup remove on node2 returns (PRESUSPEND, POSTSUSPEND, DTR answered)" \
	vm exec -t 45 2 "dmsetup remove $MIRROR"
check "node2 left the log: active on nodes 1 and 3, members and registered [1,3]" \
	wait_until 20 logs_are 1,3 "[1,3]"
check "node3 still writes (1 MiB of pattern C at 20 MiB), its marks then cleared" \
	eval 'write_pattern 3 3 1 20 && wait_until 20 logs_are 1,3 "[1,3]" "l[\"marked\"] == 0"'
check "dmsetup remove on node1 returns" vm exec -t 45 1 "dmsetup remove $MIRROR"
check "node1 left the log: active on node3, members and registered [3]" wait_until 20 logs_are 3 "[3]"
check "dmsetup remove on node3 returns" vm exec -t 30 3 "dmsetup remove $MIRROR"
check "blkspace log list is empty on all nodes" no_logs
check "host: the log device after the last removal: all regions clean" disk_log_clean
check "no table left, blkspaced stops on SIGTERM on all nodes" stopped

done_testing
