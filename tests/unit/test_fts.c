/* Tests of the full-text query conversion (query/fts.h): the FTS5 text it
 * writes, and the rows each converted query finds in an FTS5 table built
 * like store/ddl.c builds them; hostile input must never reach FTS5 as a
 * syntax error. */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "query/fts.h"
#include "util/buf.h"

static sqlite3 *db;

static const char *const documents[][2] = {
    /* title, body; the rowid is the index + 1 */
    {"pets", "the fat cat sat on the mat"},
    {"dogs", "a fat dog and a thin cat"},
    {"mice", "the dog chased a mouse"},
    {"body", "cats and catalogs"},
    {"and near not", "a mouse in the house"},
    {"french", "Caf\xc3\xa9 cr\xc3\xa8me \xe2\x80\x94 na\xc3\xafve r\xc3\xa9sum\xc3\xa9"},
};

static sqlite3 *test_db(void)
{
    if (db)
        return db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE \"_sb_fts_doc\" USING fts5(\"title\", \"body\","
                     " tokenize='unicode61 remove_diacritics 2')",
                     NULL, NULL, NULL) != SQLITE_OK)
        abort();
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO \"_sb_fts_doc\"(rowid, title, body) VALUES (?, ?, ?)",
                           -1, &stmt, NULL) != SQLITE_OK)
        abort();
    for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)i + 1);
        sqlite3_bind_text(stmt, 2, documents[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, documents[i][1], -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            abort();
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return db;
}

/* The conversion of text as a string: the FTS5 expression, "(nothing)" for
 * SB_FTS_MATCHES_NOTHING, or "error: <reason>". Returned buffer is static. */
static const char *convert_n(enum sb_fts_kind kind, const char *text, size_t len,
                             const char *column)
{
    static char result[SB_FTS_MAX_QUERY + 64];
    struct sb_buf out;
    sb_buf_init(&out);
    sb_buf_puts(&out, "prefix:"); /* appended to, never reset */
    const char *why = NULL;
    int rc = sb_fts_query(kind, text, len, column, &out, &why);
    if (rc == 0) {
        snprintf(result, sizeof(result), "%s", sb_buf_str(&out) + 7);
    } else if (rc == SB_FTS_MATCHES_NOTHING) {
        snprintf(result, sizeof(result), "(nothing)");
        if (out.len != 7)
            sb_test_fail(__FILE__, __LINE__, "out changed without a query");
    } else {
        snprintf(result, sizeof(result), "error: %s", why ? why : "(no reason)");
        if (rc != -1 || out.len != 7 || !why)
            sb_test_fail(__FILE__, __LINE__, "rc %d, out \"%s\"", rc, sb_buf_str(&out));
    }
    sb_buf_free(&out);
    return result;
}

static const char *convert(enum sb_fts_kind kind, const char *text, const char *column)
{
    return convert_n(kind, text, strlen(text), column);
}

/* The ids of the documents the query finds, "1,3"; "" when none; "(nothing)"
 * when there was nothing to search; "error: ..." when the conversion
 * refused. An FTS5 error fails the test. */
static const char *search_n(enum sb_fts_kind kind, const char *text, size_t len,
                            const char *column)
{
    static char ids[256];
    struct sb_buf out;
    sb_buf_init(&out);
    const char *why = NULL;
    int rc = sb_fts_query(kind, text, len, column, &out, &why);
    if (rc != 0) {
        sb_buf_free(&out);
        if (rc == SB_FTS_MATCHES_NOTHING)
            return "(nothing)";
        snprintf(ids, sizeof(ids), "error: %s", why);
        return ids;
    }
    sqlite3_stmt *stmt = NULL;
    ids[0] = '\0';
    if (sqlite3_prepare_v2(test_db(),
                           "SELECT rowid FROM \"_sb_fts_doc\" WHERE \"_sb_fts_doc\" MATCH ?"
                           " ORDER BY rowid",
                           -1, &stmt, NULL) != SQLITE_OK)
        abort();
    sqlite3_bind_text(stmt, 1, sb_buf_str(&out), (int)out.len, SQLITE_STATIC);
    size_t n = 0;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
        n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%lld", n ? "," : "",
                              (long long)sqlite3_column_int64(stmt, 0));
    if (step != SQLITE_DONE)
        sb_test_fail(__FILE__, __LINE__, "FTS5 refused %s: %s", sb_buf_str(&out),
                     sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    sb_buf_free(&out);
    return ids;
}

static const char *search(enum sb_fts_kind kind, const char *text, const char *column)
{
    return search_n(kind, text, strlen(text), column);
}

#define CHECK_REFUSED(got, want_part)                                                              \
    do {                                                                                           \
        const char *got_ = (got);                                                                  \
        if (strncmp(got_, "error: ", 7) != 0 || !strstr(got_, want_part))                          \
            sb_test_fail(__FILE__, __LINE__, "%s = \"%s\", want an error with \"%s\"", #got, got_, \
                         want_part);                                                               \
    } while (0)

/* ---- the FTS5 text ------------------------------------------------------ */

TEST(fts_writes_quoted_terms_and_fts5_operators)
{
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat", NULL), "\"cat\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat & !dog", NULL), "\"cat\" NOT \"dog\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "!dog & cat", NULL), "\"cat\" NOT \"dog\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat | dog & mouse", NULL),
                 "\"cat\" OR (\"dog\" AND \"mouse\")");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "(cat | dog) & mouse", NULL),
                 "(\"cat\" OR \"dog\") AND \"mouse\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "a & b & !c & !d", NULL),
                 "(\"a\" AND \"b\") NOT (\"c\" OR \"d\")");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "fat <-> cat:*", NULL), "\"fat\" + \"cat\"*");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "'fat cat':*", NULL), "\"fat\"* + \"cat\"*");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "fat-cat <-> sat", NULL), "\"fat\" + \"cat\" + \"sat\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "fat <1> cat", NULL), "\"fat\" + \"cat\"");
    CHECK_EQ_STR(convert(SB_FTS_PLAIN, "The fat cats!", NULL), "\"The\" AND \"fat\" AND \"cats\"");
    CHECK_EQ_STR(convert(SB_FTS_PHRASE, "fat, cat", NULL), "\"fat\" + \"cat\"");
    CHECK_EQ_STR(convert(SB_FTS_WEBSEARCH, "\"fat cat\" -dog or mouse", NULL),
                 "(\"fat\" + \"cat\" NOT \"dog\") OR \"mouse\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat", "body"), "{\"body\"} : (\"cat\")");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat & !dog", "body"),
                 "{\"body\"} : (\"cat\" NOT \"dog\")");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat", "odd\"name"), "{\"odd\"\"name\"} : (\"cat\")");
    /* FTS5 keywords and syntax characters stay inside strings */
    CHECK_EQ_STR(convert(SB_FTS_PLAIN, "NEAR(a b) AND body:x ^c d*", NULL),
                 "\"NEAR\" AND \"a\" AND \"b\" AND \"AND\" AND \"body\" AND \"x\" AND \"c\" AND \"d\"");
}

