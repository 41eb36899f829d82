# shellcheck shell=bash
# tests/lab/netns.sh - network-namespace lab for running the REAL ufw (and other tools)
# without touching the root namespace's firewall, routes, links or /etc.
# Source it from a bash test script:   . "$(dirname "$0")/netns.sh"
#
# FACTS (checked on Debian 12, kernel 6.18, ufw 0.36.2, iptables 1.8.9, root, no systemd):
# - Both iptables backends work inside a netns: iptables-nft (Debian default alternative) and
#   iptables-legacy. Default here: nft. LAB_IPT_BACKEND=legacy bind-mounts a private copy of
#   /etc/alternatives whose ip{,6}tables{,-restore,-save} point to *-legacy (host alternatives untouched).
# - `ufw enable|allow|default|reload|status` writes exactly: /etc/ufw/{user.rules,user6.rules,ufw.conf}
#   (in place via shutil.copy, so a bind-mounted FILE works), /etc/default/ufw (on `ufw default`),
#   /run/ufw.lock (global lock), /run/xtables.lock (legacy backend only), temp files via mkstemp
#   in $TMPDIR (default /tmp), and the 9 keys of /etc/ufw/sysctl.conf under /proc/sys/net (ufw-init
#   runs `sysctl -e -q -p $IPT_SYSCTL`). Nothing is written to /lib/ufw (state_dir holds only ufw-init).
#   strace + host before/after snapshots confirmed it.
# - So lab_ufw_ns bind-mounts, in a private mount ns inside the netns: scratch etc-ufw -> /etc/ufw,
#   scratch default-ufw -> /etc/default/ufw, scratch run/ -> /run; sets TMPDIR=scratch/tmp.
#   /tmp itself is NOT overlaid (the scratch dir lives under /tmp and must stay reachable).
# - Debian's sysctl.conf keys (net.ipv4.conf.*, net.ipv4.icmp_*, net.ipv6.conf.*) are per-netns on
#   this kernel: host values unchanged after ufw ran in a netns. As a guard, lab_ufw_ns makes
#   /proc/sys read-only in its mount ns except /proc/sys/net, and refuses a sysctl.conf with non-net keys.
# - IPV6=yes works: /proc/sys/net/ipv6 exists in a fresh netns and ip6tables(-nft|-legacy) work there.
# - ufw's do_checks stat every path component up to /: scratch dirs must be root-owned, not
#   group/world-writable (mktemp -d gives 0700: fine).
# - `ufw reload` is a no-op ("Firewall not enabled") unless ufw.conf says ENABLED=yes.
# - LOG rules inside a netns print nothing to the host kernel log (net.netfilter.nf_log_all_netns=0).
# - veth pairs are created directly inside the namespaces (`ip -n A link add X type veth peer name Y
#   netns B`), so no link ever appears in the root ns and deleting a netns deletes its veths.
# - `ip netns del` does NOT kill processes inside; lab_cleanup kills our pids and `ip netns pids` first.
# - Background jobs of a non-interactive bash ignore SIGINT, so listeners survive Ctrl-C unless killed.
# - Quirk: the FIRST `ufw enable` loads the pristine user6.rules (which declares no ufw6-user-limit
#   chains), then rewrites the file and only live-adds the LOG line: live ufw6-user-limit lacks its
#   REJECT (ufw6-user-limit-accept its ACCEPT) until the next `ufw reload`. Compare live rules after a reload.
# - Private /run per call means ufw runs in different namespaces do not serialise on /run/ufw.lock;
#   two smoke tests in parallel (one nft, one legacy) both pass.
# - Bind-mounting a subdir of a read-only mount inherits ro: /proc/sys/net needs an explicit
#   `remount,bind,rw`. Always `remount,bind,...` (with `bind`: per-mount flag, never the superblock).
# - On kernel 6.18 net.core.* (rmem_max, somaxconn...) are visible (per-netns) in a child netns too.
# - A TCP connect answered by ICMP port-unreachable (iptables REJECT default) reports ECONNREFUSED,
#   same as a RST: lab_probe_tcp says "refused" for both; "unreachable" is host/net-unreachable.
# - A signal trap runs with the redirections of the interrupted command (`ufw ... >/dev/null`), so
#   the library restores saved stdout/stderr first. A script started with `cmd &` from another script
#   inherits SIGINT=ignored and cannot trap it: test interrupts via `env --default-signal=INT CMD &`.
# - The `dummy` link type does not exist in this kernel; bridges and veth do.
# - `python3` on PATH is a pyenv build; helpers use /usr/bin/python3.
#
# API (NAME = short lab name; real netns name is ${LAB_PREFIX}NAME):
#   lab_require_root                          -> 0 if root
#   lab_ns_add NAME                           create netns, lo up
#   lab_ns NAME                               print real netns name
#   lab_exec NAME CMD...                      run CMD in netns NAME
#   lab_ipt NAME iptables|ip6tables[-save] ARGS  same, with the LAB_IPT_BACKEND binary
#   lab_link NS1 IF1 ADDR1 NS2 IF2 ADDR2      veth pair; ADDR "-" = no address (e.g. bridge port)
#   lab_bridge NS BR [ADDR]                   bridge inside NS
#   lab_bridge_attach NS IF BR                enslave IF to BR (both in NS)
#   lab_addr NS IF ADDR / lab_route NS DEST VIA / lab_sysctl NS net.key=value
#   lab_listen NS ADDR PORT                   TCP listener (accept+close), tracked, waits until bound
#   lab_probe_tcp NS ADDR PORT TIMEOUT        prints connected|refused|timeout|unreachable|error
#                                             rc 0|1|2|3|4
#   lab_spawn NS LOG CMD...                   tracked background CMD in NS (capped at LAB_MAX_LIFETIME),
#                                             output to LOG (a path inside $LAB_DIR)
#   lab_wait_port NS PORT                     wait (5 s at most) until a TCP listener is bound in NS
#   lab_http_backend NS ADDR PORT NAME        HTTP listener answering 200 "backend NAME host=H real-ip=R
#                                             upgrade=U" (the request's headers), tracked, waits until bound
#   lab_ufw_prepare TAG                       print a fresh pristine ufw scratch dir
#   lab_ufw_ns NS DIR CMD...                  run CMD in NS with DIR bind-mounted as ufw's config
#   lab_addr6 NS IF ADDR6/PLEN                IPv6 address inside 2001:db8::/32, no DAD (usable at once)
#   lab_route6 NS DEST6|default VIA6          IPv6 route (2001:db8::/32 only)
#   lab_listen6 NS ADDR6 PORT                 like lab_listen, on an IPv6 address of 2001:db8::/32
#   lab_probe_tcp6 NS ADDR6 PORT TIMEOUT      like lab_probe_tcp, to an IPv6 address of 2001:db8::/32
#   lab_track_pid PID                         journal a background process of ours for lab_cleanup
#   lab_host_fingerprint                      hash of root-ns firewall/links/routes/sysctls/ufw files
#   lab_cleanup                               idempotent; also run by trap on EXIT/INT/TERM/HUP
#   lab_on_interrupt SIG                      optional hook YOU define; called after cleanup on a signal
# Addresses: 198.18.0.0/15 only. All waits are bounded. Never call lab_ns_add/lab_listen inside $(...)
# (state is also journaled in files, and cleanup sweeps ${LAB_PREFIX}*, but keep it simple).

