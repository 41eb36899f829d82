# shellcheck shell=bash
# tests/lab/nginx_env.sh - a private nginx setup for compiled out/nginx/ files (formats.md 3.6):
# a minimal nginx.conf that includes them unchanged, and a self-signed certificate (openssl) at
# every path their ssl_certificate / ssl_certificate_key lines name. Source it; then:
#   nginx_env_prepare DIR OUT_NGINX   DIR must not exist; prints nothing, returns non-zero on error
#   nginx_env_check DIR               Debian `nginx -t` on it (output on stdout)
#   nginx_env_cmd DIR                 the argument list that runs nginx on DIR in the foreground
# Relative certificate paths resolve against DIR (nginx's configuration folder), as they
# resolve against /etc/nginx on a Debian host. Nothing outside DIR is read or written.

nginx_env_prepare() {
    local dir=$1 src=$2 f path name
    [ ! -e "$dir" ] || { echo "nginx_env: $dir exists" >&2; return 1; }
    ls "$src"/*.conf >/dev/null 2>&1 || { echo "nginx_env: no .conf files in $src" >&2; return 1; }
    mkdir -p "$dir/servers" "$dir/tmp" || return 1
    cp "$src"/*.conf "$dir/servers/" || return 1
    cat >"$dir/nginx.conf" <<'CONF'
# Test harness only: the compiled server blocks are included unchanged.
user root root;
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include servers/*.conf;
}
CONF
    # One self-signed certificate per name, where the files say it is.
    for f in "$dir"/servers/*.conf; do
        path=$(sed -n 's/^ *ssl_certificate  *\([^ ;]*\);$/\1/p' "$f")
        [ -n "$path" ] || continue
        case "$path" in /* | *..*) echo "nginx_env: certificate path '$path' is not relative" >&2; return 1 ;; esac
        name=$(sed -n 's/^ *server_name  *\([^ ;]*\);$/\1/p' "$f")
        mkdir -p "$dir/$(dirname "$path")" || return 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=$name" -addext "subjectAltName=DNS:$name" \
            -keyout "$dir/${path%.crt}.key" -out "$dir/$path" >/dev/null 2>&1 \
            || { echo "nginx_env: openssl failed for $name" >&2; return 1; }
    done
}

nginx_env_cmd() { printf '%s\n' nginx -p "$1/" -c nginx.conf -e stderr; }

nginx_env_check() { nginx -t -q -p "$1/" -c nginx.conf -e stderr 2>&1; }
