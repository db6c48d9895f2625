/* Durable single-row inserts per second through the writer (src/store/writer.c)
 * with 1, 8 and 64 concurrent writer threads, in two modes in the same run:
 *
 *   group   the writer batches whatever is queued into one transaction
 *           (group commit; one fsync acknowledges the whole batch)
 *   single  the same writer with max_batch = 1: one transaction, and so one
 *           fsync, per insert
 *
 * Each measurement uses a fresh database in DIR, durability full (every
 * acknowledged insert has been fsynced), and runs for SECONDS seconds.
 *
 * With --audit, the two modes are instead group commit without and with an
 * audit entry (store/audit.h) appended in each insert's transaction, as the
 * API does for every write: the audit trail's cost on the write path, HTTP
 * left out (so the ratio is the worst case a client could see). As in the
 * API (src/api/records.c), the entry's changes JSON is built by the
 * submitting thread and the entry appended by the writer. --rounds N
 * repeats each pair N times, alternating which mode goes first, and prints
 * every round and the medians; it also prints the writer thread's CPU time
 * per insert, which the other jobs of a shared machine disturb less than
 * the throughput.
 *
 * --audit-cpu measures the entry's CPU cost on the writer alone, without
 * fsync noise: UNITS inserts queued at once (so batches are full), at most
 * 32 per transaction (about the batches of 64 writers), durability normal
 * (commits not fsynced), without and with an entry, rounds times in
 * alternating order; it prints the writer thread's CPU per insert.
 * Usage: bench-writes [--audit [--rounds N]] DIR [SECONDS] [WRITERS...]
 *        (default 2 s; 1 8 64; 1 round)
 *        bench-writes --audit-cpu DIR [ROUNDS] [UNITS]   (default 5; 40000) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/stmt.h"
#include "store/writer.h"

struct run {
    struct sb_writer *writer;
    bool audit;
    double seconds;
    atomic_bool stop;
};

struct worker {
    struct run *run;
    int id;
    unsigned long long inserted, failed;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct row {
    int writer;
    unsigned long long seq;
    bool audit;
    const char *changes; /* the audit entry's, built by the submitting thread */
};

/* The writer thread's CPU clock, taken by its first unit. */
static clockid_t writer_clock;
static atomic_bool writer_clock_set;

/* The insert, prepared once per writer connection as a server's statement
 * cache would; only the writer thread touches it, and it is forgotten when
 * the writer (which finalizes it) closes. Same cost in both modes. */
static sqlite3_stmt *insert_stmt;

