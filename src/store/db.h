/* Opening SQLite databases the way a server needs them, and a small pool of
 * read-only connections. Every connection specbase opens goes through
 * sb_db_open, so the pragmas documented in docs/operations.md hold for all of
 * them: WAL, foreign keys on, a busy timeout, synchronous per durability mode,
 * defensive mode, no double-quoted string literals.
 *
 * Writes go through the single writer (store/writer.h), migrations through
 * store/migrate.h; readers borrow a connection from the pool. */
#ifndef SB_STORE_DB_H
#define SB_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"

/* Error codes of the store layer (negative; 0 is success). */
#define SB_STORE_EDB (-1)     /* a database error; the message is in err */
#define SB_STORE_ECLOSED (-2) /* the writer is shutting down */
#define SB_STORE_EUNIT (-3)   /* a write unit failed and was rolled back alone */
#define SB_STORE_EDRIFT (-4)  /* the live schema differs from the applied spec */
#define SB_STORE_EUNSAFE (-5) /* the plan loses data and that was not allowed */

/* full: every acknowledged commit has been fsynced (synchronous=FULL).
 * normal: WAL's synchronous=NORMAL; a power loss may drop the last commits but
 * never corrupts the file. A process crash loses nothing in either mode. */
enum sb_durability { SB_DURABILITY_FULL, SB_DURABILITY_NORMAL };

/* Parse "full" / "normal". Returns 0, or -1 for anything else. */
int sb_durability_parse(const char *text, enum sb_durability *out);
/* "full" / "normal" (static string). */
const char *sb_durability_name(enum sb_durability durability);

enum sb_db_role {
    SB_DB_WRITE,  /* the writer or a migration: may create the file */
    SB_DB_READ,   /* query_only; the file must exist and be in WAL mode */
    SB_DB_INSPECT /* read-only look at any existing file (plans, tools): no
                     journal-mode change, nothing written */
};

struct sb_db_options {
    enum sb_durability durability;
    int busy_timeout_ms; /* 0: SB_DB_BUSY_TIMEOUT_MS */
    int cache_kib;       /* page cache per connection; 0: SB_DB_CACHE_KIB */
};

#define SB_DB_BUSY_TIMEOUT_MS 5000
#define SB_DB_CACHE_KIB 16384

/* Default options: durability full, default timeout and cache. */
void sb_db_options_default(struct sb_db_options *opts);

/* Open path with the server pragmas for role. opts may be NULL (defaults).
 * On success *out is an owned connection (close with sb_db_close). On
 * failure returns SB_STORE_EDB with a one-line message in err. */
int sb_db_open(const char *path, enum sb_db_role role, const struct sb_db_options *opts,
               sqlite3 **out, struct sb_buf *err);
/* Close a connection from sb_db_open (NULL is ignored). The caller's
 * prepared statements must have been finalized. */
void sb_db_close(sqlite3 *db);

/* Run one or more SQL statements without results. Returns 0, or
 * SB_STORE_EDB with "what: sqlite message" in err (err may be NULL). */
int sb_db_exec(sqlite3 *db, const char *sql, struct sb_buf *err);

/* Append "context: <sqlite message>" for db's last error to err. */
void sb_db_error(sqlite3 *db, const char *context, struct sb_buf *err);

/* The current value of an integer pragma (for tests and diagnostics);
 * -1 when it cannot be read. */
long long sb_db_pragma_int(sqlite3 *db, const char *pragma);

/* ---- reader pool -------------------------------------------------------- */

struct sb_db_pool;

/* Open n (1..64) read connections to path. The file must exist and be in WAL
 * mode already (a writer or migration opened it first). */
int sb_db_pool_open(const char *path, size_t n, const struct sb_db_options *opts,
                    struct sb_db_pool **out, struct sb_buf *err);
/* Borrow a connection; blocks while all are in use. The connection is the
 * caller's until sb_db_pool_release; it must not be closed. */
sqlite3 *sb_db_pool_acquire(struct sb_db_pool *pool);
/* Give a connection back (any open transaction must have ended). */
void sb_db_pool_release(struct sb_db_pool *pool, sqlite3 *db);
/* Close every connection; all must have been released. NULL is ignored. */
void sb_db_pool_close(struct sb_db_pool *pool);

/* ---- readers that keep their snapshot ------------------------------------ */

/* A read connection owned by one thread that may keep its read transaction
 * (its snapshot) open from one request to the next: beginning and ending a
 * read transaction costs more than a small query. A snapshot is reused only
 * while no write was committed since it began (the caller passes the
 * writer's commit count, sb_writer_commits) and for at most max_age_ms.
 * Snapshots left open by a thread that has gone idle would hold back
 * checkpoints, so the set's own thread ends those older than max_age_ms,
 * looking every ten max_age_ms (50 ms by default). */
struct sb_db_snapshots;
struct sb_db_reader;

#define SB_DB_SNAPSHOT_MAX_AGE_MS 5

/* A set of readers and the thread that ends their stale snapshots
 * (max_age_ms 0: SB_DB_SNAPSHOT_MAX_AGE_MS). Returned owned, or NULL when
 * the thread cannot start. */
struct sb_db_snapshots *sb_db_snapshots_new(int max_age_ms);
/* Stop the thread and free the set. Every reader must have been closed
 * (or be abandoned: never used again). NULL is ignored. */
void sb_db_snapshots_free(struct sb_db_snapshots *set);

/* Open a read connection to path (as sb_db_open with SB_DB_READ) in set.
 * *out is owned by the calling thread; 0 or SB_STORE_EDB with err. */
int sb_db_reader_open(struct sb_db_snapshots *set, const char *path,
                      const struct sb_db_options *opts, struct sb_db_reader **out,
                      struct sb_buf *err);
/* Close (owner thread; any snapshot is ended). NULL is ignored. */
void sb_db_reader_close(struct sb_db_reader *reader);
/* The connection with no snapshot open (any is ended first): for callers
 * that run their own transactions. Borrowed. */
sqlite3 *sb_db_reader_conn(struct sb_db_reader *reader);
/* The connection inside a read transaction that sees every commit counted
 * in *commits (read the count before calling). commits NULL: a new
 * transaction that sb_db_reader_done always ends. Pair with
 * sb_db_reader_done; nothing else may end the transaction in between.
 * Returns NULL with err when the transaction cannot begin (no done then). */
sqlite3 *sb_db_reader_snapshot(struct sb_db_reader *reader, const uint64_t *commits,
                               struct sb_buf *err);
/* Done with the snapshot; keep false ends it (after an error). */
void sb_db_reader_done(struct sb_db_reader *reader, bool keep);
/* Whether a snapshot is open (for tests). */
bool sb_db_reader_in_snapshot(struct sb_db_reader *reader);

#endif
