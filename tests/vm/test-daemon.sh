#!/bin/bash
# test-daemon.sh — blkspaced on real corosync in 3 VMs: the control domain forms with
# every member, all nodes agree on epoch, members and writer, survivors of a crashed
# node stay quorate, the restarted node rejoins, a property set on one node is read on
# another. Run by tests/vm/run-tests; needs the daemon built in $BLKSPACE_BUILD.
# shellcheck disable=SC2016,SC2317 # guest commands in single quotes; functions run by check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=${BLKSPACE_BUILD-$(cd "$VM_HERE/../.." && pwd)/build}
trap 'stop_blkspaced all' EXIT

# start_blkspaced NODES: the real backends, debug log in /var/log/blkspace/blkspaced.log
start_blkspaced() {
	vm exec "$1" 'mkdir -p /etc/blkspace /var/log/blkspace
		printf "transport = cpg\nlog_level = debug\n" > /etc/blkspace/blkspaced.conf
		pgrep -x blkspaced > /dev/null && { echo "blkspaced already runs"; exit 1; }
		setsid blkspaced -f >> /var/log/blkspace/blkspaced.log 2>&1 < /dev/null &
		sleep 0.5; pgrep -x blkspaced > /dev/null || { tail -n 20 /var/log/blkspace/blkspaced.log; exit 1; }'
}

# the daemon on NODES answers `blkspace status --local --quiet` with 0 (ready, quorate)
ready() { vm exec "$1" 'blkspace status --local --quiet; rc=$?; [ $rc = 0 ] || echo "status --local: exit $rc"; exit $rc'; }

# agree NODES MEMBERS: `blkspace status --output-format=json` on every node of NODES
# ("1,3") reports api_version 1, itself, quorate, members MEMBERS ("[1,3]"), and all
# of them agree on epoch and writer
agree() {
	local out
	out=$(vm exec -t 20 "$1" 'blkspace status --output-format=json') || { echo "$out"; return 1; }
	python3 -c '
import json, re, sys
nodes, want, out = sys.argv[1].split(","), json.loads(sys.argv[2]), sys.argv[3]
text = {n: "" for n in nodes}
for line in out.splitlines():
    m = re.match(r"\[node(\d+)\] (.*)", line)
    n, rest = (m.group(1), m.group(2)) if m else (nodes[0], line)
    text[n] += rest + "\n"
errors, seen = [], {}
for n in nodes:
    try:
        s = json.loads(text[n])
    except ValueError:
        errors.append("node%s: no JSON: %r" % (n, text[n][:200]))
        continue
    for key, value in (("api_version", 1), ("quorate", True), ("members", want)):
        if s.get(key) != value:
            errors.append("node%s: %s is %r, not %r" % (n, key, s.get(key), value))
    if s.get("node", {}).get("id") != int(n):
        errors.append("node%s: node.id is %r" % (n, s.get("node", {}).get("id")))
    seen[n] = (s.get("epoch"), s.get("writer"))
if len(set(seen.values())) > 1:
    errors.append("epoch, writer differ: %r" % seen)
print("\n".join(errors))
sys.exit(1 if errors else 0)' "$1" "$2" "$out"
}

if [ ! -x "$BUILD/daemon/blkspaced" ]; then
	not_ok "blkspaced is built in $BUILD (BLKSPACE_BUILD): nothing to test"
	done_testing
fi
check "the staged blkspaced and blkspace run in the guests (all libraries found)" \
	vm exec all 'for p in blkspaced blkspace; do f=$(command -v $p) || { echo "no $p on PATH"; exit 1; }
		! ldd "$f" | grep "not found"; done'
vm exec all 'rm -rf /var/lib/blkspace /var/log/blkspace'   # a fresh control domain
check "blkspaced starts on all nodes" start_blkspaced 1,2,3
check "blkspace status --local --quiet: ready on all nodes" wait_until 60 ready 1,2,3
check "control domain: members [1,2,3], quorate, same epoch and writer on all nodes" \
	wait_until 30 agree 1,2,3 "[1,2,3]"
check "blkspace status (text) answers on all nodes" vm exec all 'blkspace status'

vm crash 2 > /dev/null
check "crash of node2: nodes 1 and 3 report members [1,3] and stay quorate" \
	wait_until 60 agree 1,3 "[1,3]"
check "crashed node2 starts again, corosync has 3 members" restart_node 2
check "blkspace status --local --quiet exits 69 (unreachable) before blkspaced runs on node2" \
	vm exec 2 'blkspace status --local --quiet; rc=$?; [ $rc = 69 ] || { echo "exit $rc"; exit 1; }'
check "blkspaced starts again on node2" start_blkspaced 2
check "control domain after the restart: members [1,2,3], same epoch on all nodes" \
	wait_until 90 agree 1,2,3 "[1,2,3]"

check "blkspace property set vmtest=1 on node1" vm exec 1 'blkspace property set vmtest=1'
property_on_3() {
	local out
	out=$(vm exec 3 'blkspace property get vmtest') || { echo "$out"; return 1; }
	grep -Eqx '(vmtest *[=:] *)?1' <<< "$out" || { echo "node3 read: $out"; return 1; }
}
check "blkspace property get vmtest on node3 reads 1" wait_until 10 property_on_3

done_testing
