#include "ufw_docker.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "address_sets.h"
#include "comment.h"
#include "ufw_plan.h"

namespace netpol::ufw {

namespace {

using Kind = ir::Endpoint::Kind;

// The flow end stands for the VM: the VM itself, or its zone with the VM not excepted.
bool covers(const ir::Policy& p, const ir::FlowEnd& end, int vm) {
  if (end.endpoint.kind == Kind::host) return end.endpoint.id == vm;
  const auto& except = end.except_hosts;
  return end.endpoint.id == p.hosts[static_cast<std::size_t>(vm)].zone &&
         std::find(except.begin(), except.end(), vm) == except.end();
}

// What ufw can hold; the plan reports everything else (E712, W710) for the same flows. The
// comment also goes into the block as a `#` line, single-quoted in the .sh.
bool writable(const ir::Flow& f, const std::string& comment) {
  bool ports_ok = f.ports.first >= 1 && f.ports.first <= f.ports.last;
  bool comment_ok = !comment.empty() && std::all_of(comment.begin(), comment.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e && c != '\'';
  });
  return ports_ok && comment_ok && f.proto != ir::Proto::icmp;
}

// One group of lines of a chain: the far end's network, protocol and policy rule; the ports are
// gathered per group and merged as for the ufw rules.
struct Key {
  Cidr net;
  ir::Proto proto = ir::Proto::tcp;
  int rule = -1;
  auto operator<=>(const Key&) const = default;
};

class Chain {
 public:
  void add(const Key& key, ir::PortRange ports) {
    auto [it, fresh] = ports_.try_emplace(key);
    if (fresh) order_.push_back(key);
    it->second.push_back(ports);
  }

  // Groups in flow order, each policy rule's lines after its comment; `line` writes one rule.
  template <class Line>
  std::string text(const ir::Policy& policy, Line line) const {
    std::string out;
    int last_rule = -1;
    for (const auto& key : order_) {
      if (key.rule != last_rule) out += "# " + rule_comment(policy, key.rule) + "\n";
      last_rule = key.rule;
      for (const auto& list : port_lists(ports_.at(key))) out += line(key, list);
    }
    return out;
  }

 private:
  std::vector<Key> order_;
  std::map<Key, std::vector<ir::PortRange>> ports_;
};

std::vector<Cidr> v4_only(const std::vector<Cidr>& cidrs) {
  std::vector<Cidr> out;
  for (const auto& c : cidrs)
    if (c.family == Family::v4) out.push_back(c);
  return out;
}

// "22,8096,1000:2000" -> "22", "8096", "1000:2000": conntrack matches one port or range a rule.
std::vector<std::string> items(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

std::string docker_after_rules(const ir::Policy& policy, int vm, const std::vector<std::string>& header) {
  const std::string in_chain = kDockerInChain, out_chain = kDockerOutChain;
  const auto own = v4_only(policy.hosts[static_cast<std::size_t>(vm)].addresses);
  std::map<ir::FlowEnd, std::vector<Cidr>> nets;
  auto networks = [&](const ir::FlowEnd& end) -> const std::vector<Cidr>& {
    auto it = nets.find(end);
    if (it == nets.end()) it = nets.emplace(end, v4_only(disjoint_cidrs(address_set(policy, end)))).first;
    return it->second;
  };
  Chain into, out_of;
  for (const auto& f : policy.flows) {
    if (!writable(f, rule_comment(policy, f.rule))) continue;
    if (covers(policy, f.destination, vm))
      for (const auto& s : networks(f.source)) into.add({s, f.proto, f.rule}, f.ports);
    if (covers(policy, f.source, vm))
      for (const auto& d : networks(f.destination)) out_of.add({d, f.proto, f.rule}, f.ports);
  }

  std::string out = std::string(kAfterRulesBegin) + "\n";
  for (const auto& line : header) out += "# " + line + "\n";
  // No quote anywhere: the .sh single-quotes the block. Declaring a chain with iptables-restore -n empties it: Docker's `-j RETURN` goes, and so
  // does anything an older block left. The lines are in iptables-save's form.
  out += "*filter\n:DOCKER-USER - [0:0]\n:" + in_chain + " - [0:0]\n:" + out_chain + " - [0:0]\n";
  out += "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN\n";
  out += "# published ports (a DNAT by Docker), on their original destination\n";
  out += "-A DOCKER-USER -m conntrack --ctstate DNAT -j " + in_chain + "\n";
  out += "# traffic of the containers themselves\n";
  out += "-A DOCKER-USER -i docker0 -j " + out_chain + "\n";
  out += "-A DOCKER-USER -i br-+ -j " + out_chain + "\n";
  out += "# anything else is not from Docker: the ufw FORWARD chains decide, as without Docker\n";
  out += "-A DOCKER-USER -j RETURN\n";
  // The original destination: the VM's address and the published port, as the policy names them.
  out += into.text(policy, [&](const Key& key, const std::string& list) {
    std::string lines;
    for (const auto& a : own)
      for (const auto& port : items(list))
        lines += "-A " + in_chain + " -s " + key.net.str(true) + " -p " + ir::to_string(key.proto) +
                 " -m conntrack --ctorigdst " + a.str(true) + " --ctorigdstport " + port + " -j RETURN\n";
    return lines;
  });
  out += "-A " + in_chain + " -j DROP\n";
  out += "# container to container (the isolation chains of Docker still apply)\n";
  out += "-A " + out_chain + " -o docker0 -j RETURN\n";
  out += "-A " + out_chain + " -o br-+ -j RETURN\n";
  out += out_of.text(policy, [&](const Key& key, const std::string& list) {
    return "-A " + out_chain + " -d " + key.net.str(true) + " -p " + ir::to_string(key.proto) +
           " -m multiport --dports " + list + " -j RETURN\n";
  });
  out += "-A " + out_chain + " -j DROP\nCOMMIT\n";
  out += std::string(kAfterRulesEnd) + "\n";
  return out;
}

std::string docker_script_step(const std::string& block) {
  // The block is single-quoted in the script; its text comes from checked names only.
  if (block.find('\'') != std::string::npos) throw std::invalid_argument("the after.rules block holds a quote");
  std::string out = R"sh(
# 2b. Docker: DOCKER-USER passes only the policy's flows to and from the containers
#     (docs/targets/ufw.md, "Docker hosts"). The netpol block of after.rules is replaced, the rest kept.
after=)sh";
  out += kAfterRulesPath;
  out += "\nbegin='";
  out += kAfterRulesBegin;
  out += "'\nend='";
  out += kAfterRulesEnd;
  out += "'\nblock='";
  out += block;
  out += R"sh('
[ -f "$after" ] || { echo "$0: $after is missing" >&2; exit 1; }
begins=$(grep -cx -e "$begin" "$after" || true)
ends=$(grep -cx -e "$end" "$after" || true)
if [ "$begins" -gt 1 ] || [ "$begins" != "$ends" ]; then
    echo "$0: $after holds a broken netpol block ($begins begin, $ends end markers): fix it by hand" >&2
    exit 1
fi
new=$(mktemp "$after.netpol.XXXXXX")
sed -e "/^$begin\$/,/^$end\$/d" "$after" > "$new"
printf '%s' "$block" >> "$new"
if cmp -s "$new" "$after"; then
    rm -f "$new"
else
    chmod 640 "$new"
    mv -f "$new" "$after"
    echo "installed the Docker block in $after"
    if ufw status | grep -q '^Status: active'; then ufw reload; fi
fi
)sh";
  return out;
}

}  // namespace netpol::ufw