if [ -n "${LAB_NETNS_SH_LOADED:-}" ]; then return 0; fi
LAB_NETNS_SH_LOADED=1

# Must be unique per run: lab_cleanup deletes EVERY netns whose name starts with it.
LAB_PREFIX="${LAB_PREFIX:-np$$-}"
LAB_IPT_BACKEND="${LAB_IPT_BACKEND:-nft}"
LAB_MAX_LIFETIME="${LAB_MAX_LIFETIME:-600}"   # hard cap (s) on any background helper process
LAB_HOST_NETNS="$(readlink /proc/self/ns/net 2>/dev/null)"
LAB_DIR=""
LAB_CLEANING=0

case "$LAB_PREFIX" in
    *[!a-z0-9-]* | "") echo "lab: bad LAB_PREFIX '$LAB_PREFIX'" >&2; return 1 ;;
esac

lab_log() { echo "lab: $*" >&2; }
lab_die() { echo "lab: ERROR: $*" >&2; return 1; }

lab_require_root() { [ "$(id -u)" -eq 0 ]; }

# Bounded wait: lab_wait_until TRIES SLEEP CMD...  (rc 0 when CMD succeeds within TRIES)
lab_wait_until() {
    local tries=$1 pause=$2 i=0
    shift 2
    while [ "$i" -lt "$tries" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep "$pause"
        i=$((i + 1))
    done
    return 1
}

lab__journal() { # kind value : append to state files so cleanup works even from subshells
    [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ] && printf '%s\n' "$2" >>"$LAB_DIR/.$1"
}

lab__init() {
    [ -n "$LAB_DIR" ] && return 0
    LAB_DIR="$(mktemp -d "/tmp/${LAB_PREFIX}XXXXXX")" || { lab_die "mktemp failed"; return 1; }
    chmod 700 "$LAB_DIR"
    : >"$LAB_DIR/.ns"; : >"$LAB_DIR/.pids"
}

# ---- validation -------------------------------------------------------------------------
lab__valid_name() { [[ "$1" =~ ^[a-z0-9][a-z0-9_]{0,11}$ ]] || lab_die "bad lab name '$1' ([a-z0-9_], <=12)"; }
lab__valid_if() { [[ "$1" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$ ]] || lab_die "bad interface name '$1'"; }
lab__ip_in_lab() { # a.b.c.d -> ok if inside 198.18.0.0/15
    local ip=$1 a b c d
    [[ "$ip" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
    a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]} d=${BASH_REMATCH[4]}
    [ "$a" -eq 198 ] && { [ "$b" -eq 18 ] || [ "$b" -eq 19 ]; } && [ "$c" -le 255 ] && [ "$d" -le 255 ]
}
lab__valid_addr() { # ADDR/PLEN inside 198.18.0.0/15, PLEN 15..32
    local ip=${1%/*} plen=${1##*/}
    [[ "$1" == */* ]] && [[ "$plen" =~ ^[0-9]+$ ]] && [ "$plen" -ge 15 ] && [ "$plen" -le 32 ] \
        && lab__ip_in_lab "$ip" || lab_die "address '$1' must be CIDR inside 198.18.0.0/15"
}
lab__valid_ip() { lab__ip_in_lab "$1" || lab_die "address '$1' must be inside 198.18.0.0/15"; }
lab__valid_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || lab_die "bad port '$1'"; }

# ---- namespaces -------------------------------------------------------------------------
lab_ns() { printf '%s%s\n' "$LAB_PREFIX" "$1"; }

lab__own_ns() { # NAME -> 0 if netns ${LAB_PREFIX}NAME exists (and therefore is ours)
    lab__valid_name "$1" || return 1
    [ -e "/run/netns/${LAB_PREFIX}$1" ] || lab_die "netns '$1' (${LAB_PREFIX}$1) not created by this lab"
}

lab_ns_add() {
    local name=$1 full
    lab__valid_name "$name" || return 1
    lab__init || return 1
    full="${LAB_PREFIX}${name}"
    lab__journal ns "$full"          # journal first: a signal right after `add` is still cleaned
    ip netns add "$full" || { lab_die "ip netns add $full failed"; return 1; }
    ip -n "$full" link set lo up
}

lab_exec() {
    local name=$1
    shift
    lab__own_ns "$name" || return 1
    ip netns exec "${LAB_PREFIX}${name}" "$@"
}

lab_ipt() { # NS iptables|ip6tables|iptables-save|ip6tables-save ARGS... : uses LAB_IPT_BACKEND's binary
    local ns=$1 tool=$2 bin
    shift 2
    case "$tool" in
        iptables | ip6tables) bin="$tool-$LAB_IPT_BACKEND" ;;
        iptables-save | ip6tables-save) bin="${tool%-save}-$LAB_IPT_BACKEND-save" ;;
        *) lab_die "lab_ipt: unknown tool '$tool'"; return 1 ;;
    esac
    lab_exec "$ns" "$bin" "$@"
}

# ---- links ------------------------------------------------------------------------------
lab_addr() { # NS IF ADDR
    lab__own_ns "$1" && lab__valid_if "$2" && lab__valid_addr "$3" || return 1
    ip -n "${LAB_PREFIX}$1" addr add "$3" dev "$2"
}

lab__lower_up() { ip -n "$1" -o link show dev "$2" 2>/dev/null | grep -q LOWER_UP; }
lab__wait_lower_up() { # fullns if  (a veth end is LOWER_UP only once its peer is up too)
    lab_wait_until 50 0.1 lab__lower_up "$1" "$2" || lab_die "link $2 in $1 did not come up within 5s"
}

lab_link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2   (ADDR "-" = none)
    local n1=$1 i1=$2 a1=$3 n2=$4 i2=$5 a2=$6
    lab__own_ns "$n1" && lab__own_ns "$n2" && lab__valid_if "$i1" && lab__valid_if "$i2" || return 1
    [ "$a1" = - ] || lab__valid_addr "$a1" || return 1
    [ "$a2" = - ] || lab__valid_addr "$a2" || return 1
    [ "$n1" != "$n2" ] || { lab_die "lab_link needs two different namespaces"; return 1; }
    # Created inside NS1 with its peer placed straight into NS2: never visible in the root ns.
    ip -n "${LAB_PREFIX}$n1" link add "$i1" type veth peer name "$i2" netns "${LAB_PREFIX}$n2" \
        || { lab_die "veth $i1/$i2 creation failed"; return 1; }
    [ "$a1" = - ] || lab_addr "$n1" "$i1" "$a1" || return 1
    [ "$a2" = - ] || lab_addr "$n2" "$i2" "$a2" || return 1
    ip -n "${LAB_PREFIX}$n1" link set "$i1" up && ip -n "${LAB_PREFIX}$n2" link set "$i2" up || return 1
    lab__wait_lower_up "${LAB_PREFIX}$n1" "$i1" && lab__wait_lower_up "${LAB_PREFIX}$n2" "$i2"
}

lab_bridge() { # NS BR [ADDR]
    lab__own_ns "$1" && lab__valid_if "$2" || return 1
    ip -n "${LAB_PREFIX}$1" link add "$2" type bridge || return 1
    [ -z "${3:-}" ] || lab_addr "$1" "$2" "$3" || return 1
    ip -n "${LAB_PREFIX}$1" link set "$2" up
}

lab_bridge_attach() { # NS IF BR
    lab__own_ns "$1" && lab__valid_if "$2" && lab__valid_if "$3" || return 1
    ip -n "${LAB_PREFIX}$1" link set "$2" master "$3" && ip -n "${LAB_PREFIX}$1" link set "$2" up
}

lab_route() { # NS DEST(CIDR|default) VIA
    lab__own_ns "$1" || return 1
    [ "$2" = default ] || lab__valid_addr "$2" || return 1
    lab__valid_ip "$3" || return 1
    ip -n "${LAB_PREFIX}$1" route add "$2" via "$3"
}

lab_sysctl() { # NS net.key=value   (net.* only: those are per-netns)
    lab__own_ns "$1" || return 1
    [[ "$2" =~ ^net\.[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]*$ ]] || { lab_die "only net.* sysctls: '$2'"; return 1; }
    ip netns exec "${LAB_PREFIX}$1" sysctl -q -w "$2"
}

# ---- processes --------------------------------------------------------------------------
lab__port_bound() { # fullns port
    ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

lab_listen() { # NS ADDR PORT : accept-and-close TCP listener (IPv4 or IPv6), capped at LAB_MAX_LIFETIME seconds
    local ns=$1 addr=$2 port=$3 pid family=AF_INET check=lab__valid_ip bound=lab__port_bound err
    if [[ "$addr" == *:* ]]; then family=AF_INET6 check=lab__valid_ip6 bound=lab__port_bound6; fi
    lab__own_ns "$ns" && "$check" "$addr" && lab__valid_port "$port" || return 1
    err="$LAB_DIR/listen-$ns-$port-${family}.err"
    ip netns exec "${LAB_PREFIX}$ns" timeout "$LAB_MAX_LIFETIME" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(getattr(socket, sys.argv[3]), socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' "$addr" "$port" "$family" </dev/null >/dev/null 2>"$err" {LAB_FD_OUT}>&- {LAB_FD_ERR}>&- &
    pid=$!
    lab__journal pids "$pid"
    if ! lab_wait_until 50 0.1 "$bound" "${LAB_PREFIX}$ns" "$port"; then
        lab_die "listener $addr:$port in $ns not bound within 5s: $(cat "$err" 2>/dev/null)"
        return 1
    fi
}

lab_probe_tcp() { # SRC_NS DST_ADDR PORT TIMEOUT -> prints result word
    local ns=$1 addr=$2 port=$3 t=$4 out rc
    lab__own_ns "$ns" && lab__valid_ip "$addr" && lab__valid_port "$port" || { echo error; return 4; }
    [[ "$t" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { lab_die "bad timeout '$t'"; echo error; return 4; }
    out=$(timeout -k 1 "$t" ip netns exec "${LAB_PREFIX}$ns" \
        /bin/bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$addr" "$port" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then echo connected; return 0; fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo timeout; return 2; fi
    case "$out" in
        *refused*) echo refused; return 1 ;;
        *"No route"* | *unreachable*) echo unreachable; return 3 ;;
    esac
    lab_log "probe $ns -> $addr:$port rc=$rc: $out"
    echo error
    return 4
}

# ---- services: tracked background processes ----------------------------------------------
lab_spawn() { # NS LOG CMD... : background CMD inside NS, journaled, capped at LAB_MAX_LIFETIME seconds
    local ns=$1 log=$2 pid
    shift 2
    lab__own_ns "$ns" || return 1
    [ "$#" -gt 0 ] || { lab_die "lab_spawn: no command"; return 1; }
    case "$log" in "$LAB_DIR"/*) ;; *) lab_die "lab_spawn: log '$log' must be inside $LAB_DIR"; return 1 ;; esac
    ip netns exec "${LAB_PREFIX}$ns" timeout "$LAB_MAX_LIFETIME" "$@" </dev/null >"$log" 2>&1 \
        {LAB_FD_OUT}>&- {LAB_FD_ERR}>&- &
    pid=$!
    lab__journal pids "$pid"
}

lab_wait_port() { # NS PORT : a TCP listener bound in NS within 5 s
    lab__own_ns "$1" && lab__valid_port "$2" || return 1
    lab_wait_until 50 0.1 lab__port_bound "${LAB_PREFIX}$1" "$2" || lab_die "nothing listens on port $2 in $1 within 5s"
}

lab_http_backend() { # NS ADDR PORT NAME : HTTP/1.1 server that tells who it is and what it was sent
    local ns=$1 addr=$2 port=$3 name=$4
    lab__own_ns "$ns" && lab__valid_ip "$addr" && lab__valid_port "$port" || return 1
    [[ "$name" =~ ^[a-z0-9_-]{1,32}$ ]] || { lab_die "bad backend name '$name'"; return 1; }
    lab_spawn "$ns" "$LAB_DIR/http-$ns-$port.log" /usr/bin/python3 -c '
import http.server, sys
name = sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        h = self.headers
        body = ("backend %s host=%s real-ip=%s upgrade=%s\n" % (name, h.get("Host", ""), h.get("X-Real-IP", ""),
                                                              h.get("Upgrade", ""))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
' "$addr" "$port" "$name" || return 1
    lab_wait_port "$ns" "$port"
}

# ---- ufw sandbox ------------------------------------------------------------------------
lab_ufw_prepare() { # TAG -> prints path of a fresh scratch dir with pristine ufw config
    local tag=$1 d t
    [[ "$tag" =~ ^[a-z0-9_]{1,16}$ ]] || { lab_die "bad tag '$tag'"; return 1; }
    [ -n "$LAB_DIR" ] || { lab_die "lab not initialised"; return 1; }
    d="$LAB_DIR/ufw-$tag"
    [ ! -e "$d" ] || { lab_die "$d exists"; return 1; }
    mkdir -m 700 "$d" "$d/run" && mkdir -m 1777 "$d/tmp" || return 1
    cp -a /etc/ufw "$d/etc-ufw" || return 1
    # Pristine packaged rules and ufw.conf (ENABLED=no), independent of the host's /etc/ufw edits.
    for t in before after user before6 after6 user6; do
        install -m 640 "/usr/share/ufw/iptables/$t.rules" "$d/etc-ufw/$t.rules" || return 1
    done
    install -m 644 /usr/share/ufw/ufw.conf "$d/etc-ufw/ufw.conf" || return 1
    install -m 644 /etc/default/ufw "$d/default-ufw" || return 1
    # Never point sysctl or modprobe at anything but the private copy.
    sed -i -e 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/etc/ufw/sysctl.conf|' -e 's|^IPT_MODULES=.*|IPT_MODULES=""|' \
        "$d/default-ufw"
    if [ "$LAB_IPT_BACKEND" = legacy ]; then
        cp -a /etc/alternatives "$d/alternatives" || return 1
        for t in iptables ip6tables; do
            for s in "" -restore -save; do ln -sfn "/usr/sbin/$t-legacy$s" "$d/alternatives/$t$s"; done
        done
    elif [ "$LAB_IPT_BACKEND" != nft ]; then
        lab_die "LAB_IPT_BACKEND must be nft or legacy"; return 1
    fi
    chown -R root:root "$d"
    printf '%s\n' "$d"
}

# Runs inside the private mount namespace (argv: DIR HOSTNETNS CMD...).
# shellcheck disable=SC2016
LAB__UFW_INNER='
set -eu
d=$1 host=$2; shift 2
[ "$(readlink /proc/self/ns/net)" != "$host" ] || { echo "lab: refusing: still in the host netns" >&2; exit 97; }
if grep -Ev "^[[:space:]]*([#;]|$)" "$d/etc-ufw/sysctl.conf" | grep -Evq "^[[:space:]]*net[./]"; then
    echo "lab: refusing: $d/etc-ufw/sysctl.conf has non-net keys" >&2; exit 97
fi
grep -qx "IPT_SYSCTL=/etc/ufw/sysctl.conf" "$d/default-ufw" || { echo "lab: refusing: IPT_SYSCTL changed" >&2; exit 97; }
mount --make-rprivate /
mount --bind "$d/etc-ufw" /etc/ufw
mount --bind "$d/default-ufw" /etc/default/ufw
if [ -d "$d/alternatives" ]; then mount --bind "$d/alternatives" /etc/alternatives; fi
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
mount --bind "$d/run" /run
export TMPDIR="$d/tmp"
exec "$@"
'

lab_ufw_ns() { # NS DIR CMD...
    local ns=$1 dir=$2
    shift 2
    lab__own_ns "$ns" || return 1
    case "$dir" in "$LAB_DIR"/ufw-*) ;; *) lab_die "ufw dir '$dir' not from lab_ufw_prepare"; return 1 ;; esac
    [ -d "$dir/etc-ufw" ] && [ -f "$dir/default-ufw" ] || { lab_die "ufw dir '$dir' incomplete"; return 1; }
    [ "$#" -gt 0 ] || { lab_die "lab_ufw_ns: no command"; return 1; }
    ip netns exec "${LAB_PREFIX}$ns" unshare --mount --propagation private -- \
        /bin/bash -c "$LAB__UFW_INNER" lab-ufw "$dir" "$LAB_HOST_NETNS" "$@"
}

# ---- IPv6 (2001:db8::/32 only) and process tracking (added for tests/lab/openvpn_lab_test.sh) ----
lab__ip6_in_lab() { # ADDR6 -> 0 if a plain IPv6 address inside 2001:db8::/32
    [[ "$1" =~ ^2001:0{0,3}[dD][bB]8(:[0-9a-fA-F]{0,4}){1,6}$ ]]
}
lab__valid_ip6() { lab__ip6_in_lab "$1" || lab_die "address '$1' must be inside 2001:db8::/32"; }
lab__valid_addr6() { # ADDR6/PLEN, PLEN 32..128
    local ip=${1%/*} plen=${1##*/}
    [[ "$1" == */* ]] && [[ "$plen" =~ ^[0-9]+$ ]] && [ "$plen" -ge 32 ] && [ "$plen" -le 128 ] \
        && lab__ip6_in_lab "$ip" || lab_die "address '$1' must be CIDR inside 2001:db8::/32"
}

lab_addr6() { # NS IF ADDR6/PLEN : no duplicate address detection, so the address is usable at once
    lab__own_ns "$1" && lab__valid_if "$2" && lab__valid_addr6 "$3" || return 1
    ip -n "${LAB_PREFIX}$1" -6 addr add "$3" dev "$2" nodad
}

lab_route6() { # NS DEST6(CIDR|default) VIA6
    lab__own_ns "$1" || return 1
    [ "$2" = default ] || lab__valid_addr6 "$2" || return 1
    lab__valid_ip6 "$3" || return 1
    ip -n "${LAB_PREFIX}$1" -6 route add "$2" via "$3"
}

lab_track_pid() { # PID : cleaned up (TERM, then KILL) by lab_cleanup like lab_listen's listeners
    [[ "$1" =~ ^[0-9]+$ ]] || { lab_die "bad pid '$1'"; return 1; }
    lab__journal pids "$1"
}

lab__port_bound6() { # fullns port
    ip netns exec "$1" ss -Hltn6 "sport = :$2" 2>/dev/null | grep -q .
}

lab_listen6() { # NS ADDR6 PORT : the same, for callers that name the family
    lab__valid_ip6 "$2" || return 1
    lab_listen "$@"
}

lab_probe_tcp6() { # SRC_NS DST_ADDR6 PORT TIMEOUT -> prints result word (as lab_probe_tcp)
    local ns=$1 addr=$2 port=$3 t=$4 out rc
    lab__own_ns "$ns" && lab__valid_ip6 "$addr" && lab__valid_port "$port" || { echo error; return 4; }
    [[ "$t" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { lab_die "bad timeout '$t'"; echo error; return 4; }
    out=$(timeout -k 1 "$t" ip netns exec "${LAB_PREFIX}$ns" \
        /bin/bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$addr" "$port" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then echo connected; return 0; fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo timeout; return 2; fi
    case "$out" in
        *refused*) echo refused; return 1 ;;
        *"No route"* | *unreachable*) echo unreachable; return 3 ;;
    esac
    lab_log "probe $ns -> [$addr]:$port rc=$rc: $out"
    echo error
    return 4
}

# ---- host isolation check ---------------------------------------------------------------
lab_host_fingerprint() { # prints a digest of root-ns state a lab must never change
    [ "$(readlink /proc/self/ns/net)" = "$LAB_HOST_NETNS" ] || { lab_die "fingerprint: not in host netns"; return 1; }
    {
        for t in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
            echo "== $t"; "$t" 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[]/'
        done
        echo "== nft"; nft list ruleset 2>&1
        echo "== link"; ip -o link show | sed -E 's/^[0-9]+: //'
        echo "== addr"; ip -o addr show
        echo "== route"; ip route show table all; ip -6 route show table all
        echo "== rule"; ip rule show; ip -6 rule show
        echo "== sysctl"
        sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.accept_redirects \
            net.ipv4.conf.default.accept_redirects net.ipv6.conf.all.accept_redirects \
            net.ipv6.conf.default.accept_redirects net.ipv4.icmp_echo_ignore_broadcasts \
            net.ipv4.icmp_ignore_bogus_error_responses net.ipv4.icmp_echo_ignore_all \
            net.ipv4.conf.all.log_martians net.ipv4.conf.default.log_martians 2>&1
        echo "== ufw files"; cat /etc/ufw/*.rules /etc/ufw/ufw.conf /etc/ufw/sysctl.conf /etc/default/ufw 2>&1
        echo "== locks"; ls /run/ufw.lock /run/xtables.lock 2>&1
    } | sha256sum | cut -d' ' -f1
}

# ---- cleanup ----------------------------------------------------------------------------
lab__kill_pids() { # PID... : TERM, bounded wait, KILL
    local p alive i=0
    [ "$#" -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    while [ "$i" -lt 30 ]; do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$@" 2>/dev/null
    return 0
}

lab_cleanup() {
    local pids ns list p n
    [ "$LAB_CLEANING" -eq 0 ] || return 0
    LAB_CLEANING=1
    # 1. processes we started (journaled pids), then anything still inside our namespaces
    if [ -n "$LAB_DIR" ] && [ -f "$LAB_DIR/.pids" ]; then
        # only pids still living in a non-host netns: guards against pid reuse by host processes
        mapfile -t pids < <(while read -r p; do
            [[ "$p" =~ ^[0-9]+$ ]] || continue
            n=$(readlink "/proc/$p/ns/net" 2>/dev/null) || continue
            [ "$n" != "$LAB_HOST_NETNS" ] && echo "$p"
        done <"$LAB_DIR/.pids")
        lab__kill_pids ${pids[@]+"${pids[@]}"}
        : >"$LAB_DIR/.pids"
    fi
    list=""
    [ -n "$LAB_DIR" ] && [ -f "$LAB_DIR/.ns" ] && list=$(cat "$LAB_DIR/.ns")
    # sweep: every netns carrying our unique prefix is ours (covers journal races)
    list="$list
$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${LAB_PREFIX}" || true)"
    list=$(printf '%s\n' "$list" | grep -E "^${LAB_PREFIX}[a-z0-9_]+$" | sort -u)
    for ns in $list; do
        [ -e "/run/netns/$ns" ] || continue
        mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
        lab__kill_pids ${pids[@]+"${pids[@]}"}
        ip netns del "$ns" 2>/dev/null || lab_log "could not delete netns $ns"
    done
    # 2. scratch dir (only our own mktemp dir)
    if [ -n "$LAB_DIR" ]; then
        case "$LAB_DIR" in
            /tmp/"${LAB_PREFIX}"??????) rm -rf -- "$LAB_DIR" ;;
            *) lab_log "not removing unexpected LAB_DIR '$LAB_DIR'" ;;
        esac
        LAB_DIR=""
    fi
    LAB_CLEANING=0
}

lab__on_exit() {
    local rc=$?
    trap '' INT TERM HUP
    lab_cleanup
    exit "$rc"
}
lab__on_signal() { # SIGNAME RC
    trap '' INT TERM HUP
    # the trap runs with the redirections of the interrupted command (e.g. `ufw ... >/dev/null`)
    exec 1>&"$LAB_FD_OUT" 2>&"$LAB_FD_ERR"
    lab_log "caught SIG$1, cleaning up"
    lab_cleanup
    trap - EXIT
    if declare -F lab_on_interrupt >/dev/null; then lab_on_interrupt "$1"; fi
    exit "$2"
}
# Original stdout/stderr, for messages printed from a signal trap; closed in background helpers.
exec {LAB_FD_OUT}>&1 {LAB_FD_ERR}>&2
trap 'lab__on_exit' EXIT
trap 'lab__on_signal INT 130' INT
trap 'lab__on_signal TERM 143' TERM
trap 'lab__on_signal HUP 129' HUP

lab__init
