/* `specbase audit verify|head|log --db PATH`: the audit trail of a database
 * (store/audit.h). verify walks the hash chain and names the first entry
 * that was modified, deleted, inserted or reordered, and with --head checks
 * the chain against a head exported earlier; head prints "SEQ HASH" for an
 * outside copy; log lists entries as a table or as JSON lines. `specbase
 * threats --db PATH` lists the guard's events (op "threat") and the bans
 * among them that have not run out. The database
 * is opened read-only (SB_DB_INSPECT): nothing is written. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/audit_log.h"
#include "util/json_out.h"

static const struct sb_cli_usage usage = {
    "audit",
    "audit verify|head|log --db PATH [options]",
    "verify --db PATH [--head SEQ:HASH]\n"
    "    Check the whole hash chain of the audit trail. Prints\n"
    "    \"ok: N entries, head SEQ HASH\", or the first entry that was modified,\n"
    "    deleted, inserted or reordered (exit 1). --head also checks that entry\n"
    "    SEQ still has HASH, as printed by `audit head` earlier.\n"
    "head --db PATH\n"
    "    Print \"SEQ HASH\" of the last entry, to keep outside the database.\n"
    "log --db PATH [--since TIME] [--actor SUB] [--collection NAME] [--json]\n"
    "    List entries (at >= TIME, actor_sub = SUB, collection = NAME) as a\n"
    "    table, or as one JSON object per line.",
};

struct options {
    const char *sub, *db_path, *since, *actor, *collection, *head;
    const char *op; /* only entries of this op (threats) */
    bool json;
};

/* 0 parsed, else the exit code to return. */
static int parse(int argc, char **argv, struct options *opts, bool *done)
{
    *done = false;
    memset(opts, 0, sizeof(*opts));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **value = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            printf("usage: specbase %s\n\n%s\n", usage.usage, usage.help);
            *done = true;
            return SB_EXIT_OK;
        } else if (!strcmp(arg, "--json")) {
            opts->json = true;
            continue;
        } else if (!strcmp(arg, "--db")) {
            value = &opts->db_path;
        } else if (!strcmp(arg, "--since")) {
            value = &opts->since;
        } else if (!strcmp(arg, "--actor")) {
            value = &opts->actor;
        } else if (!strcmp(arg, "--collection")) {
            value = &opts->collection;
        } else if (!strcmp(arg, "--head")) {
            value = &opts->head;
        } else if (arg[0] == '-') {
            *done = true;
            return sb_cli_usage_error(&usage, "unknown option '%s'", arg);
        } else if (!opts->sub) {
            opts->sub = arg;
            continue;
        } else {
            *done = true;
            return sb_cli_usage_error(&usage, "unexpected argument '%s'", arg);
        }
        if (i + 1 >= argc) {
            *done = true;
            return sb_cli_usage_error(&usage, "%s needs a value", arg);
        }
        *value = argv[++i];
    }
    *done = true;
    if (!opts->sub)
        return sb_cli_usage_error(&usage, "missing subcommand (verify, head or log)");
    if (strcmp(opts->sub, "verify") && strcmp(opts->sub, "head") && strcmp(opts->sub, "log"))
        return sb_cli_usage_error(&usage, "unknown subcommand '%s'", opts->sub);
    if (!opts->db_path)
        return sb_cli_usage_error(&usage, "missing --db PATH");
    bool is_log = !strcmp(opts->sub, "log");
    if (!is_log && (opts->since || opts->actor || opts->collection || opts->json))
        return sb_cli_usage_error(&usage, "--since, --actor, --collection and --json are for log");
    if (opts->head && strcmp(opts->sub, "verify"))
        return sb_cli_usage_error(&usage, "--head is for verify");
    *done = false;
    return 0;
}

/* Check the exported head "SEQ:HASH" (or "SEQ HASH") against the chain that
 * verified. Returns 0 when it matches, else prints the problem. */
