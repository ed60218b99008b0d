#!/usr/bin/env bash
# Builds kizuna into build/ (build/kizunad, build/kizuna).
# usage: scripts/build.sh [DIR [CMAKE OPTIONS...]]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if [ ! -f "$dir/CMakeCache.txt" ]; then
	cmake -S . -B "$dir" "${gen[@]}" -DKZ_WERROR=ON "$@" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
