#!/usr/bin/env bash
# Golden tests of migration plans. Each directory of tests/golden/migrate/ is
# a case:
#
#   old.spec    applied first to a fresh database (must succeed)
#   seed.sql    optional: run with the sqlite3 shell after old.spec (data)
#   drift.sql   optional: run after that too, changing the schema by hand
#   new.spec    the spec to migrate to
#   check.sql   optional: run after the migration, its output is recorded
#   expected    what this script records, section by section:
#     == plan     `migrate new.spec --db DB`: stdout and stderr, then [exit N]
#     == apply    `migrate new.spec --db DB --apply --allow-data-loss`: its
#                 stderr, then [exit N] and whether a backup file was left
#     == after    `migrate new.spec --db DB` again: "No changes" once applied
#     == data     check.sql's output (when there is one)
#     == history  the migrations recorded (from, to, data_loss)
#
# Usage: tests/run-migrate-golden.sh BINARY. UPDATE=1 rewrites the expected
# files from the actual output (review the diff before committing it).
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: tests/run-migrate-golden.sh BINARY" >&2
    exit 2
fi
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/golden/migrate" && pwd)
update=${UPDATE:-0}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if ! command -v sqlite3 >/dev/null; then
    echo "FAIL the sqlite3 shell is missing (make deps installs it)"
    echo "migrate-golden: 0 passed, 1 failed"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL $1${2:+: $2}"
    if [[ -n ${3:-} ]]; then sed 's/^/     /' "$3"; fi
}

# specbase ARGS...: run in the case's scratch directory, output to $work/out
specbase() {
    (cd "$work" && timeout 20 "$bin" "$@" >out 2>err </dev/null)
}

for dir in "$root"/*/; do
    name=$(basename "$dir")
    work=$tmp/$name
    mkdir -p "$work"
    cp "$dir"/*.spec "$work"/
    actual=$work/actual
    if ! specbase migrate old.spec --db t.db --apply; then
        cat "$work/out" "$work/err" >"$work/why"
        fail "$name" "applying old.spec failed" "$work/why"
        continue
    fi
    if [[ -f $dir/seed.sql ]] && ! sqlite3 -bail "$work/t.db" <"$dir/seed.sql" >"$work/why" 2>&1; then
        fail "$name" "seed.sql failed" "$work/why"
        continue
    fi
    if [[ -f $dir/drift.sql ]] && ! sqlite3 -bail "$work/t.db" <"$dir/drift.sql" >"$work/why" 2>&1; then
        fail "$name" "drift.sql failed" "$work/why"
        continue
    fi
    rm -f "$work"/t.db.backup-*

    {
        echo "== plan"
        specbase migrate new.spec --db t.db
        code=$?
        cat "$work/out" "$work/err"
        echo "[exit $code]"

        echo "== apply"
        specbase migrate new.spec --db t.db --apply --allow-data-loss
        code=$?
        cat "$work/err"
        if compgen -G "$work/t.db.backup-*" >/dev/null; then backup=yes; else backup=no; fi
        echo "[exit $code] backup: $backup"

        echo "== after"
        specbase migrate new.spec --db t.db
        cat "$work/out" "$work/err"

        if [[ -f $dir/check.sql ]]; then
            echo "== data"
            sqlite3 "$work/t.db" <"$dir/check.sql" 2>&1
        fi
        echo "== history"
        sqlite3 "$work/t.db" "SELECT id, coalesce(from_spec, '-'), to_spec, data_loss FROM _sb_migrations ORDER BY id" 2>&1
    } >"$actual"

    expected=$dir/expected
    if [[ $update == 1 ]]; then
        if ! cmp -s "$expected" "$actual"; then
            cp "$actual" "$expected"
            echo "updated $expected"
        fi
        pass "$name"
    elif [[ ! -f $expected ]]; then
        fail "$name" "no expected file (UPDATE=1 writes it)"
    elif cmp -s "$expected" "$actual"; then
        pass "$name"
    else
        diff -u --label expected --label actual "$expected" "$actual" >"$work/diff"
        fail "$name" "output differs" "$work/diff"
    fi
done

# The command line's own errors: usage (2) and an invalid spec (1).
work=$tmp/usage
mkdir -p "$work"
printf 'app x\ncollection c { n strng }\n' >"$work/bad.spec"
printf 'app x\n' >"$work/ok.spec"
expect_exit() {
    local want=$1 what=$2
    shift 2
    specbase "$@"
    local code=$?
    if [[ $code -eq $want ]]; then
        pass "usage: $what"
    else
        cat "$work/out" "$work/err" >"$work/why"
        fail "usage: $what" "exit $code, want $want" "$work/why"
    fi
}
expect_exit 2 "no --db" migrate ok.spec
expect_exit 2 "--db without a path" migrate ok.spec --db
expect_exit 2 "unknown option" migrate ok.spec --db t.db --force
expect_exit 1 "invalid spec" migrate bad.spec --db t.db
expect_exit 1 "unreadable database" migrate ok.spec --db /nonexistent/dir/t.db --apply
expect_exit 0 "--help" migrate --help

echo "migrate-golden: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
