/* Unit tests of src/store/db.c and src/store/writer.c: the pragmas every
 * connection gets, the reader pool (query-only, blocking when empty), and the
 * group-commit writer: concurrent writers all committed, units queued while
 * the writer is busy committed together in one batch, a failing unit rolled
 * back alone while its batch-mates commit, a failing COMMIT failing every
 * unit of its batch, a unit that ends the transaction failing only what
 * was lost with it, and close flushing what is queued. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/writer.h"
#include "test.h"

static char *temp_db(const char *name)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/sb-test-writer-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

__attribute__((destructor)) static void remove_temp_dir(void)
{
    char *path = temp_db("");
    path[strlen(path) - 1] = '\0';
    rmdir(path);
    free(path);
}

static void remove_db(char *path)
{
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char file[512];
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        unlink(file);
    }
    free(path);
}

static long long count_rows(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sb_db_open(path, SB_DB_READ, NULL, &db, NULL), 0);
    sqlite3_stmt *stmt = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sb_db_close(db);
    return n;
}

static void setup_table(const char *path)
{
    sqlite3 *db = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_db_open(path, SB_DB_WRITE, NULL, &db, &err), 0);
    CHECK_EQ_INT(sb_db_exec(db,
                            "CREATE TABLE item (id INTEGER PRIMARY KEY, k TEXT UNIQUE, "
                            "v INTEGER) STRICT;"
                            "CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;"
                            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
                            "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED) STRICT;",
                            &err),
                 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    sb_db_close(db);
    sb_buf_free(&err);
}

/* ---- connections ------------------------------------------------------- */

TEST(db_open_sets_server_pragmas)
{
    char *path = temp_db("pragmas.db");
    struct sb_db_options opts;
    sb_db_options_default(&opts);
    sqlite3 *db = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_db_open(path, SB_DB_WRITE, &opts, &db, &err), 0);
    CHECK_EQ_INT(sb_db_pragma_int(db, "foreign_keys"), 1);
    CHECK_EQ_INT(sb_db_pragma_int(db, "synchronous"), 2); /* FULL */
    CHECK_EQ_INT(sb_db_pragma_int(db, "busy_timeout"), SB_DB_BUSY_TIMEOUT_MS);
    CHECK_EQ_INT(sb_db_pragma_int(db, "temp_store"), 2);
    CHECK_EQ_INT(sb_db_pragma_int(db, "cache_size"), -SB_DB_CACHE_KIB);
    CHECK_EQ_INT(sb_db_pragma_int(db, "query_only"), 0);
    sqlite3_stmt *stmt = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(stmt), SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    /* Double quotes are identifiers only: a typo cannot become a string. */
    CHECK(sb_db_exec(db, "SELECT \"no_such_column\"", NULL) != 0);
    sb_db_close(db);

    opts.durability = SB_DURABILITY_NORMAL;
    CHECK_EQ_INT(sb_db_open(path, SB_DB_READ, &opts, &db, &err), 0);
    CHECK_EQ_INT(sb_db_pragma_int(db, "synchronous"), 1); /* NORMAL */
    CHECK_EQ_INT(sb_db_pragma_int(db, "query_only"), 1);
    CHECK(sb_db_exec(db, "CREATE TABLE nope (x INTEGER)", NULL) != 0);
    sb_db_close(db);
    sb_buf_free(&err);
    remove_db(path);
}

TEST(db_open_reports_errors)
{
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = (sqlite3 *)1;
    CHECK_EQ_INT(sb_db_open("/nonexistent-dir/x.db", SB_DB_WRITE, NULL, &db, &err), SB_STORE_EDB);
    CHECK(db == NULL);
    CHECK(strstr(sb_buf_str(&err), "/nonexistent-dir/x.db") != NULL);
    sb_buf_reset(&err);
    char *path = temp_db("missing.db");
    CHECK_EQ_INT(sb_db_open(path, SB_DB_READ, NULL, &db, &err), SB_STORE_EDB);
    CHECK(access(path, F_OK) != 0); /* a reader never creates the file */
    sb_buf_free(&err);
    remove_db(path);

    enum sb_durability d;
    CHECK_EQ_INT(sb_durability_parse("normal", &d), 0);
    CHECK_EQ_INT(d, SB_DURABILITY_NORMAL);
    CHECK_EQ_INT(sb_durability_parse("FULL", &d), -1);
    CHECK_EQ_STR(sb_durability_name(SB_DURABILITY_FULL), "full");
}