TEST(fts_empty_queries_match_nothing)
{
    static const enum sb_fts_kind kinds[] = {SB_FTS_TSQUERY, SB_FTS_PLAIN, SB_FTS_PHRASE,
                                             SB_FTS_WEBSEARCH};
    for (size_t k = 0; k < 4; k++) {
        CHECK_EQ_STR(convert(kinds[k], "", NULL), "(nothing)");
        CHECK_EQ_STR(convert(kinds[k], "   ", "body"), "(nothing)");
        CHECK_EQ_STR(convert(kinds[k], "...", NULL), "(nothing)");
        CHECK_EQ_STR(convert(kinds[k], "\xe2\x80\x94\xe2\x80\x9c\xe2\x80\x9d", NULL),
                     "(nothing)"); /* em dash and curly quotes */
        CHECK_EQ_STR(convert(kinds[k], "\xcc\x81", NULL), "(nothing)"); /* a lone accent */
    }
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "!...", NULL), "(nothing)");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "\xe2\x80\x94 & \xe2\x80\x9c\xe2\x80\x9d", NULL), "(nothing)");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "(...) | (!--)", NULL), "(nothing)");
    CHECK_EQ_STR(convert(SB_FTS_WEBSEARCH, "- \"\" !", NULL), "(nothing)");
    CHECK_EQ_STR(convert(SB_FTS_WEBSEARCH, "- \"\" or", NULL), "\"or\""); /* a last "or" is a word */
    /* a wordless operand is dropped, as PostgreSQL drops it */
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "cat & ...", NULL), "\"cat\"");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, "... <-> cat", NULL), "\"cat\"");
    CHECK_EQ_STR(convert(SB_FTS_PLAIN, "cat \xe2\x80\x94 dog", NULL), "\"cat\" AND \"dog\"");
}

TEST(fts_refusals_have_reasons)
{
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "!dog", NULL), "negation");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "!cat & !dog", NULL), "negation");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "cat | !dog", NULL), "negation");
    CHECK_REFUSED(convert(SB_FTS_WEBSEARCH, "-dog", NULL), "negation");
    CHECK_REFUSED(convert(SB_FTS_WEBSEARCH, "cat or -dog", NULL), "negation");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "fat cat", NULL), "operator");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "cat &", NULL), "ends");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "& cat", NULL), "syntax error");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "(cat", NULL), "')' expected");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "cat)", NULL), "unbalanced");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "()", NULL), "empty parentheses");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "'cat", NULL), "unterminated");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "cat:A", NULL), "weights");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "fat <2> cat", NULL), "<->");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "fat < cat", NULL), "'<'");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "(a & b) <-> c", NULL), "<->");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "!a <-> c", NULL), "<->");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, "cat", ""), "column");
}

