#!/usr/bin/env bash
# `netpolc npm apply` against the stand-in NPM (standin_server.js, 127.0.0.1 only), which rejects
# every body NPM's own schema rejects. Proves: the first run creates, the second changes nothing,
# --dry-run changes nothing, a host made by hand is left alone, a managed host whose name left the
# policy is deleted (and its list), conflicts and hostile files stop everything before any change,
# nginx failures are reported, and the password is never printed.
#   bash tests/npm/apply_test.sh NETPOLC SOURCE_DIR NODE_DIR
set -u
netpolc="${1:?usage: apply_test.sh NETPOLC SOURCE_DIR NODE_DIR}"
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
command -v curl >/dev/null || { fail "curl is needed"; finish; }

tmp="$(mktemp -d /tmp/netpol-npm-apply.XXXXXX)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] || rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 130' INT TERM

USER_EMAIL="admin@example.test"
SECRET="s3cret-PASSWORD-7731"   # must never appear in any output
printf '%s\n' "$SECRET" >"$tmp/password"
printf 'wrong-%s\n' "$SECRET" >"$tmp/wrong-password"

# ---- the compiled files: the lab policy, and the same policy without grafana -------------------
"$netpolc" compile "$src/policy/lab.npol" -o "$tmp/full" >/dev/null 2>"$tmp/compile.err" \
    || { fail "netpolc compile lab.npol: $(cat "$tmp/compile.err")"; finish; }
