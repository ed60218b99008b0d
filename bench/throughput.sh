#!/usr/bin/env bash
# bench/throughput.sh - data-plane throughput benchmark on the namespace lab
# (a benchmark, not a test: it prints numbers and judges nothing).
#
# iperf3 TCP from LAN A (192.168.1.10) to LAN B (192.168.2.10), 1 and 4
# streams, over the global lab (no NAT):
#   routed     the carrier lets the LANs through and routes them: no tunnel
#   kizuna     kizunad on both gateways (Main mode, plain ESP)
#   kizuna-udp kizunad, ESP-in-UDP (site examples, Aggressive mode, NAT-T
#              through the carrier's NAT: the cgnat lab)
#   strongswan charon with kernel-libipsec (its userspace data plane) on both
#              gateways (ESP-in-UDP: kernel-libipsec always encapsulates)
# each with AES-CBC-256/HMAC-SHA2-256 and AES-GCM-128 (the routed case once).
#
# Columns: Mbit/s as the iperf3 receiver counted; CPU seconds the two
# gateway daemons used during the run (utime + stime of all their threads,
# from /proc/<pid>/stat; the kernel work done in their system calls is in
# stime, softirq work charged to them too); bytes per gateway CPU-second =
# 2 x payload bytes / (CPU s of A + CPU s of B), because every byte is
# encrypted once (on A) and decrypted once (on B).  The reference is
# `openssl speed` on this machine for the same cipher at 1408-byte buffers
# (CBC+HMAC: 1 / (1/aes-256-cbc + 1/hmac-sha256), one core).  busy: how
# much of all the machine's CPUs (/proc/stat, not idle or iowait) was used
# during the run, by anything: near 100 % means a run is CPU-bound and more
# threads could only move time between the processes sharing the box.
#
# Usage: sudo bench/throughput.sh [build-dir]
# Knobs: BENCH_TIME (s per iperf3 run, default 10), BENCH_MODES ("routed
# kizuna kizuna-udp strongswan"), BENCH_CIPHERS ("cbc gcm128"), BENCH_STREAMS ("1 4"),
# BENCH_DEBUG=1 (print the drop counters after each tunnel run), WORKERS
# (kizunad --workers on both gateways; default: kizunad's, one per CPU),
# KZ_DAEMON_OPTS (more kizunad options, e.g. --no-privsep to compare).
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
kz_lab_begin iperf3:iperf3 openssl:openssl

BENCH_TIME=${BENCH_TIME:-10}
BENCH_MODES=${BENCH_MODES:-routed kizuna kizuna-udp strongswan}
BENCH_CIPHERS=${BENCH_CIPHERS:-cbc gcm128}
BENCH_STREAMS=${BENCH_STREAMS:-1 4}
BENCH_DEBUG=${BENCH_DEBUG:-0}
if [ -n "${WORKERS:-}" ]; then
	export KZ_DAEMON_OPTS="${KZ_DAEMON_OPTS:-} --workers $WORKERS" # read by kz_start
fi
HZ=$(getconf CLK_TCK)
results=()

cipher_name() {
	case $1 in
	cbc) echo "aes-cbc-256/hmac-sha2-256" ;;
	gcm128) echo "aes-gcm-128" ;;
	none) echo "-" ;;
	esac
}

# openssl speed: bytes per second at 1408-byte buffers.
ossl_rate() { # args for openssl speed
	openssl speed -seconds 2 -bytes 1408 "$@" 2>/dev/null |
		awk '/^[a-zA-Z].* [0-9.]+k$/ { v = $NF; sub(/k$/, "", v); r = v * 1000 } END { printf "%.0f", r }'
}
# Measured once, before the runs (the lab would disturb it).
declare -A ref
ref_set() { # cipher
	local a b
	case $1 in
	cbc)
		a=$(ossl_rate -evp aes-256-cbc)
		b=$(ossl_rate -hmac sha256)
		ref[$1]=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", ((a > 0 && b > 0) ? 1 / (1 / a + 1 / b) : 0) }')
		;;
	gcm128) ref[$1]=$(ossl_rate -evp aes-128-gcm) ;;
	esac
}

