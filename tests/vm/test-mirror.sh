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

BUILD=${BLKSPACE_BUILD-$(cd "$VM_HERE/../.." && pwd)/build}
RUN_DIR=${BLKSPACE_VM_DIR:-/var/tmp/blkspace-vm}/run # the shared disks' image files

# The mirror: 32 MiB, 256 regions of 128 KiB (TCG: a full resync takes 10-20 s), its log
# on /dev/shared0, its legs at the start of /dev/shared1 and /dev/shared2.
MIRROR=vmtest-mirror
UUID=blkspace-vmtest-mirror
SECTORS=65536
REGION_SECTORS=256
REGIONS=256
TABLE="0 $SECTORS mirror userspace 4 $UUID clustered-disk /dev/shared0 $REGION_SECTORS 2 /dev/shared1 0 /dev/shared2 0"
G="MIRROR=$MIRROR SECTORS=$SECTORS REGIONS=$REGIONS" # prefix of guest commands
# Test data: MIB MiB of perl's seeded generator (the same bytes in the guests and on
# the host): pattern A (seed 1, 4 MiB at 0), pattern B (seed 2, 2 MiB at 8 MiB, where
# node2 writes when it crashes), pattern C (seed 3, 1 MiB at 20 MiB).
PATTERN_PL='srand($ARGV[0]); print pack("L*", map { int(rand(4294967296)) } 1 .. $ARGV[1] * 262144)'
WINDOW_MIB=8
WINDOW_LEN_MIB=2

cleanup() {
	vm exec -t 10 all 'f=/tmp/vmtest-writer.pid; [ -r $f ] && kill -- "-$(cat $f)" 2> /dev/null; rm -f $f; exit 0' > /dev/null 2>&1
	stop_blkspaced all
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# The guests' corosync runs without crypto, so without an authkey: the daemons get a key
# of their own for their direct receipts, the same on every node.
DIRECT_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

# start_blkspaced NODES: kernel_link = netlink, direct receipts, debug log in
# /var/log/blkspace/blkspaced.log
start_blkspaced() {
	vm exec "$1" 'mkdir -p /etc/blkspace /var/log/blkspace
		echo '"$DIRECT_KEY"' > /etc/blkspace/direct.key
		printf "transport = cpg\nkernel_link = netlink\nlog_level = debug\ndirect_key_file = /etc/blkspace/direct.key\n" \
			> /etc/blkspace/blkspaced.conf
		pgrep -x blkspaced > /dev/null && { echo "blkspaced already runs"; exit 1; }
		echo "--- test-mirror.sh: blkspaced starts" >> /var/log/blkspace/blkspaced.log
		setsid blkspaced -f >> /var/log/blkspace/blkspaced.log 2>&1 < /dev/null &
		sleep 0.5; pgrep -x blkspaced > /dev/null || { tail -n 20 /var/log/blkspace/blkspaced.log; exit 1; }'
}

# serving NODES: the daemon is ready and has opened the netlink kernel link since its start
# (a table created before would be refused: no log server)
serving() {
	vm exec "$1" 'blkspace status --local --quiet || { echo "status --local: exit $?"; exit 1; }
		awk "/^--- test-mirror.sh: blkspaced starts/ {s = 0} /serving mirror logs over the netlink kernel link/ {s = 1}
			END {exit !s}" /var/log/blkspace/blkspaced.log || { echo "the netlink kernel link is not open"; exit 1; }'
}

# logs_are NODES MEMBERS [CONDITION...]: `blkspace log list --output-format=json` on every
# node of NODES ("1,3") lists exactly our log: clustered-disk on /dev/shared0, its geometry,
# resumed, active, members and registered nodes MEMBERS ("[1,3]"), the lowest of them the
# writer, the same epoch on all nodes, and every CONDITION (python, over the log object l)
logs_are() {
	local nodes=$1 want=$2 out
	shift 2
	out=$(vm exec -t 20 "$nodes" 'blkspace log list --output-format=json') || { echo "$out"; return 1; }
	python3 -c '
import json, re, sys
nodes, want, uuid = sys.argv[1].split(","), json.loads(sys.argv[2]), sys.argv[3]
regions, region_size, out, conditions = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7:]
text = {n: "" for n in nodes}
for line in out.splitlines():
    m = re.match(r"\[node(\d+)\] (.*)", line)
    n, rest = (m.group(1), m.group(2)) if m else (nodes[0], line)
    text[n] += rest + "\n"
errors, epochs = [], {}
for n in nodes:
    try:
        logs = json.loads(text[n])["logs"]
    except (ValueError, KeyError, TypeError):
        errors.append("node%s: no log list: %r" % (n, text[n][:300]))
        continue
    if [x.get("uuid") for x in logs] != [uuid]:
        errors.append("node%s: logs %r, not [%r]" % (n, [x.get("uuid") for x in logs], uuid))
        continue
    l = logs[0]
    want_fields = {"type": "clustered-disk", "device": "/dev/shared0", "regions": regions,
                   "region_size": region_size, "resumed": True, "initialized": True,
                   "phase": "active", "members": want, "registered": want, "writer": min(want),
                   "disk_failed": False}
    for key, value in want_fields.items():
        if l.get(key) != value:
            errors.append("node%s: %s is %r, not %r" % (n, key, l.get(key), value))
    for c in conditions:
        if not eval(c, {}, {"l": l}):
            errors.append("node%s: not %s (in_sync %r, dirty %r, marked %r, recovering %r)" %
                          (n, c, l.get("in_sync"), l.get("dirty"), l.get("marked"), l.get("recovering")))
    epochs[n] = l.get("epoch")
if len(set(epochs.values())) > 1:
    errors.append("epochs differ: %r" % epochs)
print("\n".join(errors))
sys.exit(1 if errors else 0)' "$nodes" "$want" "$UUID" "$REGIONS" "$REGION_SECTORS" "$out" "$@"
}

