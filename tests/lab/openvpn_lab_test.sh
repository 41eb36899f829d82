#!/bin/bash
# tests/lab/openvpn_lab_test.sh - the REAL openvpn server and clients, with server.conf and ccd/
# compiled by netpolc, in network namespaces (tests/lab/netns.sh). Nothing in the root namespace.
#
#   usage: openvpn_lab_test.sh NETPOLC REPO      (ctest: openvpn_lab; skips when not root)
#
#   cli  198.19.0.2/30 ---- 198.19.0.1/30  gw  (home router: DNAT udp 198.19.0.1:1194 -> 198.18.10.10)
#   cl2  198.19.0.6/30 ---- 198.19.0.5/30   |  vmbr1 198.18.10.1/24, 2001:db8:0:10::1/64
#                                           |    +-- srv  198.18.10.10, 2001:db8:0:10::10 (vm-extranet:
#                                           |    |        openvpn server; listeners 443 and 22)
#                                           |    +-- ext  198.18.10.20 (the rest of the extranet; 443)
#                                           +-- lan0 198.18.1.1/24 -- intra 198.18.1.20 (vm-intranet; 8096)
#   Client outer addresses come from 198.19.0.0/16: the policies' catch-all `internet` zone.
#
# Phase 0: every golden server.conf (tests/golden/openvpn/) starts the real openvpn.
# Phase 1, tests/lab/openvpn_clients.npol (dual-stack pool, fixed clients): client `laptop` (a ccd
#   file) gets its fixed IPv4+IPv6 addresses and exactly the server's pushes plus its own
#   (198.18.1.20/32: only it may reach vm-intranet), and reaches vm-intranet:8096 and
#   [vm-extranet]:443; client `client1` (no ccd file) gets the first address of the emitted
#   ifconfig-pool, only the server's pushes, and cannot reach vm-intranet. With that policy's
#   ufw script for vm-extranet applied in srv, laptop's own flow passes, others do not.
# Phase 2, policy/lab.npol: client `client1` gets exactly the pushed routes (the extranet);
#   without a firewall every routed destination connects (OpenVPN only routes); then the VPN
#   host's ufw script out/ufw/vm-extranet.sh is applied in srv (lab_ufw_ns): vm-extranet:443 (a
#   VPN flow of the policy) connects, vm-extranet:22 and the extranet's other host:443 do not.
# Finally: the root namespace's firewall, links, routes and sysctls are unchanged.
#
# PKI: a throwaway CA made with easy-rsa (copied from /usr/share/easy-rsa; EC keys) and
# `openvpn --genkey tls-crypt`, given to netpolc as --openvpn-ca/-cert/-key/-tls-crypt.
# The compiled server.conf is used as is; only `--disable-dco --verb 3` are added on the
# command line. Ends with "N passed, M failed".
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NETPOLC="${1:-}"
REPO="${2:-$(cd "$HERE/../.." && pwd)}"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: openvpn_lab_test needs root (network namespaces, tun)"
    echo "0 passed, 0 failed"
    exit 0
fi

# shellcheck source=netns.sh
. "$HERE/netns.sh"

