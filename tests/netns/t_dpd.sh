#!/usr/bin/env bash
# Dead Peer Detection (RFC 3706), kizuna <-> kizuna, Main mode, global
# addresses (examples/main-a.conf, main-b.conf with `dpd interval 3 retry 1`):
#  1. tunnel up, a ping from LAN A to LAN B runs through it;
#  2. kizunad on B is killed with SIGKILL (no Delete): A declares B dead
#     within interval x (retry + 1) + 1 s = 7 s of the kill (the time of
#     A's log line is compared with the time of the kill) and clears its SAs;
#  3. B is started again: the tunnel comes back, ping works, and each side
#     shows exactly one IKE SA and one IPsec SA pair (no stale SAs);
#  4. the same with the roles swapped: A killed, B declares it dead in time,
#     A restarted, one pair each again.
# The probes' schedule itself (retry + 1 probes, dead at interval x
# (retry + 1) and not before, back-off before negotiating again) is judged
# with the injected clock in the engine tests (test_dpd_dead_peer); here
# the shortest settings keep the real daemons' rounds short.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping

IVL=3 RETRY=1
BOUND=$((IVL * (RETRY + 1) + 1))

# seconds since midnight, local time, with fractions (the log's clock)
now_s() { date +%H:%M:%S.%N | awk -F: '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'; }
# the time of the first line of a log matching a pattern, same scale
log_time() { # log pattern
	grep -m1 -- "$2" "$1" | awk '{ split($1, t, ":"); printf "%.3f\n", t[1] * 3600 + t[2] * 60 + t[3] }'
}



lab_up global
kz_with_dpd "$IVL" "$RETRY" "$top/examples/main-a.conf" "$LAB_DIR/dpd-a.conf"
kz_with_dpd "$IVL" "$RETRY" "$top/examples/main-b.conf" "$LAB_DIR/dpd-b.conf"
kz_pair_start "$LAB_DIR/dpd-b.conf" "$LAB_DIR/dpd-a.conf"
if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 5 kz_ipsec_up b && lab_wait_for 10 kz_ping_ok; then
	ok "tunnel up, ping through it"
else
	nok "tunnel up, ping through it"
	kz_logs a b
fi
expect "one IKE SA and one IPsec SA pair each" lab_wait_for 15 kz_one_sa_each

# round: victim watcher
round() {
	local victim=$1 watcher=$2 t_kill t_dead dt
	lab_bg lan-a "ping-$victim" ping -i 0.2 "$LAN_B_HOST"
	sleep 2
	t_kill=$(now_s)
	kill -KILL "$(lab_pid "kizunad-$victim")"
	if lab_wait_for $((BOUND + 10)) grep -q "DPD: peer .* is dead" "$LAB_DIR/kizunad-$watcher.log"; then
		t_dead=$(log_time "$LAB_DIR/kizunad-$watcher.log" "DPD: peer .* is dead")
		dt=$(awk -v a="$t_kill" -v b="$t_dead" 'BEGIN { d = b - a; if (d < 0) d += 86400; printf "%.3f", d }')
		echo "# $watcher declared $victim dead ${dt} s after SIGKILL (bound ${BOUND} s)"
		grep -m1 "DPD: peer .* is dead" "$LAB_DIR/kizunad-$watcher.log" | sed 's/^/# /'
		expect "$victim killed: $watcher declares it dead within ${BOUND} s (${dt} s)" \
			awk -v d="$dt" -v b="$BOUND" 'BEGIN { exit !(d <= b && d >= 0) }'
	else
		nok "$victim killed: $watcher declares it dead"
		kz_logs "$watcher"
	fi
	expect "$watcher cleared the dead peer's IPsec SAs" sh -c "[ \"\$(ip netns exec $(lab_ns "gw-$watcher") $KZ_BUILD/kizuna -s $LAB_DIR/$watcher.sock show ipsec sa | grep -c '^Inbound:')\" = 0 ]"
	lab_kill "ping-$victim"
	lab_kill "kizunad-$victim"
	rm -f "$LAB_DIR/$victim.sock"
	kz_start "$victim" "$LAB_DIR/dpd-$victim.conf"
	if lab_wait_for 40 kz_ping_ok; then
		ok "$victim restarted: tunnel back, ping works"
	else
		nok "$victim restarted: tunnel back, ping works"
		kz_logs a b
	fi
	# a duplicate pair from both sides initiating goes once traffic flows
	lab_bg lan-a "ping2-$victim" ping -i 0.5 "$LAN_B_HOST"
	expect_one_sa_each 20 "$victim restarted: exactly one IKE SA and one IPsec SA pair each" kz_dump_sas
	lab_kill "ping2-$victim"
}

round b a
round a b

echo "dpd: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
[ "$fails" -eq 0 ]
