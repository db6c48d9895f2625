/* Connections to SQLite with the pragmas a server needs (see db.h and
 * docs/operations.md for the reason behind each), the reader pool, and the
 * readers that keep a snapshot across requests, with the thread that ends
 * stale ones. The writer (writer.c) and migrations (migrate.c) open their
 * connection here too, so no connection ever runs with different settings. */
#include "store/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/die.h"
#include "util/clock.h"

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

/* ---- readers that keep their snapshot ------------------------------------ */

struct sb_db_reader {
    struct sb_db_reader *prev, *next; /* the set's list, under set->mu */
    struct sb_db_snapshots *set;
    /* Held by the owner while it uses a snapshot; the sweeper only tries
     * it. The owner uses db without it only while no snapshot is open,
     * and the sweeper touches db only when one is. */
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *begin, *commit;
    bool open;          /* a read transaction is open (under mu) */
    bool reusable;      /* it may serve a later request (under mu) */
    uint64_t commits;   /* the commit count it began at (under mu) */
    int64_t begun_us;   /* when it began (under mu) */
};

/* the sweeper looks every SWEEP_EVERY_AGES * max_age */
#define SWEEP_EVERY_AGES 10

struct sb_db_snapshots {
    pthread_mutex_t mu; /* the list, stop; with wake: the sweeper's sleep */
    pthread_cond_t wake;
    struct sb_db_reader *readers;
    atomic_uint n_open; /* snapshots open; the sweeper sleeps at 0 */
    int64_t max_age_us;
    bool stop;
    pthread_t sweeper;
};

/* End reader's snapshot; caller holds its mu (or owns it outright). */
static void end_snapshot(struct sb_db_reader *reader)
{
    if (!reader->open)
        return;
    sqlite3_step(reader->commit);
    sqlite3_reset(reader->commit);
    if (!sqlite3_get_autocommit(reader->db))
        sqlite3_exec(reader->db, "ROLLBACK", NULL, NULL, NULL);
    reader->open = false;
    atomic_fetch_sub(&reader->set->n_open, 1);
}

static void *sweeper_main(void *arg)
{
    struct sb_db_snapshots *set = arg;
    pthread_mutex_lock(&set->mu);
    while (!set->stop) {
        if (atomic_load(&set->n_open) == 0) {
            pthread_cond_wait(&set->wake, &set->mu);
            continue;
        }
        /* a busy reader renews its own snapshot; the sweeper is for idle
         * ones, and looks seldom: each wake-up costs a context switch */
        struct timespec until = sb_mono_deadline(set->max_age_us * SWEEP_EVERY_AGES);
        while (!set->stop && pthread_cond_timedwait(&set->wake, &set->mu, &until) == 0) {
        }
        int64_t now = sb_mono_us();
        for (struct sb_db_reader *r = set->readers; r && !set->stop; r = r->next) {
            if (pthread_mutex_trylock(&r->mu) != 0)
                continue; /* in use: its owner checks the age itself */
            if (r->open && now - r->begun_us >= set->max_age_us)
                end_snapshot(r);
            pthread_mutex_unlock(&r->mu);
        }
    }
    pthread_mutex_unlock(&set->mu);
    return NULL;
}

struct sb_db_snapshots *sb_db_snapshots_new(int max_age_ms)
{
    struct sb_db_snapshots *set = sb_xcalloc(1, sizeof(*set));
    set->max_age_us = (int64_t)(max_age_ms > 0 ? max_age_ms : SB_DB_SNAPSHOT_MAX_AGE_MS) * 1000;
    atomic_init(&set->n_open, 0);
    pthread_mutex_init(&set->mu, NULL);
    sb_cond_init_mono(&set->wake);
    if (pthread_create(&set->sweeper, NULL, sweeper_main, set) != 0) {
        pthread_cond_destroy(&set->wake);
        pthread_mutex_destroy(&set->mu);
        free(set);
        return NULL;
    }
    return set;
}

void sb_db_snapshots_free(struct sb_db_snapshots *set)
{
    if (!set)
        return;
    pthread_mutex_lock(&set->mu);
    set->stop = true;
    pthread_cond_signal(&set->wake);
    pthread_mutex_unlock(&set->mu);
    pthread_join(set->sweeper, NULL);
    pthread_cond_destroy(&set->wake);
    pthread_mutex_destroy(&set->mu);
    free(set);
}

