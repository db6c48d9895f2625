/* The audit trail (audit.h): the _sb_audit table, appending chained
 * entries inside the caller's write unit, the pii key and keyed hashes, the
 * changes JSON, and the verifier that walks the chain and names the first
 * entry that was modified, deleted, inserted or reordered.
 *
 * The entry hash is SHA-256 over the previous hash and a length-prefixed
 * serialization of every other column (docs/audit.md, "The hash"), so that
 * no two different entries serialize alike and an outside tool can
 * recompute it in a few lines. Appends use the thread's statement cache
 * (store/stmt.h), as the API's write units do; the verifier and the head
 * use their own statements, since they run on tools' connections. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/stmt.h"
#include "store/writer.h"
#include "util/die.h"
#include "util/json_out.h"
#include "util/secret_file.h"

static const char zero_hash[SB_AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char *const op_names[] = {
#define SB_AUDIT_OP(name, text) text,
    SB_AUDIT_OP_LIST
#undef SB_AUDIT_OP
};

const char *sb_audit_op_name(enum sb_audit_op op)
{
    return (unsigned)op < SB_AUDIT_OP__COUNT ? op_names[op] : NULL;
}

const char *sb_audit_problem_name(enum sb_audit_problem problem)
{
    switch (problem) {
    case SB_AUDIT_OK:
        return "ok";
    case SB_AUDIT_MODIFIED:
        return "modified";
    case SB_AUDIT_DELETED:
        return "deleted";
    case SB_AUDIT_INSERTED:
        return "inserted";
    case SB_AUDIT_REORDERED:
        return "reordered";
    }
    return "unknown";
}

/* ---- the pii key -------------------------------------------------------- */

int sb_audit_key_set(struct sb_audit_key *key, const void *bytes, size_t len)
{
    if (len < SB_AUDIT_KEY_MIN || len > SB_AUDIT_KEY_MAX)
        return -1;
    memcpy(key->bytes, bytes, len);
    key->len = len;
    return 0;
}

void sb_audit_key_wipe(struct sb_audit_key *key)
{
    sodium_memzero(key, sizeof(*key));
}

