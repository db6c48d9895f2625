/* Unit tests of src/auth/password.c and src/auth/hashpool.c: Argon2id hashes
 * that carry their own parameters and verify only the right password, the
 * parameter floor (OWASP's 19 MiB, 2 passes), needs_rehash, the password
 * policy and its GoTrue-shaped error, and the hashing pool: many concurrent
 * jobs all complete, a full queue is refused at once, closing finishes what
 * is queued and refuses the rest.
 *
 * Most tests hash with the cheapest accepted parameters (19 MiB, 2 passes)
 * to stay fast; one test uses the defaults (64 MiB). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/hashpool.h"
#include "auth/password.h"
#include "test.h"

static const struct sb_pwhash_params fast = {.opslimit = 2, .memlimit = (size_t)19 << 20};

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int hash_str(const char *pw, const struct sb_pwhash_params *params,
                    char out[SB_PWHASH_STRBYTES])
{
    return sb_password_hash(pw, strlen(pw), params, out);
}

static int verify_str(const char *hash, const char *pw)
{
    return sb_password_verify(hash, pw, strlen(pw));
}

TEST(hash_and_verify)
{
    char hash[SB_PWHASH_STRBYTES], again[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("correct horse battery", &fast, hash), 0);
    CHECK(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    CHECK(strstr(hash, "correct") == NULL);
    CHECK_EQ_INT(verify_str(hash, "correct horse battery"), 0);
    CHECK_EQ_INT(verify_str(hash, "correct horse batterY"), SB_PW_EMISMATCH);
    CHECK_EQ_INT(verify_str(hash, ""), SB_PW_EMISMATCH);
    /* a fresh salt each time: same password, different hash, both verify */
    CHECK_EQ_INT(hash_str("correct horse battery", &fast, again), 0);
    CHECK(strcmp(hash, again) != 0);
    CHECK_EQ_INT(verify_str(again, "correct horse battery"), 0);
}

TEST(password_is_bytes_with_length)
{
    char hash[SB_PWHASH_STRBYTES];
    /* an embedded NUL is part of the password, not its end */
    CHECK_EQ_INT(sb_password_hash("ab\0cd", 5, &fast, hash), 0);
    CHECK_EQ_INT(sb_password_verify(hash, "ab\0cd", 5), 0);
    CHECK_EQ_INT(sb_password_verify(hash, "ab", 2), SB_PW_EMISMATCH);
    CHECK_EQ_INT(sb_password_verify(hash, "ab\0ce", 5), SB_PW_EMISMATCH);
}

TEST(default_parameters)
{
    struct sb_pwhash_params defaults;
    sb_password_params_default(&defaults);
    CHECK_EQ_INT(defaults.opslimit, 2);
    CHECK_EQ_INT(defaults.memlimit, 64 << 20);
    char hash[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("s3cret-passw0rd", NULL, hash), 0);
    CHECK(strncmp(hash, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
    CHECK_EQ_INT(verify_str(hash, "s3cret-passw0rd"), 0);
    CHECK_EQ_INT(verify_str(hash, "s3cret-passw0rD"), SB_PW_EMISMATCH);
    CHECK(!sb_password_needs_rehash(hash, NULL));
    CHECK(sb_password_needs_rehash(hash, &fast));
}

TEST(parameters_below_owasp_refused)
{
    char hash[SB_PWHASH_STRBYTES];
    struct sb_pwhash_params weak_memory = {.opslimit = 2, .memlimit = ((size_t)19 << 20) - 1024};
    struct sb_pwhash_params one_pass = {.opslimit = 1, .memlimit = (size_t)64 << 20};
    struct sb_pwhash_params huge = {.opslimit = 2, .memlimit = (size_t)2 << 30};
    struct sb_pwhash_params slow = {.opslimit = 17, .memlimit = (size_t)19 << 20};
    CHECK_EQ_INT(hash_str("password1", &weak_memory, hash), SB_PW_EPARAMS);
    CHECK_EQ_STR(hash, "");
    CHECK_EQ_INT(hash_str("password1", &one_pass, hash), SB_PW_EPARAMS);
    CHECK_EQ_INT(hash_str("password1", &huge, hash), SB_PW_EPARAMS);
    CHECK_EQ_INT(hash_str("password1", &slow, hash), SB_PW_EPARAMS);

    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_password_params_check(&weak_memory, &err), SB_PW_EPARAMS);
    CHECK(strstr(sb_buf_str(&err), "19 MiB") != NULL);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_password_params_check(&one_pass, &err), SB_PW_EPARAMS);
    CHECK(strstr(sb_buf_str(&err), "minimum of 2") != NULL);
    CHECK_EQ_INT(sb_password_params_check(&fast, NULL), 0);
    sb_buf_free(&err);
}

