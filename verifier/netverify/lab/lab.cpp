#include "lab.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <unistd.h>

#include "cleanup.h"
#include "checked_policy.h"
#include "diagnostics.h"
#include "interrupt.h"
#include "lab_docker.h"
#include "lab_paths.h"
#include "lab_services.h"
#include "lab_topology.h"
#include "listener.h"
#include "matrix.h"
#include "netlink.h"
#include "netns.h"
#include "output_dir.h"
#include "pipeline.h"
#include "probe_run.h"
#include "pve_nft.h"
#include "report.h"
#include "report_writer.h"
#include "service_files.h"
#include "token.h"

namespace fs = std::filesystem;

namespace netpol::live::lab {

namespace {

using ir::Endpoint;

// Every file the lab reads back (compiled output, logs) through one helper.
std::string read_file(const fs::path& p) { return read_text(p.string()); }

void say(const LabOptions& o, const std::string& line) {
  if (!o.run.quiet) std::cerr << "netverify lab: " << line << '\n';
}

bool in_lab_range(const Cidr& c) {
  if (c.family != Family::v4) return true;  // IPv6 is not probed in the lab
  const auto lab = parse_cidr("198.18.0.0/15").cidr;
  return lab->contains(c);
}

// Every address the lab gives a namespace comes from the policy: refuse any outside 198.18.0.0/15.
std::string lab_addressing_error(const ir::Policy& p) {
  for (const auto& z : p.zones)
    if (!z.catch_all)
      for (const auto& n : z.networks)
        if (!in_lab_range(n))
          return "zone " + z.name + " (" + z.location.where() + ") has " + n.str() +
                 ", outside 198.18.0.0/15: the lab only uses test addresses; give it a policy with lab "
                 "addressing (see policy/lab.npol)";
  for (const auto& h : p.hosts)
    for (const auto& a : h.addresses)
      if (!in_lab_range(a))
        return "host " + h.name + " (" + h.location.where() + ") has " + a.str(true) + ", outside 198.18.0.0/15";
  return {};
}

// Everything the run made, torn down in reverse on every way out (unless --keep).
struct Lab {
  LabTopology topology;
  Processes processes;
  TokenLog tokens;
  std::map<std::string, std::unique_ptr<Listener>> listeners;  // by namespace
  std::unique_ptr<Netlink> nl = make_libnl_netlink();

