#!/bin/bash
# verifier/netverify/lab/netverify_lab_test.sh - `netverify lab` on the homelab's flows with lab
# addressing (policy/lab.npol), as ctest runs it: one CASE per ctest entry.
#
#   usage: netverify_lab_test.sh NETVERIFY REPO CASE
#   CASE:  clean         exit 0, every cell proven both ways, none inconclusive
#          ufw-5432      an extra ufw rule opens 5432 on vm-intranet        -> exit 1, names the flow
#          pve-rule      a Proxmox group rule removed (extranet -> 8096)    -> exit 1, names the flow
#          vpn-route     the pushed VPN route widened to 198.18.0.0/15      -> exit 1, names the route
#          reject-tcp    every firewall rejects (TCP resets) instead of dropping -> still exit 0
#          reject-icmp   the node rejects with ICMP admin-prohibited             -> still exit 0
#          sigint        SIGINT half-way                                    -> exit 130, nothing left
#          node          netverify on the lab's node (probe namespaces, tap capture)  -> no violation
# After every case: no namespace, link or process of netverify's is left, and the root namespace's
# firewall, links and routes are what they were. Ends with "N passed, M failed".
set -u
NETVERIFY=$1
REPO=$2
CASE=$3
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: needs root (network namespaces)"
    echo "0 passed, 0 failed"
    exit 0
fi
WORK=$(mktemp -d /tmp/nv-labtest-XXXXXX)
chmod 755 "$WORK"
root_state() { # what a lab must never change in the root namespace
    { iptables-save 2>/dev/null | grep -v '^#'; nft list ruleset 2>/dev/null; ip -o link show | sed 's/ state .*//'; ip route; } | sha256sum
}
BEFORE=$(root_state)
cleanup() {
    [ -n "${PID:-}" ] && kill -KILL "$PID" 2>/dev/null
    "$NETVERIFY" lab down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# An editing program for --edit-compiled: CASE-specific, run as PROGRAM OUTDIR.
EDIT="$WORK/edit.sh"
case "$CASE" in
ufw-5432)
    cat >"$EDIT" <<'EOF'
#!/bin/bash
# An admin's "quick fix" on vm-intranet: ufw allow 5432/tcp, as ufw itself writes it in user.rules.
f="$1/ufw/vm-intranet.rules"
sed -i 's/^### END RULES ###$/### tuple ### allow tcp 5432 0.0.0.0\/0 any 0.0.0.0\/0 in\n-A ufw-user-input -p tcp --dport 5432 -j ACCEPT\n\n### END RULES ###/' "$f"
grep -q -- '--dport 5432 -j ACCEPT' "$f"
EOF
    ;;
pve-rule)
    cat >"$EDIT" <<'EOF'
#!/bin/bash
# The group rule that lets the extranet reach the backends' ports on vm-intranet, deleted.
f="$1/proxmox/cluster.fw"
grep -q '^IN ACCEPT -source +dc/extranet -p tcp -dport 2283,3001,8096,9090' "$f" || exit 1
sed -i '/^IN ACCEPT -source +dc\/extranet -p tcp -dport 2283,3001,8096,9090/d' "$f"
EOF
    ;;
vpn-route)
    cat >"$EDIT" <<'EOF'
#!/bin/bash
# The pushed route widened from the extranet to the whole lab range.
f="$1/openvpn/server.conf"
grep -q '^push "route 198.18.10.0 255.255.255.0"' "$f" || exit 1
sed -i 's/^push "route 198.18.10.0 255.255.255.0"/push "route 198.18.0.0 255.254.0.0"/' "$f"
EOF
    ;;
*) printf '#!/bin/bash\nexit 0\n' >"$EDIT" ;;
esac
chmod 755 "$EDIT"

