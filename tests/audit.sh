#!/usr/bin/env bash
# Black-box tests of `specbase audit verify|head|log` on a trail of 12
# entries written by the unit-test program (tests/unit/test_audit.c, test
# "audit_fixture" with SB_AUDIT_FIXTURE set): usage errors, a database
# without a trail, verify and head agreeing, the log's filters and JSON
# lines, every hash recomputed by an outside program (Node.js) from the
# definition in docs/audit.md, and tampering of each kind caught by verify:
# a changed value, a deleted entry, a forged insertion, two entries swapped,
# and history rewritten with valid hashes (caught by --head). The commands
# never write to the database. Usage: tests/audit.sh BINARY
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: tests/audit.sh BINARY" >&2
    exit 2
fi
bin=$(realpath "$1")
fixture_prog=$(dirname "$bin")/tests/test_audit
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
            head -n 10 "$tmp/$stream" | cut -c 1-200 | sed 's/^/     /'
        fi
    done
}

# sb ARGS...: run the binary with stdout and stderr captured; sets code
sb() {
    timeout 20 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    code=$?
}

# expect NAME CODE OUT ERR -- ARGS...: OUT/ERR "" empty, "*" any, else a substring
expect() {
    local name=$1 want=$2 want_out=$3 want_err=$4 stream rule
    shift 5
    sb "$@"
    if ((code >= 124)); then
        fail "$name" "crashed or timed out (exit $code)"
        return 1
    fi
    if ((code != want)); then
        fail "$name" "exit $code, want $want"
        return 1
    fi
    for stream in out err; do
        [[ $stream == out ]] && rule=$want_out || rule=$want_err
        case $rule in
        '*') ;;
        '')
            if [[ -s $tmp/$stream ]]; then
                fail "$name" "std$stream should be empty"
                return 1
            fi
            ;;
        *)
            if ! grep -qF -- "$rule" "$tmp/$stream"; then
                fail "$name" "std$stream lacks '$rule'"
                return 1
            fi
            ;;
        esac
    done
    pass "$name"
}

# ---- the trail ------------------------------------------------------------

db=$tmp/trail.db
if ! SB_AUDIT_FIXTURE=$db "$fixture_prog" audit_fixture >"$tmp/out" 2>&1 || [[ ! -s $db ]]; then
    fail "fixture" "$fixture_prog did not write $db"
    echo "audit: $passed passed, $failed failed"
    exit 1
fi
pass "fixture: 12 entries written by the library"
q() { sqlite3 "$1" "$2"; }
head_hash=$(q "$db" "SELECT hash FROM _sb_audit WHERE seq = 12")
sum_before=$(cksum <"$db")

# ---- usage ----------------------------------------------------------------

expect "help" 0 "audit verify|head|log" "" -- audit --help
expect "no subcommand" 2 "" "missing subcommand" -- audit --db "$db"
expect "unknown subcommand" 2 "" "unknown subcommand 'fix'" -- audit fix --db "$db"
expect "no --db" 2 "" "missing --db" -- audit verify
expect "--db without a value" 2 "" "--db needs a value" -- audit verify --db
expect "unknown option" 2 "" "unknown option '--fast'" -- audit verify --db "$db" --fast
expect "--json is for log" 2 "" "are for log" -- audit verify --db "$db" --json
expect "missing database" 1 "" "no such database" -- audit verify --db "$tmp/nothing.db"
sqlite3 "$tmp/plain.db" "CREATE TABLE t (x INTEGER)"
expect "database without a trail" 1 "" "no audit trail" -- audit verify --db "$tmp/plain.db"
printf 'not a database at all, just text that is long enough to look like a header..' >"$tmp/junk.db"
expect "not a database" 1 "" "*" -- audit log --db "$tmp/junk.db"

# ---- verify, head ---------------------------------------------------------

expect "verify: ok" 0 "ok: 12 entries, head 12 $head_hash" "" -- audit verify --db "$db"
expect "head" 0 "12 $head_hash" "" -- audit head --db "$db"
if [[ $(cat "$tmp/out") == "12 $head_hash" ]]; then pass "head: exactly 'SEQ HASH'"; else fail "head: exactly 'SEQ HASH'" "got $(cat "$tmp/out")"; fi
expect "verify --head (matches)" 0 "ok: 12 entries" "" -- audit verify --db "$db" --head "12:$head_hash"
expect "verify --head (older head)" 0 "ok: 12 entries" "" -- audit verify --db "$db" \
    --head "5:$(q "$db" "SELECT hash FROM _sb_audit WHERE seq = 5")"
