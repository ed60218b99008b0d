#!/usr/bin/env bash
#
# scripts/lab.sh - the two-site namespace lab (tests/netns/lib.sh) by hand,
# for demos and debugging.
#
#   scripts/lab.sh up [--cgnat|--global]   build it (default: --cgnat)
#   scripts/lab.sh down [--force]          tear it down
#   scripts/lab.sh exec <site> [cmd...]    run cmd (default: a shell) in a site:
#                                          lan-a gw-a carrier gw-b lan-b
#   scripts/lab.sh status                  namespaces, addresses, routes
#   scripts/lab.sh env                     the lab's variables, for
#                                          eval "$(scripts/lab.sh env)"
#
# The namespace prefix is KZ_NS_PREFIX (default "kz-"), so e.g. kz-gw-a; a
# second lab can run beside the first with another prefix. The state of a
# lab (its $LAB_DIR) is found through /tmp/kizuna-lab.<prefix>current.
# "down --force" deletes the five namespaces of the prefix even without that
# state (after a crash), and nothing else.

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/../tests/netns/lib.sh"

export KZ_NS_PREFIX=${KZ_NS_PREFIX-kz-}
POINTER=/tmp/kizuna-lab.${KZ_NS_PREFIX}current

usage() {
	sed -n '3,19s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# Load the state of the running lab, or fail.
load() {
	local dir
	if [ -f "$POINTER" ]; then
		dir=$(cat "$POINTER")
		if [ -f "$dir/env" ]; then
			lab_load "$dir"
			return 0
		fi
	fi
	echo "lab.sh: no lab with prefix '$KZ_NS_PREFIX' is up (scripts/lab.sh up)" >&2
	return 1
}

cmd_up() {
	local mode=cgnat
	while [ $# -gt 0 ]; do
		case "$1" in
		--cgnat) mode=cgnat ;;
		--global) mode=global ;;
		*) usage ;;
		esac
		shift
	done
	lab_require_root
	if [ -f "$POINTER" ] && [ -f "$(cat "$POINTER")/env" ]; then
		echo "lab.sh: a lab with prefix '$KZ_NS_PREFIX' is up already (scripts/lab.sh down)" >&2
		exit 1
	fi
	unset LAB_DIR
	trap lab_down EXIT
	lab_up "$mode"
	echo "$LAB_DIR" >"$POINTER"
	trap - EXIT
	echo "lab up: $mode, NAT/filter by $LAB_NAT_BACKEND, state in $LAB_DIR"
	cmd_status
}

cmd_down() {
	local force="" site ns
	case "${1:-}" in
	--force) force=1 ;;
	"") ;;
	*) usage ;;
	esac
	lab_require_root
	if load 2>/dev/null; then
		lab_down
		rm -f "$POINTER"
		echo "lab down"
		return 0
	fi
	rm -f "$POINTER"
	if [ -n "$force" ]; then
		for site in $LAB_SITES; do
			ns=$(lab_ns "$site")
			if [ -e "/run/netns/$ns" ]; then
				ip netns del "$ns" && echo "deleted $ns"
			fi
		done
		return 0
	fi
	for site in $LAB_SITES; do
		ns=$(lab_ns "$site")
		if [ -e "/run/netns/$ns" ]; then
			echo "lab.sh: no lab state, but $ns exists: scripts/lab.sh down --force" >&2
			return 1
		fi
	done
	echo "lab.sh: no lab with prefix '$KZ_NS_PREFIX' is up" >&2
}

cmd_exec() {
	[ $# -ge 1 ] || usage
	local site=$1
	shift
	case " $LAB_SITES " in
	*" $site "*) ;;
	*) echo "lab.sh: unknown site '$site' ($LAB_SITES)" >&2; exit 2 ;;
	esac
	load
	if [ $# -eq 0 ]; then
		set -- "${SHELL:-/bin/bash}"
	fi
	exec ip netns exec "$(lab_ns "$site")" "$@"
}

cmd_status() {
	local site ns
	[ -n "${LAB_DIR:-}" ] || load
	echo "mode $LAB_MODE; gw-a is seen from gw-b as $GW_A_PUBLIC"
	for site in $LAB_SITES; do
		ns=$(lab_ns "$site")
		echo "== $site ($ns)"
		ip -n "$ns" -4 -br addr show | sed 's/^/   /'
		ip -n "$ns" -4 route show | sed 's/^/   route: /'
	done
	local f name
	for f in "$LAB_DIR"/*.pid; do
		[ -e "$f" ] || continue
		name=${f##*/}
		name=${name%.pid}
		if lab_alive "$name"; then
			echo "process $name: pid $(lab_pid "$name"), log $LAB_DIR/$name.log"
		fi
	done
}

cmd_env() {
	load
	sed -n 's/^\([A-Z_]*=\)/export \1/p' "$LAB_DIR/env"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
exec) cmd_exec "$@" ;;
status) cmd_status ;;
env) cmd_env ;;
-h | --help | help) usage ;;
*) usage ;;
esac
