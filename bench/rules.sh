#!/usr/bin/env bash
# The cost of access rules: a list of 20 notes of one member out of 100,000
# (the owner indexed), read by the member through the rule `owner ==
# auth.id`, against the same list read with the service key and an explicit
# `owner=eq.N` filter (no rule), in one run (wrk, 32 connections,
# BENCH_SECONDS each, default 8). Target: the ruled list within 1.5x.
# Then the cost of one password sign-in against one Argon2id verification.
# Usage: bench/rules.sh [BUILD_DIR]
set -euo pipefail
# the guard's per-address rate limits would refuse a load generator on one
# address; the peers run without limits too
export SPECBASE_GUARD=off
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${BENCH_SECONDS:-8}
command -v wrk >/dev/null || { sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo); "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk >/dev/null; }
dir=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
spec=bench/rules/notes.spec
db=$dir/notes.db

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

start
# one member with a password, signed up through the API; 999 more and the notes by SQL
curl -sf -X POST "$url/auth/v1/signup" -H 'Content-Type: application/json' \
    -d '{"email":"m1@example.com","password":"bench password 1"}' >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
sqlite3 "$db" <<'SQL'
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO member (email) SELECT 'm' || i || '@example.com' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO note (owner, title) SELECT 1 + i % 1000, 'note ' || i FROM n;
COMMIT;
SQL
start
token=$(curl -sf -X POST "$url/auth/v1/token?grant_type=password" -H 'Content-Type: application/json' \
    -d '{"email":"m1@example.com","password":"bench password 1"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
service=$("$build/specbase" keys "$spec" --db "$db" | awk '/^service/ {print $2}')

measure() { # NAME URL TOKEN
    wrk -t2 -c32 -d1s -H "Authorization: Bearer $3" "$2" >/dev/null 2>&1 || true
    local out rps p99
    out=$(wrk -t2 -c32 -d"${seconds}s" --latency -H "Authorization: Bearer $3" "$2")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    printf '%-26s %10s %10s\n' "$1" "$rps" "$p99"
    echo "$rps" >"$dir/$1"
}
printf '%-26s %10s %10s\n' case 'req/s' p99
measure rule-owner "$url/rest/v1/note?select=id,title&order=id&limit=20" "$token"
measure no-rule-service "$url/rest/v1/note?select=id,title&owner=eq.1&order=id&limit=20" "$service"
awk -v a="$(cat "$dir/no-rule-service")" -v b="$(cat "$dir/rule-owner")" \
    'BEGIN {printf "no rule / rule: %.2fx (target <= 1.50x)\n", a / b}'

# a sign-in is one Argon2id verification plus a session write
t0=$(date +%s%N)
for _ in 1 2 3 4 5; do
    curl -sf -X POST "$url/auth/v1/token?grant_type=password" -H 'Content-Type: application/json' \
        -d '{"email":"m1@example.com","password":"bench password 1"}' >/dev/null
done
t1=$(date +%s%N)
echo "sign-in: $(( (t1 - t0) / 5000000 )) ms each (one Argon2id verification at libsodium's interactive limits)"
