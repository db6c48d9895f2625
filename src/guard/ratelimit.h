/* Token buckets keyed by a string (a client address, a principal's subject):
 * each key holds up to `burst` tokens, refilled at `per_second`; a request
 * takes one token (or more, for a throttled source) or is refused with the
 * time until enough tokens are back, which becomes the 429's Retry-After.
 *
 * Memory is fixed at creation: a set-associative table of `capacity` slots
 * (8 per set). A key's set is chosen by a keyed hash (random per limiter,
 * so nobody can aim a flood at one victim's set); a new key takes an empty
 * slot of its set or the one used least recently. A dropped key comes back
 * with a full bucket, which only gives a flood of distinct addresses what it
 * already has. Keys are kept as 64-bit hashes, never as text.
 *
 * Time is passed in (microseconds on a clock that does not go back, e.g.
 * CLOCK_MONOTONIC), so tests control it. All functions are thread-safe: the
 * sets are guarded by striped mutexes, so workers rarely wait for each
 * other. */
#ifndef SB_GUARD_RATELIMIT_H
#define SB_GUARD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct sb_ratelimit_rate {
    double per_second; /* tokens added per second (> 0) */
    double burst;      /* bucket size: requests allowed at once (>= 1) */
};

struct sb_ratelimit;

/* A new limiter for rate with room for about capacity keys (rounded up to a
 * power of two, clamped to 64..4M). Out-of-range rates are clamped
 * (per_second >= 0.001, burst >= 1). Owned: free with sb_ratelimit_free. */
struct sb_ratelimit *sb_ratelimit_new(struct sb_ratelimit_rate rate, size_t capacity);
void sb_ratelimit_free(struct sb_ratelimit *rl);

/* Take cost tokens (1 for a normal request; more to slow a source down;
 * cost is clamped to 1..burst) from key's bucket at now_us. key is
 * borrowed, NUL-terminated; NULL or "" always passes. Returns 0 (taken,
 * *retry_after_s = 0) or 1 (refused, nothing taken, *retry_after_s = whole
 * seconds until cost tokens are back, >= 1). retry_after_s may be NULL. */
int sb_ratelimit_take(struct sb_ratelimit *rl, const char *key, double cost, int64_t now_us,
                      int *retry_after_s);

/* The tokens key would have at now_us (burst for an unknown key). */
double sb_ratelimit_tokens(struct sb_ratelimit *rl, const char *key, int64_t now_us);

/* Slots in use and in all, for metrics and tests (used <= capacity). */
void sb_ratelimit_usage(struct sb_ratelimit *rl, size_t *used, size_t *capacity);

#endif
