#!/usr/bin/env bash
# bench/recovery.sh - time to recover from a WAN address change and from a
# peer restart, kizuna and strongSwan side by side on the same lab (a
# benchmark, not a test: it prints numbers and judges nothing).
#
# The cgnat lab of tests/netns/lib.sh: gw-a behind the carrier's NAT,
# Aggressive mode with KEY_ID identities, NAT-T (ESP in UDP), gw-b answers
# any address.  DPD on both sides with the same period:
#   kizuna      examples/site-a.conf, site-b.conf + `dpd interval 2 retry 2`
#               (one DPD period: 2 x (2 + 1) = 6 s)
#   strongswan  charon with kernel-libipsec on both gateways
#               (tests/netns/strongswan.sh), dpd_delay 2 s, dpd_timeout 6 s;
#               A: dpd_action restart, local_addrs %any (so it may use a new
#               address); B: dpd_action clear
# No PFS on either (the site examples have none).
#
# A ping from LAN A to LAN B runs every 50 ms (ping -D: each reply has its
# time).  Recovery time = from the event to the first reply after it.
#   wan      gw-a's WAN address changes (100.64.0.N -> 100.64.0.N+1, a new
#            carrier NAT mapping; default route put back), as t_wan.sh does;
#            the time runs from the removal of the old address
#   restart  the daemon on gw-b is killed (SIGKILL: no Delete) and started
#            again at once; the time runs from the kill
# Each scenario RUNS times (default 10) on one lab per implementation;
# between runs the tunnel must be up again and quiet for SETTLE s (3).
# A run with no reply after TIMEOUT s (60) counts as TIMEOUT.
#
# Usage: sudo bench/recovery.sh [build-dir]      (the plain build)
# Knobs: RUNS (10), IMPLS ("kizuna strongswan"), SCENARIOS ("wan restart"),
#   TIMEOUT (60), SETTLE (3).
# Prints one line per run, then: scenario, implementation, median, min, max.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
kz_lab_begin ping:iputils-ping

RUNS=${RUNS:-10}
IMPLS=${IMPLS:-kizuna strongswan}
SCENARIOS=${SCENARIOS:-wan restart}
TIMEOUT=${TIMEOUT:-60}
SETTLE=${SETTLE:-3}
IVL=2 RETRY=2
results=()

now() { date +%s.%N; }
# ms from $1 (epoch s) to the first ping reply after it, or TIMEOUT
recovered_in() { # t0
	local end r
	end=$(($(date +%s) + TIMEOUT))
	while [ "$(date +%s)" -lt "$end" ]; do
		r=$(awk -v t="$1" '/bytes from/ { v = $1; gsub(/[][]/, "", v); if (v + 0 > t + 0) { print v; exit } }' \
			"$LAB_DIR/ping.log")
		if [ -n "$r" ]; then
			awk -v a="$1" -v b="$r" 'BEGIN { printf "%d\n", (b - a) * 1000 }'
			return 0
		fi
		sleep 0.05
	done
	echo TIMEOUT
}

# ---- kizuna
kz_one_each() { [ "$(kz_pairs a)" = 1 ] && [ "$(kz_pairs b)" = 1 ]; }
kizuna_up() {
	local s
	for s in a b; do
		sed -e "/^ike policy IKEPOL/a\\  dpd interval $IVL retry $RETRY" \
			"$top/examples/site-$s.conf" >"$LAB_DIR/rc-$s.conf"
	done
	kz_start b "$LAB_DIR/rc-b.conf"
	kz_start a "$LAB_DIR/rc-a.conf"
	lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 kz_ping_ok
}
kizuna_steady() { lab_wait_for 30 kz_ping_ok && lab_wait_for 15 kz_one_each; }
kizuna_restart_b() {
	kill -KILL "$(lab_pid kizunad-b)"
	T0=$(now)
	lab_kill kizunad-b
	rm -f "$LAB_DIR/b.sock"
	kz_start b "$LAB_DIR/rc-b.conf"
}

