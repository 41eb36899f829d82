#!/usr/bin/env bash
# Every out/npm/*.json payload of the homelab and lab policies passes NPM's own request schemas
# (Ajv 2020 + NPM's options, npm_schemas.js), and the validator is proven to reject bad bodies.
#   bash tests/npm/schema_test.sh NETPOLC SOURCE_DIR NODE_DIR
set -u
netpolc="${1:?usage: schema_test.sh NETPOLC SOURCE_DIR NODE_DIR}"
src="${2:?}"
node_dir="${3:?}"
here="$src/tests/npm"
export NODE_PATH="$node_dir/node_modules"
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }

[ -d "$NODE_PATH/ajv" ] || { fail "node packages missing in $NODE_PATH (run: bash tests/npm/install.sh $node_dir)"; finish; }
tmp="$(mktemp -d /tmp/netpol-npm-schema.XXXXXX)"
trap 'rm -rf -- "$tmp"' EXIT

for policy in homelab lab; do
    if "$netpolc" compile "$src/policy/$policy.npol" -o "$tmp/$policy" >"$tmp/$policy.log" 2>&1; then
        if timeout 60 node "$here/validate_payloads.js" "$tmp/$policy/npm" >"$tmp/$policy.ajv" 2>&1; then
            pass "$policy: every payload passes NPM's schemas ($(grep -c '^PASS' "$tmp/$policy.ajv") checks)"
        else
            fail "$policy: payloads rejected:"; grep -v '^PASS' "$tmp/$policy.ajv"
        fi
    else
        fail "$policy: netpolc compile failed:"; cat "$tmp/$policy.log"
    fi
done

# The validator itself: a bad body must be rejected with NPM's own message (formats.md 3.6).
# shellcheck disable=SC2016
out=$(timeout 60 node -e '
require(process.argv[1]).loadValidators().then((v) => {
  const show = (label, error) => console.log(label + ": " + error);
  show("bad-host", v.createProxyHost({domain_names: ["bad name.example.test"], forward_scheme: "ftp",
                                      forward_host: "198.18.1.20", forward_port: 80, extra: 1}));
  show("good-host", v.createProxyHost({domain_names: ["good.example.test"], forward_scheme: "http",
                                       forward_host: "198.18.1.20", forward_port: 80}));
  show("mapped-v6", v.createAccessList({name: "x", clients: [{directive: "allow", address: "::ffff:198.18.0.1"}]}));
  show("empty-put", v.updateProxyHost({}));
  show("token", v.token({identity: "a@example.test"}));
}).catch((e) => { console.error(e); process.exit(1); });' "$here/npm_schemas.js" 2>&1)
expect() { # LABEL TEXT : the line "LABEL: ..." contains TEXT
    local line
    while IFS= read -r line; do
        if [[ "$line" == "$1: "* && "$line" == *"$2"* ]]; then pass "validator: $1 -> $2"; return; fi
    done <<<"$out"
    fail "validator: $1: expected '$2' in:"; printf '%s\n' "$out"
}
expect bad-host 'data must NOT have additional properties, data/domain_names/0 must match pattern "^[^&| @!#%^();:/\\}{=+?<>,~`'"'"'"]+$", data/forward_scheme must be equal to one of the allowed values'
expect good-host 'null'
expect mapped-v6 'data/clients/0/address must match exactly one schema in oneOf'
expect empty-put 'data must NOT have fewer than 1 properties'
expect token "data must have required property 'secret'"

# validate_payloads.js's own checks catch what the schema lets through.
mkdir -p "$tmp/bad"
cp "$tmp/lab/npm/access-lists.json" "$tmp/bad/"
timeout 30 node -e '
const fs = require("fs");
const hosts = JSON.parse(fs.readFileSync(process.argv[1] + "/lab/npm/proxy-hosts.json"));
hosts[0].advanced_config = "allow all;";    /* NPM accepts it: netpol must never write it */
hosts[1].forward_port = String(hosts[1].forward_port);  /* valid only through coercion */
fs.writeFileSync(process.argv[1] + "/bad/proxy-hosts.json", JSON.stringify(hosts));' "$tmp"
bad=$(timeout 60 node "$here/validate_payloads.js" "$tmp/bad" 2>&1)
if [ $? -ne 0 ] && printf '%s' "$bad" | grep -q "advanced_config must never be emitted" \
    && printf '%s' "$bad" | grep -q "valid only after type coercion"; then
    pass "validate_payloads.js refuses advanced_config and coerced types"
else
    fail "validate_payloads.js accepted a bad file:"; printf '%s\n' "$bad"
fi
finish
