#!/usr/bin/env bash
# Runs the C unit-test program of a build tree for each tests/unit/test_*.c
# (BUILD_DIR/tests/test_*, built by `make tests`) and adds up their
# "N passed, N failed" lines. A program that crashes or prints no summary
# counts as one failure. Usage: tests/run-unit.sh [BUILD_DIR]   (default build)
# The programs run from the repository root (some read tests/golden/).
set -uo pipefail
build=$(realpath "${1:-build}")
cd "$(dirname "$0")/.." || exit 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 ran=0
for src in tests/unit/test_*.c; do
    [[ -f $src ]] || continue
    prog=$build/tests/$(basename "$src" .c)
    ran=$((ran + 1))
    if [[ ! -x $prog ]]; then
        echo "FAIL $src: no program $prog (run make tests)"
        failed=$((failed + 1))
        continue
    fi
    echo "-- ${prog#"$PWD"/}"
    output=$(timeout 120 "$prog" 2>&1)
    code=$?
    printf '%s\n' "$output"
    summary=$(printf '%s\n' "$output" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [[ -z $summary ]]; then
        echo "FAIL $prog: exit $code without a summary"
        failed=$((failed + 1))
        continue
    fi
    read -r p _ f _ <<<"${summary//,/}"
    passed=$((passed + p))
    failed=$((failed + f))
    if [[ $code -ne 0 && $f -eq 0 ]]; then
        echo "FAIL $prog: exit $code"
        failed=$((failed + 1))
    fi
done
if [[ $ran -eq 0 ]]; then
    echo "FAIL no unit tests in tests/unit"
    failed=$((failed + 1))
fi
echo "unit: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
