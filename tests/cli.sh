#!/usr/bin/env bash
# Black-box tests of the specbase command line: help, version and usage
# errors with their exit codes (0 ok, 1 bad input, 2 usage), check/fmt/spec
# on the examples, the fmt --write round trip, canonical JSON, and hostile
# inputs (empty, binary, invalid UTF-8, over 4 MiB, deep nesting, thousands
# of errors) that must be refused with exit 1 and a message, quickly and
# without a crash. Usage: tests/cli.sh BINARY
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: tests/cli.sh BINARY" >&2
    exit 2
fi
bin=$(realpath "$1")
cd "$(dirname "$0")/.." || exit 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL $1: $2"
    local stream
    for stream in out err; do
        if [[ -s $tmp/$stream ]]; then
            echo "     --- std$stream:"
            head -n 20 "$tmp/$stream" | cut -c 1-200 | sed 's/^/     /'
        fi
    done
}

# fail_diff NAME EXPECTED ACTUAL: a failure shown as a diff
fail_diff() {
    failed=$((failed + 1))
    echo "FAIL $1: exit $code or output differs"
    diff -u --label expected --label actual "$2" "$3" | head -n 20 | cut -c 1-200 | sed 's/^/     /'
}

# sb ARGS...: run the binary (10 s at most) with stdout and stderr captured;
# sets code
sb() {
    timeout 10 "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    code=$?
}

# expect NAME CODE OUT ERR -- ARGS...
#   OUT, ERR: "" must be empty, "*" anything, "+" not empty, else a substring
expect() {
    local name=$1 want=$2 want_out=$3 want_err=$4
    shift 5
    sb "$@" </dev/null
    verdict "$name" "$want" "$want_out" "$want_err"
}

# verdict NAME CODE OUT ERR: judge the last run
verdict() {
    local name=$1 want=$2 want_out=$3 want_err=$4 stream rule
    if ((code >= 124)); then
        fail "$name" "crashed or timed out (exit $code)"
        return
    fi
    if ((code != want)); then
        fail "$name" "exit $code, want $want"
        return
    fi
    for stream in out err; do
        [[ $stream == out ]] && rule=$want_out || rule=$want_err
        case $rule in
        '*') ;;
        '')
            if [[ -s $tmp/$stream ]]; then
                fail "$name" "std$stream should be empty"
                return
            fi
            ;;
        '+')
            if [[ ! -s $tmp/$stream ]]; then
                fail "$name" "std$stream should not be empty"
                return
            fi
            ;;
        *)
            if ! grep -qF -- "$rule" "$tmp/$stream"; then
                fail "$name" "std$stream should contain '$rule'"
                return
            fi
            ;;
        esac
    done
    pass "$name"
}

is_json() {
    if command -v node >/dev/null 2>&1; then
        node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))' <"$1" 2>/dev/null
    else
        python3 -m json.tool <"$1" >/dev/null 2>&1
    fi
}

# ---- help, version, usage errors ----------------------------------------

