#!/bin/bash
# Real test of the Proxmox-as-nftables render (docs/lab-proxmox-nft.md), as root:
# the node `pve` (vmbr0 198.18.1.2/24, vmbr1 198.18.10.1/24, routing), vm100 (vm-intranet) on
# vmbr0, vm101 (vm-extranet) on vmbr1 and a LAN client on vmbr0, each a namespace; the compiled
# Proxmox files of the lab policy rendered and loaded with `nft -f`; real TCP connections.
# Usage: pve_nft_lab_test.sh NETPOLC PVE_NFT_TESTS POLICY
set -euo pipefail
netpolc=$1 renderer=$2 policy=$3
p="nv-t$$"
work=$(mktemp -d /tmp/nv-pve-nft.XXXXXX)
listeners=()

cleanup() {
  for pid in "${listeners[@]}"; do kill "$pid" 2>/dev/null || true; done
  for n in lan vm100 vm101 pve; do ip netns del "$p-$n" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() { local n=$1; shift; ip netns exec "$p-$n" "$@"; }

# ---- the node and its guests -------------------------------------------------------------
for n in pve vm100 vm101 lan; do
  ip netns add "$p-$n"
  ip -n "$p-$n" link set lo up
done
in_ns pve sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 \
  net.bridge.bridge-nf-call-ip6tables=1
for br in vmbr0 vmbr1; do ip -n "$p-pve" link add "$br" type bridge && ip -n "$p-pve" link set "$br" up; done
attach() {  # guest namespace, node-side port name, bridge, address/prefix, gateway
  ip -n "$p-pve" link add "$2" type veth peer name eth0 netns "$p-$1"
  ip -n "$p-pve" link set "$2" master "$3" up
  ip -n "$p-$1" addr add "$4" dev eth0
  ip -n "$p-$1" link set eth0 up
  ip -n "$p-$1" route add default via "$5"
}
ip -n "$p-pve" addr add 198.18.1.2/24 dev vmbr0
ip -n "$p-pve" addr add 198.18.10.1/24 dev vmbr1
attach vm100 tap100i0 vmbr0 198.18.1.20/24 198.18.1.2
attach vm101 tap101i0 vmbr1 198.18.10.10/24 198.18.10.1
attach lan lan0 vmbr0 198.18.1.50/24 198.18.1.2

# Listeners on every port probed, so that a refused connection can never pass for blocked.
listen() {
  local n=$1; shift
  ip netns exec "$p-$n" /usr/bin/python3 -c '
import select, socket, sys, time
socks = []
for port in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen(64)
    socks.append(s)
end = time.time() + 120
while time.time() < end:
    ready, _, _ = select.select(socks, [], [], 1)
    for s in ready:
        c, _ = s.accept()
        c.close()
' "$@" &
  listeners+=($!)
}
listen vm100 22 5432 8096
listen vm101 443
listen pve 8006 3128

# connect NS IP PORT: prints open (connected), blocked (no answer in 1 s) or refused.
connect() {
  local rc=0
  in_ns "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null || rc=$?
  case $rc in 0) echo open ;; 124) echo blocked ;; *) echo refused ;; esac
}
failures=0
expect() {  # NS IP PORT open|blocked
  local got
  got=$(connect "$1" "$2" "$3")
  if [[ $got == "$4" ]]; then echo "ok   $1 -> $2:$3 $got"; else echo "FAIL $1 -> $2:$3 $got (want $4)"; failures=$((failures + 1)); fi
}

flows_open=(
  "lan 198.18.1.20 22" "lan 198.18.10.10 443" "lan 198.18.1.2 8006" "vm101 198.18.1.20 8096"
)
flows_blocked=(
  "lan 198.18.1.20 5432" "lan 198.18.1.20 8096" "lan 198.18.1.2 3128" "vm101 198.18.1.20 5432"
)

# Without a firewall every flow connects: the listeners are up and the topology routes.
for i in $(seq 1 30); do [[ $(connect lan 198.18.1.2 3128) == open ]] && break; sleep 0.1; done
echo "# without firewall"
for f in "${flows_open[@]}" "${flows_blocked[@]}"; do expect $f open; done

# ---- the compiled files, rendered and loaded -----------------------------------------------
"$netpolc" compile "$policy" -o "$work/out" >/dev/null
apply() {  # directory of .fw files
  NETPOL_PVE_FW_DIR=$1 NETPOL_PVE_NFT_OUT="$work/pve.nft" "$renderer" "[.pve-nft-render]" >/dev/null
  in_ns pve nft -f "$work/pve.nft"
}
apply "$work/out/proxmox"
echo "# the lab policy"
for f in "${flows_open[@]}"; do expect $f open; done
for f in "${flows_blocked[@]}"; do expect $f blocked; done

# ---- one group rule removed: that flow, and only that, fails ------------------------------------
mutate() {  # a line of cluster.fw to remove
  rm -rf "$work/mutant" && cp -r "$work/out/proxmox" "$work/mutant"
  grep -qF -- "$1" "$work/mutant/cluster.fw"
  grep -vF -- "$1" "$work/out/proxmox/cluster.fw" >"$work/mutant/cluster.fw"
  apply "$work/mutant"
}
echo "# vm-intranet's IN accept of 8096 from extranet removed (checked where the node routes into vmbr0)"
mutate "IN ACCEPT -source +dc/extranet -p tcp -dport 2283,3001,8096,9090"
expect vm101 198.18.1.20 8096 blocked
expect lan 198.18.1.20 22 open
echo "# vm-extranet's OUT accept of 8096 to intranet removed"
mutate "OUT ACCEPT -dest +dc/intranet -p tcp -dport 2283,3001,8096,9090"
expect vm101 198.18.1.20 8096 blocked
expect lan 198.18.10.10 443 open
echo "# the groups' IN accept of ssh from lan removed (lan -> vm-intranet is bridged within vmbr0)"
mutate "IN ACCEPT -source +dc/lan -p tcp -dport 22 # flows.npol:63 allow lan -> vm-intranet, vm-extranet : ssh"
expect lan 198.18.1.20 22 blocked
expect vm101 198.18.1.20 8096 open

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "all flows as expected"