struct pool_borrow {
    struct sb_db_pool *pool;
    atomic_int got;
};

static void *borrow_one(void *arg)
{
    struct pool_borrow *b = arg;
    sqlite3 *db = sb_db_pool_acquire(b->pool);
    atomic_store(&b->got, 1);
    sb_db_pool_release(b->pool, db);
    return NULL;
}

TEST(pool_hands_out_each_connection_once_and_blocks_when_empty)
{
    char *path = temp_db("pool.db");
    setup_table(path);
    struct sb_db_pool *pool = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_db_pool_open(path, 0, NULL, &pool, &err), SB_STORE_EDB);
    CHECK_EQ_INT(sb_db_pool_open(path, 2, NULL, &pool, &err), 0);
    sqlite3 *a = sb_db_pool_acquire(pool);
    sqlite3 *b = sb_db_pool_acquire(pool);
    CHECK(a != b);
    CHECK_EQ_INT(sb_db_pragma_int(a, "query_only"), 1);
    /* A read transaction left open is ended on release. */
    CHECK_EQ_INT(sb_db_exec(a, "BEGIN; SELECT count(*) FROM item;", NULL), 0);

    struct pool_borrow borrow = {.pool = pool};
    pthread_t thread;
    pthread_create(&thread, NULL, borrow_one, &borrow);
    usleep(50 * 1000);
    CHECK_EQ_INT(atomic_load(&borrow.got), 0); /* still waiting */
    sb_db_pool_release(pool, a);
    pthread_join(thread, NULL);
    CHECK_EQ_INT(atomic_load(&borrow.got), 1);
    sqlite3 *c = sb_db_pool_acquire(pool);
    CHECK(sqlite3_get_autocommit(c));
    sb_db_pool_release(pool, c);
    sb_db_pool_release(pool, b);
    sb_db_pool_close(pool);
    sb_buf_free(&err);
    remove_db(path);
}

/* ---- the writer ---------------------------------------------------------- */

struct insert_arg {
    const char *key;
    long long value;
    bool fail_after_insert; /* insert, then fail with the unit's own code */
};

static int insert_fn(sqlite3 *db, void *arg)
{
    struct insert_arg *ins = arg;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO item (k, v) VALUES (?1, ?2)", -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(stmt, 1, ins->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, ins->value);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return sqlite3_extended_errcode(db);
    return ins->fail_after_insert ? -42 : 0;
}

TEST(writer_exec_commits_and_reports)
{
    char *path = temp_db("exec.db");
    setup_table(path);
    struct sb_writer *w = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_writer_open(path, NULL, &w, &err), 0);
    struct insert_arg ok = {"a", 1, false};
    struct sb_write_result res;
    CHECK_EQ_INT(sb_writer_exec(w, insert_fn, &ok, &res), 0);
    CHECK_EQ_INT(res.rc, 0);
    CHECK_EQ_STR(res.message, "");
    /* Visible to a reader as soon as exec returned. */
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item WHERE k = 'a'"), 1);

    /* A constraint violation comes back with SQLite's code and message. */
    CHECK_EQ_INT(sb_writer_exec(w, insert_fn, &ok, &res), SB_STORE_EUNIT);
    CHECK_EQ_INT(res.unit_rc, SQLITE_CONSTRAINT_UNIQUE);
    CHECK_EQ_INT(res.sqlite_code, SQLITE_CONSTRAINT_UNIQUE);
    CHECK(strstr(res.message, "UNIQUE constraint failed: item.k") != NULL);

    /* The unit's own failure code: its insert is rolled back. */
    struct insert_arg own = {"b", 2, true};
    CHECK_EQ_INT(sb_writer_exec(w, insert_fn, &own, &res), SB_STORE_EUNIT);
    CHECK_EQ_INT(res.unit_rc, -42);
    CHECK_EQ_INT(res.sqlite_code, 0);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), 1);

    struct sb_writer_stats stats;
    sb_writer_stats(w, &stats);
    CHECK_EQ_INT(stats.units, 3);
    CHECK_EQ_INT(stats.failures, 2);
    sb_writer_close(w);
    sb_buf_free(&err);
    remove_db(path);
}