PASSED=0
FAILED=0
PROBE_TIMEOUT=2

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() { # DESCRIPTION GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
abort() { # setup error: not an assertion outcome, but the run must fail
    echo "FAIL (setup): $*"
    FAILED=$((FAILED + 1))
    finish
}
# shellcheck disable=SC2317  # called by netns.sh's signal trap
lab_on_interrupt() {
    echo "FAIL: interrupted by SIG$1 (lab cleaned up)"
    echo "$PASSED passed, $((FAILED + 1)) failed"
}

[ -x "$NETPOLC" ] || abort "usage: $0 NETPOLC REPO (netpolc '$NETPOLC' not executable)"
for tool in ip openvpn openssl unshare timeout ss sha256sum iptables-nft /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || abort "missing '$tool' (apt-get install -y openvpn easy-rsa openssl iproute2 iptables)"
done
[ -x /usr/share/easy-rsa/easyrsa ] || abort "missing /usr/share/easy-rsa (apt-get install -y easy-rsa)"
[ -c /dev/net/tun ] || abort "no /dev/net/tun"

HOST_FP_BEFORE="$(lab_host_fingerprint)" || abort "cannot fingerprint root namespace"
# The server drops to nobody and reads ccd/ at each connect: our scratch dir must be traversable.
chmod 711 "$LAB_DIR"

# ---- throwaway PKI --------------------------------------------------------------------------
PKI_DIR="$LAB_DIR/easyrsa"
cp -a /usr/share/easy-rsa "$PKI_DIR" || abort "copy easy-rsa"
(
    cd "$PKI_DIR" || exit 1
    export EASYRSA_BATCH=1 EASYRSA_ALGO=ec EASYRSA_CURVE=prime256v1
    ./easyrsa init-pki && EASYRSA_REQ_CN=TestCA ./easyrsa build-ca nopass || exit 1
    unset EASYRSA_REQ_CN  # else: "build-server-full does not support setting an external commonName"
    ./easyrsa build-server-full server nopass || exit 1
    for cn in client1 laptop; do ./easyrsa build-client-full "$cn" nopass || exit 1; done
    openvpn --genkey tls-crypt "$PKI_DIR/tc.key"
) >"$LAB_DIR/easyrsa.log" 2>&1 || abort "easy-rsa failed: $(tail -5 "$LAB_DIR/easyrsa.log")"
PKI="$PKI_DIR/pki"

compile() { # POLICY OUTDIR
    "$NETPOLC" compile "$1" -o "$2" --openvpn-ca "$PKI/ca.crt" --openvpn-cert "$PKI/issued/server.crt" \
        --openvpn-key "$PKI/private/server.key" --openvpn-tls-crypt "$PKI_DIR/tc.key" >"$LAB_DIR/compile.log" 2>&1 \
        || abort "netpolc compile $1: $(cat "$LAB_DIR/compile.log")"
    chmod -R a+rX "$2"
}

client_conf() { # CN REMOTE -> path of a client config for that certificate and server address
    local f="$LAB_DIR/client-$1-$2.conf"
    cat >"$f" <<EOF
client
dev tun
proto udp
remote $2 1194
nobind
remote-cert-tls server
ca $PKI/ca.crt
cert $PKI/issued/$1.crt
key $PKI/private/$1.key
tls-crypt $PKI_DIR/tc.key
connect-retry 1
EOF
    printf '%s\n' "$f"
}

# Started in the background inside a namespace and tracked; `timeout` caps its life.
OVPN_PIDS=()
start_openvpn() { # NS NAME ARGS... : waits for "Initialization Sequence Completed" (bounded)
    local ns=$1 name=$2 log="$LAB_DIR/openvpn-$2.log"
    shift 2
    : >"$log"
    ip netns exec "$(lab_ns "$ns")" timeout "$LAB_MAX_LIFETIME" openvpn "$@" --disable-dco --verb 3 \
        --log "$log" </dev/null >/dev/null 2>&1 {LAB_FD_OUT}>&- {LAB_FD_ERR}>&- &
    OVPN_PIDS+=("$!")
    lab_track_pid "$!"
    if ! lab_wait_until 150 0.1 grep -q "Initialization Sequence Completed" "$log"; then
        echo "---- $log"; tail -20 "$log"
        return 1
    fi
}
stop_openvpn() { # every openvpn of ours, by pid; bounded wait
    local p
    [ "${#OVPN_PIDS[@]}" -gt 0 ] || return 0
    kill -TERM "${OVPN_PIDS[@]}" 2>/dev/null
    for _ in $(seq 50); do
        local alive=0
        for p in "${OVPN_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    kill -KILL "${OVPN_PIDS[@]}" 2>/dev/null
    OVPN_PIDS=()
    sleep 0.2
}

# The routes pushed by a set of config files, as sorted CIDRs ("198.18.1.20/32").
pushed_routes() { # FILE...
    /usr/bin/python3 - "$@" <<'EOF'
import ipaddress, re, sys
out = set()
for path in sys.argv[1:]:
    for line in open(path):
        m = re.match(r'^push "route (\S+)(?: (\S+))?"$', line.strip())
        if m:
            out.add(str(ipaddress.ip_network(m.group(1) + "/" + (m.group(2) or "255.255.255.255"))))
        m = re.match(r'^push "route-ipv6 (\S+)"$', line.strip())
        if m:
            out.add(str(ipaddress.ip_network(m.group(1))))
print(" ".join(sorted(out)))
EOF
}
# The routes the client has on tun0, except the kernel's own (the pool's subnet, fe80::/64).
tun_routes() { # NS
    { ip -n "$(lab_ns "$1")" -4 route show dev tun0; ip -n "$(lab_ns "$1")" -6 route show dev tun0; } 2>/dev/null \
        | grep -v 'proto kernel' | awk '{print $1}' | /usr/bin/python3 -c '
import ipaddress, sys
print(" ".join(sorted(str(ipaddress.ip_network(w.strip())) for w in sys.stdin if w.strip())))'
}
other_routes() { # NS : every route not on tun0 (must not change when the tunnel comes up)
    { ip -n "$(lab_ns "$1")" -4 route show; ip -n "$(lab_ns "$1")" -6 route show; } | grep -v 'dev tun0' | sort
}
tun_addr() { # NS 4|6
    ip -n "$(lab_ns "$1")" -"$2" -o addr show dev tun0 scope global 2>/dev/null | awk '{print $4}' | head -1
}
conf_value() { # FILE OPTION -> its arguments
    sed -n "s/^$2 //p" "$1" | head -1
}
probe() { # DESCRIPTION NS ADDR PORT WANT
    local r
    r="$(lab_probe_tcp "$2" "$3" "$4" "$PROBE_TIMEOUT")"
    check "$1 ($3:$4)" "$r" "$5"
}
probe6() { # DESCRIPTION NS ADDR6 PORT WANT
    local r
    r="$(lab_probe_tcp6 "$2" "$3" "$4" "$PROBE_TIMEOUT")"
    check "$1 ([$3]:$4)" "$r" "$5"
}

# ---- topology ---------------------------------------------------------------------------------
for ns in gw srv ext intra cli cl2; do lab_ns_add "$ns" || abort "lab_ns_add $ns"; done
lab_bridge gw vmbr1 198.18.10.1/24 || abort "bridge vmbr1"
lab_addr6 gw vmbr1 2001:db8:0:10::1/64 || abort "vmbr1 IPv6"
lab_link gw p-srv - srv eth0 198.18.10.10/24 && lab_bridge_attach gw p-srv vmbr1 || abort "link srv"
lab_link gw p-ext - ext eth0 198.18.10.20/24 && lab_bridge_attach gw p-ext vmbr1 || abort "link ext"
lab_addr6 srv eth0 2001:db8:0:10::10/64 || abort "srv IPv6"
lab_link gw lan0 198.18.1.1/24 intra eth0 198.18.1.20/24 || abort "link intra"
lab_link gw wan0 198.19.0.1/30 cli eth0 198.19.0.2/30 || abort "link cli"
lab_link gw wan1 198.19.0.5/30 cl2 eth0 198.19.0.6/30 || abort "link cl2"
lab_sysctl gw net.ipv4.ip_forward=1 && lab_sysctl srv net.ipv4.ip_forward=1 \
    && lab_sysctl srv net.ipv6.conf.all.forwarding=1 || abort "sysctl forwarding"
lab_route srv default 198.18.10.1 && lab_route ext default 198.18.10.1 && lab_route intra default 198.18.1.1 \
    || abort "default routes"
lab_route6 srv default 2001:db8:0:10::1 || abort "srv IPv6 default route"
lab_route gw 198.18.8.0/24 198.18.10.10 && lab_route ext 198.18.8.0/24 198.18.10.10 || abort "pool routes"
# The home router forwards the VPN port to vm-extranet (clients use its outer address, so the
# pushed extranet routes never capture the tunnel's own packets).
lab_ipt gw iptables -t nat -A PREROUTING -d 198.19.0.1 -p udp --dport 1194 -j DNAT --to-destination 198.18.10.10 \
    || abort "DNAT on gw"
lab_ipt gw iptables -t nat -A PREROUTING -d 198.19.0.5 -p udp --dport 1194 -j DNAT --to-destination 198.18.10.10 \
    || abort "DNAT on gw (cl2)"
lab_listen srv 198.18.10.10 443 && lab_listen srv 198.18.10.10 22 && lab_listen ext 198.18.10.20 443 \
    && lab_listen intra 198.18.1.20 8096 || abort "listeners"
lab_listen6 srv 2001:db8:0:10::10 443 || abort "IPv6 listener"
CLI_ROUTES_BEFORE="$(other_routes cli)"

# ---- phase 0: every golden server.conf is accepted by the real openvpn --------------------------
# (tcp, server-ipv6, nopool + ifconfig-pool + ifconfig-ipv6-pool, client-to-client, a /25 pool...)
# The goldens carry the default Debian certificate paths: the throwaway PKI is given on the
# command line after --config, which overrides them.
echo "== phase 0: tests/golden/openvpn/*/server.conf"
lab_ns_add chk || abort "lab_ns_add chk"
GOLDENS=0
while IFS= read -r conf; do
    GOLDENS=$((GOLDENS + 1))
    name="golden${GOLDENS}"
    if start_openvpn chk "$name" --cd "$(dirname "$conf")" --config server.conf --ca "$PKI/ca.crt" \
        --cert "$PKI/issued/server.crt" --key "$PKI/private/server.key" --tls-crypt "$PKI_DIR/tc.key"; then
        pass "openvpn starts with ${conf#"$REPO"/}"
    else
        fail "openvpn refuses ${conf#"$REPO"/}"
    fi
    stop_openvpn
done < <(find "$REPO/tests/golden/openvpn" -name server.conf | sort)
[ "$GOLDENS" -ge 6 ] || fail "only $GOLDENS golden server.conf files found"

# ---- phase 1: fixed clients (ccd) -------------------------------------------------------------
echo "== phase 1: tests/lab/openvpn_clients.npol (ccd/laptop, a dynamic client)"
OUT1="$LAB_DIR/out-clients"
compile "$REPO/tests/lab/openvpn_clients.npol" "$OUT1"
[ -f "$OUT1/openvpn/server.conf" ] && [ -f "$OUT1/openvpn/ccd/laptop" ] || abort "no server.conf or ccd/laptop in $OUT1"
start_openvpn srv server1 --cd "$OUT1/openvpn" --config server.conf || abort "openvpn server (phase 1) did not start"
pass "the real openvpn server starts with the compiled server.conf and ccd/ (phase 1)"

start_openvpn cli laptop --config "$(client_conf laptop 198.19.0.1)" || abort "client laptop did not connect"
pass "client laptop connects"
PUSH1="$(conf_value "$OUT1/openvpn/ccd/laptop" ifconfig-push)"
check "laptop's IPv4 is its ccd address" "$(tun_addr cli 4)" "$(echo "$PUSH1" | /usr/bin/python3 -c '
import ipaddress, sys; a, m = sys.stdin.read().split(); print(ipaddress.ip_interface(a + "/" + m).with_prefixlen)')"
check "laptop's IPv6 is its ccd address" "$(tun_addr cli 6)" "$(conf_value "$OUT1/openvpn/ccd/laptop" ifconfig-ipv6-push | awk '{print $1}')"
WANT="$(pushed_routes "$OUT1/openvpn/server.conf" "$OUT1/openvpn/ccd/laptop")"
check "laptop's tun0 routes are exactly the server's and its own pushes" "$(tun_routes cli)" "$WANT"
case " $WANT " in *" 198.18.1.20/32 "*) pass "ccd/laptop pushes the route to vm-intranet" ;;
    *) fail "ccd/laptop lacks 198.18.1.20/32: $WANT" ;; esac
