#!/bin/bash
# The OCF agent ocf:blkspace:blkspaced: ocf-tester's run through meta-data,
# validate-all, probe, start, monitor, stop (node 1); a bad configuration, a
# stopped daemon, a node cut off (not a failure) and a stop refused while a
# mirror log is active; then
# Pacemaker running the agent as an interleaved clone on all three nodes,
# restarting a daemon killed with SIGKILL, and stopping the clone.
. "$(dirname "$0")/testlib.sh"
lab_test_begin 3

B=$BLKSPACE_BUILD
built_agent=$B/agents/blkspaced
agent=/usr/lib/ocf/resource.d/blkspace/blkspaced
params=(daemon="$B/daemon/blkspaced" cli="$B/tools/blkspace")
# ra N ACTION [NAME=VALUE...]: the agent's action on node N, as Pacemaker runs it
ra() {
	local n=$1 action=$2 p env=(OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=bs
		OCF_RESKEY_CRM_meta_interval=10000)
	shift 2
	for p in "${params[@]}" "$@"; do env+=("OCF_RESKEY_$p"); done
	"$L" exec "$n" env "${env[@]}" "$agent" "$action"
}
ra_exits() { # ra_exits CODE N ACTION [NAME=VALUE...]
	local want=$1 rc=0
	shift
	ra "$@" >/tmp/ra.out.$$ 2>&1 || rc=$?
	[ "$rc" = "$want" ] || { echo "exit $rc, wanted $want:"; cat /tmp/ra.out.$$; } >&2
	[ "$rc" = "$want" ]
}
ra_said() { grep -q -- "$1" /tmp/ra.out.$$; }
daemon_gone() { ! daemon_alive "$1"; }
cleanup() { rm -f /tmp/ra.out.$$; }
trap 'cleanup; lab_test_end' EXIT

check "the agent installs as ocf:blkspace:blkspaced" \
	install -D -m 0755 "$built_agent" "$agent"
check "meta-data is valid against ra-api-1.dtd" \
	sh -c "OCF_ROOT=/usr/lib/ocf '$agent' meta-data | xmllint --noout --dtdvalid /usr/share/resource-agents/ra-api-1.dtd -"

# --- one node, by hand --------------------------------------------------------------
"$L" stop 1 daemon >/dev/null
check "node 1: monitor of a stopped daemon: not running (7)" ra_exits 7 1 monitor
check "node 1: ocf-tester passes" \
	"$L" exec 1 ocf-tester -n bs -o daemon="$B/daemon/blkspaced" -o cli="$B/tools/blkspace" "$agent"
"$L" exec 1 sh -c 'printf "frobnicate = 1\n" > "/run/bad config.conf"'
check "node 1: validate-all of a bad configuration: not configured (6)" \
	ra_exits 6 1 validate-all "config=/run/bad config.conf"
check "node 1: ... and says why (the path has a blank in it)" \
	ra_said "bad config.conf:1: unknown key 'frobnicate'"
check "node 1: start of a bad configuration: not configured (6)" \
	ra_exits 6 1 start "config=/run/bad config.conf"
check "node 1: validate-all with the daemon missing: not installed (5)" \
	ra_exits 5 1 validate-all daemon=/nonexistent/blkspaced
check "node 1: start" ra_exits 0 1 start
check "node 1: monitor: running (0)" ra_exits 0 1 monitor
check "node 1: the daemon is a cluster member" wait_for 10 members_are 1 "1 2 3"
pid=$("$L" pid 1 daemon)
kill -STOP "$pid"
check "node 1: monitor of a stopped (SIGSTOP) daemon: failure (1)" \
	ra_exits 1 1 monitor monitor_grace=2
check "node 1: ... and says it does not answer" ra_said "did not answer\|does not answer"
kill -CONT "$pid"
check "node 1: monitor after SIGCONT: running (0)" ra_exits 0 1 monitor
"$L" cut 1 >/dev/null
check "node 1 cut off: not primary" wait_for 30 not_primary 1
check "node 1 cut off: monitor: running (0), a minority is not a failure" ra_exits 0 1 monitor
"$L" heal 1 >/dev/null
check "node 1 healed: primary again" wait_for 30 is_primary 1

