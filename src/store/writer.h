/* The single writer: one thread owns the write connection and commits queued
 * units of work together (group commit).
 *
 * Any thread queues a unit (one request's statements). The writer takes every
 * queued unit (up to a batch limit), runs them back to back inside one
 * BEGIN IMMEDIATE ... COMMIT, each inside its own SAVEPOINT so that a failing
 * unit rolls back alone, commits once, and only then reports each unit's own
 * result. Under load the batches grow by themselves while the previous commit
 * is being fsynced, so one fsync acknowledges many writes.
 *
 * "Acknowledged means durable": a unit's completion is reported only after the
 * COMMIT that holds it has returned, at the configured durability. */
#ifndef SB_STORE_WRITER_H
#define SB_STORE_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "store/db.h"
#include "util/buf.h"

/* The work of one unit. Runs on the writer thread inside the unit's own
 * SAVEPOINT, with db borrowed for the call only. Return 0 to keep its
 * changes, anything else to roll them back (the value is handed to the
 * caller as unit_rc); a positive value is taken as the SQLite result code
 * of the failing call, and SQLite's message is passed on with it. It must not
 * BEGIN, COMMIT, ROLLBACK or RELEASE transactions or savepoints it did not
 * open, and must reset or finalize its statements before returning (a
 * statement left mid-step can make the batch's COMMIT fail). Statements a
 * unit caches on the connection must be finalized before it closes: by
 * opts.before_close, or by a last unit. */
typedef int (*sb_write_fn)(sqlite3 *db, void *arg);

/* The outcome of a unit, filled in by the writer before the completion. */
struct sb_write_result {
    int rc;            /* 0: committed and durable; SB_STORE_EUNIT: fn failed and its
                          changes were rolled back; SB_STORE_EDB: the batch's commit
                          failed (nothing of the unit was kept); SB_STORE_ECLOSED */
    int unit_rc;       /* what fn returned (0 unless rc == SB_STORE_EUNIT) */
    int sqlite_code;   /* extended SQLite code behind the failure, 0 if none */
    char message[256]; /* SQLite's message for the failure, "" if none */
};

struct sb_write_unit;
/* Called on the writer thread once the unit's outcome is known, after the
 * commit. Must be quick and must not queue units and wait for them. */
typedef void (*sb_write_done_fn)(struct sb_write_unit *unit);

/* A unit of work, owned by the caller and alive until done is called.
 * Fill fn, arg and (for sb_writer_submit) done; the rest is the writer's. */
struct sb_write_unit {
    sb_write_fn fn;
    void *arg;
    sb_write_done_fn done;
    void *done_arg; /* for the caller's completion */
    struct sb_write_result result;
    struct sb_write_unit *next; /* private: queue link */
};

struct sb_writer_options {
    struct sb_db_options db;
    size_t max_batch; /* units per transaction; 1 = one transaction per unit;
                         0: SB_WRITER_MAX_BATCH */
    /* Called once on the writer thread after the last batch, before the
     * connection closes (the writer's own statements are already gone): the
     * place to finalize statements that units cached on it, such as a
     * thread-local statement cache. NULL: nothing to do. */
    void (*before_close)(sqlite3 *db, void *arg);
    void *before_close_arg;
};

#define SB_WRITER_MAX_BATCH 512

/* Default options: durability full, batches up to SB_WRITER_MAX_BATCH. */
void sb_writer_options_default(struct sb_writer_options *opts);

struct sb_writer;

/* Open the write connection to path and start the writer thread. opts may be
 * NULL. On success *out is owned (sb_writer_close). */
int sb_writer_open(const char *path, const struct sb_writer_options *opts, struct sb_writer **out,
                   struct sb_buf *err);

/* Queue a unit without waiting; unit->done is called (on the writer thread)
 * with unit->result set. Returns 0, or SB_STORE_ECLOSED when the writer is
 * closing (done is then not called). */
int sb_writer_submit(struct sb_writer *writer, struct sb_write_unit *unit);

/* Queue fn(db, arg) and wait for its commit. Returns result->rc and fills
 * *result (result may be NULL). */
int sb_writer_exec(struct sb_writer *writer, sb_write_fn fn, void *arg,
                   struct sb_write_result *result);

/* Counters since open, for metrics and the bench (a consistent snapshot). */
struct sb_writer_stats {
    unsigned long long units;    /* units completed */
    unsigned long long batches;  /* transactions run, one per batch */
    unsigned long long failures; /* units that did not commit */
    size_t max_batch_seen;
    size_t queued; /* units waiting right now */
};
void sb_writer_stats(struct sb_writer *writer, struct sb_writer_stats *out);

/* How many batches the writer has run so far. A batch's commit is counted
 * before any of its units is reported done, so a reader that reads the
 * count after a write was answered and then begins a transaction sees it. */
uint64_t sb_writer_commits(const struct sb_writer *writer);

/* Called on the writer thread after each transaction with its number of
 * units (e.g. for a histogram); quick, must not submit. Set it before any
 * unit is submitted; NULL removes it. */
void sb_writer_on_batch(struct sb_writer *writer, void (*fn)(void *ctx, size_t units), void *ctx);

/* The writer's transaction epoch, for caches of what the write connection
 * holds (store/audit.c keeps the audit trail's head): on the writer thread,
 * with db its connection, a number that changes whenever rows may have
 * changed other than through this thread's own statements since the
 * epoch was read: at every BEGIN (another process may have written in
 * between), and after every unit that rolled back to its savepoint or lost
 * the transaction. 0 anywhere else (another thread, another connection):
 * nothing may be cached. A unit that rolls back to a savepoint of its own
 * must not rely on caches (the writer cannot see that rollback). */
unsigned long long sb_writer_epoch(sqlite3 *db);

/* Stop accepting units, run and commit everything already queued, join the
 * thread and close the connection. NULL is ignored. */
void sb_writer_close(struct sb_writer *writer);

#endif
