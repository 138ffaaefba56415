#!/bin/bash
# A daemon that stops answering (SIGSTOP on node 3) while its corosync stays
# in the group: a property change is answered by a majority (the origin and
# node 2) without it, and the stopped daemon catches up when it continues.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

check "set a=1" bs 1 property set a=1
pid3=$("$L" pid 3 daemon)
check "stop node 3's daemon (SIGSTOP)" kill -STOP "$pid3"
check "set b=2 on node 1 within 10 s" timeout 10 "$L" exec 1 blkspace property set b=2
check "set c=3 on node 2 within 10 s" timeout 10 "$L" exec 2 blkspace property set c=3
check "node 1 reads c=3" prop_is 1 c 3
check "node 2 reads b=2" prop_is 2 b 2
check "node 1 still counts node 3 as a member" members_are 1 "1 2 3"
check "continue node 3's daemon (SIGCONT)" kill -CONT "$pid3"
check "node 3 applies b=2" wait_for 10 prop_is 3 b 2
check "node 3 applies c=3" wait_for 10 prop_is 3 c 3
check "all nodes agree" wait_for 10 same_view 1 2 3
check "set d=4 on node 3" bs 3 property set d=4
check "node 1 reads d=4" prop_is 1 d 4