uuid=LVM-ocf-agent
disk=$("$L" disk ocf-agent) || exit 1
check "node 1: a mirror log constructed and resumed" \
	ulog_activate "$uuid" "$((8 * 1024)) clustered-disk $disk 1024 nosync" 1
active_logs_are() { [ "$(json_status "$1" 'd["active_mirror_logs"]')" = "$2" ]; }
check "node 1: status: 1 active mirror log" wait_for 5 active_logs_are 1 1
check "node 2: status: 0 active mirror logs" active_logs_are 2 0
check "node 1: stop with an active mirror log: refused (1)" ra_exits 1 1 stop
check "node 1: ... saying why" ra_said "mirror log(s) active on this node"
check "node 1: the daemon still runs" ra_exits 0 1 monitor
check "node 1: stop with force_stop=true" ra_exits 0 1 stop force_stop=true
check "node 1: the daemon is gone" daemon_gone 1
check "node 1: monitor: not running (7)" ra_exits 7 1 monitor

# --- Pacemaker runs it as a clone -------------------------------------------------
for n in 2 3; do "$L" stop "$n" daemon >/dev/null; done
clone_started_on() { # clone_started_on NODES: crm_mon lists the clone started there
	"$L" exec 1 crm_mon -1 -r 2>/dev/null | grep -q "Started: \[ $1 \]"
}
pacemaker_up
clone_xml="<clone id=\"bs-clone\">
  <meta_attributes id=\"bs-clone-meta\"><nvpair id=\"bs-clone-interleave\" name=\"interleave\" value=\"true\"/></meta_attributes>
  <primitive id=\"bs\" class=\"ocf\" provider=\"blkspace\" type=\"blkspaced\">
    <instance_attributes id=\"bs-ia\">
      <nvpair id=\"bs-daemon\" name=\"daemon\" value=\"$B/daemon/blkspaced\"/>
      <nvpair id=\"bs-cli\" name=\"cli\" value=\"$B/tools/blkspace\"/>
    </instance_attributes>
    <operations><op id=\"bs-monitor\" name=\"monitor\" interval=\"3s\" timeout=\"30s\"/></operations>
  </primitive>
</clone>"
check "Pacemaker: the clone bs-clone of ocf:blkspace:blkspaced is created" \
	"$L" exec 1 cibadmin --create -o resources --xml-text "$clone_xml"
check "Pacemaker: bs-clone started on n1 n2 n3" wait_for 90 clone_started_on "n1 n2 n3"
for n in 1 2 3; do
	check "node $n: blkspace status: members 1 2 3" wait_for 20 members_are "$n" "1 2 3"
done

check "lab pid finds node 2's daemon that Pacemaker started" "$L" pid 2 daemon
pid=$("$L" pid 2 daemon)
check "lab kill 2 daemon (kill -9)" "$L" kill 2 daemon
restarted() { local p; p=$("$L" pid 2 daemon 2>/dev/null) && [ "$p" != "$pid" ] && members_are 2 "1 2 3"; }
check "node 2: a daemon killed with SIGKILL is started again by Pacemaker" wait_for 60 restarted
check "Pacemaker: bs-clone started on n1 n2 n3 again" wait_for 60 clone_started_on "n1 n2 n3"
check "node 1: a property set through the restarted cluster" bs 1 property set ocf-test=yes
check "node 2: reads it" wait_for 10 prop_is 2 ocf-test yes

check "Pacemaker: target-role=Stopped" \
	"$L" exec 1 crm_resource -r bs-clone --meta -p target-role -v Stopped
all_gone() { daemon_gone 1 && daemon_gone 2 && daemon_gone 3; }
check "the daemons are stopped on all nodes" wait_for 60 all_gone
