#!/bin/bash
# kill -9 of corosync on node 3: its blkspaced survives and waits; nodes 1-2
# go on; once corosync is back the daemon rejoins by itself and catches up.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

"$L" kill 3 corosync
check "nodes 1-2 see members 1 2" wait_for 20 members_are 1 "1 2"
check "set x=survivors on node 2" bs 2 property set x=survivors
check "node 3's blkspaced is still running" daemon_alive 3
bs 3 property set y=1 >/dev/null 2>&1
rc=$?
check "node 3 refuses changes without corosync (exit $rc: 106 or 1)" [ "$rc" = 106 ] || [ "$rc" = 1 ]
check "start corosync on node 3" "$L" start 3 corosync
check "node 3's daemon rejoins: members 1 2 3" wait_for 40 members_are 3 "1 2 3"
check "node 3 has x=survivors" wait_for 10 prop_is 3 x survivors
check "all nodes agree" wait_for 10 same_view 1 2 3
check "set z=1 on node 3" bs 3 property set z=1
check "node 1 reads z=1" prop_is 1 z 1
