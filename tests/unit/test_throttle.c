/* Unit tests of src/auth/throttle.c with an injected clock: free attempts,
 * then delays that double, then a lockout that renews itself; success
 * forgetting the account (not the address); the address limit counting
 * across accounts; the quiet window; attempts in flight counted so that a
 * parallel burst cannot pass; keys case-folded for accounts; memory bounded
 * under 100,000 distinct keys without losing a locked account; and many
 * threads at once (run under the sanitizers). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/throttle.h"
#include "test.h"

#define T0 1000000 /* an arbitrary start on the injected clock */

/* One full failed attempt at now: check must allow it. */
static void failed_attempt(struct sb_throttle *t, const char *account, const char *addr,
                           int64_t now)
{
    int wait = -1;
    if (sb_throttle_check(t, account, addr, now, &wait) != 0)
        sb_test_fail(__FILE__, __LINE__, "attempt for %s at %lld refused (wait %d)",
                     account ? account : "-", (long long)(now - T0), wait);
    sb_throttle_fail(t, account, addr, now);
}

/* The wait check answers at now (0 = allowed); an allowed attempt is
 * released again so that probing changes nothing. */
static int wait_at(struct sb_throttle *t, const char *account, const char *addr, int64_t now)
{
    int wait = -1;
    int refused = sb_throttle_check(t, account, addr, now, &wait);
    if (refused != (wait > 0))
        sb_test_fail(__FILE__, __LINE__, "check returned %d with wait %d", refused, wait);
    if (!refused)
        sb_throttle_release(t, account, addr);
    return wait;
}

TEST(delays_double_then_lockout)
{
    struct sb_throttle *t = sb_throttle_new(NULL);
    const char *who = "alice@example.com";
    int64_t now = T0;
    for (int i = 0; i < 5; i++)
        failed_attempt(t, who, NULL, now); /* five free attempts, same second */
    /* from the fifth failure on: 1, 2, 4, 8, 16 seconds */
    int64_t expected[] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(wait_at(t, who, NULL, now), expected[i]);
        CHECK_EQ_INT(wait_at(t, who, NULL, now + expected[i] - 1), 1);
        now += expected[i];
        failed_attempt(t, who, NULL, now);
    }
    /* ten failures: locked out for 15 minutes */
    CHECK_EQ_INT(wait_at(t, who, NULL, now), 900);
    CHECK_EQ_INT(wait_at(t, who, NULL, now + 899), 1);
    /* one attempt after the lockout; failing it locks again at once */
    now += 900;
    failed_attempt(t, who, NULL, now);
    CHECK_EQ_INT(wait_at(t, who, NULL, now + 1), 899);
    /* another account is not affected */
    CHECK_EQ_INT(wait_at(t, "bob@example.com", NULL, now), 0);
    sb_throttle_free(t);
}

TEST(success_resets_account)
{
    struct sb_throttle *t = sb_throttle_new(NULL);
    const char *who = "carol@example.com";
    for (int i = 0; i < 7; i++)
        failed_attempt(t, who, NULL, T0 + i * 100);
    CHECK(wait_at(t, who, NULL, T0 + 600) > 0);
    /* she remembers her password after the delay */
    int wait;
    CHECK_EQ_INT(sb_throttle_check(t, who, NULL, T0 + 700, &wait), 0);
    sb_throttle_success(t, who, NULL, T0 + 700);
    CHECK_EQ_INT(wait_at(t, who, NULL, T0 + 700), 0);
    /* counting starts over: five free failures again */
    for (int i = 0; i < 5; i++)
        failed_attempt(t, who, NULL, T0 + 701);
    CHECK_EQ_INT(wait_at(t, who, NULL, T0 + 701), 1);
    sb_throttle_free(t);
}

