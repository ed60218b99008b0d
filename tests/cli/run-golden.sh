#!/usr/bin/env bash
# Golden console transcripts: each tests/cli/golden/*.txt is a router screen.
# Its first line names the startup config (`# config: FILE`, relative to
# tests/cli/); every line that starts with a prompt (`site-a#`,
# `site-a(config-if)#`, ...) is typed into the console, everything else is
# the expected screen.  The daemon runs in gw-a of the namespace lab (carrier
# NAT mode: wan0 is 100.64.0.2/24), so the interface state is real.
#
# usage: run-golden.sh BUILD_DIR CLI_DIR [TRANSCRIPT...]
#   KZ_GOLDEN_UPDATE=1 rewrites the transcripts from what the console printed
#   (review the diff before committing it).
set -eu
build=$(cd "$1" && pwd)
cli=$(cd "$2" && pwd)
shift 2
. "$cli/../netns/lib.sh"
lab_require_root
trap lab_down EXIT
trap 'exit 130' INT TERM HUP
lab_up cgnat

prompt_re='^[A-Za-z0-9_.-]+(\([a-z-]+\))?# ?'
transcripts=("$@")
[ ${#transcripts[@]} -gt 0 ] || transcripts=("$cli"/golden/*.txt)
pass=0
fail=0
for t in "${transcripts[@]}"; do
	name=$(basename "$t" .txt)
	conf=$(sed -n '1s/^# config: *//p' "$t")
	[ -n "$conf" ] || { echo "golden $name: first line must be '# config: FILE'"; fail=$((fail + 1)); continue; }
	cp "$cli/$conf" "$LAB_DIR/$name.conf"
	sock="$LAB_DIR/$name.sock"
	lab_bg gw-a "kzd-$name" "$build/kizunad" -f -c "$LAB_DIR/$name.conf" -s "$sock"
	if ! lab_wait_for 10 test -S "$sock"; then
		echo "golden $name: kizunad did not start"; cat "$LAB_DIR/kzd-$name.log"
		fail=$((fail + 1)); continue
	fi
	tail -n +2 "$t" | grep -E "$prompt_re" | sed -E "s/$prompt_re//" > "$LAB_DIR/$name.in" || true
	{ head -n 1 "$t"; KIZUNA_ECHO=1 lab_exec gw-a "$build/kizuna" -s "$sock" < "$LAB_DIR/$name.in" 2>&1 || true; } \
		> "$LAB_DIR/$name.out"
	lab_kill "kzd-$name"
	if [ "${KZ_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$LAB_DIR/$name.out" "$t"
		echo "golden $name: updated"
	elif diff -u "$t" "$LAB_DIR/$name.out"; then
		echo "golden $name: ok"
		pass=$((pass + 1))
	else
		echo "golden $name: FAILED (expected - / got +)"
		echo "--- kizunad log:"; cat "$LAB_DIR/kzd-$name.log"
		fail=$((fail + 1))
	fi
done
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