# ---- strongSwan
strongswan_up() {
	ss_setup gw-a a initiator exchange=aggressive local_addrs=%any \
		local_id=keyid:site-a remote_id=keyid:site-b esp=aes256-sha256 \
		dpd_delay=$IVL dpd_timeout=$((IVL * (RETRY + 1))) dpd_action=restart
	ss_setup gw-b b responder exchange=aggressive local_id=keyid:site-b \
		remote_id=keyid:site-a esp=aes256-sha256 \
		dpd_delay=$IVL dpd_timeout=$((IVL * (RETRY + 1))) dpd_action=clear
	ss_start gw-b b && ss_start gw-a a && ss_initiate a net &&
		lab_wait_for 10 ss_child_installed a net && lab_wait_for 10 kz_ping_ok
}
strongswan_steady() { lab_wait_for 30 kz_ping_ok && lab_wait_for 15 ss_child_installed b net; }
strongswan_restart_b() {
	kill -KILL "$(lab_pid ss-b)"
	T0=$(now)
	lab_kill ss-b
	ss_start gw-b b
}

wan_change() { # new host number on 100.64.0.0/24
	local old
	old=$(lab_exec gw-a ip -4 -o addr show dev "$WAN_IF" | awk '{ print $4 }' | head -n 1)
	lab_exec gw-a ip addr del "$old" dev "$WAN_IF"
	# from here on no reply can reach the old address: none in flight counts
	T0=$(now)
	lab_exec gw-a ip addr add "100.64.0.$1/$GW_A_WAN_PREFIX" dev "$WAN_IF"
	lab_exec gw-a ip route replace default via "$CARRIER_A"
}

bench_impl() { # impl
	local impl=$1 sc i ms host=2 list
	for sc in $SCENARIOS; do
		lab_up cgnat
		if ! "${impl}_up"; then
			echo "$impl: tunnel did not come up" >&2
			[ "$impl" = kizuna ] && kz_logs a b >&2 || ss_dump_on_failure a b
			lab_down
			continue
		fi
		lab_bg lan-a ping ping -D -i 0.05 "$LAN_B_HOST"
		list=""
		for i in $(seq 1 "$RUNS"); do
			"${impl}_steady" || echo "$impl $sc run $i: not steady before the run" >&2
			sleep "$SETTLE"
			case $sc in
			wan) host=$((host + 1)); wan_change "$host" ;;
			restart) "${impl}_restart_b" || echo "$impl: restart of B failed" >&2 ;;
			esac
			ms=$(recovered_in "$T0")
			echo "$sc $impl run $i: $ms ms" >&2
			list="$list $ms"
		done
		results+=("$sc $impl$list")
		lab_kill ping
		lab_down
	done
}

# median, min, max of ms values; TIMEOUT sorts last
stats() {
	tr ' ' '\n' | grep -v '^$' | sed "s/^TIMEOUT\$/$((TIMEOUT * 1000 + 1))/" | sort -n |
		awk -v lim=$((TIMEOUT * 1000)) '
		function f(v) { return v > lim ? "timeout" : sprintf("%.2fs", v / 1000) }
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- - -"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s %s %s\n", f(m), f(v[1]), f(v[NR])
		}'
}

for impl in $IMPLS; do
	[ "$impl" != strongswan ] || ss_require
	bench_impl "$impl"
done

echo
echo "recovery: $RUNS runs each, DPD period $((IVL * (RETRY + 1))) s, cgnat lab, $(nproc) CPUs"
printf '%-8s %-11s %9s %9s %9s\n' scenario impl median min max
for r in "${results[@]}"; do
	# shellcheck disable=SC2086 # split the result line
	set -- $r
	sc=$1 impl=$2
	shift 2
	read -r med mn mx < <(echo "$*" | stats)
	printf '%-8s %-11s %9s %9s %9s\n' "$sc" "$impl" "$med" "$mn" "$mx"
done
