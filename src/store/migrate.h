/* Migrations: from the schema the applied spec produced to the one a new
 * spec produces, with drift detection and a safe apply.
 *
 *   drift   the live schema (sqlite_schema, spec-owned objects only) against
 *           the snapshot stored when the last spec was applied (_sb_spec);
 *           every difference is reported, nothing is "fixed".
 *   plan    the snapshot against sb_ddl_from_model(new model): steps in
 *           words and SQL, each marked when it can lose or rewrite data.
 *           ALTER TABLE ADD COLUMN where SQLite can do it; otherwise SQLite's
 *           table rebuild (create "_sb_new_<t>", copy, drop, rename,
 *           re-create indexes and triggers), foreign keys checked after.
 *   apply   foreign keys off; one transaction: plan from one snapshot, refuse
 *           drift and (unless allowed) data loss, online backup with the
 *           SQLite backup API, run every step, PRAGMA foreign_key_check,
 *           record the spec, its schema snapshot and the plan, COMMIT. Any
 *           failure rolls everything back. The backup and the plan come from
 *           the same read snapshot; the first write upgrades it to the write
 *           lock, which SQLite refuses if another connection committed in
 *           between (then the whole attempt starts over). */
#ifndef SB_STORE_MIGRATE_H
#define SB_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "spec/model.h"
#include "store/ddl.h"
#include "util/arena.h"
#include "util/buf.h"

struct sb_plan_step {
    const char *words;    /* what the step does, one line */
    const char **details; /* sub-items of a table rebuild */
    size_t n_details;
    bool data_loss;   /* can lose or rewrite data */
    const char **sql; /* statements, no ';' */
    size_t n_sql;
    /* A query returning one row with a nonzero first column when the step
     * cannot run (a required field added to a collection that has rows),
     * and the message to give then. NULL when none. */
    const char *guard_sql;
    const char *guard_message;
    bool fk_check; /* sql[0] is PRAGMA foreign_key_check */
};

struct sb_plan {
    struct sb_arena arena; /* owns everything below */
    struct sb_plan_step *steps;
    size_t n_steps, cap;
    bool data_loss; /* some step can lose data */
    bool rebuilds;  /* a table is rebuilt or dropped: keys checked at the end */
    bool first;     /* no spec had been applied */
    bool same_spec; /* the applied spec has the model's hash */
    char hash[65];  /* SHA-256 of the model's canonical JSON */
};

void sb_plan_free(struct sb_plan *plan);

/* The plan as the CLI prints it (and _sb_migrations.plan stores it). */
void sb_plan_print(const struct sb_plan *plan, struct sb_buf *out);

/* The plan from schema old (a snapshot or empty) to new (from model, which
 * supplies the words). Pure: no database. *out is owned (sb_plan_free). */
int sb_migrate_diff(const struct sb_schema *old, const struct sb_schema *new,
                    const struct sb_model *model, struct sb_plan **out, struct sb_buf *err);

/* The spec-owned part of the live schema. */
int sb_migrate_live_schema(sqlite3 *db, struct sb_schema *out, struct sb_buf *err);

/* Compare the live schema with the applied spec's snapshot. Returns 0 when
 * they match, SB_STORE_EDRIFT with one line per difference in report, or
 * SB_STORE_EDB with the error in report. */
int sb_migrate_drift(sqlite3 *db, struct sb_buf *report);

/* Drift check, then the plan from the applied snapshot to model. Returns 0,
 * SB_STORE_EDRIFT (the differences in err) or SB_STORE_EDB. */
int sb_migrate_plan(sqlite3 *db, const struct sb_model *model, struct sb_plan **out,
                    struct sb_buf *err);

struct sb_migrate_options {
    bool allow_data_loss;
    bool backup;             /* take a backup before changing a non-empty database */
    const char *db_path;     /* the backup goes beside it: PATH.backup-<UTC time> */
    const char *source_name; /* the spec file's name, stored */
    const char *source;      /* the spec text, stored (borrowed) */
    size_t source_len;
    const char *version; /* specbase version, stored */
};

struct sb_migrate_outcome {
    struct sb_plan *plan; /* owned by the caller when set (even on failure) */
    char *backup_path;    /* owned; NULL when no backup was taken */
    bool applied;         /* something was committed */
};

/* Apply model to db as described at the top. Returns 0 (out->applied says
 * whether anything changed), SB_STORE_EDRIFT, SB_STORE_EUNSAFE (the plan
 * loses data and that was not allowed; out->plan tells which steps), or
 * SB_STORE_EDB; on every failure the database is as it was. db must have
 * been opened with sb_db_open(SB_DB_WRITE) and have no open transaction. */
int sb_migrate_apply(sqlite3 *db, const struct sb_model *model,
                     const struct sb_migrate_options *opts, struct sb_migrate_outcome *out,
                     struct sb_buf *err);

#endif