/* A new key: 32 random bytes as 64 hex characters. */
static size_t make_key(char *text, size_t cap)
{
    unsigned char raw[32];
    _Static_assert(2 * sizeof(raw) + 1 <= SB_AUDIT_KEY_MAX + 8, "a new key fits the buffer");
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(text, cap, raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    return 2 * sizeof(raw);
}

int sb_audit_key_load(const char *db_path, struct sb_audit_key *key, bool *created,
                      struct sb_buf *err)
{
    memset(key, 0, sizeof(*key));
    if (created)
        *created = false;
    const char *env = getenv("SPECBASE_AUDIT_KEY");
    if (env && *env) {
        if (sb_audit_key_set(key, env, strlen(env)) != 0) {
            sb_buf_printf(err, "SPECBASE_AUDIT_KEY must be %d to %d bytes long", SB_AUDIT_KEY_MIN,
                          SB_AUDIT_KEY_MAX);
            return -1;
        }
        return 0;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s.audit-key", db_path) >= sizeof(path)) {
        sb_buf_puts(err, "the database path is too long");
        return -1;
    }
    char text[SB_AUDIT_KEY_MAX + 8]; /* room to see a key that is too long */
    size_t n = 0;
    int rc = sb_secret_file("audit key file", path, true, make_key, text, sizeof(text), &n, created,
                            err);
    if (rc == 0 && (rc = sb_audit_key_set(key, text, n)) != 0)
        sb_buf_printf(err, "audit key file %s: the key must be %d to %d bytes long", path,
                      SB_AUDIT_KEY_MIN, SB_AUDIT_KEY_MAX);
    sodium_memzero(text, sizeof(text));
    return rc;
}

void sb_audit_pii_hash(const struct sb_audit_key *key, const char *json, size_t len,
                       struct sb_buf *out)
{
    sb_buf_puts(out, "hmac:");
    if (!key || key->len == 0)
        return;
    unsigned char digest[32];
    char hex[2 * sizeof(digest) + 1];
    crypto_generichash(digest, sizeof(digest), (const unsigned char *)json, len, key->bytes,
                       key->len);
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    sb_buf_append(out, hex, 2 * sizeof(digest));
}

/* ---- changes ------------------------------------------------------------ */

static void put_value(struct sb_buf *changes, const char *json, bool pii,
                      const struct sb_audit_key *key)
{
    if (!json) {
        sb_buf_puts(changes, "null");
    } else if (pii) {
        /* the hash text is [a-z0-9:] only: no escaping needed */
        sb_buf_putc(changes, '"');
        sb_audit_pii_hash(key, json, strlen(json), changes);
        sb_buf_putc(changes, '"');
    } else {
        sb_buf_puts(changes, json);
    }
}

void sb_audit_changes_add_name(struct sb_buf *changes, const char *name, bool pii,
                               const char *old_json, const char *new_json,
                               const struct sb_audit_key *key)
{
#ifdef SB_BENCH_NO_AUDIT
    (void)name, (void)pii, (void)old_json, (void)new_json, (void)key;
    if (changes->len == 0)
        sb_buf_puts(changes, "{}");
    return;
#endif
    if (changes->len == 0) {
        sb_buf_putc(changes, '{');
    } else if (changes->data[changes->len - 1] == '}') {
        changes->data[--changes->len] = '\0';
        if (changes->len > 1)
            sb_buf_putc(changes, ',');
    }
    sb_json_string(changes, name, strlen(name));
    sb_buf_puts(changes, ":{\"old\":");
    put_value(changes, old_json, pii, key);
    sb_buf_puts(changes, ",\"new\":");
    put_value(changes, new_json, pii, key);
    sb_buf_puts(changes, "}}");
}

void sb_audit_changes_add(struct sb_buf *changes, const struct sb_field *f, const char *old_json,
                          const char *new_json, const struct sb_audit_key *key)
{
    sb_audit_changes_add_name(changes, f->name, (f->flags & SB_FIELD_PII) != 0, old_json,
                              new_json, key);
}

/* ---- the hash ----------------------------------------------------------- */

/* One column's value: text (ptr, len), integer, or NULL. */
struct column {
    enum { COL_NULL, COL_INT, COL_TEXT } kind;
    const char *text;
    size_t len;
    int64_t ival;
};

#define N_HASHED 10 /* seq .. changes */

static struct column text_col(const char *text)
{
    struct column col = {COL_NULL, NULL, 0, 0};
    if (text) {
        col.kind = COL_TEXT;
        col.text = text;
        col.len = strlen(text);
    }
    return col;
}

static struct column int_col(bool present, int64_t value)
{
    struct column col = {present ? COL_INT : COL_NULL, NULL, 0, value};
    return col;
}

/* SHA-256 through OpenSSL when it can be fetched (it uses the CPU's SHA
 * instructions where there are some: about four times libsodium's portable
 * code on an entry, which the single writer computes for every write), else
 * libsodium's; both compute the same digest. The algorithm is fetched once
 * per process, and each thread keeps a digest context (freed when the
 * thread exits): allocating one per entry cost as much as the hashing. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static bool sha256_ctx_ok;

static void free_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_ctx_ok = pthread_key_create(&sha256_ctx_key, free_ctx) == 0;
}

static void sha256(const unsigned char *data, size_t len, unsigned char digest[32])
{
    pthread_once(&sha256_once, sha256_init);
    EVP_MD_CTX *ctx = sha256_ctx_ok ? pthread_getspecific(sha256_ctx_key) : NULL;
    if (!ctx && sha256_md && sha256_ctx_ok && (ctx = EVP_MD_CTX_new()) &&
        pthread_setspecific(sha256_ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    unsigned int n = 0;
    if (ctx && EVP_DigestInit_ex(ctx, sha256_md, NULL) == 1 &&
        EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, digest, &n) == 1 &&
        n == 32)
        return;
    crypto_hash_sha256(digest, data, len);
}

/* The decimal of v at out (room for 20 characters); returns its length. */
static size_t put_decimal(char *out, int64_t v)
{
    char digits[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = digits[--n];
    return len;
}

/* SHA-256 over prev (64 bytes) and cols, as docs/audit.md says: NULL is
 * "n", an integer "i<decimal>;", a text "s<byte length>:<bytes>". The
 * message is laid out in one buffer and hashed in one call: entries are a
 * few hundred bytes, so the stack holds most of them. */
static void hash_columns(const char *prev, const struct column *cols,
                         char out[SB_AUDIT_HASH_HEX + 1])
{
    size_t size = SB_AUDIT_HASH_HEX;
    for (size_t i = 0; i < N_HASHED; i++)
        size += 24 + (cols[i].kind == COL_TEXT ? cols[i].len : 0);
    unsigned char local[2048];
    unsigned char *msg = size <= sizeof(local) ? local : sb_xmalloc(size);
    memcpy(msg, prev, SB_AUDIT_HASH_HEX);
    size_t len = SB_AUDIT_HASH_HEX;
    for (size_t i = 0; i < N_HASHED; i++) {
        switch (cols[i].kind) {
        case COL_NULL:
            msg[len++] = 'n';
            break;
        case COL_INT:
            msg[len++] = 'i';
            len += put_decimal((char *)msg + len, cols[i].ival);
            msg[len++] = ';';
            break;
        case COL_TEXT:
            msg[len++] = 's';
            len += put_decimal((char *)msg + len, (int64_t)cols[i].len);
            msg[len++] = ':';
            if (cols[i].len)
                memcpy(msg + len, cols[i].text, cols[i].len);
            len += cols[i].len;
            break;
        }
    }
    unsigned char digest[32];
    sha256(msg, len, digest);
    if (msg != local)
        free(msg);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(digest); i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[SB_AUDIT_HASH_HEX] = '\0';
}

void sb_audit_hash(const char *prev_hash, int64_t seq, const char *at, const char *actor_sub,
                   const char *actor_role, const char *actor_addr, const char *request_id,
                   const char *op, const char *collection, bool has_row_id, int64_t row_id,
                   const char *changes, char hash[SB_AUDIT_HASH_HEX + 1])
{
    struct column cols[N_HASHED] = {
        int_col(true, seq),     text_col(at),         text_col(actor_sub),
        text_col(actor_role),   text_col(actor_addr), text_col(request_id),
        text_col(op),           text_col(collection), int_col(has_row_id, row_id),
        text_col(changes),
    };
    char prev[SB_AUDIT_HASH_HEX];
    /* a prev_hash of another length is hashed as its first 64 bytes, padded */
    size_t len = prev_hash ? strnlen(prev_hash, SB_AUDIT_HASH_HEX) : 0;
    memset(prev, 0, sizeof(prev));
    if (len)
        memcpy(prev, prev_hash, len);
    hash_columns(prev, cols, hash);
}

/* ---- schema, append, head ----------------------------------------------- */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS \"_sb_audit\" (\n"
    "  \"seq\" INTEGER PRIMARY KEY,\n"
    "  \"at\" TEXT NOT NULL,\n"
    "  \"actor_sub\" TEXT,\n"
    "  \"actor_role\" TEXT,\n"
    "  \"actor_addr\" TEXT,\n"
    "  \"request_id\" TEXT,\n"
    "  \"op\" TEXT NOT NULL,\n"
    "  \"collection\" TEXT,\n"
    "  \"row_id\" INTEGER,\n"
    "  \"changes\" TEXT NOT NULL,\n"
    "  \"prev_hash\" TEXT NOT NULL,\n"
    "  \"hash\" TEXT NOT NULL\n"
    ") STRICT;\n";

int sb_audit_schema(sqlite3 *db, struct sb_buf *err)
{
    struct sb_buf msg;
    sb_buf_init(&msg);
    int rc = sb_db_exec(db, schema_sql, &msg);
    if (rc != 0)
        sb_buf_printf(err, "creating _sb_audit: %s", sb_buf_str(&msg));
    sb_buf_free(&msg);
    return rc;
}

bool sb_audit_exists(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_sb_audit'",
                           -1, &stmt, NULL) == SQLITE_OK)
        found = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);
    return found;
}