run_lab() { # extra args... ; sets RC, writes $WORK/out.txt, $WORK/err.txt, $WORK/result.json
    "$NETVERIFY" lab "$REPO/policy/lab.npol" --colour never --json "$WORK/result.json" \
        --junit "$WORK/result.xml" --metrics "$WORK/result.prom" --edit-compiled "$EDIT" "$@" \
        >"$WORK/out.txt" 2>"$WORK/err.txt"
    RC=$?
}
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$WORK/result.json')); print($1)"; }
expect_violation() { # SOURCE DEST_PORT_PROTO LAYER : a violation line naming the flow
    if grep -q "^  !! $1 -> $2:.*layer: $3" "$WORK/out.txt"; then pass "the report names $1 -> $2 ($3)"
    else fail "no violation $1 -> $2 in layer $3"; sed -n '/^VIOLATIONS/,/^$/p' "$WORK/out.txt" | head -20; fi
}
proven_both_ways() {
    [ "$RC" -eq 0 ] && pass "exit 0" || { fail "exit $RC, want 0"; sed -n '1,40p' "$WORK/out.txt"; tail -5 "$WORK/err.txt"; }
    [ "$(json "d['summary']['inconclusive']")" = 0 ] && pass "no inconclusive cell" || fail "inconclusive cells remain"
    [ "$(json "d['summary']['violations']")" = 0 ] && pass "no violation" || fail "violations"
    local delivered blocked
    delivered=$(json "sum(1 for c in d['cells'] if c['expected_allowed'] and c['observed']=='delivered')")
    blocked=$(json "sum(1 for c in d['cells'] if not c['expected_allowed'] and c['observed']=='blocked')")
    [ "$delivered" -gt 40 ] && pass "$delivered allowed cells delivered" || fail "only $delivered allowed cells delivered"
    [ "$blocked" -gt 1000 ] && pass "$blocked forbidden cells blocked" || fail "only $blocked forbidden cells blocked"
    # Every allowed row of the matrix is probed somewhere and delivered: the proof goes both ways.
    for flow in "lan vm-extranet 443 tcp" "lan vm-extranet 1194 udp" "internet vm-extranet 1194 udp" \
                "extranet vm-intranet 8096 tcp" "intranet vm-extranet 53 udp" "vm-intranet vm-extranet 9100 tcp" \
                "vm-intranet internet 65535 udp" "lan pve 8006 tcp" "vpn vm-extranet 443 tcp"; do
        set -- $flow
        got=$(json "[c['observed'] for c in d['cells'] if c['layer']=='all' and c['via']=='' and c['source']=='$1' and c['destination']=='$2' and c['port']==$3 and c['proto']=='$4']")
        [ "$got" = "['delivered']" ] && pass "$1 -> $2:$3/$4 delivered" || fail "$1 -> $2:$3/$4: $got"
    done
    got=$(json "sorted((c['via'], c['observed']) for c in d['cells'] if c['via'].startswith('proxy') and c['source']=='vpn')")
    [ "$got" = "[('proxy grafana.home.arpa', 'blocked'), ('proxy jellyfin.home.arpa', 'delivered'), ('proxy photos.home.arpa', 'delivered')]" ] \
        && pass "through the proxy the VPN client reaches jellyfin and photos, not grafana (LAN only)" || fail "vpn via proxy: $got"
    /usr/bin/python3 -c "import xml.dom.minidom as m; m.parse('$WORK/result.xml')" && pass "JUnit parses" || fail "JUnit"
    grep -q '^netverify_violations 0$' "$WORK/result.prom" && pass "metrics: 0 violations" || fail "metrics"
}

case "$CASE" in
clean)
    run_lab
    proven_both_ways
    grep -Eq '^[0-9]+ cells: .* [0-9]+ probes in [0-9.]+ s \([0-9]+/s\)' "$WORK/out.txt" \
        && pass "the report gives the probe count, time and rate: $(grep -Eo '[0-9]+ probes in .*' "$WORK/out.txt")" \
        || fail "no probe count/time/rate line"
    ;;
ufw-5432)
    run_lab
    [ "$RC" -eq 1 ] && pass "exit 1" || fail "exit $RC, want 1"
    # Proxmox still drops 5432 end to end; the VM's own firewall alone lets it in.
    expect_violation lan "vm-intranet:5432/tcp" "vm firewalls alone"
    ;;
pve-rule)
    run_lab
    [ "$RC" -eq 1 ] && pass "exit 1" || fail "exit $RC, want 1"
    expect_violation extranet "vm-intranet:8096/tcp" "all"
    expect_violation extranet "vm-intranet:8096/tcp" "node firewall alone"
    ;;
vpn-route)
    run_lab
    [ "$RC" -eq 1 ] && pass "exit 1" || fail "exit $RC, want 1"
    expect_violation vpn "route 198.18.0.0/15" "all"
    ;;
