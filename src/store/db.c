/* Connections to SQLite with the pragmas a server needs (see db.h and
 * docs/operations.md for the reason behind each), and the reader pool. The
 * writer (writer.c) and migrations (migrate.c) open their connection here
 * too, so no connection ever runs with different settings. */
#include "store/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

int sb_durability_parse(const char *text, enum sb_durability *out)
{
    if (strcmp(text, "full") == 0) {
        *out = SB_DURABILITY_FULL;
        return 0;
    }
    if (strcmp(text, "normal") == 0) {
        *out = SB_DURABILITY_NORMAL;
        return 0;
    }
    return -1;
}

const char *sb_durability_name(enum sb_durability durability)
{
    return durability == SB_DURABILITY_NORMAL ? "normal" : "full";
}

void sb_db_options_default(struct sb_db_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->durability = SB_DURABILITY_FULL;
    opts->busy_timeout_ms = SB_DB_BUSY_TIMEOUT_MS;
    opts->cache_kib = SB_DB_CACHE_KIB;
}

void sb_db_error(sqlite3 *db, const char *context, struct sb_buf *err)
{
    if (!err)
        return;
    if (db)
        sb_buf_printf(err, "%s: %s", context, sqlite3_errmsg(db));
    else
        sb_buf_printf(err, "%s: out of memory", context);
}