/* 'YYYY-MM-DDTHH:MM:SS.ffffffZ' for now, UTC. The date and time up to the
 * second are formatted once per second and thread (the writer appends many
 * entries per second), the microseconds every time. */
static void format_now(char out[48])
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    memcpy(out, cached, cached_len);
    char *p = out + cached_len;
    long us = ts.tv_nsec / 1000 % 1000000;
    *p++ = '.';
    for (int i = 5; i >= 0; i--) {
        p[i] = (char)('0' + us % 10);
        us /= 10;
    }
    p += 6;
    *p++ = 'Z';
    *p = '\0';
}

static const char last_sql[] = "SELECT seq, hash FROM _sb_audit ORDER BY seq DESC LIMIT 1";

/* The last (seq, hash) through statement stmt (stepped and left for the
 * caller to reset). */
static int read_last(sqlite3 *db, sqlite3_stmt *stmt, int64_t *seq, char hash[SB_AUDIT_HASH_HEX + 1],
                     struct sb_buf *err)
{
    int step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        *seq = 0;
        memcpy(hash, zero_hash, sizeof(zero_hash));
        return 0;
    }
    if (step != SQLITE_ROW) {
        sb_db_error(db, "reading the audit head", err);
        return SB_STORE_EDB;
    }
    *seq = sqlite3_column_int64(stmt, 0);
    const char *text = (const char *)sqlite3_column_text(stmt, 1);
    size_t len = text ? (size_t)sqlite3_column_bytes(stmt, 1) : 0;
    memset(hash, 0, SB_AUDIT_HASH_HEX + 1);
    if (text)
        memcpy(hash, text, len < SB_AUDIT_HASH_HEX ? len : SB_AUDIT_HASH_HEX);
    return 0;
}