expect "verify --head malformed" 2 "" "SEQ:HASH" -- audit verify --db "$db" --head "12"

# ---- the hash, recomputed outside ----------------------------------------

sqlite3 -json "$db" "SELECT seq, at, actor_sub, actor_role, actor_addr, request_id, op, collection,
    row_id, changes, prev_hash, hash FROM _sb_audit ORDER BY seq" >"$tmp/rows.json"
cat >"$tmp/rehash.js" <<'EOF'
// The hash of docs/audit.md: SHA-256 of prev_hash, then per column "n" for
// NULL, "i<decimal>;" for an integer, "s<byte length>:<bytes>" for a text.
const crypto = require("crypto");
const cols = ["seq", "at", "actor_sub", "actor_role", "actor_addr", "request_id", "op",
              "collection", "row_id", "changes"];
function entryHash(prev, row) {
    const h = crypto.createHash("sha256");
    h.update(prev);
    for (const c of cols) {
        const v = row[c];
        if (v === null || v === undefined) h.update("n");
        else if (typeof v === "number") h.update("i" + v + ";");
        else h.update("s" + Buffer.byteLength(v) + ":" + v);
    }
    return h.digest("hex");
}
module.exports = entryHash;
if (require.main === module) {
    const rows = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    let prev = "0".repeat(64), bad = 0;
    for (const row of rows) {
        if (row.prev_hash !== prev || entryHash(prev, row) !== row.hash) bad++;
        prev = row.hash;
    }
    console.log(rows.length + " rows, " + bad + " bad");
}
EOF
out=$(node "$tmp/rehash.js" "$tmp/rows.json" 2>&1)
if [[ $out == "12 rows, 0 bad" ]]; then pass "hashes recomputed outside (Node.js)"; else fail "hashes recomputed outside (Node.js)" "$out"; fi

# ---- log ------------------------------------------------------------------