/* A unit that holds the writer until the test opens the gate, so that the
 * units queued meanwhile form one batch. */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open;

static int gate_fn(sqlite3 *db, void *arg)
{
    (void)db;
    (void)arg;
    pthread_mutex_lock(&gate_mutex);
    gate_entered = true;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    return 0;
}

static void gate_reset(void)
{
    pthread_mutex_lock(&gate_mutex);
    gate_entered = gate_open = false;
    pthread_mutex_unlock(&gate_mutex);
}

static void gate_wait_entered(void)
{
    pthread_mutex_lock(&gate_mutex);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
}

static void gate_release(void)
{
    pthread_mutex_lock(&gate_mutex);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
}

/* Completion of an async unit: count it under a mutex, wake the test. */
static pthread_mutex_t done_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int n_done;

static void count_done(struct sb_write_unit *unit)
{
    (void)unit;
    pthread_mutex_lock(&done_mutex);
    n_done++;
    pthread_cond_broadcast(&done_cond);
    pthread_mutex_unlock(&done_mutex);
}

static void wait_done(int n)
{
    pthread_mutex_lock(&done_mutex);
    while (n_done < n)
        pthread_cond_wait(&done_cond, &done_mutex);
    pthread_mutex_unlock(&done_mutex);
}

TEST(writer_batches_queued_units_and_a_failing_unit_rolls_back_alone)
{
    char *path = temp_db("batch.db");
    setup_table(path);
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, NULL, &w, NULL), 0);
    gate_reset();
    n_done = 0;

    struct sb_write_unit gate = {.fn = gate_fn, .done = count_done};
    CHECK_EQ_INT(sb_writer_submit(w, &gate), 0);
    gate_wait_entered();

    enum { N = 10 };
    struct insert_arg args[N];
    struct sb_write_unit units[N];
    char keys[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        args[i] = (struct insert_arg){keys[i], i, i == 4}; /* unit 4 fails on its own */
        if (i == 7)
            args[i].key = "k2"; /* unit 7 violates UNIQUE against unit 2 */
        units[i] = (struct sb_write_unit){.fn = insert_fn, .arg = &args[i], .done = count_done};
        CHECK_EQ_INT(sb_writer_submit(w, &units[i]), 0);
    }
    gate_release();
    wait_done(N + 1);

    for (int i = 0; i < N; i++) {
        if (i == 4) {
            CHECK_EQ_INT(units[i].result.rc, SB_STORE_EUNIT);
            CHECK_EQ_INT(units[i].result.unit_rc, -42);
        } else if (i == 7) {
            CHECK_EQ_INT(units[i].result.rc, SB_STORE_EUNIT);
            CHECK_EQ_INT(units[i].result.sqlite_code, SQLITE_CONSTRAINT_UNIQUE);
        } else {
            CHECK_EQ_INT(units[i].result.rc, 0);
        }
    }
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), N - 2);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item WHERE k = 'k4'"), 0);
    CHECK_EQ_INT(count_rows(path, "SELECT v FROM item WHERE k = 'k2'"), 2);

    struct sb_writer_stats stats;
    sb_writer_stats(w, &stats);
    CHECK_EQ_INT(stats.batches, 2); /* the gate alone, then all ten together */
    CHECK_EQ_INT(stats.max_batch_seen, N);
    CHECK_EQ_INT(stats.units, N + 1);
    CHECK_EQ_INT(stats.failures, 2);
    sb_writer_close(w);
    remove_db(path);
}

static int orphan_fn(sqlite3 *db, void *arg)
{
    (void)arg;
    /* Deferred foreign key: the statement succeeds, the COMMIT fails. */
    return sqlite3_exec(db, "INSERT INTO child (parent) VALUES (999)", NULL, NULL, NULL);
}

