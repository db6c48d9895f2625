/* Unit tests of src/guard/ratelimit.c with an injected clock: a full bucket
 * lets a burst through, then refuses with the Retry-After a client needs;
 * tokens come back at the configured rate and never above the burst; a
 * higher cost slows a key down; keys are independent; memory stays fixed
 * under 100,000 distinct keys; many threads at once never let more through
 * than the bucket holds (run under the sanitizers too). */
#include <pthread.h>
#include <stdio.h>

#include "guard/ratelimit.h"
#include "test.h"

#define T0 ((int64_t)5000000000) /* an arbitrary start on the injected clock, us */
#define SEC ((int64_t)1000000)

/* How many of n requests at now are let through. */
static int allowed(struct sb_ratelimit *rl, const char *key, int n, int64_t now)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += sb_ratelimit_take(rl, key, 1, now, NULL) == 0;
    return ok;
}

TEST(burst_then_refused_with_retry_after)
{
    struct sb_ratelimit *rl = sb_ratelimit_new((struct sb_ratelimit_rate){50, 100}, 1024);
    CHECK_EQ_INT(allowed(rl, "10.0.0.1", 100, T0), 100);
    int wait = -1;
    CHECK_EQ_INT(sb_ratelimit_take(rl, "10.0.0.1", 1, T0, &wait), 1);
    CHECK_EQ_INT(wait, 1); /* one token is back within 20 ms: "retry in 1 s" */
    /* one token per 10 s, burst 3: the 4th request waits 10 s, less as
     * time passes */
    struct sb_ratelimit *slow = sb_ratelimit_new((struct sb_ratelimit_rate){0.1, 3}, 64);
    CHECK_EQ_INT(allowed(slow, "a", 3, T0), 3);
    CHECK_EQ_INT(sb_ratelimit_take(slow, "a", 1, T0, &wait), 1);
    CHECK_EQ_INT(wait, 10);
    CHECK_EQ_INT(sb_ratelimit_take(slow, "a", 1, T0 + 4 * SEC, &wait), 1);
    CHECK_EQ_INT(wait, 6);
    /* the advertised wait is enough, and not more than needed */
    CHECK_EQ_INT(sb_ratelimit_take(slow, "a", 1, T0 + 10 * SEC - 1000, &wait), 1);
    CHECK_EQ_INT(sb_ratelimit_take(slow, "a", 1, T0 + 10 * SEC, &wait), 0);
    CHECK_EQ_INT(wait, 0);
    sb_ratelimit_free(slow);
    sb_ratelimit_free(rl);
}

TEST(refill_at_the_configured_rate)
{
    struct sb_ratelimit *rl = sb_ratelimit_new((struct sb_ratelimit_rate){5, 10}, 64);
    CHECK_EQ_INT(allowed(rl, "k", 10, T0), 10);
    CHECK_EQ_INT(allowed(rl, "k", 1, T0), 0);
    /* 5 per second: 200 ms per token */
    CHECK_EQ_INT(allowed(rl, "k", 1, T0 + 199999), 0);
    CHECK_EQ_INT(allowed(rl, "k", 1, T0 + 200000), 1);
    CHECK_EQ_INT(allowed(rl, "k", 10, T0 + 200000 + SEC), 5);
    /* a long pause refills up to the burst, not beyond */
    CHECK(sb_ratelimit_tokens(rl, "k", T0 + 3600 * SEC) == 10);
    CHECK_EQ_INT(allowed(rl, "k", 20, T0 + 3600 * SEC), 10);
    /* a clock that does not move gives nothing back */
    CHECK_EQ_INT(allowed(rl, "k", 1, T0 + 3600 * SEC), 0);
    /* ten seconds of one request every 200 ms: all go through */
    int ok = 0;
    for (int i = 1; i <= 50; i++)
        ok += allowed(rl, "k", 1, T0 + 3600 * SEC + i * 200000);
    CHECK_EQ_INT(ok, 50);
    sb_ratelimit_free(rl);
}

TEST(cost_slows_a_key_and_keys_are_independent)
{
    struct sb_ratelimit *rl = sb_ratelimit_new((struct sb_ratelimit_rate){50, 100}, 64);
    int wait = 0;
    /* cost 10: ten requests from a full bucket, then 200 ms per request */
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += sb_ratelimit_take(rl, "slow", 10, T0, NULL) == 0;
    CHECK_EQ_INT(ok, 10);
    CHECK_EQ_INT(sb_ratelimit_take(rl, "slow", 10, T0 + 199000, &wait), 1);
    CHECK_EQ_INT(wait, 1);
    CHECK_EQ_INT(sb_ratelimit_take(rl, "slow", 10, T0 + 200000, &wait), 0);
    /* a cost above the burst is clamped to it (never refused for good) */
    CHECK_EQ_INT(sb_ratelimit_take(rl, "huge", 1e9, T0, &wait), 0);
    CHECK_EQ_INT(sb_ratelimit_take(rl, "huge", 1e9, T0, &wait), 1);
    CHECK_EQ_INT(wait, 2);
    /* another key still has its full burst; no key is never limited */
    CHECK_EQ_INT(allowed(rl, "other", 100, T0), 100);
    CHECK_EQ_INT(allowed(rl, "", 1000, T0), 1000);
    CHECK_EQ_INT(sb_ratelimit_take(rl, NULL, 1, T0, &wait), 0);
    sb_ratelimit_free(rl);
}

TEST(memory_bounded_under_many_keys)
{
    struct sb_ratelimit *rl = sb_ratelimit_new((struct sb_ratelimit_rate){1, 2}, 4096);
    size_t used = 0, capacity = 0;
    sb_ratelimit_usage(rl, &used, &capacity);
    CHECK_EQ_INT(capacity, 4096);
    CHECK_EQ_INT(used, 0);
    /* a busy client keeps its state while 100,000 one-shot addresses pass:
     * it is touched often, so it is never the least recently used */
    CHECK_EQ_INT(allowed(rl, "198.51.100.7", 2, T0), 2);
    char addr[48];
    for (int i = 0; i < 100000; i++) {
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        int64_t now = T0 + i; /* 1 us apart: the busy client does not refill */
        CHECK(sb_ratelimit_take(rl, addr, 1, now, NULL) == 0);
        if (i % 64 == 0)
            CHECK_EQ_INT(sb_ratelimit_take(rl, "198.51.100.7", 1, now, NULL), 1);
    }
    sb_ratelimit_usage(rl, &used, &capacity);
    CHECK_EQ_INT(capacity, 4096);
    CHECK(used <= capacity);
    CHECK(used > capacity / 2);
    sb_ratelimit_free(rl);
}

struct race {
    struct sb_ratelimit *rl;
    int allowed;
};

static void *race_thread(void *arg)
{
    struct race *race = arg;
    for (int i = 0; i < 1000; i++)
        race->allowed += sb_ratelimit_take(race->rl, "shared", 1, T0, NULL) == 0;
    return NULL;
}

TEST(threads_never_exceed_the_burst)
{
    struct sb_ratelimit *rl = sb_ratelimit_new((struct sb_ratelimit_rate){10, 500}, 64);
    pthread_t threads[8];
    struct race races[8];
    for (int i = 0; i < 8; i++) {
        races[i] = (struct race){rl, 0};
        pthread_create(&threads[i], NULL, race_thread, &races[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        total += races[i].allowed;
    }
    CHECK_EQ_INT(total, 500);
    sb_ratelimit_free(rl);
}
