#!/usr/bin/env bash
# The main job on the example policy: check it, compile every target into out/,
# and show the resolved flow matrix.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dir=$(bash scripts/build.sh)
"$dir/netpolc" check policy/homelab.npol
"$dir/netpolc" compile policy/homelab.npol -o out
echo
"$dir/netpolc" matrix policy/homelab.npol
echo
echo "Files in out/:"
find out -type f | sort
