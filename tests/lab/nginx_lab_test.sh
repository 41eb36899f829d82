#!/bin/bash
# tests/lab/nginx_lab_test.sh - the REAL nginx serving the lab policy's out/nginx/ files,
# unchanged, in network namespaces (netns.sh; addresses from 198.18.0.0/15 only), with real HTTPS
# requests from the zones' namespaces.
#
#   lan    198.18.1.50  ─┐                      ┌─ prx  198.18.10.10  nginx (vm-extranet)
#   intra  198.18.1.17  ─┼─ br1 198.18.1.1  rtr ┤
#   back   198.18.1.20  ─┘  (lan + intranet)    └─ vpn  198.18.8.5    (a VPN client's address)
#   back = vm-intranet: HTTP backends on 8096 (jellyfin), 2283 (photos), 3000 (grafana)
#
# Policy: jellyfin and photos from lan, vpn (websocket); grafana from lan only. intranet is nested
# in lan and carved out of it, so 198.18.1.17 is no `lan` client. Assertions:
#   1. Debian's nginx -t accepts the files (nginx_env.sh: minimal nginx.conf, openssl certificates)
#   2. an allowed zone reaches each name's own backend through nginx, over TLS checked against the
#      name's certificate; the backend sees the client's address in X-Real-IP
#   3. a zone the name does not allow gets 403 (vpn -> grafana; intra -> every name)
#   4. websocket: the Upgrade header reaches jellyfin's backend, not grafana's
#   5. a name that is not published: the TLS handshake is refused (no fallback to another backend)
#   6. the root namespace is unchanged
# Skips (exit 0) when not root.
#   bash tests/lab/nginx_lab_test.sh NETPOLC SOURCE_DIR
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NETPOLC="${1:?usage: nginx_lab_test.sh NETPOLC SOURCE_DIR}"
SRC="${2:?}"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: nginx_lab_test needs root (network namespaces)"
    echo "0 passed, 0 failed"
    exit 0
fi

# shellcheck source=netns.sh
. "$HERE/netns.sh"
# shellcheck source=nginx_env.sh
. "$HERE/nginx_env.sh"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
abort() { # setup error: not an assertion outcome, but the run must fail
    echo "FAIL (setup): $*"
    FAILED=$((FAILED + 1))
    finish
}
lab_on_interrupt() { # called by netns.sh after cleanup when a signal stops the run
    echo "FAIL: interrupted by SIG$1 (lab cleaned up)"
    echo "$PASSED passed, $((FAILED + 1)) failed"
}

for tool in ip nginx openssl curl timeout ss sha256sum /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || abort "missing '$tool' (apt-get install -y nginx-light openssl curl iproute2)"
done

HOST_FP_BEFORE="$(lab_host_fingerprint)" || abort "cannot fingerprint root namespace"

# ---- the compiled files ---------------------------------------------------------------------
OUT="$LAB_DIR/out"
"$NETPOLC" compile "$SRC/policy/lab.npol" -o "$OUT" >"$LAB_DIR/compile.log" 2>&1 \
    || abort "netpolc compile policy/lab.npol: $(cat "$LAB_DIR/compile.log")"
NGX="$LAB_DIR/nginx"
nginx_env_prepare "$NGX" "$OUT/nginx" || abort "nginx_env_prepare"
if out=$(nginx_env_check "$NGX"); then
    pass "nginx -t accepts the lab's $(ls "$OUT/nginx" | wc -l) compiled files"
else
    fail "nginx -t: $out"
    finish
fi

# ---- topology -------------------------------------------------------------------------------
PROXY=198.18.10.10
BACKEND=198.18.1.20
for ns in rtr lan intra back prx vpn; do lab_ns_add "$ns" || abort "lab_ns_add $ns"; done
lab_bridge rtr br1 198.18.1.1/24 || abort "bridge"
lab_link rtr p-lan - lan eth0 198.18.1.50/24 || abort "link lan"
lab_link rtr p-intra - intra eth0 198.18.1.17/24 || abort "link intra"
lab_link rtr p-back - back eth0 "$BACKEND/24" || abort "link back"
for p in p-lan p-intra p-back; do lab_bridge_attach rtr "$p" br1 || abort "attach $p"; done
lab_link rtr p-prx 198.18.10.1/24 prx eth0 "$PROXY/24" || abort "link prx"
lab_link rtr p-vpn 198.18.8.1/24 vpn eth0 198.18.8.5/24 || abort "link vpn"
lab_sysctl rtr net.ipv4.ip_forward=1 || abort "ip_forward"
for ns in lan intra back; do lab_route "$ns" default 198.18.1.1 || abort "route $ns"; done
lab_route prx default 198.18.10.1 || abort "route prx"
lab_route vpn default 198.18.8.1 || abort "route vpn"