reject-tcp | reject-icmp)
    mode=$([ "$CASE" = reject-tcp ] && echo tcp-reset || echo icmp)
    run_lab --reject "$mode"
    proven_both_ways
    # The forbidden cells really were answered by a firewall, and still count as blocked.
    want=$([ "$CASE" = reject-tcp ] && echo "TCP reset" || echo "ICMP unreachable")
    n=$(json "sum(1 for c in d['cells'] if not c['expected_allowed'] and c['observed']=='blocked' and c['evidence'].startswith('$want'))")
    # Linux rate-limits ICMP errors, so most ICMP rejects never arrive: those cells are blocked anyway.
    least=$([ "$CASE" = reject-tcp ] && echo 100 || echo 10)
    [ "$n" -ge "$least" ] && pass "$n forbidden cells answered with $want, all blocked" || fail "only $n cells with $want"
    ;;
sigint)
    "$NETVERIFY" lab "$REPO/policy/lab.npol" --colour never >"$WORK/out.txt" 2>"$WORK/err.txt" &
    PID=$!
    for _ in $(seq 1 300); do grep -q "applying the compiled targets" "$WORK/err.txt" && break; sleep 0.1; done
    sleep 1
    kill -INT "$PID"
    for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    wait "$PID"
    RC=$?
    PID=
    [ "$RC" -eq 130 ] && pass "SIGINT: exit 130" || { fail "SIGINT: exit $RC, want 130"; tail -5 "$WORK/err.txt"; }
    grep -q "interrupted" "$WORK/err.txt" && pass "it says it was interrupted" || fail "no word of the interruption"
    ;;
node)
    # netverify on a node: the lab's node, left up without its listeners and probe namespaces,
    # probed the way a real node is (its own probe namespaces, a capture on every VM's tap).
    run_lab --keep --no-layers --workdir "$WORK/lab"
    [ "$RC" -eq 0 ] && pass "the lab is up" || fail "lab --keep: exit $RC"
    for ns in $(ip netns list | awk '{print $1}' | grep '^nv-lab-probe-'); do ip netns del "$ns"; done
    ip netns exec nv-lab-pve "$NETVERIFY" "$REPO/policy/lab.npol" --colour never --json "$WORK/result.json" \
        --gateway lan=198.18.1.1 --gateway intranet=198.18.1.1 --gateway extranet=198.18.10.1 >"$WORK/out.txt" 2>"$WORK/err.txt"
    RC=$?
    # Nothing listens on the node itself any more: a reset there proves nothing (inconclusive, exit 3).
    { [ "$RC" -eq 0 ] || [ "$RC" -eq 3 ]; } && pass "node run: exit $RC (0 or 3)" || { fail "node run: exit $RC"; tail -5 "$WORK/err.txt"; }
    [ "$(json "d['summary']['violations']")" = 0 ] && pass "node run: no violation" || fail "node run: violations"
    got=$(json "sorted(set(c['observed'] for c in d['cells'] if c['destination'].startswith('vm-') and not (c['observed'] in ('delivered','nothing-listening') if c['expected_allowed'] else c['observed']=='blocked')))")
    [ "$got" = "[]" ] && pass "node run: every cell into a VM proven" || fail "node run: VM cells not proven: $got"
    n=$(json "sum(1 for c in d['cells'] if 'VM' in c['evidence'] and 'NIC' in c['evidence'])")
    [ "$n" -gt 0 ] && pass "node run: $n verdicts from the capture on the VMs' taps" || fail "no verdict from the tap capture"
    [ -z "$(ip -n nv-lab-pve -o link show | grep -E ': nv-p[0-9]')" ] && pass "node run: its probe links are gone" \
        || fail "node run left probe links"
    "$NETVERIFY" lab down >/dev/null
    ;;
*) fail "unknown case $CASE" ;;
esac

# Nothing of netverify's is left: namespaces, links, processes (nginx, openvpn, listeners).
left=$(ip netns list | grep -E '^nv-(lab|probe)-' || true)
[ -z "$left" ] && pass "no namespace left" || fail "namespaces left: $left"
left=$(ip -o link show | grep -E ': (nv-|tap[0-9]+i)' || true)
[ -z "$left" ] && pass "no link left in the root namespace" || fail "links left: $left"
left=$(pgrep -f "nv-lab-" || true)
[ -z "$left" ] && pass "no process left" || fail "processes left: $left"
[ "$(root_state)" = "$BEFORE" ] && pass "the root namespace's firewall, links and routes are unchanged" \
    || fail "the root namespace changed"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
