# shellcheck shell=bash
# Variables are set here for the sourcing scripts (SC2034).
# shellcheck disable=SC2034
#
# tests/netns/strongswan.sh - strongSwan's charon as a real IKEv1 peer in the
# namespace lab. Sourced after lib.sh, by tests and benchmarks that put charon
# on one gateway (kizuna on the other) or on both.
#
# The kernel here has no ESP, so charon runs with its userspace data plane,
# the kernel-libipsec plugin: it makes a TUN device (ipsec0) in the gateway
# namespace and installs routes to the remote selectors in table 220. One
# consequence to know: kernel-libipsec always asks for UDP encapsulation, so
# charon fakes the NAT-D hashes and the exchange floats to 4500 and uses
# ESP-in-UDP even with no NAT on the path. Another: charon as an Aggressive
# mode responder sometimes ("ignoring QUICK_MODE request while phase 1 is
# incomplete", about 1 handshake in 8 against charon) drops the Quick Mode
# message that came right behind the last Aggressive mode message, and the
# initiator's retransmit 2 s later completes the exchange.
#
# Each instance <name> has its own directory $LAB_DIR/ss-<name>/ with
# strongswan.conf, swanctl.conf, charon.log, charon.vici (the VICI socket)
# and run/, which is bind-mounted on /run inside the namespace (charon
# hard-codes its pid file there; `ip netns exec` already gives a private
# mount namespace). charon runs as the lab_bg process ss-<name> (its stderr
# in $LAB_DIR/ss-<name>.log), so lab_down stops it. Several instances, in
# several labs at once, do not collide.
#
# Usage:
#
#   . "$HERE/lib.sh"; . "$HERE/strongswan.sh"
#   ss_require                      # root and the packages, else skip (77)
#   lab_up global
#   ss_setup gw-a a initiator psk=secret
#   ss_setup gw-b b responder psk=secret
#   ss_start gw-b b && ss_start gw-a a
#   ss_initiate a net
#   lab_wait_for 10 ss_child_installed a net
#   ss_child_spis a net             # "c1a2b3c4 c5d6e7f8" (in out, hex)
#   ss_stop a                       # lab_down also stops it
#
# Functions:
#   ss_require                      lab_require_root + lab_require_cmd for
#                                   charon, swanctl and the plugins used
#   ss_setup <site> <name> <role> [key=value...]
#                                   write the configuration of one instance;
#                                   role is initiator or responder (only the
#                                   defaults differ: a responder accepts any
#                                   remote address, an initiator names its
#                                   peer). Keys below.
#   ss_start <site> <name>          run charon in the site's namespace (via
#                                   lab_bg, process name ss-<name>), wait until
#                                   VICI answers, load the configuration
#   ss_reload <name>                load swanctl.conf again (after editing it)
#   ss_stop <name> [timeout_s]      stop charon (SIGTERM: it sends deletes
#                                   for its SAs; SIGKILL after 5 s)
#   ss_swanctl <name> args...       swanctl against that instance
#   ss_initiate <name> <child> [timeout_s]
#                                   start the connection of <child> and wait
#                                   for the result (swanctl --initiate; its
#                                   output goes to <dir>/initiate.log, and to
#                                   stderr on failure; default timeout 15 s)
#   ss_terminate <name> [conn]      delete the IKE SA of conn (default: the
#                                   connection of ss_setup) and its CHILD_SAs
#   ss_list_sas <name>              `swanctl --list-sas` as printed
#   ss_list_sas_pretty <name>       the same with --pretty (key = value tree)
#   ss_ike_state <name> [conn]      IKE SA state: ESTABLISHED, CONNECTING, ...
#                                   (empty when there is none)
#   ss_ike_established <name> [conn]        predicate, for lab_wait_for
#   ss_ike_spis <name> [conn]       "initiator responder" SPIs (cookies), hex
#   ss_ike_algs <name> [conn]       e.g. "AES_CBC-256 HMAC_SHA2_256_128
#                                   PRF_HMAC_SHA2_256 MODP_2048"
#   ss_ike_remote <name> [conn]     remote "address port" of the IKE SA
#   ss_ike_nat <name> [conn]        the NAT flags of the IKE SA ("nat-local
#                                   nat-remote nat-fake nat-any" subset)
#   ss_child_state <name> [child]   CHILD_SA state: INSTALLED, REKEYED, ...
#                                   (the newest one of that name)
#   ss_child_installed <name> [child]       predicate, for lab_wait_for
#   ss_child_count <name> [child]   how many CHILD_SAs of that name exist
#   ss_child_spis <name> [child]    "in out" SPIs, hex (newest CHILD_SA)
#   ss_child_algs <name> [child]    e.g. "AES_CBC-256 HMAC_SHA2_256_128
#                                   MODP_2048" or "AES_GCM_16-128"
#   ss_child_encap <name> [child]   "yes" when the CHILD_SA is ESP-in-UDP
#   ss_child_bytes <name> [child]   "in_bytes out_bytes in_packets out_packets"
#   ss_dir <name>                   the instance's directory
#   ss_log <name>                   path of charon's log
#   ss_log_tail <name> [lines]      print the log's last lines (default 40)
#   ss_log_setup_ms <name> [child]  ms from charon's last "initiating" to the
#                                   CHILD_SA established (from the log)
#   ss_dump_on_failure <names...>   state and log tail of each, to stderr
#
# Keys of ss_setup (key=value arguments; an unset key falls back to the
# environment variable SS_<KEY in capitals>, then to the default):
#   version       1 (IKEv1) or 2                          default 1
#   exchange      main or aggressive (IKEv1)              default main
#   conn          connection name                         default <name>
#   child         CHILD_SA name                           default net
#   local_addrs   this gateway's WAN address              site's WAN address
#   remote_addrs  the peer: initiator default is the other gateway
#                 (gw-a: $GW_B_WAN; gw-b: $GW_A_PUBLIC), responder %any
#   local_id      address, @fqdn, keyid:x, ...            local_addrs
#   remote_id     same forms; %any accepts any            the other gateway's
#                 default WAN address (gw-a: $GW_B_WAN, gw-b: $GW_A_WAN)
#   psk           pre-shared key                          kizuna-lab-psk
#   ike           IKE proposal                            aes256-sha256-modp2048
#   esp           ESP proposal (with a DH group: PFS)     aes256-sha256-modp2048
#   local_ts      local protected network                 site's LAN
#   remote_ts     remote protected network                the other LAN
#   start_action  none, trap or start                     none
#   close_action  none, trap or start                     none
#   dpd_delay     seconds between DPD checks, 0 = off     0
#   dpd_timeout   IKEv1 DPD timeout in seconds            (charon's: 150)
#   dpd_action    clear, trap or restart                  clear
#   ike_lifetime  IKE SA lifetime in seconds, the Life-Duration of the
#                 phase 1 proposal: reauth_time at 90 % plus over_time 10 %
#                 (charon proposes their sum), rekey_time = 0
#                                                         (charon's: ~4 h)
#   child_lifetime  CHILD_SA lifetime in seconds: life_time, and
#                 rekey_time at 90 %                      (charon's: 1 h)
#   rekey         no: never rekey or reauthenticate       yes
#   encap         yes: force UDP encapsulation            no (but see above)
#   unique        no, never, replace, keep                no
#   keyingtries   IKE retransmit rounds before giving up  1
#   conn_extra    raw swanctl lines for the connection, ';' between lines
#   child_extra   raw swanctl lines for the child, ';' between lines
#   lo_addr       a /32 to put on lo (kernel-libipsec needs an address of the
#                 namespace inside local_ts to install the CHILD_SA's route);
#                 default: none when the namespace already has one inside
#                 local_ts (the LAN address does), else local_ts's first host
# Knobs read by ss_start / ss_setup:
#   SS_LOGLEVEL   charon's filelog level, default 1 (4 logs key material)
#   SS_THREADS    charon worker threads, default 16
#   SS_CHARON     path of charon, default /usr/lib/ipsec/charon
#   SS_TAIL_LINES log lines ss_dump_on_failure prints, default 40

