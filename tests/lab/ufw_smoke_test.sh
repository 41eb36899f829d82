#!/bin/bash
# tests/lab/ufw_smoke_test.sh - proves the netns lab can drive the REAL ufw safely.
#
#   client (198.18.99.2/24, veth-c) <--veth--> server (198.18.99.1/24, veth-s)
#   server: listeners on 8096 and 5432; ufw: default deny incoming,
#           allow from 198.18.99.2 to any port 8096 proto tcp
#
# Assertions:
#   1. client -> server:8096 connects        (ufw CLI path: default/allow/enable)
#   2. client -> server:5432 times out       (default DROP)
#   3. hand-written user.rules/user6.rules + `ufw reload` (fresh scratch config) give the same
#      `ufw status verbose` and the same live iptables/ip6tables rules as the CLI path
#   4. the root namespace (firewall, links, routes, sysctls, /etc/ufw) is unchanged
#
# Env: LAB_IPT_BACKEND=nft|legacy (default nft); LAB_SMOKE_PAUSE=N sleeps N s midway (with the
# firewall and listeners live) so interrupt handling can be tested. Skips (exit 0) when not root.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: ufw_smoke_test needs root (network namespaces, iptables)"
    echo "0 passed, 0 failed"
    exit 0
fi

# shellcheck source=netns.sh
. "$HERE/netns.sh"

PASSED=0
FAILED=0
SRV_IP=198.18.99.1
CLI_IP=198.18.99.2
PROBE_TIMEOUT=2

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
abort() { # setup error: not an assertion outcome, but the run must fail
    echo "FAIL (setup): $*"
    FAILED=$((FAILED + 1))
    finish
}

lab_on_interrupt() { # called by netns.sh after cleanup when a signal stops the run
    echo "FAIL: interrupted by SIG$1 (lab cleaned up)"
    echo "$PASSED passed, $((FAILED + 1)) failed"
}

for tool in ip ufw iptables ip6tables unshare timeout ss sha256sum /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || abort "missing '$tool' (apt-get install -y ufw iptables iproute2)"
done

HOST_FP_BEFORE="$(lab_host_fingerprint)" || abort "cannot fingerprint root namespace"

# ---- topology -----------------------------------------------------------------------------
lab_ns_add cli || abort "lab_ns_add cli"
lab_ns_add srv || abort "lab_ns_add srv"
lab_link cli veth-c "$CLI_IP/24" srv veth-s "$SRV_IP/24" || abort "lab_link"
lab_listen srv "$SRV_IP" 8096 || abort "listener 8096"
lab_listen srv "$SRV_IP" 5432 || abort "listener 5432"

# Precondition: without a firewall both ports connect, so a later timeout is ufw's doing.
for port in 8096 5432; do
    r="$(lab_probe_tcp cli "$SRV_IP" "$port" "$PROBE_TIMEOUT")"
    [ "$r" = connected ] || abort "before ufw, $SRV_IP:$port gave '$r' (want connected)"
done

# ---- path A: ufw CLI ----------------------------------------------------------------------
UFW_A="$(lab_ufw_prepare a)" || abort "lab_ufw_prepare a"
ufw_a() { lab_ufw_ns srv "$UFW_A" "$@"; }
ufw_a ufw default deny incoming >/dev/null || abort "ufw default deny incoming"
ufw_a ufw allow from "$CLI_IP" to any port 8096 proto tcp >/dev/null || abort "ufw allow"
ufw_a ufw --force enable >/dev/null || abort "ufw --force enable"
STATUS_A="$(ufw_a ufw status verbose)" || abort "ufw status verbose (A)"
grep -q '^Status: active' <<<"$STATUS_A" || abort "ufw not active after enable: $STATUS_A"

r="$(lab_probe_tcp cli "$SRV_IP" 8096 "$PROBE_TIMEOUT")"
if [ "$r" = connected ]; then pass "8096 from $CLI_IP connects"; else fail "8096 from $CLI_IP: '$r' (want connected)"; fi
r="$(lab_probe_tcp cli "$SRV_IP" 5432 "$PROBE_TIMEOUT")"
if [ "$r" = timeout ]; then pass "5432 times out (default deny)"; else fail "5432: '$r' (want timeout)"; fi

if [ -n "${LAB_SMOKE_PAUSE:-}" ]; then
    echo "pausing ${LAB_SMOKE_PAUSE}s (LAB_SMOKE_PAUSE) with firewall and listeners live"
    lab_exec srv sleep "$LAB_SMOKE_PAUSE" &
    wait $!
fi

# ufw quirk: the first `enable` loads the pristine user6.rules (no ufw6-user-limit chains), then
# rewrites the file and only live-adds the LOG line, so ufw6-user-limit lacks its REJECT (and
# ufw6-user-limit-accept its ACCEPT) until the next reload. Take the reference after a reload.
ufw_a ufw reload >/dev/null || abort "ufw reload (A)"
RULES_A="$(lab_ipt srv iptables -S; lab_ipt srv ip6tables -S)" || abort "iptables -S (A)"

# ---- path B: write user.rules / user6.rules, ufw reload ------------------------------------
UFW_B="$(lab_ufw_prepare b)" || abort "lab_ufw_prepare b"