# Busy and total jiffies of the whole machine (all CPUs), from /proc/stat.
machine_ticks() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

cpu_ticks() { # pid...: utime + stime of each, summed
	local t=0 p
	for p in "$@"; do
		# Field 2 may hold spaces: count from the closing parenthesis.
		t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}

# One iperf3 run; prints "bits_per_second bytes" of the receiver.
run_iperf() { # streams
	local out
	out=$(lab_exec lan-a iperf3 -c "$LAN_B_HOST" -t "$BENCH_TIME" -P "$1" -J 2>/dev/null) || {
		echo "0 0"
		return
	}
	printf '%s' "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
s = j.get("end", {}).get("sum_received")
if not s:
    print("iperf3:", j.get("error", "no result"), file=sys.stderr)
    print("0 0")
else:
    print(int(s["bits_per_second"]), int(s["bytes"]))'
}

# Runs every stream count against what is up; pids: the gateway daemons.
measure() { # mode cipher pid...
	local mode=$1 c=$2 s bps bytes t0 t1 cpu bpc refr m0 m1 busy
	shift 2
	for s in $BENCH_STREAMS; do
		t0=$(cpu_ticks "$@")
		m0=$(machine_ticks)
		read -r bps bytes < <(run_iperf "$s")
		m1=$(machine_ticks)
		t1=$(cpu_ticks "$@")
		busy=$(awk -v a="$m0" -v b="$m1" 'BEGIN { split(a, x, " "); split(b, y, " ");
			d = y[2] - x[2]; printf "%.0f%%", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }')
		if [ $# -gt 0 ]; then
			cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
			bpc=$(awk -v by="$bytes" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? 2 * by / c : 0) }')
			refr=${ref[$c]:-0}
		else
			cpu=- bpc=- refr=-
		fi
		results+=("$(printf '%-11s %-26s %2s %9.1f %8s %14s %14s %5s' "$mode" "$(cipher_name "$c")" "$s" \
			"$(awk -v b="$bps" 'BEGIN { print b / 1e6 }')" "$cpu" "$bpc" "$refr" "$busy")")
		echo "${results[-1]}" >&2
	done
}

iperf_server_start() {
	lab_bg lan-b iperf3-srv iperf3 -s
	lab_wait_for 5 lab_exec lan-a sh -c "exec 3<>/dev/tcp/$LAN_B_HOST/5201" || true
}

bench_routed() {
	lab_up global
	# Let the LANs through the carrier and route them: no tunnel at all.
	if lab_exec carrier nft list table ip kizuna_lab >/dev/null 2>&1; then
		lab_exec carrier nft insert rule ip kizuna_lab forward \
			ip saddr 192.168.0.0/16 ip daddr 192.168.0.0/16 accept
	else
		lab_exec carrier iptables -w -I FORWARD -s 192.168.0.0/16 -d 192.168.0.0/16 -j ACCEPT
	fi
	lab_exec carrier ip route add "$LAN_A_NET" via "$GW_A_WAN"
	lab_exec carrier ip route add "$LAN_B_NET" via "$GW_B_WAN"
	lab_exec gw-a ip route add "$LAN_B_NET" via "$CARRIER_A"
	lab_exec gw-b ip route add "$LAN_A_NET" via "$CARRIER_B"
	iperf_server_start
	measure routed none
	lab_down
}

# The example with the cipher swapped.  Site B only answers (initiate
# on-demand; A starts first anyway): two sites initiating at once can end
# with each using a pair the other deleted as a duplicate.
kz_conf() { # example cipher out [responder]
	local enc
	case $2 in
	cbc) enc='  encryption aes-cbc-256\n  authentication hmac-sha2-256' ;;
	gcm128) enc='  encryption aes-gcm-128' ;;
	esac
	sed -e "s/^  encryption aes-gcm-256\$/$enc/" \
		-e "${4:+/^  ipsec policy IPSECPOL\$/a\\  initiate on-demand}" "$1" >"$3"
}

