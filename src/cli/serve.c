/* `specbase serve FILE [--db PATH] [--host H] [--port N] [--durability
 * full|normal] [--threads N]`: apply the spec's safe migration plan (an
 * unsafe one is refused with the plan printed), start the single writer and
 * the HTTP server, and serve until SIGTERM or SIGINT; then stop accepting,
 * finish requests in flight, flush the writer and close the database.
 * Every option can come from the environment instead: SPECBASE_DB,
 * SPECBASE_HOST, SPECBASE_PORT, SPECBASE_DURABILITY, SPECBASE_THREADS. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include "api/app.h"
#include "cli/cli.h"
#include "http/proxy.h"
#include "http/server.h"
#include "spec/spec.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/sqlfn.h"
#include "store/stmt.h"
#include "store/writer.h"

static const struct sb_cli_usage usage = {
    "serve",
    "serve FILE [--db PATH] [--host HOST] [--port N] [--durability full|normal] [--threads N]",
    "Serve the spec in FILE: its collections under /rest/v1/ with PostgREST's\n"
    "conventions, /_/health and /_/ready. On start the database is migrated to\n"
    "the spec when the plan is safe; a plan that can lose data, or a schema\n"
    "changed behind the spec's back, stops the server with the report (use\n"
    "`specbase migrate`).\n"
    "\n"
    "  --db PATH          the SQLite database (default: FILE with .db)\n"
    "  --host HOST        address to listen on (default 127.0.0.1)\n"
    "  --port N           port, 0 for any free one (default 3000)\n"
    "  --durability D     full: every acknowledged write is fsynced (default);\n"
    "                     normal: a power loss may drop the last commits\n"
    "  --threads N        HTTP worker threads (default: one per core)\n"
    "\n"
    "Environment: SPECBASE_DB, SPECBASE_HOST, SPECBASE_PORT,\n"
    "SPECBASE_DURABILITY, SPECBASE_THREADS (options win), and the limits\n"
    "SPECBASE_MAX_BODY_BYTES, SPECBASE_MAX_URL_BYTES, SPECBASE_MAX_HEADER_BYTES,\n"
    "SPECBASE_MAX_HEADERS, SPECBASE_IDLE_TIMEOUT, SPECBASE_HEADER_TIMEOUT,\n"
    "SPECBASE_BODY_TIMEOUT, SPECBASE_MAX_CONNECTIONS,\n"
    "SPECBASE_MAX_CONNECTIONS_PER_IP, SPECBASE_MAX_ROWS, SPECBASE_CORS_ORIGINS,\n"
    "SPECBASE_TRUSTED_PROXIES (docs/http.md).\n"
    "SIGTERM or SIGINT stops it gracefully.",
};

struct options {
    const char *file, *db, *host, *port, *durability, *threads;
};

static int parse_number(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o, int *exit_code)
{
    static const struct {
        const char *name;
        size_t offset;
    } valued[] = {
        {"--db", offsetof(struct options, db)},
        {"--host", offsetof(struct options, host)},
        {"--port", offsetof(struct options, port)},
        {"--durability", offsetof(struct options, durability)},
        {"--threads", offsetof(struct options, threads)},
    };
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool taken = false;
        for (size_t k = 0; i > 0 && k < sizeof(valued) / sizeof(valued[0]); k++) {
            size_t len = strlen(valued[k].name);
            const char **slot = (const char **)((char *)o + valued[k].offset);
            if (strcmp(arg, valued[k].name) == 0) {
                if (i + 1 >= argc) {
                    free(rest);
                    *exit_code = sb_cli_usage_error(&usage, "%s needs a value", valued[k].name);
                    return -1;
                }
                *slot = argv[++i];
                taken = true;
            } else if (strncmp(arg, valued[k].name, len) == 0 && arg[len] == '=') {
                *slot = arg + len + 1;
                taken = true;
            }
        }
        if (!taken)
            rest[n_rest++] = argv[i];
    }
    int rc = sb_cli_parse(n_rest, rest, &usage, NULL, 0, &o->file, exit_code);
    free(rest);
    return rc;
}

/* Limits from the environment: SPECBASE_<NAME>=N for each line below. */
static size_t max_rows = 1000;

