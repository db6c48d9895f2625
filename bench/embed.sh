#!/usr/bin/env bash
# Resource embedding cost: a list of 20 posts each embedding its author and
# its 3 latest comments, against the same list without embedding, on one
# server (wrk, 32 connections, BENCH_SECONDS per case, default 8). The two
# cases alternate for BENCH_ROUNDS rounds (default 1); each round prints
# requests/s, p50 and p99 of both and their ratio, and the server's CPU
# time per request (utime + stime from /proc, all threads) of both and
# their ratio; the last line gives the median ratios. The target is a
# requests/s ratio of at least 0.5 (the embedded list at least half as
# fast). On a shared machine requests/s follow the other jobs' load; CPU
# per request moves much less.
#
# BENCH_BASE=DIR also runs DIR/specbase, a build to compare with, on a copy
# of the same database: in each round the base's two cases, then this
# build's, so both see the same machine load. The last lines then give
# each build's median ratio.
#
# --sql measures the two SQL statements alone instead (bench/embed_sql.c,
# built against BUILD_DIR's library, and BENCH_BASE's too): microseconds
# per execution, then, when valgrind is installed, instructions per
# execution, which the load of a shared machine does not move.
# Usage: bench/embed.sh [--sql] [BUILD_DIR]
set -euo pipefail
# the guard's per-address rate limits would refuse a load generator on one
# address; the peers run without limits too
export SPECBASE_GUARD=off
cd "$(dirname "$0")/.."
sql_only=
if [[ ${1:-} == --sql ]]; then
    sql_only=1
    shift
fi
build=${1:-build}
seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-1}
base=${BENCH_BASE:-}
for tool in wrk sqlite3 curl; do
    if ! command -v "$tool" >/dev/null; then
        sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
        "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk sqlite3 curl >/dev/null
        break
    fi
done
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
spec=tests/api/specs/embed.spec

# start NAME BINARY DB: serve DB in the background; sets url and pid
start() {
    "$2" serve "$spec" --db "$3" --port 0 >"$dir/$1.out" 2>"$dir/$1.err" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        url=$(grep -o 'http://[^ ]*' "$dir/$1.out" 2>/dev/null || true)
        [[ -n $url ]] && return 0
        sleep 0.1
    done
    echo "$1: server did not start: $(cat "$dir/$1.err")" >&2
    exit 1
}

# schema, then 1,000 people, 10,000 posts, 100,000 comments in one transaction
db=$dir/embed.db
start schema "$build/specbase" "$db"
kill "$pid"; wait "$pid" 2>/dev/null || true
sqlite3 "$db" <<'SQL'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO person (name) SELECT 'person ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO post (author, title) SELECT 1 + i % 1000, 'post ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO comment (post, author, body) SELECT 1 + i % 10000, 1 + i % 997, 'comment ' || i FROM n;
COMMIT;
SQL

plain='/rest/v1/post?select=id,title,author&order=id.desc&limit=20'
embedded='/rest/v1/post?select=id,title,author(name),comment(body,created_at)&order=id.desc&limit=20&comment.order=id.desc&comment.limit=3'

if [[ -n $sql_only ]]; then
    # bench_sql NAME BUILD_DIR: the statement program against that build's library
    bench_sql() {
        local src
        src=$(cd "$2/.." && pwd)/src
        make -s -C "$2/.." BUILD="$(basename "$2")" "$(basename "$2")/libspecbase.a" >/dev/null
        cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -I"$src" bench/embed_sql.c "$2/libspecbase.a" \
            -lsqlite3 -ljansson -lsodium -lmicrohttpd -lcrypto -lpthread -lm -o "$dir/sql-$1"
    }
    builds=(this)
    [[ -n $base ]] && builds=(base this)
    bench_sql this "$build"
    [[ -n $base ]] && bench_sql base "$base"
    run_sql() { "$dir/sql-$1" "$spec" "$db" post "$2" "$3" "${plain#*\?}" "${embedded#*\?}"; }
    for b in "${builds[@]}"; do
        echo "$b: microseconds per execution (2,000 executions a round, $((rounds * 5)) rounds)"
        run_sql "$b" 2000 $((rounds * 5))
    done
    if command -v valgrind >/dev/null; then
        for b in "${builds[@]}"; do
            instructions() { # ITERS -> total instructions of a run
                valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/sql-$b" "$spec" "$db" post "$1" 1 \
                    "$2" 2>&1 | awk '/Collected/ {print $4}'
            }
            for q in "$plain" "$embedded"; do
                a=$(instructions 20 "${q#*\?}")
                c=$(instructions 120 "${q#*\?}")
                echo "$b: $(((c - a) / 100)) instructions per execution of ${q#*\?}"
            done
        done
    fi
    exit 0
fi

declare -A urls spids
builds=(this)
if [[ -n $base ]]; then
    cp "$db" "$dir/base.db"
    start base "$base/specbase" "$dir/base.db"
    urls[base]=$url
    spids[base]=$pid
    builds=(base this)
fi
start this "$build/specbase" "$db"
urls[this]=$url
spids[this]=$pid

for b in "${builds[@]}"; do
    if ! curl -sf "${urls[$b]}$embedded" >/dev/null; then
        echo "$b: the embedded list failed: $(curl -s "${urls[$b]}$embedded")" >&2
        exit 1
    fi
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process, all threads

measure() { # URL PID -> "rps p50 p99 cpu_us_per_request"
    wrk -t2 -c32 -d1s "$1" >/dev/null 2>&1 || true
    local out before after
    before=$(ticks "$2")
    out=$(wrk -t2 -c32 -d"${seconds}s" --latency "$1")
    after=$(ticks "$2")
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
        /requests in/ {n = $1} /Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
        END {printf "%s %s %s %.1f\n", rps, p50, p99, n ? ticks / hz * 1e6 / n : 0}' <<<"$out"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

format='%-5s %-5s %9s %8s %8s %9s %8s %8s %6s %7s %7s %6s\n'
printf "$format" round build 'plain/s' p50 p99 'embed/s' p50 p99 ratio 'us/req' 'us/req' ratio
printf "$format" '' '' '' '' '' '' '' '' '' plain embed cpu
for r in $(seq "$rounds"); do
    for b in "${builds[@]}"; do
        read -r prps pp50 pp99 pcpu <<<"$(measure "${urls[$b]}$plain" "${spids[$b]}")"
        read -r erps ep50 ep99 ecpu <<<"$(measure "${urls[$b]}$embedded" "${spids[$b]}")"
        ratio=$(awk -v a="$erps" -v b="$prps" 'BEGIN {printf "%.2f", a / b}')
        cpu_ratio=$(awk -v a="$pcpu" -v b="$ecpu" 'BEGIN {printf "%.2f", b ? a / b : 0}')
        echo "$ratio" >>"$dir/$b.ratios"
        echo "$cpu_ratio" >>"$dir/$b.cpu"
        printf "$format" "$r" "$b" "$prps" "$pp50" "$pp99" "$erps" "$ep50" "$ep99" "$ratio" "$pcpu" "$ecpu" "$cpu_ratio"
    done
done
for b in "${builds[@]}"; do
    echo "$b: median over $rounds round(s): embedded / plain requests/s $(median <"$dir/$b.ratios")" \
        "(target >= 0.50); CPU per request, plain / embedded $(median <"$dir/$b.cpu")"
done
