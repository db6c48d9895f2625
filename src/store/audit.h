/* The tamper-evident audit trail: the table _sb_audit, where every write
 * appends one entry in the same transaction as the change, each entry
 * chained to the previous one by SHA-256 (docs/audit.md defines the hash so
 * that an outside tool can recompute it). Values of pii fields are recorded
 * as keyed BLAKE2b hashes ("hmac:<hex>"), never in clear.
 *
 * The API layer builds an entry inside its write unit (store/writer.h) and
 * calls sb_audit_append on the writer's connection; a unit that rolls back
 * takes its entry with it. `specbase audit` (src/cli/audit.c) verifies,
 * exports the head of, and lists the trail. */
#ifndef SB_STORE_AUDIT_H
#define SB_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "spec/model.h"
#include "util/buf.h"

/* Operations an entry records, in one list: SB_AUDIT_OP(NAME, "text"). */
#define SB_AUDIT_OP_LIST                                                                           \
    SB_AUDIT_OP(CREATE, "create")                                                                  \
    SB_AUDIT_OP(UPDATE, "update")                                                                  \
    SB_AUDIT_OP(DELETE, "delete")                                                                  \
    SB_AUDIT_OP(SIGNUP, "signup")                                                                  \
    SB_AUDIT_OP(SIGNIN, "signin")                                                                  \
    SB_AUDIT_OP(SIGNIN_FAILED, "signin_failed")                                                    \
    SB_AUDIT_OP(TOKEN_REVOKED, "token_revoked")                                                    \
    SB_AUDIT_OP(MIGRATION, "migration")                                                            \
    SB_AUDIT_OP(RULE_DENIED, "rule_denied")                                                        \
    SB_AUDIT_OP(ACTION, "action")                                                                  \
    SB_AUDIT_OP(THREAT, "threat")

enum sb_audit_op {
#define SB_AUDIT_OP(name, text) SB_AUDIT_OP_##name,
    SB_AUDIT_OP_LIST
#undef SB_AUDIT_OP
    SB_AUDIT_OP__COUNT
};

/* The stored name of op ("create", ...; static string), NULL if out of range. */
const char *sb_audit_op_name(enum sb_audit_op op);

#define SB_AUDIT_HASH_HEX 64           /* SHA-256 as lowercase hex */
#define SB_AUDIT_KEY_MIN 32            /* pii key length, bytes */
#define SB_AUDIT_KEY_MAX 64            /* crypto_generichash_KEYBYTES_MAX */
#define SB_AUDIT_PII_HEX 64            /* BLAKE2b-256 of a pii value, as hex */

/* The key of the pii hashes. Holds the key bytes; wipe with
 * sb_audit_key_wipe when done. */
struct sb_audit_key {
    unsigned char bytes[SB_AUDIT_KEY_MAX];
    size_t len; /* 0: no key (pii values are then refused: see changes_add) */
};

/* Load the pii key: SPECBASE_AUDIT_KEY when set, else the file
 * DB_PATH.audit-key, created (O_EXCL, mode 0600, 64 random hex characters and
 * a newline) when missing. The key is the text (trailing whitespace removed),
 * SB_AUDIT_KEY_MIN..SB_AUDIT_KEY_MAX bytes. A file group or others may access
 * is refused. *created (may be NULL) says whether the file was made. Returns
 * 0, or -1 with a message in err. */
int sb_audit_key_load(const char *db_path, struct sb_audit_key *key, bool *created,
                      struct sb_buf *err);
/* Set the key from len bytes (tests, tools). Returns 0, or -1 when len is
 * out of range. */
int sb_audit_key_set(struct sb_audit_key *key, const void *bytes, size_t len);
/* Zero the key. */
void sb_audit_key_wipe(struct sb_audit_key *key);

/* The keyed hash of one value's JSON text: "hmac:" and 64 hex digits,
 * appended to out. */
void sb_audit_pii_hash(const struct sb_audit_key *key, const char *json, size_t len,
                       struct sb_buf *out);

/* Add field -> {"old": old_json, "new": new_json} to the JSON object being
 * built in changes (empty buffer: a new object; otherwise it must hold what
 * earlier calls built, and stays a complete object after each call).
 * old_json / new_json are borrowed JSON texts (compact, valid: the caller's
 * own serialization), NULL meaning JSON null (no old value on create, no new
 * one on delete). When f has SB_FIELD_PII, each non-null value is replaced
 * by its keyed hash; with no key (key NULL or len 0) it becomes "hmac:" with
 * no digits, so a pii value is never written in clear. */