kz_debug() {
	local s
	[ "$BENCH_DEBUG" = 1 ] || return 0
	for s in a b; do
		echo "--- gw-$s: show ipsec statistics" >&2
		kz "$s" show ipsec statistics >&2 || true
		lab_exec "gw-$s" sh -c 'cat /proc/net/raw; grep ^Udp: /proc/net/snmp; ip -s link show ipsec0' >&2 || true
	done
}

# Both sites' configs are in $LAB_DIR/bench-{a,b}.conf on a lab that is up:
# start them, measure once the SAs are up, take the lab down.
kz_bench_run() { # label cipher
	local label=$1 c=$2
	kz_start b "$LAB_DIR/bench-b.conf"
	kz_start a "$LAB_DIR/bench-a.conf"
	if ! lab_wait_for 20 kz_ipsec_up a || ! lab_wait_for 5 kz_ipsec_up b; then
		echo "$label: no IPsec SA with $(cipher_name "$c")" >&2
		kz_logs a b >&2
		lab_down
		return 0
	fi
	lab_wait_for 10 lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" || true
	iperf_server_start
	measure "$label" "$c" "$(kz_pid a)" "$(kz_pid b)"
	kz_debug
	lab_down
}

bench_kizuna() { # cipher
	local c=$1
	lab_up global
	kz_conf "$top/examples/main-a.conf" "$c" "$LAB_DIR/bench-a.conf"
	kz_conf "$top/examples/main-b.conf" "$c" "$LAB_DIR/bench-b.conf" responder
	kz_bench_run kizuna "$c"
}

# ESP in UDP (like kernel-libipsec): the site examples (Aggressive mode,
# NAT-T) on the cgnat lab, where the carrier's NAT makes them encapsulate.
kz_site_conf() { # example cipher out
	case $2 in
	cbc) cat "$1" ;;
	gcm128) sed -e '/^ipsec proposal/,/^[a-z]/{/^  authentication hmac-sha2-256$/d;s/^  encryption aes-cbc-256$/  encryption aes-gcm-128/}' "$1" ;;
	esac >"$3"
}

bench_kizuna_udp() { # cipher
	local c=$1
	lab_up cgnat
	kz_site_conf "$top/examples/site-a.conf" "$c" "$LAB_DIR/bench-a.conf"
	kz_site_conf "$top/examples/site-b.conf" "$c" "$LAB_DIR/bench-b.conf"
	kz_bench_run kizuna-udp "$c"
}

bench_strongswan() { # cipher
	local c=$1 esp
	case $c in
	cbc) esp=aes256-sha256-modp2048 ;;
	gcm128) esp=aes128gcm16-modp2048 ;;
	esac
	lab_up global
	ss_setup gw-a a initiator "esp=$esp" rekey=no
	ss_setup gw-b b responder "esp=$esp" rekey=no
	if ! ss_start gw-b b || ! ss_start gw-a a || ! ss_initiate a net ||
		! lab_wait_for 10 ss_child_installed a net; then
		echo "strongswan: no CHILD_SA with $esp" >&2
		ss_dump_on_failure a b
		lab_down
		return 0
	fi
	lab_wait_for 10 lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" || true
	iperf_server_start
	measure strongswan "$c" "$(lab_pid ss-a)" "$(lab_pid ss-b)"
	lab_down
}

for c in $BENCH_CIPHERS; do ref_set "$c"; done
for m in $BENCH_MODES; do
	case $m in
	routed) bench_routed ;;
	kizuna | kizuna-udp | strongswan)
		[ "$m" != strongswan ] || ss_require
		for c in $BENCH_CIPHERS; do "bench_${m/-/_}" "$c"; done
		;;
	*) echo "unknown mode $m" >&2; exit 2 ;;
	esac
done

echo
echo "throughput: iperf3 TCP $LAN_A_HOST -> $LAN_B_HOST, ${BENCH_TIME} s per run, $(nproc) CPUs"
printf '%-11s %-26s %2s %9s %8s %14s %14s %5s\n' mode cipher P Mbit/s gw-cpu-s bytes/cpu-s openssl-B/s busy
for r in "${results[@]}"; do echo "$r"; done
