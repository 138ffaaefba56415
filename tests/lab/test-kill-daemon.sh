#!/bin/bash
# kill -9 of blkspaced on node 2: the others go on (2 of 3 is a majority);
# the restarted daemon rejoins, receives the state it missed and agrees.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

check "set a=1" bs 1 property set a=1
"$L" kill 2 daemon
check "node 1 sees members 1 3" wait_for 20 members_are 1 "1 3"
check "node 1 stays primary" is_primary 1
check "set b=2 without node 2" bs 3 property set b=2
check "restart daemon on node 2" "$L" start 2 daemon
check "node 2 back: members 1 2 3" wait_for 20 members_are 2 "1 2 3"
check "node 2 has b=2 (state transfer)" wait_for 10 prop_is 2 b 2
check "node 2 has a=1" prop_is 2 a 1
check "all nodes agree" wait_for 10 same_view 1 2 3
check "the restarted node has a new incarnation" [ "$(json_status 2 'd["node"]["incarnation"]')" -ge 2 ]
check "set c=3 on node 2" bs 2 property set c=3
check "node 1 reads c=3" prop_is 1 c 3
