/* The single writer thread and its group commit (see writer.h).
 *
 * Queue discipline: callers append units to a FIFO under the writer's mutex
 * and signal `work`. The thread takes up to max_batch units at once, releases
 * the mutex while it runs them (so callers keep queueing during the fsync of
 * the previous batch, which is what makes batches grow under load), and
 * reports results only after COMMIT returned.
 *
 * Failure model inside a batch:
 *  - fn returns nonzero: ROLLBACK TO its savepoint; the other units go on.
 *  - SQLite rolls the whole transaction back on its own (I/O error, disk
 *    full, or a unit that ended the transaction): every unit kept so far in
 *    that transaction fails with the error, and the rest of the batch starts
 *    a new transaction.
 *  - COMMIT fails: every unit kept in the transaction fails; none is
 *    acknowledged.
 *
 * The epoch (sb_writer_epoch) is thread-local on the writer thread: it moves
 * on at every BEGIN and after every unit that did not end in RELEASE, so
 * that whoever caches what the connection holds knows when to read again. */
#include "store/writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

/* The transaction-control statements, prepared once: parsing them again for
 * every unit would cost more than a small insert. */
enum { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO, ST__COUNT };
static const char *const control_sql[ST__COUNT] = {
    "BEGIN IMMEDIATE",   "COMMIT",          "ROLLBACK",
    "SAVEPOINT sb_unit", "RELEASE sb_unit", "ROLLBACK TO sb_unit",
};

struct sb_writer {
    sqlite3 *db; /* owned; touched only by the writer thread after open */
    sqlite3_stmt *control[ST__COUNT];
    size_t max_batch;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t work;               /* units queued, or closing */
    struct sb_write_unit *head, *tail; /* the queue, under mutex */
    bool closing;                      /* under mutex */
    struct sb_writer_stats stats;      /* under mutex */
    void (*before_close)(sqlite3 *db, void *arg);
    void *before_close_arg;
    void (*on_batch)(void *ctx, size_t units);
    void *on_batch_ctx;
    atomic_uint_fast64_t commits; /* batches run; bumped before their results are out */
};

void sb_writer_options_default(struct sb_writer_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    sb_db_options_default(&opts->db);
    opts->max_batch = SB_WRITER_MAX_BATCH;
}

/* The writer thread's connection and epoch (sb_writer_epoch). */
static _Thread_local sqlite3 *epoch_db;
static _Thread_local unsigned long long epoch;

unsigned long long sb_writer_epoch(sqlite3 *db)
{
    return db && db == epoch_db ? epoch : 0;
}

static void set_result(struct sb_write_result *res, int rc, int unit_rc, int code,
                       const char *message)
{
    res->rc = rc;
    res->unit_rc = unit_rc;
    res->sqlite_code = code;
    snprintf(res->message, sizeof(res->message), "%s", message ? message : "");
}

