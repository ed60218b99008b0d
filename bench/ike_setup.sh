#!/usr/bin/env bash
# bench/ike_setup.sh - IKE setup benchmark in the namespace lab: Main mode +
# Quick Mode setups per second with kizunad as responder on gw-b, then the
# same workload against strongSwan's charon on gw-b, in the same run; and
# the responder's memory per established tunnel.
#
#   gw-a (ike_setup_bench, NADDR source addresses 198.51.100.10...)
#     ===== carrier ===== gw-b (kizunad, then charon; 203.0.113.2)
#
# For each responder:
#   1. start it; RSS before
#   2. hold run: one tunnel per source address (NADDR tunnels), RSS after;
#      (after - before) / NADDR is the memory per established tunnel
#   3. rate run: INFLIGHT setups in flight for DURATION seconds; each completed
#      setup is a new IKE SA (fresh cookies and DH) and a Quick Mode with PFS
#   4. kizunad only, PERF=1: `perf record -g` of the responder during a
#      second rate run; the top symbols show where its CPU goes
#
# Usage: sudo bench/ike_setup.sh [build-dir]
# Environment: NADDR (200), INFLIGHT (32), DURATION (10), THREADS (2),
#   GROUP (modp2048), PFS (modp2048 or none), PERF (1 when perf exists),
#   RESPONDERS ("kizuna strongswan"), NATT (0; 1: announce NAT-T),
#   FRESH_DH (0: the generator reuses one key pair per thread and group,
#   which a load generator may; 1: a fresh key pair per exchange),
#   PERF_CALLGRAPH (fp; dwarf gives call chains through libc),
#   KZ_DAEMON_OPTS (more kizunad options, e.g. --no-privsep to compare).
# Prints a summary table at the end; exit status 0 when every run finished.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"

NADDR=${NADDR:-200}
INFLIGHT=${INFLIGHT:-32}
SECONDS_RUN=${DURATION:-10}
THREADS=${THREADS:-2}
GROUP=${GROUP:-modp2048}
PFS=${PFS:-modp2048}
RESPONDERS=${RESPONDERS:-kizuna strongswan}
NATT=${NATT:-0}
FRESH_DH=${FRESH_DH:-0}
PSK=kizuna-lab-psk
FIRST=10 # 198.51.100.FIRST is the first source address
if command -v perf >/dev/null 2>&1; then PERF=${PERF:-1}; else PERF=0; fi

kz_lab_begin
[ -x "$KZ_BUILD/ike_setup_bench" ] || { echo "no $KZ_BUILD/ike_setup_bench: build it first" >&2; exit 1; }
[ "$NADDR" -ge "$INFLIGHT" ] || { echo "NADDR must be >= INFLIGHT" >&2; exit 1; }
[ $((FIRST + NADDR)) -le 254 ] || { echo "NADDR at most $((254 - FIRST))" >&2; exit 1; }

lab_up global
first_src=198.51.100.$FIRST
{
	for i in $(seq "$FIRST" $((FIRST + NADDR - 1))); do
		echo "address add 198.51.100.$i/24 dev wan0"
	done
} | ip -n "$NS_GW_A" -batch -

gen_flags=()
[ "$NATT" = 0 ] || gen_flags=(-u)
[ "$FRESH_DH" = 0 ] || gen_flags+=(-F)

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# utime + stime of a process (and its threads), in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# busy and total clock ticks of the whole machine (all CPUs)
sys_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# ike_setup_bench in gw-a; args: extra options.  Prints its summary line.
gen() {
	lab_exec gw-a "$KZ_BUILD/ike_setup_bench" -r "$GW_B_WAN" -s "$first_src" -n "$NADDR" \
		-T "$THREADS" -g "$GROUP" -P "$PFS" -a "$PSK" -q "${gen_flags[@]}" "$@" \
		2>"$LAB_DIR/gen.err"
}