# emit_user_rules 4|6 TUPLE-AND-BODY-LINES : the exact layout ufw 0.36.2 writes (LOGLEVEL=low)
emit_user_rules() {
    local p=ufw c
    [ "$1" = 6 ] && p=ufw6
    echo '*filter'
    for c in user-input user-output user-forward before-logging-input before-logging-output \
        before-logging-forward user-logging-input user-logging-output user-logging-forward \
        after-logging-input after-logging-output after-logging-forward logging-deny logging-allow \
        user-limit user-limit-accept; do
        echo ":$p-$c - [0:0]"
    done
    echo '### RULES ###'
    printf '%s' "$2"
    echo
    echo '### END RULES ###'
    echo
    echo '### LOGGING ###'
    echo "-A $p-after-logging-input -j LOG --log-prefix \"[UFW BLOCK] \" -m limit --limit 3/min --limit-burst 10"
    echo "-A $p-after-logging-forward -j LOG --log-prefix \"[UFW BLOCK] \" -m limit --limit 3/min --limit-burst 10"
    echo "-I $p-logging-deny -m conntrack --ctstate INVALID -j RETURN -m limit --limit 3/min --limit-burst 10"
    echo "-A $p-logging-deny -j LOG --log-prefix \"[UFW BLOCK] \" -m limit --limit 3/min --limit-burst 10"
    echo "-A $p-logging-allow -j LOG --log-prefix \"[UFW ALLOW] \" -m limit --limit 3/min --limit-burst 10"
    echo '### END LOGGING ###'
    echo
    echo '### RATE LIMITING ###'
    echo "-A $p-user-limit -m limit --limit 3/minute -j LOG --log-prefix \"[UFW LIMIT BLOCK] \""
    echo "-A $p-user-limit -j REJECT"
    echo "-A $p-user-limit-accept -j ACCEPT"
    echo '### END RATE LIMITING ###'
    echo 'COMMIT'
}
install_file() { # SRC-CONTENT-ON-STDIN DEST : temp file in the same dir, then rename()
    local tmp
    tmp="$(mktemp "$(dirname "$2")/.tmp.XXXXXX")" || return 1
    cat >"$tmp" && chmod 640 "$tmp" && mv -f "$tmp" "$2"
}
RULES4="
### tuple ### allow tcp 8096 0.0.0.0/0 any $CLI_IP in
-A ufw-user-input -p tcp --dport 8096 -s $CLI_IP -j ACCEPT
"
emit_user_rules 4 "$RULES4" | install_file - "$UFW_B/etc-ufw/user.rules" || abort "write user.rules"
emit_user_rules 6 "" | install_file - "$UFW_B/etc-ufw/user6.rules" || abort "write user6.rules"
sed -i 's/^ENABLED=.*/ENABLED=yes/' "$UFW_B/etc-ufw/ufw.conf"
sed -i 's/^DEFAULT_INPUT_POLICY=.*/DEFAULT_INPUT_POLICY="DROP"/' "$UFW_B/default-ufw"

# Informational: does our hand-written file match what ufw itself wrote?
if ! diff -u "$UFW_A/etc-ufw/user.rules" "$UFW_B/etc-ufw/user.rules" >/dev/null ||
    ! diff -u "$UFW_A/etc-ufw/user6.rules" "$UFW_B/etc-ufw/user6.rules" >/dev/null; then
    echo "note: hand-written user rules differ from ufw's own output:"
    diff -u "$UFW_A/etc-ufw/user.rules" "$UFW_B/etc-ufw/user.rules"
    diff -u "$UFW_A/etc-ufw/user6.rules" "$UFW_B/etc-ufw/user6.rules"
fi

# Wipe the live ruleset first so path B cannot inherit anything from path A.
lab_ipt srv iptables -F && lab_ipt srv iptables -X && lab_ipt srv iptables -P INPUT ACCEPT &&
    lab_ipt srv ip6tables -F && lab_ipt srv ip6tables -X && lab_ipt srv ip6tables -P INPUT ACCEPT ||
    abort "flush live rules before reload"
RELOAD_OUT="$(lab_ufw_ns srv "$UFW_B" ufw reload 2>&1)" || abort "ufw reload: $RELOAD_OUT"
case "$RELOAD_OUT" in *Problem* | *ERROR*) abort "ufw reload complained: $RELOAD_OUT" ;; esac
STATUS_B="$(lab_ufw_ns srv "$UFW_B" ufw status verbose)" || abort "ufw status verbose (B)"
RULES_B="$(lab_ipt srv iptables -S; lab_ipt srv ip6tables -S)" || abort "iptables -S (B)"

if ! grep -q -- "-A ufw-user-input -s $CLI_IP/32 -p tcp -m tcp --dport 8096 -j ACCEPT" <<<"$RULES_B"; then
    fail "after reload the live ufw-user-input chain lacks the 8096 rule"
    printf '%s\n' "$RULES_B" | grep -- '-A ufw-user-input' | sed 's/^/  rules: /'
elif [ "$STATUS_A" = "$STATUS_B" ] && [ "$RULES_A" = "$RULES_B" ]; then
    pass "user.rules + ufw reload: same 'ufw status verbose' and live rules as the CLI path"
else
    fail "user.rules + ufw reload differs from the CLI path"
    diff -u <(echo "$STATUS_A") <(echo "$STATUS_B") | sed 's/^/  status: /'
    diff -u <(echo "$RULES_A") <(echo "$RULES_B") | sed 's/^/  rules: /'
fi

# ---- host untouched -------------------------------------------------------------------------
HOST_FP_AFTER="$(lab_host_fingerprint)"
if [ "$HOST_FP_BEFORE" = "$HOST_FP_AFTER" ]; then
    pass "root namespace firewall/links/routes/sysctls//etc/ufw unchanged"
else
    fail "root namespace state changed ($HOST_FP_BEFORE -> $HOST_FP_AFTER)"
fi

finish
