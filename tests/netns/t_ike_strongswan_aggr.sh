#!/usr/bin/env bash
#
# t_ike_strongswan_aggr.sh [build-dir] - kizuna <-> strongSwan (charon 5.9,
# kernel-libipsec) in Aggressive mode, cgnat lab (gw-a behind the carrier's
# NAT, so NAT-T for real), KEY_ID identities (charon: keyid:site-a) and once
# FQDN identities (charon: @site-a.example); kizuna initiating on gw-a and
# responding on gw-b, over the proposal sets of interop_lib.sh (which also
# says what each case checks). The last two cases run behind a carrier NAT
# that also remaps source ports (LAB_NAT_PORTS=random).
# Exit 0 pass, 1 fail, 77 skip (no root or tools; a failure under CI=true).
# Knobs: SS_LOGLEVEL, IC_ONLY (regex of case names), IC_PART (K/N), LAB_KEEP=1.

set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_interop_begin cgnat
#       name             kizuna mode      ids   ike  esp    pfs
ic_case aggr-i-s256      init aggressive keyid s256 aes256 none
ic_case aggr-r-s256      resp aggressive keyid s256 aes256 none reauth
ic_case aggr-i-s128      init aggressive keyid s128 aes128 none restart
ic_case aggr-r-s128-pfs  resp aggressive keyid s128 aes128 modp2048
ic_case aggr-i-3des      init aggressive keyid 3des 3des   none
ic_case aggr-r-3des      resp aggressive keyid 3des 3des   none
ic_case aggr-i-fqdn      init aggressive fqdn  s256 aes256 none
ic_case aggr-r-fqdn-gcm  resp aggressive fqdn  s256 gcm128 none
lab_down

# the carrier also remaps source ports: NAT-T must follow the mapped ports
LAB_NAT_PORTS=random lab_up cgnat
ic_case aggr-i-natport   init aggressive keyid s256 aes256 none
ic_case aggr-r-natport   resp aggressive keyid e256 aes192 ecp256 multi
ic_summary
