#!/bin/bash
# netpolc audit --compose through the real binary: exit codes and what it prints.
# Usage: compose_cli_test.sh NETPOLC SOURCE_DIR
set -u
netpolc=$1
cd "$2" || exit 1
failed=0
expect() {  # expect STATUS PATTERN -- ARGS...: exit status STATUS and PATTERN (grep -E) in stdout+stderr
  local want=$1 pattern=$2
  shift 3
  local out status
  out=$("$netpolc" "$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL: netpolc $* -> exit $status (want $want), output:"
    echo "$out"
    failed=$((failed + 1))
  else
    echo "ok: netpolc $*"
  fi
}
expect 0 'vm-extranet: policy/compose/vm-extranet.yml \(3 services\)' -- audit policy/homelab.npol --compose --werror
expect 0 '"verdict": "local"' -- audit policy/homelab.npol --format json --compose policy/compose/vm-intranet.yml
expect 1 'testdata/exposed.yml:7:9: error\[E902\]' -- audit policy/homelab.npol --compose vm-intranet=verifier/compose/testdata/exposed.yml
expect 1 '"ruleId": "W904"' -- audit policy/homelab.npol --format sarif --compose vm-intranet=verifier/compose/testdata/exposed.yml
expect 2 'bad.yml:5:3: error\[E900\]: not valid YAML' -- audit policy/homelab.npol --compose vm-intranet=verifier/compose/testdata/bad.yml
expect 2 'cannot read the compose file nope.yml' -- audit policy/homelab.npol --compose vm-intranet=nope.yml
expect 2 'several declare docker' -- audit policy/homelab.npol --compose verifier/compose/testdata/exposed.yml
echo "$failed failed"
[ "$failed" -eq 0 ]
