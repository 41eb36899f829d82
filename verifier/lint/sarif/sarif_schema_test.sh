#!/usr/bin/env bash
# The SARIF output validates against the SARIF 2.1.0 JSON schema (validate_sarif.js), for a policy
# without findings, one with every lint code, and policies with compiler errors; the validator is
# proven to reject broken logs; --werror turns warnings into a failing exit.
#   bash verifier/lint/sarif/sarif_schema_test.sh NETPOLC SOURCE_DIR NODE_DIR
set -u
report="${1:?usage: sarif_schema_test.sh NETPOLC SOURCE_DIR NODE_DIR}"
src="${2:?}"
node_dir="${3:?}"
here="$src/verifier/lint/sarif"
export NODE_PATH="$node_dir/node_modules"
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }

[ -d "$NODE_PATH/ajv-draft-04" ] || { fail "node packages missing in $NODE_PATH (run: bash $here/install.sh $node_dir)"; finish; }
tmp="$(mktemp -d /tmp/netpol-sarif.XXXXXX)"
trap 'rm -rf -- "$tmp"' EXIT

# NAME POLICY EXPECTED_EXIT [--werror]: render as SARIF (from SOURCE_DIR, so paths are relative) and validate.
check() {
    local name="$1" policy="$2" want="$3"; shift 3
    (cd "$src" && "$report" check --format sarif "$@" "$policy") >"$tmp/$name.sarif" 2>"$tmp/$name.err"
    local got=$?
    if [ "$got" -eq "$want" ]; then pass "$name: exit $got"; else fail "$name: exit $got, expected $want"; cat "$tmp/$name.err"; fi
    if timeout 60 node "$here/validate_sarif.js" "$tmp/$name.sarif" >"$tmp/$name.ajv" 2>&1; then
        pass "$name: valid SARIF 2.1.0 ($(grep -c '"ruleId"' "$tmp/$name.sarif") results)"
    else
        fail "$name: invalid SARIF:"; cat "$tmp/$name.ajv"
    fi
}
check homelab policy/homelab.npol 0 --werror
check findings verifier/lint/testdata/findings.npol 1
check syntax-errors tests/policies/errors/E100-several-syntax-errors.npol 1
check never-violated tests/policies/errors/E401-publish-breaks-never.npol 1
check included-file tests/policies/errors/E100-syntax-errors-in-included-file/main.npol 1
check absolute-path "$src/verifier/lint/testdata/findings.npol" 1

# The findings log holds every lint code, each with a rule, and points at the policy lines.
for code in W800 E801 W802 W803 W804 W805 W806 W807; do
    if grep -q "\"ruleId\": \"$code\"" "$tmp/findings.sarif" && grep -q "\"id\": \"$code\"" "$tmp/findings.sarif"; then
        pass "findings: $code has a result and a rule"
    else
        fail "findings: no result or rule for $code"
    fi
done
if grep -q '"uri": "verifier/lint/testdata/findings.npol"' "$tmp/findings.sarif"; then pass "findings: relative uri as given"
else fail "findings: uri"; grep '"uri"' "$tmp/findings.sarif" | head -3; fi
if grep -q '"uri": "file:///' "$tmp/absolute-path.sarif"; then pass "absolute path: file: uri"; else fail "absolute path: uri"; fi
# A clean policy: with --werror no warnings either; exits 1 with --werror when it has warnings.
(cd "$src" && "$report" check --werror verifier/lint/testdata/findings.npol) >/dev/null 2>&1 && fail "--werror passed a policy with findings" || pass "--werror fails on findings"

# The validator rejects broken logs (so a pass above means something).
timeout 30 node -e '
const fs = require("fs");
const log = JSON.parse(fs.readFileSync(process.argv[1] + "/findings.sarif"));
const save = (name, f) => { const l = JSON.parse(JSON.stringify(log)); f(l); fs.writeFileSync(process.argv[1] + "/" + name + ".bad", JSON.stringify(l)); };
save("no-version", (l) => { delete l.version; });
save("bad-level", (l) => { l.runs[0].results[0].level = "fatal"; });
save("line-zero", (l) => { l.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0; });
save("no-driver-name", (l) => { delete l.runs[0].tool.driver.name; });' "$tmp"
for bad in no-version bad-level line-zero no-driver-name; do
    timeout 60 node "$here/validate_sarif.js" "$tmp/$bad.bad" >"$tmp/$bad.ajv" 2>&1
    if [ $? -eq 1 ] && grep -q "^FAIL .*must" "$tmp/$bad.ajv"; then
        pass "validator rejects $bad: $(cut -c1-160 "$tmp/$bad.ajv")"
    else
        fail "validator did not reject a broken log ($bad):"; cat "$tmp/$bad.ajv"
    fi
done
finish
