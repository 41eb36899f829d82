#!/usr/bin/env bash
# docs/examples/pre-commit checks what is staged. Usage: precommit_test.sh NETPOLC SOURCE_DIR
set -u
netpolc=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
passed=0 failed=0
expect() {  # expect NAME WANT_EXIT
  local got=$?
  if [ "$got" -eq "$2" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1: exit $got, expected $2"; fi
}
cd "$work" && git init -q repo && cd repo || exit 2
git config user.email t@example.test && git config user.name test
mkdir policy && cp "$src"/policy/*.npol policy/
hook="$src/docs/examples/pre-commit"
git add policy
NETPOLC="$netpolc" sh "$hook" >/dev/null 2>&1
expect "a clean policy passes" 0
echo 'allow vm-extranet -> vm-intranet : postgres' >>policy/flows.npol
git add policy
NETPOLC="$netpolc" sh "$hook" >/dev/null 2>&1
expect "a staged invariant break is refused" 1
git checkout -q HEAD -- policy 2>/dev/null || git reset -q policy && git checkout -q -- policy 2>/dev/null
git rm -q --cached -r policy >/dev/null 2>&1; cp "$src"/policy/*.npol policy/ && git add policy
echo 'allow vm-extranet -> vm-intranet : postgres' >>policy/flows.npol   # unstaged: not what is committed
NETPOLC="$netpolc" sh "$hook" >/dev/null 2>&1
expect "only the staged policy counts" 0
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