int sb_audit_head(sqlite3 *db, int64_t *seq, char hash[SB_AUDIT_HASH_HEX + 1], struct sb_buf *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, last_sql, -1, &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "reading the audit head", err);
        return SB_STORE_EDB;
    }
    int rc = read_last(db, stmt, seq, hash, err);
    sqlite3_finalize(stmt);
    return rc;
}

/* The chain's head as this thread last wrote it on db, kept while the
 * writer's epoch (store/writer.h) stays the same: within one transaction of
 * the single writer, no one else writes and nothing the writer's units
 * appended is undone without the epoch moving on, so the head need not be
 * read back before every entry; the first entry of each transaction, and
 * the first after a unit rolled back, read it. Off the writer's thread the
 * epoch is 0 and the head is always read. Should a guess ever be stale all
 * the same, an entry at an existing seq fails on the primary key and is
 * retried after reading the head. */
struct head_cache {
    sqlite3 *db;
    unsigned long long epoch; /* 0: no guess */
    int64_t seq;
    char hash[SB_AUDIT_HASH_HEX + 1];
};
static _Thread_local struct head_cache head_cache;

/* Short: the statement cache hashes the text on every lookup. The columns
 * are the table's (sb_audit_schema), in order. */
static const char insert_sql[] =
    "INSERT INTO _sb_audit VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";

/* The entry with its time, operation name and changes filled in. */
struct fields {
    const char *at, *op, *changes;
    const struct sb_audit_entry *entry;
};

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, index);
}

/* Insert the entry as seq after prev_hash, its hash into hash. Returns 0,
 * or SB_STORE_EDB with the message in err; when guessed (the head came from
 * head_cache) and seq is taken, *stale is set instead and err left alone. */