int sb_db_exec(sqlite3 *db, const char *sql, struct sb_buf *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    if (err)
        sb_buf_printf(err, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return SB_STORE_EDB;
}

long long sb_db_pragma_int(sqlite3 *db, const char *pragma)
{
    char sql[128];
    int n = snprintf(sql, sizeof(sql), "PRAGMA %s", pragma);
    if (n < 0 || (size_t)n >= sizeof(sql))
        return -1;
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

/* The text result of a pragma that returns one row (journal_mode). */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t out_len)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            const unsigned char *text = sqlite3_column_text(stmt, 0);
            snprintf(out, out_len, "%s", text ? (const char *)text : "");
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Connection-level switches that have no pragma, or where db_config is the
 * primary interface. Each is documented in docs/operations.md. */
static int configure(sqlite3 *db)
{
    static const int flags[][2] = {
        {SQLITE_DBCONFIG_DEFENSIVE, 1}, /* no writable_schema tricks */
        {SQLITE_DBCONFIG_DQS_DML, 0},   /* "x" is an identifier, never a string */
        {SQLITE_DBCONFIG_DQS_DDL, 0},
        {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        int now = -1;
        if (sqlite3_db_config(db, flags[i][0], flags[i][1], &now) != SQLITE_OK)
            return -1;
    }
    sqlite3_extended_result_codes(db, 1);
    return 0;
}

int sb_db_open(const char *path, enum sb_db_role role, const struct sb_db_options *opts,
               sqlite3 **out, struct sb_buf *err)
{
    struct sb_db_options defaults;
    if (!opts) {
        sb_db_options_default(&defaults);
        opts = &defaults;
    }
    int busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : SB_DB_BUSY_TIMEOUT_MS;
    int cache_kib = opts->cache_kib > 0 ? opts->cache_kib : SB_DB_CACHE_KIB;

    *out = NULL;
    sqlite3 *db = NULL;
    /* Each connection is used by one thread at a time (the writer thread, a
     * pool borrower, a migration), so SQLite's own mutexes are not needed. */
    int flags = SQLITE_OPEN_NOMUTEX;
    if (role == SB_DB_INSPECT)
        flags |= SQLITE_OPEN_READONLY;
    else
        flags |= SQLITE_OPEN_READWRITE | (role == SB_DB_WRITE ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        sb_db_error(db, path, err);
        sqlite3_close(db);
        return SB_STORE_EDB;
    }
    if (configure(db) != 0) {
        sb_db_error(db, "configuring the connection", err);
        goto fail;
    }
    sqlite3_busy_timeout(db, busy_ms);

    char sql[512];
    snprintf(sql, sizeof(sql),
             "PRAGMA foreign_keys = ON;"
             "PRAGMA synchronous = %s;"
             "PRAGMA cache_size = -%d;"
             "PRAGMA temp_store = MEMORY;"
             "PRAGMA journal_size_limit = 67108864;"
             "PRAGMA query_only = %s;",
             opts->durability == SB_DURABILITY_NORMAL ? "NORMAL" : "FULL", cache_kib,
             role == SB_DB_WRITE ? "OFF" : "ON");
    if (sb_db_exec(db, sql, NULL) != 0) {
        sb_db_error(db, "setting pragmas", err);
        goto fail;
    }
    char mode[32];
    if (role == SB_DB_INSPECT) {
        *out = db;
        return 0;
    }
    if (role == SB_DB_WRITE) {
        /* Persistent in the file: readers opened later find WAL already on. */
        if (pragma_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) != SQLITE_OK) {
            sb_db_error(db, "enabling WAL", err);
            goto fail;
        }
    } else if (pragma_text(db, "PRAGMA journal_mode", mode, sizeof(mode)) != SQLITE_OK) {
        sb_db_error(db, "reading the journal mode", err);
        goto fail;
    }
    if (strcmp(mode, "wal") != 0) {
        if (err)
            sb_buf_printf(err, "%s: journal mode is '%s', not 'wal'%s", path, mode,
                          role == SB_DB_READ ? " (open it for writing first)" : "");
        goto fail;
    }
    *out = db;
    return 0;
fail:
    sqlite3_close(db);
    return SB_STORE_EDB;
}

void sb_db_close(sqlite3 *db)
{
    if (!db)
        return;
    /* Not sqlite3_next_stmt + finalize: virtual tables (FTS5) own prepared
     * statements on the connection and must finalize them themselves. */
    sqlite3_close_v2(db);
}

/* ---- reader pool -------------------------------------------------------- */

struct sb_db_pool {
    pthread_mutex_t mutex;
    pthread_cond_t available;
    size_t n_conns;
    sqlite3 **conns; /* all connections, owned */
    sqlite3 **idle;  /* stack of idle ones */
    size_t n_idle;
};

int sb_db_pool_open(const char *path, size_t n, const struct sb_db_options *opts,
                    struct sb_db_pool **out, struct sb_buf *err)
{
    *out = NULL;
    if (n < 1 || n > 64) {
        if (err)
            sb_buf_printf(err, "reader pool size %zu out of range 1..64", n);
        return SB_STORE_EDB;
    }
    struct sb_db_pool *pool = sb_xcalloc(1, sizeof(*pool));
    pool->conns = sb_xcalloc(n, sizeof(*pool->conns));
    pool->idle = sb_xcalloc(n, sizeof(*pool->idle));
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->available, NULL);
    for (size_t i = 0; i < n; i++) {
        if (sb_db_open(path, SB_DB_READ, opts, &pool->conns[i], err) != 0) {
            sb_db_pool_close(pool);
            return SB_STORE_EDB;
        }
        pool->n_conns++;
        pool->idle[pool->n_idle++] = pool->conns[i];
    }
    *out = pool;
    return 0;
}

sqlite3 *sb_db_pool_acquire(struct sb_db_pool *pool)
{
    pthread_mutex_lock(&pool->mutex);
    while (pool->n_idle == 0)
        pthread_cond_wait(&pool->available, &pool->mutex);
    sqlite3 *db = pool->idle[--pool->n_idle];
    pthread_mutex_unlock(&pool->mutex);
    return db;
}

void sb_db_pool_release(struct sb_db_pool *pool, sqlite3 *db)
{
    /* A borrower that left a read transaction open would pin the WAL and
     * stop checkpoints; end it here rather than trust every caller. */
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&pool->mutex);
    if (pool->n_idle >= pool->n_conns)
        sb_die("sb_db_pool_release: connection released twice");
    pool->idle[pool->n_idle++] = db;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->mutex);
}

void sb_db_pool_close(struct sb_db_pool *pool)
{
    if (!pool)
        return;
    if (pool->n_idle != pool->n_conns)
        sb_die("sb_db_pool_close: a connection is still borrowed");
    for (size_t i = 0; i < pool->n_conns; i++)
        sb_db_close(pool->conns[i]);
    pthread_cond_destroy(&pool->available);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->conns);
    free(pool->idle);
    free(pool);
}
