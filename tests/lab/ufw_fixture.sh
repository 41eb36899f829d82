#!/bin/bash
# tests/lab/ufw_fixture.sh - regenerates tests/golden/ufw/fixtures/ufw-written.rules{,6}: a
# user.rules that the REAL ufw 0.36.2 wrote for rules of every shape (log, log-all, limit,
# reject, deny, proto any, route with interfaces, source ports, gre, IPv6). The reader's unit
# test checks that netpolc's tuple -> iptables rendering equals ufw's for every one of them.
# Run as root: bash tests/lab/ufw_fixture.sh   (network + mount namespaces, see netns.sh)
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIXTURES="$HERE/../golden/ufw/fixtures"
# shellcheck source=netns.sh
. "$HERE/netns.sh"
lab_ns_add vm || exit 1
D=$(lab_ufw_prepare fixture) || exit 1
u() { lab_ufw_ns vm "$D" "$@" >/dev/null || { echo "FAILED: $*" >&2; exit 1; }; }
u ufw default deny incoming
u ufw default deny outgoing
u ufw default deny routed
u ufw allow from 198.18.1.0/25 to 198.18.1.20 port 22 proto tcp comment 'flows.npol:63 allow lan -> vm : ssh'
u ufw allow 1194/udp
u ufw allow out to 198.18.10.0/24 port 53
u ufw deny from 198.18.99.0/24
u ufw reject from 198.18.98.0/24 to any port 25 proto tcp
u ufw reject from 198.18.97.0/24 to any port 26
u ufw limit 2222/tcp
u ufw allow log from 198.18.96.0/24 to 198.18.1.20 port 80,443 proto tcp
u ufw allow in on eth0 log-all to any port 8080
u ufw deny out log to 198.18.95.0/24
u ufw limit log from 198.18.94.0/24 to any port 2223 proto tcp
u ufw route allow in on tun0 out on eth1 from 198.18.8.0/24 to 198.18.3.0/24 port 443 proto tcp comment 'vpn to web'
u ufw route allow in on tun0 from 198.18.8.0/24 to 198.18.1.16/28 port 8000:8099 proto tcp
u ufw route reject out on tun0 from 198.18.1.0/24 port 1024:65535 to 198.18.8.0/24 proto udp
u ufw allow from 198.18.93.0/24 port 53 to 198.18.1.20 port 53 proto udp
u ufw allow proto gre from 198.18.92.0/24 to 198.18.1.20
u ufw allow from 2001:db8:0:1::/64 to 2001:db8:0:1:ff::20 port 22 proto tcp comment 'v6 ssh'
u ufw allow out from 2001:db8:0:1:ff::20 to 2001:db8:0:10::/64 port 1:65535 proto udp
u ufw allow in on eth0 to any port 9000
mkdir -p "$FIXTURES"
cp "$D/etc-ufw/user.rules" "$FIXTURES/ufw-written.rules"
cp "$D/etc-ufw/user6.rules" "$FIXTURES/ufw-written.rules6"
echo "wrote $FIXTURES/ufw-written.rules{,6}"