TEST(fts_limits)
{
    struct sb_buf text;
    sb_buf_init(&text);
    for (int i = 0; i < SB_FTS_MAX_TERMS; i++)
        sb_buf_printf(&text, "%sw%d", i ? " & " : "", i);
    CHECK(strncmp(convert(SB_FTS_TSQUERY, sb_buf_str(&text), NULL), "\"w0\" AND ", 9) == 0);
    sb_buf_puts(&text, " & one_more");
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, sb_buf_str(&text), NULL), "too many words");

    sb_buf_reset(&text);
    sb_buf_fill(&text, '(', SB_FTS_MAX_DEPTH);
    sb_buf_puts(&text, "cat");
    sb_buf_fill(&text, ')', SB_FTS_MAX_DEPTH);
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, sb_buf_str(&text), NULL), "\"cat\"");
    sb_buf_reset(&text);
    sb_buf_fill(&text, '(', SB_FTS_MAX_DEPTH + 1);
    sb_buf_puts(&text, "cat");
    sb_buf_fill(&text, ')', SB_FTS_MAX_DEPTH + 1);
    CHECK_REFUSED(convert(SB_FTS_TSQUERY, sb_buf_str(&text), NULL), "nested too deeply");
    /* alternating operators nest in the FTS5 text too: deep ones are run
     * or refused, never overflow FTS5's parser */
    sb_buf_reset(&text);
    for (int i = 0; i < SB_FTS_MAX_DEPTH; i++)
        sb_buf_puts(&text, i % 2 ? "cat & (" : "dog | (");
    sb_buf_puts(&text, "mouse");
    sb_buf_fill(&text, ')', SB_FTS_MAX_DEPTH);
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, sb_buf_str(&text), "body"), "2,3");
    sb_buf_reset(&text);
    for (int i = 0; i < SB_FTS_MAX_DEPTH; i++)
        sb_buf_puts(&text, "(a & b & !(c | ");
    sb_buf_puts(&text, "d");
    sb_buf_fill(&text, ')', 2 * SB_FTS_MAX_DEPTH);
    CHECK_REFUSED(search(SB_FTS_TSQUERY, sb_buf_str(&text), "body"), "nested too deeply");

    /* a very long word makes the expression too long */
    sb_buf_reset(&text);
    sb_buf_fill(&text, 'x', SB_FTS_MAX_QUERY);
    CHECK_REFUSED(convert(SB_FTS_PLAIN, sb_buf_str(&text), NULL), "too long");
    /* many negations cost nothing */
    sb_buf_reset(&text);
    sb_buf_fill(&text, '!', 100000);
    sb_buf_puts(&text, "cat");
    CHECK_EQ_STR(convert(SB_FTS_TSQUERY, sb_buf_str(&text), NULL), "\"cat\"");
    sb_buf_free(&text);
}

/* ---- the rows found ----------------------------------------------------- */

TEST(fts_tsquery_finds_the_right_rows)
{
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat", NULL), "1,2");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat & !dog", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat | dog", NULL), "1,2,3");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "fat <-> cat", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat <-> fat", NULL), "");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat:*", NULL), "1,2,4");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "fa:* <-> ca:*", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "'fat cat'", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "fat-cat", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat & (dog | mouse)", NULL), "2");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "!(dog | mouse) & cat", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "!(cat | !dog)", NULL), "3"); /* dog without cat */
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "!!cat", NULL), "1,2");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "mouse & !(house & !the)", NULL), "3,5");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "mouse & !(house & the)", NULL), "3");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "CAT", NULL), "1,2");
    /* diacritics fold both ways */
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "naive & resume", NULL), "6");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "caf\xc3\xa9 <-> creme", NULL), "6");
}

TEST(fts_plain_phrase_websearch_find_the_right_rows)
{
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "The fat cat!", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "fat, cat.", NULL), "1,2");
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "The fat cats!", NULL), ""); /* no stemming */
    CHECK_EQ_STR(search(SB_FTS_PHRASE, "fat cat", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_PHRASE, "cat fat", NULL), "");
    CHECK_EQ_STR(search(SB_FTS_PHRASE, "the...dog!", NULL), "3");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "\"fat cat\" -dog or mouse", NULL), "1,3,5");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "fat cat", NULL), "1,2");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "cat -dog", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "-dog cat", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "--cat", NULL), "1,2");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "cat OR mouse", NULL), "1,2,3,5");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "fat dog or chased mouse", NULL), "2,3");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "cat or", NULL), "");    /* trailing "or" is a word */
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "or mouse", NULL), "");  /* and so is a leading one */
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "cat orange", NULL), "");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "fat-cat", NULL), "1"); /* '-' inside a word */
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "\"cat fat", NULL), "");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "cat&(dog)", NULL), "2");
}

