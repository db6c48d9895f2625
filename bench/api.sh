#!/usr/bin/env bash
# The records API against its peers, in one run, on one machine: specbase
# (build/specbase, durability full), Platformatic DB 2.x and json-server 0.17
# (npm, pinned in bench/api/package-lock.json, installed with `npm ci` in
# bench/api), and nginx serving the same JSON as static files (the HTTP
# ceiling, GET by id only). Each serves the same 100,000-row product table
# (bench/api/product.spec, rows from bench/api/seed.sql: 50 categories,
# category indexed). Cases, each after a warm-up, with wrk (32 connections,
# 2 threads, bench/api/wrk.lua):
#   get   GET one row by id, ids from a fixed-seed list of 1,000
#   list  20 rows filtered by category, categories from a fixed-seed list
#   post  POST one row (specbase: acknowledged after fsync)
# For each server and case: requests/s, p50 and p99 latency, errors, server
# CPU per request (utime+stime of the server's process tree over the run,
# from /proc/PID/stat, divided by the requests) and peak RSS (VmHWM summed
# over the process tree, MB). Then specbase's ratios to Platformatic DB and
# to nginx, and the targets of the performance issue, met or missed.
#
# Usage: bench/api.sh            (or: make bench-api)
# Environment:
#   BENCH_SECONDS   seconds per measured case (default 8)
#   BENCH_WARMUP    seconds of warm-up before each case (default 2)
#   BENCH_SERVERS   which servers, in order (default
#                   "specbase platformatic json-server nginx")
#   BENCH_ROWS      rows in the table (default 100000)
#   BENCH_WORKDIR   where the databases and files go (default: a new
#                   directory under TMPDIR, removed at the end; it must be
#                   on a disk, not tmpfs, for the durable writes to mean it)
#   BENCH_KEEP=1    keep the work directory
#   BENCH_PLATFORMATIC_WAL=1  Platformatic DB's file in WAL mode (not durable)
#   SPECBASE        the binary (default build/specbase)
#   BENCH_PORT      first port tried for the peers (default 18400; specbase
#                   takes a free one itself)
# Servers listen on 127.0.0.1 only; every server runs under `timeout` and is
# stopped by the EXIT trap, whatever happens. wrk and nginx (Debian packages)
# are installed when missing, without starting the packaged nginx.
set -euo pipefail
# the guard's per-address rate limits would refuse a load generator on one
# address; the peers run without limits too
export SPECBASE_GUARD=off
cd "$(dirname "$0")/.."
root=$PWD

seconds=${BENCH_SECONDS:-8}
warmup=${BENCH_WARMUP:-2}
servers=${BENCH_SERVERS:-specbase platformatic json-server nginx}
rows=${BENCH_ROWS:-100000}
specbase=${SPECBASE:-build/specbase}
connections=32
wrk_threads=2
wrk_timeout=10s
id_count=1000
category_count=50
api=$root/bench/api
tick=$(getconf CLK_TCK)
# the longest a server may live: start-up, three cases and some slack
server_budget=$((3 * (seconds + warmup + 5) + 180))

die() {
    echo "bench/api.sh: $*" >&2
    exit 1
}

[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $warmup =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ $rows =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive integer"
[[ -x $specbase ]] || die "no $specbase (run make)"
specbase=$(realpath "$specbase")
for s in $servers; do
    case $s in specbase | platformatic | json-server | nginx) ;; *) die "unknown server $s" ;; esac
done
wants() { [[ " $servers " == *" $1 "* ]]; }

# ---------------------------------------------------------------- tools