SS_CHARON=${SS_CHARON:-/usr/lib/ipsec/charon}
SS_PLUGIN_DIR=${SS_PLUGIN_DIR:-/usr/lib/ipsec/plugins}

_ss_err() { echo "strongswan: $*" >&2; }

# Fail (or skip) before the lab is built, with the package to install.
ss_require() {
	lab_require_root
	lab_require_cmd ip iproute2
	lab_require_cmd setsid util-linux
	lab_require_cmd mount mount
	lab_require_cmd swanctl strongswan-swanctl
	[ -x "$SS_CHARON" ] || _lab_unmet "needs $SS_CHARON" "apt-get install strongswan-charon"
	local p pkg
	for p in kernel-libipsec:libcharon-extra-plugins \
		openssl:libstrongswan-standard-plugins \
		vici:strongswan-swanctl; do
		pkg=${p#*:}
		p=${p%%:*}
		[ -e "$SS_PLUGIN_DIR/libstrongswan-$p.so" ] ||
			_lab_unmet "needs the strongSwan $p plugin" "apt-get install $pkg"
	done
}

ss_dir() {
	[ -n "${LAB_DIR:-}" ] || { _ss_err "no lab (lab_up first)"; return 1; }
	_lab_check_name "${1:-}" || return 1
	echo "$LAB_DIR/ss-$1"
}

ss_log() {
	local d
	d=$(ss_dir "$1") || return 1
	echo "$d/charon.log"
}

ss_log_tail() {
	local f
	f=$(ss_log "$1") || return 1
	[ -f "$f" ] || { echo "(no $f)"; return 0; }
	tail -n "${2:-40}" "$f"
}

# The value of key $1 among the key=value arguments after it, else
# $SS_<KEY>, else $2 of the caller's default ("" when unset).
_ss_opt() {
	local key=$1 def=$2 a env
	shift 2
	for a in "$@"; do
		case "$a" in
		"$key"=*) echo "${a#*=}"; return 0 ;;
		esac
	done
	env=SS_$(echo "$key" | tr '[:lower:]' '[:upper:]')
	if [ -n "${!env+x}" ]; then
		echo "${!env}"
	else
		echo "$def"
	fi
}

