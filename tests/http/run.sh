#!/usr/bin/env bash
# Black-box tests of the HTTP layer (src/http/): Node's test runner over
# tests/http/*.test.mjs against BUILD_DIR/tests/http_echo (built by
# `make tests`), every file in parallel. Ends with "http: N passed, N failed"
# from the runner's "# pass N" and "# fail N" (cancelled tests count as
# failed). Usage: tests/http/run.sh [BUILD_DIR]   (default build)
set -uo pipefail
build=$(realpath "${1:-build}")
cd "$(dirname "$0")/../.." || exit 2
export HTTP_ECHO=$build/tests/http_echo
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [[ ! -x $HTTP_ECHO ]]; then
    echo "FAIL no program $HTTP_ECHO (run make tests)"
    echo "http: 0 passed, 1 failed"
    exit 1
fi
if ! command -v node >/dev/null; then
    echo "FAIL node is not installed (make deps)"
    echo "http: 0 passed, 1 failed"
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout 180 node --test --test-reporter=tap --test-concurrency=8 --test-timeout=60000 \
    tests/http/*.test.mjs 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [[ -z $passed || -z $failed ]]; then
    echo "FAIL node --test ended (exit $code) without a summary"
    echo "http: ${passed:-0} passed, 1 failed"
    exit 1
fi
failed=$((failed + ${cancelled:-0}))
if [[ $code -ne 0 && $failed -eq 0 ]]; then
    failed=1
fi
echo "http: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