apt_install() {
    local sudo=() policy=/usr/sbin/policy-rc.d made_policy=
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    # a package's service must not start (nginx would listen on port 80 on
    # every address): Debian's policy-rc.d says no, for this install only
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod 755 "$policy"
        made_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive timeout 600 "${sudo[@]}" apt-get install -y -q \
        --no-install-recommends "$@" >/dev/null || rc=$?
    if [[ $rc -ne 0 ]]; then
        timeout 300 "${sudo[@]}" apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive timeout 600 "${sudo[@]}" apt-get install -y -q \
                --no-install-recommends "$@" >/dev/null && rc=0
    fi
    [[ -n $made_policy ]] && "${sudo[@]}" rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get install $* failed"
}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
if wants nginx && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then need+=(nginx); fi
if [[ ${#need[@]} -gt 0 ]]; then
    echo "bench/api.sh: installing ${need[*]}" >&2
    apt_install "${need[@]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# the peers, from the committed lock file; again only when it changed
if wants platformatic || wants json-server; then
    command -v npm >/dev/null || die "npm is needed for the peers (Node 20)"
    stamp=$(cat "$api/package.json" "$api/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [[ ! -f $api/node_modules/.bench-api-stamp ||
        $(cat "$api/node_modules/.bench-api-stamp") != "$stamp" ]]; then
        echo "bench/api.sh: npm ci in bench/api (builds better-sqlite3, a few minutes)" >&2
        nodedir=()
        [[ -f /usr/include/node/node.h ]] && nodedir=(--nodedir=/usr)
        (cd "$api" && timeout 1200 npm ci --no-audit --no-fund --loglevel=error "${nodedir[@]}" >&2) ||
            die "npm ci in bench/api failed"
        [[ -f $api/node_modules/better-sqlite3/build/Release/better_sqlite3.node ]] ||
            die "better-sqlite3 was not built (Platformatic DB needs it)"
        echo "$stamp" >"$api/node_modules/.bench-api-stamp"
    fi
fi

# ---------------------------------------------------------------- cleanup

if [[ -n ${BENCH_WORKDIR:-} ]]; then
    work=$BENCH_WORKDIR
    mkdir -p "$work"
    [[ -z $(ls -A "$work") ]] || die "BENCH_WORKDIR $work is not empty"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/specbase-bench-api.XXXXXX")
fi
work=$(realpath "$work")
chmod 755 "$work" # nginx's workers read the files as another user

guards=() # the `timeout` process of each running server
cleanup() {
    local rc=$? g
    trap - EXIT INT TERM
    for g in "${guards[@]}"; do
        stop_guard "$g"
    done
    if [[ ${BENCH_KEEP:-} == 1 ]]; then
        echo "bench/api.sh: kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_guard PID: TERM to the server through its timeout, then KILL to the
# whole process group if it has not gone within 10 s
stop_guard() {
    local g=$1
    kill -0 "$g" 2>/dev/null || return 0
    kill -TERM "$g" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$g" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$g" 2>/dev/null; then
        kill -KILL -- "-$g" 2>/dev/null || kill -KILL "$g" 2>/dev/null || true
    fi
    wait "$g" 2>/dev/null || true
}

# start_server LOG ERRLOG COMMAND...: runs it under timeout (its own process
# group), stdout to LOG and stderr to ERRLOG; sets guard and server_pid (the
# command itself, the root of the measured process tree)
start_server() {
    local log=$1 errlog=$2
    shift 2
    if [[ $errlog == "$log" ]]; then
        timeout --kill-after=5 "$server_budget" "$@" >"$log" 2>&1 &
    else
        timeout --kill-after=5 "$server_budget" "$@" >"$log" 2>"$errlog" &
    fi
    guard=$!
    guards+=("$guard")
    server_pid=
    for _ in $(seq 100); do
        server_pid=$(pgrep -P "$guard" | head -n 1 || true)
        [[ -n $server_pid ]] && return 0
        kill -0 "$guard" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log" "$errlog" >&2
    die "could not start $*"
}

stop_server() {
    local g=$1 kept=() x
    stop_guard "$g"
    for x in "${guards[@]}"; do [[ $x != "$g" ]] && kept+=("$x"); done
    guards=("${kept[@]+"${kept[@]}"}")
}

# free_port: a port on 127.0.0.1 that nothing listens on
next_port=${BENCH_PORT:-18400}
free_port() {
    local p=$next_port
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    next_port=$((p + 1))
    echo "$p"
}

# wait_http URL SECONDS LOG: until URL answers 200
wait_http() {
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true) == 200 ]]; then
            return 0
        fi
        kill -0 "$guard" 2>/dev/null || break
        sleep 0.2
    done
    cat "$3" >&2
    die "no answer from $1"
}

