#!/bin/bash
# verifier/netverify/netverify_cli_test.sh - netverify's command-line contract: --help, usage errors
# and refusals exit 2 with a message, before anything touches the network.
#   usage: netverify_cli_test.sh NETVERIFY REPO          Ends with "N passed, M failed".
set -u
NETVERIFY=$1
REPO=$2
PASSED=0
FAILED=0
check() { # DESCRIPTION WANT_EXIT WANT_TEXT CMD... : exit code and a piece of stdout+stderr
    local what=$1 want=$2 text=$3 out rc
    shift 3
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ] && grep -qF -- "$text" <<<"$out"; then PASSED=$((PASSED + 1)); echo "PASS: $what"
    else FAILED=$((FAILED + 1)); echo "FAIL: $what: exit $rc (want $want), output: $(head -3 <<<"$out")"; fi
}
ours() { ip netns list | grep -E '^nv-(lab|probe)-' | sort; }  # other tests may run beside this one
before=$(ours)

check "--help exits 0 and names the commands" 0 "netverify lab POLICY" "$NETVERIFY" --help
check "lab --help lists --keep and --reject" 0 "--reject" "$NETVERIFY" lab --help
check "no policy is a usage error" 2 "Usage" "$NETVERIFY"
check "an unknown option is a usage error" 2 "--frobnicate" "$NETVERIFY" --frobnicate "$REPO/policy/lab.npol"
check "a missing policy file is a usage error" 2 "does not exist" "$NETVERIFY" /nonexistent/policy.npol
check "--ports refuses port 0" 2 "outside 1-65535" "$NETVERIFY" --ports tcp/0 "$REPO/policy/lab.npol"
check "--reject takes tcp-reset or icmp only" 2 "--reject" "$NETVERIFY" lab --reject maybe "$REPO/policy/lab.npol"
check "--gateway needs ZONE=ADDRESS" 2 "ZONE=ADDRESS" "$NETVERIFY" --gateway lan "$REPO/policy/lab.npol"
check "--from names a zone of the policy" 2 "no such zone" "$NETVERIFY" --from nowhere "$REPO/policy/lab.npol"
# The lab only ever uses test addresses: the homelab's real addressing is refused before anything is made.
check "the lab refuses addresses outside 198.18.0.0/15" 2 "outside 198.18.0.0/15" "$NETVERIFY" lab "$REPO/policy/homelab.npol"
bad=$(mktemp /tmp/nv-cli-XXXXXX.npol)
printf 'zone lan { bridge vmbr0 }\nallow lan -> nowhere : tcp/22\n' >"$bad"
check "a policy with errors is refused with file:line:col" 2 "$(basename "$bad"):2:" "$NETVERIFY" lab "$bad"
rm -f "$bad"
[ "$(ours)" = "$before" ] && { PASSED=$((PASSED + 1)); echo "PASS: no namespace was made"; } \
    || { FAILED=$((FAILED + 1)); echo "FAIL: the namespaces changed"; }
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