field() { # line key
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# The responder config for kizunad: one profile per source address (a Main
# mode responder picks the pre-shared key by the peer's address).
kizuna_conf() {
	kz_conf_head bench-b "$GROUP"
	cat <<EOF
  lifetime 28800
ike policy IKEPOL
  exchange-mode main
  proposal IKEP
  pre-shared-key ascii "$PSK"
EOF
	[ "$NATT" = 0 ] || echo "  nat-traversal"
	cat <<EOF
ipsec proposal ESPP
  protocol esp
  encryption aes-cbc-256
  authentication hmac-sha2-256
  lifetime time 28800
ipsec policy IPSECPOL
  proposal ESPP
  local-id 192.168.2.0/24
  remote-id 192.168.1.0/24
  pfs $PFS
EOF
	for i in $(seq "$FIRST" $((FIRST + NADDR - 1))); do
		cat <<EOF
ipsec profile P$i
  peer 198.51.100.$i
  source-interface MobileEthernet0.0
  ike policy IKEPOL
  ipsec policy IPSECPOL
  initiate on-demand
EOF
	done
}

declare -A R_CPU R_RATE R_FAIL R_MEM R_HOLD R_RSS0 R_RSS1 R_LAT R_GEN R_OTHER
status=0

measure() { # name pid
	local name=$1 pid=$2 rss0 rss1 hold rate c0 c1
	sleep 1
	rss0=$(rss_kb "$pid")
	hold=$(gen -k "$NADDR" -t 60 -H) || { echo "$name: hold run did not finish: $hold" >&2; status=1; }
	sleep 1
	rss1=$(rss_kb "$pid")
	R_RSS0[$name]=$rss0
	R_RSS1[$name]=$rss1
	R_HOLD[$name]=$(field "$hold" setups)
	R_MEM[$name]=$(awk -v a="$rss0" -v b="$rss1" -v n="${R_HOLD[$name]:-0}" \
		'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "-" }')
	echo "$name: hold: $hold"
	echo "$name: RSS ${rss0} kB -> ${rss1} kB with ${R_HOLD[$name]} tunnels"
	c0=$(cpu_ticks "$pid")
	read -r b0 t0 < <(sys_ticks)
	rate=$(gen -k "$INFLIGHT" -t "$SECONDS_RUN") || status=1
	read -r b1 t1 < <(sys_ticks)
	c1=$(cpu_ticks "$pid")
	echo "$name: rate: $rate"
	R_CPU[$name]=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v s="$SECONDS_RUN" \
		'BEGIN { printf "%.0f%%", 100 * (b - a) / hz / s }')
	R_GEN[$name]=$(awk -v c="$(field "$rate" gen_cpu_s)" -v s="$SECONDS_RUN" \
		'BEGIN { printf "%.0f%%", 100 * c / s }')
	# what the rest of the machine (other processes, the lab's kernel
	# work) used: all busy CPU less the responder and the generator,
	# in percent of one CPU
	R_OTHER[$name]=$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$(nproc)" \
		-v r="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v g="$(field "$rate" gen_cpu_s)" \
		-v s="$SECONDS_RUN" 'BEGIN { o = 100 * n * b / t - 100 * r / hz / s - 100 * g / s;
			printf "%.0f%%", o < 0 ? 0 : o }')
	R_RATE[$name]=$(field "$rate" rate)
	R_FAIL[$name]=$(( $(field "$rate" failed) + $(field "$rate" timeouts) ))
	R_LAT[$name]="$(field "$rate" lat_p50_ms)/$(field "$rate" lat_p99_ms)"
	[ -n "${R_RATE[$name]}" ] || status=1
}