static int insert_entry(sqlite3 *db, const struct fields *f, int64_t seq, const char *prev_hash,
                        bool guessed, char hash[SB_AUDIT_HASH_HEX + 1], bool *stale,
                        struct sb_buf *err)
{
    const struct sb_audit_entry *e = f->entry;
    *stale = false;
    sb_audit_hash(prev_hash, seq, f->at, e->actor_sub, e->actor_role, e->actor_addr, e->request_id,
                  f->op, e->collection, e->has_row_id, e->row_id, f->changes, hash);
    sqlite3_stmt *insert = NULL;
    if (sb_stmt_get(db, insert_sql, sizeof(insert_sql) - 1, &insert, err) != 0)
        return SB_STORE_EDB;
    sqlite3_bind_int64(insert, 1, seq);
    bind_text(insert, 2, f->at);
    bind_text(insert, 3, e->actor_sub);
    bind_text(insert, 4, e->actor_role);
    bind_text(insert, 5, e->actor_addr);
    bind_text(insert, 6, e->request_id);
    bind_text(insert, 7, f->op);
    bind_text(insert, 8, e->collection);
    if (e->has_row_id)
        sqlite3_bind_int64(insert, 9, e->row_id);
    else
        sqlite3_bind_null(insert, 9);
    bind_text(insert, 10, f->changes);
    bind_text(insert, 11, prev_hash);
    bind_text(insert, 12, hash);
    int rc = 0;
    if (sqlite3_step(insert) != SQLITE_DONE) {
        int code = sqlite3_extended_errcode(db);
        if (guessed && code == SQLITE_CONSTRAINT_PRIMARYKEY)
            *stale = true;
        else
            sb_db_error(db, "appending to the audit trail", err);
        rc = SB_STORE_EDB;
    }
    sb_stmt_done(insert);
    return rc;
}

int sb_audit_append(sqlite3 *db, const struct sb_audit_entry *entry, struct sb_buf *err)
{
#ifdef SB_BENCH_NO_AUDIT
    /* bench/audit.sh --http only: the "without" of its end-to-end
     * comparison, a binary built on the side; never defined by the Makefile,
     * so no build of specbase can be told to skip its trail */
    (void)db;
    (void)entry;
    (void)err;
    return 0;
#endif
    struct fields f = {.op = sb_audit_op_name(entry->op), .entry = entry};
    if (!f.op) {
        sb_buf_printf(err, "audit entry: unknown operation %d", (int)entry->op);
        return SB_STORE_EDB;
    }
    char now[48];
    f.at = entry->at;
    if (!f.at) {
        format_now(now);
        f.at = now;
    }
    f.changes = entry->changes ? entry->changes : "{}";
    char hash[SB_AUDIT_HASH_HEX + 1];
    bool stale = false;
    struct head_cache *head = &head_cache;
    unsigned long long epoch = sb_writer_epoch(db);
    if (epoch != 0 && head->epoch == epoch && head->db == db) {
        int64_t seq = head->seq + 1;
        int rc = insert_entry(db, &f, seq, head->hash, true, hash, &stale, err);
        if (rc == 0) {
            head->seq = seq;
            memcpy(head->hash, hash, sizeof(hash));
            return 0;
        }
        if (!stale)
            return rc;
    }
    /* no guess, or a stale one: read the head */
    head->epoch = 0;
    sqlite3_stmt *last = NULL;
    if (sb_stmt_get(db, last_sql, sizeof(last_sql) - 1, &last, err) != 0)
        return SB_STORE_EDB;
    int64_t prev_seq;
    char prev_hash[SB_AUDIT_HASH_HEX + 1];
    int rc = read_last(db, last, &prev_seq, prev_hash, err);
    sb_stmt_done(last);
    if (rc != 0)
        return rc;
    rc = insert_entry(db, &f, prev_seq + 1, prev_hash, false, hash, &stale, err);
    if (rc != 0)
        return rc;
    head->db = db;
    head->epoch = epoch;
    head->seq = prev_seq + 1;
    memcpy(head->hash, hash, sizeof(hash));
    return 0;
}

/* ---- verify ------------------------------------------------------------- */

/* The columns of one row of the walk (borrowed from the statement). */
struct row {
    struct column cols[N_HASHED];
    const char *prev_hash, *hash;
    size_t prev_len, hash_len;
};

