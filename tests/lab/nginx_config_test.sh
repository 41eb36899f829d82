#!/usr/bin/env bash
# Debian's `nginx -t` accepts every out/nginx/ file of the homelab and lab policies, included
# unchanged by a minimal nginx.conf with self-signed certificates where the files expect them
# (nginx_env.sh, formats.md 3.6); and the same check fails on a broken file and on a missing
# certificate, so it proves something. No root, no network.
#   bash tests/lab/nginx_config_test.sh NETPOLC SOURCE_DIR
set -u
netpolc="${1:?usage: nginx_config_test.sh NETPOLC SOURCE_DIR}"
src="${2:?}"
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }

for tool in nginx openssl; do
    command -v "$tool" >/dev/null || { fail "missing '$tool' (apt-get install nginx-light openssl)"; finish; }
done
# shellcheck source=nginx_env.sh
. "$src/tests/lab/nginx_env.sh"
tmp="$(mktemp -d /tmp/netpol-nginx-t.XXXXXX)"
trap 'rm -rf -- "$tmp"' EXIT

for policy in homelab lab; do
    if ! "$netpolc" compile "$src/policy/$policy.npol" -o "$tmp/$policy-out" >/dev/null 2>"$tmp/err"; then
        fail "$policy: netpolc compile failed: $(cat "$tmp/err")"
        continue
    fi
    n=$(ls "$tmp/$policy-out/nginx/"*.conf 2>/dev/null | wc -l)
    if nginx_env_prepare "$tmp/$policy" "$tmp/$policy-out/nginx" && out=$(nginx_env_check "$tmp/$policy"); then
        pass "$policy: nginx -t accepts all $n files"
    else
        fail "$policy: nginx -t refused the compiled files:"; printf '%s\n' "${out:-}"
    fi
done

# The check can fail: a directive nginx does not know, and a certificate that is not there.
cp -r "$tmp/lab" "$tmp/broken"
sed -i 's/^    deny all;$/    deny all;\n    bogus_directive on;/' "$tmp/broken/servers/grafana.home.arpa.conf"
if out=$(nginx_env_check "$tmp/broken"); then
    fail "nginx -t accepted a broken file"
else
    case "$out" in *'unknown directive "bogus_directive"'*) pass "nginx -t refuses a broken file" ;;
        *) fail "nginx -t failed for another reason: $out" ;; esac
fi
cp -r "$tmp/lab" "$tmp/nocert"
rm "$tmp/nocert/netpol/tls/jellyfin.home.arpa.crt"
if out=$(nginx_env_check "$tmp/nocert"); then
    fail "nginx -t accepted a missing certificate: the certificate paths are not what the test thinks"
else
    case "$out" in *'jellyfin.home.arpa.crt'*) pass "nginx -t reads the certificate where the file names it" ;;
        *) fail "nginx -t failed for another reason: $out" ;; esac
fi
finish
