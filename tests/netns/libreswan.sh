# shellcheck shell=bash
#
# tests/netns/libreswan.sh - Debian's libreswan (pluto 4.10) as a peer in
# the namespace lab, sourced after lib.sh.  Debian's libreswan conflicts
# with strongswan-libcharon, so scripts/deps.sh unpacks the package under
# $LSW_ROOT (default /opt/kizuna-libreswan) instead of installing it; its
# libraries (NSS, unbound, ldns, ...) are installed as usual.
#
# This kernel has no ESP for XFRM: pluto completes phase 1 but fails to
# install the IPsec SAs a Quick Mode makes ("errno 93"), so it is a phase 1
# peer, and its Quick Mode is checked only as far as it goes.
#
#   lsw_require                 exit 77 (1 under CI=true) without pluto
#   lsw_setup SITE NAME ROLE key=value...
#                               writes ipsec.conf, ipsec.secrets and an NSS
#                               database under $LAB_DIR/lsw-NAME; keys:
#                               exchange=main|aggressive, psk=, ike=, esp=,
#                               local_id=, remote_id= (default: addresses),
#                               pfs=yes|no, ike_lifetime=, child_lifetime=
#   lsw_start SITE NAME         pluto in the site's namespace, conn added
#   lsw_initiate NAME           whack --initiate, asynchronous
#   lsw_stop NAME
#   lsw_log NAME                the path of pluto's log
#   lsw_status NAME             whack --status

LSW_ROOT=${LSW_ROOT:-/opt/kizuna-libreswan}
LSW_BIN=$LSW_ROOT/usr/libexec/ipsec

lsw_require() {
	if [ ! -x "$LSW_BIN/pluto" ] || ! command -v certutil >/dev/null 2>&1; then
		echo "SKIP: no pluto under $LSW_ROOT or no certutil (scripts/deps.sh unpacks libreswan)"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
	lab_require_root
}

lsw_dir() { echo "$LAB_DIR/lsw-$1"; }
lsw_log() { echo "$(lsw_dir "$1")/pluto.log"; }

lsw_setup() {
	local site=$1 name=$2 role=$3 dir a
	shift 3
	dir=$(lsw_dir "$name")
	local exchange=main psk=kizuna-lab-psk ike="aes256-sha2_256;modp2048"
	local esp="aes256-sha2_256" lid="" rid="" pfs=no ikelife="" childlife=""
	for a in "$@"; do
		case "$a" in
		exchange=*) exchange=${a#*=} ;;
		psk=*) psk=${a#*=} ;;
		ike=*) ike=${a#*=} ;;
		esp=*) esp=${a#*=} ;;
		local_id=*) lid=${a#*=} ;;
		remote_id=*) rid=${a#*=} ;;
		pfs=*) pfs=${a#*=} ;;
		ike_lifetime=*) ikelife=${a#*=} ;;
		child_lifetime=*) childlife=${a#*=} ;;
		*) echo "lsw_setup: unknown option '$a'" >&2; return 2 ;;
		esac
	done
	local left right lsub rsub
	case "$site" in
	gw-a) left=$GW_A_WAN right=$GW_B_WAN lsub=$LAN_A_NET rsub=$LAN_B_NET ;;
	gw-b) left=$GW_B_WAN right=$GW_A_PUBLIC lsub=$LAN_B_NET rsub=$LAN_A_NET ;;
	*) echo "lsw_setup: site gw-a or gw-b" >&2; return 2 ;;
	esac
	[ -n "$lid" ] || lid=$left
	if [ -z "$rid" ]; then
		if [ "$site" = gw-a ]; then rid=$GW_B_WAN; else rid=$GW_A_WAN; fi
	fi
	mkdir -p "$dir/nss" "$dir/run" || return 1
	certutil -N -d "sql:$dir/nss" --empty-password >/dev/null 2>&1 || return 1
	{
		echo "# pluto for the kizuna lab, $name on $site ($role)"
		echo "config setup"
		echo "    logfile=$dir/pluto.log"
		echo "    ikev1-policy=accept"
		echo "conn kz"
		echo "    ikev2=no"
		echo "    authby=secret"
		echo "    left=$left"
		echo "    leftid=$lid"
		echo "    leftsubnet=$lsub"
		echo "    right=$right"
		echo "    rightid=$rid"
		echo "    rightsubnet=$rsub"
		echo "    ike=$ike"
		echo "    esp=$esp"
		echo "    pfs=$pfs"
		echo "    encapsulation=no"
		echo "    keyingtries=1"
		[ "$exchange" = aggressive ] && echo "    aggressive=yes"
		[ -z "$ikelife" ] || echo "    ikelifetime=${ikelife}s"
		[ -z "$childlife" ] || echo "    salifetime=${childlife}s"
		echo "    auto=add"
	} >"$dir/ipsec.conf"
	echo "$lid $rid : PSK \"$psk\"" >"$dir/ipsec.secrets"
	chmod 600 "$dir/ipsec.secrets"
}

_lsw_ctl() { echo "$(lsw_dir "$1")/run/pluto.ctl"; }

lsw_whack() { # name site args...
	local name=$1 site=$2
	shift 2
	lab_exec "$site" "$LSW_BIN/whack" --ctlsocket "$(_lsw_ctl "$name")" "$@"
}

lsw_start() {
	local site=$1 name=$2 dir
	dir=$(lsw_dir "$name")
	echo "$site" >"$dir/site"
	# pluto runs /usr/libexec/ipsec/addconn itself: the unpacked tree is
	# bound there in the private mount namespace `ip netns exec` gives it
	# shellcheck disable=SC2016 # expanded by the inner shell
	lab_bg "$site" "pluto-$name" bash -c 'mount --bind "$1" /usr/libexec && shift && exec "$@"' \
		_ "$LSW_ROOT/usr/libexec" /usr/libexec/ipsec/pluto --nofork --config "$dir/ipsec.conf" \
		--secretsfile "$dir/ipsec.secrets" --nssdir "$dir/nss" --rundir "$dir/run" \
		--dumpdir "$dir/run" --ipsecdir "$dir" --no-dnssec --logfile "$dir/pluto.log" ||
		return 1
	lab_wait_for 10 test -S "$(_lsw_ctl "$name")" || return 1
	lab_exec "$site" "$LSW_BIN/addconn" --ctlsocket "$(_lsw_ctl "$name")" \
		--config "$dir/ipsec.conf" kz >>"$dir/addconn.log" 2>&1 || return 1
	lsw_whack "$name" "$site" --listen >>"$dir/addconn.log" 2>&1
	lsw_whack "$name" "$site" --rereadsecrets >>"$dir/addconn.log" 2>&1
}

lsw_initiate() {
	local name=$1
	lsw_whack "$name" "$(cat "$(lsw_dir "$name")/site")" --initiate --name kz \
		--asynchronous >>"$(lsw_dir "$name")/addconn.log" 2>&1
}

lsw_status() {
	local name=$1
	lsw_whack "$name" "$(cat "$(lsw_dir "$name")/site")" --status 2>&1
}

lsw_stop() {
	lab_kill "pluto-$1"
}
