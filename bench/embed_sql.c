/* The statements of bench/embed.sh alone, without HTTP: each query string is
 * compiled by the records compiler (query/sql.c) for the anonymous caller,
 * as the server compiles it, prepared once on a read-only connection with
 * the server's SQL functions and settings, then run ITERS times per round
 * (every row stepped and its JSON text read), the queries taking turns for
 * ROUNDS rounds. Prints, per query, the fastest round's microseconds per
 * execution, the median round's, and the bytes of JSON one execution
 * returns. Under `valgrind --tool=callgrind` the instruction counts of two
 * runs with different ITERS give the instructions per execution, a figure
 * the machine's load does not move (bench/embed.sh --sql).
 * Usage: bench-embed-sql SPEC DB COLLECTION ITERS ROUNDS QUERY... */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query/parse.h"
#include "query/qs.h"
#include "query/sql.h"
#include "spec/spec.h"
#include "store/sqlexpr.h"
#include "store/sqlfn.h"
#include "store/stmt.h"

#define MAX_QUERIES 8
#define MAX_ROUNDS 101

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            text = realloc(text, cap);
            if (!text)
                abort();
        }
        size_t n = fread(text + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    fclose(f);
    return text;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Run stmt once; returns the bytes of JSON its rows hold. */
static size_t run_once(sqlite3_stmt *stmt)
{
    size_t bytes = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        if (text)
            bytes += (size_t)sqlite3_column_bytes(stmt, 0);
    }
    sqlite3_reset(stmt);
    return bytes;
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc - 6 > MAX_QUERIES) {
        fprintf(stderr, "usage: %s SPEC DB COLLECTION ITERS ROUNDS QUERY... (at most %d)\n", argv[0], MAX_QUERIES);
        return 2;
    }
    long iters = strtol(argv[4], NULL, 10), rounds = strtol(argv[5], NULL, 10);
    if (iters < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "ITERS must be at least 1, ROUNDS 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    size_t spec_len;
    char *spec_text = slurp(argv[1], &spec_len);
    if (!spec_text) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    struct sb_source source = {.name = argv[1], .text = spec_text, .len = spec_len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse(argv[1], spec_text, spec_len, &diags);
    if (diags.n_errors || sb_spec_check(model, &diags) != 0) {
        fprintf(stderr, "%s does not check\n", argv[1]);
        return 1;
    }
    const struct sb_collection *coll = sb_model_collection(model, argv[3]);
    if (!coll) {
        fprintf(stderr, "no collection %s\n", argv[3]);
        return 1;
    }
    /* as the server runs: no memory statistics, its SQL functions */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db = NULL;
    if (sb_sqlfn_install() != 0 || sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", argv[2]);
        return 1;
    }
    sqlite3_exec(db, "PRAGMA cache_size=-16384", NULL, NULL, NULL);

    struct sb_arena arena;
    sb_arena_init(&arena);
    size_t n_queries = (size_t)argc - 6;
    sqlite3_stmt *stmts[MAX_QUERIES];
    for (size_t q = 0; q < n_queries; q++) {
        const char *qs = argv[6 + q];
        struct sb_qs_pair *pairs;
        size_t n_pairs;
        struct sb_query query;
        struct sb_api_error err = {0};
        if (sb_qs_split(&arena, qs, strlen(qs), &pairs, &n_pairs, &err) != 0 ||
            sb_query_parse(&arena, pairs, n_pairs, &query, &err) != 0) {
            fprintf(stderr, "%s: %s\n", qs, err.message ? err.message : "does not parse");
            return 1;
        }
        struct sb_sql_ctx ctx = {.model = model, .dialect = &sb_dialect_sqlite, .who = &sb_identity_anon,
                                 .arena = &arena};
        struct sb_read_opts opts = {.has_limit = query.root.has_limit, .limit = query.root.limit,
                                    .offset = query.root.has_offset ? query.root.offset : 0};
        struct sb_sql sql;
        sb_sql_init(&sql, &arena);
        if (sb_sql_read(&ctx, coll, &query, &opts, &sql, &err) != 0) {
            fprintf(stderr, "%s: %s\n", qs, err.message);
            return 1;
        }
        if (sqlite3_prepare_v2(db, sb_buf_str(&sql.text), -1, &stmts[q], NULL) != SQLITE_OK ||
            sb_stmt_bind(stmts[q], sql.binds, sql.n_binds) != SQLITE_OK) {
            fprintf(stderr, "%s: %s\n", qs, sqlite3_errmsg(db));
            return 1;
        }
        sb_sql_free(&sql);
    }

    static double times[MAX_QUERIES][MAX_ROUNDS];
    size_t bytes[MAX_QUERIES];
    for (size_t q = 0; q < n_queries; q++)
        bytes[q] = run_once(stmts[q]); /* warm the page cache */
    for (long r = 0; r < rounds; r++) {
        for (size_t q = 0; q < n_queries; q++) {
            double start = now_us();
            for (long i = 0; i < iters; i++)
                run_once(stmts[q]);
            times[q][r] = (now_us() - start) / (double)iters;
        }
    }
    for (size_t q = 0; q < n_queries; q++) {
        qsort(times[q], (size_t)rounds, sizeof(double), compare_double);
        printf("%8.1f us fastest  %8.1f us median  %6zu bytes  %s\n", times[q][0], times[q][rounds / 2], bytes[q],
               argv[6 + q]);
        sqlite3_finalize(stmts[q]);
    }
    sqlite3_close(db);
    sb_arena_free(&arena);
    sb_model_free(model);
    sb_diags_free(&diags);
    free(spec_text);
    return 0;
}
