/* Sign-in throttling, see throttle.h.
 *
 * Two fixed tables, one for accounts and one for addresses. Each is an
 * array of entries with a hash index (chained through entry indexes, so
 * nothing is allocated after creation) and an LRU list; a key is a keyed
 * BLAKE2b hash of the text (the key is random per throttle, so nobody can
 * aim collisions or learn e-mails from a memory dump). One mutex guards
 * both tables: every operation is a few index probes. */
#include "auth/throttle.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/die.h"

#define KEY_BYTES 16
#define EVICT_SCAN 16 /* LRU entries looked at to choose a victim */
/* Attempts in flight are forgotten this long after the last one was let
 * through: a verdict comes within seconds, so a reservation that old was
 * never settled (a caller that forgot release), and must not count forever. */
#define INFLIGHT_TTL 60
#define NIL (-1)

struct entry {
    unsigned char key[KEY_BYTES];
    int32_t count;    /* failures not yet forgotten */
    int32_t inflight; /* attempts allowed by check, verdict pending */
    int64_t last_fail, last_allowed, locked_until;
    int32_t prev, next; /* LRU list (most recent at head); next links the free list */
    int32_t chain;      /* next entry in the same bucket */
};

struct table {
    struct entry *entries;
    int32_t *buckets;
    size_t n_buckets; /* power of two */
    size_t capacity, used;
    int32_t head, tail, free_list;
    struct sb_throttle_limits limits;
};

struct sb_throttle {
    pthread_mutex_t lock;
    struct table accounts, addresses;
    int64_t window, lockout, base_delay, max_delay;
    unsigned char secret[crypto_generichash_KEYBYTES];
};

void sb_throttle_options_default(struct sb_throttle_options *opts)
{
    opts->account = (struct sb_throttle_limits){.soft_after = 5, .lock_after = 10};
    opts->address = (struct sb_throttle_limits){.soft_after = 20, .lock_after = 50};
    opts->window = 900;
    opts->lockout = 900;
    opts->base_delay = 1;
    opts->max_delay = 300;
    opts->capacity = 4096;
}

/* ---- the table ------------------------------------------------------------------ */

static void table_init(struct table *tab, size_t capacity, struct sb_throttle_limits limits)
{
    tab->capacity = capacity;
    tab->n_buckets = 1;
    while (tab->n_buckets < capacity * 2)
        tab->n_buckets <<= 1;
    tab->entries = sb_xcalloc(capacity, sizeof(*tab->entries));
    tab->buckets = sb_xmalloc(tab->n_buckets * sizeof(*tab->buckets));
    for (size_t i = 0; i < tab->n_buckets; i++)
        tab->buckets[i] = NIL;
    for (size_t i = 0; i < capacity; i++)
        tab->entries[i].next = i + 1 < capacity ? (int32_t)(i + 1) : NIL;
    tab->free_list = 0;
    tab->head = tab->tail = NIL;
    tab->used = 0;
    tab->limits = limits;
}

static size_t bucket_of(const struct table *tab, const unsigned char key[KEY_BYTES])
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    return (size_t)(h & (tab->n_buckets - 1));
}

static int32_t table_find(const struct table *tab, const unsigned char key[KEY_BYTES])
{
    for (int32_t i = tab->buckets[bucket_of(tab, key)]; i != NIL; i = tab->entries[i].chain)
        if (memcmp(tab->entries[i].key, key, KEY_BYTES) == 0)
            return i;
    return NIL;
}

static void lru_unlink(struct table *tab, int32_t i)
{
    struct entry *e = &tab->entries[i];
    if (e->prev != NIL)
        tab->entries[e->prev].next = e->next;
    else
        tab->head = e->next;
    if (e->next != NIL)
        tab->entries[e->next].prev = e->prev;
    else
        tab->tail = e->prev;
    e->prev = e->next = NIL;
}

static void lru_push_front(struct table *tab, int32_t i)
{
    struct entry *e = &tab->entries[i];
    e->prev = NIL;
    e->next = tab->head;
    if (tab->head != NIL)
        tab->entries[tab->head].prev = i;
    tab->head = i;
    if (tab->tail == NIL)
        tab->tail = i;
}

static void table_remove(struct table *tab, int32_t i)
{
    struct entry *e = &tab->entries[i];
    int32_t *link = &tab->buckets[bucket_of(tab, e->key)];
    while (*link != i)
        link = &tab->entries[*link].chain;
    *link = e->chain;
    lru_unlink(tab, i);
    memset(e, 0, sizeof(*e));
    e->next = tab->free_list;
    tab->free_list = i;
    tab->used--;
}

/* ---- per-entry state ------------------------------------------------------------- */

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Forget failures after a quiet window (counted from the end of a lockout,
 * so the first failure after a lockout locks again), and reservations that
 * were never settled. */
static void expire(const struct sb_throttle *t, struct entry *e, int64_t now)
{
    if (e->inflight > 0 && now - e->last_allowed >= INFLIGHT_TTL)
        e->inflight = 0;
    if (e->count > 0 && now >= e->locked_until &&
        now - max64(e->last_fail, e->locked_until) >= t->window)
        e->count = 0;
}

