#!/bin/bash
# Whole-cluster restarts: after a clean stop (SIGTERM) and after kill -9 of
# every daemon, the restarted cluster adopts the newest state from disk:
# nothing acknowledged is lost and the epoch moves on.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

check "set p=1 q=2" bs 2 property set p=1 q=2
epoch=$(json_status 1 'd["epoch"]')
for n in 1 2 3; do "$L" stop "$n" daemon; done
check "daemons stopped cleanly" bash -c "! grep -q 'did not confirm' $("$L" logs 1)/blkspace/blkspaced.log"
for n in 1 2 3; do "$L" start "$n" daemon >/dev/null; done
check "cluster ready again" wait_for 30 members_are 1 "1 2 3"
check "p=1 survived a clean stop" prop_is 3 p 1
check "the epoch moved on" [ "$(json_status 1 'd["epoch"]')" -gt "$epoch" ]
check "set r=3" bs 3 property set r=3
for n in 1 2 3; do "$L" kill "$n" daemon; done
for n in 3 2 1; do "$L" start "$n" daemon >/dev/null; done
check "cluster ready after kill -9 of all" wait_for 30 members_are 2 "1 2 3"
check "r=3 survived kill -9 of every daemon" prop_is 1 r 3
check "q=2 still there" prop_is 2 q 2
check "all nodes agree" wait_for 10 same_view 1 2 3