/* Run one of the control statements; returns an SQLite code. */
static int control(struct sb_writer *w, int which)
{
    sqlite3_stmt *stmt = w->control[which];
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Mark units [from, to) that were kept (rc 0) as lost with db's error. */
static void fail_kept(struct sb_write_unit *from, struct sb_write_unit *to, int code,
                      const char *message)
{
    for (struct sb_write_unit *u = from; u != to; u = u->next)
        if (u->result.rc == 0)
            set_result(&u->result, SB_STORE_EDB, 0, code, message);
}

static bool begin(struct sb_writer *w)
{
    epoch++;
    return control(w, ST_BEGIN) == SQLITE_OK;
}

/* Run one unit inside the open transaction. Returns false when the
 * transaction is gone (rolled back by SQLite or by the unit). */
static bool run_unit(struct sb_writer *w, struct sb_write_unit *unit)
{
    sqlite3 *db = w->db;
    struct sb_write_result *res = &unit->result;
    set_result(res, 0, 0, 0, NULL);
    if (control(w, ST_SAVEPOINT) != SQLITE_OK) {
        epoch++;
        set_result(res, SB_STORE_EDB, 0, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        return !sqlite3_get_autocommit(db);
    }
    int unit_rc = unit->fn(db, unit->arg);
    if (unit_rc != 0 || sqlite3_get_autocommit(db))
        epoch++; /* what the unit wrote is about to be undone, or is gone */
    if (unit_rc != 0) {
        /* A positive value is an SQLite code: its message is still current. */
        if (unit_rc > 0)
            set_result(res, SB_STORE_EUNIT, unit_rc, unit_rc, sqlite3_errmsg(db));
        else
            set_result(res, SB_STORE_EUNIT, unit_rc, 0, NULL);
    }
    if (sqlite3_get_autocommit(db)) {
        if (unit_rc == 0)
            set_result(res, SB_STORE_EDB, 0, SQLITE_ABORT,
                       "the transaction ended inside a write unit");
        return false;
    }
    int end = unit_rc == 0 ? SQLITE_OK : control(w, ST_ROLLBACK_TO);
    if (end == SQLITE_OK)
        end = control(w, ST_RELEASE);
    if (end != SQLITE_OK) {
        epoch++;
        if (unit_rc == 0)
            set_result(res, SB_STORE_EDB, 0, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        return !sqlite3_get_autocommit(db);
    }
    return true;
}

/* Run a batch (a NULL-terminated list) and commit it. Every unit's result is
 * final when this returns. */
static void run_batch(struct sb_writer *w, struct sb_write_unit *batch)
{
    sqlite3 *db = w->db;
    struct sb_write_unit *txn_first = batch; /* first unit of the open transaction */
    bool in_txn = begin(w);
    if (!in_txn) {
        int code = sqlite3_extended_errcode(db);
        char msg[256];
        snprintf(msg, sizeof(msg), "BEGIN: %s", sqlite3_errmsg(db));
        for (struct sb_write_unit *u = batch; u; u = u->next)
            set_result(&u->result, SB_STORE_EDB, 0, code, msg);
        return;
    }
    for (struct sb_write_unit *u = batch; u; u = u->next) {
        if (!in_txn) {
            if (!begin(w)) {
                int code = sqlite3_extended_errcode(db);
                for (struct sb_write_unit *r = u; r; r = r->next)
                    set_result(&r->result, SB_STORE_EDB, 0, code, sqlite3_errmsg(db));
                return;
            }
            in_txn = true;
            txn_first = u;
        }
        if (!run_unit(w, u)) {
            /* Everything kept since BEGIN was rolled back with the transaction. */
            fail_kept(txn_first, u, SQLITE_ABORT,
                      "rolled back with its batch after another unit's error");
            in_txn = false;
        }
    }
    if (!in_txn)
        return; /* the last unit's transaction was lost; its units already failed */
    if (control(w, ST_COMMIT) != SQLITE_OK) {
        epoch++;
        int code = sqlite3_extended_errcode(db);
        char msg[256];
        snprintf(msg, sizeof(msg), "COMMIT: %s", sqlite3_errmsg(db));
        if (!sqlite3_get_autocommit(db))
            control(w, ST_ROLLBACK);
        fail_kept(txn_first, NULL, code, msg);
    }
}

static void *writer_main(void *arg)
{
    struct sb_writer *w = arg;
    epoch_db = w->db;
    epoch = 1;
    pthread_mutex_lock(&w->mutex);
    for (;;) {
        while (!w->head && !w->closing)
            pthread_cond_wait(&w->work, &w->mutex);
        if (!w->head)
            break; /* closing, and everything queued has been flushed */
        struct sb_write_unit *batch = w->head, *last = w->head;
        size_t n = 1;
        while (last->next && n < w->max_batch) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        w->stats.queued -= n;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mutex);

        run_batch(w, batch);
        atomic_fetch_add(&w->commits, 1); /* readers' snapshots are stale from here */

        unsigned long long failures = 0;
        for (struct sb_write_unit *u = batch; u; u = u->next)
            failures += u->result.rc != 0;
        pthread_mutex_lock(&w->mutex);
        w->stats.units += n;
        w->stats.batches++;
        w->stats.failures += failures;
        if (n > w->stats.max_batch_seen)
            w->stats.max_batch_seen = n;
        pthread_mutex_unlock(&w->mutex);
        if (w->on_batch)
            w->on_batch(w->on_batch_ctx, n);

        /* Completions last: done may free the unit, so read next first. */
        for (struct sb_write_unit *u = batch, *next; u; u = next) {
            next = u->next;
            u->done(u);
        }
        pthread_mutex_lock(&w->mutex);
    }
    pthread_mutex_unlock(&w->mutex);
    epoch_db = NULL;
    /* Still on the writer thread: drop the control statements, then let the
     * owner finalize what its units cached (it may finalize every statement
     * of the connection, so ours must be gone first). */
    for (int i = 0; i < ST__COUNT; i++) {
        sqlite3_finalize(w->control[i]);
        w->control[i] = NULL;
    }
    if (w->before_close)
        w->before_close(w->db, w->before_close_arg);
    return NULL;
}

int sb_writer_open(const char *path, const struct sb_writer_options *opts, struct sb_writer **out,
                   struct sb_buf *err)
{
    struct sb_writer_options defaults;
    if (!opts) {
        sb_writer_options_default(&defaults);
        opts = &defaults;
    }
    *out = NULL;
    struct sb_writer *w = sb_xcalloc(1, sizeof(*w));
    w->max_batch = opts->max_batch ? opts->max_batch : SB_WRITER_MAX_BATCH;
    w->before_close = opts->before_close;
    w->before_close_arg = opts->before_close_arg;
    if (sb_db_open(path, SB_DB_WRITE, &opts->db, &w->db, err) != 0) {
        free(w);
        return SB_STORE_EDB;
    }
    for (int i = 0; i < ST__COUNT; i++) {
        if (sqlite3_prepare_v3(w->db, control_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->control[i],
                               NULL) != SQLITE_OK) {
            sb_db_error(w->db, control_sql[i], err);
            for (int k = 0; k < i; k++)
                sqlite3_finalize(w->control[k]);
            sb_db_close(w->db);
            free(w);
            return SB_STORE_EDB;
        }
    }
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->work, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        if (err)
            sb_buf_puts(err, "cannot start the writer thread");
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mutex);
        sb_db_close(w->db);
        free(w);
        return SB_STORE_EDB;
    }
    *out = w;
    return 0;
}