expect "log: table" 0 "seq    at" "" -- audit log --db "$db"
n=$(($(wc -l <"$tmp/out") - 1))
if ((n == 12)); then pass "log: 12 rows"; else fail "log: 12 rows" "got $n"; fi
if grep -q "ann@example.com" "$tmp/out"; then fail "log: no pii in clear" "the email shows"; else pass "log: no pii in clear"; fi
expect "log --collection" 0 "orders" "" -- audit log --db "$db" --collection orders
n=$(($(wc -l <"$tmp/out") - 1))
if ((n == 6)) && ! grep -q customers "$tmp/out"; then pass "log --collection: 6 rows"; else fail "log --collection: 6 rows" "got $n"; fi
expect "log --actor" 0 "user-1" "" -- audit log --db "$db" --actor user-1
n=$(($(wc -l <"$tmp/out") - 1))
if ((n == 4)); then pass "log --actor: 4 rows"; else fail "log --actor: 4 rows" "got $n"; fi
expect "log --since" 0 "*" "" -- audit log --db "$db" --since 2026-11-25T10:00:06
n=$(($(wc -l <"$tmp/out") - 1))
if ((n == 7)); then pass "log --since: 7 rows"; else fail "log --since: 7 rows" "got $n"; fi
expect "log --json" 0 '"op":"create"' "" -- audit log --db "$db" --json --collection customers --actor user-2
out=$(node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const ok = lines.every(e => e.collection === "customers" && e.actor_sub === "user-2" &&
    typeof e.seq === "number" && typeof e.changes === "object" && e.changes.email.new.startsWith("hmac:"));
console.log(lines.length + (ok ? " ok" : " bad"));' <"$tmp/out" 2>&1)
if [[ $out == "2 ok" ]]; then pass "log --json: objects, filters combined"; else fail "log --json: objects, filters combined" "$out"; fi
expect "log: empty result" 0 "" "" -- audit log --db "$db" --json --actor nobody

if [[ $(cksum <"$db") == "$sum_before" ]]; then pass "the database was not written"; else fail "the database was not written" "its checksum changed"; fi

# ---- tampering ------------------------------------------------------------

# tamper NAME SQL KIND SEQ: a copy of the trail changed by SQL, verify reports
# "KIND: seq SEQ"
tamper() {
    local name=$1 sql=$2 kind=$3 seq=$4 copy=$tmp/tampered.db
    cp "$db" "$copy"
    if ! sqlite3 "$copy" "$sql"; then
        fail "$name" "the SQL failed"
        return
    fi
    expect "$name" 1 "$kind: seq $seq:" "" -- audit verify --db "$copy"
}

tamper "tamper: value changed" "UPDATE _sb_audit SET changes = replace(changes, '40', '41') WHERE seq = 4" modified 4
tamper "tamper: actor changed" "UPDATE _sb_audit SET actor_sub = 'user-9' WHERE seq = 9" modified 9
tamper "tamper: entry deleted" "DELETE FROM _sb_audit WHERE seq = 6" deleted 6
tamper "tamper: deleted, renumbered" "DELETE FROM _sb_audit WHERE seq = 5;
    UPDATE _sb_audit SET seq = -seq WHERE seq > 5; UPDATE _sb_audit SET seq = -seq - 1 WHERE seq < 0" deleted 5
tamper "tamper: entries swapped" "UPDATE _sb_audit SET seq = -1 WHERE seq = 3;
    UPDATE _sb_audit SET seq = 3 WHERE seq = 8; UPDATE _sb_audit SET seq = 8 WHERE seq = -1" reordered 3

# a forged entry at seq 4 with a valid hash, chained to entry 3, the later
# entries moved up by one
forged_sql=$(node -e '
const entryHash = require(process.argv[1]);
const rows = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const row = {seq: 4, at: "2026-11-25T10:00:03.500000Z", actor_sub: "mallory", actor_role: "service_role",
    actor_addr: "198.51.100.1", request_id: "req-x", op: "delete", collection: "orders", row_id: 1,
    changes: "{}", prev_hash: rows[2].hash};
row.hash = entryHash(row.prev_hash, row);
console.log("UPDATE _sb_audit SET seq = -seq WHERE seq >= 4; UPDATE _sb_audit SET seq = -seq + 1 WHERE seq < 0;" +
    "INSERT INTO _sb_audit VALUES (4, \x27" + row.at + "\x27, \x27mallory\x27, \x27service_role\x27, " +
    "\x27198.51.100.1\x27, \x27req-x\x27, \x27delete\x27, \x27orders\x27, 1, \x27{}\x27, \x27" +
    row.prev_hash + "\x27, \x27" + row.hash + "\x27);");' "$tmp/rehash.js" "$tmp/rows.json")
tamper "tamper: forged entry inserted" "$forged_sql" inserted 4

# history rewritten with valid hashes: the chain holds, the exported head does not
cp "$db" "$tmp/rewritten.db"
rewrite_sql=$(node -e '
const entryHash = require(process.argv[1]);
const rows = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
rows[4].actor_sub = "someone-else";
let prev = "0".repeat(64), sql = "";
for (const row of rows) {
    row.prev_hash = prev;
    row.hash = entryHash(prev, row);
    sql += "UPDATE _sb_audit SET actor_sub = \x27" + row.actor_sub + "\x27, prev_hash = \x27" + row.prev_hash +
        "\x27, hash = \x27" + row.hash + "\x27 WHERE seq = " + row.seq + ";";
    prev = row.hash;
}
console.log(sql);' "$tmp/rehash.js" "$tmp/rows.json")
sqlite3 "$tmp/rewritten.db" "$rewrite_sql"
expect "rewritten history: chain holds" 0 "ok: 12 entries" "" -- audit verify --db "$tmp/rewritten.db"
expect "rewritten history: --head catches it" 1 "modified: entry 12 differs from the exported head" "" \
    -- audit verify --db "$tmp/rewritten.db" --head "12:$head_hash"
cp "$db" "$tmp/truncated.db"
sqlite3 "$tmp/truncated.db" "DELETE FROM _sb_audit WHERE seq >= 11"
expect "truncated: chain holds" 0 "ok: 10 entries" "" -- audit verify --db "$tmp/truncated.db"
expect "truncated: --head catches it" 1 "deleted: entry 12 of the exported head is missing" "" \
    -- audit verify --db "$tmp/truncated.db" --head "12:$head_hash"

echo "audit: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