TEST(fts_column_restricts_the_search)
{
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "pets", NULL), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "pets", "title"), "1");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "pets", "body"), "");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "cat", "title"), "");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "dog & !dogs", "body"), "2,3");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "dog & !dogs", NULL), "3");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "mouse -house or cat", "body"), "1,2,3");
    CHECK_EQ_STR(search(SB_FTS_PHRASE, "near not", "title"), "5");
}

TEST(fts_keywords_and_syntax_are_words)
{
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "AND", NULL), "2,4,5");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "NEAR", NULL), "5");
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "not", NULL), "5");
    CHECK_EQ_STR(search(SB_FTS_WEBSEARCH, "NEAR(near not)", NULL), "5");
    CHECK_EQ_STR(search(SB_FTS_TSQUERY, "body:cats", NULL), ""); /* the phrase "body cats" */
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "body:cats", NULL), "4");
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "{title}: pets", NULL), "");
    CHECK_EQ_STR(search(SB_FTS_PLAIN, "^the * cat", NULL), "1");
}

/* Nothing a client sends may reach FTS5 as a syntax error: every input
 * either converts to a query FTS5 runs, matches nothing, or is refused. */
TEST(fts_hostile_input_never_breaks_fts5)
{
    static const char *const inputs[] = {
        "\"", "\"\"", "'", "''", "'''", "'\"'", "(", ")", "((a)", "a)", "a))((",
        "AND", "OR", "NOT", "NEAR", "NEAR(a b)", "NEAR(a b, 2)", "a AND b", "a OR", "NOT a",
        "body:x", "title : cat", "{body}: x", "{title body} : cat", "-body:cat", "^cat", "*",
        "cat*", "+", "a + b", "a+b", "-", "--", "- -cat", "!", "!!", "!!cat", "<->", "<",
        "<2>", "a <2> b", "a <-> ", "<-> a", "a:A", "a:*B", ":", ":*", "a:", "a::*", "\\",
        "a\\", "\\'", "'a''b'", "'a\\'b'", "a & | b", "a | & b", "a&!b|!c", "!(!(!(a)))",
        "\xff\xfe", "\xc3", "\xe2\x80", "caf\xc3", "\xe2\x80\x94", "cat \xe2\x80\x94 dog",
        "\xcc\x81\xcc\x81", "\xf0\x9f\x98\x80 cat", "or", "cat or", "or cat", "cat or or dog",
        "-cat or dog", "cat or -", "\"fat \" cat\"", "a\"b\"c", "x\ty\nz", "a,b;c.d",
        "\"*\"", "\"a\" * \"b\"", "a NOT b", "(a) NOT (b)", "a:* & b:*", "'a b':* <-> c",
        "(((((a)))))", "a & (b | (c & !d))", "!a & !b & c", "a | (b & !c)",
    };
    static const enum sb_fts_kind kinds[] = {SB_FTS_TSQUERY, SB_FTS_PLAIN, SB_FTS_PHRASE,
                                             SB_FTS_WEBSEARCH};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
        for (size_t k = 0; k < 4; k++) {
            search(kinds[k], inputs[i], NULL);
            search(kinds[k], inputs[i], "body");
        }
    /* a NUL byte is a separator */
    CHECK_EQ_STR(search_n(SB_FTS_PLAIN, "fat\0cat", 7, NULL), "1,2");
    CHECK_EQ_STR(search_n(SB_FTS_TSQUERY, "fat\0cat", 7, NULL), "1");

    /* 10,000 words: refused (or dropped), never sent */
    struct sb_buf text;
    sb_buf_init(&text);
    for (int i = 0; i < 10000; i++)
        sb_buf_printf(&text, "%sw%d", i ? " " : "", i);
    CHECK_REFUSED(search(SB_FTS_PLAIN, sb_buf_str(&text), NULL), "too many words");
    CHECK_REFUSED(search(SB_FTS_PHRASE, sb_buf_str(&text), NULL), "too many words");
    CHECK_REFUSED(search(SB_FTS_WEBSEARCH, sb_buf_str(&text), NULL), "too many words");
    CHECK_REFUSED(search(SB_FTS_TSQUERY, sb_buf_str(&text), NULL), "operator");
    sb_buf_reset(&text);
    for (int i = 0; i < 10000; i++)
        sb_buf_printf(&text, "%s'w%d'", i ? " | " : "", i);
    CHECK_REFUSED(search(SB_FTS_TSQUERY, sb_buf_str(&text), "body"), "too many words");
    sb_buf_free(&text);
}

__attribute__((destructor)) static void close_db(void)
{
    if (db)
        sqlite3_close(db);
}
