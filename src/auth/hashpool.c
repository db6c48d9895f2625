/* The password hashing pool, see hashpool.h. A mutex-protected FIFO of
 * caller-owned jobs (an intrusive list, so submitting allocates nothing),
 * a condition variable the workers sleep on, and a count that bounds the
 * queue. Workers take one job at a time, run it through password.c without
 * the lock held, and call its done callback. close sets a flag, wakes every
 * worker and joins them; a worker leaves only when the flag is set and the
 * queue is empty, so every accepted job completes. */
#include "auth/hashpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/die.h"

struct sb_hashpool {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a job was queued, or closing */
    struct sb_hash_job *head, *tail;
    size_t queued, running, queue_cap;
    bool closing;
    unsigned long long completed, rejected;
    struct sb_pwhash_params params;
    bool rehash_on_verify;
    size_t n_threads;
    pthread_t *threads;
};

void sb_hashpool_options_default(struct sb_hashpool_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    sb_password_params_default(&opts->params);
    opts->rehash_on_verify = true;
}

static size_t default_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    return cores > SB_HASHPOOL_MAX_THREADS ? SB_HASHPOOL_MAX_THREADS : (size_t)cores;
}

/* Run one job: fills rc, rehash and out. */
static void run_job(struct sb_hash_job *job, const struct sb_pwhash_params *params,
                    bool rehash_on_verify)
{
    job->rehash = false;
    job->out[0] = '\0';
    if (job->kind == SB_HASH_JOB_HASH) {
        job->rc = sb_password_hash(job->password, job->password_len, params, job->out);
        return;
    }
    if (!job->hash) {
        job->rc = sb_password_verify_dummy(params, job->password, job->password_len);
        return;
    }
    job->rc = sb_password_verify(job->hash, job->password, job->password_len);
    if (job->rc == 0 && sb_password_needs_rehash(job->hash, params)) {
        job->rehash = true;
        if (rehash_on_verify &&
            sb_password_hash(job->password, job->password_len, params, job->out) != 0)
            job->out[0] = '\0';
    }
}

int sb_hash_job_run(struct sb_hash_job *job, const struct sb_pwhash_params *params,
                    bool rehash_on_verify)
{
    run_job(job, params, rehash_on_verify);
    if (job->done)
        job->done(job);
    return job->rc;
}

static void *worker_main(void *arg)
{
    struct sb_hashpool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->closing)
            pthread_cond_wait(&pool->wake, &pool->lock);
        struct sb_hash_job *job = pool->head;
        if (!job)
            break; /* closing and nothing left */
        pool->head = job->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->queued--;
        pool->running++;
        pthread_mutex_unlock(&pool->lock);

        job->next = NULL;
        run_job(job, &pool->params, pool->rehash_on_verify);
        /* counted before done: once done returns, the job (and whoever
         * waits on it) may be gone */
        pthread_mutex_lock(&pool->lock);
        pool->running--;
        pool->completed++;
        pthread_mutex_unlock(&pool->lock);
        job->done(job);

        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int sb_hashpool_open(const struct sb_hashpool_options *opts, struct sb_hashpool **out,
                     struct sb_buf *err)
{
    *out = NULL;
    struct sb_hashpool_options o;
    if (opts)
        o = *opts;
    else
        sb_hashpool_options_default(&o);
    if (sb_password_params_check(&o.params, err) != 0)
        return SB_PW_EPARAMS;
    if (o.n_threads == 0)
        o.n_threads = default_threads();
    if (o.queue_cap == 0)
        o.queue_cap = SB_HASHPOOL_QUEUE_CAP;
    if (o.n_threads > SB_HASHPOOL_LIMIT_THREADS || o.queue_cap > SB_HASHPOOL_LIMIT_QUEUE) {
        if (err)
            sb_buf_printf(err,
                          "hashing pool: %zu threads and a queue of %zu are out of range "
                          "(1..%d threads, 1..%d jobs)",
                          o.n_threads, o.queue_cap, SB_HASHPOOL_LIMIT_THREADS,
                          SB_HASHPOOL_LIMIT_QUEUE);
        return -1;
    }
    if (sodium_init() < 0) {
        if (err)
            sb_buf_puts(err, "hashing pool: libsodium could not be initialised");
        return -1;
    }

    struct sb_hashpool *pool = sb_xcalloc(1, sizeof(*pool));
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->queue_cap = o.queue_cap;
    pool->params = o.params;
    pool->rehash_on_verify = o.rehash_on_verify;
    pool->threads = sb_xcalloc(o.n_threads, sizeof(*pool->threads));
    for (size_t i = 0; i < o.n_threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) {
            if (err)
                sb_buf_puts(err, "hashing pool: could not start a worker thread");
            sb_hashpool_close(pool); /* joins the n_threads already started */
            return -1;
        }
        pool->n_threads++;
    }
    *out = pool;
    return 0;
}

int sb_hashpool_submit(struct sb_hashpool *pool, struct sb_hash_job *job)
{
    job->next = NULL;
    job->rc = 0;
    job->rehash = false;
    job->out[0] = '\0';
    pthread_mutex_lock(&pool->lock);
    if (pool->closing) {
        pthread_mutex_unlock(&pool->lock);
        return SB_HASHPOOL_ECLOSED;
    }
    if (pool->queued >= pool->queue_cap) {
        pool->rejected++;
        pthread_mutex_unlock(&pool->lock);
        return SB_HASHPOOL_EFULL;
    }
    if (pool->tail)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    pool->queued++;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

/* ---- submit and wait ---------------------------------------------------------- */

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool finished;
    sb_hash_done_fn saved_done;
    void *saved_arg;
};

static void wake_waiter(struct sb_hash_job *job)
{
    struct waiter *w = job->arg;
    pthread_mutex_lock(&w->lock);
    w->finished = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int sb_hashpool_exec(struct sb_hashpool *pool, struct sb_hash_job *job)
{
    struct waiter w = {.finished = false, .saved_done = job->done, .saved_arg = job->arg};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    job->done = wake_waiter;
    job->arg = &w;
    int rc = sb_hashpool_submit(pool, job);
    if (rc == 0) {
        pthread_mutex_lock(&w.lock);
        while (!w.finished)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        rc = job->rc;
    }
    job->done = w.saved_done;
    job->arg = w.saved_arg;
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return rc;
}

void sb_hashpool_stats(struct sb_hashpool *pool, struct sb_hashpool_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    out->n_threads = pool->n_threads;
    out->queue_cap = pool->queue_cap;
    out->queued = pool->queued;
    out->running = pool->running;
    out->completed = pool->completed;
    out->rejected = pool->rejected;
    out->closing = pool->closing;
    pthread_mutex_unlock(&pool->lock);
}

void sb_hashpool_close(struct sb_hashpool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->closing = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (size_t i = 0; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    free(pool->threads);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