mkdir -p "$tmp/policy"
cp "$src"/policy/*.npol "$tmp/policy/"
grep -v '^publish grafana' "$src/policy/flows.npol" >"$tmp/policy/flows.npol"
"$netpolc" compile "$tmp/policy/lab.npol" -o "$tmp/smaller" >/dev/null 2>"$tmp/compile.err" \
    || { fail "netpolc compile (without grafana): $(cat "$tmp/compile.err")"; finish; }

# ---- the stand-in server ---------------------------------------------------------------------
node "$here/standin_server.js" --port-file "$tmp/port" --user "$USER_EMAIL" --password-file "$tmp/password" \
    --max-lifetime 240 >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { fail "stand-in server did not start: $(cat "$tmp/server.log")"; finish; }
URL="http://127.0.0.1:$(cat "$tmp/port")"

ctl() { curl -sS --max-time 10 -H 'Content-Type: application/json' "$@"; }                 # METHOD URL [DATA]
certificates() { ctl -X POST "$URL/__certificates" -d "$1" >/dev/null; }
state() { ctl "$URL/__state"; }
writes() { ctl "$URL/__log" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
  const w=JSON.parse(s).filter(l=>!l.startsWith("GET ")&&l!=="POST /api/tokens");console.log(w.length?w.join("\n"):"none")})'; }
clear_log() { ctl -X POST "$URL/__log/clear" >/dev/null; }
count() { state | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
  console.log(j.proxy_hosts.length+" hosts, "+j.access_lists.length+" lists")})'; }

RUN=0
apply() { # DIR [extra args...] -> sets RC, OUT (stdout+stderr)
    local dir=$1
    shift
    RUN=$((RUN + 1))
    timeout 60 "$netpolc" npm apply --url "$URL" --user "$USER_EMAIL" --password-file "$tmp/password" "$@" "$dir" \
        >"$tmp/run$RUN.out" 2>"$tmp/run$RUN.err"
    RC=$?
    OUT="$(cat "$tmp/run$RUN.out" "$tmp/run$RUN.err")"
}
has() { printf '%s\n' "$OUT" | grep -F -- "$1" >/dev/null; }
expect() { # NAME RC TEXT...
    local name=$1 rc=$2 ok=1 t
    shift 2
    [ "$RC" -eq "$rc" ] || ok=0
    for t in "$@"; do has "$t" || ok=0; done
    if [ "$ok" -eq 1 ]; then pass "$name"; else fail "$name (exit $RC, wanted $rc; wanted: $*):"; printf '%s\n' "$OUT" | sed 's/^/    /'; fi
}
check() { # NAME GOT WANTED
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', wanted '$3'"; fi
}

certificates '[{"id": 1, "nice_name": "home", "domain_names": ["*.home.arpa"], "expires_on": "2030-01-01 00:00:00"}]'

# 1. dry run on an empty NPM: the plan, and nothing written
clear_log
apply "$tmp/full/npm" --dry-run
expect "dry run prints the plan" 0 "plan: create access list netpol-lan+vpn" \
    "plan: create proxy host jellyfin.home.arpa -> http://198.18.1.20:8096, netpol-lan+vpn, certificate #1" \
    "plan: 5 to create, 0 to update, 0 to delete" "dry run: nothing changed"
check "dry run writes nothing" "$(writes)" "none"
check "dry run leaves NPM empty" "$(count)" "0 hosts, 0 lists"

# 2. first run creates, lists before hosts
clear_log
apply "$tmp/full/npm"
expect "first run creates everything" 0 "done: create access list netpol-lan+vpn" \
    "done: create proxy host grafana.home.arpa" "applied: 5 created, 0 updated, 0 deleted, 0 unchanged"
check "first run's calls, in the safe order" "$(writes)" "POST /api/nginx/access-lists
POST /api/nginx/access-lists
POST /api/nginx/proxy-hosts
POST /api/nginx/proxy-hosts
POST /api/nginx/proxy-hosts"
check "NPM holds the lab's names" "$(count)" "3 hosts, 2 lists"
summary=$(state | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
  const lists=Object.fromEntries(j.access_lists.map(l=>[l.id,l.name]));
  console.log(j.proxy_hosts.map(h=>[h.domain_names[0],h.forward_host+":"+h.forward_port,lists[h.access_list_id],
    "cert"+h.certificate_id,h.ssl_forced?"https":"http",h.allow_websocket_upgrade?"ws":"-",h.meta.nginx_online].join(" ")).sort().join("\n"))})')
check "hosts point at the backend, with their access list and certificate" "$summary" \
"grafana.home.arpa 198.18.1.20:3000 netpol-lan cert1 https - true
jellyfin.home.arpa 198.18.1.20:8096 netpol-lan+vpn cert1 https ws true
photos.home.arpa 198.18.1.20:2283 netpol-lan+vpn cert1 https ws true"

# 3. second run changes nothing
clear_log
apply "$tmp/full/npm"
expect "second run has nothing to do" 0 "plan: 0 to create, 0 to update, 0 to delete, 5 unchanged" "nothing to do"
check "second run writes nothing" "$(writes)" "none"

# 4. a host made by hand is left alone
token=$(ctl -X POST "$URL/api/tokens" -d "{\"identity\":\"$USER_EMAIL\",\"secret\":\"$SECRET\"}" | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
auth=(-H "Authorization: Bearer $token")
ctl "${auth[@]}" -X POST "$URL/api/nginx/proxy-hosts" \
    -d '{"domain_names":["hand.home.arpa"],"forward_scheme":"http","forward_host":"198.18.1.30","forward_port":8080}' >/dev/null
ctl "${auth[@]}" -X POST "$URL/api/nginx/access-lists" -d '{"name":"household","clients":[{"directive":"allow","address":"198.18.1.0/24"}]}' >/dev/null
clear_log
apply "$tmp/full/npm"
expect "a hand-made host and list are left alone" 0 "left alone: 1 proxy host and 1 access list netpol does not manage" "nothing to do"
check "... and nothing is written" "$(writes)" "none"

# 5. the stand-in itself rejects what NPM's schema rejects
reply=$(ctl "${auth[@]}" -X POST "$URL/api/nginx/proxy-hosts" \
    -d '{"domain_names":["x.home.arpa"],"forward_scheme":"ftp","forward_host":"198.18.1.30","forward_port":8080,"extra":1}')
case "$reply" in
    *'"code":400'*'data must NOT have additional properties'*'data/forward_scheme must be equal to one of the allowed values'*)
        pass "the stand-in answers 400 with NPM's message for a bad body" ;;
    *) fail "the stand-in accepted a bad body: $reply" ;;
esac

# 6. drift made by hand is repaired: a port and an access list's clients
ctl "${auth[@]}" -X PUT "$URL/api/nginx/proxy-hosts/$(state | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
  console.log(JSON.parse(s).proxy_hosts.find(h=>h.domain_names[0]==="photos.home.arpa").id))')" -d '{"forward_port":9999}' >/dev/null
clear_log
apply "$tmp/full/npm"
expect "drift is repaired" 0 "done: update proxy host photos.home.arpa" "forward_port" "applied: 0 created, 1 updated"
check "... with one PUT" "$(writes | sed 's/[0-9]*$/N/')" "PUT /api/nginx/proxy-hosts/N"

# 7. a name that left the policy: its host, then its list, are deleted; the hand-made ones stay
clear_log
apply "$tmp/smaller/npm"
expect "a removed name is deleted, deletions last" 0 "done: delete proxy host grafana.home.arpa" \
    "done: delete access list netpol-lan" "applied: 0 created, 0 updated, 2 deleted, 3 unchanged"
check "... host first, then the list" "$(writes | sed 's/[0-9]*$/N/')" "DELETE /api/nginx/proxy-hosts/N
DELETE /api/nginx/access-lists/N"
check "... and the hand-made host and list are still there" "$(count)" "3 hosts, 2 lists"
hand=$(state | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
  console.log(j.proxy_hosts.some(h=>h.domain_names[0]==="hand.home.arpa"), j.access_lists.some(l=>l.name==="household"))})')
check "... hand.home.arpa and household survive" "$hand" "true true"

# 8. dry run of the full policy again: grafana would come back, nothing is written
clear_log
apply "$tmp/full/npm" --dry-run
expect "dry run shows what would come back" 0 "plan: create access list netpol-lan" "plan: create proxy host grafana.home.arpa" \
    "plan: 2 to create, 0 to update, 0 to delete, 3 unchanged" "dry run: nothing changed"
check "... and writes nothing" "$(writes)" "none"

# 9. a published name held by a host netpol does not manage: nothing at all is applied
ctl "${auth[@]}" -X POST "$URL/api/nginx/proxy-hosts" \
    -d '{"domain_names":["grafana.home.arpa"],"forward_scheme":"http","forward_host":"198.18.1.31","forward_port":3000}' >/dev/null
clear_log
apply "$tmp/full/npm"
expect "a conflict stops everything" 2 "grafana.home.arpa is already used by NPM proxy host" "nothing applied: 1 conflict"
check "... nothing is written" "$(writes)" "none"

# 10. hostile hand-edited files are refused before any request (not even a login)
mkdir -p "$tmp/hostile"
hostile() { # NAME JS-EDIT EXPECTED-MESSAGE
    cp "$tmp/full/npm/"*.json "$tmp/hostile/"
    node -e 'const fs=require("fs"),d=process.argv[1];const h=JSON.parse(fs.readFileSync(d+"/proxy-hosts.json"));
      const l=JSON.parse(fs.readFileSync(d+"/access-lists.json"));'"$2"'
      fs.writeFileSync(d+"/proxy-hosts.json",JSON.stringify(h));fs.writeFileSync(d+"/access-lists.json",JSON.stringify(l));' "$tmp/hostile"
    clear_log
    apply "$tmp/hostile"
    expect "hostile file refused: $1" 2 "$3" "refusing to apply"
    check "... before any request" "$(ctl "$URL/__log")" "[]"
}
hostile "forward_host injection" 'h[0].forward_host="198.18.1.20\"; return 200 \"x";' \
    "forward_host '198.18.1.20\"; return 200 \"x' is not an IPv4 address or host name"
hostile "domain with a directive" 'h[1].domain_names=["x.home.arpa; include /etc/passwd"];' \
    "domain name 'x.home.arpa; include /etc/passwd' is not a lower-case DNS name"
hostile "advanced_config" 'h[0].advanced_config="allow all;";' "'advanced_config' is refused: it is raw nginx configuration"
hostile "custom location path" 'h[0].locations=[{path:"/x { } location /y",forward_scheme:"http",forward_host:"198.18.1.20",forward_port:80}];' \
    "custom location '/x { } location /y' is refused (and its path is unsafe)"
hostile "client address" 'l[0].clients[0].address="198.18.1.0/24; allow all";' \
    "address '198.18.1.0/24; allow all' is not a canonical network NPM accepts"

# 11. no certificate covers a TLS name: nothing is applied
ctl -X POST "$URL/__reset" >/dev/null
apply "$tmp/full/npm"
expect "TLS without a covering certificate stops everything" 2 "no certificate in NPM covers jellyfin.home.arpa"
check "... nothing is written" "$(writes)" "none"

# 12. NPM saves a host its nginx refuses: apply says so, and repairs it on the next run
certificates '[{"id": 4, "nice_name": "home", "domain_names": ["*.home.arpa"], "expires_on": "2030-01-01 00:00:00"}]'
ctl -X POST "$URL/__nginx_fail" -d '["photos.home.arpa"]' >/dev/null
apply "$tmp/full/npm"
expect "an nginx failure is reported" 2 "NPM saved photos.home.arpa but its nginx refused the configuration: nginx: [emerg] stand-in failure" \
    "stopped after 4 of 5 changes"
ctl -X POST "$URL/__nginx_fail" -d '[]' >/dev/null
apply "$tmp/full/npm"
expect "the next run re-applies the failed host and finishes" 0 "done: update proxy host photos.home.arpa" "nginx_online" \
    "done: create proxy host grafana.home.arpa"
apply "$tmp/full/npm"
expect "then nothing is left to do" 0 "nothing to do"

# 13. a wrong password: a clear error, exit 2
RUN=$((RUN + 1))
timeout 60 "$netpolc" npm apply --url "$URL" --user "$USER_EMAIL" --password-file "$tmp/wrong-password" "$tmp/full/npm" \
    >"$tmp/run$RUN.out" 2>"$tmp/run$RUN.err"
RC=$?
OUT="$(cat "$tmp/run$RUN.out" "$tmp/run$RUN.err")"
expect "a wrong password is a clear error" 2 "login failed: POST /api/tokens: HTTP 401: Invalid email or password"

# 14. no server: a clear error, exit 2 (a closed port on 127.0.0.1)
RUN=$((RUN + 1))
timeout 60 "$netpolc" npm apply --url "http://127.0.0.1:9" --user "$USER_EMAIL" --password-file "$tmp/password" "$tmp/full/npm" \
    >"$tmp/run$RUN.out" 2>"$tmp/run$RUN.err"
RC=$?
OUT="$(cat "$tmp/run$RUN.out" "$tmp/run$RUN.err")"
expect "an unreachable NPM is a clear error" 2 "login failed: POST /api/tokens: no answer"
RUN=$((RUN + 1))
timeout 60 "$netpolc" npm apply --url "http://admin:pw@127.0.0.1:9" --user "$USER_EMAIL" --password-file "$tmp/password" \
    "$tmp/full/npm" >"$tmp/run$RUN.out" 2>"$tmp/run$RUN.err"
RC=$?
OUT="$(cat "$tmp/run$RUN.out" "$tmp/run$RUN.err")"
expect "credentials in the URL are refused" 2 "--url must be"

# 15. https: NPM's certificate is verified (a self-signed one is refused), and trusted it works
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/tls.key" -out "$tmp/tls.crt" >/dev/null 2>&1
node "$here/standin_server.js" --port-file "$tmp/tls-port" --user "$USER_EMAIL" --password-file "$tmp/password" \
    --max-lifetime 120 --tls-cert "$tmp/tls.crt" --tls-key "$tmp/tls.key" >"$tmp/tls-server.log" 2>&1 &
tls_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/tls-port" ] && break; sleep 0.1; done
TLS_URL="https://127.0.0.1:$(cat "$tmp/tls-port" 2>/dev/null)"
curl -sS --max-time 10 --cacert "$tmp/tls.crt" -H 'Content-Type: application/json' -X POST "$TLS_URL/__certificates" \
    -d '[{"id": 1, "nice_name": "home", "domain_names": ["*.home.arpa"], "expires_on": "2030-01-01 00:00:00"}]' >/dev/null
tls_apply() { # extra env... : dry run over https
    RUN=$((RUN + 1))
    env "$@" timeout 60 "$netpolc" npm apply --url "$TLS_URL" --user "$USER_EMAIL" --password-file "$tmp/password" \
        --dry-run "$tmp/full/npm" >"$tmp/run$RUN.out" 2>"$tmp/run$RUN.err"
    RC=$?
    OUT="$(cat "$tmp/run$RUN.out" "$tmp/run$RUN.err")"
}
tls_apply SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent
expect "https: an untrusted certificate is refused" 2 "login failed: POST /api/tokens: no answer"
tls_apply SSL_CERT_FILE="$tmp/tls.crt"
expect "https: a trusted certificate works" 0 "plan: 5 to create" "dry run: nothing changed"
kill "$tls_pid" 2>/dev/null
wait "$tls_pid" 2>/dev/null

# 16. the password appeared in no output of any run
if grep -rlF -- "$SECRET" "$tmp"/run*.out "$tmp"/run*.err >/dev/null 2>&1; then
    fail "the password was printed in: $(grep -rlF -- "$SECRET" "$tmp"/run*.out "$tmp"/run*.err | tr '\n' ' ')"
else
    pass "the password was never printed ($RUN runs)"
fi
finish
