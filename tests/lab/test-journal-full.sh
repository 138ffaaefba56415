#!/bin/bash
# A node whose state directory fills up (node 3's on an 8 MiB tmpfs, filled
# while the daemon runs): node 3 logs the failure once and leaves the control
# group, so the others go on, also through a membership change; once space
# is freed it writes its journal again on its own, in a quiet cluster, joins
# again and restarts from that journal. Its status names the error meanwhile.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

n3_log() { echo "$("$L" logs 3)/blkspace/blkspaced.log"; }
control_field() { json_status "$1" "d[\"control\"][\"$2\"]"; }
node3_durable() { [ "$(control_field 3 durable_seq)" = "$(control_field 3 logged)" ]; }

# big_set N: N keys of 1000 bytes on node 1 in one change (about 70 KiB of
# journal on every node)
big_set() {
	local i value pairs=()
	value=$(head -c 1000 /dev/zero | tr '\0' "$1")
	for ((i = 0; i < 64; i++)); do pairs+=("big$i=$value"); done
	timeout 20 "$L" exec 1 blkspace property set "${pairs[@]}" >/dev/null
}
big_sets_answered() {
	local c
	for c in a b c d e f g h i j k l m n o p q r s t; do big_set "$c" || return 1; done
}

check "set a=1" bs 1 property set a=1
check "stop node 3's daemon" "$L" stop 3 daemon
check "node 3's state directory moves to an 8 MiB tmpfs" "$L" exec 3 sh -c \
	'cp -a /var/lib/blkspace /run/state-copy &&
	 mount -t tmpfs -o size=8m bks-small /var/lib/blkspace &&
	 cp -a /run/state-copy/. /var/lib/blkspace/ && rm -rf /run/state-copy'
check "start node 3's daemon on it" "$L" start 3 daemon
check "node 3 reads a=1" wait_for 20 prop_is 3 a 1
check "set b=2 (node 3's journal has its first MiB)" bs 1 property set b=2
check "fill node 3's tmpfs" "$L" exec 3 sh -c \
	'dd if=/dev/zero of=/var/lib/blkspace/filler bs=64k 2>/dev/null; [ -s /var/lib/blkspace/filler ]'
check "20 changes of 70 KiB each are answered by nodes 1 and 2" big_sets_answered
check "node 3 leaves the control group" wait_for 10 members_are 1 "1 2"
check "node 3 logged the failure once" \
	test "$(daemon_log_count 3 'cannot write the journal: No space left on device')" = 1
check "node 3 logged that it leaves the group" \
	test "$(daemon_log_count 3 'leaving the group until the journal can be written')" = 1
check "node 3's daemon runs on" daemon_alive 3
check "node 3's status names the journal's error" \
	test "$(json_status 3 'd["journal_error"]')" = "No space left on device"
check "node 3's status text says so" bash -c "'$L' exec 3 blkspace status | grep -q '^Journal: cannot be written'"
check "restart node 2's daemon (kill -9): a membership change" "$L" kill 2 daemon
check "node 2's daemon starts again" "$L" start 2 daemon
check "nodes 1 and 2 answer a change without node 3" timeout 20 "$L" exec 1 blkspace property set e=5
check "free node 3's tmpfs" "$L" exec 3 rm /var/lib/blkspace/filler
check "node 3 writes its journal again without new traffic" \
	wait_for 10 grep -q 'the journal is written again' "$(n3_log)"
check "node 3 joins the group again" wait_for 20 members_are 1 "1 2 3"
check "node 3 applies the changes" wait_for 10 prop_is 3 big0 "$(head -c 1000 /dev/zero | tr '\0' t)"
check "node 3 applies e=5" wait_for 10 prop_is 3 e 5
check "node 3 holds everything durably" wait_for 5 node3_durable
check "node 3's status shows no journal error" test "$(json_status 3 'd["journal_error"]')" = None
check "set c=3 on node 3" bs 3 property set c=3
check "restart node 3's daemon (kill -9)" "$L" kill 3 daemon
check "it starts again from its journal" "$L" start 3 daemon
check "node 3 reads c=3" wait_for 20 prop_is 3 c 3
check "all nodes agree" wait_for 10 same_view 1 2 3
check "node 3 replayed its journal without error" \
	test "$(daemon_log_count 3 'corrupt|failed its checksum|cannot start')" = 0