/* Nothing to remember: may be dropped first. */
static bool idle(const struct sb_throttle *t, struct entry *e, int64_t now)
{
    expire(t, e, now);
    return e->count == 0 && e->inflight == 0 && now >= e->locked_until;
}

/* The delay before the next attempt after `failures` failures (soft_after
 * and more): base_delay doubled per failure past soft_after, capped. */
static int64_t delay_for(const struct sb_throttle *t, int failures, int soft_after)
{
    int shift = failures - soft_after;
    if (shift > 40)
        shift = 40;
    int64_t delay = t->base_delay << shift;
    return delay > t->max_delay ? t->max_delay : delay;
}

/* Seconds e must wait at now (0: may go ahead). */
static int64_t wait_for(const struct sb_throttle *t, const struct table *tab, struct entry *e,
                        int64_t now)
{
    expire(t, e, now);
    if (now < e->locked_until)
        return e->locked_until - now;
    if (e->count >= tab->limits.lock_after)
        return e->inflight > 0 ? 1 : 0; /* lockout served: one attempt at a time */
    int effective = e->count + e->inflight;
    if (effective >= tab->limits.lock_after)
        return 1; /* the verdicts pending could lock: wait for them */
    if (effective < tab->limits.soft_after)
        return 0;
    /* the delay runs from the last failure, or from the last attempt let
     * through while its verdict is pending */
    int64_t since = e->inflight > 0 ? max64(e->last_fail, e->last_allowed) : e->last_fail;
    int64_t until = since + delay_for(t, effective, tab->limits.soft_after);
    return until > now ? until - now : 0;
}

/* The victim when the table is full: among the EVICT_SCAN least recently
 * used, the first idle one, else the one with the fewest failures and no
 * attempt in flight, else the least recently used. */
static int32_t victim(const struct sb_throttle *t, struct table *tab, int64_t now)
{
    int32_t best = NIL, i = tab->tail;
    for (int n = 0; i != NIL && n < EVICT_SCAN; n++, i = tab->entries[i].prev) {
        struct entry *e = &tab->entries[i];
        if (idle(t, e, now))
            return i;
        if (e->inflight == 0 && (best == NIL || e->count < tab->entries[best].count))
            best = i;
    }
    return best != NIL ? best : tab->tail;
}

/* The entry for key, created (and made most recent) when absent. */
static struct entry *table_get(const struct sb_throttle *t, struct table *tab,
                               const unsigned char key[KEY_BYTES], int64_t now)
{
    int32_t i = table_find(tab, key);
    if (i != NIL) {
        lru_unlink(tab, i);
        lru_push_front(tab, i);
        return &tab->entries[i];
    }
    if (tab->free_list == NIL)
        table_remove(tab, victim(t, tab, now));
    i = tab->free_list;
    struct entry *e = &tab->entries[i];
    tab->free_list = e->next;
    memset(e, 0, sizeof(*e));
    memcpy(e->key, key, KEY_BYTES);
    size_t b = bucket_of(tab, key);
    e->chain = tab->buckets[b];
    tab->buckets[b] = i;
    lru_push_front(tab, i);
    tab->used++;
    return e;
}

/* ---- keys -------------------------------------------------------------------------- */

/* The key of text (ASCII letters lower-cased when fold); false for NULL/"". */
static bool key_of(const struct sb_throttle *t, const char *text, bool fold,
                   unsigned char key[KEY_BYTES])
{
    if (!text || !text[0])
        return false;
    crypto_generichash_state state;
    crypto_generichash_init(&state, t->secret, sizeof(t->secret), KEY_BYTES);
    unsigned char chunk[64];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        chunk[n++] = (fold && ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch + ('a' - 'A')) : ch;
        if (n == sizeof(chunk)) {
            crypto_generichash_update(&state, chunk, n);
            n = 0;
        }
    }
    crypto_generichash_update(&state, chunk, n);
    crypto_generichash_final(&state, key, KEY_BYTES);
    sodium_memzero(chunk, sizeof(chunk));
    return true;
}

/* The keys of one attempt: [0] account, [1] address, with has[] telling
 * which are present. */
struct keys {
    unsigned char key[2][KEY_BYTES];
    bool has[2];
};

static void keys_of(const struct sb_throttle *t, const char *account, const char *addr,
                    struct keys *keys)
{
    keys->has[0] = key_of(t, account, true, keys->key[0]);
    keys->has[1] = key_of(t, addr, false, keys->key[1]);
}

static struct table *table_at(struct sb_throttle *t, int kind)
{
    return kind == 0 ? &t->accounts : &t->addresses;
}

