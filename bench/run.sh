#!/bin/bash
# Time netpolc against Shorewall on synthetic policies: bench/run.sh SIZE...  (S, M, L)
#
# For each size: generate the policy, a variant with a few flows changed, and the
# equivalent Shorewall (IPv4) and Shorewall6 (IPv6) configurations; then time, with
# /usr/bin/time -v, RUNS runs (default 5 for S and M, 3 for L) of
#   netpolc check | compile -o | audit | diff OLD NEW | shorewall+shorewall6 compile -e
# Prints the median wall time and the max RSS of each, and the ratio netpolc compile /
# Shorewall compile per run index; writes the raw figures as CSV in a temp dir.
#
# Offline and harmless: `shorewall compile -e` reads our capabilities file and only writes
# a script; nothing is loaded into any firewall. Env: NETPOLC (binary), RUNS, SEED.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
netpolc=${NETPOLC:-$repo/build/netpolc}
[ -x "$netpolc" ] || { echo "no netpolc at $netpolc (set NETPOLC)" >&2; exit 2; }
for tool in /usr/bin/time shorewall shorewall6 /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install time shorewall shorewall6)" >&2; exit 2; }
done
[ $# -gt 0 ] || { echo "usage: $0 SIZE... (S M L)" >&2; exit 2; }

work=$(mktemp -d /tmp/netpol-bench.XXXXXX)
csv=$work/results.csv
echo "size,tool,run,wall_s,max_rss_kb,exit" > "$csv"

# time_one SIZE TOOL RUN CMD...: run CMD under /usr/bin/time -v, append one CSV row.
time_one() {
  local size=$1 tool=$2 run=$3; shift 3
  local log=$work/time.log rc=0
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$work/$size-$tool-$run.err" || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
           n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
  echo "$size,$tool,$run,$wall,$rss,$rc" >> "$csv"
  # check and audit exit 1 on errors only; W-warnings keep 0. Any failure is a wrong figure.
  [ "$rc" = 0 ] || echo "warning: $tool run $run on $size exited $rc (see $work/$size-$tool-$run.err)" >&2
}

for size in "$@"; do
  dir=$work/$size
  /usr/bin/python3 "$here/gen_policy.py" "$size" "$dir" ${SEED:+--seed "$SEED"}
  /usr/bin/python3 "$here/gen_policy.py" "$size" "$dir-changed" --variant 1 ${SEED:+--seed "$SEED"}
  runs=${RUNS:-$([ "$size" = L ] && echo 3 || echo 5)}
  echo "== $size: $("$netpolc" check "$dir/policy.npol" 2>&1 | tail -1)" >&2
  for run in $(seq 1 "$runs"); do
    time_one "$size" check "$run" "$netpolc" check "$dir/policy.npol"
    time_one "$size" compile "$run" "$netpolc" compile "$dir/policy.npol" -o "$work/out-$size"
    time_one "$size" audit "$run" "$netpolc" audit "$dir/policy.npol"
    time_one "$size" diff "$run" "$netpolc" diff "$dir/policy.npol" "$dir-changed/policy.npol"
    time_one "$size" shorewall "$run" sh -c \
      'shorewall compile -e "$1/shorewall" "$2/fw4.sh" && shorewall6 compile -e "$1/shorewall6" "$2/fw6.sh"' \
      sh "$dir" "$work"
  done
done

/usr/bin/python3 - "$csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sizes = list(dict.fromkeys(r["size"] for r in rows))
tools = ["check", "compile", "audit", "diff", "shorewall"]
print(f"{'size':4} {'tool':10} {'runs':>4} {'median s':>9} {'max RSS MB':>10}")
for s in sizes:
    for t in tools:
        sel = [r for r in rows if r["size"] == s and r["tool"] == t]
        if not sel:
            continue
        med = statistics.median(float(r["wall_s"]) for r in sel)
        rss = max(int(r["max_rss_kb"]) for r in sel) / 1024
        print(f"{s:4} {t:10} {len(sel):>4} {med:>9.3f} {rss:>10.1f}")
    pairs = {}
    for r in rows:
        if r["size"] == s and r["tool"] in ("compile", "shorewall"):
            pairs.setdefault(r["run"], {})[r["tool"]] = float(r["wall_s"])
    ratios = [p["compile"] / p["shorewall"] for p in pairs.values()
              if "compile" in p and p.get("shorewall")]
    if ratios:
        print(f"{s:4} netpolc compile / shorewall compile, run by run: "
              + " ".join(f"{x:.2f}" for x in ratios) + f"  (median {statistics.median(ratios):.2f})")
EOF
echo "raw figures: $csv" >&2
