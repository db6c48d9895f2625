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

#endif