int sb_writer_submit(struct sb_writer *w, struct sb_write_unit *unit)
{
    unit->next = NULL;
    memset(&unit->result, 0, sizeof(unit->result));
    pthread_mutex_lock(&w->mutex);
    if (w->closing) {
        pthread_mutex_unlock(&w->mutex);
        set_result(&unit->result, SB_STORE_ECLOSED, 0, 0, "the writer is closing");
        return SB_STORE_ECLOSED;
    }
    if (w->tail)
        w->tail->next = unit;
    else
        w->head = unit;
    w->tail = unit;
    w->stats.queued++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mutex);
    return 0;
}

/* A caller blocked in sb_writer_exec. Its condition variable is its own, the
 * mutex is the writer's, so the waiter may destroy the cond as soon as it
 * has seen done (the signal returned before the mutex was released). */
struct waiter {
    struct sb_writer *writer;
    pthread_cond_t cond;
    bool done;
};

static void wake_waiter(struct sb_write_unit *unit)
{
    struct waiter *wt = unit->done_arg;
    pthread_mutex_lock(&wt->writer->mutex);
    wt->done = true;
    pthread_cond_signal(&wt->cond);
    pthread_mutex_unlock(&wt->writer->mutex);
}

int sb_writer_exec(struct sb_writer *w, sb_write_fn fn, void *arg, struct sb_write_result *result)
{
    struct waiter wt = {.writer = w, .done = false};
    struct sb_write_unit unit = {.fn = fn, .arg = arg, .done = wake_waiter, .done_arg = &wt};
    pthread_cond_init(&wt.cond, NULL);
    int rc = sb_writer_submit(w, &unit);
    if (rc == 0) {
        pthread_mutex_lock(&w->mutex);
        while (!wt.done)
            pthread_cond_wait(&wt.cond, &w->mutex);
        pthread_mutex_unlock(&w->mutex);
        rc = unit.result.rc;
    }
    pthread_cond_destroy(&wt.cond);
    if (result)
        *result = unit.result;
    return rc;
}

void sb_writer_stats(struct sb_writer *w, struct sb_writer_stats *out)
{
    pthread_mutex_lock(&w->mutex);
    *out = w->stats;
    pthread_mutex_unlock(&w->mutex);
}

void sb_writer_on_batch(struct sb_writer *w, void (*fn)(void *ctx, size_t units), void *ctx)
{
    pthread_mutex_lock(&w->mutex);
    w->on_batch = fn;
    w->on_batch_ctx = ctx;
    pthread_mutex_unlock(&w->mutex);
}

void sb_writer_close(struct sb_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mutex);
    w->closing = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mutex);
    pthread_join(w->thread, NULL);
    sb_db_close(w->db);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mutex);
    free(w);
}

uint64_t sb_writer_commits(const struct sb_writer *writer)
{
    return atomic_load(&((struct sb_writer *)writer)->commits);
}