TEST(writer_failed_commit_fails_every_unit_of_the_batch)
{
    char *path = temp_db("commitfail.db");
    setup_table(path);
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, NULL, &w, NULL), 0);
    gate_reset();
    n_done = 0;
    struct sb_write_unit gate = {.fn = gate_fn, .done = count_done};
    CHECK_EQ_INT(sb_writer_submit(w, &gate), 0);
    gate_wait_entered();
    struct insert_arg a = {"x", 1, false}, b = {"y", 2, false};
    struct sb_write_unit ua = {.fn = insert_fn, .arg = &a, .done = count_done};
    struct sb_write_unit orphan = {.fn = orphan_fn, .done = count_done};
    struct sb_write_unit ub = {.fn = insert_fn, .arg = &b, .done = count_done};
    sb_writer_submit(w, &ua);
    sb_writer_submit(w, &orphan);
    sb_writer_submit(w, &ub);
    gate_release();
    wait_done(4);
    CHECK_EQ_INT(ua.result.rc, SB_STORE_EDB);
    CHECK_EQ_INT(orphan.result.rc, SB_STORE_EDB);
    CHECK_EQ_INT(ub.result.rc, SB_STORE_EDB);
    CHECK_EQ_INT(ua.result.sqlite_code, SQLITE_CONSTRAINT_FOREIGNKEY);
    CHECK(strstr(ua.result.message, "COMMIT: FOREIGN KEY constraint failed") != NULL);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), 0);

    /* The writer goes on with a clean transaction afterwards. */
    struct insert_arg c = {"z", 3, false};
    CHECK_EQ_INT(sb_writer_exec(w, insert_fn, &c, NULL), 0);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), 1);
    sb_writer_close(w);
    remove_db(path);
}

struct load_arg {
    struct sb_writer *writer;
    int thread;
    int n;
    int committed;
};

static void *load_thread(void *arg)
{
    struct load_arg *load = arg;
    for (int i = 0; i < load->n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "t%d-%d", load->thread, i);
        struct insert_arg ins = {key, i, false};
        if (sb_writer_exec(load->writer, insert_fn, &ins, NULL) == 0)
            load->committed++;
    }
    return NULL;
}

TEST(writer_many_threads_all_committed)
{
    char *path = temp_db("threads.db");
    setup_table(path);
    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.db.durability = SB_DURABILITY_NORMAL; /* keep the test quick */
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, &opts, &w, NULL), 0);
    enum { THREADS = 16, PER = 100 };
    pthread_t threads[THREADS];
    struct load_arg loads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        loads[t] = (struct load_arg){w, t, PER, 0};
        pthread_create(&threads[t], NULL, load_thread, &loads[t]);
    }
    int committed = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        committed += loads[t].committed;
    }
    CHECK_EQ_INT(committed, THREADS * PER);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), THREADS * PER);
    struct sb_writer_stats stats;
    sb_writer_stats(w, &stats);
    CHECK_EQ_INT(stats.units, THREADS * PER);
    CHECK(stats.batches <= stats.units);
    sb_writer_close(w);
    remove_db(path);
}

TEST(writer_max_batch_one_runs_one_transaction_per_unit)
{
    char *path = temp_db("single.db");
    setup_table(path);
    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.max_batch = 1;
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, &opts, &w, NULL), 0);
    gate_reset();
    n_done = 0;
    struct sb_write_unit gate = {.fn = gate_fn, .done = count_done};
    sb_writer_submit(w, &gate);
    gate_wait_entered();
    struct insert_arg args[5];
    struct sb_write_unit units[5];
    char keys[5][16];
    for (int i = 0; i < 5; i++) {
        snprintf(keys[i], sizeof(keys[i]), "s%d", i);
        args[i] = (struct insert_arg){keys[i], i, false};
        units[i] = (struct sb_write_unit){.fn = insert_fn, .arg = &args[i], .done = count_done};
        sb_writer_submit(w, &units[i]);
    }
    gate_release();
    wait_done(6);
    struct sb_writer_stats stats;
    sb_writer_stats(w, &stats);
    CHECK_EQ_INT(stats.batches, 6);
    CHECK_EQ_INT(stats.max_batch_seen, 1);
    sb_writer_close(w);
    remove_db(path);
}

TEST(writer_close_flushes_the_queue)
{
    char *path = temp_db("flush.db");
    setup_table(path);
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, NULL, &w, NULL), 0);
    n_done = 0;
    enum { N = 50 };
    struct insert_arg *args = calloc(N, sizeof(*args));
    struct sb_write_unit *units = calloc(N, sizeof(*units));
    char(*keys)[16] = calloc(N, sizeof(*keys));
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "f%d", i);
        args[i] = (struct insert_arg){keys[i], i, false};
        units[i] = (struct sb_write_unit){.fn = insert_fn, .arg = &args[i], .done = count_done};
        CHECK_EQ_INT(sb_writer_submit(w, &units[i]), 0);
    }
    sb_writer_close(w); /* returns only after every queued unit is done */
    CHECK_EQ_INT(n_done, N);
    for (int i = 0; i < N; i++)
        CHECK_EQ_INT(units[i].result.rc, 0);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), N);
    free(args);
    free(units);
    free(keys);
    remove_db(path);
}