TEST(address_limit_independent_of_account)
{
    struct sb_throttle_options opts;
    sb_throttle_options_default(&opts);
    CHECK_EQ_INT(opts.account.soft_after, 5);
    CHECK_EQ_INT(opts.account.lock_after, 10);
    CHECK_EQ_INT(opts.address.soft_after, 20);
    CHECK_EQ_INT(opts.address.lock_after, 50);
    CHECK_EQ_INT(opts.lockout, 900);
    CHECK_EQ_INT(opts.capacity, 4096);
    struct sb_throttle *t = sb_throttle_new(&opts);
    const char *sprayer = "198.51.100.23";
    char account[64];
    /* one failure each on 20 different accounts from one address */
    for (int i = 0; i < 20; i++) {
        snprintf(account, sizeof(account), "user%d@example.com", i);
        failed_attempt(t, account, sprayer, T0);
    }
    /* a fresh account from that address must wait, from another it need not */
    CHECK_EQ_INT(wait_at(t, "fresh@example.com", sprayer, T0), 1);
    CHECK_EQ_INT(wait_at(t, "fresh@example.com", "203.0.113.5", T0), 0);
    CHECK_EQ_INT(wait_at(t, NULL, sprayer, T0), 1);

    /* a success on the sprayer's own account does not clear the address:
     * the next failure is its 21st, and doubles the delay */
    int wait;
    CHECK_EQ_INT(sb_throttle_check(t, "mine@example.com", sprayer, T0 + 1, &wait), 0);
    sb_throttle_success(t, "mine@example.com", sprayer, T0 + 1);
    failed_attempt(t, "other@example.com", sprayer, T0 + 1);
    CHECK_EQ_INT(wait_at(t, "another@example.com", sprayer, T0 + 1), 2);

    /* the account limit holds whatever the address: 5 failures from 5 places */
    char addr[32];
    for (int i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        failed_attempt(t, "target@example.com", addr, T0);
    }
    CHECK_EQ_INT(wait_at(t, "target@example.com", "192.0.2.200", T0), 1);

    /* the address locks out at 50 */
    int64_t now = T0 + 1;
    for (int i = 21; i < 50; i++) {
        now += wait_at(t, NULL, sprayer, now);
        snprintf(account, sizeof(account), "user%d@example.com", i);
        failed_attempt(t, account, sprayer, now);
    }
    CHECK_EQ_INT(wait_at(t, "anyone@example.com", sprayer, now), 900);
    sb_throttle_free(t);
}

TEST(window_forgets_old_failures)
{
    struct sb_throttle *t = sb_throttle_new(NULL);
    const char *who = "dave@example.com";
    for (int i = 0; i < 4; i++)
        failed_attempt(t, who, NULL, T0);
    /* 15 quiet minutes later the four are forgotten */
    for (int i = 0; i < 4; i++)
        failed_attempt(t, who, NULL, T0 + 900);
    CHECK_EQ_INT(wait_at(t, who, NULL, T0 + 900), 0);
    failed_attempt(t, who, NULL, T0 + 900);
    CHECK_EQ_INT(wait_at(t, who, NULL, T0 + 900), 1);
    /* but not a minute too early */
    for (int i = 0; i < 4; i++)
        failed_attempt(t, "erin@example.com", NULL, T0);
    failed_attempt(t, "erin@example.com", NULL, T0 + 899);
    CHECK_EQ_INT(wait_at(t, "erin@example.com", NULL, T0 + 899), 1);
    sb_throttle_free(t);
}

TEST(attempts_in_flight_count)
{
    struct sb_throttle *t = sb_throttle_new(NULL);
    const char *who = "frank@example.com";
    int wait;
    /* a burst of parallel guesses: five go through, the sixth waits */
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(sb_throttle_check(t, who, NULL, T0, &wait), 0);
    CHECK_EQ_INT(sb_throttle_check(t, who, NULL, T0, &wait), 1);
    CHECK_EQ_INT(wait, 1);
    /* their verdicts: all wrong */
    for (int i = 0; i < 5; i++)
        sb_throttle_fail(t, who, NULL, T0);
    CHECK_EQ_INT(wait_at(t, who, NULL, T0), 1);

    /* attempts released without a verdict (503) count for nothing */
    const char *gina = "gina@example.com";
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(sb_throttle_check(t, gina, NULL, T0, &wait), 0);
    for (int i = 0; i < 5; i++)
        sb_throttle_release(t, gina, NULL);
    CHECK_EQ_INT(wait_at(t, gina, NULL, T0), 0);

    /* ten reservations never settled block the key (they could lock it),
     * but only for a minute after the last one */
    const char *hugo = "hugo@example.com";
    int64_t now = T0;
    for (int n = 0; n < 10;) {
        if (sb_throttle_check(t, hugo, NULL, now, &wait) == 0)
            n++;
        else
            now += wait;
    }
    CHECK_EQ_INT(now, T0 + 1 + 2 + 4 + 8 + 16);
    CHECK_EQ_INT(wait_at(t, hugo, NULL, now + 59), 1);
    CHECK_EQ_INT(wait_at(t, hugo, NULL, now + 60), 0);
    sb_throttle_free(t);
}