void sb_audit_changes_add(struct sb_buf *changes, const struct sb_field *f, const char *old_json,
                          const char *new_json, const struct sb_audit_key *key);
/* The same for a name that is not a model field (sign-in email, migration
 * plan...); pii says whether to hash. */
void sb_audit_changes_add_name(struct sb_buf *changes, const char *name, bool pii,
                               const char *old_json, const char *new_json,
                               const struct sb_audit_key *key);

/* One entry to append. Every pointer is borrowed for the call. */
struct sb_audit_entry {
    const char *at;         /* 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; NULL: now */
    const char *actor_sub;  /* NULL when anonymous */
    const char *actor_role;
    const char *actor_addr;
    const char *request_id;
    enum sb_audit_op op;
    const char *collection; /* NULL when none */
    bool has_row_id;
    int64_t row_id;
    const char *changes;    /* a compact JSON object; NULL: "{}" */
};

/* Create _sb_audit (STRICT) if missing. Returns 0, or SB_STORE_EDB with
 * the message in err. */
int sb_audit_schema(sqlite3 *db, struct sb_buf *err);

/* Append entry: seq = last seq + 1, prev_hash = the last hash (64 zeros
 * for the first), hash computed. Runs inside the caller's transaction or
 * savepoint and never begins or ends one; the single writer serializes
 * appends. On the writer's thread and connection the last (seq, hash) is
 * kept in memory while the writer's epoch holds (store/writer.h: one
 * transaction, no unit rolled back), so only the first entry of each
 * transaction reads it from the table; elsewhere every append reads it. A
 * write unit must therefore not roll back, to a savepoint of its own, work
 * that appended entries (the writer rolls failed units back itself).
 * Statements are cached per thread and connection (store/stmt.h:
 * sb_stmt_forget before closing db). Returns 0, or SB_STORE_EDB with the
 * message in err (the caller rolls its unit back: no write without its
 * entry). */
int sb_audit_append(sqlite3 *db, const struct sb_audit_entry *entry, struct sb_buf *err);

/* The hash of one entry as docs/audit.md defines it, into hash (65 bytes,
 * lowercase hex, NUL-terminated). seq, at, op text, changes text as
 * stored; NULL pointers are SQL NULL; row_id is NULL when !has_row_id. */
void sb_audit_hash(const char *prev_hash, int64_t seq, const char *at, const char *actor_sub,
                   const char *actor_role, const char *actor_addr, const char *request_id,
                   const char *op, const char *collection, bool has_row_id, int64_t row_id,
                   const char *changes, char hash[SB_AUDIT_HASH_HEX + 1]);

/* The last entry: *seq 0 and 64 zeros when the trail is empty. Returns 0,
 * or SB_STORE_EDB (no table, or a database error) with the message in err. */
int sb_audit_head(sqlite3 *db, int64_t *seq, char hash[SB_AUDIT_HASH_HEX + 1], struct sb_buf *err);

/* Whether db has the _sb_audit table. */
bool sb_audit_exists(sqlite3 *db);

enum sb_audit_problem {
    SB_AUDIT_OK,
    SB_AUDIT_MODIFIED,  /* an entry's content does not match its hash */
    SB_AUDIT_DELETED,   /* entries are missing (a seq gap, or a broken link) */
    SB_AUDIT_INSERTED,  /* an entry that was not part of the chain */
    SB_AUDIT_REORDERED, /* an entry moved to another seq */
};

/* "ok", "modified", "deleted", "inserted", "reordered" (static). */
const char *sb_audit_problem_name(enum sb_audit_problem problem);

struct sb_audit_report {
    int64_t n_entries;                 /* entries read */
    int64_t head_seq;                  /* the last entry (0 when empty) */
    char head_hash[SB_AUDIT_HASH_HEX + 1];
    enum sb_audit_problem problem;     /* SB_AUDIT_OK when the chain holds */
    int64_t seq;                       /* the first bad seq */
    char detail[256];                  /* one line about it */
};

/* Walk the whole chain in seq order and report the first problem in out
 * (out->problem == SB_AUDIT_OK when there is none). Returns 0 when the walk
 * could be done (whatever it found), SB_STORE_EDB with err otherwise. */
int sb_audit_verify(sqlite3 *db, struct sb_audit_report *out, struct sb_buf *err);

#endif
