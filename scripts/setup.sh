#!/usr/bin/env bash
# Installs the Debian 12 packages netpol builds and tests with (only the missing ones).
set -euo pipefail
# Build: compilers, CMake and the libraries. Tests: the real tools the targets are proven with.
packages=(build-essential cmake ninja-build pkg-config libssl-dev libboost-graph-dev libyaml-cpp-dev tao-pegtl-dev
          libfmt-dev nlohmann-json3-dev libnl-3-dev libnl-route-3-dev catch2 libcli11-dev libcpp-httplib-dev
          iproute2 python3 ufw iptables nftables nginx-light openvpn easy-rsa openssl curl graphviz)
# The NPM schema checks run on Node.js: Debian's, unless the machine already has one.
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
