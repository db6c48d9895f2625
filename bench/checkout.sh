#!/usr/bin/env bash
# Checkout throughput under contention: examples/shop.spec served by
# build/specbase with the durable writer (durability full), every request a
# POST /rest/v1/rpc/checkout of the same product by one of several signed-up
# customers, from wrk (64 connections, 2 threads). Two cases, each after a
# warm-up:
#   in-stock   the product never runs out: every call takes stock and
#              creates an order (one writer unit of five statements each)
#   sold-out   the product has no stock: every call is refused with 409
#              "sold out" after the same checks (nothing is written)
# For each: requests/s, p50 and p99 latency, responses by status. At the
# end the stock and the orders are checked against each other: every 200
# took exactly one unit (stock + orders == the initial stock).
#
# Usage: bench/checkout.sh
# Environment:
#   BENCH_SECONDS    seconds per measured case (default 8)
#   BENCH_WARMUP     seconds of warm-up before each case (default 2)
#   BENCH_CUSTOMERS  customers signed up and used in turn (default 16)
#   BENCH_WORKDIR    where the database goes (default: a new directory under
#                    TMPDIR, removed at the end; use a disk, not tmpfs, for
#                    the durable commits to mean it)
#   SPECBASE         the binary (default build/specbase)
# The server listens on 127.0.0.1 only, runs under `timeout` and is stopped
# by the EXIT trap. wrk (a Debian package) is installed when missing.
set -euo pipefail
# the guard's per-address rate limits would refuse a load generator on one
# address; the peers run without limits too
export SPECBASE_GUARD=off
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-8}
warmup=${BENCH_WARMUP:-2}
customers=${BENCH_CUSTOMERS:-16}
specbase=${SPECBASE:-build/specbase}
spec=examples/shop.spec
connections=64
initial_stock=1000000000

if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null
fi
[[ -x $specbase ]] || make build >/dev/null

work=${BENCH_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/specbase-checkout.XXXXXX")}
mkdir -p "$work"
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    [[ -n ${BENCH_WORKDIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

keys=$("$specbase" keys "$spec" --db "$work/shop.db")
anon=$(awk '/^anon/ {print $2}' <<<"$keys")
service=$(awk '/^service/ {print $2}' <<<"$keys")

timeout 600 "$specbase" serve "$spec" --db "$work/shop.db" --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 100); do
    url=$(grep -oE 'http://[^[:space:]]+' "$work/server.out" | head -n 1 || true)
    [[ -n $url ]] && break
    sleep 0.1
done
[[ -n $url ]] || { echo "the server did not start: $(cat "$work/server.err")" >&2; exit 1; }

# curl_json METHOD PATH TOKEN [BODY]: the response body
curl_json() {
    curl -sf -X "$1" "$url$2" -H "apikey: $anon" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' -H 'Prefer: return=representation' ${4:+-d "$4"}
}

product=$(curl_json POST /rest/v1/product "$service" \
    "{\"name\":\"Bench\",\"price\":1.5,\"stock\":$initial_stock,\"category\":\"bench\"}" |
    grep -oE '"id":[0-9]+' | head -n 1 | cut -d: -f2)
tokens=$work/tokens
: >"$tokens"
for i in $(seq "$customers"); do
    curl_json POST /auth/v1/signup "$anon" "{\"email\":\"bench$i@example.com\",\"password\":\"correct horse battery\"}" |
        grep -oE '"access_token":"[^"]+"' | cut -d'"' -f4 >>"$tokens"
done

cat >"$work/checkout.lua" <<EOF
-- one formatted checkout request per customer token, used in turn
local requests, count, next_index = {}, 0, 1
function init(args)
    for token in io.lines("$tokens") do
        count = count + 1
        requests[count] = wrk.format("POST", "/rest/v1/rpc/checkout", {
            ["Content-Type"] = "application/json", ["apikey"] = "$anon",
            ["Authorization"] = "Bearer " .. token }, '{"product_id":$product,"quantity":1}')
    end
    next_index = math.random(count)
end
function request()
    local req = requests[next_index]
    next_index = next_index % count + 1
    return req
end
function done(summary, latency, requests_)
    io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
        summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
EOF

run_case() {
    local name=$1
    wrk -t2 -c"$connections" -d"${warmup}s" -s "$work/checkout.lua" "$url" >/dev/null
    local out
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/checkout.lua" "$url")
    read -r _ rps p50 p99 total non2xx <<<"$(grep '^RESULT' <<<"$out")"
    printf '%-10s %9s req/s   p50 %7s ms   p99 %7s ms   %8s requests, %s not 200\n' \
        "$name" "$rps" "$p50" "$p99" "$total" "$non2xx"
}

echo "checkout on $spec, $connections connections, $customers customers, ${seconds}s per case, durable writer"
run_case in-stock
stock=$(curl_json GET "/rest/v1/product?id=eq.$product&select=stock" "$service" | grep -oE '[0-9]+' | tail -n 1)
orders=$(curl -sf -I "$url/rest/v1/order?product=eq.$product&select=id" -H "apikey: $anon" \
    -H "Authorization: Bearer $service" -H 'Prefer: count=exact' | tr -d '\r' | awk -F/ '/^[Cc]ontent-[Rr]ange/ {print $2}')
if ((stock + orders == initial_stock)); then
    echo "consistent: $orders orders, stock $stock (initial $initial_stock)"
else
    echo "INCONSISTENT: $orders orders, stock $stock, initial $initial_stock" >&2
    exit 1
fi
curl_json PATCH "/rest/v1/product?id=eq.$product" "$service" '{"stock":0}' >/dev/null
run_case sold-out
after=$(curl -sf -I "$url/rest/v1/order?product=eq.$product&select=id" -H "apikey: $anon" \
    -H "Authorization: Bearer $service" -H 'Prefer: count=exact' | tr -d '\r' | awk -F/ '/^[Cc]ontent-[Rr]ange/ {print $2}')
[[ $after == "$orders" ]] || { echo "INCONSISTENT: orders were placed with no stock ($orders -> $after)" >&2; exit 1; }
echo "sold out: no order placed ($after orders)"
