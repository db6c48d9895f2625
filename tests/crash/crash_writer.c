/* The crash test's two halves (tests/crash/run.sh kills the first with
 * SIGKILL at a random moment, many times, and runs the second after each):
 *
 *   crash_writer load DB ACKLOG ROUND
 *     migrates DB to one of three spec versions (ROUND picks which, so that
 *     kills also land inside migrations, including table rebuilds), then
 *     runs 16 threads that write through the group-commit writer until
 *     killed: each unit inserts an entry and a mirror row pointing at it;
 *     once a unit is acknowledged its key is appended to ACKLOG with
 *     write(2). Durability alternates between full and normal by ROUND (a
 *     killed process loses nothing in either mode; only power loss differs).
 *
 *   crash_writer verify DB ACKLOG
 *     PRAGMA integrity_check is ok, foreign keys hold, the migration history
 *     is intact and matches the live schema (no drift), every acknowledged
 *     key is present, and every entry has its mirror (units are atomic).
 * Exit status 0 when all holds; the report is one line on stdout. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spec/spec.h"
#include "store/db.h"
#include "store/meta.h"
#include "store/migrate.h"
#include "store/writer.h"
#include "util/diag.h"

#define N_THREADS 16

static const char *const specs[3] = {
    "app crash\n"
    "collection entry {\n  writer int required\n  seq int required\n  unique (writer, seq)\n}\n"
    "collection mirror {\n  entry -> entry required on delete cascade\n  note text\n}\n",

    "app crash\n"
    "collection entry {\n  writer int required\n  seq int required\n  tag text(..20)\n"
    "  unique (writer, seq)\n}\n"
    "collection mirror {\n  entry -> entry required on delete cascade\n  note text\n}\n",

    /* drops tag again and tightens note: a table rebuild */
    "app crash\n"
    "collection entry {\n  writer int required\n  seq int required\n  unique (writer, seq)\n}\n"
    "collection mirror {\n  entry -> entry required on delete cascade\n  note text(..100)\n"
    "  index (note)\n}\n",
};

