# shellcheck shell=bash
# Helpers for the lab tests (tests/lab/test-*.sh): a lab command, checks
# that count passes and failures, bounded polling, JSON fields of
# "blkspace status", and mirror logs driven through ulog-client (requests,
# "blkspace log show" fields, the on-disk log). Sourced; the test script
# calls lab_test_begin first.

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

# Pacemaker on nodes 1-3, online, with stonith-enabled=false (the lab has no
# fence devices, so Pacemaker must not fence on its own): four checks.
pcmk_online() { "$L" exec 1 crm_mon -1 2>/dev/null | grep -q 'Online: \[ n1 n2 n3 \]'; }
pacemaker_up() {
	local n
	for n in 1 2 3; do
		check "node $n: start pacemakerd" "$L" start "$n" pacemaker
	done
	check "Pacemaker: n1 n2 n3 online" wait_for 90 pcmk_online
	check "Pacemaker: stonith-enabled=false" \
		"$L" exec 1 crm_attribute -t crm_config -n stonith-enabled -v false
}

# --- mirror logs over the sim kernel link (ulog-client plays the kernel) ---

ULOG_SOCK=/run/blkspace/ulog.sock # each node has its own /run

# What a failed check saw, indented, on stderr: shown TEXT...
shown() { printf '%s\n' "$@" | sed 's/^/    /' >&2; }

# ulog N UUID COMMAND...: ulog-client on node N; prints one line per answer
# ("TYPE seq=S error=E data=..."), exits 0 when every answer had error 0.
ulog() {
	local n=$1
	shift
	"$L" exec "$n" ulog-client "$ULOG_SOCK" "$@"
}

# As ulog, output shown only when it fails (for check).
ulog_ok() {
	local out rc=0
	out=$(ulog "$@" 2>&1) || rc=$?
	[ $rc = 0 ] || shown "$out" "(ulog-client exit $rc)"
	return $rc
}

# ulog_is WANT N UUID COMMAND...: every answer has error 0, the last data WANT.
ulog_is() {
	local want=$1 out rc=0
	shift
	out=$(ulog "$@" 2>&1) || rc=$?
	[ $rc = 0 ] && [[ $(sed -n '$p' <<<"$out") == *" error=0 data=$want" ]] && return 0
	shown "$out" "(want error=0 data=$want)"
	return 1
}

# ulog_data_are WANT N UUID COMMAND...: every answer has error 0, and their
# data, joined by spaces, is WANT (e.g. "0 0 1" for three IN_SYNC).
ulog_data_are() {
	local want=$1 out rc=0 data
	shift
	out=$(ulog "$@" 2>&1) || rc=$?
	data=$(sed -n 's/.* data=//p' <<<"$out" | paste -sd ' ')
	[ $rc = 0 ] && [ "$data" = "$want" ] && return 0
	shown "$out" "(want error=0 and data $want)"
	return 1
}

# The error of the last answer ("0", "-3", "timeout").
ulog_error() { ulog "$@" 2>/dev/null | sed -n '$s/.* error=\([^ ]*\) .*/\1/p'; }

# Construct and resume UUID with the constructor string CTR on each node
# given, all at once as the kernels of a cluster would; fails unless every
# answer is error 0.
ulog_activate() { # ulog_activate UUID CTR NODE...
	local uuid=$1 ctr=$2 n p pids=() rc=0
	shift 2
	for n in "$@"; do
		ulog_ok "$n" "$uuid" ctr "$ctr" resume &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}

