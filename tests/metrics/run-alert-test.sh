#!/usr/bin/env bash
# The sample alert rules of docs/metrics.md: `promtool check rules` and
# `promtool test rules` (tests/metrics/kizuna-alerts.test.yml).  Exit 77
# without promtool (Debian package prometheus; under CI=true a failure).
#   usage: run-alert-test.sh SOURCE_DIR
set -u
src=$(cd "$1" && pwd)
if ! command -v promtool >/dev/null; then
	case "${CI:-}" in
	true | 1 | yes) echo "FAIL: promtool missing (apt-get install prometheus)"; exit 1 ;;
	esac
	echo "SKIP: promtool missing (apt-get install prometheus)"
	exit 77
fi
fail=0
promtool check rules "$src/packaging/prometheus/kizuna-alerts.yml" || fail=1
(cd "$src/tests/metrics" && promtool test rules kizuna-alerts.test.yml) || fail=1
echo "alert-rules: $((1 - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