static struct column read_col(sqlite3_stmt *stmt, int i)
{
    struct column col = {COL_NULL, NULL, 0, 0};
    switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL:
        break;
    case SQLITE_INTEGER:
        col.kind = COL_INT;
        col.ival = sqlite3_column_int64(stmt, i);
        break;
    default:
        col.kind = COL_TEXT;
        col.text = (const char *)sqlite3_column_text(stmt, i);
        col.len = (size_t)sqlite3_column_bytes(stmt, i);
        if (!col.text)
            col.text = "";
        break;
    }
    return col;
}

static void read_row(sqlite3_stmt *stmt, struct row *row)
{
    for (int i = 0; i < N_HASHED; i++)
        row->cols[i] = read_col(stmt, i);
    row->prev_hash = (const char *)sqlite3_column_text(stmt, N_HASHED);
    row->prev_len = row->prev_hash ? (size_t)sqlite3_column_bytes(stmt, N_HASHED) : 0;
    row->hash = (const char *)sqlite3_column_text(stmt, N_HASHED + 1);
    row->hash_len = row->hash ? (size_t)sqlite3_column_bytes(stmt, N_HASHED + 1) : 0;
}

static bool is_hash(const char *text, size_t len, const char *want)
{
    return text && len == SB_AUDIT_HASH_HEX && memcmp(text, want, SB_AUDIT_HASH_HEX) == 0;
}

/* The row's hash computed over its own columns, with seq replaced. */
static void row_hash(const struct row *row, int64_t seq, char out[SB_AUDIT_HASH_HEX + 1])
{
    struct column cols[N_HASHED];
    memcpy(cols, row->cols, sizeof(cols));
    cols[0] = int_col(true, seq);
    char prev[SB_AUDIT_HASH_HEX];
    memset(prev, 0, sizeof(prev));
    if (row->prev_hash)
        memcpy(prev, row->prev_hash, row->prev_len < sizeof(prev) ? row->prev_len : sizeof(prev));
    hash_columns(prev, cols, out);
}

/* The seq this row was written as, when its hash holds for another seq in
 * 1..max_seq; 0 when none does (its content changed). The search runs
 * once, on the failure path. */
#define MAX_SEQ_SEARCH 10000000
static int64_t written_seq(const struct row *row, int64_t max_seq)
{
    if (!row->hash || row->hash_len != SB_AUDIT_HASH_HEX)
        return 0;
    if (max_seq > MAX_SEQ_SEARCH)
        max_seq = MAX_SEQ_SEARCH;
    char hash[SB_AUDIT_HASH_HEX + 1];
    for (int64_t seq = 1; seq <= max_seq + 1; seq++) {
        if (row->cols[0].kind == COL_INT && seq == row->cols[0].ival)
            continue;
        row_hash(row, seq, hash);
        if (memcmp(hash, row->hash, SB_AUDIT_HASH_HEX) == 0)
            return seq;
    }
    return 0;
}