check "laptop's other routes are unchanged" "$(other_routes cli)" "$CLI_ROUTES_BEFORE"
probe "laptop reaches vm-intranet:jellyfin through the tunnel" cli 198.18.1.20 8096 connected
probe6 "laptop reaches vm-extranet:https over IPv6" cli 2001:db8:0:10::10 443 connected

start_openvpn cl2 client1 --config "$(client_conf client1 198.19.0.5)" || abort "client client1 did not connect"
FIRST_DYNAMIC="$(conf_value "$OUT1/openvpn/server.conf" ifconfig-pool | awk '{print $1}')"
check "client1 (no ccd file) gets the first address of the emitted ifconfig-pool" "$(tun_addr cl2 4)" "$FIRST_DYNAMIC/24"
check "client1's tun0 routes are exactly the server's pushes" "$(tun_routes cl2)" "$(pushed_routes "$OUT1/openvpn/server.conf")"
r="$(lab_probe_tcp cl2 198.18.1.20 8096 "$PROBE_TIMEOUT")"
case "$r" in connected) fail "client1 reaches vm-intranet:8096 (only laptop may)" ;;
    *) pass "client1 has no route to vm-intranet:8096 ($r)" ;; esac
probe "client1 reaches vm-extranet:https" cl2 198.18.10.10 443 connected

