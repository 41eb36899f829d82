#include "ufw_target.h"

#include "comment.h"
#include "ufw_docker.h"
#include "ufw_plan.h"
#include "ufw_rule.h"

namespace netpol {

namespace {

using ufw::Rule;

std::string describe(const ir::Policy& p, const ufw::HostRules& h) {
  const auto& host = p.hosts[static_cast<std::size_t>(h.host)];
  return host.name + " (VM " + std::to_string(*host.vmid) + ")";
}

std::vector<std::string> rules_header(const ir::Policy& p, const ufw::HostRules& h, bool v6) {
  return {provenance(p),
          std::string(v6 ? "user6.rules" : "user.rules") + " of " + describe(p, h) +
              ": defaults deny incoming, outgoing and routed; allow rules only, in any order",
          std::string("install as /etc/ufw/") + (v6 ? "user6.rules" : "user.rules") +
              " (temp file, then rename), then run ufw reload: see docs/targets/ufw.md"};
}

// The script's fixed parts: checks, defaults, stale-rule removal, enable.
const char* kScriptChecks = R"sh(set -eu
set -f  # no globbing: rule specs below are split into words on purpose

[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 1; }
command -v ufw >/dev/null 2>&1 || { echo "$0: ufw is not installed" >&2; exit 1; }
)sh";

const char* kIpv6Check = R"sh(grep -qx 'IPV6=yes' /etc/default/ufw || { echo "$0: this VM has IPv6 rules: set IPV6=yes in /etc/default/ufw" >&2; exit 1; }
)sh";

const char* kDefaults = R"sh(
# 1. Defaults first: from here on everything the rules below do not allow is denied.
ufw default deny incoming
ufw default deny outgoing
ufw default deny routed

# 2. Every rule of the policy. ufw skips a rule it already has and updates its comment.
)sh";

const char* kRemoveStale = R"sh(
# 3. Delete the rules the policy no longer has. Only when ufw lists every wanted rule
#    as expected (ufw 0.36.2's format): otherwise nothing is deleted.
current=$(ufw show added | sed -e '/^ufw /!d' -e 's/^ufw //' -e "s/ comment '.*//")
status=0
while IFS= read -r spec; do
    [ -n "$spec" ] || continue
    if ! printf '%s\n' "$current" | grep -Fqx -e "$spec"; then
        echo "$0: ufw does not list '$spec': not deleting anything" >&2
        status=1
    fi
done <<EOF
$wanted
EOF
if [ "$status" -eq 0 ]; then
    while IFS= read -r spec; do
        [ -n "$spec" ] || continue
        printf '%s\n' "$wanted" | grep -Fqx -e "$spec" && continue
        echo "deleting a rule the policy does not have: ufw $spec"
        set -- $spec
        if [ "$1" = route ]; then
            shift
            ufw route delete "$@" </dev/null || status=1
        else
            ufw delete "$@" </dev/null || status=1
        fi
    done <<EOF
$current
EOF
fi

# 4. Enable (or reload): the files now hold exactly the policy's rules.
ufw --force enable
exit "$status"
)sh";

std::string script(const ir::Policy& p, const ufw::HostRules& h, const std::string& docker_block) {
  std::string out = "#!/bin/sh\n# " + provenance(p) + "\n";
  out += "# ufw of " + describe(p, h) + ": deny incoming, outgoing and routed; allow what the policy allows.\n";
  out += "# Run as root on the VM. Re-runnable: no step allows more than the old and the new rules together.\n";
  out += kScriptChecks;
  if (!h.v6.empty()) out += kIpv6Check;
  out += kDefaults;
  for (const auto* rules : {&h.v4, &h.v6})
    for (const auto& r : *rules) out += "ufw " + ufw::cli_args(r) + "\n";
  if (!docker_block.empty()) out += ufw::docker_script_step(docker_block);
  out += "\n# The policy's rules as `ufw show added` prints them (without comments).\nwanted='";
  for (const auto* rules : {&h.v4, &h.v6})
    for (const auto& r : *rules) out += ufw::added_spec(r) + "\n";
  out += "'\n";
  out += kRemoveStale;
  return out;
}

}  // namespace

void emit_ufw(const ir::Policy& policy, OutputSet& out, Diagnostics& diags) {
  for (const auto& h : ufw::plan_ufw(policy, diags)) {
    std::string base = "ufw/" + policy.hosts[static_cast<std::size_t>(h.host)].name;
    std::string docker_block;  // a Docker host: the after.rules block that polices Docker's traffic
    if (policy.hosts[static_cast<std::size_t>(h.host)].docker) {
      docker_block = ufw::docker_after_rules(
          policy, h.host,
          {provenance(policy), "Docker on " + describe(policy, h) + ": DOCKER-USER passes only the flows of the policy",
           "append to /etc/ufw/after.rules (the .sh does), then ufw reload: see docs/targets/ufw.md"});
      out[base + ".after.rules"] = docker_block;
    }
    out[base + ".rules"] = ufw::user_rules_file(h.v4, false, rules_header(policy, h, false));
    out[base + ".rules6"] = ufw::user_rules_file(h.v6, true, rules_header(policy, h, true));
    out[base + ".sh"] = script(policy, h, docker_block);
  }
}

}  // namespace netpol