static int check_head(sqlite3 *db, const char *text, const struct sb_audit_report *report)
{
    char *end;
    long long seq = strtoll(text, &end, 10);
    if (end == text || (*end != ':' && *end != ' ') || seq < 1 ||
        strlen(end + 1) != SB_AUDIT_HASH_HEX) {
        fprintf(stderr, "specbase audit: --head wants SEQ:HASH (as `audit head` prints)\n");
        return SB_EXIT_USAGE;
    }
    const char *want = end + 1;
    if (seq > report->head_seq) {
        printf("deleted: entry %lld of the exported head is missing (the trail ends at %" PRId64
               ")\n",
               seq, report->head_seq);
        return SB_EXIT_INPUT;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = SB_EXIT_INPUT;
    if (sqlite3_prepare_v2(db, "SELECT \"hash\" FROM \"_sb_audit\" WHERE \"seq\" = ?1", -1, &stmt,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, seq);
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *got = (const char *)sqlite3_column_text(stmt, 0);
            if (got && !strcmp(got, want))
                rc = SB_EXIT_OK;
            else
                printf("modified: entry %lld differs from the exported head: history was "
                       "rewritten\n",
                       seq);
        }
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int run_verify(sqlite3 *db, const struct options *opts)
{
    struct sb_audit_report report;
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = SB_EXIT_INPUT;
    if (sb_audit_verify(db, &report, &err) != 0) {
        fprintf(stderr, "specbase audit: %s\n", sb_buf_str(&err));
    } else if (report.problem != SB_AUDIT_OK) {
        printf("%s: seq %" PRId64 ": %s\n", sb_audit_problem_name(report.problem), report.seq,
               report.detail);
    } else if (opts->head && (rc = check_head(db, opts->head, &report)) != SB_EXIT_OK) {
        /* reported */
    } else {
        printf("ok: %" PRId64 " entries, head %" PRId64 " %s\n", report.n_entries,
               report.head_seq, report.head_hash);
        rc = SB_EXIT_OK;
    }
    sb_buf_free(&err);
    return rc;
}

static int run_head(sqlite3 *db)
{
    int64_t seq;
    char hash[SB_AUDIT_HASH_HEX + 1];
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = SB_EXIT_INPUT;
    if (sb_audit_head(db, &seq, hash, &err) != 0) {
        fprintf(stderr, "specbase audit: %s\n", sb_buf_str(&err));
    } else {
        printf("%" PRId64 " %s\n", seq, hash);
        rc = SB_EXIT_OK;
    }
    sb_buf_free(&err);
    return rc;
}

/* A column for the table: "-" for NULL, control bytes shown as '?' so that
 * a hostile value cannot drive the terminal. */
static void put_cell(struct sb_buf *out, sqlite3_stmt *stmt, int i, int width)
{
    const unsigned char *text = sqlite3_column_text(stmt, i);
    int n = 0;
    if (!text) {
        sb_buf_putc(out, '-');
        n = 1;
    } else {
        for (; *text; text++, n++)
            sb_buf_putc(out, *text < 0x20 || *text == 0x7f ? '?' : (char)*text);
    }
    if (width > 0) {
        sb_buf_putc(out, ' ');
        if (n < width)
            sb_buf_fill(out, ' ', (size_t)(width - n));
    }
}

static void log_line(struct sb_buf *out, sqlite3_stmt *stmt)
{
    put_cell(out, stmt, 0, 6);
    put_cell(out, stmt, 1, 27);
    put_cell(out, stmt, 6, 13);
    put_cell(out, stmt, 7, 16);
    put_cell(out, stmt, 8, 8);
    put_cell(out, stmt, 2, 24);
    put_cell(out, stmt, 9, 0);
    sb_buf_putc(out, '\n');
}

static int run_log(sqlite3 *db, const struct options *opts)
{
    struct sb_buf out, err;
    sb_buf_init(&out);
    sb_buf_init(&err);
    struct sb_audit_filter filter = {
        .since = opts->since, .actor = opts->actor, .collection = opts->collection, .op = opts->op};
    sqlite3_stmt *stmt = NULL;
    int rc = SB_EXIT_INPUT;
    if (sb_audit_log_query(db, &filter, &stmt, &err) != 0) {
        fprintf(stderr, "specbase audit: %s\n", sb_buf_str(&err));
        goto done;
    }
    if (!opts->json)
        sb_buf_printf(&out, "%-6s %-27s %-13s %-16s %-8s %-24s %s\n", "seq", "at", "op",
                      "collection", "row_id", "actor", "changes");
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (opts->json) {
            sb_audit_row_json(stmt, &out);
            sb_buf_putc(&out, '\n');
        } else {
            log_line(&out, stmt);
        }
        if (out.len > 1 << 16) {
            if (sb_cli_write_stdout(out.data, out.len) != 0)
                goto done;
            sb_buf_reset(&out);
        }
    }
    if (step != SQLITE_DONE) {
        fprintf(stderr, "specbase audit: reading the audit trail: %s\n", sqlite3_errmsg(db));
        goto done;
    }
    if (sb_cli_write_stdout(sb_buf_str(&out), out.len) == 0)
        rc = SB_EXIT_OK;
done:
    sqlite3_finalize(stmt);
    sb_buf_free(&err);
    sb_buf_free(&out);
    return rc;
}

static const struct sb_cli_usage threats_usage = {
    "threats",
    "threats --db PATH [--since TIME] [--json]",
    "List the threat events the guard recorded in the audit trail (injection\n"
    "probes, bursts of 401/403/404, forged tokens, oversized requests, rate\n"
    "limits), then the bans that were imposed less than their duration ago.\n"
    "A ban lives in the server's memory: a restart lifts it early.\n"
    "--since TIME   events at or after TIME (ISO 8601, e.g. 2026-11-25T14:00)\n"
    "--json         one JSON object per line: events as `audit log --json`\n"
    "               prints them, then {\"ban\":{\"address\",\"kind\",\"remaining_seconds\"}}",
};

/* The bans among the recorded events that have not run out yet. */
static int list_bans(sqlite3 *db, bool json)
{
    static const char sql[] =
        "SELECT \"actor_addr\", json_extract(\"changes\", '$.kind'), "
        "  CAST(strftime('%s', \"at\") AS INTEGER) + json_extract(\"changes\", '$.ban_seconds') "
        "  - CAST(strftime('%s', 'now') AS INTEGER) AS remaining "
        "FROM \"_sb_audit\" WHERE \"op\" = 'threat' AND json_valid(\"changes\") "
        "AND json_extract(\"changes\", '$.action') = 'ban' AND remaining > 0 ORDER BY \"seq\"";
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "specbase threats: reading the audit trail: %s\n", sqlite3_errmsg(db));
        return SB_EXIT_INPUT;
    }
    struct sb_buf out;
    sb_buf_init(&out);
    if (!json)
        sb_buf_puts(&out, "\nactive bans\n");
    int n = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *addr = (const char *)sqlite3_column_text(stmt, 0);
        const char *kind = (const char *)sqlite3_column_text(stmt, 1);
        long long remaining = sqlite3_column_int64(stmt, 2);
        n++;
        if (json) {
            sb_buf_puts(&out, "{\"ban\":{\"address\":");
            sb_json_string(&out, addr ? addr : "", addr ? strlen(addr) : 0);
            sb_buf_puts(&out, ",\"kind\":");
            sb_json_string(&out, kind ? kind : "", kind ? strlen(kind) : 0);
            sb_buf_printf(&out, ",\"remaining_seconds\":%lld}}\n", remaining);
        } else {
            sb_buf_printf(&out, "  %-40s %-16s %llds left\n", addr ? addr : "-", kind ? kind : "-",
                          remaining);
        }
    }
    if (!json && !n)
        sb_buf_puts(&out, "  none\n");
    int rc = SB_EXIT_INPUT;
    if (step != SQLITE_DONE)
        fprintf(stderr, "specbase threats: reading the audit trail: %s\n", sqlite3_errmsg(db));
    else if (sb_cli_write_stdout(sb_buf_str(&out), out.len) == 0)
        rc = SB_EXIT_OK;
    sqlite3_finalize(stmt);
    sb_buf_free(&out);
    return rc;
}

