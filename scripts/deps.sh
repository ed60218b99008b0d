#!/usr/bin/env bash
# Installs what building and testing kizuna needs on Debian 12 (as root).
# Quick when everything is already there: apt runs only for what is missing.
set -euo pipefail

PKGS=(
	build-essential cmake ninja-build pkg-config clang
	libssl-dev libevent-dev libmnl-dev libedit-dev libcap-ng-dev libjson-c-dev gettext
	libcmocka-dev
	iproute2 nftables iptables iputils-ping procps tmux python3
	tshark iperf3 gdb
	strongswan-charon strongswan-swanctl libcharon-extra-plugins
	libstrongswan-standard-plugins
	libsystemd-dev modemmanager python3-dbusmock dbus-daemon dbus-bin
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
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