static int apply_limits(struct sb_http_config *http)
{
    struct limit {
        const char *env;
        long min, max;
        void *field;
        int size; /* sizeof the field: 4 (unsigned) or 8 (size_t) */
    } limits[] = {
        {"SPECBASE_MAX_BODY_BYTES", 1024, 1L << 30, &http->max_body_bytes, sizeof(size_t)},
        {"SPECBASE_MAX_URL_BYTES", 256, 1L << 20, &http->max_url_bytes, sizeof(size_t)},
        {"SPECBASE_MAX_HEADER_BYTES", 1024, 1L << 20, &http->max_header_bytes, sizeof(size_t)},
        {"SPECBASE_MAX_HEADERS", 8, 10000, &http->max_headers, sizeof(unsigned)},
        {"SPECBASE_IDLE_TIMEOUT", 1, 86400, &http->idle_timeout_s, sizeof(unsigned)},
        {"SPECBASE_HEADER_TIMEOUT", 1, 3600, &http->header_timeout_s, sizeof(unsigned)},
        {"SPECBASE_BODY_TIMEOUT", 1, 3600, &http->body_timeout_s, sizeof(unsigned)},
        {"SPECBASE_MAX_CONNECTIONS", 1, 1000000, &http->max_connections, sizeof(unsigned)},
        {"SPECBASE_MAX_CONNECTIONS_PER_IP", 1, 1000000, &http->max_connections_per_ip, sizeof(unsigned)},
        {"SPECBASE_MAX_ROWS", 1, 1000000, &max_rows, sizeof(size_t)},
    };
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        const char *text = getenv(limits[i].env);
        long v;
        if (!text || !*text)
            continue;
        if (parse_number(text, limits[i].min, limits[i].max, &v) != 0) {
            fprintf(stderr, "specbase serve: %s must be %ld to %ld, not '%s'\n", limits[i].env, limits[i].min,
                    limits[i].max, text);
            return -1;
        }
        if (limits[i].size == sizeof(size_t))
            *(size_t *)limits[i].field = (size_t)v;
        else
            *(unsigned *)limits[i].field = (unsigned)v;
    }
    return 0;
}

static void forget_statements(sqlite3 *db, void *arg)
{
    (void)arg;
    sb_stmt_forget(db);
}

static const char *env_or(const char *value, const char *name)
{
    if (value)
        return value;
    const char *env = getenv(name);
    return env && *env ? env : NULL;
}