TEST(accounts_case_folded)
{
    struct sb_throttle *t = sb_throttle_new(NULL);
    for (int i = 0; i < 5; i++)
        failed_attempt(t, i % 2 ? "Hank@Example.COM" : "hank@example.com", NULL, T0);
    CHECK_EQ_INT(wait_at(t, "HANK@EXAMPLE.COM", NULL, T0), 1);
    /* addresses are compared as given; empty and NULL keys are skipped */
    CHECK_EQ_INT(wait_at(t, "", "", T0), 0);
    CHECK_EQ_INT(wait_at(t, NULL, NULL, T0), 0);
    size_t accounts, addresses;
    sb_throttle_usage(t, &accounts, &addresses);
    CHECK_EQ_INT(accounts, 1);
    CHECK_EQ_INT(addresses, 0);
    sb_throttle_free(t);
}

TEST(bounded_under_many_keys)
{
    struct sb_throttle *t = sb_throttle_new(NULL);
    /* lock one account out first */
    const char *target = "victim@example.com";
    int64_t now = T0;
    for (int i = 0; i < 10; i++) {
        now += wait_at(t, target, NULL, now);
        failed_attempt(t, target, NULL, now);
    }
    CHECK_EQ_INT(wait_at(t, target, NULL, now), 900);

    /* then 100,000 distinct accounts, each failing once from its own address */
    char account[64], addr[32];
    size_t max_accounts = 0, max_addresses = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(account, sizeof(account), "flood%d@example.com", i);
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        failed_attempt(t, account, addr, now);
        if (i % 1000 == 0) {
            size_t accounts, addresses;
            sb_throttle_usage(t, &accounts, &addresses);
            if (accounts > max_accounts)
                max_accounts = accounts;
            if (addresses > max_addresses)
                max_addresses = addresses;
        }
    }
    size_t accounts, addresses;
    sb_throttle_usage(t, &accounts, &addresses);
    CHECK_EQ_INT(accounts, 4096);
    CHECK_EQ_INT(addresses, 4096);
    CHECK(max_accounts <= 4096 && max_addresses <= 4096);
    /* the flood did not wash the lockout away */
    CHECK(wait_at(t, target, NULL, now) > 0);
    /* recent flood entries are still remembered */
    for (int i = 0; i < 4; i++)
        failed_attempt(t, "flood99999@example.com", NULL, now);
    CHECK_EQ_INT(wait_at(t, "flood99999@example.com", NULL, now), 1);
    sb_throttle_free(t);
}

TEST(small_capacity_and_clamping)
{
    struct sb_throttle_options opts;
    sb_throttle_options_default(&opts);
    opts.capacity = 1; /* raised to the minimum of 16 */
    opts.account.soft_after = 0;
    opts.account.lock_after = -3;
    struct sb_throttle *t = sb_throttle_new(&opts);
    char account[32];
    for (int i = 0; i < 100; i++) {
        snprintf(account, sizeof(account), "u%d", i);
        failed_attempt(t, account, NULL, T0 + i * 1000);
    }
    size_t accounts, addresses;
    sb_throttle_usage(t, &accounts, &addresses);
    CHECK_EQ_INT(accounts, 16);
    /* soft 1 and lock 1: one failure locks */
    CHECK_EQ_INT(wait_at(t, "u99", NULL, T0 + 99000), 900);
    sb_throttle_free(t);
    sb_throttle_free(NULL);
}

struct worker_arg {
    struct sb_throttle *t;
    int id;
};

static void *hammer(void *arg)
{
    struct worker_arg *w = arg;
    char account[32], addr[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(account, sizeof(account), "acct%d", (i * 7 + w->id) % 6000);
        snprintf(addr, sizeof(addr), "addr%d", (i + w->id * 13) % 5000);
        int wait;
        int64_t now = T0 + i / 50;
        if (sb_throttle_check(w->t, account, addr, now, &wait) == 0) {
            if (i % 5 == 0)
                sb_throttle_success(w->t, account, addr, now);
            else if (i % 11 == 0)
                sb_throttle_release(w->t, account, addr);
            else
                sb_throttle_fail(w->t, account, addr, now);
        }
    }
    return NULL;
}

TEST(many_threads)
{
    struct sb_throttle_options opts;
    sb_throttle_options_default(&opts);
    opts.capacity = 1024;
    struct sb_throttle *t = sb_throttle_new(&opts);
    pthread_t threads[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){t, i};
        pthread_create(&threads[i], NULL, hammer, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    size_t accounts, addresses;
    sb_throttle_usage(t, &accounts, &addresses);
    CHECK(accounts <= 1024 && addresses <= 1024);
    CHECK(accounts > 0 && addresses > 0);
    sb_throttle_free(t);
}
