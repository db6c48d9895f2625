/* The password hashing pool: a few worker threads and a bounded queue, so
 * that Argon2id's deliberate slowness (about 0.2 s and 64 MiB per password
 * at the defaults) never runs on an HTTP worker and never piles up without
 * bound.
 *
 * An HTTP handler fills a job (hash a new password, or verify one against a
 * stored hash), submits it and returns; the job's done callback runs on the
 * pool's worker thread when the result is known, and completes the deferred
 * response. When the queue is full, submit fails at once with
 * SB_HASHPOOL_EFULL (answer 503 with Retry-After): the pool sheds load
 * instead of making every request wait.
 *
 * A job is owned by the caller and must stay alive, untouched, from submit
 * until its done callback has been called. The password is borrowed for the
 * same time and is never copied or wiped by the pool: wipe it in done. */
#ifndef SB_AUTH_HASHPOOL_H
#define SB_AUTH_HASHPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/password.h"

/* Error codes of submit (negative, distinct from the SB_PW_* codes). */
#define SB_HASHPOOL_EFULL (-20)   /* the queue holds queue_cap jobs: refuse, 503 */
#define SB_HASHPOOL_ECLOSED (-21) /* the pool is shutting down */

#define SB_HASHPOOL_MAX_THREADS 4    /* the default's ceiling (one per core) */
#define SB_HASHPOOL_LIMIT_THREADS 64 /* what a configuration may ask for */
#define SB_HASHPOOL_QUEUE_CAP 64
#define SB_HASHPOOL_LIMIT_QUEUE 65536

enum sb_hash_kind {
    SB_HASH_JOB_HASH,  /* hash password into job->out */
    SB_HASH_JOB_VERIFY /* check password against job->hash */
};

struct sb_hash_job;
/* Called once on a worker thread with job->rc set. Must not block for long
 * (it holds a hashing thread) and must not submit-and-wait on the same pool.
 * After it returns the pool no longer touches the job. */
typedef void (*sb_hash_done_fn)(struct sb_hash_job *job);

struct sb_hash_job {
    /* filled by the caller */
    enum sb_hash_kind kind;
    const char *password; /* borrowed until done */
    size_t password_len;
    /* VERIFY: the stored encoded hash (borrowed until done). NULL means the
     * account does not exist: the worker spends a verification's time and
     * memory (sb_password_verify_dummy) and answers SB_PW_EMISMATCH. */
    const char *hash;
    sb_hash_done_fn done;
    void *arg; /* for the caller */

    /* results, valid in done */
    int rc;      /* HASH: 0 or an SB_PW_* code; VERIFY: 0 = match, SB_PW_EMISMATCH, ... */
    bool rehash; /* VERIFY matched, but the hash's parameters are not the
                    pool's: store a new hash (job->out holds it if the
                    pool was asked to, see rehash_on_verify) */
    char out[SB_PWHASH_STRBYTES]; /* HASH: the encoded hash; VERIFY with
                                     rehash: the replacement, or "" */

    struct sb_hash_job *next; /* private: queue link */
};

struct sb_hashpool_options {
    size_t n_threads;               /* 0: one per core, at most SB_HASHPOOL_MAX_THREADS */
    size_t queue_cap;               /* jobs waiting (not running); 0: SB_HASHPOOL_QUEUE_CAP */
    struct sb_pwhash_params params; /* for HASH jobs and dummy verifications */
    /* VERIFY that matches a hash made with other parameters: also compute
     * the replacement hash on the worker (job->out), so the caller can store
     * it without another trip through the pool. */
    bool rehash_on_verify;
};

/* Defaults: one thread per core up to 4, a queue of 64, libsodium's
 * INTERACTIVE parameters, rehash_on_verify on. */
void sb_hashpool_options_default(struct sb_hashpool_options *opts);

struct sb_hashpool;

/* Start the pool (opts NULL: the defaults). Returns 0 with *out owned (free
 * with sb_hashpool_close), SB_PW_EPARAMS for parameters below the floor
 * (message in err, which may be NULL), or -1 when the counts are out of
 * range (1..SB_HASHPOOL_LIMIT_THREADS, 1..SB_HASHPOOL_LIMIT_QUEUE). */
int sb_hashpool_open(const struct sb_hashpool_options *opts, struct sb_hashpool **out,
                     struct sb_buf *err);

/* Queue job without waiting. Returns 0 (done will be called exactly once),
 * SB_HASHPOOL_EFULL or SB_HASHPOOL_ECLOSED (done is not called). */
int sb_hashpool_submit(struct sb_hashpool *pool, struct sb_hash_job *job);

/* Queue job and wait for it (for callers that may block: the CLI, tests).
 * job->done is ignored and left unchanged. Returns the submit code when it
 * could not be queued, else job->rc. */
int sb_hashpool_exec(struct sb_hashpool *pool, struct sb_hash_job *job);

/* Run job on the calling thread with params (NULL: defaults), no pool; calls
 * job->done when it is set. Returns job->rc. For the CLI and tests. */
int sb_hash_job_run(struct sb_hash_job *job, const struct sb_pwhash_params *params,
                    bool rehash_on_verify);

/* Counters for metrics (a consistent snapshot). */
struct sb_hashpool_stats {
    size_t n_threads;
    size_t queue_cap;
    size_t queued;                /* waiting now */
    size_t running;               /* on a worker now */
    unsigned long long completed; /* done called */
    unsigned long long rejected;  /* refused with SB_HASHPOOL_EFULL */
    bool closing;                 /* close has begun: draining, refusing new jobs */
};
void sb_hashpool_stats(struct sb_hashpool *pool, struct sb_hashpool_stats *out);

/* Refuse new jobs, let the workers finish every job already queued (each
 * done is called), join them and free the pool. NULL is ignored. Must not
 * be called from a done callback. */
void sb_hashpool_close(struct sb_hashpool *pool);

#endif
