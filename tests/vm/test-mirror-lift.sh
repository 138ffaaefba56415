#!/bin/bash
# test-mirror-lift.sh — a mirror on nodes 1 and 2 of three VMs loses its lower node: node2
# alone holds half of the log's quorum set {1, 2} without the lowest, so its writes wait
# (node1 might live on in another partition). Once node2 knows node1 was fenced (no
# Pacemaker here: the host crashed it, and the administrator says so) and node3, the
# rest of the cluster, runs with it, node2 goes on alone: its write completes and the
# whole mirror resyncs through the real kernel (node2's kernel had been told all is in
# sync: node2, now the log's writer, suspends and resumes its mirror). Both legs are
# then compared on the host; node1 comes back and joins in sync. Run by
# tests/vm/run-tests; needs the daemon in $BLKSPACE_BUILD.
# shellcheck disable=SC2016,SC2317 # guest commands in single quotes; functions run by check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=mirror-lib.sh
. "$(dirname "$0")/mirror-lib.sh"

# Pattern D (seed 4, 4 MiB at 0), written by node1; pattern E (seed 5, 2 MiB at 12 MiB),
# written by node2 while it waits for node1's fencing.
E_MIB=12
E_LEN_MIB=2

# node2's log: PHASE (active, inquorate) and whether it goes on by vouching
node2_log_is() {
	local out
	out=$(vm exec -t 20 2 "blkspace log show $UUID --output-format=json") || { echo "$out"; return 1; }
	python3 -c '
import json, sys
l = json.loads(sys.argv[1])["log"]
want = (sys.argv[2], sys.argv[3] == "vouched")
got = (l["phase"], l["quorum_vouched"])
if got != want:
    print("phase %r, quorum_vouched %r: not %r (in_sync %r, marked %r)" % (got + (want, l["in_sync"], l["marked"])))
    sys.exit(1)' "$out" "$1" "$2"
}

# node2 writes pattern E through the mirror in the background (O_DIRECT)
start_e() {
	vm exec 2 "$G; perl -e $(printf %q "$PATTERN_PL") 5 $E_LEN_MIB > /tmp/vmtest-e && rm -f /tmp/vmtest-e.done &&
		setsid sh -c 'dd if=/tmp/vmtest-e of=/dev/mapper/$MIRROR bs=64K seek=$((E_MIB * 16)) oflag=direct status=none &&
			touch /tmp/vmtest-e.done' > /tmp/vmtest-e.log 2>&1 < /dev/null &"
}
e_done() { vm exec 2 'test -e /tmp/vmtest-e.done'; }
e_waits() { ! e_done && vm exec 2 'pgrep -f "of=/dev/mapper/vmtest-mirror" > /dev/null'; }

# node2, the log's writer now, suspended and resumed its mirror since its start
node2_resumed() {
	vm exec 2 'awk "/^--- mirror test: blkspaced starts/ {s = 0} /the mirror was resumed, its resync goes on/ {s = 1}
		END {exit !s}" /var/log/blkspace/blkspaced.log' || { echo "node2 did not resume its mirror"; return 1; }
}

# --- 1. the mirror on nodes 1 and 2, blkspaced on all three ---------------------------------

mirror_test_begin
check "dmsetup create of the mirror on nodes 1 and 2 (node3 runs none)" \
	vm exec -t 90 1,2 "dmsetup create $MIRROR --table '$TABLE'"
check "the initial resync: in sync on nodes 1 and 2, members and registered [1,2]" \
	wait_until 120 in_sync 1,2 "[1,2]"
check "node1 writes 4 MiB of pattern D" write_pattern 1 4 4 0

# --- 2. node1 crashes: node2 waits until it knows node1 was fenced -------------------------

vm crash 1 > /dev/null
check "node2's log lacks the majority of {1, 2}: inquorate" wait_until 60 node2_log_is inquorate no
check "node2 starts writing pattern E ($E_LEN_MIB MiB at $E_MIB MiB)" start_e
sleep 5
check "node2's write waits 5 s later" e_waits
check "node2: blkspace node confirm-fenced 1" vm exec 2 "blkspace node confirm-fenced 1"
check "then node2's write completes" wait_until 30 e_done
check "node2's log is active by vouching, members and registered [2], the mirror out of sync" \
	eval 'node2_log_is active vouched && logs_are 2 "[2]" "l[\"quorum_vouched\"]" "l[\"in_sync\"] < l[\"regions\"]"'
check "node2 reads pattern E back" read_pattern 2 5 "$E_LEN_MIB" "$E_MIB"

# --- 3. the whole mirror resyncs through node2's kernel ------------------------------------

check "node2, the log's writer now, suspends and resumes its mirror to restart the resync" \
	wait_until 60 node2_resumed
check "the log is in sync again on node2 (dmsetup status $REGIONS/$REGIONS)" \
	wait_until 120 eval 'in_sync 2 "[2]" && logs_are 2 "[2]" "l[\"resync_needs_resume\"] is False"'
check "dmsetup suspend on node2 returns" vm exec -t 60 2 "dmsetup suspend $MIRROR"
check "host: both legs byte-identical over the mirror's 32 MiB" legs_equal
check "host: both legs hold patterns D and E" eval 'legs_hold 4 4 0 && legs_hold 5 "$E_LEN_MIB" "$E_MIB"'
check "host: the disk log is all clean" disk_log_clean
check "dmsetup resume on node2 returns" vm exec -t 60 2 "dmsetup resume $MIRROR"

# --- 4. node1 comes back -------------------------------------------------------------------

check "crashed node1 starts again, corosync has 3 members" restart_node 1
check "blkspaced starts again on node1, the netlink kernel link open" \
	eval 'start_blkspaced 1 && wait_until 60 serving 1'
check "dmsetup create on node1 returns" vm exec -t 90 1 "dmsetup create $MIRROR --table '$TABLE'"
check "node1 joins the log: members and registered [1,2], in sync, no longer by vouching" \
	wait_until 60 eval 'in_sync 1,2 "[1,2]" && logs_are 1,2 "[1,2]" "not l[\"quorum_vouched\"]"'
check "node1 reads patterns D and E" eval 'read_pattern 1 4 4 0 && read_pattern 1 5 "$E_LEN_MIB" "$E_MIB"'

# --- 5. removal -------------------------------------------------------------------------------

check "dmsetup remove on node2, then node1" \
	eval 'vm exec -t 45 2 "dmsetup remove $MIRROR" && wait_until 20 logs_are 1 "[1]" &&
		vm exec -t 45 1 "dmsetup remove $MIRROR"'
check "blkspace log list is empty on all nodes" no_logs
check "no table left, blkspaced stops on SIGTERM on all nodes" stopped

done_testing
