#!/bin/bash
# A mirror log on a shared log device, resumed on all 3 nodes (ulog-client
# plays each node's kernel): nodes 1 and 2 both mark region R; after node 1
# clears it, R stays dirty (IS_CLEAN 0 everywhere, clean bit 0 on disk) as
# long as node 2 has it marked; node 2's clear makes it clean everywhere and
# on disk. `blkspace log show` counts follow on every node.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

uuid=LVM-two-writers
regions=16 R=5
disk=$("$L" disk mlog-two-writers) || exit 1
ctr="$((regions * 1024)) clustered-disk $disk 1024 nosync"

check "ctr + resume on nodes 1, 2, 3" ulog_activate "$uuid" "$ctr" 1 2 3
for n in 1 2 3; do
	check "node $n: members and registered 1,2,3, writer 1" wait_for 10 log_is "$n" "$uuid" \
		'l["members"], l["registered"], l["writer"]' '[1, 2, 3] [1, 2, 3] 1'
	check "node $n: nosync: $regions in sync, 0 dirty, 0 marked" log_is "$n" "$uuid" \
		'l["in_sync"], l["dirty"], l["marked"]' "$regions 0 0"
done
check "disk: the writer wrote every region clean (and the header)" \
	wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions")"
check "node 1 (the writer) has the log device open with O_DIRECT" daemon_has_direct 1 "$disk"

check "node 1: MARK $R" ulog_ok 1 "$uuid" mark "$R"
# a mark is answered once the log device shows it dirty: no waiting here
check "disk: region $R dirty as soon as node 1's mark is answered" \
	disk_bits_are "$disk" "$regions" "$(clean_except "$regions" "$R")"
check "node 2: MARK $R, FLUSH" ulog_ok 2 "$uuid" mark "$R" flush
for n in 1 2 3; do
	check "node $n: IS_CLEAN $R = 0" ulog_is 0 "$n" "$uuid" is_clean "$R"
	check "node $n: log show: 1 marked, 1 dirty, $regions in sync" wait_for 5 log_is "$n" "$uuid" \
		'l["marked"], l["dirty"], l["in_sync"]' "1 1 $regions"
done

# node 1's own IS_CLEAN is ordered after its clear, so it sees it applied
check "node 1: CLEAR $R, FLUSH, IS_CLEAN $R = 0 (node 2 still has it marked)" \
	ulog_is 0 1 "$uuid" clear "$R" flush is_clean "$R"
for n in 2 3; do
	check "node $n: IS_CLEAN $R = 0 after node 1's clear" ulog_is 0 "$n" "$uuid" is_clean "$R"
done
sleep 1
for n in 1 2 3; do
	check "node $n: a second later, IS_CLEAN $R still 0" ulog_is 0 "$n" "$uuid" is_clean "$R"
	check "node $n: log show: still 1 marked, 1 dirty" log_is "$n" "$uuid" 'l["marked"], l["dirty"]' "1 1"
done
check "disk: region $R still dirty, the others clean" \
	disk_bits_are "$disk" "$regions" "$(clean_except "$regions" "$R")"

check "node 2: CLEAR $R, FLUSH, IS_CLEAN $R = 1" ulog_is 1 2 "$uuid" clear "$R" flush is_clean "$R"
for n in 1 3; do
	check "node $n: IS_CLEAN $R = 1" wait_for 5 ulog_is 1 "$n" "$uuid" is_clean "$R"
done
for n in 1 2 3; do
	check "node $n: log show: 0 marked, 0 dirty, $regions in sync" wait_for 5 log_is "$n" "$uuid" \
		'l["marked"], l["dirty"], l["in_sync"]' "0 0 $regions"
done
check "disk: region $R clean again" wait_for 5 disk_bits_are "$disk" "$regions" "$(clean_except "$regions")"
check "log list on node 3 shows the log" bash -c "'$L' exec 3 blkspace log list | grep -q '^$uuid '"
