#!/bin/bash
# Hostile peer input: random bytes and well-formed headers with garbage
# payloads multicast into the control group. Each daemon drops them with a
# log line and keeps working.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

for n in 16 100 3000; do
	check "inject $n random bytes" "$L" exec 2 cpg-send blkspace random "$n"
done
for type in 1 2 3 4 5 9; do
	check "inject a type $type header with garbage" "$L" exec 2 cpg-send blkspace header "$type" 40
done
for n in 1 2 3; do
	check "node $n still running" daemon_alive "$n"
	check "node $n logged the bad messages" grep -qE "undecodable|malformed|ignoring" \
		"$("$L" logs "$n")/blkspace/blkspaced.log"
done
check "property set still works" bs 1 property set after=attack
check "node 3 reads it" prop_is 3 after attack
check "all nodes agree" wait_for 10 same_view 1 2 3