# ---------------------------------------------------------------- measuring

# tree_pids ROOT: ROOT and its descendants
tree_pids() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                q = p
                while (q != "" && q != root && q > 1) q = parent[q]
                if (q == root) print p
            }
        }'
}

# tree_ticks ROOT: utime+stime (and those of waited-for children) of the tree
tree_ticks() {
    local p sum=0 t
    for p in $(tree_pids "$1"); do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }') || continue
        [[ -n $t ]] && sum=$((sum + t))
    done
    echo "$sum"
}

# tree_hwm_kb ROOT: peak RSS (VmHWM) summed over the tree, kB
tree_hwm_kb() {
    local p sum=0 k
    for p in $(tree_pids "$1"); do
        k=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
        [[ -n $k ]] && sum=$((sum + k))
    done
    echo "$sum"
}

results=$work/results # server case rps p50ms p99ms errors cpu_us rss_mb

# measure SERVER CASE PID URL WRK_ARGS...: warm-up, measured run, one result
measure() {
    local server=$1 case=$2 pid=$3 url=$4 before after out rps reqs p50 p99 errors us rss
    shift 4
    if ((warmup > 0)); then
        wrk -t"$wrk_threads" -c"$connections" -d"${warmup}s" --timeout "$wrk_timeout" \
            -s "$api/wrk.lua" "$url" -- "$@" >/dev/null
    fi
    before=$(tree_ticks "$pid")
    out=$(wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --timeout "$wrk_timeout" \
        --latency -s "$api/wrk.lua" "$url" -- "$@")
    after=$(tree_ticks "$pid")
    rss=$(tree_hwm_kb "$pid")
    echo "$out" >"$work/wrk-$server-$case.txt"
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    reqs=$(awk '/ requests in / { print $1 }' <<<"$out")
    p50=$(awk -v pct=50% "$latency_awk" <<<"$out")
    p99=$(awk -v pct=99% "$latency_awk" <<<"$out")
    if [[ ${reqs:-0} == 0 ]]; then # nothing answered within the run
        p50=- p99=-
    fi
    errors=$(awk '
        /Non-2xx or 3xx responses:/ { n += $NF }
        /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
        END { print n + 0 }' <<<"$out")
    us=$(awk -v t="$((after - before))" -v hz="$tick" -v n="${reqs:-0}" \
        'BEGIN { printf "%.1f", (n > 0) ? t / hz * 1e6 / n : 0 }')
    echo "$server $case ${rps:-0} ${p50:-0} ${p99:-0} $errors $us $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" >>"$results"
    printf '  %-13s %-5s %9s req/s  p50 %8s ms  p99 %8s ms  errors %s\n' \
        "$server" "$case" "${rps:-0}" "${p50:-0}" "${p99:-0}" "$errors" >&2
}

# wrk's latency line for -v pct=NN% (e.g. "99%  1.23ms"), in ms
# shellcheck disable=SC2016 # an awk program
latency_awk='
$1 == pct {
    v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
    f = (unit == "us") ? 0.001 : (unit == "ms") ? 1 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : 1
    printf "%.2f", v * f
}'

# ---------------------------------------------------------------- data

# fixed-seed lists: the same ids and categories on every run, for every server
awk -v n="$id_count" -v rows="$rows" 'BEGIN {
    x = 20240607
    for (i = 0; i < n; i++) { x = (x * 48271) % 2147483647; print x % rows + 1 }
}' >"$work/ids.txt"
awk -v n=200 -v c="$category_count" 'BEGIN {
    x = 19700101
    for (i = 0; i < n; i++) { x = (x * 48271) % 2147483647; printf "category-%02d\n", x % c }
}' >"$work/categories.txt"

