#!/usr/bin/env bash
# Console roles from the peer's credentials, with real users and groups
# made for the run (and removed after it):
#  - a user in neither --admin-group nor --operator-group is refused;
#  - an operator sees show running-config with the key hidden, is refused
#    `show running-config secrets` and configuration, may diagnose;
#  - an admin (by a supplementary group) configures; the change is logged
#    with the uid and the user name; root sees the key on request;
#  - a session idle longer than --console-idle is closed;
#  - one uid cannot take more than 8 sessions.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin useradd:passwd runuser:util-linux

sfx=$$
ga=kztga$sfx go=kztgo$sfx ua=kztua$sfx uo=kztuo$sfx un=kztun$sfx
rundir=/run/kzroles.$sfx
roles_cleanup() {
	for u in "$ua" "$uo" "$un"; do userdel "$u" 2>/dev/null || true; done
	for g in "$ga" "$go"; do groupdel "$g" 2>/dev/null || true; done
	rm -rf "$rundir"
}
trap 'roles_cleanup; lab_down' EXIT
groupadd "$ga"
groupadd "$go"
useradd -M -N -G "$ga" "$ua" # admin by a supplementary group
useradd -M -N -G "$go" "$uo"
useradd -M -N "$un"

lab_up cgnat
conf="$LAB_DIR/a.conf"
sock="$rundir/a.sock"
sed -e 's/device wwan0/device wan0/' "$top/tests/cli/configs/site-a.conf" >"$conf"
# shellcheck disable=SC2086 # KZ_DAEMON_OPTS: options, split on purpose
lab_bg gw-a kzd "$KZ_BUILD/kizunad" -f -c "$conf" -s "$sock" --admin-group "$ga" \
	--operator-group "$go" --console-idle 4 ${KZ_DAEMON_OPTS:-}
lab_wait_for 10 lab_exec gw-a "$KZ_BUILD/kizuna" -s "$sock" show ike sa
as() { local u=$1; shift; lab_exec gw-a runuser -u "$u" -- "$KZ_BUILD/kizuna" -s "$sock" "$@" 2>&1; }
has() { grep -qF -- "$1"; }
lacks() { ! grep -qF -- "$1"; }
root_conf() { "$KZ_BUILD/kizuna" -s "$sock" show running-config; }

expect "the socket is 0666: the credentials decide" test "$(stat -c %a "$sock")" = 666
out=$(as "$un" show ike sa || true)
expect "a user in neither group is refused ($out)" has "console session refused" <<<"$out"
expect "... and logged with its uid" grep -q "console: refused uid $(id -u "$un") ($un)" "$LAB_DIR/kzd.log"

out=$(as "$uo" show running-config || true)
expect "operator: show running-config hides the key" has "pre-shared-key ascii ********" <<<"$out"
expect "operator: never sees the key" lacks "correct horse" <<<"$out"
out=$(as "$uo" show running-config secrets || true)
expect "operator: show running-config secrets refused" has "only an admin sees the keys" <<<"$out"
expect "operator: never sees the key (secrets)" lacks "correct horse" <<<"$out"
out=$(as "$uo" configure terminal || true)
expect "operator: configure refused" has "not allowed: an operator may only show, diagnose and ping" <<<"$out"
out=$(printf 'conf t\nhostname evil\nend\n' | as "$uo" || true)
expect "operator: nothing changed" lacks "hostname evil" <<<"$(root_conf)"
out=$(as "$uo" write memory || true)
expect "operator: write memory refused" has "not allowed" <<<"$out"
out=$(as "$uo" diagnose ipsec || true)
expect "operator: may diagnose" lacks "not allowed" <<<"$out"
expect "operator: diagnose answers" has "HQ" <<<"$out"

printf 'configure terminal\nhostname site-r\nend\n' | as "$ua" >/dev/null
expect "admin (supplementary group) configures" has "hostname site-r" <<<"$(root_conf)"
expect "the change is logged with uid and name" \
	grep -q "console: uid $(id -u "$ua") ($ua): hostname site-r" "$LAB_DIR/kzd.log"
out=$(as "$ua" show running-config || true)
expect "admin: the key hidden unless asked" has "pre-shared-key ascii ********" <<<"$out"
out=$(as "$ua" show running-config secrets || true)
expect "admin: show running-config secrets shows it" \
	has 'pre-shared-key ascii "correct horse battery staple"' <<<"$out"

# idle: a session that sends nothing for 4 s is closed
(sleep 8 | as "$uo" >/dev/null 2>&1 || true) &
idle_pid=$!
expect "an idle session is closed" lab_wait_for 10 grep -q "dropping client (uid $(id -u "$uo")): idle too long" "$LAB_DIR/kzd.log"
wait "$idle_pid" 2>/dev/null || true

# one uid holds at most 8 sessions
pids=()
for i in $(seq 14); do
	(sleep 3.5 | as "$uo" >/dev/null 2>&1 || true) &
	pids+=($!)
done
expect "one uid cannot hold every session slot" lab_wait_for 5 grep -q "refusing client: uid $(id -u "$uo") holds 8 sessions" "$LAB_DIR/kzd.log"
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
out=$(as "$ua" show ike sa; echo "rc=$?")
expect "another user still gets in" has "rc=0" <<<"$out"

check_summary console-roles