static int run(const char *cmd, const struct options *opts);

int sb_cmd_threats(int argc, char **argv)
{
    struct options opts;
    memset(&opts, 0, sizeof(opts));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            printf("usage: specbase %s\n\n%s\n", threats_usage.usage, threats_usage.help);
            return SB_EXIT_OK;
        } else if (!strcmp(arg, "--json")) {
            opts.json = true;
        } else if (!strcmp(arg, "--db") || !strcmp(arg, "--since")) {
            if (i + 1 >= argc)
                return sb_cli_usage_error(&threats_usage, "%s needs a value", arg);
            *(!strcmp(arg, "--db") ? &opts.db_path : &opts.since) = argv[++i];
        } else if (arg[0] == '-') {
            return sb_cli_usage_error(&threats_usage, "unknown option '%s'", arg);
        } else {
            return sb_cli_usage_error(&threats_usage, "unexpected argument '%s'", arg);
        }
    }
    if (!opts.db_path)
        return sb_cli_usage_error(&threats_usage, "missing --db PATH");
    opts.sub = "threats";
    opts.op = "threat";
    return run("threats", &opts);
}

int sb_cmd_audit(int argc, char **argv)
{
    struct options opts;
    bool done;
    int rc = parse(argc, argv, &opts, &done);
    if (done)
        return rc;
    return run("audit", &opts);
}

static int run(const char *cmd, const struct options *opts)
{
    int rc;
    if (access(opts->db_path, F_OK) != 0) {
        fprintf(stderr, "specbase %s: %s: no such database\n", cmd, opts->db_path);
        return SB_EXIT_INPUT;
    }
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = NULL;
    rc = SB_EXIT_INPUT;
    if (sb_db_open(opts->db_path, SB_DB_INSPECT, NULL, &db, &err) != 0) {
        fprintf(stderr, "specbase %s: %s\n", cmd, sb_buf_str(&err));
    } else if (!sb_audit_exists(db)) {
        fprintf(stderr, "specbase %s: %s: no audit trail\n", cmd, opts->db_path);
    } else if (!strcmp(opts->sub, "verify")) {
        rc = run_verify(db, opts);
    } else if (!strcmp(opts->sub, "head")) {
        rc = run_head(db);
    } else if (!strcmp(opts->sub, "threats")) {
        rc = run_log(db, opts);
        if (rc == SB_EXIT_OK)
            rc = list_bans(db, opts->json);
    } else {
        rc = run_log(db, opts);
    }
    sb_db_close(db);
    sb_buf_free(&err);
    return rc;
}