lab_http_backend back "$BACKEND" 8096 jellyfin || abort "backend 8096"
lab_http_backend back "$BACKEND" 2283 photos || abort "backend 2283"
lab_http_backend back "$BACKEND" 3000 grafana || abort "backend 3000"

# shellcheck disable=SC2046
lab_spawn prx "$LAB_DIR/nginx.log" $(nginx_env_cmd "$NGX") -g 'daemon off;' || abort "start nginx"
lab_wait_port prx 443 || abort "nginx did not listen on 443: $(cat "$LAB_DIR/nginx.log")"
pass "nginx runs in the proxy's namespace and listens on 443"

# ---- requests -------------------------------------------------------------------------------
# request NS NAME [curl args...] -> sets CODE (HTTP status, 000 when none), BODY, CURL_RC
request() {
    local ns=$1 name=$2
    shift 2
    local cert="$NGX/netpol/tls/$name.crt"
    [ -f "$cert" ] || cert="$NGX/netpol/tls/jellyfin.home.arpa.crt"   # an unpublished name: any CA
    CODE=$(lab_exec "$ns" curl -sS --max-time 5 --cacert "$cert" --resolve "$name:443:$PROXY" \
        -o "$LAB_DIR/body" -w '%{http_code}' "$@" "https://$name/" 2>"$LAB_DIR/curl.err")
    CURL_RC=$?
    BODY=$(cat "$LAB_DIR/body" 2>/dev/null)
    rm -f "$LAB_DIR/body"
}

reaches() { # NS CLIENT_ADDR NAME BACKEND
    request "$1" "$3"
    local want="backend $4 host=$3 real-ip=$2 upgrade="
    if [ "$CODE" = 200 ] && [ "$BODY" = "$want" ]; then
        pass "$1 ($2) reaches $3 -> $4's backend, X-Real-IP $2"
    else
        fail "$1 -> $3: HTTP $CODE (curl $CURL_RC: $(cat "$LAB_DIR/curl.err")), body '$BODY', wanted 200 '$want'"
    fi
}

forbidden() { # NS NAME
    request "$1" "$2"
    if [ "$CODE" = 403 ] && [[ "$BODY" != *backend* ]]; then
        pass "$1 gets 403 for $2"
    else
        fail "$1 -> $2: HTTP $CODE (curl $CURL_RC), body '$BODY', wanted 403"
    fi
}

reaches lan 198.18.1.50 jellyfin.home.arpa jellyfin
reaches lan 198.18.1.50 photos.home.arpa photos
reaches lan 198.18.1.50 grafana.home.arpa grafana
reaches vpn 198.18.8.5 jellyfin.home.arpa jellyfin
reaches vpn 198.18.8.5 photos.home.arpa photos
forbidden vpn grafana.home.arpa
forbidden intra jellyfin.home.arpa
forbidden intra photos.home.arpa
forbidden intra grafana.home.arpa

# websocket: the upgrade request's headers reach the backend only where the policy says `websocket`
request lan jellyfin.home.arpa -H 'Upgrade: websocket' -H 'Connection: Upgrade'
if [ "$CODE" = 200 ] && [[ "$BODY" == *"upgrade=websocket" ]]; then
    pass "websocket: jellyfin's backend receives the Upgrade header"
else
    fail "websocket: jellyfin: HTTP $CODE, body '$BODY'"
fi
request lan grafana.home.arpa -H 'Upgrade: websocket' -H 'Connection: Upgrade'
if [ "$CODE" = 200 ] && [[ "$BODY" == *"upgrade=" ]]; then
    pass "no websocket: grafana's backend does not receive the Upgrade header"
else
    fail "no websocket: grafana: HTTP $CODE, body '$BODY'"
fi

# a name nobody published: refused at the handshake, never served by another name's backend
request lan nothere.home.arpa -k
if [ "$CODE" = 000 ] && [ "$CURL_RC" -ne 0 ] && [ -z "$BODY" ]; then
    pass "an unpublished name is refused at the TLS handshake (curl $CURL_RC)"
else
    fail "unpublished name: HTTP $CODE, curl $CURL_RC, body '$BODY'"
fi

lab_cleanup
if [ "$(lab_host_fingerprint)" = "$HOST_FP_BEFORE" ]; then
    pass "the root namespace is unchanged"
else
    fail "the root namespace changed"
fi
finish