# Site defaults: WAN address, LAN, peer.
_ss_site() {
	case "$1" in
	gw-a | "${NS_GW_A:-}")
		_SS_LADDR=$GW_A_WAN _SS_RADDR=$GW_B_WAN _SS_RID=$GW_B_WAN
		_SS_LTS=$LAN_A_NET _SS_RTS=$LAN_B_NET
		;;
	gw-b | "${NS_GW_B:-}")
		_SS_LADDR=$GW_B_WAN _SS_RADDR=$GW_A_PUBLIC _SS_RID=$GW_A_WAN
		_SS_LTS=$LAN_B_NET _SS_RTS=$LAN_A_NET
		;;
	*)
		# Any other namespace: everything must come as keys.
		_SS_LADDR=%any _SS_RADDR=%any _SS_RID=%any _SS_LTS="" _SS_RTS=""
		;;
	esac
}

# swanctl.conf wants one setting per line; ';' in a raw value separates lines.
_ss_raw_lines() {
	[ -n "$2" ] || return 0
	printf '%s\n' "$2" | tr ';' '\n' | sed -e 's/^[[:space:]]*//' -e "s/^/$1/"
}

# First host of an IPv4 prefix a.b.c.d/n (n < 31), as a.b.c.(d+1).
_ss_first_host() {
	local addr=${1%/*} a b c d n
	IFS=. read -r a b c d <<<"$addr"
	n=$(((a << 24 | b << 16 | c << 8 | d) + 1))
	echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"
}

ss_setup() {
	[ $# -ge 3 ] || { _ss_err "usage: ss_setup <site> <name> <role> [key=value...]"; return 2; }
	local site=$1 name=$2 role=$3 dir ns a
	shift 3
	dir=$(ss_dir "$name") || return 1
	ns=$(lab_ns "$site") || return 1
	for a in "$@"; do
		case "$a" in
		version=* | exchange=* | conn=* | child=* | local_addrs=* | remote_addrs=* | \
			local_id=* | remote_id=* | psk=* | ike=* | esp=* | local_ts=* | \
			remote_ts=* | start_action=* | close_action=* | dpd_delay=* | \
			dpd_timeout=* | dpd_action=* | ike_lifetime=* | child_lifetime=* | \
			rekey=* | encap=* | unique=* | keyingtries=* | conn_extra=* | \
			child_extra=* | lo_addr=*) ;;
		*) _ss_err "ss_setup: unknown option '$a'"; return 2 ;;
		esac
	done
	_ss_site "$site"
	local version exchange conn child laddr raddr lid rid psk ike esp lts rts
	local start_action close_action dpd_delay dpd_timeout dpd_action
	local ike_life child_life rekey encap unique tries conn_extra child_extra
	local lo_addr aggressive life_lines="" child_life_lines="" dpd_lines=""
	version=$(_ss_opt version 1 "$@")
	exchange=$(_ss_opt exchange main "$@")
	conn=$(_ss_opt conn "$name" "$@")
	child=$(_ss_opt child net "$@")
	laddr=$(_ss_opt local_addrs "$_SS_LADDR" "$@")
	case "$role" in
	initiator) raddr=$(_ss_opt remote_addrs "$_SS_RADDR" "$@") ;;
	responder) raddr=$(_ss_opt remote_addrs %any "$@") ;;
	*) _ss_err "ss_setup: role is initiator or responder, not '$role'"; return 2 ;;
	esac
	lid=$(_ss_opt local_id "$laddr" "$@")
	rid=$(_ss_opt remote_id "$_SS_RID" "$@")
	psk=$(_ss_opt psk kizuna-lab-psk "$@")
	ike=$(_ss_opt ike aes256-sha256-modp2048 "$@")
	esp=$(_ss_opt esp aes256-sha256-modp2048 "$@")
	lts=$(_ss_opt local_ts "$_SS_LTS" "$@")
	rts=$(_ss_opt remote_ts "$_SS_RTS" "$@")
	start_action=$(_ss_opt start_action none "$@")
	close_action=$(_ss_opt close_action none "$@")
	dpd_delay=$(_ss_opt dpd_delay 0 "$@")
	dpd_timeout=$(_ss_opt dpd_timeout "" "$@")
	dpd_action=$(_ss_opt dpd_action clear "$@")
	ike_life=$(_ss_opt ike_lifetime "" "$@")
	child_life=$(_ss_opt child_lifetime "" "$@")
	rekey=$(_ss_opt rekey yes "$@")
	encap=$(_ss_opt encap no "$@")
	unique=$(_ss_opt unique no "$@")
	tries=$(_ss_opt keyingtries 1 "$@")
	conn_extra=$(_ss_opt conn_extra "" "$@")
	child_extra=$(_ss_opt child_extra "" "$@")
	lo_addr=$(_ss_opt lo_addr "" "$@")

	case "$exchange" in
	main) aggressive=no ;;
	aggressive) aggressive=yes ;;
	*) _ss_err "ss_setup: exchange is main or aggressive, not '$exchange'"; return 2 ;;
	esac
	if [ -z "$lts" ] || [ -z "$rts" ]; then
		_ss_err "ss_setup: local_ts and remote_ts needed for site '$site'"
		return 2
	fi
	if [ -z "$psk" ]; then
		_ss_err "ss_setup: empty psk"
		return 2
	fi
	if [ "$laddr" = %any ] && [ "$lid" = %any ]; then
		_ss_err "ss_setup: local_addrs or local_id needed for site '$site'"
		return 2
	fi
	if [ "$rekey" = no ]; then
		life_lines="    rekey_time = 0
    reauth_time = 0"
		child_life_lines="        rekey_time = 0"
	fi
	if [ -n "$ike_life" ]; then
		# IKEv1: charon proposes reauth_time + over_time as Life-Duration,
		# so split the lifetime 90/10 to put exactly ike_life on the wire.
		life_lines="    rekey_time = 0
    reauth_time = $((ike_life - ike_life / 10))s
    over_time = $((ike_life / 10))s"
	fi
	if [ -n "$child_life" ]; then
		child_life_lines="        rekey_time = $((child_life * 9 / 10))s
        life_time = ${child_life}s"
	fi
	if [ "$dpd_delay" != 0 ]; then
		dpd_lines="    dpd_delay = ${dpd_delay}s"
		[ -z "$dpd_timeout" ] || dpd_lines="$dpd_lines
    dpd_timeout = ${dpd_timeout}s"
	fi

	mkdir -p "$dir/run" || return 1
	# the credential folders swanctl --load-all scans next to swanctl.conf
	for a in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa \
		ecdsa bliss pkcs8 pkcs12; do
		mkdir -p "$dir/$a" || return 1
	done
	chmod 700 "$dir" || return 1
	echo "$ns" >"$dir/netns"
	echo "$conn" >"$dir/conn"
	echo "$child" >"$dir/child"

	# kernel-libipsec routes the remote selectors with a source address from
	# local_ts; without one in the namespace the CHILD_SA fails to install
	# ("unable to install IPsec policies (SPD)").
	if [ -z "$lo_addr" ] && [ -z "$(ip -n "$ns" -o -4 addr show to "$lts" 2>/dev/null)" ]; then
		lo_addr=$(_ss_first_host "$lts")
	fi
	if [ -n "$lo_addr" ]; then
		ip -n "$ns" addr replace "${lo_addr%/*}/32" dev lo || return 1
		echo "${lo_addr%/*}" >"$dir/lo_addr"
	fi

	# One key = value per line: a one-line { a = b c = d } is silently
	# misparsed by strongSwan.
	cat >"$dir/strongswan.conf" <<EOF || return 1
# charon for the kizuna lab, instance $name in $ns ($role)
charon {
  load_modular = no
  # the first crypto plugin loaded wins: openssl first
  load = openssl random nonce pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  i_dont_care_about_security_and_use_aggressive_mode_psk = yes
  install_virtual_ip = no
  routing_table = 220
  routing_table_prio = 220
  threads = ${SS_THREADS:-16}
  # retransmits after 2, 5.6 and 12 s, gives up after ~24 s (charon's
  # default: 165 s), so a test sees a failure while it still waits
  retransmit_tries = 3
  retransmit_timeout = 2.0
  filelog {
    main {
      path = $dir/charon.log
      default = ${SS_LOGLEVEL:-1}
      time_format = %H:%M:%S
      time_add_ms = yes
      ike_name = yes
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  plugins {
    vici {
      socket = unix://$dir/charon.vici
    }
    kernel-libipsec {
      allow_peer_ts = no
    }
  }
}
swanctl {
  load = random nonce pem pkcs1 x509 pubkey openssl
}
EOF
	{
		cat <<EOF
# swanctl.conf for the kizuna lab, instance $name in $ns ($role)
connections {
  $conn {
    version = $version
    aggressive = $aggressive
    local_addrs = $laddr
    remote_addrs = $raddr
    proposals = $ike
    encap = $encap
    unique = $unique
    keyingtries = $tries
EOF
		[ -z "$life_lines" ] || printf '%s\n' "$life_lines"
		[ -z "$dpd_lines" ] || printf '%s\n' "$dpd_lines"
		_ss_raw_lines "    " "$conn_extra"
		cat <<EOF
    local {
      auth = psk
      id = $lid
    }
    remote {
      auth = psk
      id = $rid
    }
    children {
      $child {
        mode = tunnel
        local_ts = $lts
        remote_ts = $rts
        esp_proposals = $esp
        start_action = $start_action
        close_action = $close_action
        dpd_action = $dpd_action
EOF
		[ -z "$child_life_lines" ] || printf '%s\n' "$child_life_lines"
		_ss_raw_lines "        " "$child_extra"
		cat <<EOF
      }
    }
  }
}
secrets {
  ike-$conn {
    id-local = $lid
EOF
		[ "$rid" = %any ] || echo "    id-remote = $rid"
		cat <<EOF
    secret = "$psk"
  }
}
EOF
	} >"$dir/swanctl.conf" || return 1
	chmod 600 "$dir/swanctl.conf" || return 1
}

# swanctl against one instance: the command options, then the socket
# (--uri must come after the command option).
ss_swanctl() {
	[ $# -ge 2 ] || { _ss_err "usage: ss_swanctl <name> args..."; return 2; }
	local d
	d=$(ss_dir "$1") || return 1
	shift
	STRONGSWAN_CONF=$d/strongswan.conf swanctl "$@" --uri "unix://$d/charon.vici"
}

ss_reload() {
	local d
	d=$(ss_dir "$1") || return 1
	ss_swanctl "$1" --load-all --noprompt --file "$d/swanctl.conf" >"$d/load.out" 2>&1 || {
		_ss_err "swanctl --load-all for $1 failed:"
		cat "$d/load.out" >&2
		return 1
	}
	# swanctl may exit 0 when a connection was refused: check what it says.
	if ! grep -q "^loaded connection '$(cat "$d/conn")'" "$d/load.out" ||
		! grep -q "^loaded ike secret" "$d/load.out" ||
		grep -q "failed" "$d/load.out"; then
		_ss_err "swanctl did not load everything for $1:"
		cat "$d/load.out" >&2
		return 1
	fi
}

# Ready when VICI answers; also "done" (to stop waiting) once charon died.
_ss_ready() {
	lab_alive "ss-$1" || return 0
	ss_swanctl "$1" --stats >/dev/null 2>&1
}

ss_start() {
	[ $# -eq 2 ] || { _ss_err "usage: ss_start <site> <name>"; return 2; }
	local site=$1 name=$2 d
	d=$(ss_dir "$name") || return 1
	[ -f "$d/strongswan.conf" ] || { _ss_err "ss_start: no configuration for $name (ss_setup first)"; return 1; }
	rm -f "$d/charon.vici" "$d/run/charon.pid"
	# charon's pid file is under /run: give this instance its own /run.
	# shellcheck disable=SC2016
	lab_bg "$site" "ss-$name" env STRONGSWAN_CONF="$d/strongswan.conf" \
		bash -c 'mount --bind "$1/run" /run && exec "$2"' \
		ss-charon "$d" "$SS_CHARON" || return 1
	if ! lab_wait_for 15 _ss_ready "$name"; then
		_ss_err "charon $name did not answer on $d/charon.vici"
		ss_dump_on_failure "$name"
		return 1
	fi
	if ! lab_alive "ss-$name"; then
		_ss_err "charon $name exited at start"
		ss_dump_on_failure "$name"
		return 1
	fi
	# charon carries on without its IKE sockets (e.g. another IKE daemon
	# holds UDP 500/4500 in this namespace): useless as a peer.
	if grep -q "could not open IPv4 socket" "$d/charon.log" 2>/dev/null; then
		_ss_err "charon $name has no IKE socket: UDP 500/4500 taken in $(cat "$d/netns")?"
		ss_dump_on_failure "$name"
		ss_stop "$name"
		return 1
	fi
	ss_reload "$name"
}

ss_stop() {
	[ $# -ge 1 ] || { _ss_err "usage: ss_stop <name>"; return 2; }
	lab_kill "ss-$1" "${2:-5}"
}

ss_initiate() {
	[ $# -ge 2 ] || { _ss_err "usage: ss_initiate <name> <child> [timeout_s]"; return 2; }
	local d rc=0
	d=$(ss_dir "$1") || return 1
	# swanctl relays charon's log of the exchange: keep it, show it on failure.
	ss_swanctl "$1" --initiate --child "$2" --timeout "${3:-15}" >"$d/initiate.out" 2>&1 || rc=$?
	cat "$d/initiate.out" >>"$d/initiate.log"
	if [ "$rc" -ne 0 ]; then
		_ss_err "ss_initiate $1 $2 failed (swanctl exit $rc):"
		tail -n 20 "$d/initiate.out" >&2
	fi
	return "$rc"
}

ss_terminate() {
	[ $# -ge 1 ] || { _ss_err "usage: ss_terminate <name> [conn]"; return 2; }
	local d conn
	d=$(ss_dir "$1") || return 1
	conn=${2:-$(cat "$d/conn")}
	ss_swanctl "$1" --terminate --ike "$conn" --timeout 10
}

ss_list_sas() { ss_swanctl "$1" --list-sas; }
ss_list_sas_pretty() { ss_swanctl "$1" --list-sas --pretty; }

# The key = value pairs of one IKE SA of connection conn from --pretty
# (without its CHILD_SAs), "key value" per line: the established one when
# there are several (during reauthentication), else the last listed.
_ss_ike_kv() {
	local d conn
	d=$(ss_dir "$1") || return 1
	conn=${2:-$(cat "$d/conn")}
	ss_list_sas_pretty "$1" 2>/dev/null | awk -v conn="$conn" '
		# depth 1 "list-sa event {", 2 "<conn> {", 3 "child-sas {" ...
		/[{[]$/ {
			depth++
			if (depth == 2) { inike = ($1 == conn); cur = ""; est = 0 }
			next
		}
		/^[[:space:]]*[]}]$/ {
			if (depth == 2 && inike) {
				if (est) best = cur
				last = cur
			}
			depth--
			next
		}
		inike && depth == 2 && / = / {
			k = $1; sub(/^[^=]*= /, "")
			if (k == "state" && $0 == "ESTABLISHED") est = 1
			cur = cur k " " $0 "\n"
		}
		END { printf "%s", (best != "" ? best : last) }
	'
}

# "key value" lines of one CHILD_SA named child, from --pretty: the newest
# installed one, else the last listed; plus "count <n>" of that name.
_ss_child_kv() {
	local d child
	d=$(ss_dir "$1") || return 1
	child=${2:-$(cat "$d/child")}
	ss_list_sas_pretty "$1" 2>/dev/null | awk -v child="$child" '
		/[{[]$/ {
			depth++
			# depth 4 is one CHILD_SA, "<child>-<unique id> {"
			if (depth == 4) { cur = ""; inchild = 0; inst = 0; uid = 0 }
			next
		}
		/^[[:space:]]*[]}]$/ {
			if (depth == 4 && inchild) {
				n++
				last = cur
				if (inst && (best == "" || uid > bestuid)) { best = cur; bestuid = uid }
			}
			depth--
			next
		}
		depth == 4 && / = / {
			k = $1; sub(/^[^=]*= /, "")
			if (k == "name" && $0 == child) inchild = 1
			if (k == "state" && $0 == "INSTALLED") inst = 1
			if (k == "uniqueid") uid = $0 + 0
			cur = cur k " " $0 "\n"
		}
		END {
			printf "%s", (best != "" ? best : last)
			if (n) printf "count %d\n", n
		}
	'
}

_ss_kv_get() { awk -v k="$1" '$1 == k { sub(/^[^ ]* /, ""); print; exit }'; }

ss_ike_state() { _ss_ike_kv "$@" | _ss_kv_get state; }
ss_ike_established() { [ "$(ss_ike_state "$@")" = ESTABLISHED ]; }

# _ss_kv_of <reader> "<key>..." <site> [name]: the values of the keys in one
# SA (reader _ss_ike_kv or _ss_child_kv), separated by spaces; status 1
# when there is no such SA.
_ss_kv_of() {
	local reader=$1 keys=$2 kv k out="" sep=""
	shift 2
	kv=$("$reader" "$@") || return 1
	[ -n "$kv" ] || return 1
	for k in $keys; do
		out="$out$sep$(_ss_kv_get "$k" <<<"$kv")"
		sep=" "
	done
	echo "$out"
}

# _ss_algs <reader> prf|noprf <site> [name]: "enc[-keysize] integ [prf] dh",
# the ones that are set (the PRF only with prf).
_ss_algs() {
	local reader=$1 prf=$2 kv k out="" ea ek ia pa="" dh
	shift 2
	kv=$("$reader" "$@") || return 1
	[ -n "$kv" ] || return 1
	ea=$(_ss_kv_get encr-alg <<<"$kv")
	ek=$(_ss_kv_get encr-keysize <<<"$kv")
	ia=$(_ss_kv_get integ-alg <<<"$kv")
	[ "$prf" != prf ] || pa=$(_ss_kv_get prf-alg <<<"$kv")
	dh=$(_ss_kv_get dh-group <<<"$kv")
	for k in "$ea${ek:+-$ek}" "$ia" "$pa" "$dh"; do
		[ -z "$k" ] || out="$out${out:+ }$k"
	done
	echo "$out"
}

ss_ike_spis() { _ss_kv_of _ss_ike_kv "initiator-spi responder-spi" "$@"; }

ss_ike_algs() { _ss_algs _ss_ike_kv prf "$@"; }

ss_ike_remote() { _ss_kv_of _ss_ike_kv "remote-host remote-port" "$@"; }

ss_ike_nat() {
	local kv k out=""
	kv=$(_ss_ike_kv "$@") || return 1
	for k in nat-local nat-remote nat-fake nat-any; do
		[ "$(_ss_kv_get "$k" <<<"$kv")" != yes ] || out="$out${out:+ }$k"
	done
	echo "$out"
}

ss_child_state() { _ss_child_kv "$@" | _ss_kv_get state; }
ss_child_installed() { [ "$(ss_child_state "$@")" = INSTALLED ]; }

ss_child_count() {
	local n
	n=$(_ss_child_kv "$@" | _ss_kv_get count)
	echo "${n:-0}"
}

ss_child_spis() { _ss_kv_of _ss_child_kv "spi-in spi-out" "$@"; }

ss_child_algs() { _ss_algs _ss_child_kv noprf "$@"; }

ss_child_encap() {
	local e
	e=$(_ss_kv_of _ss_child_kv encap "$@") || return 1
	if [ "$e" = yes ]; then echo yes; else echo no; fi
}

ss_child_bytes() { _ss_kv_of _ss_child_kv "bytes-in bytes-out packets-in packets-out" "$@"; }

# Milliseconds from the last "initiating ... IKE_SA" in charon's log to the
# first "CHILD_SA <child>{n} established" after it: the handshake as charon
# saw it, without swanctl's start-up. Empty when not found.
ss_log_setup_ms() {
	local f d child
	d=$(ss_dir "$1") || return 1
	f=$d/charon.log
	child=${2:-$(cat "$d/child")}
	[ -f "$f" ] || return 1
	awk -v child="$child" '
		function ms(t,   a) { split(t, a, /[:.]/); return ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4] }
		/\[IKE\].* initiating .* IKE_SA / { t0 = ms($1); done = 0; next }
		!done && t0 != "" && index($0, "CHILD_SA " child "{") && / established / {
			d = ms($1) - t0
			if (d < 0) d += 86400000
			done = 1
			r = d
		}
		END { if (r != "") print r }
	' "$f"
}

ss_dump_on_failure() {
	local n
	for n in "$@"; do
		{
			echo "---- strongSwan $n: charon $(lab_alive "ss-$n" && echo runs || echo is not running)"
			if lab_alive "ss-$n"; then
				ss_list_sas "$n" 2>&1 || true
			fi
			if [ -s "$LAB_DIR/ss-$n.log" ]; then
				echo "---- charon's stderr:"
				tail -n 10 "$LAB_DIR/ss-$n.log"
			fi
			echo "---- $(ss_log "$n") (last lines)"
			ss_log_tail "$n" "${SS_TAIL_LINES:-40}"
			echo "----"
		} >&2
	done
}
