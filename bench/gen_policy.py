#!/usr/bin/python3
"""Write a synthetic netpol policy and the equivalent Shorewall configuration.

    bench/gen_policy.py SIZE OUTDIR [--seed N] [--variant N]

SIZE is S (the home lab: policy/homelab.npol, copied), M (50 zones, 1,000 hosts,
10,000 flows) or L (200 zones, 10,000 hosts, 100,000 flows). A "flow" here is
one (source, destination, service) triple named by an allow rule, before
netpolc resolves them into matrix rows. OUTDIR receives:

    policy.npol        the netpol policy (S: the home lab's three files)
    shorewall/         zones, interfaces, hosts, policy, rules, shorewall.conf,
                       capabilities: `shorewall compile -e` works offline
    shorewall6/        the same for the IPv6 half (shorewall6)

--variant N changes a few flows (for `netpolc diff`); the same seed gives the
same topology. Standard library only; deterministic for a given seed.
"""

import argparse
import os
import random
import shutil
import sys

SIZES = {
    # zones, hosts, flows (allow triples), services, published names
    "M": (50, 1_000, 10_000, 300, 20),
    "L": (200, 10_000, 100_000, 600, 60),
}

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Service:
    def __init__(self, name, specs):
        self.name = name
        self.specs = specs  # [(proto, "ports" or icmp type or "")]

    def npol(self):
        parts = []
        for proto, ports in self.specs:
            parts.append(f"{proto}/{ports}" if ports else proto)
        return ", ".join(parts)

    def single_tcp(self):
        return len(self.specs) == 1 and self.specs[0][0] == "tcp" and "-" not in self.specs[0][1]


class Zone:
    def __init__(self, index, parent=None):
        self.index = index
        self.name = f"z{index:03d}"
        self.parent = parent
        self.bridge_index = parent.bridge_index if parent else index
        if parent is None:
            self.v4 = f"10.{1 + index // 256}.{index % 256}.0/24"
            self.v6 = f"fd00:0:{index // 65536:x}:{index % 65536:x}::/64"
        else:  # a /26 and a /80 carved out of the parent's top
            p = parent.index
            self.v4 = f"10.{1 + p // 256}.{p % 256}.192/26"
            self.v6 = f"fd00:0:{p // 65536:x}:{p % 65536:x}:ff::/80"
        self.hosts = []

    def host_addresses(self, slot):
        """IPv4 and IPv6 address of the slot-th host of this zone."""
        if self.parent is None:
            octet = 10 + slot  # .10 to .191: below a nested zone's /26
            assert octet < 192
            base4 = self.v4.rsplit(".", 1)[0]
            base6 = self.v6.split("::")[0]
            return f"{base4}.{octet}", f"{base6}::{octet:x}"
        octet = 193 + slot
        assert octet < 255
        base4 = self.v4.rsplit(".", 1)[0]
        base6 = self.v6.split("::")[0]
        return f"{base4}.{octet}", f"{base6}::{octet:x}"


class Host:
    def __init__(self, index, zone, slot, vmid, v6):
        self.name = f"h{index:05d}"
        self.zone = zone
        self.v4, v6addr = zone.host_addresses(slot)
        self.v6 = v6addr if v6 else None
        self.vmid = vmid


def make_services(rng, count):
    services = []
    for i in range(count):
        kind = rng.random()
        base = 10_000 + i * 20
        if kind < 0.55:
            specs = [("tcp", str(base))]
        elif kind < 0.70:
            specs = [("tcp", f"{base}-{base + 9}")]
        elif kind < 0.82:
            specs = [("udp", str(base))]
        elif kind < 0.92:
            specs = [("udp", str(base)), ("tcp", str(base))]
        elif kind < 0.97:
            specs = [("tcp", f"{base}, {base + 2}, {base + 5}-{base + 7}")]
        else:
            specs = [("icmp", "echo-request")]
        services.append(Service(f"s{i:03d}", specs))
    return services