static int insert_row(sqlite3 *db, void *arg)
{
    const struct row *row = arg;
    if (!atomic_load(&writer_clock_set) && pthread_getcpuclockid(pthread_self(), &writer_clock) == 0)
        atomic_store(&writer_clock_set, true);
    if (!insert_stmt) {
        int rc = sqlite3_prepare_v3(db, "INSERT INTO event (writer, seq, body) VALUES (?1, ?2, ?3)",
                                    -1, SQLITE_PREPARE_PERSISTENT, &insert_stmt, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    sqlite3_bind_int(insert_stmt, 1, row->writer);
    sqlite3_bind_int64(insert_stmt, 2, (sqlite3_int64)row->seq);
    sqlite3_bind_text(insert_stmt, 3, "a small durable row", -1, SQLITE_STATIC);
    int rc = sqlite3_step(insert_stmt);
    sqlite3_reset(insert_stmt);
    if (rc != SQLITE_DONE)
        return sqlite3_extended_errcode(db);
    if (!row->audit)
        return 0;
    /* what records.c appends for a created row: actor, request, the fields */
    struct sb_audit_entry entry = {
        .actor_sub = "42",
        .actor_role = "customer",
        .actor_addr = "127.0.0.1",
        .request_id = "0b7c6f1e-2f4a-4c1d-9a57-3d2e8f1a6b90",
        .op = SB_AUDIT_OP_CREATE,
        .collection = "event",
        .has_row_id = true,
        .row_id = sqlite3_last_insert_rowid(db),
        .changes = row->changes,
    };
    struct sb_buf err;
    sb_buf_init(&err);
    rc = sb_audit_append(db, &entry, &err);
    sb_buf_free(&err);
    return rc;
}

/* The last unit: finalize the cached statement on the writer thread. */
static int forget_insert(sqlite3 *db, void *arg)
{
    (void)db;
    (void)arg;
    sqlite3_finalize(insert_stmt);
    insert_stmt = NULL;
    sb_stmt_forget(db); /* the audit trail's cached statements */
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    while (!atomic_load(&wk->run->stop)) {
        char changes[128] = "";
        if (wk->run->audit)
            snprintf(changes, sizeof(changes),
                     "{\"writer\":{\"new\":%d},\"seq\":{\"new\":%llu},"
                     "\"body\":{\"new\":\"a small durable row\"}}",
                     wk->id, wk->inserted);
        struct row row = {wk->id, wk->inserted, wk->run->audit, changes};
        if (sb_writer_exec(wk->run->writer, insert_row, &row, NULL) == 0)
            wk->inserted++;
        else
            wk->failed++;
    }
    return NULL;
}

static void remove_db(const char *path)
{
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char file[1024];
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

static double thread_seconds(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One measurement; returns inserts per second (negative on error), the
 * average batch and the writer thread's CPU microseconds per insert. */
static double measure(const char *dir, int n_writers, size_t max_batch, bool audit,
                      double seconds, double *avg_batch, double *cpu_us)
{
    atomic_store(&writer_clock_set, false);
    char path[1024];
    snprintf(path, sizeof(path), "%s/bench-%d-%zu-%d.db", dir, n_writers, max_batch, audit);
    remove_db(path);
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *setup = NULL;
    if (sb_db_open(path, SB_DB_WRITE, NULL, &setup, &err) != 0 ||
        sb_db_exec(setup,
                   "CREATE TABLE event (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, "
                   "seq INTEGER NOT NULL, body TEXT NOT NULL) STRICT",
                   &err) != 0 ||
        sb_audit_schema(setup, &err) != 0) {
        fprintf(stderr, "bench-writes: %s\n", sb_buf_str(&err));
        sb_db_close(setup);
        sb_buf_free(&err);
        return -1;
    }
    sb_db_close(setup);

    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.db.durability = SB_DURABILITY_FULL;
    opts.max_batch = max_batch;
    struct run run = {.seconds = seconds, .audit = audit};
    atomic_init(&run.stop, false);
    if (sb_writer_open(path, &opts, &run.writer, &err) != 0) {
        fprintf(stderr, "bench-writes: %s\n", sb_buf_str(&err));
        sb_buf_free(&err);
        return -1;
    }
    pthread_t *threads = calloc((size_t)n_writers, sizeof(*threads));
    struct worker *workers = calloc((size_t)n_writers, sizeof(*workers));
    double start = now_seconds();
    for (int i = 0; i < n_writers; i++) {
        workers[i] = (struct worker){.run = &run, .id = i};
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    atomic_store(&run.stop, true);
    unsigned long long total = 0, failed = 0;
    for (int i = 0; i < n_writers; i++) {
        pthread_join(threads[i], NULL);
        total += workers[i].inserted;
        failed += workers[i].failed;
    }
    double elapsed = now_seconds() - start;
    double cpu = atomic_load(&writer_clock_set) ? thread_seconds(writer_clock) : 0;
    struct sb_writer_stats stats;
    sb_writer_stats(run.writer, &stats);
    sb_writer_exec(run.writer, forget_insert, NULL, NULL);
    sb_writer_close(run.writer);
    *avg_batch = stats.batches ? (double)stats.units / (double)stats.batches : 0;
    *cpu_us = total ? cpu * 1e6 / (double)total : 0;
    if (failed)
        fprintf(stderr, "bench-writes: %llu inserts failed\n", failed);
    free(threads);
    free(workers);
    sb_buf_free(&err);
    remove_db(path);
    return (double)total / elapsed;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof(*values), compare_double);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

#define MAX_ROUNDS 99

/* Without and with audit entries, rounds times, alternating the order;
 * prints each round and the medians. Returns 0, or 1 on error. */
static int audit_pairs(const char *dir, int n, double seconds, int rounds)
{
    double plain[MAX_ROUNDS], with[MAX_ROUNDS], over[MAX_ROUNDS], cpu_plain[MAX_ROUNDS],
        cpu_with[MAX_ROUNDS], batch[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        double batch_plain = 0;
        bool audit_first = r % 2 == 1;
        for (int k = 0; k < 2; k++) {
            bool audit = audit_first ? k == 0 : k == 1;
            double rate = audit ? measure(dir, n, SB_WRITER_MAX_BATCH, true, seconds, &batch[r],
                                          &cpu_with[r])
                                : measure(dir, n, SB_WRITER_MAX_BATCH, false, seconds,
                                          &batch_plain, &cpu_plain[r]);
            if (rate < 0)
                return 1;
            (audit ? with : plain)[r] = rate;
        }
        over[r] = plain[r] > 0 ? (plain[r] - with[r]) / plain[r] * 100 : 0;
        if (rounds > 1)
            printf("%8d %14.0f %14.0f %8.1f%% %10.1f %7.2f %7.2f   round %d%s\n", n, plain[r],
                   with[r], over[r], batch[r], cpu_plain[r], cpu_with[r], r + 1,
                   audit_first ? " (audit first)" : "");
        fflush(stdout);
    }
    double m_plain = median(plain, rounds), m_with = median(with, rounds);
    printf("%8d %14.0f %14.0f %8.1f%% %10.1f %7.2f %7.2f   %s\n", n, m_plain, m_with,
           median(over, rounds), median(batch, rounds), median(cpu_plain, rounds),
           median(cpu_with, rounds), rounds > 1 ? "median" : "");
    fflush(stdout);
    return 0;
}

static void ignore_done(struct sb_write_unit *unit)
{
    (void)unit;
}

static int sync_unit(sqlite3 *db, void *arg)
{
    (void)db;
    (void)arg;
    return 0;
}

/* One --audit-cpu run: the writer thread's CPU microseconds per insert of
 * n_units queued at once (negative on error). */
static double bulk_cpu(const char *dir, bool audit, int n_units)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/bench-bulk-%d.db", dir, audit);
    remove_db(path);
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *setup = NULL;
    struct sb_writer *writer = NULL;
    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.db.durability = SB_DURABILITY_NORMAL;
    opts.max_batch = 32;
    if (sb_db_open(path, SB_DB_WRITE, NULL, &setup, &err) != 0 ||
        sb_db_exec(setup,
                   "CREATE TABLE event (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, "
                   "seq INTEGER NOT NULL, body TEXT NOT NULL) STRICT",
                   &err) != 0 ||
        sb_audit_schema(setup, &err) != 0 || (sb_db_close(setup), setup = NULL,
                                              sb_writer_open(path, &opts, &writer, &err) != 0)) {
        fprintf(stderr, "bench-writes: %s\n", sb_buf_str(&err));
        sb_db_close(setup);
        sb_buf_free(&err);
        return -1;
    }
    struct bulk {
        struct sb_write_unit unit;
        struct row row;
        char changes[128];
    } *units = calloc((size_t)n_units, sizeof(*units));
    /* a first unit prepares the insert and takes the writer's clock */
    atomic_store(&writer_clock_set, false);
    struct row first = {0, 0, audit, "{}"};
    sb_writer_exec(writer, insert_row, &first, NULL);
    double start = thread_seconds(writer_clock);
    for (int i = 0; i < n_units; i++) {
        struct bulk *b = &units[i];
        snprintf(b->changes, sizeof(b->changes),
                 "{\"writer\":{\"new\":%d},\"seq\":{\"new\":%d},"
                 "\"body\":{\"new\":\"a small durable row\"}}",
                 i % 64, i);
        b->row = (struct row){i % 64, (unsigned long long)i + 1, audit, b->changes};
        b->unit = (struct sb_write_unit){.fn = insert_row, .arg = &b->row, .done = ignore_done};
        if (sb_writer_submit(writer, &b->unit) != 0)
            b->unit.result.rc = -1;
    }
    sb_writer_exec(writer, sync_unit, NULL, NULL); /* after every queued unit */
    double cpu = thread_seconds(writer_clock) - start;
    sb_writer_exec(writer, forget_insert, NULL, NULL);
    sb_writer_close(writer);
    int failed = 0;
    for (int i = 0; i < n_units; i++)
        failed += units[i].unit.result.rc != 0;
    free(units);
    sb_buf_free(&err);
    remove_db(path);
    if (failed) {
        fprintf(stderr, "bench-writes: %d inserts failed\n", failed);
        return -1;
    }
    return cpu * 1e6 / n_units;
}

/* --audit-cpu: rounds pairs, alternating; prints each and the medians. */
static int audit_cpu(const char *dir, int rounds, int n_units)
{
    double plain[MAX_ROUNDS], with[MAX_ROUNDS];
    printf("writer CPU per insert, %d inserts queued at once, batches of 32, durability normal\n",
           n_units);
    printf("%10s %10s %10s\n", "no audit", "with audit", "entry");
    for (int r = 0; r < rounds; r++) {
        bool audit_first = r % 2 == 1;
        for (int k = 0; k < 2; k++) {
            bool audit = audit_first ? k == 0 : k == 1;
            double us = bulk_cpu(dir, audit, n_units);
            if (us < 0)
                return 1;
            (audit ? with : plain)[r] = us;
        }
        printf("%8.2fus %8.2fus %8.2fus   round %d%s\n", plain[r], with[r], with[r] - plain[r],
               r + 1, audit_first ? " (audit first)" : "");
        fflush(stdout);
    }
    double m_plain = median(plain, rounds), m_with = median(with, rounds);
    printf("%8.2fus %8.2fus %8.2fus   median\n", m_plain, m_with, m_with - m_plain);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--audit-cpu")) {
        int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
        int n_units = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 40000;
        if (rounds < 1 || rounds > MAX_ROUNDS || n_units < 1 || n_units > 10000000) {
            fprintf(stderr, "bench-writes: ROUNDS must be 1..%d, UNITS 1..10000000\n", MAX_ROUNDS);
            return 2;
        }
        return audit_cpu(argv[2], rounds, n_units);
    }
    bool audit = argc > 1 && !strcmp(argv[1], "--audit");
    int rounds = 1;
    if (audit) {
        argv++;
        argc--;
        if (argc > 2 && !strcmp(argv[1], "--rounds")) {
            rounds = (int)strtol(argv[2], NULL, 10);
            if (rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "bench-writes: --rounds must be 1..%d\n", MAX_ROUNDS);
                return 2;
            }
            argv += 2;
            argc -= 2;
        }
    }
    if (argc < 2) {
        fprintf(stderr, "usage: bench-writes [--audit [--rounds N]] DIR [SECONDS] [WRITERS...]\n");
        return 2;
    }
    const char *dir = argv[1];
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 2.0;
    if (!(seconds > 0 && seconds < 3600)) {
        fprintf(stderr, "bench-writes: SECONDS must be in (0, 3600)\n");
        return 2;
    }
    int default_writers[] = {1, 8, 64};
    int n_counts = argc > 3 ? argc - 3 : 3;
    printf("durable single-row inserts per second (durability full, %.1f s each)\n", seconds);
    if (audit)
        printf("%8s %14s %14s %9s %10s %7s %7s\n", "writers", "no audit", "with audit", "overhead",
               "avg batch", "cpu-no", "cpu-aud");
    else
        printf("%8s %14s %14s %8s %10s\n", "writers", "group commit", "one txn each", "ratio",
               "avg batch");
    int status = 0;
    for (int i = 0; i < n_counts; i++) {
        int n = argc > 3 ? (int)strtol(argv[3 + i], NULL, 10) : default_writers[i];
        if (n < 1 || n > 1024) {
            fprintf(stderr, "bench-writes: writers must be 1..1024\n");
            return 2;
        }
        if (audit) {
            status |= audit_pairs(dir, n, seconds, rounds);
            continue;
        }
        double batch_group = 0, batch_single = 0, cpu_us = 0;
        double group = measure(dir, n, SB_WRITER_MAX_BATCH, false, seconds, &batch_group, &cpu_us);
        double single = measure(dir, n, 1, false, seconds, &batch_single, &cpu_us);
        if (group < 0 || single < 0) {
            status = 1;
            continue;
        }
        printf("%8d %14.0f %14.0f %7.1fx %10.1f\n", n, group, single,
               single > 0 ? group / single : 0, batch_group);
        fflush(stdout);
    }
    return status;
}
