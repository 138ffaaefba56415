#!/bin/bash
# Direct receipts: every daemon sends its receipts over UDP (direct_port)
# ahead of the ordered copies. The others take them; datagrams that are not
# blkspace's, or made with another key, are counted and dropped with one log
# line; a daemon that cannot read the key runs without them (status shows
# "direct": null) and the cluster answers as before.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

direct_field() { json_status "$1" "(d['direct'] or {}).get('$2')"; }
direct_off() { [ "$(json_status "$1" 'd["direct"]')" = None ]; }
received_some() { [ "$(direct_field "$1" received)" -gt 0 ] 2>/dev/null; }
# send_udp N ADDR HEX: one datagram of the bytes HEX from node N to ADDR:5409
send_udp() {
	"$L" exec "$1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex(sys.argv[2]), (sys.argv[1], 5409))' "$2" "$3"
}

for n in 1 2 3; do
	check "node $n: property set" bs "$n" property set "direct$n=yes"
done
for n in 1 2 3; do
	check "node $n: direct receipts on port 5409" [ "$(direct_field "$n" port)" = 5409 ]
	check "node $n: took direct receipts" received_some "$n"
	check "node $n: rejected none" [ "$(direct_field "$n" rejected)" = 0 ]
	check "node $n: logged that they are on" grep -q "direct receipts on UDP port 5409" \
		"$("$L" logs "$n")/blkspace/blkspaced.log"
done

# bad datagrams to node 1: junk, and one that looks like ours with a wrong tag
a1=$("$L" addr 1)
check "node 1 has an address" [ -n "$a1" ]
check "send junk to node 1" send_udp 2 "$a1" 68656c6c6f
forged=424b5344010808000200000001000000626c6b7370616365$(printf '00%.0s' {1..8})$(printf 'ab%.0s' {1..16})
check "send a datagram with a wrong tag to node 1" send_udp 3 "$a1" "$forged"
check "node 1 counted both" wait_for 10 [ "$(direct_field 1 rejected)" = 2 ]
check "node 1 logged the first, once" [ "$(daemon_log_count 1 'direct datagram from .*not a blkspace datagram')" = 1 ]
check "node 1 logged no second line" [ "$(daemon_log_count 1 'direct datagram from ')" = 1 ]
check "node 1 still running" daemon_alive 1
check "node 1 still answers" bs 1 property set after=junk
check "node 3 reads it" prop_is 3 after junk

# node 3 without a key: no direct receipts there, the cluster as before
conf="$(dirname "$("$L" logs 3)")/etc-blkspace/blkspaced.conf"
cp "$conf" "$conf.orig"
echo "direct_key_file = /etc/corosync/no-such-key" >>"$conf"
"$L" kill 3 daemon
check "node 3 restarts without the key" "$L" start 3 daemon
check "node 3 joins again" wait_for 30 same_view 1 2 3
check "node 3 logged why direct receipts are off" grep -q \
	"direct receipts off: cannot read the key /etc/corosync/no-such-key" \
	"$("$L" logs 3)/blkspace/blkspaced.log"
check "node 3's status: direct is null" direct_off 3
check "node 3: property set by corosync alone" bs 3 property set nokey=works
check "node 1 reads it" prop_is 1 nokey works
check "node 1: property set" bs 1 property set withkey=works
check "node 3 reads it" prop_is 3 withkey works
mv "$conf.orig" "$conf"
check "all nodes agree" wait_for 10 same_view 1 2 3
