# shellcheck shell=bash
# Building and removing the lab: the state directory, the switch and node
# network namespaces, and the anchor process (lab-anchor) that owns each
# node's mount, UTS, IPC and PID namespaces. Sourced by tests/lab/lab after
# lab-lib.sh.

lab_anchor_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab-anchor"

# Paths inside a node that get the node's own directory (host path below
# $LAB_DIR/nN). /run because corosync's pid lock is /run/corosync.pid.
lab_binds=(
	"etc-corosync:/etc/corosync"
	"lib-corosync:/var/lib/corosync"
	"etc-blkspace:/etc/blkspace"
	"lib-blkspace:/var/lib/blkspace"
	"lib-pacemaker:/var/lib/pacemaker"
	"log:/var/log"
	"run:/run"
)

# LAB_DIR must stay visible inside the nodes, so not under a bind target.
lab_check_lab_dir() {
	local b dir
	case "$LAB_DIR" in
	/*) ;;
	*) lab_die "LAB_DIR must be an absolute path (is '$LAB_DIR')" ;;
	esac
	for b in "${lab_binds[@]}" ":/dev/shm"; do
		dir=${b#*:}
		case "$LAB_DIR/" in
		"$dir"/*) lab_die "LAB_DIR=$LAB_DIR is under $dir, which each node replaces" ;;
		esac
	done
	case "$LAB_DIR/" in
	/var/run/*) lab_die "LAB_DIR=$LAB_DIR is under /run, which each node replaces" ;;
	esac
}

# Empty LAB_DIR for a new lab; refuse to wipe a directory the lab did not make.
lab_fresh_dir() {
	if [ -d "$LAB_DIR" ] && [ -n "$(ls -A "$LAB_DIR")" ]; then
		[ -e "$(lab_marker)" ] ||
			lab_die "$LAB_DIR exists and was not made by the lab; remove it or set LAB_DIR"
		rm -rf "$LAB_DIR"
	fi
	mkdir -p "$LAB_DIR"
	chmod 0755 "$LAB_DIR"
	: >"$(lab_marker)"
}

# The host needs empty directories to bind over; remember the ones we made.
lab_make_mountpoints() {
	local b dir
	for b in "${lab_binds[@]}"; do
		dir=${b#*:}
		[ -d "$dir" ] && continue
		mkdir -p "$dir"
		echo "$dir" >>"$LAB_DIR/mountpoints"
	done
}

# Remove the mount points we made, unless empty no more or still a mount point
# for someone (another lab) — rmdir would detach that lab's mounts.
lab_remove_mountpoints() {
	local dir
	[ -f "$LAB_DIR/mountpoints" ] || return 0
	while read -r dir; do
		[ -n "$dir" ] || continue
		if grep -qsF " $dir " /proc/[0-9]*/mountinfo; then
			continue
		fi
		rmdir "$dir" 2>/dev/null || true
	done <"$LAB_DIR/mountpoints"
	rm -f "$LAB_DIR/mountpoints"
}

# Pacemaker's state and log directories for the node in D, when it is
# installed (`lab start N pacemaker`): an empty CIB, owned by hacluster.
lab_pacemaker_dirs() {
	local d=$1
	[ -d /var/lib/pacemaker ] && getent passwd hacluster >/dev/null || return 0
	cp -a /var/lib/pacemaker/. "$d/lib-pacemaker/"
	rm -rf "$d/lib-pacemaker/cib/"* "$d/lib-pacemaker/pengine/"*
	mkdir -p "$d/log/pacemaker"
	chown hacluster:haclient "$d/log/pacemaker"
	chmod 0770 "$d/log/pacemaker"
}

lab_write_node_dirs() {
	local i d
	lab_corosync_conf >"$LAB_DIR/corosync.conf"
	corosync-keygen -k "$LAB_DIR/authkey" >/dev/null 2>&1 ||
		lab_die "corosync-keygen failed"
	for ((i = 1; i <= LAB_NODES; i++)); do
		d=$(lab_nodedir "$i")
		mkdir -p "$d"/{etc-corosync/uidgid.d,lib-corosync,etc-blkspace,lib-blkspace,run/lock} \
			"$d"/{log/corosync,log/blkspace,lib-pacemaker}
		lab_pacemaker_dirs "$d"
		cp "$LAB_DIR/corosync.conf" "$d/etc-corosync/corosync.conf"
		install -m 0400 "$LAB_DIR/authkey" "$d/etc-corosync/authkey"
		printf 'transport = cpg\nlog_level = %s\nkernel_link = %s\nfencing = %s\ndirect_port = %s\n' \
			"$LAB_LOG_LEVEL" "$LAB_KERNEL_LINK" "$LAB_FENCING" "$LAB_DIRECT_PORT" \
			>"$d/etc-blkspace/blkspaced.conf"
		chmod 0755 "$d/run"
	done
}

