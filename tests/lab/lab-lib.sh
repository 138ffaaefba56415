# shellcheck shell=bash
# Settings and helpers of the blkspace netns lab: where a node's state lives,
# how to enter a node, how to start, find, signal and wait for processes in it.
# Sourced by tests/lab/lab; lab-net.sh builds and removes the namespaces.
#
# Node N is netns ${LAB_PREFIX}nN plus mount/UTS/IPC/PID namespaces owned by an
# anchor process (PID 1 of the node). Every process the lab starts is found
# again through a host-side pid file, and is only ever signalled after
# checking that it still lives in the node's PID namespace.

LAB_DIR=${LAB_DIR:-/var/lib/blkspace-lab}
LAB_PREFIX=${LAB_PREFIX:-bks}
LAB_NET=${LAB_NET:-10.201.77}
LAB_TOKEN=${LAB_TOKEN:-1000}
LAB_LOG_LEVEL=${LAB_LOG_LEVEL:-debug}   # blkspaced.conf log_level of every node
LAB_KERNEL_LINK=${LAB_KERNEL_LINK:-sim} # blkspaced.conf kernel_link: sim or netlink
LAB_FENCING=${LAB_FENCING:-pacemaker}   # blkspaced.conf fencing: pacemaker (none here: an admin confirms) or none
LAB_DIRECT_PORT=${LAB_DIRECT_PORT:-5409} # blkspaced.conf direct_port (0: receipts by corosync alone)
LAB_READY_TIMEOUT=${LAB_READY_TIMEOUT:-30}
LAB_QUORUM_TIMEOUT=${LAB_QUORUM_TIMEOUT:-60}
LAB_STOP_TIMEOUT=${LAB_STOP_TIMEOUT:-10}
LAB_NO_DAEMON=${LAB_NO_DAEMON:-0}

lab_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab_top=$(cd "$lab_here/../.." && pwd)
BLKSPACE_BUILD=${BLKSPACE_BUILD:-$lab_top/build}
lab_daemon_bin="$BLKSPACE_BUILD/daemon/blkspaced"
lab_cli_bin="$BLKSPACE_BUILD/tools/blkspace"

lab_err() { echo "lab: $*" >&2; }
lab_die() { lab_err "$@"; exit 1; }
lab_info() { echo "lab: $*"; }
# A file that says LAB_DIR is the lab's own (and may be wiped).
lab_marker() { echo "$LAB_DIR/.blkspace-lab"; }

lab_is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# Milliseconds since the epoch (EPOCHREALTIME's separator follows the locale).
lab_now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$us / 1000))
}

# Settings recorded at `up`; later commands read them back so that a lab is
# always driven with the prefix and node count it was created with.
lab_load_env() {
	local k v
	[ -f "$LAB_DIR/lab.env" ] || return 0
	while IFS='=' read -r k v; do
		case "$k" in
		LAB_PREFIX) LAB_PREFIX=$v ;;
		LAB_NET) LAB_NET=$v ;;
		LAB_NODES) LAB_NODES=$v ;;
		esac
	done <"$LAB_DIR/lab.env"
}

lab_sw() { echo "${LAB_PREFIX}sw"; }
lab_br() { echo "${LAB_PREFIX}br0"; }
lab_ns() { echo "${LAB_PREFIX}n$1"; }
lab_nodedir() { echo "$LAB_DIR/n$1"; }
lab_addr() { echo "$LAB_NET.$1"; }

# Node numbers of the lab's network namespaces that exist now.
lab_ns_nodes() {
	ip netns list 2>/dev/null | awk -v p="$LAB_PREFIX" '
		{ if (index($1, p "n") == 1) { n = substr($1, length(p) + 2); if (n ~ /^[0-9]+$/) print n } }' |
		sort -n
}

lab_any_ns() {
	ip netns list 2>/dev/null | awk -v p="$LAB_PREFIX" '
		$1 == p "sw" || (index($1, p "n") == 1 && substr($1, length(p) + 2) ~ /^[0-9]+$/) { f = 1 }
		END { exit !f }'
}

