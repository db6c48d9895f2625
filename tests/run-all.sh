#!/usr/bin/env bash
# The test suites of `make check`: lint once, then for each build tree given
# (build, build-san) the C unit tests, the golden tests and the CLI tests.
# Each suite ends with a "NAME: N passed, N failed" line; this adds them up
# and ends with the total alone on a line, "N passed, N failed". Exits 1 when
# anything failed; a suite that dies without its summary counts as a failure.
# Usage: tests/run-all.sh BUILD_DIR...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0 failed=0
lines=()

# suite TITLE COMMAND...: run, show the output, add up its summary line
suite() {
    local title=$1 code summary p f
    shift
    echo "==== $title"
    "$@" 2>&1 | tee "$log"
    code=${PIPESTATUS[0]}
    summary=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    summary=${summary#*: }
    if [[ -z $summary ]]; then
        p=0 f=1
        echo "FAIL $title: exit $code without a summary"
    else
        read -r p _ f _ <<<"${summary//,/}"
        if [[ $code -ne 0 && $f -eq 0 ]]; then
            f=1
            echo "FAIL $title: exit $code"
        fi
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    lines+=("$(printf '%-28s %4d passed, %d failed' "$title" "$p" "$f")")
}

lint() {
    if scripts/lint.sh; then
        echo "ok   no banned functions"
        echo "lint: 1 passed, 0 failed"
    else
        echo "lint: 0 passed, 1 failed"
        return 1
    fi
}

suite "lint" lint
for build in "$@"; do
    suite "unit [$build]" tests/run-unit.sh "$build"
    suite "golden [$build]" tests/run-golden.sh "$build/specbase"
    suite "cli [$build]" tests/cli.sh "$build/specbase"
    suite "http [$build]" tests/http/run.sh "$build"
    suite "api [$build]" tests/run-node.sh api "$build" tests/api/*.test.mjs
    suite "openapi [$build]" tests/run-node.sh openapi "$build" tests/openapi/*.test.mjs
    suite "migrate [$build]" tests/run-migrate-golden.sh "$build/specbase"
    suite "crash [$build]" tests/crash/run.sh "$build" "$([[ $build == *san* ]] && echo 10 || echo 20)"
    suite "audit [$build]" tests/audit.sh "$build/specbase"
done

echo "==== summary"
printf '%s\n' "${lines[@]}"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
