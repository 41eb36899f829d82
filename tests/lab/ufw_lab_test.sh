#!/bin/bash
# tests/lab/ufw_lab_test.sh NETPOLC POLICY - the UFW target against the REAL ufw.
#
# Compiles POLICY (policy/lab.npol) with NETPOLC, builds the lab in network namespaces
# (tests/lab/netns.sh; nothing in the root namespace, addresses from 198.18.0.0/15):
#
#   lanc 198.18.1.100 --+                      +-- vm_extranet 198.18.10.10 --tun0-- vpnc 198.18.8.2
#   vm_intranet 198.18.1.20 --+-- vmbr0  node  vmbr1 --+-- extc 198.18.10.50
#                                   (router)  `-- inet 198.19.0.10 (the catch-all "internet")
#
# The VMs' addresses come from out/policy.json; vm_extranet's link to vpnc is named tun0,
# so the VPN pool's packets arrive on tun0 as they do from OpenVPN.
#   1. out/ufw/<vm>.sh runs with the real ufw inside each VM namespace (private /etc/ufw):
#      it exits 0 and ufw then holds byte for byte the emitted <vm>.rules and .rules6.
#   2. Every allowed tcp flow between these namespaces that touches a VM (from policy.json)
#      connects, at every tcp port the policy names inside the flow's range; a sample of
#      forbidden ones is blocked (5432 between the VMs, 8096 from the LAN to vm_intranet,
#      SSH from the EXTRANET side, SSH from the VPN).
#   3. An extra rule opening 5432 works, then a re-run of the .sh deletes it and changes
#      nothing else (re-runnable), and 5432 is blocked again.
#   4. The same rules through <vm>.rules/.rules6 + `ufw reload` in a fresh config give the same
#      `ufw status verbose` and the same live iptables rules; the probes of 2 pass again.
#   5. The root namespace is unchanged.
# Prints "N passed, M failed". Skips (exit 0) when not root.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NETPOLC="${1:?usage: ufw_lab_test.sh NETPOLC POLICY}"
POLICY="${2:?usage: ufw_lab_test.sh NETPOLC POLICY}"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: ufw_lab_test needs root (network namespaces, iptables)"
    echo "0 passed, 0 failed"
    exit 0
fi

# shellcheck source=netns.sh
. "$HERE/netns.sh"

PASSED=0
FAILED=0
PROBE_TIMEOUT=1.5
VMS="vm_intranet vm_extranet"

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() { if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: got '$1', want '$2'"; fi; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
abort() { echo "FAIL (setup): $*"; FAILED=$((FAILED + 1)); finish; }
lab_on_interrupt() {
    echo "FAIL: interrupted by SIG$1 (lab cleaned up)"
    echo "$PASSED passed, $((FAILED + 1)) failed"
}

for tool in ip ufw iptables ip6tables unshare timeout ss sha256sum /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || abort "missing '$tool' (apt-get install -y ufw iptables iproute2 python3)"
done
HOST_FP_BEFORE="$(lab_host_fingerprint)" || abort "cannot fingerprint the root namespace"

# ---- compile ---------------------------------------------------------------------------------
OUT="$LAB_DIR/out"
"$NETPOLC" compile "$POLICY" -o "$OUT" >"$LAB_DIR/compile.log" 2>&1 || abort "netpolc compile: $(cat "$LAB_DIR/compile.log")"
vm_host() { echo "${1//_/-}"; }  # namespace vm_intranet runs host vm-intranet
host_addr() { # HOST -> its IPv4 address from policy.json
    /usr/bin/python3 -c 'import json,sys
for h in json.load(open(sys.argv[1]))["hosts"]:
    if h["name"] == sys.argv[2]: print(next(a for a in h["addresses"] if ":" not in a))' "$OUT/policy.json" "$1"
}
INT_IP="$(host_addr vm-intranet)" && EXT_IP="$(host_addr vm-extranet)" || abort "VM addresses not in policy.json"
[ "$INT_IP" = 198.18.1.20 ] && [ "$EXT_IP" = 198.18.10.10 ] || abort "lab addressing changed ($INT_IP, $EXT_IP): update the topology"
declare -A ADDR=([lanc]=198.18.1.100 [vm_intranet]=$INT_IP [vm_extranet]=$EXT_IP [extc]=198.18.10.50
    [vpnc]=198.18.8.2 [inet]=198.19.0.10)

# ---- topology ---------------------------------------------------------------------------------
lab_ns_add node || abort "node"
lab_sysctl node net.ipv4.ip_forward=1 || abort "ip_forward"
lab_bridge node vmbr0 198.18.1.1/24 && lab_bridge node vmbr1 198.18.10.1/24 || abort "bridges"
on_bridge() { # NS BRIDGE PREFIXLEN GATEWAY
    lab_ns_add "$1" && lab_link node "p-$1" - "$1" eth0 "${ADDR[$1]}/$3" &&
        lab_bridge_attach node "p-$1" "$2" && lab_route "$1" default "$4"
}
on_bridge lanc vmbr0 24 198.18.1.1 || abort "lanc"
on_bridge vm_intranet vmbr0 24 198.18.1.1 || abort "vm_intranet"
on_bridge vm_extranet vmbr1 24 198.18.10.1 || abort "vm_extranet"
on_bridge extc vmbr1 24 198.18.10.1 || abort "extc"
lab_ns_add inet && lab_link node p-inet 198.19.0.1/24 inet eth0 "${ADDR[inet]}/24" &&
    lab_route inet default 198.19.0.1 || abort "inet"
lab_ns_add vpnc && lab_link vm_extranet tun0 198.18.8.1/24 vpnc eth0 "${ADDR[vpnc]}/24" &&
    lab_route vpnc default 198.18.8.1 || abort "vpnc"

# ---- probes from the policy -----------------------------------------------------------------
ns_args=()
for ns in "${!ADDR[@]}"; do ns_args+=("$ns=${ADDR[$ns]}"); done
/usr/bin/python3 "$HERE/ufw_flows.py" "$OUT/policy.json" "${ns_args[@]}" -- \
    vm_intranet=vm-intranet vm_extranet=vm-extranet >"$LAB_DIR/flows.txt" || abort "ufw_flows.py failed"
if grep -q '^unprobed' "$LAB_DIR/flows.txt"; then abort "allowed flows to a VM no namespace can send: $(grep '^unprobed' "$LAB_DIR/flows.txt")"; fi
is_vm() { case " $VMS " in *" $1 "*) return 0 ;; esac; return 1; }
ALLOWED=()  # "SRC DST ADDR PORT RULE": only probes that cross a VM's ufw
while read -r kind src dst addr port rule; do
    [ "$kind" = allow ] || continue
    if is_vm "$src" || is_vm "$dst"; then ALLOWED+=("$src $dst $addr $port $rule"); fi
