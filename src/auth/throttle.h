/* Sign-in brute-force protection: failed password sign-ins are counted per
 * account (the e-mail, lower-cased) and per client address. Below soft_after
 * failures nothing happens; from there each further attempt must wait a
 * delay that doubles with every failure (1 s, 2 s, 4 s, ...); at lock_after
 * failures the key is locked out for `lockout` seconds; after that one
 * attempt at a time goes through, and each failure locks again. Failures
 * are forgotten after `window` quiet seconds (counted from the end of a
 * lockout, if any), and a successful sign-in forgets the account's (not the address's: an
 * attacker's own account must not clear the address he sprays from).
 *
 * Attempts in flight count too: check reserves the attempt, so a burst of
 * parallel guesses cannot all pass check before the first failure is
 * recorded. Every check that answers 0 must therefore be followed by exactly
 * one of fail, success or release:
 *
 *   if (sb_throttle_check(t, email, addr, now, &wait)) -> 429, Retry-After: wait
 *   ... verify the password (or the dummy when the account is unknown) ...
 *   wrong password or unknown account -> sb_throttle_fail(t, email, addr, now)
 *   right password                    -> sb_throttle_success(t, email, addr, now)
 *   no verdict (503, database error)  -> sb_throttle_release(t, email, addr)
 *
 * (A reservation never settled is dropped a minute after the key's last
 * allowed attempt, so a forgotten release cannot block a key for good.)
 *
 * Memory is fixed: each kind is a table of `capacity` entries; when it is
 * full the least recently used idle entry (or, failing that, the one with
 * the fewest failures among the oldest) is dropped. Keys are held as keyed
 * 128-bit hashes, never as the e-mail or address text.
 *
 * Time is passed in (seconds on any clock that does not go back, e.g.
 * CLOCK_MONOTONIC), so tests control it. All functions are thread-safe. */
#ifndef SB_AUTH_THROTTLE_H
#define SB_AUTH_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct sb_throttle_limits {
    int soft_after; /* failures before delays start */
    int lock_after; /* failures that lock the key out */
};

struct sb_throttle_options {
    /* Accounts: 5 and 10. Addresses: 20 and 50, because one address is often
     * shared by many people (NAT, an office, a mobile carrier). */
    struct sb_throttle_limits account, address;
    int64_t window;     /* seconds without a failure before they are forgotten: 900 */
    int64_t lockout;    /* seconds: 900 */
    int64_t base_delay; /* the first delay, seconds: 1 */
    int64_t max_delay;  /* the longest delay before lockout, seconds: 300 */
    size_t capacity;    /* entries per kind: 4096 */
};

void sb_throttle_options_default(struct sb_throttle_options *opts);

struct sb_throttle;

/* A new throttle (opts NULL: defaults; out-of-range values are clamped to
 * sane ones: limits >= 1, lock_after >= soft_after, capacity 16..1M).
 * Owned: free with sb_throttle_free. */
struct sb_throttle *sb_throttle_new(const struct sb_throttle_options *opts);
void sb_throttle_free(struct sb_throttle *t);

/* May a sign-in for account from addr go ahead at now? account and addr are
 * borrowed, NUL-terminated; NULL or "" skips that kind. Returns 0 (go ahead:
 * the attempt is now in flight, *retry_after = 0) or 1 (refuse with 429 and
 * Retry-After: *retry_after seconds, >= 1). */
int sb_throttle_check(struct sb_throttle *t, const char *account, const char *addr, int64_t now,
                      int *retry_after);

/* The attempt failed (wrong password, unknown account): count it. */
void sb_throttle_fail(struct sb_throttle *t, const char *account, const char *addr, int64_t now);

/* The attempt succeeded: forget the account's failures; the address's
 * attempt is no longer in flight. */
void sb_throttle_success(struct sb_throttle *t, const char *account, const char *addr, int64_t now);

/* The attempt ended without a verdict: it is no longer in flight, nothing
 * is counted. */
void sb_throttle_release(struct sb_throttle *t, const char *account, const char *addr);

/* Entries in use per kind, for metrics and tests (never above capacity). */
void sb_throttle_usage(struct sb_throttle *t, size_t *accounts, size_t *addresses);

#endif