# Switch namespace with a bridge; node N's eth0 is a veth whose other end,
# port N, sits on the bridge (so `cut N` is a link down on port N).
lab_net_up() {
	local i ns sw br
	sw=$(lab_sw)
	br=$(lab_br)
	ip netns add "$sw"
	ip -n "$sw" link set lo up
	ip -n "$sw" link add "$br" type bridge
	ip -n "$sw" link set "$br" up
	for ((i = 1; i <= LAB_NODES; i++)); do
		ns=$(lab_ns "$i")
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$sw" link add "port$i" type veth peer name eth0 netns "$ns"
		ip -n "$sw" link set "port$i" master "$br" up
		ip -n "$ns" addr add "$(lab_addr "$i")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

lab_anchors_up() {
	local i d end pid
	for ((i = 1; i <= LAB_NODES; i++)); do
		d=$(lab_nodedir "$i")
		setsid ip netns exec "$(lab_ns "$i")" \
			unshare --uts --ipc --pid --fork --mount-proc --propagation private -- \
			bash "$lab_anchor_script" "$d" "$i" "${lab_binds[@]}" \
			</dev/null >"$d/anchor.log" 2>&1 &
	done
	for ((i = 1; i <= LAB_NODES; i++)); do
		d=$(lab_nodedir "$i")
		end=$(($(lab_now_ms) + 10000))
		until [ -e "$d/anchor.ready" ] && pid=$(lab_find_anchor "$i"); do
			if [ "$(lab_now_ms)" -ge "$end" ]; then
				cat "$d/anchor.log" >&2
				lab_die "node $i: anchor did not come up"
			fi
			sleep 0.02
		done
		echo "$pid" >"$d/anchor.pid"
	done
}

# Remove libqb files in the host's /dev/shm left by dead lab processes that
# shared it (clients started with a bare `ip netns exec`).
lab_clean_shm() {
	local p f
	for p in "$@"; do
		lab_alive "$p" && continue
		for f in /dev/shm/qb-"$p"-* /dev/shm/qb-*-"$p"-*; do
			[ -e "$f" ] && rm -rf -- "$f"
		done
	done
	return 0
}

# Pids of node N's processes (host view) in its PID namespace, minus its anchor.
lab_node_procs() {
	local a p
	a=$(lab_anchor_pid "$1") || return 0
	for p in $(ip netns pids "$(lab_ns "$1")" 2>/dev/null); do
		[ "$p" != "$a" ] && lab_in_node "$1" "$p" && echo "$p"
	done
	return 0
}

# Node numbers that have a namespace or a directory (a lab may be half built).
lab_known_nodes() {
	local d
	{
		lab_ns_nodes
		for d in "$LAB_DIR"/n[0-9]*; do
			if [ -d "$d" ]; then echo "${d##*/n}"; fi
		done
	} | grep -E '^[0-9]+$' | sort -nu || true
}

# Stop everything in every node, orderly where possible, and remove the
# namespaces. Tolerates a half-built or already removed lab.
lab_teardown() {
	local i p nodes stop=() seen=() left
	nodes=$(lab_known_nodes)
	for i in $nodes; do
		for p in $(ip netns pids "$(lab_ns "$i")" 2>/dev/null); do seen+=("$p"); done
	done
	# 1. blkspaced, so it can leave the cluster while corosync still runs
	for i in $nodes; do p=$(lab_pid "$i" blkspaced) && stop+=("$p"); done
	lab_terminate_daemons "$LAB_STOP_TIMEOUT" "blkspaced" "${stop[@]}"
	# 2. whatever tests started in the nodes, except corosync and the anchors
	stop=()
	for i in $nodes; do
		p=$(lab_pid "$i" corosync) || p=
		for left in $(lab_node_procs "$i"); do [ "$left" != "$p" ] && stop+=("$left"); done
	done
	lab_terminate 5 "node processes" "${stop[@]}"
	# 3. corosync, then the anchors (the kernel kills any rest of a node)
	stop=()
	for i in $nodes; do p=$(lab_pid "$i" corosync) && stop+=("$p"); done
	lab_terminate 20 "corosync" "${stop[@]}"
	stop=()
	for i in $nodes; do
		p=$(lab_anchor_pid "$i") || continue
		stop+=("$p")
	done
	lab_terminate 5 "anchor" "${stop[@]}"
	# 4. anything still attached to a node's network namespace
	stop=()
	for i in $nodes; do
		for p in $(ip netns pids "$(lab_ns "$i")" 2>/dev/null); do stop+=("$p"); done
	done
	lab_terminate 5 "netns processes" "${stop[@]}"
	for i in $nodes; do
		rm -f "$(lab_nodedir "$i")"/{anchor,corosync,blkspaced}.pid "$(lab_nodedir "$i")/anchor.ready"
		ip netns del "$(lab_ns "$i")" 2>/dev/null || true
	done
	if ip netns list 2>/dev/null | awk -v s="$(lab_sw)" '$1 == s { f = 1 } END { exit !f }'; then
		ip netns del "$(lab_sw)" || true
	fi
	[ ${#seen[@]} -eq 0 ] || lab_clean_shm "${seen[@]}"
	lab_remove_mountpoints
}
