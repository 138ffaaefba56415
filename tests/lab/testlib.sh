# shellcheck shell=bash
# Helpers for the lab tests (tests/lab/test-*.sh): a lab command, checks
# that count passes and failures, bounded polling, JSON fields of
# "blkspace status". Sourced; the test script calls lab_test_begin first.

lab_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
L="$lab_top/tests/lab/lab"
t_pass=0
t_fail=0
t_name=$(basename "$0" .sh)

say() { echo "[$t_name $(date +%T)] $*"; }
pass() { t_pass=$((t_pass + 1)); say "PASS: $*"; }
fail() { t_fail=$((t_fail + 1)); say "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# Bring up a fresh 3-node lab; always torn down at exit (logs kept on failure).
lab_test_begin() {
	"$L" down >/dev/null 2>&1 || true
	if ! "$L" up "${1:-3}"; then
		echo "[$t_name] lab up failed"
		"$L" down --keep >/dev/null 2>&1
		exit 1
	fi
	trap lab_test_end EXIT
}

lab_test_end() {
	local rc=$?
	if [ "$t_fail" -gt 0 ] || [ $rc -ne 0 ]; then
		local keep="/tmp/blkspace-lab-$t_name.$$"
		"$L" status >"$keep.status" 2>&1 || true
		cp -a "${LAB_DIR:-/var/lib/blkspace-lab}" "$keep" 2>/dev/null || true
		say "lab state kept in $keep"
	fi
	"$L" down >/dev/null 2>&1 || true
	say "$t_pass passed, $t_fail failed"
	[ "$t_fail" -eq 0 ] && [ $rc -eq 0 ] || exit 1
}

# blkspace on node N
bs() {
	local n=$1
	shift
	"$L" exec "$n" blkspace "$@"
}

# A field of node N's status document: json_status N EXPR, EXPR in Python
# over d (e.g. 'd["epoch"]', '" ".join(map(str, d["members"]))').
json_status() {
	bs "$1" status --output-format=json 2>/dev/null |
		python3 -c 'import json, sys; d = json.load(sys.stdin); print('"$2"')' 2>/dev/null
}

# Poll until COMMAND succeeds or T seconds pass.
wait_for() { # wait_for T COMMAND...
	local t=$1 end
	shift
	end=$(($(date +%s) + t))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

members_are() { [ "$(json_status "$1" '" ".join(map(str, d["members"]))')" = "$2" ]; }
is_primary() { [ "$(json_status "$1" 'd["primary"]')" = True ]; }
not_primary() { [ "$(json_status "$1" 'd["primary"]')" = False ]; }
prop_is() { [ "$(bs "$1" property get "$2" 2>/dev/null)" = "$3" ]; }

# All the given nodes report the same epoch, seq and members.
same_view() {
	local ref="" v n
	for n in "$@"; do
		v=$(json_status "$n" '(d["epoch"], d["seq"], d["members"], d["writer"])') || return 1
		[ -n "$v" ] || return 1
		[ -z "$ref" ] && ref=$v
		[ "$v" = "$ref" ] || return 1
	done
}

daemon_alive() { "$L" pid "$1" daemon >/dev/null 2>&1; }