expect "no arguments is a usage error" 2 "" "usage: specbase" --
expect "help lists the commands" 0 "check" "" -- help
expect "--help lists the commands" 0 "check" "" -- --help
expect "--version" 0 "specbase 0.1.0" "" -- --version
# every command that `specbase help` lists has a usage
commands=$(timeout 10 "$bin" help 2>/dev/null | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
for cmd in check fmt spec; do
    if [[ $'\n'$commands$'\n' != *$'\n'$cmd$'\n'* ]]; then
        : >"$tmp/out"
        : >"$tmp/err"
        fail "help lists $cmd" "not in: ${commands//$'\n'/ }"
    fi
done
for cmd in $commands; do
    expect "help $cmd" 0 "usage: specbase $cmd" "" -- help "$cmd"
    expect "$cmd --help" 0 "usage: specbase $cmd" "" -- "$cmd" --help
done
expect "help of an unknown command" 2 "" "unknown command 'nosuch'" -- help nosuch
expect "unknown command" 2 "" "unknown command 'nosuch'" -- nosuch
expect "unknown command gets a suggestion" 2 "" "did you mean 'check'?" -- chek x.spec
expect "unknown global option" 2 "" "unknown option '--nosuch'" -- --nosuch
expect "check without FILE" 2 "" "usage: specbase check FILE" -- check
expect "check with two files" 2 "" "usage: specbase check" -- check a.spec b.spec
expect "check with an unknown flag" 2 "" "unknown option '--strict'" -- check --strict a.spec
expect "fmt --check and --write together" 2 "" "usage: specbase fmt" -- fmt --check --write a.spec
expect "fmt --write on standard input" 2 "" "usage: specbase fmt" -- fmt --write -
expect "spec without --json" 2 "" "--json" -- spec a.spec
expect "spec --json without FILE" 2 "" "missing FILE" -- spec --json

# ---- the examples: valid, canonical, stable JSON --------------------------

examples=(examples/*.spec)
if [[ ! -f ${examples[0]} ]]; then
    echo "note: no examples/*.spec yet"
    examples=()
fi
for spec in "${examples[@]}"; do
    expect "check $spec" 0 "" "" -- check "$spec"
    expect "fmt --check $spec" 0 "" "" -- fmt --check "$spec"
    sb fmt "$spec" </dev/null
    if [[ $code -eq 0 ]] && cmp -s "$tmp/out" "$spec"; then
        pass "fmt $spec prints the file unchanged"
    else
        fail_diff "fmt $spec prints the file unchanged" "$spec" "$tmp/out"
    fi
    sb spec --json "$spec" </dev/null
    cp "$tmp/out" "$tmp/json1"
    if [[ $code -eq 0 && ! -s $tmp/err ]] && is_json "$tmp/json1"; then
        pass "spec --json $spec is JSON"
    else
        fail "spec --json $spec is JSON" "exit $code or invalid JSON"
    fi
    sb spec --json "$spec" </dev/null
    if cmp -s "$tmp/out" "$tmp/json1"; then
        pass "spec --json $spec is the same twice"
    else
        fail "spec --json $spec is the same twice" "outputs differ"
    fi
    sb check - <"$spec"
    verdict "check - reads standard input ($spec)" 0 "" ""
done

# ---- fmt --write round trip ------------------------------------------------

if ((${#examples[@]} > 0)); then
    spec=${examples[0]}
    work=$tmp/work
    mkdir -p "$work"
    timeout 10 "$bin" fmt "$spec" >"$tmp/canonical" 2>/dev/null </dev/null
    # the same spec, badly laid out: indentation doubled, spaces at line ends
    sed -e 's/^\( *\)/\1\1/' -e 's/$/  /' "$spec" >"$work/messy.spec"
    chmod 640 "$work/messy.spec"
    ln -s messy.spec "$work/link.spec"
    expect "fmt --check finds a messy file" 1 "" "not formatted" -- fmt --check "$work/messy.spec"
    expect "fmt --write rewrites it" 0 "" "" -- fmt --write "$work/link.spec"
    if cmp -s "$work/messy.spec" "$tmp/canonical"; then
        pass "fmt --write gives the canonical text"
    else
        fail_diff "fmt --write gives the canonical text" "$tmp/canonical" "$work/messy.spec"
    fi
    if [[ -L $work/link.spec && $(stat -c %a "$work/messy.spec") == 640 ]]; then
        pass "fmt --write keeps the symbolic link and the file mode"
    else
        fail "fmt --write keeps the symbolic link and the file mode" \
            "mode $(stat -c %a "$work/messy.spec")"
    fi
    if [[ -z $(find "$work" -name '.*tmp*') ]]; then
        pass "fmt --write leaves no temporary file"
    else
        fail "fmt --write leaves no temporary file" "$(ls -a "$work")"
    fi
    inode=$(stat -c %i "$work/messy.spec")
    expect "fmt --write on a canonical file" 0 "" "" -- fmt --write "$work/messy.spec"
    if [[ $(stat -c %i "$work/messy.spec") == "$inode" ]]; then
        pass "fmt --write does not touch a canonical file"
    else
        fail "fmt --write does not touch a canonical file" "the file was replaced"
    fi
    expect "fmt --check after --write" 0 "" "" -- fmt --check "$work/messy.spec"
    sb fmt - <"$spec"
    if [[ $code -eq 0 ]] && cmp -s "$tmp/out" "$tmp/canonical"; then
        pass "fmt - reads standard input"
    else
        fail_diff "fmt - reads standard input" "$tmp/canonical" "$tmp/out"
    fi
    if [[ -w /dev/full ]]; then
        timeout 10 "$bin" spec --json "$spec" >/dev/full 2>"$tmp/err"
        code=$?
        : >"$tmp/out"
        verdict "spec --json to a full disk fails" 1 "" "write error"
    fi
fi

# ---- files that cannot be read ---------------------------------------------

expect "check a missing file" 1 "" "specbase: $tmp/missing.spec: " -- check "$tmp/missing.spec"
expect "fmt a missing file" 1 "" "specbase: $tmp/missing.spec: " -- fmt "$tmp/missing.spec"
expect "spec --json a missing file" 1 "" "$tmp/missing.spec" -- spec --json "$tmp/missing.spec"
expect "check a directory" 1 "" "specbase: $tmp: " -- check "$tmp"

# ---- hostile inputs: exit 1 with a message, fast, no crash ----------------

bad=$tmp/bad
mkdir -p "$bad"
: >"$bad/empty.spec"
head -c 4096 /dev/urandom >"$bad/binary.spec"
printf 'app shop\n\0collection user {\n}\n' >"$bad/nul.spec"
printf 'app shop\ncollection user {\n  name text \xff\xfe\n  bio text # caf\xc3\n}\n' \
    >"$bad/invalid-utf8.spec"
{
    printf 'app shop\n'
    yes '# a comment line that only makes the file large' | head -c $((4 * 1024 * 1024))
} >"$bad/huge.spec"
{
    printf 'app shop\ncollection item {\n  qty int check qty > '
    printf '%.0s(' $(seq 10000)
    printf '1'
    printf '%.0s)' $(seq 10000)
    printf '\n}\n'
} >"$bad/deep.spec"
{
    printf 'app shop\n'
    yes frobnicate | head -n 50000
} >"$bad/words.spec"
printf 'app shop\ncollection user {\n  name text("unterminated\n}\n' >"$bad/string.spec"

for file in "$bad"/*.spec; do
    what=$(basename "$file" .spec)
    expect "check refuses $what" 1 "" "+" -- check "$file"
    expect "fmt refuses $what" 1 "" "+" -- fmt "$file"
    expect "spec --json refuses $what" 1 "" "+" -- spec --json "$file"
done
sb check "$bad/words.spec" </dev/null
if (($(wc -c <"$tmp/err") < 65536)); then
    pass "50,000 errors give a bounded report"
else
    fail "50,000 errors give a bounded report" "$(wc -c <"$tmp/err") bytes on stderr"
fi
sb check "$bad/huge.spec" </dev/null
verdict "a file over 4 MiB is named in the message" 1 "" "specbase: $bad/huge.spec: "

# ---- migrations are audited -------------------------------------------------

mig=$tmp/mig
mkdir -p "$mig"
printf 'app notes\ncollection note {\n  body text\n}\n' >"$mig/v1.spec"
printf 'app notes\ncollection note {\n  body text\n  pinned bool\n}\n' >"$mig/v2.spec"
expect "migrate: first apply" 0 "*" "*" -- migrate "$mig/v1.spec" --db "$mig/n.db" --apply
expect "migrate: second apply" 0 "*" "*" -- migrate "$mig/v2.spec" --db "$mig/n.db" --apply
expect "migrate: nothing left to apply" 0 "*" "*" -- migrate "$mig/v2.spec" --db "$mig/n.db" --apply
expect "migrations: one entry each" 0 "+" "" -- audit log --db "$mig/n.db" --json
if node -e '
  const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
  const ok = lines.length === 2 && lines.every((e) => e.op === "migration" && e.actor_role === "operator") &&
    lines[0].changes.first === true && lines[1].changes.first === false &&
    lines[1].changes.steps.length === 1 && /pinned/.test(lines[1].changes.steps[0]) &&
    lines[1].changes.backup && /v2\.spec$/.test(lines[1].changes.spec) &&
    lines[0].changes.hash !== lines[1].changes.hash;
  process.exit(ok ? 0 : 1);' <"$tmp/out"; then
    pass "migrations: spec, hash, steps and backup recorded"
else
    fail "migrations: spec, hash, steps and backup recorded" "$(head -c 600 "$tmp/out")"
fi
expect "migrations: the chain verifies" 0 "ok: 2 entries" "" -- audit verify --db "$mig/n.db"

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