/* The seq of the entry whose hash is text (len bytes), 0 when none. */
static int64_t seq_of_hash(sqlite3 *db, const char *text, size_t len)
{
    sqlite3_stmt *stmt = NULL;
    int64_t seq = 0;
    if (text && sqlite3_prepare_v2(db, "SELECT \"seq\" FROM \"_sb_audit\" WHERE \"hash\" = ?1 LIMIT 1",
                                   -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, text, (int)len, SQLITE_TRANSIENT);
        if (sqlite3_step(stmt) == SQLITE_ROW)
            seq = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return seq;
}

static int64_t max_seq_of(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int64_t seq = 0;
    if (sqlite3_prepare_v2(db, "SELECT max(\"seq\") FROM \"_sb_audit\"", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        seq = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return seq;
}

static void report(struct sb_audit_report *out, enum sb_audit_problem problem, int64_t seq,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct sb_audit_report *out, enum sb_audit_problem problem, int64_t seq,
                   const char *fmt, ...)
{
    out->problem = problem;
    out->seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
    va_end(ap);
}

/* Name the problem at a row whose seq is the expected one. */
static void diagnose(sqlite3 *db, const struct row *row, struct sb_audit_report *out)
{
    int64_t seq = row->cols[0].ival;
    char hash[SB_AUDIT_HASH_HEX + 1];
    row_hash(row, seq, hash);
    if (row->prev_len != SB_AUDIT_HASH_HEX) {
        report(out, SB_AUDIT_MODIFIED, seq, "entry %" PRId64 " has a malformed prev_hash", seq);
        return;
    }
    if (!is_hash(row->hash, row->hash_len, hash)) {
        int64_t was = written_seq(row, max_seq_of(db));
        if (was == 0)
            report(out, SB_AUDIT_MODIFIED, seq,
                   "entry %" PRId64 " does not match its hash: its content was changed", seq);
        else if (was > seq && seq_of_hash(db, row->prev_hash, row->prev_len) == 0)
            report(out, SB_AUDIT_DELETED, seq,
                   "entry %" PRId64 " was written as %" PRId64
                   ": the entries before it were deleted and the rest renumbered",
                   seq, was);
        else if (was > seq)
            report(out, SB_AUDIT_REORDERED, seq,
                   "entry %" PRId64 " was written as %" PRId64 ": entries were reordered", seq,
                   was);
        else
            report(out, SB_AUDIT_INSERTED, was,
                   "entry %" PRId64 " was written as %" PRId64
                   ": entries were inserted at %" PRId64,
                   seq, was, was);
        return;
    }
    /* the entry holds by itself but does not follow its predecessor */
    int64_t linked = seq_of_hash(db, row->prev_hash, row->prev_len);
    bool genesis = is_hash(row->prev_hash, row->prev_len, zero_hash);
    if (genesis || linked == 0)
        report(out, SB_AUDIT_INSERTED, seq,
               "entry %" PRId64 " is not chained to entry %" PRId64 ": it was inserted", seq,
               seq - 1);
    else if (linked >= seq)
        report(out, SB_AUDIT_REORDERED, seq,
               "entry %" PRId64 " follows entry %" PRId64 " in the chain: entries were reordered",
               seq, linked);
    else
        report(out, SB_AUDIT_DELETED, linked + 1,
               "entry %" PRId64 " follows entry %" PRId64 " in the chain: entries between were "
               "deleted",
               seq, linked);
}

int sb_audit_verify(sqlite3 *db, struct sb_audit_report *out, struct sb_buf *err)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->head_hash, zero_hash, sizeof(zero_hash));
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT \"seq\", \"at\", \"actor_sub\", \"actor_role\", \"actor_addr\", "
                           "\"request_id\", \"op\", \"collection\", \"row_id\", \"changes\", "
                           "\"prev_hash\", \"hash\" FROM \"_sb_audit\" ORDER BY \"seq\"",
                           -1, &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "reading the audit trail", err);
        return SB_STORE_EDB;
    }
    int64_t expected_seq = 1;
    char expected_prev[SB_AUDIT_HASH_HEX + 1];
    memcpy(expected_prev, zero_hash, sizeof(zero_hash));
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct row row;
        read_row(stmt, &row);
        int64_t seq = row.cols[0].ival;
        out->n_entries++;
        if (seq != expected_seq) {
            if (seq > expected_seq)
                report(out, SB_AUDIT_DELETED, expected_seq,
                       "entries %" PRId64 " to %" PRId64 " are missing", expected_seq, seq - 1);
            else
                report(out, SB_AUDIT_INSERTED, seq, "entry %" PRId64 " precedes the first", seq);
            break;
        }
        char hash[SB_AUDIT_HASH_HEX + 1];
        row_hash(&row, seq, hash);
        if (!is_hash(row.hash, row.hash_len, hash) ||
            !is_hash(row.prev_hash, row.prev_len, expected_prev)) {
            diagnose(db, &row, out);
            break;
        }
        memcpy(expected_prev, hash, sizeof(hash));
        out->head_seq = seq;
        memcpy(out->head_hash, hash, sizeof(hash));
        expected_seq++;
    }
    int rc = 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        sb_db_error(db, "reading the audit trail", err);
        rc = SB_STORE_EDB;
    }
    sqlite3_finalize(stmt);
    return rc;
}