# Node count of the running lab, or fail.
lab_nodes() {
	[ -n "${LAB_NODES:-}" ] && [ -f "$LAB_DIR/lab.env" ] && lab_any_ns || return 1
	echo "$LAB_NODES"
}

lab_require_up() {
	lab_nodes >/dev/null || lab_die "no lab is running (LAB_DIR=$LAB_DIR, prefix $LAB_PREFIX)"
}

lab_check_node() {
	if ! lab_is_uint "$1" || [ "$1" -lt 1 ] || [ "$1" -gt "$LAB_NODES" ]; then
		lab_die "no node '$1' (the lab has nodes 1..$LAB_NODES)"
	fi
}

# --- processes --------------------------------------------------------------

# True if PID exists and is not a zombie.
lab_alive() {
	local st
	[ -n "$1" ] && st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# True if PID is PID 1 of a PID namespace and lives in node N's network
# namespace: a pid file that outlived its node (a reboot) never matches.
lab_is_anchor() {
	local want have
	lab_alive "$2" || return 1
	want=$(stat -L -c %i "/run/netns/$(lab_ns "$1")" 2>/dev/null) || return 1
	have=$(stat -L -c %i "/proc/$2/ns/net" 2>/dev/null) || return 1
	[ "$want" = "$have" ] &&
		awk '$1 == "NSpid:" && NF == 3 && $3 == 1 { f = 1 } END { exit !f }' "/proc/$2/status" 2>/dev/null
}

# Host pid of node N's anchor, found among the processes in its netns.
lab_find_anchor() {
	local p
	for p in $(ip netns pids "$(lab_ns "$1")" 2>/dev/null); do
		if lab_is_anchor "$1" "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Host pid of node N's anchor (PID 1 of its PID namespace), from its pid file
# or, in a lab interrupted before writing it, by a search.
lab_anchor_pid() {
	local f pid
	f="$(lab_nodedir "$1")/anchor.pid"
	if [ -s "$f" ] && pid=$(<"$f") && lab_is_anchor "$1" "$pid"; then
		echo "$pid"
		return 0
	fi
	lab_find_anchor "$1"
}

# True if PID runs inside node N (same PID namespace as the node's anchor).
# This is what keeps a stale pid file from ever hitting a process outside.
lab_in_node() {
	local a mine theirs
	a=$(lab_anchor_pid "$1") || return 1
	theirs=$(readlink "/proc/$a/ns/pid" 2>/dev/null) || return 1
	mine=$(readlink "/proc/$2/ns/pid" 2>/dev/null) || return 1
	[ "$mine" = "$theirs" ]
}

# Map a user-facing process name to the pid file stem.
lab_proc_name() {
	case "$1" in
	daemon | blkspaced) echo blkspaced ;;
	corosync) echo corosync ;;
	pacemaker | pacemakerd) echo pacemakerd ;;
	*) lab_die "unknown process '$1' (want daemon, corosync or pacemaker)" ;;
	esac
}

# Host pid of process NAME (blkspaced|corosync) on node N, if it runs: the one
# the lab started, or else a blkspaced started otherwise (by Pacemaker through
# the OCF agent), found through its own pidfile, which holds the node's pid.
lab_pid() {
	local f pid
	f="$(lab_nodedir "$1")/$2.pid"
	if [ -s "$f" ]; then
		pid=$(<"$f")
		lab_alive "$pid" && lab_in_node "$1" "$pid" && { echo "$pid"; return 0; }
	fi
	[ "$2" = blkspaced ] &&
		lab_host_pid "$1" "$(cat "$(lab_nodedir "$1")/run/blkspace/blkspaced.pid" 2>/dev/null)" blkspaced
}