TEST(parameters_stored_in_hash)
{
    struct sb_pwhash_params three = {.opslimit = 3, .memlimit = (size_t)20 << 20};
    char hash[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("tr0ub4dor&3", &three, hash), 0);
    CHECK(strstr(hash, "$m=20480,t=3,p=1$") != NULL);
    /* verification reads the parameters from the hash, not from any setting */
    CHECK_EQ_INT(verify_str(hash, "tr0ub4dor&3"), 0);
    CHECK(!sb_password_needs_rehash(hash, &three));
    CHECK(sb_password_needs_rehash(hash, &fast));
    CHECK(sb_password_needs_rehash(hash, NULL));
    /* rewriting the stored parameters breaks the hash */
    char tampered[SB_PWHASH_STRBYTES];
    memcpy(tampered, hash, sizeof(tampered));
    char *t3 = strstr(tampered, "t=3");
    CHECK(t3 != NULL);
    if (t3) {
        t3[2] = '2';
        CHECK_EQ_INT(verify_str(tampered, "tr0ub4dor&3"), SB_PW_EMISMATCH);
    }
}

TEST(unusable_hashes)
{
    CHECK_EQ_INT(verify_str("", "x"), SB_PW_EMISMATCH);
    CHECK_EQ_INT(verify_str("$argon2id$garbage", "x"), SB_PW_EMISMATCH);
    CHECK_EQ_INT(sb_password_verify(NULL, "x", 1), SB_PW_EMISMATCH);
    char unterminated[SB_PWHASH_STRBYTES];
    memset(unterminated, 'a', sizeof(unterminated));
    CHECK_EQ_INT(sb_password_verify(unterminated, "x", 1), SB_PW_EMISMATCH);
    CHECK(sb_password_needs_rehash(unterminated, NULL));
    CHECK(sb_password_needs_rehash("not a hash", NULL));
    CHECK(sb_password_needs_rehash(NULL, NULL));

    /* a flipped byte in the digest */
    char hash[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("hunter22", &fast, hash), 0);
    size_t len = strlen(hash);
    hash[len - 2] = hash[len - 2] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(verify_str(hash, "hunter22"), SB_PW_EMISMATCH);

    /* Argon2i (not ours) verifies but asks to be rehashed as Argon2id */
    char argon2i[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(crypto_pwhash_str_alg(argon2i, "legacy-pass", 11, 3, (size_t)19 << 20,
                                       crypto_pwhash_ALG_ARGON2I13),
                 0);
    CHECK_EQ_INT(verify_str(argon2i, "legacy-pass"), 0);
    struct sb_pwhash_params same = {.opslimit = 3, .memlimit = (size_t)19 << 20};
    CHECK(sb_password_needs_rehash(argon2i, &same));
}

TEST(overlong_password_refused)
{
    char *big = malloc(SB_PASSWORD_MAX_BYTES + 1);
    memset(big, 'p', SB_PASSWORD_MAX_BYTES + 1);
    char hash[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(sb_password_hash(big, SB_PASSWORD_MAX_BYTES + 1, &fast, hash), SB_PW_EINVALID);
    CHECK_EQ_INT(sb_password_hash(big, SB_PASSWORD_MAX_BYTES, &fast, hash), 0);
    CHECK_EQ_INT(sb_password_verify(hash, big, SB_PASSWORD_MAX_BYTES), 0);
    CHECK_EQ_INT(sb_password_verify(hash, big, SB_PASSWORD_MAX_BYTES + 1), SB_PW_EINVALID);
    free(big);
}

TEST(dummy_verify_costs_a_verification)
{
    char hash[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("whatever-it-is", &fast, hash), 0);
    double t0 = seconds_now();
    CHECK_EQ_INT(verify_str(hash, "wrong guess"), SB_PW_EMISMATCH);
    double t1 = seconds_now();
    CHECK_EQ_INT(sb_password_verify_dummy(&fast, "wrong guess", 11), SB_PW_EMISMATCH);
    double t2 = seconds_now();
    double real = t1 - t0, dummy = t2 - t1;
    /* same work; a wide margin keeps a loaded machine from failing this */
    if (dummy < real * 0.3)
        sb_test_fail(__FILE__, __LINE__, "dummy verification took %.3f s, a real one %.3f s", dummy,
                     real);
}

/* ---- policy ------------------------------------------------------------------------ */

/* The policy's verdict on pw; the error's message and reasons into out. */
static int policy_of(const char *pw, size_t len, const struct sb_password_policy *policy,
                     struct sb_api_error *err)
{
    memset(err, 0, sizeof(*err));
    return sb_password_check_policy(pw, len, policy, err);
}

TEST(policy_default_length)
{
    struct sb_api_error err;
    CHECK_EQ_INT(policy_of("abcdefgh", 8, NULL, &err), 0);
    CHECK(!sb_api_error_is_set(&err));

    CHECK_EQ_INT(policy_of("abc1234", 7, NULL, &err), SB_PW_EPOLICY);
    CHECK_EQ_INT(err.status, 422);
    CHECK_EQ_STR(err.code, "weak_password");
    CHECK_EQ_STR(err.message, "Password should be at least 8 characters.");
    CHECK_EQ_INT(err.n_fields, 1);
    if (err.n_fields == 1) {
        CHECK_EQ_STR(err.fields[0].field, "password");
        CHECK_EQ_STR(err.fields[0].rule, "length");
    }
    CHECK(strstr(err.message, "abc1234") == NULL);
    sb_api_error_clear(&err);

    /* characters, not bytes: 8 two-byte letters pass, 7 do not */
    const char *eight = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    CHECK_EQ_INT(policy_of(eight, 16, NULL, &err), 0);
    CHECK_EQ_INT(policy_of(eight, 14, NULL, &err), SB_PW_EPOLICY);
    sb_api_error_clear(&err);
}

TEST(policy_bytes_and_encoding)
{
    struct sb_api_error err;
    char big[SB_PASSWORD_MAX_BYTES + 1];
    memset(big, 'x', sizeof(big));
    CHECK_EQ_INT(policy_of(big, SB_PASSWORD_MAX_BYTES, NULL, &err), 0);
    CHECK_EQ_INT(policy_of(big, sizeof(big), NULL, &err), SB_PW_EPOLICY);
    CHECK_EQ_STR(err.message, "Password cannot be longer than 1024 bytes.");
    CHECK(err.n_fields == 1 && strcmp(err.fields[0].rule, "length") == 0);
    sb_api_error_clear(&err);

    struct sb_password_policy small;
    sb_password_policy_default(&small);
    small.max_bytes = 16;
    CHECK_EQ_INT(policy_of(big, 17, &small, &err), SB_PW_EPOLICY);
    CHECK_EQ_STR(err.message, "Password cannot be longer than 16 bytes.");
    sb_api_error_clear(&err);

    CHECK_EQ_INT(policy_of("abcdefg\xff", 8, NULL, &err), SB_PW_EPOLICY);
    CHECK(err.n_fields == 1 && strcmp(err.fields[0].rule, "characters") == 0);
    sb_api_error_clear(&err);
    CHECK_EQ_INT(policy_of("abcd\0efgh", 9, NULL, &err), SB_PW_EPOLICY);
    CHECK_EQ_STR(err.code, "weak_password");
    sb_api_error_clear(&err);
    /* an overlong encoding of '/' is not valid UTF-8 */
    CHECK_EQ_INT(policy_of("abcdefg\xc0\xaf", 9, NULL, &err), SB_PW_EPOLICY);
    sb_api_error_clear(&err);
}

TEST(policy_required_classes)
{
    struct sb_password_policy policy;
    sb_password_policy_default(&policy);
    policy.require = SB_PW_REQUIRE_LOWER | SB_PW_REQUIRE_UPPER | SB_PW_REQUIRE_DIGIT;
    struct sb_api_error err;
    CHECK_EQ_INT(policy_of("Abcdefg1", 8, &policy, &err), 0);
    CHECK_EQ_INT(policy_of("abcdefg1", 8, &policy, &err), SB_PW_EPOLICY);
    CHECK_EQ_STR(err.message,
                 "Password should contain at least one character of each: a lower-case "
                 "letter (a-z), an upper-case letter (A-Z), a digit (0-9).");
    sb_api_error_clear(&err);

    /* two broken rules: both sentences, both reasons, in GoTrue's order */
    policy.require = SB_PW_REQUIRE_SYMBOL;
    CHECK_EQ_INT(policy_of("abc", 3, &policy, &err), SB_PW_EPOLICY);
    CHECK_EQ_STR(err.message, "Password should be at least 8 characters. Password should contain "
                              "at least one character of each: a symbol (!@#$...).");
    CHECK_EQ_INT(err.n_fields, 2);
    if (err.n_fields == 2) {
        CHECK_EQ_STR(err.fields[0].rule, "length");
        CHECK_EQ_STR(err.fields[1].rule, "characters");
    }
    sb_api_error_clear(&err);
    CHECK_EQ_INT(policy_of("abc!defg", 8, &policy, &err), 0);
}

/* ---- the pool -------------------------------------------------------------------------- */

static atomic_int n_done;

static void count_done(struct sb_hash_job *job)
{
    (void)job;
    atomic_fetch_add(&n_done, 1);
}

static struct sb_hashpool *open_pool(size_t threads, size_t queue_cap,
                                     const struct sb_pwhash_params *p)
{
    struct sb_hashpool_options opts;
    sb_hashpool_options_default(&opts);
    opts.n_threads = threads;
    opts.queue_cap = queue_cap;
    opts.params = *p;
    struct sb_hashpool *pool = NULL;
    CHECK_EQ_INT(sb_hashpool_open(&opts, &pool, NULL), 0);
    return pool;
}

TEST(pool_many_jobs_complete)
{
    enum { N_HASH = 16, N_VERIFY = 12 };
    char known[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("known-password", &fast, known), 0);

    struct sb_hashpool *pool = open_pool(2, 64, &fast);
    if (!pool)
        return;
    static struct sb_hash_job hashes[N_HASH], verifies[N_VERIFY];
    static char passwords[N_HASH][32];
    atomic_store(&n_done, 0);
    for (int i = 0; i < N_HASH; i++) {
        snprintf(passwords[i], sizeof(passwords[i]), "password-%d", i);
        hashes[i] = (struct sb_hash_job){.kind = SB_HASH_JOB_HASH,
                                         .password = passwords[i],
                                         .password_len = strlen(passwords[i]),
                                         .done = count_done};
        CHECK_EQ_INT(sb_hashpool_submit(pool, &hashes[i]), 0);
    }
    for (int i = 0; i < N_VERIFY; i++) {
        /* right, wrong, unknown account (no hash) in turn */
        const char *pw = i % 3 == 0 ? "known-password" : "wrong-password";
        verifies[i] = (struct sb_hash_job){.kind = SB_HASH_JOB_VERIFY,
                                           .password = pw,
                                           .password_len = strlen(pw),
                                           .hash = i % 3 == 2 ? NULL : known,
                                           .done = count_done};
        CHECK_EQ_INT(sb_hashpool_submit(pool, &verifies[i]), 0);
    }
    sb_hashpool_close(pool); /* finishes every queued job */
    CHECK_EQ_INT(atomic_load(&n_done), N_HASH + N_VERIFY);
    for (int i = 0; i < N_HASH; i++) {
        CHECK_EQ_INT(hashes[i].rc, 0);
        CHECK(strncmp(hashes[i].out, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    }
    /* each hash is of its own password (verifying a few is enough) */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(verify_str(hashes[i].out, passwords[i]), 0);
        CHECK_EQ_INT(verify_str(hashes[i].out, passwords[i + 1]), SB_PW_EMISMATCH);
    }
    for (int i = 0; i < N_VERIFY; i++) {
        CHECK_EQ_INT(verifies[i].rc, i % 3 == 0 ? 0 : SB_PW_EMISMATCH);
        CHECK(!verifies[i].rehash);
    }
}

/* A done callback that holds its worker until the test lets it go. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open;

static void gate_done(struct sb_hash_job *job)
{
    (void)job;
    pthread_mutex_lock(&gate_lock);
    gate_entered = true;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    atomic_fetch_add(&n_done, 1);
}

static void gate_reset(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_entered = gate_open = false;
    pthread_mutex_unlock(&gate_lock);
}

static void gate_wait_entered(void)
{
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
}

static void gate_release(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

TEST(pool_full_queue_refused_at_once)
{
    struct sb_hashpool *pool = open_pool(1, 2, &fast);
    if (!pool)
        return;
    gate_reset();
    atomic_store(&n_done, 0);
    struct sb_hash_job blocker = {
        .kind = SB_HASH_JOB_HASH, .password = "p", .password_len = 1, .done = gate_done};
    CHECK_EQ_INT(sb_hashpool_submit(pool, &blocker), 0);
    gate_wait_entered(); /* the only worker is now busy */

    struct sb_hash_job queued[2], refused;
    for (int i = 0; i < 2; i++) {
        queued[i] = (struct sb_hash_job){
            .kind = SB_HASH_JOB_HASH, .password = "q", .password_len = 1, .done = count_done};
        CHECK_EQ_INT(sb_hashpool_submit(pool, &queued[i]), 0);
    }
    refused = (struct sb_hash_job){
        .kind = SB_HASH_JOB_HASH, .password = "r", .password_len = 1, .done = count_done};
    double t0 = seconds_now();
    CHECK_EQ_INT(sb_hashpool_submit(pool, &refused), SB_HASHPOOL_EFULL);
    CHECK(seconds_now() - t0 < 0.01); /* refused without waiting for a hash */

    struct sb_hashpool_stats stats;
    sb_hashpool_stats(pool, &stats);
    CHECK_EQ_INT(stats.queued, 2);
    CHECK_EQ_INT(stats.queue_cap, 2);
    CHECK_EQ_INT(stats.rejected, 1);

    gate_release();
    sb_hashpool_close(pool);
    CHECK_EQ_INT(atomic_load(&n_done), 3); /* the refused job's done never ran */
    CHECK_EQ_INT(queued[0].rc, 0);
    CHECK_EQ_INT(queued[1].rc, 0);
}

struct closer {
    struct sb_hashpool *pool;
};

static void *close_pool(void *arg)
{
    struct closer *c = arg;
    sb_hashpool_close(c->pool);
    return NULL;
}

TEST(pool_close_finishes_queued_jobs)
{
    enum { N_QUEUED = 6 };
    struct sb_hashpool *pool = open_pool(1, 16, &fast);
    if (!pool)
        return;
    gate_reset();
    atomic_store(&n_done, 0);
    struct sb_hash_job blocker = {
        .kind = SB_HASH_JOB_HASH, .password = "p", .password_len = 1, .done = gate_done};
    CHECK_EQ_INT(sb_hashpool_submit(pool, &blocker), 0);
    gate_wait_entered();
    struct sb_hash_job jobs[N_QUEUED];
    for (int i = 0; i < N_QUEUED; i++) {
        jobs[i] = (struct sb_hash_job){.kind = SB_HASH_JOB_HASH,
                                       .password = "queued",
                                       .password_len = 6,
                                       .done = count_done,
                                       .rc = 99};
        CHECK_EQ_INT(sb_hashpool_submit(pool, &jobs[i]), 0);
    }
    /* close while the worker is held and six jobs wait; once closing, new
     * jobs are refused */
    struct closer closer = {pool};
    pthread_t thread;
    pthread_create(&thread, NULL, close_pool, &closer);
    struct sb_hashpool_stats stats;
    for (;;) {
        sb_hashpool_stats(pool, &stats);
        if (stats.closing)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECK_EQ_INT(stats.queued, N_QUEUED);
    struct sb_hash_job late = {
        .kind = SB_HASH_JOB_HASH, .password = "late", .password_len = 4, .done = count_done};
    int rc = sb_hashpool_submit(pool, &late);
    CHECK_EQ_INT(rc, SB_HASHPOOL_ECLOSED);
    gate_release();
    pthread_join(thread, NULL);
    for (int i = 0; i < N_QUEUED; i++)
        CHECK_EQ_INT(jobs[i].rc, 0);
    CHECK_EQ_INT(atomic_load(&n_done), N_QUEUED + 1);
}

TEST(pool_exec_and_inline_run)
{
    struct sb_hashpool *pool = open_pool(1, 4, &fast);
    if (!pool)
        return;
    struct sb_hash_job job = {.kind = SB_HASH_JOB_HASH, .password = "exec-me", .password_len = 7};
    CHECK_EQ_INT(sb_hashpool_exec(pool, &job), 0);
    CHECK(job.done == NULL && job.arg == NULL); /* left as the caller set them */
    CHECK_EQ_INT(verify_str(job.out, "exec-me"), 0);

    struct sb_hash_job check = {
        .kind = SB_HASH_JOB_VERIFY, .password = "exec-me", .password_len = 7, .hash = job.out};
    CHECK_EQ_INT(sb_hashpool_exec(pool, &check), 0);
    check.password = "exec-it";
    CHECK_EQ_INT(sb_hashpool_exec(pool, &check), SB_PW_EMISMATCH);
    sb_hashpool_close(pool);

    /* no pool at all: the CLI's way */
    atomic_store(&n_done, 0);
    struct sb_hash_job inline_job = {.kind = SB_HASH_JOB_VERIFY,
                                     .password = "exec-me",
                                     .password_len = 7,
                                     .hash = job.out,
                                     .done = count_done};
    CHECK_EQ_INT(sb_hash_job_run(&inline_job, &fast, false), 0);
    CHECK_EQ_INT(atomic_load(&n_done), 1);
}

TEST(pool_rehash_on_verify)
{
    struct sb_pwhash_params stronger = {.opslimit = 3, .memlimit = (size_t)19 << 20};
    char old[SB_PWHASH_STRBYTES];
    CHECK_EQ_INT(hash_str("upgrade-me", &fast, old), 0);
    struct sb_hashpool *pool = open_pool(1, 4, &stronger);
    if (!pool)
        return;
    struct sb_hash_job job = {
        .kind = SB_HASH_JOB_VERIFY, .password = "upgrade-me", .password_len = 10, .hash = old};
    CHECK_EQ_INT(sb_hashpool_exec(pool, &job), 0);
    CHECK(job.rehash);
    CHECK(strstr(job.out, "$m=19456,t=3,p=1$") != NULL);
    CHECK_EQ_INT(verify_str(job.out, "upgrade-me"), 0);
    CHECK(!sb_password_needs_rehash(job.out, &stronger));

    /* a wrong password never produces a replacement */
    job.password = "upgrade-us";
    CHECK_EQ_INT(sb_hashpool_exec(pool, &job), SB_PW_EMISMATCH);
    CHECK(!job.rehash);
    CHECK_EQ_STR(job.out, "");
    sb_hashpool_close(pool);
}

TEST(pool_options_checked)
{
    struct sb_hashpool_options opts;
    sb_hashpool_options_default(&opts);
    CHECK_EQ_INT(opts.params.memlimit, 64 << 20);
    CHECK_EQ_INT(opts.n_threads, 0);
    struct sb_hashpool *pool = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    opts.params.memlimit = (size_t)8 << 20;
    CHECK_EQ_INT(sb_hashpool_open(&opts, &pool, &err), SB_PW_EPARAMS);
    CHECK(pool == NULL);
    CHECK(strstr(sb_buf_str(&err), "OWASP") != NULL);
    sb_buf_reset(&err);
    sb_hashpool_options_default(&opts);
    opts.n_threads = SB_HASHPOOL_LIMIT_THREADS + 1;
    CHECK_EQ_INT(sb_hashpool_open(&opts, &pool, &err), -1);
    sb_buf_free(&err);

    /* the default: one thread per core, at most four */
    CHECK_EQ_INT(sb_hashpool_open(NULL, &pool, NULL), 0);
    struct sb_hashpool_stats stats;
    sb_hashpool_stats(pool, &stats);
    CHECK(stats.n_threads >= 1 && stats.n_threads <= SB_HASHPOOL_MAX_THREADS);
    CHECK_EQ_INT(stats.queue_cap, SB_HASHPOOL_QUEUE_CAP);
    sb_hashpool_close(pool);
    sb_hashpool_close(NULL);
}