done <"$LAB_DIR/flows.txt"
read -r -a PORTS <<<"$(sed -n 's/^ports //p' "$LAB_DIR/flows.txt")"
FORBIDDEN=("vm_extranet vm_intranet $INT_IP 5432" "vm_intranet vm_extranet $EXT_IP 5432"
    "lanc vm_intranet $INT_IP 8096" "extc vm_intranet $INT_IP 22" "extc vm_extranet $EXT_IP 22"
    "vpnc vm_extranet $EXT_IP 22")
for f in "${FORBIDDEN[@]}"; do  # the sample must really be forbidden by the policy
    read -r src dst _ port <<<"$f"
    grep -q "^allow $src $dst [^ ]* $port " "$LAB_DIR/flows.txt" && abort "the policy allows the 'forbidden' probe $f"
done
[ "${#ALLOWED[@]}" -ge 10 ] || abort "only ${#ALLOWED[@]} allowed probes derived from policy.json"

declare -A LISTENING=()
for p in "${ALLOWED[@]}" "${FORBIDDEN[@]}"; do
    read -r _ dst addr port _ <<<"$p"
    [ -n "${LISTENING[$dst:$port]:-}" ] && continue
    lab_listen "$dst" "$addr" "$port" || abort "listener $dst:$port"
    LISTENING[$dst:$port]=1
done
echo "lab: ${#ALLOWED[@]} allowed probes, ${#FORBIDDEN[@]} forbidden, ${#LISTENING[@]} listeners, policy tcp ports: ${PORTS[*]}"

# Before any firewall every probe connects: a later timeout is ufw's doing.
for p in "${ALLOWED[@]}" "${FORBIDDEN[@]}"; do
    read -r src _ addr port _ <<<"$p"
    r="$(lab_probe_tcp "$src" "$addr" "$port" "$PROBE_TIMEOUT")"
    [ "$r" = connected ] || abort "without ufw, $src -> $addr:$port gave '$r'"
done

