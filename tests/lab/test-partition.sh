#!/bin/bash
# Partition 2+1: the minority refuses changes (exit 106) and reports not
# quorate (exit 2), the majority goes on; a change waiting for quorum on the
# minority completes after the heal; the minority converges to the majority.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

check "set v=before" bs 1 property set v=before
"$L" cut 3
check "node 1 sees members 1 2" wait_for 20 members_are 1 "1 2"
check "node 3 is no longer primary" wait_for 20 not_primary 3
bs 3 property set v=minority >/dev/null 2>&1
check "minority: property set exits 106" [ $? = 106 ]
bs 3 status --quiet
check "minority: status --quiet exits 2" [ $? = 2 ]
check "majority: property set v=majority" bs 1 property set v=majority
check "minority still reads the old value" prop_is 3 v before
bs 3 property set w=waited --wait=60 >/tmp/lab-wait.$$ 2>&1 &
waiter=$!
sleep 1
check "the waiting change is still pending" kill -0 $waiter
"$L" heal 3
check "node 3 rejoins: members 1 2 3" wait_for 30 members_are 3 "1 2 3"
wait $waiter
check "the waiting change completed with exit 0" [ $? = 0 ]
check "minority converged: v=majority" wait_for 10 prop_is 3 v majority
check "node 1 reads w=waited" prop_is 1 w waited
check "all nodes agree" wait_for 10 same_view 1 2 3
rm -f /tmp/lab-wait.$$
