# shellcheck shell=bash
# lib.sh — sourced by tests/vm/test-*.sh: the `vm` wrapper, checks printed as
# "ok N - ..." / "not ok N - ...", waits with a deadline, JSON fields read on the
# host, and stopping blkspaced without ever leaving a dm mirror whose userspace
# log server is gone (dmsetup would hang in D state until the VM reboots).
# shellcheck disable=SC2016 # commands in single quotes run in the guest's shell

VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0")
CHECKS=0
FAILED=0
T_TEST=$SECONDS

vm() { "$VM_HERE/vm" "$@"; }

# restart_node N: a crashed node starts again, until corosync has 3 members
restart_node() { vm start "$1" > /dev/null && vm wait -t 120 3; }

ok() {
	CHECKS=$((CHECKS + 1))
	echo "ok $CHECKS - $*"
}

not_ok() {
	CHECKS=$((CHECKS + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $CHECKS - $*"
}

# check DESCRIPTION COMMAND...: one check; the command's output is shown when it fails
check() {
	local what=$1 out rc t0=$SECONDS
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		ok "$what ($((SECONDS - t0)) s)"
	else
		not_ok "$what (exit $rc after $((SECONDS - t0)) s)"
		[ -z "$out" ] || printf '#   %s\n' "${out//$'\n'/$'\n'#   }"
	fi
	return "$rc"
}

# wait_until SECONDS COMMAND...: run COMMAND every second until it succeeds; the
# output of the last failed try is printed when time runs out
wait_until() {
	local end=$((SECONDS + $1)) out
	shift
	while :; do
		out=$("$@" 2>&1) && return 0
		if [ "$SECONDS" -ge "$end" ]; then
			[ -z "$out" ] || echo "$out"
			return 1
		fi
		sleep 1
	done
}

# jget PATH < JSON: one field (PATH like "members" or "node.id"), printed as compact JSON
jget() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v, separators=(",", ":")))' "$1"
}

# done_testing: the test's summary line and exit status
done_testing() {
	echo "# $TEST_NAME: $CHECKS checks, $FAILED failed, $((SECONDS - T_TEST)) s"
	[ "$FAILED" = 0 ] && [ "$CHECKS" -gt 0 ]
	exit
}

# remove every dm table with a userspace log on NODES (while its log server still
# answers); a node where that fails or hangs is rebooted, the only way out
remove_userspace_mirrors() {
	local n
	for n in ${1//,/ }; do
		vm exec -t 60 "$n" 'dmsetup table 2>/dev/null | awk "/ mirror userspace / {sub(\":\$\", \"\", \$1); print \$1}" |
			while read -r dev; do dmsetup remove --retry "$dev" || exit 1; done' > /dev/null \
			|| { echo "# node$n: a userspace-log mirror could not be removed: rebooting it"; vm reboot "$n"; }
	done
}

# stop_blkspaced NODES ("1,3" or "all"): mirrors first, then the daemon (SIGKILL after 10 s)
stop_blkspaced() {
	[ "$1" != all ] || set -- "$(vm status | sed -n 's/^node\([0-9]*\) .*running.*/\1/p' | paste -sd, -)"
	[ -n "$1" ] || return 0
	remove_userspace_mirrors "$1"
	vm exec -t 30 "$1" 'pkill -x blkspaced || exit 0
		for _ in $(seq 100); do pgrep -x blkspaced > /dev/null || exit 0; sleep 0.1; done
		pkill -9 -x blkspaced; sleep 0.5' > /dev/null
}
