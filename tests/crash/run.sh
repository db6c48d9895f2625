#!/usr/bin/env bash
# The crash test: kill a process with SIGKILL in the middle of a concurrent
# write load (and sometimes in the middle of a migration), ITERATIONS times
# on the same database, and check after every kill that every acknowledged
# write is there, PRAGMA integrity_check is ok and the migration history is
# intact (tests/crash/crash_writer.c says what each half does).
#
# Usage: tests/crash/run.sh [BUILD_DIR] [ITERATIONS]   (default build, 20)
# BUILD_DIR/tests/crash_writer is built by `make tests`. Each kill lands
# 0.02 to 1.2 s after the start, so 20 iterations take about 15-25 s.
set -uo pipefail
build=${1:-build}
iterations=${2:-20}
prog=$build/tests/crash_writer
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [[ ! -x $prog ]]; then
    echo "FAIL $prog is missing (run make tests)"
    echo "crash: 0 passed, 1 failed"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/crash.db
acks=$tmp/acks
passed=0 failed=0

for ((i = 0; i < iterations; i++)); do
    "$prog" load "$db" "$acks" "$i" >"$tmp/load.out" 2>&1 &
    pid=$!
    # 20..1199 ms: early kills hit the migration, later ones the load
    ms=$((20 + RANDOM % 1180))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if grep -q FAIL "$tmp/load.out"; then
        failed=$((failed + 1))
        echo "FAIL round $i: the load stopped on its own"
        sed 's/^/     /' "$tmp/load.out"
        continue
    fi
    if result=$(timeout 60 "$prog" verify "$db" "$acks" 2>&1); then
        passed=$((passed + 1))
        echo "ok   round $i: $result"
    else
        failed=$((failed + 1))
        echo "FAIL round $i"
        printf '%s\n' "$result" | sed 's/^/     /'
    fi
done
echo "crash: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
