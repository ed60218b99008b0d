# shellcheck shell=bash
# Helpers for tests that run kizunad on the lab's gateways (sourced after
# lib.sh).  kz_start <site> <config>: config copied with `device wan0`,
# daemon started, waits until it answers.  kz <site> words...: one console
# command on that gateway.

# kz_lab_begin [cmd:package...]: the start of a lab test or benchmark: needs
# root and each cmd (lab_require_root, lab_require_cmd: exit 77, under
# CI=true 1), then traps EXIT (lab_down) and INT TERM HUP.
# Takes no argument when nothing but root is needed (SC2119/SC2120).
# shellcheck disable=SC2120
kz_lab_begin() {
	local c
	lab_require_root
	for c in "$@"; do
		lab_require_cmd "${c%%:*}" "${c#*:}"
	done
	trap lab_down EXIT
	trap 'exit 130' INT TERM HUP
}

# Pieces of a lab site's kizuna config, as its generators print them:
# kz_conf_head hostname group: the hostname, the WAN (device wan0) and the
# start of `ike proposal IKEP` (AES-CBC-256, SHA2-256, that DH group).
kz_conf_head() {
	cat <<EOF
hostname $1
interface MobileEthernet0.0
  device wan0
  no shutdown
ike proposal IKEP
  encryption aes-cbc-256
  hash sha2-256
  group $2
EOF
}

# kz_conf_lan_ids site: the `local-id`/`remote-id` lines of an ipsec policy
# for the lab's LANs seen from site a or b.
kz_conf_lan_ids() {
	if [ "$1" = a ]; then
		echo "  local-id $LAN_A_NET"
		echo "  remote-id $LAN_B_NET"
	else
		echo "  local-id $LAN_B_NET"
		echo "  remote-id $LAN_A_NET"
	fi
}

# kz_conf_profile peer: `ipsec profile HQ` with that peer over the WAN, with
# IKEPOL and IPSECPOL, mapped on IPsec0.
kz_conf_profile() {
	cat <<EOF
ipsec profile HQ
  peer $1
  source-interface MobileEthernet0.0
  ike policy IKEPOL
  ipsec policy IPSECPOL
interface IPsec0
  ipsec map HQ
  no shutdown
EOF
}

# kz_conf_lan_route site: the route to the other site's LAN into IPsec0.
kz_conf_lan_route() {
	if [ "$1" = a ]; then
		echo "ip route $LAN_B_NET IPsec0"
	else
		echo "ip route $LAN_A_NET IPsec0"
	fi
}

# KZ_DAEMON_OPTS, when set, adds options to kizunad's command line (split
# on blanks), e.g. KZ_DAEMON_OPTS="--workers 2".
kz_start() {
	local site=$1 conf=$2
	sed -e 's/device wwan0/device wan0/' "$conf" >"$LAB_DIR/$site.conf"
	# shellcheck disable=SC2086 # options, split on purpose
	lab_bg "gw-$site" "kizunad-$site" "$KZ_BUILD/kizunad" -f -v -c "$LAB_DIR/$site.conf" \
		-s "$LAB_DIR/$site.sock" ${KZ_DAEMON_OPTS:-}
	lab_wait_for 10 lab_exec "gw-$site" "$KZ_BUILD/kizuna" -s "$LAB_DIR/$site.sock" show ike sa
}

kz() {
	local site=$1
	shift
	lab_exec "gw-$site" "$KZ_BUILD/kizuna" -s "$LAB_DIR/$site.sock" "$@"
}

kz_stop() {
	lab_kill "kizunad-$1"
}

# The value after "spi=" of the Outbound or Inbound block of `show ipsec sa`.
kz_spi() { # site Outbound|Inbound
	kz "$1" show ipsec sa | awk -v dir="$2:" '$0 == dir { f = 1 } f && /^satype: esp spi=/ { sub(/^satype: esp spi=/, ""); sub(/\(.*/, ""); print; exit }'
}

kz_ipsec_up() { # site: an IPsec SA pair is established
	kz "$1" show ipsec sa | grep -q '^SA status is established'
}

kz_ike_up() {
	kz "$1" show ike sa | grep -qx 'IKE PH1 established'
}

kz_logs() {
	for n in "$@"; do
		echo "--- kizunad-$n log (tail)"
		tail -n 40 "$LAB_DIR/kizunad-$n.log" 2>/dev/null
	done
}

# SA and log counts on one site (a or b), for waits and messages.
kz_pairs() { # site: IPsec SA pairs shown (one Inbound block per pair)
	kz "$1" show ipsec sa | grep -c '^Inbound:' || true
}

kz_ike_sas() { # site: IKE SAs established
	kz "$1" show ike sa | grep -c '^IKE PH1 established' || true
}

kz_one_sa_each() { # exactly one IKE SA and one IPsec SA pair on each site
	[ "$(kz_pairs a)" = 1 ] && [ "$(kz_pairs b)" = 1 ] && [ "$(kz_ike_sas a)" = 1 ] &&
		[ "$(kz_ike_sas b)" = 1 ]
}

kz_tunnel_up() { # [t_s]: A's IPsec SA up (20 s), a ping from LAN A to LAN B
	# through it (10 s), then one IKE SA and one IPsec SA pair each (t_s, 15)
	lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 kz_ping_ok &&
		lab_wait_for "${1:-15}" kz_one_sa_each
}

kz_sa_counts() { # "a: IKE SAs/IPsec SA pairs, b: ..."
	echo "a: $(kz_ike_sas a)/$(kz_pairs a), b: $(kz_ike_sas b)/$(kz_pairs b)"
}

kz_ping_ok() { # one ping from LAN A to LAN B answered within 1 s
	lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1
}

kz_nlog() { # site pattern: how many lines of that kizunad's log match
	grep -c -- "$2" "$LAB_DIR/kizunad-$1.log" || true
}

kz_pid() { # site: the kizunad process that runs IKE and the data plane:
	# the unprivileged child of a split daemon, else the daemon itself
	local p c
	p=$(lab_pid "kizunad-$1") || return 1
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
		if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = kizunad ]; then
			echo "$c"
			return 0
		fi
	done
	echo "$p"
}

kz_rss_kb() { # pid: resident set size in kB
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

kz_configure() { # site lines...: configuration commands through the console
	local site=$1
	shift
	{
		echo "configure terminal"
		printf '%s\n' "$@"
		echo "end"
	} | kz "$site" >/dev/null
}

kz_clear_sas() { # site...: clear the IPsec and IKE SAs, errors ignored
	local s
	for s in "$@"; do
		kz "$s" clear ipsec sa >/dev/null 2>&1 || true
		kz "$s" clear ike sa >/dev/null 2>&1 || true
	done
}

kz_back_up() { # after a scenario: SAs cleared, the tunnel from A up again
	kz_clear_sas a b
	if ! lab_wait_for 30 kz_ipsec_up a; then
		echo "# tunnel did not come back"
		kz_logs a b
	fi
}