# Resync every region of UUID from node N (GET_RESYNC_WORK, then
# SET_REGION_SYNC 1 for the region it hands out) until there is no work.
# Prints the regions resynced; fails after MAX (default 64).
ulog_resync() {
	local n=$1 uuid=$2 max=${3:-64} out r done=()
	while :; do
		out=$(ulog "$n" "$uuid" resync_work) || return 1
		r=$(sed -n 's/.* error=0 data=work=1 region=\([0-9]*\)$/\1/p' <<<"$out")
		if [ -z "$r" ]; then
			[[ $out == *"error=0 data=work=0 "* ]] || return 1
			echo "${done[*]}"
			return 0
		fi
		[ ${#done[@]} -lt "$max" ] || return 1
		ulog "$n" "$uuid" set_sync "$r" 1 >/dev/null || return 1
		done+=("$r")
	done
}

# Hex of one dm_ulog_request frame (for "ulog-client ... raw HEX"), host
# byte order: ulog_frame [uuid=S] [luid=N] [version=N] [seq=N] [type=N]
# [data=HEX] [size=N: data_size other than the data's length] [cut=N: keep
# only the first N bytes]. A uuid of 129 characters has no terminating NUL.
ulog_frame() {
	python3 - "$@" <<'PY'
import struct, sys
f = {"uuid": "", "luid": "1", "version": "3", "seq": "1", "type": "7", "data": ""}
for arg in sys.argv[1:]:
    k, v = arg.split("=", 1)
    f[k] = v
data = bytes.fromhex(f["data"])
size = int(f.get("size", len(data)))
frame = struct.pack("=Q129s3xIiIII", int(f["luid"]), f["uuid"].encode(), int(f["version"]), 0,
                    int(f["seq"]), int(f["type"]), size) + data
print(frame[:int(f.get("cut", len(frame)))].hex())
PY
}

# A field of node N's "blkspace log show UUID" document: log_field N UUID
# EXPR, EXPR in Python over l (e.g. 'l["marked"]', 'l["members"]').
log_field() {
	bs "$1" log show "$2" --output-format=json 2>/dev/null |
		python3 -c 'import json, sys; l = json.load(sys.stdin)["log"]; print('"$3"')' 2>/dev/null
}

# log_is N UUID EXPR WANT: the field is WANT (for wait_for and check).
log_is() { [ "$(log_field "$1" "$2" "$3")" = "$4" ]; }

# The uuids of the logs node N serves (blkspace log list), space-separated.
log_uuids() {
	local json
	json=$(bs "$1" log list --output-format=json) || return 1
	python3 -c 'import json, sys; print(*(l["uuid"] for l in json.load(sys.stdin)["logs"]))' <<<"$json"
}
# log_not_listed N UUID: node N answers log list, without UUID.
log_not_listed() {
	local u
	u=$(log_uuids "$1") || return 1
	[[ " $u " != *" $2 "* ]]
}

# The clean bits of the on-disk log FILE (le32 magic, le32 version 2, le64
# region count, bitmap at byte 1024), region 0 first: "11011111"; or "bad
# header" when the magic, version or region count do not match.
disk_bits() { # disk_bits FILE REGIONS
	python3 - "$@" <<'PY'
import struct, sys
path, regions = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    head = f.read(16)
    f.seek(1024)
    bitmap = f.read((regions + 7) // 8)
if struct.unpack("<IIQ", head) != (0x4D695272, 2, regions) or len(bitmap) * 8 < regions:
    print("bad header")
else:
    print("".join(str(bitmap[r // 8] >> (r % 8) & 1) for r in range(regions)))
PY
}
# disk_bits_are FILE REGIONS WANT (for check and wait_for)
disk_bits_are() { [ "$(disk_bits "$1" "$2")" = "$3" ]; }
# Clean bits of N regions, all 1 but those listed: clean_except 8 2 5 -> 11011011
clean_except() {
	local n=$1 r bits
	shift
	bits=$(printf '1%.0s' $(seq "$n"))
	for r in "$@"; do bits=${bits:0:r}0${bits:r+1}; done
	echo "$bits"
}

# True if node N's daemon holds FILE open with O_DIRECT (as the writer of a
# clustered-disk log does), from /proc/PID/fdinfo.
daemon_has_direct() { # daemon_has_direct N FILE
	local pid fd flags found=1
	pid=$("$L" pid "$1" daemon) || return 1
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd")" = "$2" ] || continue
		flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$pid/fdinfo/${fd##*/}")
		[ $((8#$flags & 8#40000)) -ne 0 ] || return 1
		found=0
	done
	return $found
}

# Lines of node N's daemon log matching the extended regex RE.
daemon_log_count() { grep -cE -- "$2" "$("$L" logs "$1")/blkspace/blkspaced.log"; }
