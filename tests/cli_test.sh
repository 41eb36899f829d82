#!/usr/bin/env bash
# The command-line contract of netpolc: help, version, exit codes, deterministic
# and atomic output. Usage: cli_test.sh NETPOLC SOURCE_DIR
set -u
netpolc=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
passed=0 failed=0

check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2
  shift 2
  "$@" >"$work/stdout" 2>"$work/stderr"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: exit $got, expected $want"
    sed 's/^/  stderr: /' "$work/stderr" | head -5
  fi
}

expect_text() {  # expect_text NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1: no '$3' in $2"; fi
}

check "version" 0 "$netpolc" --version
expect_text "version text" "$work/stdout" "netpolc 0."
check "help" 0 "$netpolc" --help
expect_text "help lists compile" "$work/stdout" "compile"
for sub in check compile matrix; do
  check "$sub --help" 0 "$netpolc" "$sub" --help
  expect_text "$sub --help usage" "$work/stdout" "Usage:"
done
check "no subcommand" 2 "$netpolc"
check "unknown option" 2 "$netpolc" check --frobnicate "$src/policy/homelab.npol"
check "missing policy file" 2 "$netpolc" check "$work/nope.npol"
expect_text "missing file named" "$work/stderr" "nope.npol"

check "homelab checks" 0 "$netpolc" check "$src/policy/homelab.npol"
check "lab checks" 0 "$netpolc" check "$src/policy/lab.npol"
check "colour after the subcommand" 0 "$netpolc" check --color never "$src/policy/homelab.npol"

printf 'zone lan\nallow lan -> wan : tcp/80\n' >"$work/bad.npol"
check "policy errors exit 1" 1 "$netpolc" check --color never "$work/bad.npol"
expect_text "error format" "$work/stderr" "bad.npol:2:14: error[E200]: unknown zone or host 'wan'"
expect_text "caret line" "$work/stderr" "      |              ^~~"

# Deterministic output: two compiles, byte for byte.
check "compile 1" 0 "$netpolc" compile "$src/policy/homelab.npol" -o "$work/out1"
check "compile 2" 0 "$netpolc" compile "$src/policy/homelab.npol" -o "$work/out2"
if diff -r "$work/out1" "$work/out2" >/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: outputs differ"; fi
check "recompile in place" 0 "$netpolc" compile "$src/policy/homelab.npol" -o "$work/out1"
if diff -r "$work/out1" "$work/out2" >/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: recompiled output differs"; fi

# Nothing half-written: a failing compile leaves the previous output as it was.
cp -r "$work/out1" "$work/before"
check "failing compile" 1 "$netpolc" compile "$work/bad.npol" -o "$work/out1"
if diff -r "$work/out1" "$work/before" >/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: a failed compile changed the output"; fi
mkdir "$work/precious" && echo keep >"$work/precious/file"
check "foreign directory refused" 2 "$netpolc" compile "$src/policy/homelab.npol" -o "$work/precious"
expect_text "refusal says why" "$work/stderr" "not a netpolc output directory"
expect_text "foreign directory kept" "$work/precious/file" "keep"
check "missing parent refused" 2 "$netpolc" compile "$src/policy/homelab.npol" -o "$work/no/such/out"
leftovers=$(find "$work" -maxdepth 1 -name '.*tmp-*' | wc -l)
if [ "$leftovers" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: temporary directories left behind"; fi

# Drift: the compiled files against the policy are clean; an edited deployed file is not.
check "drift clean" 0 "$netpolc" drift "$src/policy/homelab.npol" --proxmox "$work/out1/proxmox" --ufw "$work/out1/ufw"
expect_text "drift says none" "$work/stdout" "no drift"
cp -r "$work/out1/proxmox" "$work/deployed"
sed -i 's/^IN ACCEPT -source +dc\/lan -p tcp -dport 22 /IN ACCEPT -source +dc\/lan -p tcp -dport 22,5432 /' "$work/deployed/cluster.fw"
check "drift found" 1 "$netpolc" drift "$src/policy/homelab.npol" --proxmox "$work/deployed"
expect_text "drift names the flow" "$work/stdout" "tcp/5432"
check "drift needs a target" 2 "$netpolc" drift "$src/policy/homelab.npol"

# Lint findings, --werror and machine formats.
printf 'zone lan\nzone dmz\naddress lan 198.18.1.0/24\naddress dmz 198.18.2.0/24\nallow lan -> dmz : tcp/80\nallow lan -> dmz : tcp/80\n' >"$work/shadow.npol"
check "a shadowed rule is a warning" 0 "$netpolc" check --color never "$work/shadow.npol"
expect_text "shadowed rule named" "$work/stderr" "warning[W800]"
check "--werror fails on it" 1 "$netpolc" check --werror "$work/shadow.npol"
check "sarif" 0 "$netpolc" check --format sarif "$work/shadow.npol"
expect_text "sarif version" "$work/stdout" '"version": "2.1.0"'
check "json" 1 "$netpolc" check --format json "$work/bad.npol"
expect_text "json names the code" "$work/stdout" "E200"
check "homelab passes with --werror" 0 "$netpolc" check --werror "$src/policy/homelab.npol"

# Explain: 0 allowed, 1 denied, 2 unknown names.
check "explain allowed" 0 "$netpolc" explain "$src/policy/homelab.npol" lan vm-extranet 443/tcp
expect_text "explain quotes the Proxmox line" "$work/stdout" "IN ACCEPT -source +dc/lan"
check "explain denied" 1 "$netpolc" explain "$src/policy/homelab.npol" vm-extranet vm-intranet 5432/tcp
check "explain unknown" 2 "$netpolc" explain "$src/policy/homelab.npol" lan vm-extranett 443/tcp
expect_text "explain suggests" "$work/stderr" "did you mean 'vm-extranet'"

# Audit and diff.
check "audit" 0 "$netpolc" audit "$src/policy/homelab.npol"
expect_text "audit starts with the internet" "$work/stdout" "internet (zone, catch-all"
check "audit json" 0 "$netpolc" audit --format json "$src/policy/homelab.npol"
check "diff of a policy with itself" 0 "$netpolc" diff --fail-on-new-exposure "$src/policy/homelab.npol" "$src/policy/homelab.npol"
mkdir -p "$work/pr"
cp "$src/policy/"*.npol "$work/pr/"
echo 'allow vm-extranet -> vm-intranet : tcp/6379' >>"$work/pr/flows.npol"
check "diff finds new exposure" 1 "$netpolc" diff --fail-on-new-exposure "$src/policy/homelab.npol" "$work/pr/homelab.npol"
expect_text "diff names the port" "$work/stdout" "6379"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
