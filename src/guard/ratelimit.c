/* Token buckets per key, see ratelimit.h.
 *
 * The table is an array of sets of WAYS slots; a key's 64-bit SipHash
 * (libsodium's crypto_shorthash, random key per limiter) picks the set and
 * is the slot's identity. Each bucket is refilled lazily: its tokens are
 * brought up to date from the time elapsed whenever it is touched, so there
 * is no timer. Sets are guarded by STRIPES mutexes (set i by stripe
 * i % STRIPES); every operation holds one of them for a few comparisons.
 * guard/threat.c builds the mitigation policy on top of this. */
#include "guard/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/die.h"

#define WAYS 8
#define STRIPES 64
#define US_PER_S 1000000.0

struct slot {
    uint64_t key; /* 0: empty (a key hashing to 0 is filed as 1) */
    double tokens;
    int64_t updated_us; /* tokens were right at this time; also the LRU stamp */
};

struct sb_ratelimit {
    struct sb_ratelimit_rate rate;
    struct slot *slots;
    size_t n_sets; /* power of two */
    pthread_mutex_t stripes[STRIPES];
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct sb_ratelimit *sb_ratelimit_new(struct sb_ratelimit_rate rate, size_t capacity)
{
    if (sodium_init() < 0)
        sb_die("libsodium cannot be initialised");
    struct sb_ratelimit *rl = sb_xcalloc(1, sizeof(*rl));
    rl->rate.per_second = rate.per_second >= 0.001 ? rate.per_second : 0.001;
    rl->rate.burst = rate.burst >= 1 ? rate.burst : 1;
    if (capacity < 64)
        capacity = 64;
    if (capacity > (size_t)4 << 20)
        capacity = (size_t)4 << 20;
    rl->n_sets = 1;
    while (rl->n_sets * WAYS < capacity)
        rl->n_sets <<= 1;
    rl->slots = sb_xcalloc(rl->n_sets * WAYS, sizeof(*rl->slots));
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rl->stripes[i], NULL);
    randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
    return rl;
}

void sb_ratelimit_free(struct sb_ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&rl->stripes[i]);
    sodium_memzero(rl->hash_key, sizeof(rl->hash_key));
    free(rl->slots);
    free(rl);
}

static uint64_t hash_key(const struct sb_ratelimit *rl, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)key, strlen(key), rl->hash_key);
    uint64_t h;
    memcpy(&h, out, sizeof(h));
    return h ? h : 1;
}

/* The slot of h in its set (the stripe is held): the existing one, else an
 * empty one, else the least recently used (then reset to a full bucket). */
static struct slot *find_slot(struct sb_ratelimit *rl, struct slot *set, uint64_t h, int64_t now_us,
                              bool create)
{
    struct slot *victim = NULL;
    for (size_t i = 0; i < WAYS; i++) {
        if (set[i].key == h)
            return &set[i];
        if (!victim || (victim->key && (!set[i].key || set[i].updated_us < victim->updated_us)))
            victim = &set[i];
    }
    if (!create)
        return NULL;
    victim->key = h;
    victim->tokens = rl->rate.burst;
    victim->updated_us = now_us;
    return victim;
}

/* The stripe's lock. Held for a hash-set lookup and a little arithmetic,
 * so a waiter first retries a while before it sleeps: the usual contention
 * is the HTTP workers serving one client address at once, and a futex
 * sleep and wake costs more than the whole critical section. */
static void lock_stripe(pthread_mutex_t *stripe)
{
    for (int i = 0; i < 200; i++)
        if (pthread_mutex_trylock(stripe) == 0)
            return;
    pthread_mutex_lock(stripe);
}

static void refill(const struct sb_ratelimit *rl, struct slot *s, int64_t now_us)
{
    if (now_us > s->updated_us) {
        s->tokens += (double)(now_us - s->updated_us) / US_PER_S * rl->rate.per_second;
        if (s->tokens > rl->rate.burst)
            s->tokens = rl->rate.burst;
        s->updated_us = now_us;
    }
}

int sb_ratelimit_take(struct sb_ratelimit *rl, const char *key, double cost, int64_t now_us,
                      int *retry_after_s)
{
    if (retry_after_s)
        *retry_after_s = 0;
    if (!key || !*key)
        return 0;
    if (!(cost >= 1))
        cost = 1;
    if (cost > rl->rate.burst)
        cost = rl->rate.burst;
    uint64_t h = hash_key(rl, key);
    size_t set_index = (size_t)(h >> 7) & (rl->n_sets - 1);
    pthread_mutex_t *stripe = &rl->stripes[set_index % STRIPES];
    lock_stripe(stripe);
    struct slot *s = find_slot(rl, &rl->slots[set_index * WAYS], h, now_us, true);
    refill(rl, s, now_us);
    int refused = 0;
    if (s->tokens >= cost) {
        s->tokens -= cost;
    } else {
        refused = 1;
        if (retry_after_s) {
            double wait = ceil((cost - s->tokens) / rl->rate.per_second);
            *retry_after_s = wait < 1 ? 1 : wait > 86400 ? 86400 : (int)wait;
        }
    }
    pthread_mutex_unlock(stripe);
    return refused;
}

double sb_ratelimit_tokens(struct sb_ratelimit *rl, const char *key, int64_t now_us)
{
    if (!key || !*key)
        return rl->rate.burst;
    uint64_t h = hash_key(rl, key);
    size_t set_index = (size_t)(h >> 7) & (rl->n_sets - 1);
    pthread_mutex_t *stripe = &rl->stripes[set_index % STRIPES];
    pthread_mutex_lock(stripe);
    struct slot *s = find_slot(rl, &rl->slots[set_index * WAYS], h, now_us, false);
    double tokens = rl->rate.burst;
    if (s) {
        refill(rl, s, now_us);
        tokens = s->tokens;
    }
    pthread_mutex_unlock(stripe);
    return tokens;
}

void sb_ratelimit_usage(struct sb_ratelimit *rl, size_t *used, size_t *capacity)
{
    size_t n_slots = rl->n_sets * WAYS, n_used = 0;
    for (size_t set_index = 0; set_index < rl->n_sets; set_index++) {
        pthread_mutex_t *stripe = &rl->stripes[set_index % STRIPES];
        pthread_mutex_lock(stripe);
        for (size_t i = 0; i < WAYS; i++)
            n_used += rl->slots[set_index * WAYS + i].key != 0;
        pthread_mutex_unlock(stripe);
    }
    if (used)
        *used = n_used;
    if (capacity)
        *capacity = n_slots;
}
