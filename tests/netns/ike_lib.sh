# shellcheck shell=bash
# Helpers for tests that run kizunad on the lab's gateways (sourced after
# lib.sh).  kz_start <site> <config>: config copied with `device wan0`,
# daemon started, waits until it answers.  kz <site> words...: one console
# command on that gateway.
kz_start() {
	local site=$1 conf=$2
	sed -e 's/device wwan0/device wan0/' "$conf" >"$LAB_DIR/$site.conf"
	lab_bg "gw-$site" "kizunad-$site" "$KZ_BUILD/kizunad" -f -v -c "$LAB_DIR/$site.conf" \
		-s "$LAB_DIR/$site.sock"
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