# The fixed address is what the VPN host's firewall keys per-client rules on: with this policy's
# ufw for vm-extranet, only laptop's own flow is forwarded; then ufw is disabled again.
UFW1_SCRIPT="$OUT1/ufw/vm-extranet.sh"
if [ -f "$UFW1_SCRIPT" ]; then
    UFW1_DIR="$(lab_ufw_prepare clients)" || abort "lab_ufw_prepare clients"
    if lab_ufw_ns srv "$UFW1_DIR" sh "$UFW1_SCRIPT" >"$LAB_DIR/ufw-clients.log" 2>&1; then
        pass "the ufw script of vm-extranet (clients policy) applies in srv"
        probe "with ufw: laptop's own flow laptop -> vm-intranet:jellyfin" cli 198.18.1.20 8096 connected
        probe "with ufw: laptop -> another extranet host:https is no flow" cli 198.18.10.20 443 timeout
        probe "with ufw: laptop -> vm-extranet:ssh is no flow" cli 198.18.10.10 22 timeout
        probe6 "with ufw: laptop -> vm-extranet:https over IPv6" cli 2001:db8:0:10::10 443 connected
        probe "with ufw: client1 -> vm-extranet:https (the pool's flow)" cl2 198.18.10.10 443 connected
    else
        fail "out/ufw/vm-extranet.sh (clients policy) failed in srv: $(tail -5 "$LAB_DIR/ufw-clients.log")"
    fi
    lab_ufw_ns srv "$UFW1_DIR" ufw --force disable >>"$LAB_DIR/ufw-clients.log" 2>&1 || abort "ufw disable"
