#!/usr/bin/env bash
# Installs the node packages of verifier/lint/sarif/ (package-lock.json, `npm ci`) into DIR/node_modules,
# outside the source tree; does nothing when DIR already holds this lock file's install.
#   bash verifier/lint/sarif/install.sh DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:?usage: install.sh DIR}"
command -v node >/dev/null && command -v npm >/dev/null || { echo "install.sh: node and npm are needed"; exit 1; }
mkdir -p "$dir"
stamp="$dir/.installed-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ -d "$dir/node_modules/ajv-draft-04" ]; then
    echo "node packages up to date in $dir"
    exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
(cd "$dir" && timeout 240 npm ci --no-audit --no-fund --loglevel=error)
cp "$here/package-lock.json" "$stamp"
echo "node packages installed in $dir"