echo "bench/api.sh: seeding $rows rows in $work" >&2
mkdir -p "$work/specbase"
sb_db=$work/specbase/product.db
# specbase creates the schema on an empty database, then the rows go in
# with the sqlite3 CLI in one transaction
start_server "$work/specbase/schema.log" "$work/specbase/schema.log" "$specbase" serve \
    "$api/product.spec" --db "$sb_db" --port 0 --durability full
for _ in $(seq 200); do
    grep -q '^specbase: serving' "$work/specbase/schema.log" && break
    kill -0 "$guard" 2>/dev/null || break
    sleep 0.05
done
grep -q '^specbase: serving' "$work/specbase/schema.log" || {
    cat "$work/specbase/schema.log" >&2
    die "specbase did not start"
}
stop_server "$guard"
sqlite3 "$sb_db" ".parameter set @rows $rows" ".read $api/seed.sql"
[[ $(sqlite3 "$sb_db" 'SELECT count(*) FROM product') == "$rows" ]] || die "seeding failed"

# Platformatic DB: the same table (specbase's CREATE TABLE and index) and
# rows, in its own file, left in SQLite's default rollback-journal mode
# (synchronous FULL: each commit is fsynced, as durable as specbase's full).
# BENCH_PLATFORMATIC_WAL=1 puts the file in WAL mode instead, where
# better-sqlite3's build uses synchronous NORMAL: faster, not durable.
if wants platformatic; then
    mkdir -p "$work/platformatic"
    sqlite3 "$sb_db" '.schema product' | sqlite3 "$work/platformatic/product.db"
    sqlite3 "$work/platformatic/product.db" \
        "ATTACH '$sb_db' AS s; INSERT INTO product SELECT * FROM s.product;"
    if [[ ${BENCH_PLATFORMATIC_WAL:-} == 1 ]]; then
        sqlite3 "$work/platformatic/product.db" 'PRAGMA journal_mode = WAL' >/dev/null
    fi
fi

# json-server: the same rows in db.json
if wants json-server; then
    mkdir -p "$work/json-server"
    sqlite3 "$sb_db" "SELECT json_object('product', (SELECT json_group_array(json_object(
        'id', id, 'name', name, 'description', description, 'price', price,
        'stock', stock, 'category', category, 'sku', sku,
        'active', json(iif(active, 'true', 'false')),
        'created_at', created_at, 'updated_at', updated_at))
        FROM (SELECT * FROM product ORDER BY id)))" >"$work/json-server/db.json"
fi

# ---------------------------------------------------------------- runs

: >"$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/api.sh: $connections connections, $wrk_threads wrk threads, ${warmup}s warm-up + ${seconds}s per case" >&2

run_specbase() {
    local port url
    # its access log (stderr, one JSON line per request, always on) goes to
    # /dev/null: the line is still made and written, but no disk is involved,
    # as the peers write no per-request log either
    start_server "$work/specbase/serve.log" /dev/null "$specbase" serve "$api/product.spec" \
        --db "$sb_db" --port 0 --durability full
    local line=
    for _ in $(seq 400); do
        line=$(grep -m 1 '^specbase: serving' "$work/specbase/serve.log" || true)
        [[ -n $line ]] && break
        kill -0 "$guard" 2>/dev/null || break
        sleep 0.05
    done
    [[ -n $line ]] || {
        cat "$work/specbase/serve.log" >&2
        die "specbase did not start"
    }
    port=$(sed -E 's|.*http://127\.0\.0\.1:([0-9]+).*|\1|' <<<"$line")
    url=http://127.0.0.1:$port
    # nginx's static files: specbase's own answers for the ids of the list
    if wants nginx; then
        mkdir -p "$work/nginx/html/product"
        local args=() id
        while read -r id; do
            args+=("$url/rest/v1/product?id=eq.$id" -o "$work/nginx/html/product/$id")
        done < <(sort -un "$work/ids.txt")
        curl -sf --max-time 60 "${args[@]}" || die "could not fetch the rows from specbase"
    fi
    measure specbase get "$server_pid" "$url" get '/rest/v1/product?id=eq.{}' "$work/ids.txt"
    measure specbase list "$server_pid" "$url" get '/rest/v1/product?category=eq.{}&limit=20' "$work/categories.txt"
    measure specbase post "$server_pid" "$url" post /rest/v1/product "$api/post-specbase.json"
    stop_server "$guard"
}