for r in $RESPONDERS; do
	case "$r" in
	kizuna)
		kizuna_conf >"$LAB_DIR/b.conf"
		# findings expected here: A4.2 for every profile (no IPsec<N>
		# interface per profile; the benchmark sends no traffic)
		"$KZ_BUILD/kizuna" check "$LAB_DIR/b.conf" >"$LAB_DIR/check.out" 2>&1 || true
		if grep '\[NG\]' "$LAB_DIR/check.out" | grep -v 'A4.2 mapped I/F is down' >&2; then
			echo "kizuna check: unexpected findings in the responder config" >&2
		fi
		# shellcheck disable=SC2086 # options, split on purpose
		lab_bg gw-b kizunad-b "$KZ_BUILD/kizunad" -f -c "$LAB_DIR/b.conf" -s "$LAB_DIR/b.sock" \
			${KZ_DAEMON_OPTS:-}
		lab_wait_for 10 lab_exec gw-b "$KZ_BUILD/kizuna" -s "$LAB_DIR/b.sock" show ike sa
		pid=$(kz_pid b) # the process that runs IKE (the child when split)
		measure kizuna "$pid"
		if [ "$PERF" = 1 ]; then
			perf record -q --call-graph "${PERF_CALLGRAPH:-fp}" -o "$LAB_DIR/perf.data" -p "$pid" \
				-- sleep "$SECONDS_RUN" \
				>"$LAB_DIR/perf.log" 2>&1 &
			perf_pid=$!
			gen -k "$INFLIGHT" -t "$SECONDS_RUN" >/dev/null || true
			wait "$perf_pid" || true
			echo "kizuna: perf profile of kizunad (self time, top symbols):"
			perf report -q -i "$LAB_DIR/perf.data" --no-children --sort dso \
				-g none 2>/dev/null | sed 's/^/  /' | head -6
			echo "kizuna: kizunad's own symbols (self time):"
			perf report -q -i "$LAB_DIR/perf.data" --no-children --dso kizunad \
				--sort symbol -g none 2>/dev/null | sed 's/^/  /' | head -8
			cp "$LAB_DIR/perf.data" "${PERF_OUT:-/tmp/ike_setup.perf.data}" 2>/dev/null || true
		fi
		lab_kill kizunad-b
		;;
	strongswan)
		ss_require
		ss_setup gw-b b responder psk="$PSK" remote_id=%any \
			ike="aes256-sha256-$GROUP" \
			esp="aes256-sha256$([ "$PFS" = none ] || echo "-$PFS")"
		SS_LOGLEVEL=0 ss_start gw-b b >/dev/null
		measure strongswan "$(lab_pid ss-b)"
		ss_stop b
		;;
	*) echo "unknown responder $r" >&2; exit 2 ;;
	esac
done

echo
echo "IKE setup benchmark: Main mode + Quick Mode, $GROUP, PFS $PFS, $INFLIGHT in flight," \
	"$SECONDS_RUN s, $THREADS generator thread(s), $(nproc) CPUs"
printf '%-11s %10s %9s %8s %9s %9s %12s %8s %16s\n' responder "setups/s" "resp CPU" "gen CPU" \
	"rest CPU" failures "p50/p99 ms" tunnels "kB/tunnel (RSS)"
for r in $RESPONDERS; do
	printf '%-11s %10s %9s %8s %9s %9s %12s %8s %16s\n' "$r" "${R_RATE[$r]:--}" "${R_CPU[$r]:--}" \
		"${R_GEN[$r]:--}" "${R_OTHER[$r]:--}" "${R_FAIL[$r]:--}" "${R_LAT[$r]:--}" \
		"${R_HOLD[$r]:--}" "${R_MEM[$r]:--}"
done
echo "(CPU in % of one CPU during the rate run; rest: everything else on the machine)"
if [ -n "${R_RATE[kizuna]:-}" ] && [ -n "${R_RATE[strongswan]:-}" ]; then
	awk -v k="${R_RATE[kizuna]}" -v s="${R_RATE[strongswan]}" \
		'BEGIN { if (s > 0) printf "kizuna / strongSwan: %.2fx\n", k / s }'
fi
exit "$status"
