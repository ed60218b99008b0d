#!/usr/bin/env bash
# Golden console transcripts: each tests/cli/golden/*.txt is a router screen.
# Its first line names the startup config (`# config: FILE`, relative to
# tests/cli/); every line that starts with a prompt (`site-a#`,
# `site-a(config-if)#`, ...) is typed into the console, everything else is
# the expected screen.
#
# No root and no lab: each transcript runs in a user and network namespace
# of its own (unshare -rn), with wan0 at 100.64.0.2/24 - what gw-a has in
# the lab's carrier NAT mode - so the interface state is the kernel's.  The
# daemon is kizunad_golden, kizunad with the TUN devices stood in for
# (fake_tun.c): /dev/net/tun is the one thing a user namespace cannot open.
# Root without user namespaces falls back to a network namespace alone.
#
# usage: run-golden.sh BUILD_DIR CLI_DIR [TRANSCRIPT...]
#   KZ_GOLDEN_UPDATE=1 rewrites the transcripts from what the console printed
#   (review the diff before committing it).
set -eu
prompt_re='^[A-Za-z0-9_.-]+(\([a-z-]+\))?# ?'

# Inside the namespace: run-golden.sh --one BUILD CLI TRANSCRIPT WORK
if [ "${1:-}" = --one ]; then
	build=$2 cli=$3 t=$4 work=$5
	name=$(basename "$t" .txt)
	conf=$(sed -n '1s/^# config: *//p' "$t")
	ip link set lo up
	# Peers up, so each device has a carrier once the daemon sets it up
	# (a TUN device has one while the daemon holds it).
	ip link add wan0 type veth peer name wan0p
	ip link set wan0p up
	ip link set wan0 up
	ip addr add 100.64.0.2/24 dev wan0
	ip link add ipsec0 type veth peer name ipsec0p
	ip link set ipsec0p up
	cp "$cli/$conf" "$work/$name.conf"
	sock=$work/$name.sock
	"$build/tests/kizunad_golden" -f -c "$work/$name.conf" -s "$sock" \
		>"$work/$name.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$sock" ] || { echo "kizunad did not start"; kill "$pid" 2>/dev/null; exit 1; }
	tail -n +2 "$t" | grep -E "$prompt_re" | sed -E "s/$prompt_re//" >"$work/$name.in" || true
	{ head -n 1 "$t"; KIZUNA_ECHO=1 "$build/kizuna" -s "$sock" <"$work/$name.in" 2>&1 || true; } \
		>"$work/$name.out"
	kill "$pid"
	wait "$pid" || true
	exit 0
fi

build=$(cd "$1" && pwd)
cli=$(cd "$2" && pwd)
shift 2
# shellcheck source=tests/netns/lib.sh
. "$cli/../netns/lib.sh" # _lab_unmet: skip, or fail under CI
[ -x "$build/tests/kizunad_golden" ] || _lab_unmet "no $build/tests/kizunad_golden"
command -v ip >/dev/null || _lab_unmet "needs ip" "apt-get install iproute2"
if unshare -rn true 2>/dev/null; then
	ns=(unshare -rn)
elif [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	ns=(unshare -n)
else
	_lab_unmet "needs user namespaces (unshare -rn) or root"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

transcripts=("$@")
[ ${#transcripts[@]} -gt 0 ] || transcripts=("$cli"/golden/*.txt)
pass=0
fail=0
for t in "${transcripts[@]}"; do
	t=$(cd "$(dirname "$t")" && pwd)/$(basename "$t")
	name=$(basename "$t" .txt)
	conf=$(sed -n '1s/^# config: *//p' "$t")
	[ -n "$conf" ] || { echo "golden $name: first line must be '# config: FILE'"; fail=$((fail + 1)); continue; }
	if ! "${ns[@]}" "$0" --one "$build" "$cli" "$t" "$work" >"$work/$name.err" 2>&1; then
		echo "golden $name: FAILED to run"
		cat "$work/$name.err" "$work/$name.log" 2>/dev/null
		fail=$((fail + 1))
		continue
	fi
	if [ "${KZ_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$work/$name.out" "$t"
		echo "golden $name: updated"
	elif diff -u "$t" "$work/$name.out"; then
		echo "golden $name: ok"
		pass=$((pass + 1))
	else
		echo "golden $name: FAILED (expected - / got +)"
		echo "--- kizunad log:"; cat "$work/$name.log"
		fail=$((fail + 1))
	fi
done
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
