#!/usr/bin/python3
"""Probe list for tests/lab/ufw_lab_test.sh, derived from netpolc's out/policy.json.

usage: ufw_flows.py POLICY_JSON NS=ADDR... -- VMNS=HOST...
Prints one line per probe: "allow SRC_NS DST_NS DST_ADDR PORT RULE" for every
allowed tcp flow between lab namespaces (each tcp port the policy names inside the
flow's range), then "ports PORT..." (every tcp port the policy names), then
"unprobed FLOW" for an allowed tcp flow to a VM that no namespace can send.
A namespace stands for its address: the host with that address, else the zone that
holds it (longest prefix; the catch-all last). Exit 2 on a malformed policy.json.
"""
import ipaddress
import json
import sys


def zone_of(policy, addr):
    best = None
    for z in policy["zones"]:
        for net in z["networks"]:
            n = ipaddress.ip_network(net)
            if n.version == addr.version and addr in n and (best is None or n.prefixlen > best[1]):
                best = (z["name"], n.prefixlen)
    return best[0] if best else None


def host_of(policy, addr):
    for h in policy["hosts"]:
        if any(ipaddress.ip_address(a) == addr for a in h["addresses"]):
            return h["name"]
    return None


def covers(flow, side, ns_zone, ns_host):
    name, kind = flow[side], flow[side + "_kind"]
    if kind == "host":
        return ns_host == name
    return ns_zone == name and ns_host not in flow.get(side + "_except", [])


def named_tcp_ports(policy):
    ports = set()
    for s in policy["services"]:
        for spec in s["ports"]:
            proto, _, rng = spec.partition("/")
            if proto != "tcp":
                continue
            first, _, last = rng.partition("-")
            if not last:  # single ports only: a range is probed at the ports named elsewhere
                ports.add(int(first))
    return sorted(ports)


def main():
    args = sys.argv[1:]
    split = args.index("--")
    policy = json.load(open(args[0]))
    spaces = {}
    for item in args[1:split]:
        ns, addr = item.split("=")
        a = ipaddress.ip_address(addr)
        spaces[ns] = (a, zone_of(policy, a), host_of(policy, a))
    vms = dict(item.split("=") for item in args[split + 1:])
    ports = named_tcp_ports(policy)
    for f in policy["flows"]:
        if f["proto"] != "tcp":
            continue
        rule = f["from"].split(" ")[0]
        probed = False
        for src, (_, sz, sh) in sorted(spaces.items()):
            if not covers(f, "source", sz, sh):
                continue
            for dst, (da, dz, dh) in sorted(spaces.items()):
                if dst == src or not covers(f, "destination", dz, dh):
                    continue
                for p in ports:
                    if f["first_port"] <= p <= f["last_port"]:
                        print("allow", src, dst, da, p, rule)
                        probed = True
        to_vm = f["destination"] in vms.values() or any(
            f["destination_kind"] == "zone" and spaces[ns][1] == f["destination"] for ns in vms)
        if to_vm and not probed:
            print("unprobed", f["source"], "->", f["destination"], "tcp/%d-%d" % (f["first_port"], f["last_port"]), rule)
    print("ports", *ports)


if __name__ == "__main__":
    try:
        main()
    except (KeyError, ValueError, IndexError) as e:
        print("ufw_flows.py: bad input: %s" % e, file=sys.stderr)
        sys.exit(2)