# Host pid of process NAME of node N whose pid inside the node is LOCAL.
lab_host_pid() {
	local n=$1 local_pid=$2 name=$3 p
	lab_is_uint "$local_pid" || return 1
	# "/proc/HOSTPID/status:NSpid: HOSTPID ... LOCAL" for every process whose
	# innermost pid is LOCAL; the node's pid namespace picks the one
	# shellcheck disable=SC2013 # one pid per line
	for p in $(grep -H '^NSpid:' /proc/[0-9]*/status 2>/dev/null |
		awk -v want="$local_pid" '$NF == want { split($1, a, "/"); print a[3] }'); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$name" ] && lab_in_node "$n" "$p" &&
			lab_alive "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# Send SIG to every PID given, then wait up to T seconds for all to exit.
# Prints the pids still alive at the end; returns 1 if there are any.
lab_signal_wait() {
	local sig=$1 t=$2 p left end
	shift 2
	for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
	end=$(($(lab_now_ms) + t * 1000))
	while :; do
		left=()
		for p in "$@"; do lab_alive "$p" && left+=("$p"); done
		[ ${#left[@]} -eq 0 ] && return 0
		[ "$(lab_now_ms)" -ge "$end" ] && break
		sleep 0.05
	done
	echo "${left[*]}"
	return 1
}

# SIGTERM, wait up to T seconds, then SIGKILL whatever is left (with a note).
lab_terminate() {
	local t=$1 what=$2 left
	shift 2
	[ $# -gt 0 ] || return 0
	left=$(lab_signal_wait TERM "$t" "$@") && return 0
	# shellcheck disable=SC2086 # a list of pids
	lab_err "$what: pid $left still alive after ${t}s, sending SIGKILL"
	# shellcheck disable=SC2086
	lab_signal_wait KILL 5 $left >/dev/null || lab_err "$what: pid $left survives SIGKILL"
	return 0
}

# blkspaced refuses a single SIGTERM while it serves mirror logs; a second
# one within 10 s forces the stop. So: SIGTERM, SIGTERM again after a second
# to whichever still runs, then as lab_terminate.
lab_terminate_daemons() {
	local t=$1 what=$2 left
	shift 2
	[ $# -gt 0 ] || return 0
	left=$(lab_signal_wait TERM 1 "$@") && return 0
	# shellcheck disable=SC2086 # a list of pids
	lab_terminate "$t" "$what" $left
}

# --- entering a node --------------------------------------------------------

# PATH inside a node: the build's programs first, then the host's (with sbin).
lab_node_path() {
	local b=$BLKSPACE_BUILD
	echo "$b/daemon:$b/tools:$b/tests:$b/bench:$PATH:/usr/sbin:/sbin"
}

# Run CMD in node N (net, mount, UTS, IPC and PID namespaces), in directory WD.
# nsenter forks to enter the PID namespace and passes the exit status back.
lab_nsenter() {
	local n=$1 wd=$2 a
	shift 2
	a=$(lab_anchor_pid "$n") || lab_die "node $n is not up"
	PATH=$(lab_node_path) LAB_NODE=$n \
		nsenter -t "$a" -n -m -u -i -p --wd="$wd" -- "$@"
}

# Start CMD in the background inside node N, detached (own session, stdin
# /dev/null, output appended to LOG), and record its host pid in PIDFILE.
# nsenter's forked child execs setsid, which execs CMD, so the command keeps
# the pid of that child.
lab_spawn() {
	local n=$1 log=$2 pidf=$3 a parent pid end rc want
	shift 3
	a=$(lab_anchor_pid "$n") || lab_die "node $n is not up"
	PATH=$(lab_node_path) LAB_NODE=$n \
		nsenter -t "$a" -n -m -u -i -p --wd=/ -- setsid "$@" </dev/null >>"$log" 2>&1 &
	parent=$!
	want=$(basename "$1")
	want=${want:0:15} # /proc/PID/comm keeps 15 characters
	end=$(($(lab_now_ms) + 5000))
	# the program runs once a process below nsenter carries its name
	# (setsid may fork once; until exec the child is still "nsenter")
	until pid=$(lab_descendant_named "$parent" "$want"); do
		if ! lab_alive "$parent"; then
			rc=0
			wait "$parent" || rc=$?
			lab_err "node $n: $1 exited at once (status $rc); end of $log:"
			tail -n 10 "$log" | sed 's/^/  /' >&2
			return 1
		fi
		if [ "$(lab_now_ms)" -ge "$end" ]; then
			lab_err "node $n: could not start $1, see $log"
			return 1
		fi
		sleep 0.01
	done
	echo "$pid" >"$pidf"
}

# The pid of a child or grandchild of PARENT whose comm is NAME.
lab_descendant_named() {
	local c g
	for c in $(pgrep -P "$1"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && { echo "$c"; return 0; }
		for g in $(pgrep -P "$c"); do
			[ "$(cat "/proc/$g/comm" 2>/dev/null)" = "$2" ] && { echo "$g"; return 0; }
		done
	done
	return 1
}

# --- corosync ---------------------------------------------------------------

# Ask node N's corosync for the quorum state. Sets lab_q_rc (0 quorate,
# 2 not quorate, anything else: no answer) and lab_q_members (0 if unknown).
lab_quorum_probe() {
	local out
	lab_q_rc=0
	out=$(lab_nsenter "$1" / corosync-quorumtool -s 2>/dev/null) || lab_q_rc=$?
	# shellcheck disable=SC2034 # read by the callers
	lab_q_members=$(printf '%s\n' "$out" | awk '$1 == "Nodes:" { print $2; f = 1 } END { if (!f) print 0 }')
}

lab_corosync_conf() {
	local i
	cat <<EOF
# written by tests/lab/lab up: a $LAB_NODES-node blkspace lab cluster
totem {
    version: 2
    cluster_name: blkspace-lab
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    token: $LAB_TOKEN
}

nodelist {
EOF
	for ((i = 1; i <= LAB_NODES; i++)); do
		printf '    node {\n        ring0_addr: %s\n        name: n%d\n        nodeid: %d\n    }\n' \
			"$(lab_addr "$i")" "$i" "$i"
	done
	cat <<EOF
}

quorum {
    provider: corosync_votequorum
EOF
	[ "$LAB_NODES" -eq 2 ] && echo "    two_node: 1"
	cat <<EOF
}

system {
    # several corosyncs share a few CPUs: no realtime scheduling, no cgroup moves
    sched_rr: no
    move_to_root_cgroup: no
}

logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: hires
}
EOF
}

# Start corosync on node N without waiting for it.
lab_spawn_corosync() {
	local n=$1 pid
	if pid=$(lab_pid "$n" corosync); then
		lab_err "node $n: corosync already runs (pid $pid)"
		return 0
	fi
	lab_spawn "$n" "$(lab_nodedir "$n")/log/corosync/corosync.out" \
		"$(lab_nodedir "$n")/corosync.pid" corosync -f
}

# Pacemaker on node N (on top of its corosync), in the foreground.
lab_spawn_pacemaker() {
	local n=$1 pid
	command -v pacemakerd >/dev/null || lab_die "pacemaker is not installed (tools/install-deps lab)"
	if pid=$(lab_pid "$n" pacemakerd); then
		lab_err "node $n: pacemakerd already runs (pid $pid)"
		return 0
	fi
	export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_debug=no
	lab_spawn "$n" "$(lab_nodedir "$n")/log/pacemakerd.out" "$(lab_nodedir "$n")/pacemakerd.pid" \
		pacemakerd
}

# Wait up to 10 s until node N's corosync answers (quorate or not).
lab_wait_corosync() {
	local n=$1 d pid end
	d=$(lab_nodedir "$n")
	pid=$(<"$d/corosync.pid")
	end=$(($(lab_now_ms) + 10000))
	while :; do
		lab_quorum_probe "$n"
		case $lab_q_rc in 0 | 2) return 0 ;; esac
		if ! lab_alive "$pid"; then
			lab_err "node $n: corosync exited; end of $d/log/corosync/corosync.log:"
			tail -n 10 "$d/log/corosync/corosync.log" "$d/log/corosync/corosync.out" 2>/dev/null |
				sed 's/^/  /' >&2
			return 1
		fi
		[ "$(lab_now_ms)" -ge "$end" ] && break
		sleep 0.1
	done
	lab_err "node $n: corosync does not answer after 10 s, see $d/log/corosync/"
	return 1
}

lab_start_corosync() {
	lab_spawn_corosync "$1" && lab_wait_corosync "$1"
}

# --- blkspaced ----------------------------------------------------------------

# Exit status of `blkspace status --local --quiet` in node N (69 if no CLI).
lab_ready_probe() {
	local rc=0
	[ -x "$lab_cli_bin" ] || return 69
	lab_nsenter "$1" / "$lab_cli_bin" status --local --quiet >/dev/null 2>&1 || rc=$?
	return "$rc"
}

# Wait up to T seconds until node N's ready probe gives one of the codes in
# OK (e.g. "0" or "0 2"). If PID is given and dies meanwhile, fail at once.
# Returns 0, 1 (daemon died) or 124 (timeout).
lab_wait_ready() {
	local n=$1 t=$2 ok=$3 pid=${4:-} rc end d
	d=$(lab_nodedir "$n")
	end=$(($(lab_now_ms) + t * 1000))
	while :; do
		rc=0
		lab_ready_probe "$n" || rc=$?
		[[ " $ok " == *" $rc "* ]] && return 0
		if [ -n "$pid" ] && ! lab_alive "$pid"; then
			lab_err "node $n: blkspaced exited; last lines of $d/log/blkspace/blkspaced.log:"
			tail -n 20 "$d/log/blkspace/blkspaced.log" >&2 2>/dev/null
			return 1
		fi
		if [ "$(lab_now_ms)" -ge "$end" ]; then
			lab_err "node $n: blkspaced not ready after ${t}s (last status exit $rc)"
			return 124
		fi
		sleep 0.1
	done
}

lab_check_daemon_bins() {
	[ -x "$lab_daemon_bin" ] ||
		lab_die "no daemon binary $lab_daemon_bin (build first, set BLKSPACE_BUILD, or LAB_NO_DAEMON=1 for corosync only)"
	[ -x "$lab_cli_bin" ] ||
		lab_die "no CLI $lab_cli_bin (needed for the ready check; build first or set BLKSPACE_BUILD)"
}

# Start blkspaced on node N (no wait).
lab_spawn_daemon() {
	local n=$1 d pid
	d=$(lab_nodedir "$n")
	if pid=$(lab_pid "$n" blkspaced); then
		lab_err "node $n: blkspaced already runs (pid $pid)"
		return 0
	fi
	lab_spawn "$n" "$d/log/blkspace/blkspaced.log" "$d/blkspaced.pid" "$lab_daemon_bin" -f
}

# --- shared log devices -------------------------------------------------------

# The directory every node sees at the same path (LAB_DIR is not under a
# path the nodes replace), for files that play shared block devices.
lab_shared_dir() { echo "$LAB_DIR/shared"; }

# Create (or zero again) the MiB-sized file NAME in the shared directory and
# check from inside node 1 that it can be written and read with O_DIRECT, as
# the daemons open mirror log devices. Prints its path.
lab_make_disk() {
	local name=$1 mib=$2 path
	path="$(lab_shared_dir)/$name"
	mkdir -p "$(lab_shared_dir)"
	dd if=/dev/zero of="$path" bs=1M count="$mib" conv=fsync status=none ||
		lab_die "cannot create $path"
	if ! lab_nsenter 1 / dd if=/dev/zero of="$path" bs=4096 count=1 oflag=direct conv=notrunc \
		status=none 2>/dev/null ||
		! lab_nsenter 1 / dd if="$path" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
		lab_die "$path: no O_DIRECT on this file system ($(findmnt -n -o FSTYPE -T "$path")); set LAB_DIR to a directory on a disk file system"
	fi
	echo "$path"
}