  void tear_down() {
    for (auto& [ns, l] : listeners) l->stop();
    listeners.clear();
    processes.stop_all();
    for (auto it = topology.namespaces.rbegin(); it != topology.namespaces.rend(); ++it) netns_delete(*it);
    cleanup_leftovers(*nl, kLabPrefix);
  }
};

std::vector<ListenSpec> listen_specs(const Plan& plan) {
  std::vector<ListenSpec> specs;
  for (const auto& p : plan.ports)
    specs.push_back({"0.0.0.0", p.proto == ir::Proto::udp ? L4::udp : L4::tcp, p.range.first});
  return specs;
}

// A shell-free run of a tool; its output goes to `log`, and a failure names the log's tail.
void run_tool(Lab& lab, const std::string& ns, const std::vector<std::string>& argv, const fs::path& log,
              int seconds = 30) {
  const int status = lab.processes.run(ns, argv, log.string(), std::chrono::seconds(seconds));
  if (status != 0) {
    std::string tail = read_file(log);
    if (tail.size() > 600) tail = tail.substr(tail.size() - 600);
    throw ToolError(argv[0] + " failed in " + (ns.empty() ? "the lab" : ns) + " (status " + std::to_string(status) +
                    "):\n" + tail);
  }
}

// Every DROP of the compiled Proxmox files (policies and rules) becomes a REJECT.
void reject_instead_of_drop(const fs::path& proxmox) {
  for (const auto& f : fs::directory_iterator(proxmox)) {
    std::istringstream in(read_file(f.path()));
    std::string line, text;
    while (std::getline(in, line)) {
      for (const char* from : {"policy_in: DROP", "policy_out: DROP", "IN DROP ", "OUT DROP "}) {
        const auto at = line.find(from);
        if (at != std::string::npos) line.replace(line.find("DROP", at), 4, "REJECT");
      }
      text += line + "\n";
    }
    std::ofstream(f.path(), std::ios::trunc) << text;
  }
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

void apply_node_firewall(Lab& lab, const fs::path& out, const fs::path& work, const Plan& plan, const std::string& reject) {
  PveNftInput in;
  in.cluster_fw = read_file(out / "proxmox/cluster.fw");
  in.host_fw = read_file(out / "proxmox/host.fw");
  for (const auto& [vmid, tap] : lab.topology.tap_of) {
    in.guest_fw[vmid] = read_file(out / "proxmox" / (std::to_string(vmid) + ".fw"));
    in.ports.push_back({vmid, tap});
  }
  in.node_bridges = lab.topology.bridges;
  for (const auto& d : plan.destinations)
    if (d.is_node) {
      const auto node = parse_cidr(d.address + "/" + std::to_string(d.prefix));
      in.local_network = node.canonical ? node.canonical->str() : node.cidr->str();
    }
  const auto r = render_pve_nft(in);
  if (!r.errors.empty()) {
    std::string all;
    for (const auto& e : r.errors) all += "\n  " + e;
    throw ToolError("the compiled Proxmox files do not render as nftables:" + all);
  }
  std::string script = r.script;
  if (reject == "icmp")
    for (const char* from : {"reject with tcp reset", "reject with icmpx type port-unreachable"})
      script = replace_all(script, from, "reject with icmpx type admin-prohibited");
  std::ofstream(work / "pve.nft") << script;
  run_tool(lab, lab.topology.node_ns, {"nft", "-f", (work / "pve.nft").string()}, work / "nft.log");
}

std::string tun_address(Lab& lab, const std::string& ns, const std::string& tun, const fs::path& work) {
  run_tool(lab, ns, {"ip", "-4", "-o", "addr", "show", "dev", tun}, work / "tun-addr.log");
  std::istringstream in(read_file(work / "tun-addr.log"));
  std::string word;
  while (in >> word)
    if (word == "inet" && in >> word) return word.substr(0, word.find('/'));
  throw ToolError("the VPN client's " + tun + " has no IPv4 address");
}

}  // namespace

int run_lab(const LabOptions& o) {
  InterruptGuard guard;
  auto c = load_checked_policy(o.run.policy);
  if (!c) return 2;
  const ir::Policy& policy = c->policy;
  if (auto why = lab_addressing_error(policy); !why.empty()) {
    std::cerr << "netverify lab: " << why << '\n';
    return 2;
  }
  const Matrix matrix(policy);
  PlanOptions plan_options;
  plan_options.lab = true;
  plan_options.extra_ports = o.run.extra_ports;
  Plan plan = make_plan(policy, matrix, plan_options);

  fs::path work = o.workdir;
  if (work.empty()) {
    std::string templ = (fs::temp_directory_path() / "nv-lab-XXXXXX").string();
    if (!mkdtemp(templ.data())) {
      std::cerr << "netverify lab: cannot create a work directory in " << fs::temp_directory_path() << '\n';
      return 2;
    }
    work = templ;
  }
  fs::create_directories(work);

  Lab lab;
  std::vector<Cell> cells;
  RunCounts counts;
  int rc = 2;
  try {
    if (!netns_list().empty()) {
      for (const auto& ns : netns_list())
        if (ns.rfind(kLabPrefix, 0) == 0)
          throw ToolError("a lab is already up (namespace " + ns + "): run `netverify lab down` first");
    }
    // 1. Compile, with a throwaway PKI for the VPN.
    TargetOptions targets;
    Pki pki;
    if (!policy.vpns.empty()) {
      pki = make_pki(lab.processes, (work / "pki").string(), {"client1"});
      targets.openvpn_ca = pki.ca;
      targets.openvpn_cert = pki.server_cert;
      targets.openvpn_key = pki.server_key;
      targets.openvpn_tls_crypt = pki.tls_crypt;
    }
    const OutputSet outputs = build_outputs(*c, targets);
    if (outputs.empty()) {
      for (const auto& d : c->diags.sorted()) std::cerr << render(d, c->sources, false);
      throw ToolError("the policy does not compile");
    }
    const fs::path out = work / "out";
    if (auto why = write_output_dir(out.string(), outputs); !why.empty()) throw ToolError(why);
    if (!o.reject.empty()) reject_instead_of_drop(out / "proxmox");
    if (!o.edit_compiled.empty()) run_tool(lab, "", {o.edit_compiled, out.string()}, work / "edit-compiled.log");
    throw_if_interrupted();

    // 2. The node in namespaces.
    say(o, "building the node in namespaces");
    lab.topology = lay_out(policy, plan);
    build(lab.topology, policy, plan, *lab.nl);
    throw_if_interrupted();

    // Docker hosts: a container behind Docker's own NAT, before ufw (Docker's layout empties
    // DOCKER-USER, which the ufw part below then fills). The proxy and the VPN server the lab runs
    // as real tools on the VM itself keep their ports there.
    std::set<std::pair<std::string, std::string>> on_vm;
    for (const auto& pub : policy.publishes) {
      const auto& proxy = policy.hosts[static_cast<std::size_t>(pub.proxy)].name;
      on_vm.insert({proxy, "tcp/" + std::to_string(pub.listen_port.range.first)});
      on_vm.insert({proxy, "tcp/80"});
    }
    for (const auto& vpn : policy.vpns)
      on_vm.insert({policy.hosts[static_cast<std::size_t>(vpn.server)].name,
                    std::string(vpn.listen.proto == ir::Proto::udp ? "udp/" : "tcp/") + std::to_string(vpn.listen.range.first)});
    const auto docker_hosts = lay_out_docker(policy, fs::path(o.run.policy).parent_path(), lab.topology, on_vm);
    for (const auto& d : docker_hosts) {
      netns_add(d.container_ns);
      lab.topology.namespaces.push_back(d.container_ns);
      build_docker_host(*lab.nl, lab.processes, {d.vm_ns, "docker0", d.gateway_cidr, {d.container_ns}, {d.container}},
                        (work / ("docker-" + d.host)).string());
    }
    throw_if_interrupted();

    // 3. The compiled targets, with the real tools.
    say(o, "applying the compiled targets");
    apply_node_firewall(lab, out, work, plan, o.reject);
    std::vector<std::string> ufw_hosts;
    for (const auto& h : policy.hosts)
      if (h.vmid && fs::exists(out / "ufw" / (h.name + ".rules")) && lab.topology.ns_of.count(h.name)) {
        // The compiled user.rules files, installed as ufw itself would keep them, then one `ufw enable`:
        // the same rules as the .sh (tests/lab/ufw_lab_test.sh proves it), in a second instead of a minute.
        apply_ufw_rules_files(lab.processes, lab.topology.ns_of.at(h.name), (out / "ufw" / (h.name + ".rules")).string(),
                              (out / "ufw" / (h.name + ".rules6")).string(), (work / ("ufw-" + h.name)).string());
        ufw_hosts.push_back(h.name);
        // A Docker host: the DOCKER-USER part appended to after.rules as the .sh does, then a reload.
        const auto after = out / "ufw" / (h.name + ".after.rules");
        if (h.docker && fs::exists(after)) {
          const auto scratch = work / ("ufw-" + h.name);
          std::ofstream(scratch / "etc-ufw" / "after.rules", std::ios::app) << read_file(after);
          if (run_ufw_command(lab.processes, lab.topology.ns_of.at(h.name), {"ufw", "reload"}, scratch.string(),
                              (work / ("ufw-reload-" + h.name + ".log")).string()) != 0)
            throw ToolError("ufw reload with the Docker part failed in " + h.name + ": see " +
                            (work / ("ufw-reload-" + h.name + ".log")).string());
        }
        if (!o.reject.empty())
          for (const char* direction : {"incoming", "outgoing", "routed"})
            if (run_ufw_command(lab.processes, lab.topology.ns_of.at(h.name), {"ufw", "default", "reject", direction},
                                (work / ("ufw-" + h.name)).string(), (work / ("ufw-reject-" + h.name + ".log")).string()) != 0)
              throw ToolError("ufw default reject " + std::string(direction) + " failed in " + h.name);
        throw_if_interrupted();
      }
    std::set<int> proxies;
    for (const auto& pub : policy.publishes) proxies.insert(pub.proxy);
    for (int proxy : proxies) {
      const auto& name = policy.hosts[static_cast<std::size_t>(proxy)].name;
      if (lab.topology.ns_of.count(name) && fs::exists(out / "nginx"))
        start_nginx(lab.processes, lab.topology.ns_of.at(name), (out / "nginx").string(), (work / "nginx").string());
    }
    std::string tun, vpn_address;
    fs::path openvpn_log;
    for (const auto& vpn : policy.vpns) {
      const auto& server = policy.hosts[static_cast<std::size_t>(vpn.server)];
      if (!lab.topology.ns_of.count(server.name) || lab.topology.vpn_client_ns.empty()) continue;
      start_openvpn_server(lab.processes, lab.topology.ns_of.at(server.name), (out / "openvpn/server.conf").string(),
                           (work / "openvpn-server").string());
      openvpn_log = work / "openvpn-server" / "openvpn.log";
      std::string server_address = server.addresses.empty() ? "" : server.addresses.front().str(true);
      for (const auto& a : server.addresses)
        if (a.family == Family::v4) server_address = a.str(true);
      // Clients reach the server as at home: through the router's outside address, forwarded to the
      // server (a client connecting to the server's DMZ address would route it into its own tunnel).
      const auto& internet = lab.topology.internet_subnet;
      const std::string outside = internet.substr(0, internet.rfind('.')) + ".1";
      const std::string proto = vpn.listen.proto == ir::Proto::udp ? "udp" : "tcp";
      std::ofstream(work / "router-forward.nft")
          << "table ip netverify_forward {\n  chain prerouting {\n    type nat hook prerouting priority dstnat;\n"
          << "    iifname \"inet0\" ip daddr " << outside << " " << proto << " dport " << vpn.listen.range.first
          << " dnat to " << server_address << "\n  }\n}\n";
      run_tool(lab, lab.topology.router_ns, {"nft", "-f", (work / "router-forward.nft").string()}, work / "router-nft.log");
      start_openvpn_client(lab.processes, lab.topology.vpn_client_ns, pki, "client1", outside,
                           vpn.listen.range.first, (work / "openvpn-server" / "server.conf").string(),
                           (work / "openvpn-client").string(), tun);
      vpn_address = tun_address(lab, lab.topology.vpn_client_ns, tun, work);
      break;  // one VPN client proves the pool's flows
    }
    throw_if_interrupted();

    // The VPN client's address is known now: its cells get it.
    for (auto* list : {&plan.sources, &plan.destinations})
      for (auto& e : *list)
        if (e.kind == LiveEnd::Kind::vpn_client) e.address = vpn_address;
    for (auto& e : plan.entries) {
      if (plan.sources[e.source].kind == LiveEnd::Kind::vpn_client) e.cell.source_address = vpn_address;
      if (plan.destinations[e.destination].kind == LiveEnd::Kind::vpn_client) e.cell.destination_address = vpn_address;
    }
    if (vpn_address.empty())  // no VPN client: its cells cannot be probed
      std::erase_if(plan.entries, [&](const Plan::Entry& e) {
        return plan.sources[e.source].kind == LiveEnd::Kind::vpn_client ||
               plan.destinations[e.destination].kind == LiveEnd::Kind::vpn_client;
      });

    // 4. Listeners on every probed port of every destination.
    const auto specs = listen_specs(plan);
    for (const auto& d : plan.destinations) {
      const auto& ns = lab.topology.ns_of.at(d.name);
      if (lab.listeners.count(ns)) continue;
      run_in_netns(ns, [&] { lab.listeners[ns] = Listener::start(specs, lab.tokens); });
    }
    // The containers listen on their ports; a probe DNATed to one reports its token from there.
    std::map<std::string, std::set<std::pair<L4, std::uint16_t>>> published;  // host -> (proto, host port)
    for (const auto& d : docker_hosts) {
      std::vector<ListenSpec> ports;
      for (const auto& p : d.container.ports) {
        const L4 proto = p.proto == "udp" ? L4::udp : L4::tcp;
        ports.push_back({"0.0.0.0", proto, p.container_port});
        published[d.host].insert({proto, p.host_port});
      }
      run_in_netns(d.container_ns, [&] { lab.listeners[d.container_ns] = Listener::start(ports, lab.tokens); });
    }

    // 5. The probes, from every source at once.
    std::map<std::string, SourcePlace> places;
    for (const auto& s : plan.sources) {
      if (s.kind == LiveEnd::Kind::vpn_client) {
        if (!tun.empty()) places[s.name] = {lab.topology.vpn_client_ns, tun, vpn_address};
      } else {
        places[s.name] = {lab.topology.ns_of.at(s.name), "", s.address};
      }
    }
    DestinationView view;
    // The VPN server's port is held by openvpn, whose tls-crypt drops a probe unanswered; its log
    // names each source it dropped, which proves the probe arrived.
    view.token_seen = [&](const Plan::Entry& e, const std::string& token, const ProbeResult& r) {
      if (lab.tokens.seen(token)) return true;
      if (openvpn_log.empty() || e.cell.proto != L4::udp || r.source_port == 0) return false;
      for (const auto& vpn : policy.vpns)
        if (policy.hosts[static_cast<std::size_t>(vpn.server)].name == e.cell.destination &&
            vpn.listen.range.first == e.cell.port) {
          return read_file(openvpn_log).find("[AF_INET]" + e.cell.source_address + ":" + std::to_string(r.source_port)) !=
                 std::string::npos;
        }
      return false;
    };
    view.listening = [&](const Plan::Entry& e) -> std::optional<bool> {
      const auto docker = published.find(plan.destinations[e.destination].name);
      if (docker != published.end() && docker->second.count({e.cell.proto, e.cell.port})) return true;
      const auto& l = lab.listeners.at(lab.topology.ns_of.at(plan.destinations[e.destination].name));
      for (const auto* list : {&l->bound(), &l->taken()})
        for (const auto& spec : *list)
          if (spec.proto == e.cell.proto && spec.port == e.cell.port) return true;
      return false;
    };
    say(o, "probing");
    std::vector<Plan::Entry> entries = plan.entries;
    counts = probe_entries(entries, places, o.run.prober, view, std::chrono::milliseconds(300));
    for (const auto& e : entries) cells.push_back(e.cell);
    throw_if_interrupted();

    // 6. Through the proxy: every published name from every zone and the VPN client.
    if (!policy.publishes.empty()) {
      say(o, "probing through the proxy");
      fs::create_directories(work / "curl");
      const auto through = probe_through_proxy({policy, matrix, plan, places, lab.tokens, lab.processes,
                                                (work / "curl").string()});
      cells.insert(cells.end(), through.begin(), through.end());
    }
    // 7. The VPN client's routes against the policy's.
    if (!tun.empty()) {
      const auto routes = check_vpn_routes(policy, lab.nl->routes_via(lab.topology.vpn_client_ns, tun), vpn_address);
      cells.insert(cells.end(), routes.begin(), routes.end());
    }
    throw_if_interrupted();
    // 8. Each layer alone.
    if (o.layers) {
      std::vector<Plan::Entry> layered;
      for (const auto& e : plan.entries) {
        const auto& s = plan.sources[e.source];
        const auto& d = plan.destinations[e.destination];
        if (d.vmid && s.kind == LiveEnd::Kind::zone_probe) layered.push_back(e);
      }
      auto pass = [&](const std::string& layer) {
        auto entries_now = layered;
        for (auto& e : entries_now) e.cell.layer = layer;
        const auto n = probe_entries(entries_now, places, o.run.prober, view, std::chrono::milliseconds(300));
        counts.probes += n.probes;
        counts.seconds += n.seconds;
        for (const auto& e : entries_now) cells.push_back(e.cell);
      };
      say(o, "probing the VMs' firewalls alone (the node's rules removed)");
      run_tool(lab, lab.topology.node_ns, {"nft", "flush", "ruleset"}, work / "nft-flush.log");
      pass("vm firewalls alone");
      run_tool(lab, lab.topology.node_ns, {"nft", "-f", (work / "pve.nft").string()}, work / "nft.log");
      throw_if_interrupted();
      say(o, "probing the node's firewall alone (the VMs' firewalls opened)");
      for (const auto& h : ufw_hosts)
        bypass_vm_firewall(lab.processes, lab.topology.ns_of.at(h), true, (work / ("ufw-" + h)).string());
      pass("node firewall alone");
      for (const auto& h : ufw_hosts)
        bypass_vm_firewall(lab.processes, lab.topology.ns_of.at(h), false, (work / ("ufw-" + h)).string());
    }

    RunFacts facts;
    facts.policy = o.run.policy;
    facts.policy_sha256 = policy.policy_sha256;
    facts.mode = "lab";
    facts.probes = counts.probes;
    facts.seconds = counts.seconds;
    rc = write_reports(cells, facts, o.run);
  } catch (const Interrupted& e) {
    std::cerr << "netverify lab: " << e.what() << "; tearing the lab down\n";
    rc = 128 + e.signal;
  } catch (const std::exception& e) {
    std::cerr << "netverify lab: error: " << e.what() << '\n';
    rc = 2;
  }
  if (o.keep && rc != 2 && pending_signal() == 0) {
    for (auto& [ns, l] : lab.listeners) l->stop();
    std::cerr << "netverify lab: left up (--keep): " << lab.topology.namespaces.size()
              << " namespaces; work directory " << work.string() << "; remove with `netverify lab down`\n";
    return rc;
  }
  lab.tear_down();
  std::error_code ignored;
  if (o.workdir.empty()) fs::remove_all(work, ignored);
  return rc;
}

std::vector<std::string> lab_down() {
  auto nl = make_libnl_netlink();
  return cleanup_leftovers(*nl, kLabPrefix).namespaces;
}

}  // namespace netpol::live::lab
