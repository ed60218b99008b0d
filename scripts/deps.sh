#!/usr/bin/env bash
# Installs what building and testing kizuna needs on Debian 12 (as root).
# Quick when everything is already there: apt runs only for what is missing.
set -euo pipefail

PKGS=(
	build-essential cmake ninja-build pkg-config clang
	libssl-dev libevent-dev libmnl-dev libedit-dev libcap-ng-dev libjson-c-dev gettext
	libseccomp-dev
	libcmocka-dev libzxcvbn-dev
	iproute2 nftables iptables iputils-ping traceroute procps tmux python3
	tshark iperf3 gdb
	strongswan-charon strongswan-swanctl libcharon-extra-plugins
	libstrongswan-standard-plugins
	# libreswan's run-time libraries and certutil (tests/netns/libreswan.sh)
	libnss3-tools libnss3 libnspr4 libunbound8 libldns3 libcurl3-nss
	libevent-core-2.1-7 libevent-pthreads-2.1-7 libldap-2.5-0 dns-root-data
	debhelper dpkg-dev fakeroot systemd man-db
	prometheus
	libsystemd-dev modemmanager python3-dbusmock dbus-daemon dbus-bin polkitd
)
# Debian's libreswan conflicts with strongswan-libcharon: it is unpacked
# under LSW_ROOT (t_libreswan runs pluto from there), not installed.
LSW_ROOT=${LSW_ROOT:-/opt/kizuna-libreswan}

lsw_unpack() {
	[ ! -x "$LSW_ROOT/usr/libexec/ipsec/pluto" ] || return 0
	local tmp
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt downloads as _apt
	echo "deps: unpacking libreswan under $LSW_ROOT"
	(cd "$tmp" && apt-get download libreswan >/dev/null) &&
		mkdir -p "$LSW_ROOT" && dpkg-deb -x "$tmp"/libreswan_*.deb "$LSW_ROOT"
	rm -rf "$tmp"
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
# kizunad --privsep runs its unprivileged part as kizuna (the tree's
# sysusers.d file; tests/netns/t_privsep.sh).
kz_user() {
	id kizuna >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ] ||
		systemd-sysusers "$(dirname "$0")/../packaging/kizuna.sysusers" ||
		useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
			--user-group kizuna
}
trap kz_user EXIT
if [ ${#missing[@]} -eq 0 ]; then
	if [ ! -x "$LSW_ROOT/usr/libexec/ipsec/pluto" ] && [ "$(id -u)" -eq 0 ]; then
		lsw_unpack || { apt-get update -qq && lsw_unpack; }
	fi
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
lsw_unpack
