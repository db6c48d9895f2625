/* specbase's own tables in each database (names start with _sb_, which the
 * spec checker reserves):
 *
 *   _sb_meta        key/value: "version" of these tables' layout
 *   _sb_spec        every spec applied: canonical JSON, its SHA-256, the
 *                   source text and name, and the snapshot of the schema it
 *                   produced (JSON array of {type, name, table, sql})
 *   _sb_migrations  the history: from which spec to which, the plan text,
 *                   whether it lost data, the backup taken, when
 *
 * The applied spec is the to_spec of the newest migration. Other modules
 * (audit, auth) add their own _sb_ tables; drift detection ignores every
 * _sb_ table except the full-text tables (_sb_fts_*), which the spec
 * produces. */
#ifndef SB_STORE_META_H
#define SB_STORE_META_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "util/buf.h"

#define SB_META_VERSION 1

/* Lower-case hex SHA-256 of data into out (65 bytes with the NUL). */
void sb_sha256_hex(const void *data, size_t len, char out[65]);

/* Whether the _sb_ tables exist (1), not (0), or the query failed (-1). */
int sb_meta_exists(sqlite3 *db);

/* Create the _sb_ tables when missing; runs inside the caller's transaction.
 * Refuses a database whose _sb_meta version is newer than this binary's. */
int sb_meta_ensure(sqlite3 *db, struct sb_buf *err);

/* The spec applied last (strings owned; sb_applied_free). */
struct sb_applied {
    long long spec_id; /* _sb_spec.id */
    long long migration_id;
    char *hash;
    char *source_name;
    char *source;
    char *schema_json; /* the schema snapshot */
    char *applied_at;
};

/* Load the applied spec: 1 with *out filled, 0 when none has been applied
 * (no _sb_ tables, or no migration yet), SB_STORE_EDB on failure. */
int sb_meta_applied(sqlite3 *db, struct sb_applied *out, struct sb_buf *err);
void sb_applied_free(struct sb_applied *applied);
/* Only the applied spec's hash (65 bytes with the NUL; "" when none): 1, 0
 * when no spec has been applied, SB_STORE_EDB on failure. */
int sb_meta_applied_hash(sqlite3 *db, char hash[65], struct sb_buf *err);

/* What a migration records, all borrowed. */
struct sb_meta_record {
    const char *hash;
    const char *json; /* canonical JSON of the model */
    const char *source_name;
    const char *source;
    size_t source_len;
    const char *schema_json; /* snapshot taken after the plan ran */
    const char *plan;        /* the plan as printed */
    bool data_loss;
    const char *backup;  /* NULL when no backup was taken */
    const char *version; /* specbase version */
};

/* Insert the spec and the migration row (inside the caller's transaction). */
int sb_meta_record(sqlite3 *db, const struct sb_meta_record *rec, struct sb_buf *err);

/* Check the history: every migration starts from the spec the previous one
 * ended at (the first from none), every recorded hash matches its JSON.
 * Returns 0, or SB_STORE_EDB with the first problem in err. Sets *n_out to
 * the number of migrations (n_out may be NULL). */
int sb_meta_verify(sqlite3 *db, long long *n_out, struct sb_buf *err);

#endif
