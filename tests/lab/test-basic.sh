#!/bin/bash
# A fresh 3-node cluster: every node ready, quorate, 3 members, same epoch
# and writer; properties set on one node are read on the others; JSON carries
# api_version; the node list names every node.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

for n in 1 2 3; do
	check "node $n: status --quiet exits 0" bs "$n" status --local --quiet
	check "node $n: quorate, members 1 2 3" members_are "$n" "1 2 3"
	check "node $n: api_version 1" [ "$(json_status "$n" 'd["api_version"]')" = 1 ]
	check "node $n: its own id and name" [ "$(json_status "$n" 'd["node"]["id"], d["node"]["name"]')" = "$n n$n" ]
done
check "all nodes: same epoch, seq, members and writer" wait_for 10 same_view 1 2 3
check "writer is node 1" [ "$(json_status 2 'd["writer"]')" = 1 ]

check "property set on node 1" bs 1 property set color=blue size=3
check "node 3 reads color=blue" prop_is 3 color blue
check "node 2 reads size=3" prop_is 2 size 3
check "property list on node 2 as JSON" [ "$(bs 2 property list --output-format=json |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["api_version"], d["properties"]["color"])')" = "1 blue" ]
check "property unset on node 3" bs 3 property unset size
bs 1 property get size >/dev/null 2>&1
check "unset property: get exits 1" [ $? = 1 ]
bs 1 property set 'bad key=1' >/dev/null 2>&1
check "bad key: usage error 64" [ $? = 64 ]
check "node list shows n1 n2 n3 as members" [ "$(bs 1 node list --output-format=json |
	python3 -c 'import json,sys; print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"] if n["member"]))')" = "n1 n2 n3" ]
