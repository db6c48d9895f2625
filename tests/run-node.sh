#!/usr/bin/env bash
# Run Node's built-in test runner on some test files and end with the
# "NAME: N passed, N failed" line the suite runner adds up.
# Usage: tests/run-node.sh NAME BUILD_DIR FILE...
set -uo pipefail
name=$1 build=$2
shift 2
cd "$(dirname "$0")/.." || exit 2
export SPECBASE_BIN="$PWD/$build/specbase"
# supabase-js wants a WebSocket class: Node 22 has one, Node 20 behind a flag
flags=()
if node --experimental-websocket -e 0 >/dev/null 2>&1; then
    flags+=(--experimental-websocket)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
node "${flags[@]}" --test --test-reporter=spec --test-concurrency=1 "$@" 2>&1 | tee "$out"
code=${PIPESTATUS[0]}
pass=$(grep -E '^ℹ pass [0-9]+' "$out" | tail -n 1 | grep -oE '[0-9]+')
fail=$(grep -E '^ℹ fail [0-9]+' "$out" | tail -n 1 | grep -oE '[0-9]+')
echo "$name: ${pass:-0} passed, ${fail:-1} failed"
exit "$code"