run_platformatic() {
    local port url
    port=$(free_port)
    url=http://127.0.0.1:$port
    # logging at level warn: no access log, as for the other peers
    PLT_BENCH_PORT=$port PLT_BENCH_DB=$work/platformatic/product.db \
        start_server "$work/platformatic/serve.log" "$work/platformatic/serve.log" \
        node "$api/node_modules/@platformatic/db/db.mjs" start -c "$api/platformatic.json"
    wait_http "$url/product/1" 120 "$work/platformatic/serve.log"
    measure platformatic get "$server_pid" "$url" get '/product/{}' "$work/ids.txt"
    measure platformatic list "$server_pid" "$url" get '/product?where.category.eq={}&limit=20' "$work/categories.txt"
    measure platformatic post "$server_pid" "$url" post /product "$api/post-platformatic.json"
    stop_server "$guard"
}

run_json_server() {
    local port url
    port=$(free_port)
    url=http://127.0.0.1:$port
    # its working directory holds no json-server.json, so no config is read
    start_server "$work/json-server/serve.log" "$work/json-server/serve.log" env -C "$work/json-server" \
        node "$api/node_modules/json-server/lib/cli/bin.js" --quiet --host 127.0.0.1 \
        --port "$port" db.json
    wait_http "$url/product/1" 120 "$work/json-server/serve.log"
    measure json-server get "$server_pid" "$url" get '/product/{}' "$work/ids.txt"
    measure json-server list "$server_pid" "$url" get '/product?category={}&_limit=20' "$work/categories.txt"
    measure json-server post "$server_pid" "$url" post /product "$api/post-json-server.json"
    stop_server "$guard"
}

run_nginx() {
    local port url
    port=$(free_port)
    url=http://127.0.0.1:$port
    if [[ ! -d $work/nginx/html/product ]]; then
        die "nginx serves the rows that specbase answered: keep specbase in BENCH_SERVERS"
    fi
    mkdir -p "$work/nginx/tmp"
    sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$port|g" "$api/nginx.conf" >"$work/nginx/nginx.conf"
    start_server "$work/nginx/serve.log" "$work/nginx/serve.log" "$nginx_bin" -p "$work/nginx" -e "$work/nginx/error.log" \
        -c "$work/nginx/nginx.conf"
    wait_http "$url/product/$(head -n 1 "$work/ids.txt")" 30 "$work/nginx/error.log"
    measure nginx get "$server_pid" "$url" get '/product/{}' "$work/ids.txt"
    stop_server "$guard"
}

for s in $servers; do
    case $s in
    specbase) run_specbase ;;
    platformatic) run_platformatic ;;
    json-server) run_json_server ;;
    nginx) run_nginx ;;
    esac
done

# ---------------------------------------------------------------- report

fs_type=$(stat -f -c %T "$work")
echo
echo "specbase bench/api.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(uname -r)), work dir on $fs_type"
echo "load average before the runs: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$rows-row product table, 50 categories (category indexed); wrk $connections connections," \
    "$wrk_threads threads, ${warmup}s warm-up + ${seconds}s per case; client and servers share the cores"
versions="specbase $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')"
if wants platformatic || wants json-server; then
    versions+=", Platformatic DB $(node -p "require('$api/node_modules/@platformatic/db/package.json').version")"
    versions+=", json-server $(node -p "require('$api/node_modules/json-server/package.json').version")"
    versions+=", Node $(node --version)"
