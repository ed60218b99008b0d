# shellcheck shell=bash
# Variables are set here for the sourcing scripts (SC2034), here by them
# (SC2154).
# shellcheck disable=SC2034,SC2154
#
# tests/netns/check_lib.sh - the start and the result lines of a lab test.
# Sourced by a test in tests/netns/ after it has set here:
#
#   set -eu
#   here=$(cd "$(dirname "$0")" && pwd)
#   . "$here/check_lib.sh"
#   kz_lab_begin python3:python3 ping:iputils-ping
#   ...
#   expect "tunnel up" lab_wait_for 20 kz_ipsec_up a
#   ...
#   check_summary rekey
#
# Sources lib.sh and ike_lib.sh (kz_lab_begin: root, tools, traps) and sets
# top (the source tree) and KZ_BUILD (the build directory: the test's first
# argument, default build).
#   ok <what>                     prints "ok - <what>", counts it in passed
#   nok <what>                    prints "FAIL - <what>", counts it in fails
#   expect <what> cmd...          ok when cmd succeeds, nok when it fails
#   expect_one_sa_each <timeout_s> <what> [cmd...]
#                                 waits for one IKE SA and one IPsec SA pair
#                                 on each site (kz_one_sa_each): ok, or nok
#                                 with the counts (kz_sa_counts), then cmd
#   expect_tunnel_up <what> [t_s] ok when kz_tunnel_up t_s succeeds, else nok
#                                 and the logs of both daemons
#   expect_ipsec_up <what>        ok when an IPsec SA pair is established on
#                                 A (within 20 s), then on B (5 s), else nok
#                                 and the logs of both daemons
#   kz_shows <site> <line> <words...>  the console command's output on that
#                                 site has a line matching line (grep -x)
#   kz_dump_sas [site...]         `show ipsec sa` of A and B as comments,
#                                 then the logs of the sites named
#   kz_pair_start <conf-b> <conf-a>  starts kizunad on B, then on A
#   kz_pair_stop                  stops kizunad on A, then on B
#   kz_ondemand <in> <out>        writes in with `initiate on-demand` after
#                                 its `ipsec policy IPSECPOL` line (that site
#                                 waits for the other to initiate)
#   kz_sites_up                   the cgnat lab with examples/site-{a,b}.conf
#                                 started, both IPsec SAs up (waited for) and
#                                 one ping from lan-a to lan-b
#   kz_with_dpd <ivl> <retry> <in> <out>
#                                 writes in with `dpd interval ivl retry
#                                 retry` in its `ike policy IKEPOL`
#   kz_interop_begin <lab mode>   the start of a kizuna <-> strongSwan test:
#                                 sources strongswan.sh and interop_lib.sh,
#                                 needs charon (ss_require), ping, tshark, nft
#                                 or iptables for the cgnat lab and a built
#                                 kizunad, then brings the lab up
#   check_summary <name>          prints "<name>: 1 passed, 0 failed (0 checks
#                                 failed)" (the test counts as one; 0 and 1
#                                 when a check failed); status 0 when none did
#   check_tally <name>            prints "<name>: P passed, F failed" (checks);
#                                 status 0 when none failed
# Either summary is a test's last command: its status is the test's.

top=$(cd "$here/../.." && pwd)
# The build directory, the test's first argument (default: build), for the
# test and kz_start (ike_lib.sh), and exported for the programs it runs.
KZ_BUILD=$(cd "${1:-build}" && pwd)
export KZ_BUILD
# shellcheck source=tests/netns/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/netns/ike_lib.sh
. "$here/ike_lib.sh"

passed=0
fails=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
nok() { echo "FAIL - $*"; fails=$((fails + 1)); }
expect() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }

expect_one_sa_each() {
	local t=$1 what=$2
	shift 2
	if lab_wait_for "$t" kz_one_sa_each; then
		ok "$what"
	else
		nok "$what ($(kz_sa_counts))"
		"$@"
	fi
}

expect_tunnel_up() {
	if kz_tunnel_up "${2:-15}"; then
		ok "$1"
	else
		nok "$1"
		kz_logs a b
	fi
}

expect_ipsec_up() {
	if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 5 kz_ipsec_up b; then
		ok "$1"
	else
		nok "$1"
		kz_logs a b
	fi
}

kz_shows() {
	local site=$1 line=$2
	shift 2
	kz "$site" "$@" | grep -qx -- "$line"
}

kz_dump_sas() {
	kz a show ipsec sa | sed 's/^/# a: /'
	kz b show ipsec sa | sed 's/^/# b: /'
	[ $# -eq 0 ] || kz_logs "$@"
}

kz_pair_start() {
	kz_start b "$1"
	kz_start a "$2"
}
kz_pair_stop() {
	kz_stop a
	kz_stop b
}

kz_sites_up() {
	lab_up cgnat
	kz_pair_start "$top/examples/site-b.conf" "$top/examples/site-a.conf"
	lab_wait_for 20 kz_ipsec_up a
	lab_wait_for 5 kz_ipsec_up b
	lab_exec lan-a ping -c 2 -W 1 "$LAN_B_HOST" >/dev/null
}

kz_ondemand() {
	sed 's/^  ipsec policy IPSECPOL$/&\n  initiate on-demand/' "$1" >"$2"
}

kz_with_dpd() {
	sed -e "/^ike policy IKEPOL/a\\  dpd interval $1 retry $2" "$3" >"$4"
}

kz_interop_begin() {
	# shellcheck source=tests/netns/strongswan.sh
	. "$here/strongswan.sh"
	# shellcheck source=tests/netns/interop_lib.sh
	. "$here/interop_lib.sh"
	ss_require
	kz_lab_begin ping:iputils-ping tshark:tshark
	[ "$1" != cgnat ] || lab_require_nat_tool
	[ -x "$KZ_BUILD/kizunad" ] || {
		echo "FAIL: no $KZ_BUILD/kizunad"
		exit 1
	}
	lab_up "$1"
}

check_summary() {
	echo "$1: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
	[ "$fails" -eq 0 ]
}

check_tally() {
	echo "$1: $passed passed, $fails failed"
	[ "$fails" -eq 0 ]
}