# blocked: a timeout (dropped on the way in), or EPERM when the source's own ufw drops it on the way out.
probe_blocked() { # SRC ADDR PORT -> prints timeout|eperm|<other result>
    local out rc
    out=$(timeout -k 1 "$PROBE_TIMEOUT" ip netns exec "$(lab_ns "$1")" \
        /bin/bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$2" "$3" 2>&1)
    rc=$?
    case "$rc:$out" in
        0:*) echo connected ;;
        124:* | 137:*) echo timeout ;;
        *"Operation not permitted"*) echo eperm ;;
        *refused*) echo refused ;;
        *) echo "error($rc)" ;;
    esac
}
run_probes() { # LABEL
    local p src dst addr port rule r bad=0
    for p in "${ALLOWED[@]}"; do
        read -r src dst addr port rule <<<"$p"
        r="$(lab_probe_tcp "$src" "$addr" "$port" "$PROBE_TIMEOUT")"
        if [ "$r" != connected ]; then fail "$1: allowed $src -> $dst:$port ($rule) gave '$r'"; bad=1; fi
    done
    [ "$bad" -eq 0 ] && pass "$1: all ${#ALLOWED[@]} allowed probes connect"
    for p in "${FORBIDDEN[@]}"; do
        read -r src dst addr port <<<"$p"
        r="$(probe_blocked "$src" "$addr" "$port")"
        case "$r" in
            timeout | eperm) pass "$1: forbidden $src -> $dst:$port blocked ($r)" ;;
            *) fail "$1: forbidden $src -> $dst:$port gave '$r' (want blocked)" ;;
        esac
    done
}

# ---- 1. the .sh with the real ufw -----------------------------------------------------------------
declare -A UFW_A=() UFW_B=()
for vm in $VMS; do UFW_A[$vm]="$(lab_ufw_prepare "a$vm")" || abort "lab_ufw_prepare a$vm"; done
apply_scripts() { # TAG : runs every VM's .sh at once (private /run: no shared lock); output in LAB_DIR
    local vm pids=()
    for vm in $VMS; do
        lab_ufw_ns "$vm" "${UFW_A[$vm]}" sh "$OUT/ufw/$(vm_host "$vm").sh" >"$LAB_DIR/$1-$vm.log" 2>&1 &
        pids+=("$!")
    done
    RC=()
    for pid in "${pids[@]}"; do wait "$pid"; RC+=("$?"); done
}
body() { sed '/^\*filter$/,$!d' "$1"; }  # the emitted file without its provenance lines (ufw drops them)
same_as_emitted() { # VM -> 0 when ufw's own user.rules/user6.rules equal the emitted files
    local vm=$1 h
    h="$(vm_host "$vm")"
    cmp -s <(body "$OUT/ufw/$h.rules") "${UFW_A[$vm]}/etc-ufw/user.rules" &&
        cmp -s <(body "$OUT/ufw/$h.rules6") "${UFW_A[$vm]}/etc-ufw/user6.rules"
}

SECONDS=0
apply_scripts first
i=0
for vm in $VMS; do
    check "${RC[$i]}" 0 "$vm: $(vm_host "$vm").sh exits 0 (${SECONDS}s for both VMs)"
    grep -q '^deleting' "$LAB_DIR/first-$vm.log" && fail "$vm: the first run deleted rules: $(grep '^deleting' "$LAB_DIR/first-$vm.log")"
    if same_as_emitted "$vm"; then pass "$vm: ufw wrote byte for byte the emitted .rules and .rules6"
    else
        fail "$vm: ufw's user.rules differ from the emitted ones"
        diff <(body "$OUT/ufw/$(vm_host "$vm").rules") "${UFW_A[$vm]}/etc-ufw/user.rules" | head -20
        diff <(body "$OUT/ufw/$(vm_host "$vm").rules6") "${UFW_A[$vm]}/etc-ufw/user6.rules" | head -20
    fi
    [ "${RC[$i]}" -eq 0 ] || sed 's/^/  log: /' "$LAB_DIR/first-$vm.log" | tail -20
    i=$((i + 1))
done

# ---- 2. probes ----------------------------------------------------------------------------------
run_probes ".sh"

# ---- 3. an extra rule, then a re-run --------------------------------------------------------------
ADDED_BEFORE="$(lab_ufw_ns vm_intranet "${UFW_A[vm_intranet]}" ufw show added)"
lab_ufw_ns vm_intranet "${UFW_A[vm_intranet]}" ufw allow from 198.18.10.0/24 to "$INT_IP" port 5432 proto tcp >/dev/null ||
    abort "adding the extra 5432 rule"
check "$(lab_probe_tcp extc "$INT_IP" 5432 "$PROBE_TIMEOUT")" connected "the extra rule opens 5432 from the EXTRANET"
apply_scripts rerun
i=0
for vm in $VMS; do
    check "${RC[$i]}" 0 "$vm: re-run exits 0"
    changed="$(grep -E '^(Rules updated|Rule added|Rule updated|Rule inserted|deleting)' "$LAB_DIR/rerun-$vm.log" | grep -v 5432)"
    check "$changed" "" "$vm: re-run changes nothing else"
    same_as_emitted "$vm" && pass "$vm: after the re-run ufw holds exactly the emitted rules" ||
        fail "$vm: after the re-run ufw's rules differ from the emitted ones"
    i=$((i + 1))
