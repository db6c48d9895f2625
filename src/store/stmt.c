/* Thread-local prepared statement cache, see stmt.h. An open-addressing
 * table keyed by (connection, SQL text); when it fills up, the whole
 * thread's cache for that connection is finalized and starts over, which is
 * rare (the number of query shapes a spec produces in practice is small)
 * and keeps the code simple. */
#include "store/stmt.h"

#include <stdint.h>
#include <string.h>

#define CACHE_SLOTS 512 /* power of two */
#define CACHE_MAX   384 /* entries before a flush */

struct entry {
    sqlite3 *db;
    sqlite3_stmt *stmt;
    uint64_t hash;
    size_t len;
};

static _Thread_local struct entry cache[CACHE_SLOTS];
static _Thread_local size_t cache_used;

/* Eight bytes a step: the texts are long (a read's column list alone is
 * hundreds of bytes) and hashed on every request, and a byte-at-a-time
 * hash costs a multiply per byte. A hit is confirmed by comparing texts. */
static uint64_t hash_sql(sqlite3 *db, const char *sql, size_t len)
{
    const uint64_t mul = 0xff51afd7ed558ccdu;
    uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)(uintptr_t)db ^ (uint64_t)len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, sql + i, 8);
        h = (h ^ word) * mul;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    memcpy(&tail, sql + i, len - i);
    h = (h ^ tail) * mul;
    return h ^ (h >> 29);
}

static void flush(void)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].stmt)
            sqlite3_finalize(cache[i].stmt);
        memset(&cache[i], 0, sizeof(cache[i]));
    }
    cache_used = 0;
}

void sb_stmt_forget(sqlite3 *db)
{
    /* rebuild the table without db's statements (deletions would break
     * the probe chains otherwise) */
    struct entry keep[CACHE_SLOTS];
    size_t n_keep = 0;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (!cache[i].stmt)
            continue;
        if (cache[i].db == db)
            sqlite3_finalize(cache[i].stmt);
        else
            keep[n_keep++] = cache[i];
    }
    memset(cache, 0, sizeof(cache));
    cache_used = 0;
    for (size_t k = 0; k < n_keep; k++) {
        size_t i = keep[k].hash & (CACHE_SLOTS - 1);
        while (cache[i].stmt)
            i = (i + 1) & (CACHE_SLOTS - 1);
        cache[i] = keep[k];
        cache_used++;
    }
}

int sb_stmt_get(sqlite3 *db, const char *sql, size_t len, sqlite3_stmt **out, struct sb_buf *err)
{
    uint64_t h = hash_sql(db, sql, len);
    size_t i = h & (CACHE_SLOTS - 1);
    for (; cache[i].stmt; i = (i + 1) & (CACHE_SLOTS - 1)) {
        struct entry *e = &cache[i];
        if (e->hash == h && e->db == db && e->len == len && memcmp(sqlite3_sql(e->stmt), sql, len) == 0) {
            *out = e->stmt;
            return SQLITE_OK;
        }
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        if (err)
            sb_buf_printf(err, "%s", sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        return rc;
    }
    if (cache_used >= CACHE_MAX) {
        flush();
        i = h & (CACHE_SLOTS - 1);
    }
    cache[i] = (struct entry){.db = db, .stmt = stmt, .hash = h, .len = len};
    cache_used++;
    *out = stmt;
    return SQLITE_OK;
}

void sb_stmt_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

int sb_stmt_bind(sqlite3_stmt *stmt, const struct sb_value *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct sb_value *v = &values[i];
        int idx = (int)i + 1, rc;
        switch (v->kind) {
        case SB_VAL_INT: rc = sqlite3_bind_int64(stmt, idx, v->i); break;
        case SB_VAL_FLOAT: rc = sqlite3_bind_double(stmt, idx, v->f); break;
        case SB_VAL_TEXT: rc = sqlite3_bind_text(stmt, idx, v->text, (int)v->len, SQLITE_STATIC); break;
        default: rc = sqlite3_bind_null(stmt, idx); break;
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

