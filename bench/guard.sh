#!/usr/bin/env bash
# The guard's cost on the fastest request there is: GET one row by id, with
# the guard off and on (its limits raised so that it never refuses), in
# alternating rounds on one database, so that both see the same machine.
# Prints each round, then the medians of requests/s and of server CPU per
# request, and their ratios.
#
# Usage: bench/guard.sh [BUILD_DIR]   (BENCH_SECONDS per round, default 5;
# BENCH_ROUNDS rounds of each, default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-4}
if ! command -v wrk >/dev/null; then
    sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk >/dev/null
fi
dir=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
spec=examples/shop.spec
db=$dir/shop.db

starts=0
start() { # GUARD
    starts=$((starts + 1))
    local out=$dir/out.$starts # a new file: never an earlier server's address
    SPECBASE_GUARD=$1 SPECBASE_RATE_LIMIT=1000000/10000000 \
        "$build/specbase" serve "$spec" --db "$db" --port 0 >"$out" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do
        url=$(grep -o 'http://[^ ]*' "$out" 2>/dev/null || true)
        [[ -n $url ]] && return 0
        sleep 0.1
    done
    echo "server did not start" >&2
    exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# the schema, then 1,000 products
start off
stop
sqlite3 "$db" <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO product (name, price, category) SELECT 'product ' || i, i % 100, 'c' || (i % 10) FROM n;
SQL

tick=$(getconf CLK_TCK)
printf '%-6s %-6s %10s %10s %12s\n' round guard 'req/s' 'p99' 'CPU us/req'
for round in $(seq "$rounds"); do
    for guard in off on; do
        start "$guard"
        path="$url/rest/v1/product?id=eq.$((round * 7))&select=id,name,price"
        wrk -t2 -c32 -d1s "$path" >/dev/null 2>&1 || true
        before=$(cpu_ticks)
        out=$(wrk -t2 -c32 -d"${seconds}s" --latency "$path")
        after=$(cpu_ticks)
        stop
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        total=$(awk '/requests in/ {print $1}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        cpu=$(awk -v t="$((after - before))" -v hz="$tick" -v n="$total" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
        printf '%-6s %-6s %10s %10s %12s\n' "$round" "$guard" "$rps" "$p99" "$cpu"
        echo "$rps $cpu" >>"$dir/$guard"
    done
done
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for guard in off on; do
    eval "rps_$guard=$(awk '{print $1}' "$dir/$guard" | median)"
    eval "cpu_$guard=$(awk '{print $2}' "$dir/$guard" | median)"
done
echo
printf 'medians: off %s req/s, %s us/req; on %s req/s, %s us/req\n' "$rps_off" "$cpu_off" "$rps_on" "$cpu_on"
awk -v a="$rps_on" -v b="$rps_off" -v c="$cpu_on" -v d="$cpu_off" \
    'BEGIN {printf "guard on / off: %.2fx requests/s, %.2fx CPU per request\n", a / b, c / d}'
