# shellcheck shell=bash
# Variables are set here for the sourcing scripts (SC2034), here by them
# (SC2154).
# shellcheck disable=SC2034,SC2154
#
# tests/netns/check_lib.sh - the start and the result lines of a lab test.
# Sourced by a test in tests/netns/ after it has set KZ_BUILD and here:
#
#   set -eu
#   KZ_BUILD=$(cd "${1:-build}" && pwd)
#   here=$(cd "$(dirname "$0")" && pwd)
#   . "$here/check_lib.sh"
#   kz_lab_begin python3:python3 ping:iputils-ping
#   ...
#   expect "tunnel up" lab_wait_for 20 kz_ipsec_up a
#   ...
#   check_summary rekey
#
# Sources lib.sh and ike_lib.sh (kz_lab_begin: root, tools, traps) and sets
# top (the source tree).
#   ok <what>                     prints "ok - <what>", counts it in passed
#   nok <what>                    prints "FAIL - <what>", counts it in fails
#   expect <what> cmd...          ok when cmd succeeds, nok when it fails
#   expect_one_sa_each <timeout_s> <what> [cmd...]
#                                 waits for one IKE SA and one IPsec SA pair
#                                 on each site (kz_one_sa_each): ok, or nok
#                                 with the counts (kz_sa_counts), then cmd
#   expect_tunnel_up <what> [t_s] ok when kz_tunnel_up t_s succeeds, else nok
#                                 and the logs of both daemons
#   check_summary <name>          prints "<name>: 1 passed, 0 failed (0 checks
#                                 failed)" (the test counts as one; 0 and 1
#                                 when a check failed); status 0 when none did
#   check_tally <name>            prints "<name>: P passed, F failed" (checks);
#                                 status 0 when none failed
# Either summary is a test's last command: its status is the test's.

top=$(cd "$here/../.." && pwd)
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

check_summary() {
	echo "$1: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
	[ "$fails" -eq 0 ]
}

check_tally() {
	echo "$1: $passed passed, $fails failed"
	[ "$fails" -eq 0 ]
}
