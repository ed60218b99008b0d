# shellcheck shell=bash
# Variables are set here for the sourcing scripts (SC2034), here by them
# (SC2154).
# shellcheck disable=SC2034,SC2154
#
# bench/bench_lib.sh - the start of a benchmark on the namespace lab of
# tests/netns/lib.sh.  Sourced by bench/*.sh after KZ_BUILD and here are set:
#
#   set -eu
#   KZ_BUILD=$(cd "${1:-build}" && pwd)
#   here=$(cd "$(dirname "$0")" && pwd)
#   . "$here/bench_lib.sh"
#   kz_lab_begin iperf3:iperf3
#
# Sets top (the source tree) and sources tests/netns/lib.sh, ike_lib.sh and
# strongswan.sh; kz_lab_begin (ike_lib.sh) then needs root and the tools and
# sets the traps.

top=$(cd "$here/.." && pwd)
# shellcheck source=tests/netns/lib.sh
. "$top/tests/netns/lib.sh"
# shellcheck source=tests/netns/ike_lib.sh
. "$top/tests/netns/ike_lib.sh"
# shellcheck source=tests/netns/strongswan.sh
. "$top/tests/netns/strongswan.sh"
