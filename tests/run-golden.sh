#!/usr/bin/env bash
# Golden tests: a spec in, the exact output out. Each suite below is a
# directory of tests/golden/ with FILE.spec inputs and one expected file per
# input; the command runs with the suite directory as working directory, so
# file names in messages are relative ("bad-type.spec:3:7: error: ...").
#
#   diag      FILE.out is the command's stderr followed by a line "exit: N"
#   stdout    FILE.<ext> is the command's stdout; it must exit 0, stderr empty
#   fixpoint  as stdout, and the command run on FILE.<ext> itself must give
#             it back unchanged (a formatter's output is already formatted)
#
# Usage: tests/run-golden.sh BINARY. UPDATE=1 rewrites the expected files
# from the actual output (review the diff before committing it). A missing
# or empty suite directory is skipped.
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: tests/run-golden.sh BINARY" >&2
    exit 2
fi
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/golden" 2>/dev/null && pwd) || root=""
update=${UPDATE:-0}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL $1${2:+: $2}"
    if [[ -n ${3:-} ]]; then sed 's/^/     /' "$3"; fi
}

# run DIR OUT ERR ARGS...: run the binary in DIR; prints the exit code
run() {
    local dir=$1 out=$2 err=$3
    shift 3
    (cd "$dir" && timeout 10 "$bin" "$@" >"$out" 2>"$err" </dev/null)
    echo $?
}

# compare NAME EXPECTED ACTUAL: pass, update, or fail with a diff
compare() {
    local name=$1 expected=$2 actual=$3
    if [[ $update == 1 ]]; then
        if ! cmp -s "$expected" "$actual"; then
            cp "$actual" "$expected"
            echo "updated $expected"
        fi
        pass "$name"
    elif [[ ! -f $expected ]]; then
        fail "$name" "no expected file $expected (UPDATE=1 writes it)"
    elif cmp -s "$expected" "$actual"; then
        pass "$name"
    else
        diff -u --label expected --label actual "$expected" "$actual" >"$tmp/diff"
        fail "$name" "output differs" "$tmp/diff"
    fi
}

# suite DIR MODE EXT ARGS...: ARGS is the command, the file name goes last
suite() {
    local dir=$root/$1 mode=$2 ext=$3
    shift 3
    local spec name base code
    [[ -n $root && -d $dir ]] || return 0
    for spec in "$dir"/*.spec; do
        [[ -f $spec ]] || continue
        base=$(basename "$spec" .spec)
        name="${dir#"$root"/}/$base"
        code=$(run "$dir" "$tmp/out" "$tmp/err" "$@" "$base.spec")
        if [[ $mode == diag ]]; then
            cp "$tmp/err" "$tmp/actual"
            if [[ -s $tmp/actual && $(tail -c 1 "$tmp/actual" | od -An -c) != *'\n'* ]]; then
                echo >>"$tmp/actual"
            fi
            echo "exit: $code" >>"$tmp/actual"
            compare "$name" "$dir/$base.$ext" "$tmp/actual"
            continue
        fi
        if [[ $code -ne 0 || -s $tmp/err ]]; then
            fail "$name" "exit $code, want 0 and no stderr" "$tmp/err"
            continue
        fi
        compare "$name" "$dir/$base.$ext" "$tmp/out"
        if [[ $mode == fixpoint && -f $dir/$base.$ext ]]; then
            code=$(run "$dir" "$tmp/out2" "$tmp/err" "$@" "$base.$ext")
            if [[ $code -eq 0 ]] && cmp -s "$dir/$base.$ext" "$tmp/out2"; then
                pass "$name (idempotent)"
            else
                diff -u --label "$base.$ext" --label "again" "$dir/$base.$ext" "$tmp/out2" \
                    >"$tmp/diff"
                cat "$tmp/err" >>"$tmp/diff"
                fail "$name (idempotent)" "exit $code; output of its own output differs" \
                    "$tmp/diff"
            fi
        fi
    done
}

# The suites: directory, mode, expected-file extension, command.
suite spec diag     out  check
suite fmt  fixpoint fmt  fmt
suite json stdout   json spec --json

echo "golden: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