/* ---- the API --------------------------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static struct sb_throttle_limits clamp_limits(struct sb_throttle_limits l)
{
    if (l.soft_after < 1)
        l.soft_after = 1;
    if (l.soft_after > 1000000)
        l.soft_after = 1000000;
    if (l.lock_after < l.soft_after)
        l.lock_after = l.soft_after;
    if (l.lock_after > 1000000)
        l.lock_after = 1000000;
    return l;
}

struct sb_throttle *sb_throttle_new(const struct sb_throttle_options *opts)
{
    struct sb_throttle_options o;
    if (opts)
        o = *opts;
    else
        sb_throttle_options_default(&o);
    if (sodium_init() < 0)
        sb_die("libsodium could not be initialised");
    struct sb_throttle *t = sb_xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    const int64_t day = 86400;
    t->window = clamp64(o.window, 1, 30 * day);
    t->lockout = clamp64(o.lockout, 1, 30 * day);
    t->base_delay = clamp64(o.base_delay, 1, day);
    t->max_delay = clamp64(o.max_delay, t->base_delay, 30 * day);
    size_t capacity = o.capacity < 16 ? 16 : o.capacity > (1u << 20) ? (1u << 20) : o.capacity;
    table_init(&t->accounts, capacity, clamp_limits(o.account));
    table_init(&t->addresses, capacity, clamp_limits(o.address));
    crypto_generichash_keygen(t->secret);
    return t;
}

void sb_throttle_free(struct sb_throttle *t)
{
    if (!t)
        return;
    free(t->accounts.entries);
    free(t->accounts.buckets);
    free(t->addresses.entries);
    free(t->addresses.buckets);
    pthread_mutex_destroy(&t->lock);
    sodium_memzero(t->secret, sizeof(t->secret));
    free(t);
}

int sb_throttle_check(struct sb_throttle *t, const char *account, const char *addr, int64_t now,
                      int *retry_after)
{
    struct keys keys;
    keys_of(t, account, addr, &keys);
    int64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    /* look first, without creating entries: a refused attempt changes
     * nothing, and an unknown key waits for nothing */
    for (int kind = 0; kind < 2; kind++) {
        if (!keys.has[kind])
            continue;
        struct table *tab = table_at(t, kind);
        int32_t i = table_find(tab, keys.key[kind]);
        if (i != NIL)
            wait = max64(wait, wait_for(t, tab, &tab->entries[i], now));
    }
    if (wait == 0) {
        /* go ahead: the attempt is in flight until its verdict */
        for (int kind = 0; kind < 2; kind++) {
            if (!keys.has[kind])
                continue;
            struct entry *e = table_get(t, table_at(t, kind), keys.key[kind], now);
            e->inflight++;
            e->last_allowed = now;
        }
    }
    pthread_mutex_unlock(&t->lock);
    *retry_after = wait > INT_MAX ? INT_MAX : (int)wait;
    return wait > 0 ? 1 : 0;
}

void sb_throttle_fail(struct sb_throttle *t, const char *account, const char *addr, int64_t now)
{
    struct keys keys;
    keys_of(t, account, addr, &keys);
    pthread_mutex_lock(&t->lock);
    for (int kind = 0; kind < 2; kind++) {
        if (!keys.has[kind])
            continue;
        struct table *tab = table_at(t, kind);
        struct entry *e = table_get(t, tab, keys.key[kind], now);
        expire(t, e, now);
        if (e->inflight > 0)
            e->inflight--;
        if (e->count < (1 << 30))
            e->count++;
        e->last_fail = now;
        if (e->count >= tab->limits.lock_after)
            e->locked_until = now + t->lockout;
    }
    pthread_mutex_unlock(&t->lock);
}

void sb_throttle_success(struct sb_throttle *t, const char *account, const char *addr, int64_t now)
{
    struct keys keys;
    keys_of(t, account, addr, &keys);
    pthread_mutex_lock(&t->lock);
    if (keys.has[0]) {
        int32_t i = table_find(&t->accounts, keys.key[0]);
        if (i != NIL)
            table_remove(&t->accounts, i);
    }
    if (keys.has[1]) {
        int32_t i = table_find(&t->addresses, keys.key[1]);
        if (i != NIL) {
            struct entry *e = &t->addresses.entries[i];
            if (e->inflight > 0)
                e->inflight--;
            if (idle(t, e, now))
                table_remove(&t->addresses, i);
        }
    }
    pthread_mutex_unlock(&t->lock);
}

void sb_throttle_release(struct sb_throttle *t, const char *account, const char *addr)
{
    struct keys keys;
    keys_of(t, account, addr, &keys);
    pthread_mutex_lock(&t->lock);
    for (int kind = 0; kind < 2; kind++) {
        if (!keys.has[kind])
            continue;
        struct table *tab = table_at(t, kind);
        int32_t i = table_find(tab, keys.key[kind]);
        if (i != NIL && tab->entries[i].inflight > 0)
            tab->entries[i].inflight--;
    }
    pthread_mutex_unlock(&t->lock);
}

void sb_throttle_usage(struct sb_throttle *t, size_t *accounts, size_t *addresses)
{
    pthread_mutex_lock(&t->lock);
    *accounts = t->accounts.used;
    *addresses = t->addresses.used;
    pthread_mutex_unlock(&t->lock);
}