int sb_cmd_serve(int argc, char **argv)
{
    struct options o = {0};
    int exit_code = 0;
    if (parse_options(argc, argv, &o, &exit_code) != 0)
        return exit_code;
    o.db = env_or(o.db, "SPECBASE_DB");
    o.host = env_or(o.host, "SPECBASE_HOST");
    o.port = env_or(o.port, "SPECBASE_PORT");
    o.durability = env_or(o.durability, "SPECBASE_DURABILITY");
    o.threads = env_or(o.threads, "SPECBASE_THREADS");

    struct sb_http_config http = sb_http_config_default();
    long number;
    if (o.host)
        http.host = o.host;
    if (o.port) {
        if (parse_number(o.port, 0, 65535, &number) != 0)
            return sb_cli_usage_error(&usage, "port must be 0 to 65535, not '%s'", o.port);
        http.port = (int)number;
    }
    if (o.threads) {
        if (parse_number(o.threads, 1, 256, &number) != 0)
            return sb_cli_usage_error(&usage, "threads must be 1 to 256, not '%s'", o.threads);
        http.threads = (unsigned)number;
    }
    if (apply_limits(&http) != 0)
        return SB_EXIT_USAGE;
    struct sb_http_proxies proxies; /* outlives the server, stopped below */
    const char *trusted = getenv("SPECBASE_TRUSTED_PROXIES");
    if (trusted && *trusted) {
        struct sb_buf msg;
        sb_buf_init(&msg);
        if (sb_http_proxies_parse(trusted, &proxies, &msg) != 0) {
            fprintf(stderr, "specbase serve: SPECBASE_TRUSTED_PROXIES: %s\n", sb_buf_str(&msg));
            sb_buf_free(&msg);
            return SB_EXIT_USAGE;
        }
        sb_buf_free(&msg);
        http.trusted_proxies = &proxies;
    }
    http.cors_origins = env_or(NULL, "SPECBASE_CORS_ORIGINS");
    struct sb_writer_options wopts;
    sb_writer_options_default(&wopts);
    wopts.before_close = forget_statements; /* on the writer thread */
    if (o.durability && sb_durability_parse(o.durability, &wopts.db.durability) != 0)
        return sb_cli_usage_error(&usage, "durability must be full or normal, not '%s'", o.durability);

    /* the spec */
    struct sb_buf err;
    sb_buf_init(&err);
    struct sb_model *model = NULL;
    char *text = NULL;
    char *db_default = NULL;
    sqlite3 *db = NULL;
    struct sb_writer *writer = NULL;
    struct sb_app app;
    bool app_ready = false;
    struct sb_http_server *server = NULL;
    int rc = SB_EXIT_INPUT;
    if (sb_spec_load(o.file, &model, &text, &err) != 0) {
        fputs(sb_buf_str(&err), stderr);
        goto done;
    }
    if (!o.db) {
        size_t len = strlen(o.file);
        const char *dot = strrchr(o.file, '.');
        size_t stem = dot && !strchr(dot, '/') ? (size_t)(dot - o.file) : len;
        db_default = malloc(stem + 4);
        memcpy(db_default, o.file, stem);
        memcpy(db_default + stem, ".db", 4);
        o.db = db_default;
    }

    /* before SQLite's first use: no global memory statistics, whose mutex
     * every allocation of every connection would otherwise take */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* the writer's pages are mostly written once: a small cache keeps the
     * server's memory low; readers keep the larger default */
    struct sb_db_options reader_opts = wopts.db;
    wopts.db.cache_kib = 2048;

    /* migrate to the spec when that is safe */
    if (sb_db_open(o.db, SB_DB_WRITE, &wopts.db, &db, &err) != 0) {
        fprintf(stderr, "specbase: %s\n", sb_buf_str(&err));
        goto done;
    }
    struct sb_migrate_options mopts = {
        .allow_data_loss = false, .backup = true, .db_path = o.db, .source_name = o.file,
        .source = text, .source_len = strlen(text), .version = SB_VERSION};
    struct sb_migrate_outcome outcome = {0};
    int mrc = sb_migrate_apply(db, model, &mopts, &outcome, &err);
    if (mrc != 0) {
        if (mrc == SB_STORE_EUNSAFE && outcome.plan) {
            struct sb_buf plan;
            sb_buf_init(&plan);
            sb_plan_print(outcome.plan, &plan);
            fprintf(stderr, "%sspecbase: the plan can lose data; review it and run "
                            "`specbase migrate %s --db %s --apply --allow-data-loss`\n",
                    sb_buf_str(&plan), o.file, o.db);
            sb_buf_free(&plan);
        } else {
            fprintf(stderr, "specbase: %s\n", sb_buf_str(&err));
        }
        if (outcome.plan)
            sb_plan_free(outcome.plan);
        free(outcome.backup_path);
        goto done;
    }
    if (outcome.applied && outcome.backup_path)
        fprintf(stderr, "specbase: migrated %s (backup: %s)\n", o.db, outcome.backup_path);
    else if (outcome.applied)
        fprintf(stderr, "specbase: migrated %s\n", o.db);
    if (outcome.plan)
        sb_plan_free(outcome.plan);
    free(outcome.backup_path);
    sb_db_close(db);
    db = NULL;

    /* signals are waited for by this thread only: block them before any
     * other thread starts, so every thread inherits the mask */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    sb_sqlfn_install();
    sb_buf_reset(&err);
    if (sb_writer_open(o.db, &wopts, &writer, &err) != 0) {
        fprintf(stderr, "specbase: %s\n", sb_buf_str(&err));
        goto done;
    }
    if (sb_app_init(&app, model, o.db, &reader_opts, writer, &err) != 0) {
        fprintf(stderr, "specbase: %s\n", sb_buf_str(&err));
        goto done;
    }
    app_ready = true;
    app.max_rows = max_rows;
    sb_app_observe(&app, &http);
    if (sb_http_start(&http, sb_app_handle, &app, &server, &err) != 0) {
        fprintf(stderr, "specbase: %s\n", sb_buf_str(&err));
        goto done;
    }
    sb_app_serving(&app, server);
    printf("specbase: serving %s on http://%s:%d (db %s, durability %s)\n", o.file, http.host,
           sb_http_port(server), o.db, sb_durability_name(wopts.db.durability));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    fprintf(stderr, "specbase: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    sb_app_serving(&app, NULL);
    unsigned cut = sb_http_stop(server);
    server = NULL;
    if (cut)
        fprintf(stderr, "specbase: %u requests were still running at the shutdown timeout\n", cut);
    rc = SB_EXIT_OK;
done:
    if (server) {
        if (app_ready)
            sb_app_serving(&app, NULL);
        sb_http_stop(server);
    }
    if (writer)
        sb_writer_close(writer);
    if (app_ready)
        sb_app_free(&app);
    if (db)
        sb_db_close(db);
    sb_model_free(model);
    free(text);
    free(db_default);
    sb_buf_free(&err);
    return rc;
}
