#!/usr/bin/env bash
# The audit trail's overhead on durable single-row inserts: the same writer
# and insert with and without an audit entry (hash-chained, appended in the
# insert's transaction, as the API writes it), 1 and 64 concurrent writers,
# in one run. HTTP is left out, so the overhead shown is the most a client
# could see; the target is under 15%. ROUNDS pairs (default 5) run in
# alternating order (without first, then with first, ...); the last line per
# writer count gives the medians. cpu-no / cpu-aud: the writer thread's CPU
# microseconds per insert, steadier than throughput on a shared machine.
#
# Usage: [ROUNDS=N] bench/audit.sh [SECONDS] [WRITERS...]   (default 3 s; 1 64)
#
# With --cpu, the entry's CPU cost on the writer alone, without fsync noise:
# ROUNDS (default 5) pairs of UNITS (default 40000) inserts queued at once,
# batches of 32, durability normal; the writer thread's CPU per insert.
# Usage: bench/audit.sh --cpu [ROUNDS] [UNITS]
#
# With --http, the same comparison end to end: durable single-row POSTs
# (bench/api/product.spec, body bench/api/post-specbase.json, durability
# full, guard off) with wrk, through build/specbase and through a copy of it
# built on the side with SB_BENCH_NO_AUDIT, where sb_audit_append and the
# changes JSON do nothing (the only "without" there is: no build or option
# of specbase skips the trail). A fresh database per measurement, 1 s of
# warm-up; ROUNDS pairs in alternating order, medians last. The audited
# databases are checked with `specbase audit verify` afterwards. SPECBASE
# names another binary to measure with the trail (e.g. an older build).
#
# Usage: [ROUNDS=N] [SPECBASE=BIN] bench/audit.sh --http [SECONDS] [CONNECTIONS...]
#        (default 5 s; 1 64)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --cpu ]; then
    shift
    exec bench/writes.sh --audit-cpu "$@"
