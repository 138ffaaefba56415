#!/bin/bash
# mirror-lib.sh — what the mirror tests share: one 2-leg `mirror userspace` table with a
# clustered-disk log on the shared disks, blkspaced started with kernel_link = netlink,
# checks of `blkspace log list` and `dmsetup status`, test patterns written and read
# through the mirror, and the host's view of both legs and the disk log. Sourced after
# lib.sh by tests/vm/test-mirror*.sh.
# shellcheck disable=SC2016,SC2317,SC2034 # guest commands in single quotes; functions run by check; variables used by the tests
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
# the host), a pattern per seed.
PATTERN_PL='srand($ARGV[0]); print pack("L*", map { int(rand(4294967296)) } 1 .. $ARGV[1] * 262144)'

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
		echo "--- mirror test: blkspaced starts" >> /var/log/blkspace/blkspaced.log
		setsid blkspaced -f >> /var/log/blkspace/blkspaced.log 2>&1 < /dev/null &
		sleep 0.5; pgrep -x blkspaced > /dev/null || { tail -n 20 /var/log/blkspace/blkspaced.log; exit 1; }'
}

# serving NODES: the daemon is ready and has opened the netlink kernel link since its start
# (a table created before would be refused: no log server)
serving() {
	vm exec "$1" 'blkspace status --local --quiet || { echo "status --local: exit $?"; exit 1; }
		awk "/^--- mirror test: blkspaced starts/ {s = 0} /serving mirror logs over the netlink kernel link/ {s = 1}
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

# a fresh log device, and leg 2 filled with random data (the legs differ)
fresh_disks() {
	vm exec -t 60 1 'dd if=/dev/zero of=/dev/shared0 bs=1M count=1 oflag=direct status=none &&
		dd if=/dev/urandom of=/dev/shared2 bs=1M count=32 oflag=direct status=none' &&
		[ "$(slice_md5 1 0 32)" != "$(slice_md5 2 0 32)" ]
}

# `blkspace log list` is empty on every node
no_logs() {
	local out
	out=$(vm exec -t 20 all 'blkspace log list --output-format=json | tr -d " \n"; echo') || { echo "$out"; return 1; }
	! grep -v '"logs":\[\]' <<< "$out"
}

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

# The start of a mirror test: the daemon is built (else the test fails), every node gets
# a fresh control domain and starts blkspaced with the netlink kernel link, and the shared
# disks are fresh (the legs differ).
mirror_test_begin() {
	if [ ! -x "$BUILD/daemon/blkspaced" ]; then
		not_ok "blkspaced is built in $BUILD (BLKSPACE_BUILD): nothing to test"
		done_testing
	fi
	vm exec all 'rm -rf /var/lib/blkspace /var/log/blkspace'
	check "blkspaced starts on all nodes (kernel_link = netlink)" start_blkspaced 1,2,3
	check "blkspaced ready on all nodes, the netlink kernel link open" wait_until 60 serving 1,2,3
	check "a fresh log device, and leg 2 filled with random data (the legs differ)" fresh_disks
}