# status_is NODES SYNCED: `dmsetup status` in the format of cmirrord's logs: both legs
# alive, SYNCED ("256", or "[0-9]+") of 256 regions in sync, a clustered-disk log on the
# log device's major:minor, alive
status_is() {
	vm exec -t 20 "$1" "$G SYNCED='$2'; "'dev=$(stat -L -c "%t %T" /dev/shared0) || exit 1
		set -- $dev; dev=$((16#$1)):$((16#$2))
		s=$(dmsetup status $MIRROR) || exit 1
		echo "$s" | grep -Eqx "0 $SECTORS mirror 2 [0-9]+:[0-9]+ [0-9]+:[0-9]+ $SYNCED/$REGIONS 1 AA 3 clustered-disk $dev A" ||
			{ echo "dmsetup status: $s (log device $dev)"; exit 1; }'
}

# in_sync NODES MEMBERS: the log in sync on every node of NODES, for blkspace and the kernel
in_sync() {
	logs_are "$1" "$2" 'l["in_sync"] == l["regions"]' 'l["recovering"] is None' &&
		status_is "$1" "$REGIONS"
}

# --- data --------------------------------------------------------------------------------

pattern_md5() { perl -e "$PATTERN_PL" "$1" "$2" | md5sum | cut -d' ' -f1; }

# write_pattern NODE SEED MIB AT_MIB: the pattern, written through the mirror with
# O_DIRECT; fails when it takes more than 30 s (a hung write)
write_pattern() {
	local out want
	want=$(pattern_md5 "$2" "$3")
	out=$(vm exec -t 90 "$1" "$G; f=/tmp/vmtest-pattern-$2; perl -e $(printf %q "$PATTERN_PL") $2 $3 > \$f || exit 1
		t0=\$(date +%s); dd if=\$f of=/dev/mapper/\$MIRROR bs=64K seek=$(($4 * 16)) oflag=direct status=none || exit 1
		echo \"took \$((\$(date +%s) - t0)) s\"; md5sum < \$f") || { echo "$out"; return 1; }
	grep -q "^$want " <<< "$out" || { echo "the guest's pattern differs from the host's: $out"; return 1; }
	local took
	took=$(sed -n 's/^took \([0-9]*\) s$/\1/p' <<< "$out")
	if [ -z "$took" ] || [ "$took" -gt 30 ]; then
		echo "the write hung: $out"
		return 1
	fi
}

# read_pattern NODES SEED MIB AT_MIB: every node of NODES reads the pattern with O_DIRECT
read_pattern() {
	local out want n rc=0
	want=$(pattern_md5 "$2" "$3")
	for n in ${1//,/ }; do
		out=$(vm exec -t 60 "$n" "dd if=/dev/mapper/$MIRROR bs=64K skip=$(($4 * 16)) count=$(($3 * 16)) iflag=direct status=none | md5sum") ||
			{ echo "node$n: $out"; rc=1; continue; }
		[ "${out%% *}" = "$want" ] || { echo "node$n read $out, the pattern is $want"; rc=1; }
	done
	return "$rc"
}

# --- the host's view of the shared disks (only while no guest writes them) ---------------

img() { echo "$RUN_DIR/shared$1.img"; }
# md5 of MIB MiB at AT_MIB of shared disk K, read with O_DIRECT (as the guests write)
slice_md5() { dd if="$(img "$1")" bs=1M skip="$2" count="$3" iflag=direct status=none | md5sum | cut -d' ' -f1; }

# legs_equal: both legs identical over the mirror's length (else: which regions differ)
legs_equal() {
	[ "$(slice_md5 1 0 $((SECTORS / 2048)))" = "$(slice_md5 2 0 $((SECTORS / 2048)))" ] && return 0
	python3 -c '
import sys
a, b, length, region = open(sys.argv[1], "rb"), open(sys.argv[2], "rb"), int(sys.argv[3]), int(sys.argv[4])
differ = [r for r in range(length // region) if a.read(region) != b.read(region)]
print("the legs differ in %d regions: %s" % (len(differ), " ".join(map(str, differ[:20]))))
' "$(img 1)" "$(img 2)" $((SECTORS * 512)) $((REGION_SECTORS * 512))
	return 1
}

# legs_hold SEED MIB AT_MIB: the pattern is on both legs
legs_hold() {
	local want k rc=0
	want=$(pattern_md5 "$1" "$2")
	for k in 1 2; do
		[ "$(slice_md5 "$k" "$3" "$2")" = "$want" ] || { echo "shared$k: not the pattern of seed $1 at $3 MiB"; rc=1; }
	done
	return "$rc"
}

# disk_log_clean [CLEAN]: the log device holds the kernel's (and cmirrord's) disk log:
# magic "MiRr", version 2, our region count, CLEAN regions (default: all) clean in the
# bitmap at byte 1024
disk_log_clean() {
	dd if="$(img 0)" bs=4096 count=2 iflag=direct status=none | python3 -c '
import struct, sys
regions, want, head = int(sys.argv[1]), int(sys.argv[2]), sys.stdin.buffer.read()
magic, version, nr = struct.unpack_from("<IIQ", head, 0)
bits = head[1024:1024 + (regions + 7) // 8]
clean = sum(bin(b).count("1") for b in bits)
errors = [e for e, bad in (("magic %#x, not 0x4d695272" % magic, magic != 0x4D695272),
                           ("version %d, not 2" % version, version != 2),
                           ("%d regions, not %d" % (nr, regions), nr != regions),
                           ("%d of %d regions clean, not %d" % (clean, regions, want), clean != want)) if bad]
print("; ".join(errors))
sys.exit(1 if errors else 0)' "$REGIONS" "${1:-$REGIONS}"
}

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

if [ ! -x "$BUILD/daemon/blkspaced" ]; then
	not_ok "blkspaced is built in $BUILD (BLKSPACE_BUILD): nothing to test"
	done_testing
fi

# --- 1. blkspaced on all nodes, the table on all nodes --------------------------------------

vm exec all 'rm -rf /var/lib/blkspace /var/log/blkspace' # a fresh control domain
check "blkspaced starts on all nodes (kernel_link = netlink)" start_blkspaced 1,2,3
check "blkspaced ready on all nodes, the netlink kernel link open" wait_until 60 serving 1,2,3
fresh_disks() {
	vm exec -t 60 1 'dd if=/dev/zero of=/dev/shared0 bs=1M count=1 oflag=direct status=none &&
		dd if=/dev/urandom of=/dev/shared2 bs=1M count=32 oflag=direct status=none' &&
		[ "$(slice_md5 1 0 32)" != "$(slice_md5 2 0 32)" ]
}
check "a fresh log device, and leg 2 filled with random data (the legs differ)" fresh_disks
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
	vm start 2 > /dev/null && vm wait -t 120 3 && start_blkspaced 2 &&
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

restart_node2() { vm start 2 > /dev/null && vm wait -t 120 3; }
check "crashed node2 starts again, corosync has 3 members" restart_node2
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
no_logs() {
	local out
	out=$(vm exec -t 20 all 'blkspace log list --output-format=json | tr -d " \n"; echo') || { echo "$out"; return 1; }
	! grep -v '"logs":\[\]' <<< "$out"
}
check "blkspace log list is empty on all nodes" no_logs
check "host: the log device after the last removal: all regions clean" disk_log_clean
# never stop a log server while a table of its remains (the kernel would wait for it):
# then the trap removes what is left first, rebooting a node where that hangs
stopped() {
	# a removal waiting for its log server has left `dmsetup table` already: look for dmsetup too
	vm exec -t 20 all '! dmsetup table | grep " mirror userspace " && ! pgrep -a -x dmsetup' ||
		{ echo "a table, or a dmsetup waiting for its log server, is left"; return 1; }
	vm exec -t 30 all 'pkill -x blkspaced
		for _ in $(seq 100); do pgrep -x blkspaced > /dev/null || exit 0; sleep 0.1; done
		echo "blkspaced still runs 10 s after SIGTERM"; exit 1'
}
check "no table left, blkspaced stops on SIGTERM on all nodes" stopped

done_testing