static int rollback_fn(sqlite3 *db, void *arg)
{
    (void)arg;
    /* Misuse: ends the whole transaction. The writer must notice. */
    return sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

TEST(writer_survives_a_unit_that_ends_the_transaction)
{
    char *path = temp_db("lost.db");
    setup_table(path);
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, NULL, &w, NULL), 0);
    gate_reset();
    n_done = 0;
    struct sb_write_unit gate = {.fn = gate_fn, .done = count_done};
    CHECK_EQ_INT(sb_writer_submit(w, &gate), 0);
    gate_wait_entered();
    struct insert_arg a = {"before", 1, false}, c = {"after", 2, false};
    struct sb_write_unit ua = {.fn = insert_fn, .arg = &a, .done = count_done};
    struct sb_write_unit ub = {.fn = rollback_fn, .done = count_done};
    struct sb_write_unit uc = {.fn = insert_fn, .arg = &c, .done = count_done};
    sb_writer_submit(w, &ua);
    sb_writer_submit(w, &ub);
    sb_writer_submit(w, &uc);
    gate_release();
    wait_done(4);
    CHECK_EQ_INT(ua.result.rc, SB_STORE_EDB); /* lost with the transaction */
    CHECK_EQ_INT(ub.result.rc, SB_STORE_EDB);
    CHECK_EQ_STR(ub.result.message, "the transaction ended inside a write unit");
    CHECK_EQ_INT(uc.result.rc, 0); /* ran in a new transaction */
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), 1);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item WHERE k = 'after'"), 1);
    sb_writer_close(w);
    remove_db(path);
}

/* A statement cached across units, as a server's statement cache would. */
static sqlite3_stmt *cached_stmt;
static pthread_t unit_thread, close_thread;
static int closes;

static int cached_insert_fn(sqlite3 *db, void *arg)
{
    unit_thread = pthread_self();
    if (!cached_stmt &&
        sqlite3_prepare_v3(db, "INSERT INTO item (k, v) VALUES (?1, 1)", -1,
                           SQLITE_PREPARE_PERSISTENT, &cached_stmt, NULL) != SQLITE_OK)
        return sqlite3_extended_errcode(db);
    sqlite3_bind_text(cached_stmt, 1, arg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(cached_stmt);
    sqlite3_reset(cached_stmt);
    return rc == SQLITE_DONE ? 0 : sqlite3_extended_errcode(db);
}

static void forget_cached(sqlite3 *db, void *arg)
{
    (void)db;
    (void)arg;
    close_thread = pthread_self();
    closes++;
    sqlite3_finalize(cached_stmt);
    cached_stmt = NULL;
}

TEST(writer_before_close_runs_on_the_writer_thread)
{
    char *path = temp_db("cache.db");
    setup_table(path);
    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.before_close = forget_cached;
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, &opts, &w, NULL), 0);
    CHECK_EQ_INT(sb_writer_exec(w, cached_insert_fn, "c1", NULL), 0);
    CHECK_EQ_INT(sb_writer_exec(w, cached_insert_fn, "c2", NULL), 0);
    CHECK(cached_stmt != NULL);
    sb_writer_close(w); /* under ASan, a statement left behind would leak */
    CHECK_EQ_INT(closes, 1);
    CHECK(cached_stmt == NULL);
    CHECK(pthread_equal(unit_thread, close_thread));
    CHECK(!pthread_equal(close_thread, pthread_self()));
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM item"), 2);
    remove_db(path);
}

/* ---- readers that keep their snapshot --------------------------------------- */

static long long snapshot_count(struct sb_db_reader *reader, const uint64_t *commits)
{
    sqlite3 *db = sb_db_reader_snapshot(reader, commits, NULL);
    CHECK(db != NULL);
    if (!db)
        return -1;
    sqlite3_stmt *stmt = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM item", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sb_db_reader_done(reader, true);
    return n;
}

