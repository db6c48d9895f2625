#!/usr/bin/env bash
# Resource embedding cost: a list of 20 posts each embedding its author and
# its 3 latest comments, against the same list without embedding, in one
# run on one server (wrk, 32 connections, BENCH_SECONDS each, default 8).
# Prints requests/s, p50, p99 and the ratio; the target is a ratio of at
# least 0.5 (the embedded list at least half as fast).
# Usage: bench/embed.sh [BUILD_DIR]
set -euo pipefail
# the guard's per-address rate limits would refuse a load generator on one
# address; the peers run without limits too
export SPECBASE_GUARD=off
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${BENCH_SECONDS:-8}
if ! command -v wrk >/dev/null; then
    sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk >/dev/null
fi
dir=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
spec=tests/api/specs/embed.spec
db=$dir/embed.db

start() {
    "$build/specbase" serve "$spec" --db "$db" --port 0 >"$dir/out" 2>"$dir/err" &
    pid=$!
    for _ in $(seq 100); do
        url=$(grep -o 'http://[^ ]*' "$dir/out" 2>/dev/null || true)
        [[ -n $url ]] && return 0
        sleep 0.1
    done
    echo "server did not start: $(cat "$dir/err")" >&2
    exit 1
}

# schema, then 1,000 people, 10,000 posts, 100,000 comments in one transaction
start
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
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
start

plain="$url/rest/v1/post?select=id,title,author&order=id.desc&limit=20"
embedded="$url/rest/v1/post?select=id,title,author(name),comment(body,created_at)&order=id.desc&limit=20&comment.order=id.desc&comment.limit=3"
curl -sf "$embedded" >/dev/null

measure() { # NAME URL -> "rps p50 p99"
    wrk -t2 -c32 -d1s "$2" >/dev/null 2>&1 || true
    local out
    out=$(wrk -t2 -c32 -d"${seconds}s" --latency "$2")
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    printf '%-28s %10s %10s %10s\n' "$1" "$rps" "$p50" "$p99"
    echo "$rps" >"$dir/$1.rps"
}

printf '%-28s %10s %10s %10s\n' case 'req/s' p50 p99
measure plain-list "$plain"
measure embedded-list "$embedded"
ratio=$(awk -v a="$(cat "$dir/embedded-list.rps")" -v b="$(cat "$dir/plain-list.rps")" 'BEGIN {printf "%.2f", a / b}')
echo "embedded / plain: $ratio (target >= 0.50)"