else
    echo "NOT RUN: per-client filtering (no $UFW1_SCRIPT: the UFW target does not emit it yet)"
fi
stop_openvpn

# ---- phase 2: the lab policy ------------------------------------------------------------------
echo "== phase 2: policy/lab.npol"
OUT2="$LAB_DIR/out-lab"
compile "$REPO/policy/lab.npol" "$OUT2"
[ -f "$OUT2/openvpn/server.conf" ] || abort "no server.conf in $OUT2"
if [ -e "$OUT2/openvpn/ccd" ]; then fail "the lab policy produced ccd/"; else pass "the lab policy has no clients: no ccd/"; fi
start_openvpn srv server2 --cd "$OUT2/openvpn" --config server.conf || abort "openvpn server (phase 2) did not start"
pass "the real openvpn server starts with the lab policy's server.conf"
start_openvpn cli lab-client --config "$(client_conf client1 198.19.0.1)" || abort "client did not connect (phase 2)"
pass "a client connects to the lab policy's server"
WANT="$(pushed_routes "$OUT2/openvpn/server.conf")"
check "the pushed routes are the extranet" "$WANT" "198.18.10.0/24"
check "the client gets the first address of the pool (server 198.18.8.0/24)" "$(tun_addr cli 4)" "198.18.8.2/24"
check "the client's tun0 routes are exactly the pushed ones" "$(tun_routes cli)" "$WANT"
check "the client's other routes are unchanged" "$(other_routes cli)" "$CLI_ROUTES_BEFORE"
probe "without a firewall: vm-extranet:https" cli 198.18.10.10 443 connected
probe "without a firewall (OpenVPN only routes): vm-extranet:ssh" cli 198.18.10.10 22 connected
probe "without a firewall (OpenVPN only routes): another extranet host:https" cli 198.18.10.20 443 connected
probe "no route: vm-intranet is not pushed by the lab policy" cli 198.18.1.20 8096 unreachable

UFW_SCRIPT="$OUT2/ufw/vm-extranet.sh"
if [ -f "$UFW_SCRIPT" ]; then
    UFW_DIR="$(lab_ufw_prepare srv)" || abort "lab_ufw_prepare"
    if lab_ufw_ns srv "$UFW_DIR" sh "$UFW_SCRIPT" >"$LAB_DIR/ufw.log" 2>&1; then
        pass "the VPN host's ufw script (out/ufw/vm-extranet.sh) applies in srv"
        probe "with ufw: the policy's VPN flow vpn -> vm-extranet:https" cli 198.18.10.10 443 connected
        probe "with ufw: vm-extranet:ssh is not a VPN flow" cli 198.18.10.10 22 timeout
        probe "with ufw: another extranet host:https is not a VPN flow" cli 198.18.10.20 443 timeout
        probe "with ufw: the tunnel still carries the allowed flow" cli 198.18.10.10 443 connected
    else
        fail "out/ufw/vm-extranet.sh failed in srv: $(tail -5 "$LAB_DIR/ufw.log")"
    fi
else
    echo "NOT RUN: filtering (no $UFW_SCRIPT: the UFW target does not emit it yet)"
fi
stop_openvpn

HOST_FP_AFTER="$(lab_host_fingerprint)"
check "the root namespace is unchanged" "$HOST_FP_AFTER" "$HOST_FP_BEFORE"
finish