int sb_db_reader_open(struct sb_db_snapshots *set, const char *path,
                      const struct sb_db_options *opts, struct sb_db_reader **out,
                      struct sb_buf *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    if (sb_db_open(path, SB_DB_READ, opts, &db, err) != 0)
        return SB_STORE_EDB;
    struct sb_db_reader *reader = sb_xcalloc(1, sizeof(*reader));
    reader->db = db;
    reader->set = set;
    if (sqlite3_prepare_v3(db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &reader->begin, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &reader->commit, NULL) !=
            SQLITE_OK) {
        sb_db_error(db, "preparing the read transaction", err);
        sqlite3_finalize(reader->begin);
        sqlite3_finalize(reader->commit);
        sb_db_close(db);
        free(reader);
        return SB_STORE_EDB;
    }
    pthread_mutex_init(&reader->mu, NULL);
    pthread_mutex_lock(&set->mu);
    reader->next = set->readers;
    if (set->readers)
        set->readers->prev = reader;
    set->readers = reader;
    pthread_mutex_unlock(&set->mu);
    *out = reader;
    return 0;
}

void sb_db_reader_close(struct sb_db_reader *reader)
{
    if (!reader)
        return;
    struct sb_db_snapshots *set = reader->set;
    pthread_mutex_lock(&set->mu);
    if (reader->prev)
        reader->prev->next = reader->next;
    else
        set->readers = reader->next;
    if (reader->next)
        reader->next->prev = reader->prev;
    pthread_mutex_unlock(&set->mu);
    /* out of the list: the sweeper can no longer reach it */
    end_snapshot(reader);
    sqlite3_finalize(reader->begin);
    sqlite3_finalize(reader->commit);
    sb_db_close(reader->db);
    pthread_mutex_destroy(&reader->mu);
    free(reader);
}

sqlite3 *sb_db_reader_conn(struct sb_db_reader *reader)
{
    pthread_mutex_lock(&reader->mu);
    end_snapshot(reader);
    pthread_mutex_unlock(&reader->mu);
    return reader->db;
}

sqlite3 *sb_db_reader_snapshot(struct sb_db_reader *reader, const uint64_t *commits,
                               struct sb_buf *err)
{
    pthread_mutex_lock(&reader->mu);
    int64_t now = sb_mono_us();
    if (reader->open && (!reader->reusable || !commits || reader->commits != *commits ||
                         now - reader->begun_us >= reader->set->max_age_us))
        end_snapshot(reader);
    if (reader->open)
        return reader->db;
    /* a transaction left open through sb_db_reader_conn would make every
     * BEGIN fail (and pin the WAL): end it, as the pool's release does */
    if (!sqlite3_get_autocommit(reader->db))
        sqlite3_exec(reader->db, "ROLLBACK", NULL, NULL, NULL);
    /* BEGIN is deferred: the snapshot is taken by the first read, after
     * the caller read the commit count, so it holds every commit counted */
    int rc = sqlite3_step(reader->begin);
    sqlite3_reset(reader->begin);
    if (rc != SQLITE_DONE) {
        sb_db_error(reader->db, "beginning a read transaction", err);
        pthread_mutex_unlock(&reader->mu);
        return NULL;
    }
    reader->open = true;
    reader->reusable = commits != NULL;
    reader->commits = commits ? *commits : 0;
    reader->begun_us = now;
    struct sb_db_snapshots *set = reader->set;
    if (atomic_fetch_add(&set->n_open, 1) == 0) {
        pthread_mutex_lock(&set->mu);
        pthread_cond_signal(&set->wake);
        pthread_mutex_unlock(&set->mu);
    }
    return reader->db;
}

void sb_db_reader_done(struct sb_db_reader *reader, bool keep)
{
    if (!keep || !reader->reusable)
        end_snapshot(reader);
    pthread_mutex_unlock(&reader->mu);
}

bool sb_db_reader_in_snapshot(struct sb_db_reader *reader)
{
    pthread_mutex_lock(&reader->mu);
    bool open = reader->open;
    pthread_mutex_unlock(&reader->mu);
    return open;
}