static int fail(const char *what, const char *detail)
{
    printf("FAIL %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
    return 1;
}

static struct sb_model *load_model(const char *text)
{
    struct sb_source source = {"crash.spec", text, strlen(text)};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("crash.spec", text, strlen(text), &diags);
    if (diags.n_errors == 0)
        sb_spec_check(model, &diags);
    bool ok = diags.n_errors == 0;
    sb_diags_free(&diags);
    if (!ok) {
        sb_model_free(model);
        return NULL;
    }
    return model;
}

static int migrate(const char *path, int version)
{
    struct sb_model *model = load_model(specs[version]);
    if (!model)
        return fail("load", "the built-in spec does not check");
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = NULL;
    int rc = sb_db_open(path, SB_DB_WRITE, NULL, &db, &err);
    if (rc == 0) {
        struct sb_migrate_options opts = {
            .allow_data_loss = true,
            .backup =
                false, /* the test kills it thousands of times; backups are tested elsewhere */
            .db_path = path,
            .source_name = "crash.spec",
            .source = specs[version],
            .source_len = strlen(specs[version]),
            .version = "crash-test",
        };
        struct sb_migrate_outcome out;
        rc = sb_migrate_apply(db, model, &opts, &out, &err);
        sb_plan_free(out.plan);
        free(out.backup_path);
    }
    if (rc != 0)
        fail("migrate", sb_buf_str(&err));
    sb_db_close(db);
    sb_model_free(model);
    sb_buf_free(&err);
    return rc != 0;
}

struct load {
    struct sb_writer *writer;
    int ack_fd;
    int writer_id;
};

struct key {
    long long writer, seq;
};

static int insert_pair(sqlite3 *db, void *arg)
{
    const struct key *key = arg;
    sqlite3_stmt *stmt = NULL;
    int rc =
        sqlite3_prepare_v2(db, "INSERT INTO entry (writer, seq) VALUES (?1, ?2)", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, key->writer);
        sqlite3_bind_int64(stmt, 2, key->seq);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return rc;
    long long id = sqlite3_last_insert_rowid(db);
    rc = sqlite3_prepare_v2(db, "INSERT INTO mirror (entry, note) VALUES (?1, 'm')", -1, &stmt,
                            NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, id);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static void *load_thread(void *arg)
{
    struct load *load = arg;
    for (long long seq = 0;; seq++) {
        struct key key = {load->writer_id, seq};
        if (sb_writer_exec(load->writer, insert_pair, &key, NULL) != 0)
            continue; /* not acknowledged: nothing to promise */
        char line[64];
        int len = snprintf(line, sizeof(line), "%lld %lld\n", key.writer, key.seq);
        if (write(load->ack_fd, line, (size_t)len) != len)
            abort();
    }
    return NULL;
}

static int run_load(const char *path, const char *acklog, int round)
{
    if (migrate(path, round % 3) != 0)
        return 1;
    int fd = open(acklog, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        return fail("load", "cannot open the ack log");
    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.db.durability = round % 2 ? SB_DURABILITY_NORMAL : SB_DURABILITY_FULL;
    struct sb_writer *writer = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    if (sb_writer_open(path, &opts, &writer, &err) != 0)
        return fail("load", sb_buf_str(&err));
    struct load loads[N_THREADS];
    pthread_t threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        loads[i] = (struct load){writer, fd, round * 100 + i};
        pthread_create(&threads[i], NULL, load_thread, &loads[i]);
    }
    /* Runs until killed; a safety stop in case nobody does. */
    sleep(60);
    return fail("load", "was not killed within 60 s");
}

static long long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

static int run_verify(const char *path, const char *acklog)
{
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = NULL;
    if (sb_db_open(path, SB_DB_WRITE, NULL, &db, &err) != 0)
        return fail("open", sb_buf_str(&err));
    int status = 0;
    if (count(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'") != 0)
        status = fail("integrity_check", "not ok");
    else if (count(db, "SELECT count(*) FROM pragma_foreign_key_check") != 0)
        status = fail("foreign_key_check", "violations");
    long long n_migrations = 0;
    if (!status && sb_meta_verify(db, &n_migrations, &err) != 0)
        status = fail("migration history", sb_buf_str(&err));
    FILE *log = fopen(acklog, "r");
    bool any_ack = log && fgetc(log) != EOF;
    if (log)
        rewind(log);
    if (!status && n_migrations < 1 && any_ack)
        status = fail("migration history", "empty, but writes were acknowledged");
    if (!status && sb_migrate_drift(db, &err) != 0)
        status = fail("drift after crash", sb_buf_str(&err));
    long long entries = count(db, "SELECT count(*) FROM entry");
    if (!status && entries != count(db, "SELECT count(*) FROM mirror"))
        status = fail("atomic units", "an entry without its mirror, or the reverse");

    long long acked = 0, missing = 0;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM entry WHERE writer = ?1 AND seq = ?2", -1, &stmt,
                       NULL);
    char line[128];
    while (!status && log && fgets(line, sizeof(line), log)) {
        if (!strchr(line, '\n'))
            break; /* a line cut by the kill: it was never complete */
        long long w, s;
        if (sscanf(line, "%lld %lld", &w, &s) != 2)
            continue;
        acked++;
        sqlite3_bind_int64(stmt, 1, w);
        sqlite3_bind_int64(stmt, 2, s);
        if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int64(stmt, 0) != 1) {
            if (missing++ < 5)
                printf("acknowledged but missing: writer %lld seq %lld\n", w, s);
        }
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    if (log)
        fclose(log);
    if (!status && missing)
        status = fail("durability", "acknowledged writes are missing");
    if (!status)
        printf("ok acknowledged %lld, all present; %lld entries; %lld migrations\n", acked, entries,
               n_migrations);
    sb_db_close(db);
    sb_buf_free(&err);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "load") == 0) {
        long round = strtol(argv[4], NULL, 10);
        return run_load(argv[2], argv[3], round < 0 || round > 100000 ? 0 : (int)round);
    }
    if (argc == 4 && strcmp(argv[1], "verify") == 0)
        return run_verify(argv[2], argv[3]);
    fprintf(stderr, "usage: crash_writer load DB ACKLOG ROUND | verify DB ACKLOG\n");
    return 2;
}
