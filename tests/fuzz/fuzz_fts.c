/* libFuzzer target for the full-text query conversion (`make fuzz-fts`).
 * Each input is a query text, converted as all four kinds (fts, plfts,
 * phfts, wfts), for every column and for one column, and each expression
 * produced is run as an FTS5 MATCH on a tiny table built like the
 * "_sb_fts_<collection>" tables, under AddressSanitizer and
 * UndefinedBehaviorSanitizer. Beyond memory errors it asserts: FTS5 accepts
 * every expression (no "fts5: syntax error", no error at all); a converted
 * query is appended to the output and stays within SB_FTS_MAX_QUERY; "no
 * words" and refusals leave the output alone, and a refusal has a reason.
 * A violated property aborts, and libFuzzer keeps the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "query/fts.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static sqlite3_stmt *match;

static void fail(const char *what, const char *query, const char *detail)
{
    fprintf(stderr, "fuzz_fts: %s\n--- expression:\n%s\n--- detail:\n%s\n", what,
            query ? query : "", detail ? detail : "");
    abort();
}

static void open_db(void)
{
    static const char *const setup =
        "CREATE VIRTUAL TABLE \"_sb_fts_doc\" USING fts5(\"title\", \"body\","
        " tokenize='unicode61 remove_diacritics 2');"
        "INSERT INTO \"_sb_fts_doc\"(rowid, title, body) VALUES"
        " (1, 'the fat cat', 'sat on the mat and near the door'),"
        " (2, 'or not', 'caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 r\xc3\xa9sum\xc3\xa9'),"
        " (3, 'x', 'a b c 1 2 3 \xce\xb1\xce\xb2\xce\xb3 \xe4\xb8\xad\xe6\x96\x87');";
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM \"_sb_fts_doc\" WHERE \"_sb_fts_doc\" MATCH ?",
                           -1, &match, NULL) != SQLITE_OK)
        fail("cannot set up the database", NULL, db ? sqlite3_errmsg(db) : NULL);
}

static void check(enum sb_fts_kind kind, const char *text, size_t len, const char *column)
{
    static const char prefix[] = "kept:";
    struct sb_buf out;
    sb_buf_init(&out);
    sb_buf_puts(&out, prefix);
    const char *why = NULL;
    int rc = sb_fts_query(kind, text, len, column, &out, &why);
    const char *expr = sb_buf_str(&out) + strlen(prefix);
    if (strncmp(sb_buf_str(&out), prefix, strlen(prefix)) != 0)
        fail("the output's earlier content changed", sb_buf_str(&out), NULL);
    if (rc == -1) {
        if (!why || !why[0])
            fail("a refusal without a reason", expr, NULL);
        if (out.len != strlen(prefix))
            fail("a refusal wrote output", expr, why);
    } else if (rc == SB_FTS_MATCHES_NOTHING) {
        if (out.len != strlen(prefix))
            fail("\"no words\" wrote output", expr, NULL);
    } else if (rc == 0) {
        size_t expr_len = out.len - strlen(prefix);
        if (expr_len == 0 || expr_len > SB_FTS_MAX_QUERY)
            fail("an empty or oversized expression", expr, NULL);
        sqlite3_reset(match);
        sqlite3_bind_text(match, 1, expr, (int)expr_len, SQLITE_STATIC);
        int step = sqlite3_step(match);
        if (step != SQLITE_ROW)
            fail(strstr(sqlite3_errmsg(db), "fts5: syntax error") ? "FTS5 syntax error"
                                                                 : "FTS5 refused the expression",
                 expr, sqlite3_errmsg(db));
        sqlite3_reset(match);
    } else {
        fail("an undocumented return value", expr, NULL);
    }
    sb_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        open_db();
    static const enum sb_fts_kind kinds[] = {SB_FTS_TSQUERY, SB_FTS_PLAIN, SB_FTS_PHRASE,
                                             SB_FTS_WEBSEARCH};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        check(kinds[k], (const char *)data, size, NULL);
        check(kinds[k], (const char *)data, size, "body");
    }
    return 0;
}