def build(size, seed, variant):
    zones_n, hosts_n, flows_n, services_n, publish_n = SIZES[size]
    rng = random.Random(seed)
    # Every 10th zone (from the 10th on) is nested in the zone before it.
    zones = []
    for i in range(zones_n):
        parent = zones[i - 1] if i % 10 == 9 and zones[i - 1].parent is None else None
        zones.append(Zone(i, parent))
    hosts = []
    per_zone = [0] * zones_n
    for i in range(hosts_n):
        zone = zones[i % zones_n]
        slot = per_zone[zone.index]
        per_zone[zone.index] += 1
        host = Host(i, zone, slot, vmid=100 + i if i % 7 else None, v6=(i % 2 == 0))
        zone.hosts.append(host)
        hosts.append(host)
    services = make_services(rng, services_n)
    single_tcp = [s for s in services if s.single_tcp()]

    proxy = zones[1].hosts[0]   # the reverse proxy and the VPN server sit in z001
    vpn_host = zones[1].hosts[1]
    openvpn = Service("openvpn", [("udp", "1194")])
    web = Service("web", [("tcp", "80, 443")])
    dns = Service("dns", [("udp", "53"), ("tcp", "53")])
    services += [openvpn, web, dns]

    # Flows: (src, dst, [services]) with src/dst a Zone or a Host.
    rules = []
    seen = set()
    count = 0
    # Deterministic per-variant perturbation: the variant drops some flows, adds others.
    vrng = random.Random(seed * 1000 + variant)
    while count < flows_n:
        r = rng.random()
        if r < 0.30:
            src, dst = rng.choice(zones), rng.choice(zones)
        elif r < 0.40:
            src, dst = rng.choice(zones), rng.choice(hosts)
        else:
            src, dst = rng.choice(hosts), rng.choice(hosts)
        if src is dst:
            continue
        k = rng.choice((1, 1, 2, 3, 4))
        svcs = rng.sample(services[:services_n], k)
        svcs = [s for s in svcs if (src.name, dst.name, s.name) not in seen]
        if not svcs:
            continue
        for s in svcs:
            seen.add((src.name, dst.name, s.name))
        count += len(svcs)
        if variant and vrng.random() < 0.002:
            continue  # this variant loses the flow
        rules.append(("allow", src, dst, svcs))
    if variant:
        for _ in range(5):
            rules.append(("allow", rng.choice(hosts), rng.choice(hosts), [web]))
    # Some zones reach the Internet for web and DNS.
    outbound = [z for z in zones if z.index % 3 == 0]
    # A few denies first (first match wins): carve exceptions out of the zone rules.
    denies = []
    for _ in range(max(5, flows_n // 500)):
        denies.append(("deny", rng.choice(zones), rng.choice(hosts), [rng.choice(services[:services_n])]))
    published = []
    for i in range(publish_n):
        backend = rng.choice(hosts)
        published.append((f"app{i}.lab.example", backend, rng.choice(single_tcp),
                          sorted({rng.choice(zones).name for _ in range(2)}) + ["vpnpool"]))
    return dict(zones=zones, hosts=hosts, services=services, rules=denies + rules,
                outbound=outbound, proxy=proxy, vpn_host=vpn_host, published=published,
                openvpn=openvpn, web=web, dns=dns)


def write_npol(path, t):
    out = ["# Synthetic netpol policy written by bench/gen_policy.py: do not edit.", ""]
    for z in t["zones"]:
        if z.parent:
            out.append(f"zone {z.name} in {z.parent.name}")
        else:
            out.append(f"zone {z.name} {{ bridge vmbr{z.bridge_index} }}")
    out += ["zone vpnpool", "zone internet", ""]
    for z in t["zones"]:
        out.append(f"address {z.name} {z.v4}, {z.v6}")
    out += ["address vpnpool 10.250.0.0/24, fd00:fa::/64", "address internet 0.0.0.0/0, ::/0", ""]
    pve = t["zones"][0].hosts[0]
    for h in t["hosts"]:
        if h is pve:
            out.append(f"node {h.name} in {h.zone.name}")
        elif h.vmid:
            out.append(f"host {h.name} in {h.zone.name} {{ vmid {h.vmid} }}")
        else:
            out.append(f"host {h.name} in {h.zone.name}")
        out.append(f"address {h.name} {h.v4}" + (f", {h.v6}" if h.v6 else ""))
    out.append("")
    for s in t["services"]:
        out.append(f"service {s.name} {s.npol()}")
    out.append("")
    protected = [z.name for z in t["zones"] if z.index != 1]
    out.append(f"never internet -> {', '.join(protected)} : any")
    out.append(f"never internet, vpnpool -> {pve.name} : tcp/22")
    out.append("")
    for verb, src, dst, svcs in t["rules"]:
        out.append(f"{verb} {src.name} -> {dst.name} : {', '.join(s.name for s in svcs)}")
    out.append(f"allow {', '.join(z.name for z in t['outbound'])} -> internet : web, dns")
    out.append("")
    out += [f"vpn remote on {t['vpn_host'].name} {{",
            "  listen openvpn from internet",
            "  pool vpnpool",
            f"  route {t['zones'][1].name}, {t['zones'][2].name}",
            "}", ""]
    for domain, backend, svc, clients in t["published"]:
        out.append(f"publish {domain} on {t['proxy'].name} -> {backend.name}:{svc.name} "
                   f"{{ tls  from {', '.join(clients)} }}")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---- Shorewall --------------------------------------------------------------

CAPABILITIES_ON = """MANGLE_ENABLED MULTIPORT XMULTIPORT EMULTIPORT CONNTRACK_MATCH NEW_CONNTRACK_MATCH
POLICY_MATCH PHYSDEV_MATCH PHYSDEV_BRIDGE LENGTH_MATCH IPRANGE_MATCH RECENT_MATCH REAP_OPTION
OWNER_MATCH IPSET_MATCH IPSET_V5 CONNMARK XCONNMARK CONNMARK_MATCH XCONNMARK_MATCH RAW_TABLE
CLASSIFY_TARGET ENHANCED_REJECT KLUDGEFREE MARK XMARK EXMARK MANGLE_FORWARD COMMENTS ADDRTYPE
TCPMSS_MATCH HASHLIMIT_MATCH NFQUEUE_TARGET REALM_MATCH HELPER_MATCH CONNLIMIT_MATCH TIME_MATCH
GOTO_TARGET LOG_TARGET NFLOG_TARGET LOGMARK_TARGET PERSISTENT_SNAT FLOW_FILTER FWMARK_RT_MASK
MARK_ANYWHERE HEADER_MATCH AUDIT_TARGET IPTABLES_S BASIC_FILTER BASIC_EMATCH CT_TARGET
STATISTIC_MATCH DSCP_MATCH DSCP_TARGET RPFILTER_MATCH NFACCT_MATCH CHECKSUM_TARGET MASQUERADE_TGT
NEW_TOS_MATCH IFACE_MATCH TCPMSS_TARGET WAIT_OPTION CPU_FANOUT NETMAP_TARGET NFLOG_SIZE
NAT_INPUT_CHAIN CONNMARK_ACTION NAT_ENABLED""".split()


def shorewall_ports(ports):
    # netpol "80, 443, 8000-8099" -> shorewall "80,443,8000:8099"
    return ",".join(p.strip().replace("-", ":") for p in ports.split(","))


def write_shorewall(path, t, family):
    """family 4: shorewall (IPv4); 6: shorewall6 (IPv6)."""
    os.makedirs(path, exist_ok=True)
    v6 = family == 6
    kind = "ipv6" if v6 else "ipv4"
    zones = t["zones"]

    def addr(x):
        return f"[{x}]" if v6 else x

    def endpoint(e):
        """A netpol endpoint in Shorewall's zone[:address] form, or None (no address of this family)."""
        if isinstance(e, Zone):
            return e.name
        a = e.v6 if v6 else e.v4
        return f"{e.zone.name}:{addr(a)}" if a else None

    def lines_for(action, src, dst, svc):
        rows = []
        for proto, ports in svc.specs:
            if proto == "icmp":
                rows.append(f"{action}\t{src}\t{dst}\t{'ipv6-icmp' if v6 else 'icmp'}\t"
                            f"{'echo-request' if ports else '-'}")
            else:
                rows.append(f"{action}\t{src}\t{dst}\t{proto}\t{shorewall_ports(ports)}")
        return rows

    with open(os.path.join(path, "zones"), "w") as f:
        f.write("#ZONE\tTYPE\n")
        f.write("fw\tfirewall\n")
        for z in zones:
            f.write(f"{z.name}:{z.parent.name}\t{kind}\n" if z.parent else f"{z.name}\t{kind}\n")
        f.write(f"vpn\t{kind}\nnet\t{kind}\n")
    with open(os.path.join(path, "interfaces"), "w") as f:
        f.write("?FORMAT 2\n#ZONE\tINTERFACE\tOPTIONS\n")
        for z in zones:
            if not z.parent:
                f.write(f"{z.name}\tvmbr{z.index}\tbridge\n")
        f.write("vpn\ttun0\t-\nnet\teth0\t-\n")
    with open(os.path.join(path, "hosts"), "w") as f:
        f.write("#ZONE\tHOSTS\n")
        for z in zones:
            if z.parent:
                net = z.v6 if v6 else z.v4
                f.write(f"{z.name}\tvmbr{z.bridge_index}:{addr(net)}\n")
    with open(os.path.join(path, "policy"), "w") as f:
        f.write("#SOURCE\tDEST\tPOLICY\nall\tall\tDROP\n")
    rules = ["?SECTION NEW", "#ACTION\tSOURCE\tDEST\tPROTO\tDPORT"]
    for verb, src, dst, svcs in t["rules"]:
        s, d = endpoint(src), endpoint(dst)
        if s is None or d is None:
            continue
        for svc in svcs:
            rules += lines_for("ACCEPT" if verb == "allow" else "DROP", s, d, svc)
    for z in t["outbound"]:
        for svc in (t["web"], t["dns"]):
            rules += lines_for("ACCEPT", z.name, "net", svc)
    vpn_ep = endpoint(t["vpn_host"])
    if vpn_ep:
        rules += lines_for("ACCEPT", "net", vpn_ep, t["openvpn"])
    proxy_ep = endpoint(t["proxy"])
    for _, backend, svc, clients in t["published"]:
        back_ep = endpoint(backend)
        if proxy_ep is None:
            continue
        for c in clients:
            rules += lines_for("ACCEPT", "vpn" if c == "vpnpool" else c, proxy_ep,
                               Service("https", [("tcp", "443")]))
        if back_ep:
            rules += lines_for("ACCEPT", proxy_ep, back_ep, svc)
    with open(os.path.join(path, "rules"), "w") as f:
        f.write("\n".join(rules) + "\n")
    name = "shorewall6" if v6 else "shorewall"
    with open(os.path.join(path, f"{name}.conf"), "w") as f:
        f.write("STARTUP_ENABLED=No\nVERBOSITY=0\nLOGFILE=/dev/null\nIP_FORWARDING=On\n"
                "AUTOMAKE=No\nBLACKLIST=\"NEW,INVALID,UNTRACKED\"\n")
    with open(os.path.join(path, "capabilities"), "w") as f:
        f.write("# written by bench/gen_policy.py: a modern kernel, so compile -e needs no probe\n")
        for cap in CAPABILITIES_ON:
            f.write(f"{cap}=Yes\n")
        f.write("CAPVERSION=50207\nKERNELVERSION=60100\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", choices=["S", "M", "L"])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--variant", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    if args.size == "S":
        write_small(args.outdir, args.variant)
        return 0
    t = build(args.size, args.seed, args.variant)
    write_npol(os.path.join(args.outdir, "policy.npol"), t)
    write_shorewall(os.path.join(args.outdir, "shorewall"), t, 4)
    write_shorewall(os.path.join(args.outdir, "shorewall6"), t, 6)
    return 0


def write_small(outdir, variant):
    """S is the home lab itself; its Shorewall twin is written by hand below."""
    for name in ("homelab.npol", "homelab-addresses.npol", "flows.npol"):
        shutil.copy(os.path.join(REPO, "policy", name), outdir)
    os.rename(os.path.join(outdir, "homelab.npol"), os.path.join(outdir, "policy.npol"))
    if variant:  # a changed flow for diff: Grafana also reachable from the VPN
        flows = os.path.join(outdir, "flows.npol")
        text = open(flows).read().replace("-> vm-intranet:grafana    { tls  from lan }",
                                          "-> vm-intranet:grafana    { tls  from lan, vpn }")
        open(flows, "w").write(text)
    t = homelab_topology()
    write_shorewall(os.path.join(outdir, "shorewall"), t, 4)
    write_shorewall(os.path.join(outdir, "shorewall6"), t, 6)


def homelab_topology():
    """policy/flows.npol + homelab-addresses.npol, in this module's model (for Shorewall only)."""
    lan, intra, extra = Zone(0), None, Zone(1)
    intra = Zone(2, parent=lan)
    lan.name, intra.name, extra.name = "lan", "intra", "extra"
    lan.v4, lan.v6 = "192.168.1.0/24", "fd42:0:0:1::/64"
    intra.v4, intra.v6 = "192.168.1.16/28", "fd42:0:0:1:ff::/80"
    extra.v4, extra.v6 = "192.168.10.0/24", "fd42:0:0:10::/64"

    def host(name, zone, v4, v6):
        h = Host.__new__(Host)
        h.name, h.zone, h.v4, h.v6, h.vmid = name, zone, v4, v6, None
        return h
    pve = host("pve", lan, "192.168.1.2", None)
    vmi = host("vm-intranet", intra, "192.168.1.20", "fd42:0:0:1:ff::20")
    vme = host("vm-extranet", extra, "192.168.10.10", "fd42:0:0:10::10")
    S = lambda n, *specs: Service(n, list(specs))  # noqa: E731
    ssh, http, https = S("ssh", ("tcp", "22")), S("http", ("tcp", "80")), S("https", ("tcp", "443"))
    dns, smtp = S("dns", ("udp", "53"), ("tcp", "53")), S("smtp", ("tcp", "25"), ("tcp", "587"))
    openvpn = S("openvpn", ("udp", "1194"))
    jelly, iapi, iml = S("jellyfin", ("tcp", "8096")), S("immich-api", ("tcp", "2283")), S("immich-ml", ("tcp", "3001"))
    prom, graf = S("prometheus", ("tcp", "9090")), S("grafana", ("tcp", "3000"))
    nodex, pveui = S("node-exporter", ("tcp", "9100")), S("pve-ui", ("tcp", "8006"))
    anyport = S("allports", ("tcp", "1-65535"), ("udp", "1-65535"))
    internet = Zone(3)
    internet.name = "net"
    rules = [("allow", lan, extra, [https, http, openvpn]),
             ("allow", extra, intra, [jelly, iapi, iml, prom]),
             ("allow", intra, extra, [https, dns, smtp]),
             ("allow", vmi, vme, [nodex]),
             ("allow", intra, internet, [anyport]),
             ("allow", lan, vmi, [ssh]), ("allow", lan, vme, [ssh]),
             ("allow", lan, pve, [ssh, pveui])]
    published = [("jellyfin.home.arpa", vmi, jelly, ["lan", "vpnpool"]),
                 ("photos.home.arpa", vmi, iapi, ["lan", "vpnpool"]),
                 ("grafana.home.arpa", vmi, graf, ["lan"])]
    return dict(zones=[lan, extra, intra], hosts=[pve, vmi, vme], services=[], rules=rules,
                outbound=[], proxy=vme, vpn_host=vme, published=published,
                openvpn=openvpn, web=S("web", ("tcp", "80,443")), dns=dns)


if __name__ == "__main__":
    sys.exit(main())