TEST(reader_snapshot_is_reused_until_the_writer_commits)
{
    char *path = temp_db("snap.db");
    setup_table(path);
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, NULL, &w, NULL), 0);
    /* old enough never to expire during the test */
    struct sb_db_snapshots *set = sb_db_snapshots_new(60 * 1000);
    struct sb_db_reader *reader = NULL;
    CHECK_EQ_INT(sb_db_reader_open(set, path, NULL, &reader, NULL), 0);

    uint64_t commits = sb_writer_commits(w);
    CHECK_EQ_INT(snapshot_count(reader, &commits), 0);
    CHECK(sb_db_reader_in_snapshot(reader));

    /* a commit the writer did not count (another connection): the kept
     * snapshot does not see it, which shows it was reused */
    sqlite3 *other = NULL;
    CHECK_EQ_INT(sb_db_open(path, SB_DB_WRITE, NULL, &other, NULL), 0);
    CHECK_EQ_INT(sb_db_exec(other, "INSERT INTO item (k, v) VALUES ('x', 1)", NULL), 0);
    CHECK_EQ_INT(snapshot_count(reader, &commits), 0);

    /* a commit through the writer: the next snapshot sees both */
    struct insert_arg ins = {"y", 2, false};
    CHECK_EQ_INT(sb_writer_exec(w, insert_fn, &ins, NULL), 0);
    CHECK(sb_writer_commits(w) > commits);
    commits = sb_writer_commits(w);
    CHECK_EQ_INT(snapshot_count(reader, &commits), 2);

    /* without a commit count, every use is a fresh transaction */
    CHECK_EQ_INT(sb_db_exec(other, "INSERT INTO item (k, v) VALUES ('z', 3)", NULL), 0);
    CHECK_EQ_INT(snapshot_count(reader, NULL), 3);
    CHECK(!sb_db_reader_in_snapshot(reader));

    /* the plain connection has no transaction open, for callers' BEGIN */
    CHECK_EQ_INT(snapshot_count(reader, &commits), 3);
    sqlite3 *db = sb_db_reader_conn(reader);
    CHECK(sqlite3_get_autocommit(db));
    CHECK_EQ_INT(sb_db_exec(db, "BEGIN; SELECT 1; COMMIT;", NULL), 0);
    /* one left open there does not break the next snapshot */
    CHECK_EQ_INT(sb_db_exec(db, "BEGIN; SELECT 1;", NULL), 0);
    CHECK_EQ_INT(snapshot_count(reader, &commits), 3);

    sb_db_close(other);
    sb_db_reader_close(reader);
    sb_db_snapshots_free(set);
    sb_writer_close(w);
    remove_db(path);
}

TEST(reader_snapshot_left_open_is_ended_by_the_sweeper)
{
    char *path = temp_db("sweep.db");
    setup_table(path);
    struct sb_db_snapshots *set = sb_db_snapshots_new(20);
    struct sb_db_reader *reader = NULL;
    CHECK_EQ_INT(sb_db_reader_open(set, path, NULL, &reader, NULL), 0);
    uint64_t commits = 0;
    CHECK_EQ_INT(snapshot_count(reader, &commits), 0);
    CHECK(sb_db_reader_in_snapshot(reader));
    /* this thread goes idle: the snapshot must not stay open */
    bool open = true;
    for (int i = 0; i < 200 && open; i++) {
        usleep(10 * 1000);
        open = sb_db_reader_in_snapshot(reader);
    }
    CHECK(!open);
    /* and with it gone, a checkpoint can copy every frame back */
    sqlite3 *other = NULL;
    CHECK_EQ_INT(sb_db_open(path, SB_DB_WRITE, NULL, &other, NULL), 0);
    CHECK_EQ_INT(sb_db_exec(other, "INSERT INTO item (k, v) VALUES ('x', 1)", NULL), 0);
    int log_frames = -1, copied = -1;
    CHECK_EQ_INT(sqlite3_wal_checkpoint_v2(other, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                           &copied),
                 SQLITE_OK);
    CHECK(log_frames > 0);
    CHECK_EQ_INT(copied, log_frames);
    sb_db_close(other);
    sb_db_reader_close(reader);
    sb_db_snapshots_free(set);
    remove_db(path);
}