done
grep -q "^deleting a rule the policy does not have: ufw allow from 198.18.10.0/24 to $INT_IP port 5432 proto tcp$" \
    "$LAB_DIR/rerun-vm_intranet.log" && pass "the re-run deletes the extra 5432 rule" ||
    fail "the re-run did not report deleting the 5432 rule: $(grep -i delet "$LAB_DIR/rerun-vm_intranet.log")"
check "$(lab_ufw_ns vm_intranet "${UFW_A[vm_intranet]}" ufw show added)" "$ADDED_BEFORE" "vm_intranet: 'ufw show added' as after the first run"
r="$(probe_blocked extc "$INT_IP" 5432)"
check "$r" timeout "5432 from the EXTRANET blocked again"

# ---- 4. the same through user.rules + ufw reload ----------------------------------------------------
declare -A STATUS_A=() LIVE_A=()
live_rules() { lab_ipt "$1" iptables -S && lab_ipt "$1" ip6tables -S; }
for vm in $VMS; do
    # ufw quirk (netns.sh): the first enable leaves ufw6-user-limit incomplete until a reload.
    lab_ufw_ns "$vm" "${UFW_A[$vm]}" ufw reload >/dev/null || abort "ufw reload (A) $vm"
    STATUS_A[$vm]="$(lab_ufw_ns "$vm" "${UFW_A[$vm]}" ufw status verbose)" || abort "status A $vm"
    LIVE_A[$vm]="$(live_rules "$vm")" || abort "iptables -S (A) $vm"
done
install_file() { # SRC DEST : a temp file beside DEST, then rename()
    local tmp
    tmp="$(mktemp "$(dirname "$2")/.tmp.XXXXXX")" && cp "$1" "$tmp" && chmod 640 "$tmp" && mv -f "$tmp" "$2"
}
for vm in $VMS; do
    h="$(vm_host "$vm")"
    UFW_B[$vm]="$(lab_ufw_prepare "b$vm")" || abort "lab_ufw_prepare b$vm"
    d="${UFW_B[$vm]}"
    install_file "$OUT/ufw/$h.rules" "$d/etc-ufw/user.rules" && install_file "$OUT/ufw/$h.rules6" "$d/etc-ufw/user6.rules" ||
        abort "installing $h.rules"
    # A Docker host's DOCKER-USER part, appended to after.rules as the .sh appends it.
    if [ -f "$OUT/ufw/$h.after.rules" ]; then cat "$OUT/ufw/$h.after.rules" >>"$d/etc-ufw/after.rules" || abort "after.rules $h"; fi
    sed -i 's/^ENABLED=.*/ENABLED=yes/' "$d/etc-ufw/ufw.conf"
    sed -i -e 's/^DEFAULT_INPUT_POLICY=.*/DEFAULT_INPUT_POLICY="DROP"/' -e 's/^DEFAULT_OUTPUT_POLICY=.*/DEFAULT_OUTPUT_POLICY="DROP"/' \
        -e 's/^DEFAULT_FORWARD_POLICY=.*/DEFAULT_FORWARD_POLICY="DROP"/' "$d/default-ufw"
    # Start from an empty live ruleset so nothing is inherited from the .sh run.
    for t in iptables ip6tables; do
        lab_ipt "$vm" "$t" -P INPUT ACCEPT && lab_ipt "$vm" "$t" -P OUTPUT ACCEPT && lab_ipt "$vm" "$t" -P FORWARD ACCEPT &&
            lab_ipt "$vm" "$t" -F && lab_ipt "$vm" "$t" -X || abort "flushing $t in $vm"
    done
    out="$(lab_ufw_ns "$vm" "$d" ufw reload 2>&1)" || abort "ufw reload (B) $vm: $out"
    case "$out" in *Problem* | *ERROR*) fail "$vm: ufw reload complained: $out" ;; esac
    status_b="$(lab_ufw_ns "$vm" "$d" ufw status verbose)" || abort "status B $vm"
    if [ "$status_b" = "${STATUS_A[$vm]}" ]; then pass "$vm: $h.rules + ufw reload: same 'ufw status verbose' ($(grep -c ALLOW <<<"$status_b") rules)"
    else fail "$vm: 'ufw status verbose' differs"; diff <(echo "${STATUS_A[$vm]}") <(echo "$status_b") | head -20; fi
    live_b="$(live_rules "$vm")"
    if [ "$live_b" = "${LIVE_A[$vm]}" ]; then pass "$vm: same live iptables and ip6tables rules"
    else fail "$vm: live rules differ"; diff <(echo "${LIVE_A[$vm]}") <(echo "$live_b") | head -20; fi
done
run_probes "user.rules"

# ---- 5. the root namespace -------------------------------------------------------------------------
check "$(lab_host_fingerprint)" "$HOST_FP_BEFORE" "root namespace firewall, links, routes, sysctls and /etc/ufw unchanged"
finish
