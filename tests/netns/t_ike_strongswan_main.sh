#!/usr/bin/env bash
#
# t_ike_strongswan_main.sh [build-dir] - kizuna <-> strongSwan (charon 5.9,
# kernel-libipsec) in Main mode, global lab (no NAT on the path), address
# identities (FQDN site-a.example in the last two cases); kizuna initiating on gw-a and responding on gw-b, over the
# proposal sets of interop_lib.sh (which also says what each case checks).
# Exit 0 pass, 1 fail, 77 skip (no root or tools; a failure under CI=true).
# Knobs: SS_LOGLEVEL, IC_ONLY (regex of case names), IC_PART (K/N), LAB_KEEP=1.

set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_interop_begin global
#       name            kizuna mode ids  ike  esp    pfs
ic_case main-i-s256-pfs init main addr s256 aes256 modp2048 rekey
ic_case main-r-s128     resp main addr s128 aes128 none     rekey,dpd
ic_case main-i-3des     init main addr 3des 3des   none     multi
ic_case main-r-3des     resp main addr 3des 3des   none     multi,reauth
ic_case main-i-s128     init main addr s128 aes128 none     restart
ic_case main-r-gcm128   resp main addr s256 gcm128 none
ic_case main-i-ecp256   init main addr e256 aes192 ecp256   crash
ic_case main-r-ecp384   resp main addr e384 sha512 none
ic_case main-i-gcm256   init main addr e384 gcm256 none
ic_case main-i-fqdn     init main fqdn s256 aes256 none
ic_case main-r-fqdn     resp main fqdn s128 aes128 none
ic_case main-i-kzrekey  init main addr s256 aes256 none     kzrekey
ic_case main-r-kzrekey  resp main addr s256 aes256 none     kzrekey
ic_summary