fi
wants nginx && versions+=", $("$nginx_bin" -v 2>&1 | sed 's|.*version: ||')"
echo "$versions"
echo
awk '
BEGIN {
    printf "%-13s %-5s %10s %9s %9s %8s %12s %9s\n", "server", "case", "req/s", "p50 ms", "p99 ms", "errors", "CPU us/req", "RSS MB"
    printf "%-13s %-5s %10s %9s %9s %8s %12s %9s\n", "------", "----", "-----", "------", "------", "------", "----------", "------"
}
{ printf "%-13s %-5s %10s %9s %9s %8s %12s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8 }
' "$results"
echo "(RSS: peak resident memory of the server process tree so far, VmHWM)"
echo

awk -v rss_target=30 -v p99_target=5 '
{ rps[$1, $2] = $3; p99[$1, $2] = $5; err[$1, $2] = $6; rss[$1] = $8; seen[$1] = 1 }
function ratio(a, b) { return (b > 0) ? sprintf("%.2fx", a / b) : "n/a" }
function verdict(ok) { return ok ? "met" : "MISSED" }
END {
    if (seen["specbase"] && seen["platformatic"]) {
        printf "specbase vs Platformatic DB:  get %s   list %s   post %s\n",
            ratio(rps["specbase", "get"], rps["platformatic", "get"]),
            ratio(rps["specbase", "list"], rps["platformatic", "list"]),
            ratio(rps["specbase", "post"], rps["platformatic", "post"])
    }
    if (seen["specbase"] && seen["json-server"]) {
        printf "specbase vs json-server:      get %s   list %s   post %s\n",
            ratio(rps["specbase", "get"], rps["json-server", "get"]),
            ratio(rps["specbase", "list"], rps["json-server", "list"]),
            ratio(rps["specbase", "post"], rps["json-server", "post"])
    }
    if (seen["specbase"] && seen["nginx"]) {
        printf "specbase vs nginx (static GET by id):  get %s   list %s\n",
            ratio(rps["specbase", "get"], rps["nginx", "get"]),
            ratio(rps["specbase", "list"], rps["nginx", "get"])
    }
    if (!seen["specbase"]) exit
    print ""
    print "targets:"
    if (seen["platformatic"]) {
        for (i = 1; i <= 3; i++) {
            c = (i == 1) ? "get" : (i == 2) ? "list" : "post"
            r = rps["platformatic", c] > 0 ? rps["specbase", c] / rps["platformatic", c] : 0
            printf "  %-4s >= 5x Platformatic DB      %6.2fx  (%s vs %s req/s)  %s\n", c, r,
                rps["specbase", c], rps["platformatic", c], verdict(r >= 5)
        }
    }
    if (seen["nginx"]) {
        for (i = 1; i <= 2; i++) {
            c = (i == 1) ? "get" : "list"
            r = rps["nginx", "get"] > 0 ? rps["specbase", c] / rps["nginx", "get"] : 0
            printf "  %-4s >= nginx static GET        %6.2fx  (%s vs %s req/s)  %s\n", c, r,
                rps["specbase", c], rps["nginx", "get"], verdict(r >= 1)
        }
    }
    for (i = 1; i <= 3; i++) {
        c = (i == 1) ? "get" : (i == 2) ? "list" : "post"
        printf "  %-4s p99 < %d ms                 %7.2f ms                       %s\n", c, p99_target,
            p99["specbase", c], verdict(p99["specbase", c] != "-" && p99["specbase", c] < p99_target && err["specbase", c] == 0)
    }
    printf "  peak RSS < %d MB                  %7.1f MB                       %s\n", rss_target,
        rss["specbase"], verdict(rss["specbase"] < rss_target)
}' "$results"
echo
echo "The machine is shared and noisy: compare servers within one run, not across runs."