fi
if [ "${1:-}" != --http ]; then
    seconds=${1:-3}
    shift || true
    if [ $# -eq 0 ]; then
        set -- 1 64
    fi
    exec bench/writes.sh --audit --rounds "${ROUNDS:-5}" "$seconds" "$@"
fi

shift
seconds=${1:-5}
shift || true
if [ $# -eq 0 ]; then
    set -- 1 64
fi
rounds=${ROUNDS:-5}
specbase=${SPECBASE:-build/specbase}
command -v wrk >/dev/null || { echo "bench/audit.sh: wrk is needed (apt-get install wrk)" >&2; exit 1; }
export SPECBASE_GUARD=off # one load generator, one address: no rate limits

make -s build/specbase
mkdir -p build/bench
# the "without": build/specbase with audit.c compiled with SB_BENCH_NO_AUDIT
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DSB_BENCH_NO_AUDIT -O2 -g -Isrc \
    $(pkg-config --cflags sqlite3 libsodium) -c src/store/audit.c -o build/bench/audit-none.o
objects=$(find build/obj/src -name '*.o' ! -path build/obj/src/store/audit.o | sort)
# shellcheck disable=SC2086 # one word per object file
cc -o build/bench/specbase-no-audit $objects build/bench/audit-none.o \
    $(pkg-config --libs sqlite3 jansson libsodium libmicrohttpd libcrypto) -lpthread -lm

work=$(mktemp -d build/bench/audit-http.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# cpu_ticks PID: user + system clock ticks of the process so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)

# post BINARY CONNECTIONS DB: requests per second of durable POSTs in rate,
# the server's CPU microseconds per request in cpu
rate=
cpu=
post() {
    local bin=$1 conns=$2 db=$3 port= line=
    rm -f "$db" "$db"-wal "$db"-shm "$db".audit-key "$db".jwt-secret "$work/serve.log"
    timeout --kill-after=5 $((seconds + 120)) "$bin" serve bench/api/product.spec --db "$db" \
        --port 0 --durability full >"$work/serve.log" 2>/dev/null &
    pid=$!
    for _ in $(seq 400); do
        line=$(grep -m 1 '^specbase: serving' "$work/serve.log" 2>/dev/null || true)
        [ -n "$line" ] && break
        sleep 0.05
    done
    [ -n "$line" ] || { cat "$work/serve.log" >&2; echo "bench/audit.sh: $bin did not start" >&2; exit 1; }
    port=$(sed -E 's|.*http://127\.0\.0\.1:([0-9]+).*|\1|' <<<"$line")
    local url=http://127.0.0.1:$port args=(-s bench/api/wrk.lua "http://127.0.0.1:$port" --
        post /rest/v1/product bench/api/post-specbase.json)
    local threads=$((conns < 2 ? 1 : 2))
    wrk -c "$conns" -t "$threads" -d 1s "${args[@]}" >/dev/null
    local server before after
    server=$(pgrep -P "$pid" | head -n 1)
    before=$(cpu_ticks "$server")
    wrk -c "$conns" -t "$threads" -d "${seconds}s" "${args[@]}" >"$work/wrk.txt"
    after=$(cpu_ticks "$server")
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    pid=
    if grep -q 'Non-2xx\|Socket errors: connect [1-9]' "$work/wrk.txt" || ! grep -q '^Requests/sec' "$work/wrk.txt"; then
        cat "$work/wrk.txt" >&2
        echo "bench/audit.sh: $url answered errors" >&2
        exit 1
    fi
    rate=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk.txt")
    local requests
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    cpu=$(awk -v t=$((after - before)) -v hz="$tick" -v n="$requests" \
        'BEGIN {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "machine: $(nproc) cores; database directory on $(df -T "$work" | awk 'NR==2 {print $2}')"
echo "durable single-row POSTs per second through HTTP (durability full, ${seconds} s each, wrk)"
printf '%11s %12s %12s %9s %8s %8s\n' connections "no audit" "with audit" overhead cpu-no cpu-aud
echo "(cpu-no, cpu-aud: the server's CPU microseconds per request, without and with the trail)"
for conns in "$@"; do
    : >"$work/plain" && : >"$work/with" && : >"$work/over" && : >"$work/cpu_plain" && : >"$work/cpu_with"
    for r in $(seq "$rounds"); do
        if [ $((r % 2)) -eq 1 ]; then
            post build/bench/specbase-no-audit "$conns" "$work/plain.db" && plain=$rate cpu_plain=$cpu
            post "$specbase" "$conns" "$work/with.db" && with=$rate cpu_with=$cpu
            order=""
        else
            post "$specbase" "$conns" "$work/with.db" && with=$rate cpu_with=$cpu
            post build/bench/specbase-no-audit "$conns" "$work/plain.db" && plain=$rate cpu_plain=$cpu
            order=" (audit first)"
        fi
        build/specbase audit verify --db "$work/with.db" >"$work/verify.txt" || {
            cat "$work/verify.txt" >&2
            echo "bench/audit.sh: the audited database does not verify" >&2
            exit 1
        }
        over=$(awk -v p="$plain" -v w="$with" 'BEGIN {printf "%.1f", (p > 0 ? (p - w) / p * 100 : 0)}')
        echo "$plain" >>"$work/plain" && echo "$with" >>"$work/with" && echo "$over" >>"$work/over"
        echo "$cpu_plain" >>"$work/cpu_plain" && echo "$cpu_with" >>"$work/cpu_with"
        printf '%11d %12d %12d %8s%% %8s %8s   round %d%s\n' "$conns" "$plain" "$with" "$over" \
            "$cpu_plain" "$cpu_with" "$r" "$order"
    done
    printf '%11d %12.0f %12.0f %8s%% %8s %8s   median\n' "$conns" "$(median <"$work/plain")" \
        "$(median <"$work/with")" "$(median <"$work/over")" "$(median <"$work/cpu_plain")" \
        "$(median <"$work/cpu_with")"
done
