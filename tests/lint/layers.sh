#!/usr/bin/env bash
# tests/lint/layers.sh SRC-DIR - the layer rules of docs/architecture.md:
# a file under src/LAYER/ includes project headers only from LAYER itself
# and from the layers it may use, and always in one style: by the header's
# path under src/ ("lib/buf.h", "ike/ike.h"), never "../" and never a
# bare name.  Prints every include that breaks a rule; exit 1 if any does.
set -euo pipefail
src=${1:?usage: layers.sh SRC-DIR}

allowed() { # layer: the layers it may include besides itself
	case $1 in
	lib) echo "" ;;
	config | net | esp) echo "lib" ;;
	cli | ike | diag | mobile) echo "lib config" ;;
	dp) echo "lib esp net" ;;
	client) echo "lib config cli" ;;
	daemon) echo "lib config cli net ike esp dp diag mobile" ;;
	*) echo "?" ;;
	esac
}

bad=0
for dir in "$src"/*/; do
	layer=$(basename "$dir")
	ok=$(allowed "$layer")
	if [ "$ok" = "?" ]; then
		echo "src/$layer: a layer the rules do not know (add it to tests/lint/layers.sh and docs/architecture.md)"
		bad=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		[ -e "$f" ] || continue
		n=0
		while IFS= read -r line; do
			n=$((n + 1))
			case $line in
			'#include "'*) ;;
			*) continue ;;
			esac
			hdr=${line#'#include "'}
			hdr=${hdr%%'"'*}
			where="src/$layer/$(basename "$f"):$n"
			case $hdr in
			../* | ./*)
				echo "$where: \"$hdr\": include by the path under src/ (e.g. \"lib/buf.h\")"
				bad=1
				continue
				;;
			*/*) ;;
			*)
				echo "$where: \"$hdr\": include by the path under src/ (\"$layer/$hdr\")"
				bad=1
				continue
				;;
			esac
			to=${hdr%%/*}
			if [ "$to" != "$layer" ] && ! [[ " $ok " == *" $to "* ]]; then
				echo "$where: \"$hdr\": $layer may not include $to (may use: ${ok:-nothing})"
				bad=1
			fi
			[ -e "$src/$hdr" ] || {
				echo "$where: \"$hdr\": no such header under src/"
				bad=1
			}
		done <"$f"
	done
done
[ $bad -eq 0 ] && echo "layers: every include follows the rules"
exit $bad
