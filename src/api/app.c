/* The application context and the router of /rest/v1 and /_/ (see app.h).
 * Routes: /rest/v1/ (OpenAPI), /rest/v1/<collection> (records.c),
 * /rest/v1/rpc/<action> (actions.c), /auth/v1/ (auth.c), /_/health,
 * /_/ready, /_/metrics, /_/threats and /_/audit (audit_api.c). Everything
 * else is PostgREST's 404 PGRST125. Every request but the health checks passes the guard first
 * (guard/threat.h): bans, rate limits, the probe scanner. */
#include "api/app.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "api/actions.h"
#include "api/auth.h"
#include "api/openapi.h"
#include "spec/spec.h"
#include "store/meta.h"
#include "store/stmt.h"
#include "util/json_out.h"
#include "util/die.h"
#include "util/clock.h"

static void close_reader(void *value)
{
    struct sb_db_reader *reader = value;
    sb_stmt_forget(sb_db_reader_conn(reader)); /* runs on the thread that used it */
    sb_db_reader_close(reader);
}

int64_t sb_app_now_us(void)
{
    return sb_mono_us();
}

void sb_app_db_time(struct sb_app *app, int64_t since_us)
{
    sb_metrics_db_time(app->metrics, sb_app_now_us() - since_us);
}

/* "N" (N per second, burst 2N) or "N/B" (burst B), N in 0.001..1e6, B in
 * 1..1e7. Returns 0, or -1 with a message in err. */
static int parse_rate(const char *name, const char *text, struct sb_ratelimit_rate *out,
                      struct sb_buf *err)
{
    char *end = NULL;
    double rate = strtod(text, &end);
    double burst = rate * 2;
    if (end != text && *end == '/') {
        const char *b = end + 1;
        burst = strtod(b, &end);
        if (end == b)
            end = (char *)text;
    }
    if (end == text || *end || !(rate >= 0.001 && rate <= 1e6) || !(burst >= 1 && burst <= 1e7)) {
        sb_buf_printf(err,
                      "%s must be a rate per second, optionally with a burst (\"50\" or "
                      "\"50/100\"); got \"%s\"",
                      name, text);
        return -1;
    }
    out->per_second = rate;
    out->burst = burst < 1 ? 1 : burst;
    return 0;
}

/* "kind=action,kind=action" over cfg's policy. Returns 0, or -1 with a
 * message in err. */
static int parse_policy(const char *text, struct sb_guard_config *cfg, struct sb_buf *err)
{
    const char *p = text;
    while (*p) {
        char item[64];
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof(item)) {
            sb_buf_printf(err, "SPECBASE_THREAT_POLICY: malformed item near \"%.20s\"", p);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = 0;
        p += n + (p[n] == ',');
        char *eq = strchr(item, '=');
        int kind = -1, action = -1;
        if (eq) {
            *eq = 0;
            kind = sb_threat_kind_parse(item);
            action = sb_threat_action_parse(eq + 1);
        }
        if (kind < 0 || action < 0) {
            sb_buf_puts(err, "SPECBASE_THREAT_POLICY: each item is KIND=ACTION, KIND one of");
            for (int k = 0; k < SB_THREAT_N_KINDS; k++)
                sb_buf_printf(err, "%s %s", k ? "," : "", sb_threat_kind_name(k));
            sb_buf_puts(err, "; ACTION one of log, throttle, ban");
            return -1;
        }
        cfg->action[kind] = (enum sb_threat_action)action;
    }
    return 0;
}

/* The guard's three rates: the spec's name for each (security block,
 * `limit SCOPE:`), its environment variable and its place in the config. */
static const struct {
    const char *scope, *env;
    size_t offset;
} guard_rates[] = {
    {"address", "SPECBASE_RATE_LIMIT", offsetof(struct sb_guard_config, per_address)},
    {"user", "SPECBASE_USER_RATE_LIMIT", offsetof(struct sb_guard_config, per_principal)},
    {"auth", "SPECBASE_AUTH_RATE_LIMIT", offsetof(struct sb_guard_config, auth_per_address)},
};
#define N_GUARD_RATES (sizeof(guard_rates) / sizeof(guard_rates[0]))

static struct sb_ratelimit_rate *guard_rate(struct sb_guard_config *cfg, size_t i)
{
    return (struct sb_ratelimit_rate *)((char *)cfg + guard_rates[i].offset);
}

/* The spec's security block over cfg: limits and the policy (checked by
 * the spec's checker). A limit without a burst may spend its whole unit's
 * allowance at once. */
static void spec_guard_config(const struct sb_model *model, struct sb_guard_config *cfg)
{
    for (size_t i = 0; i < N_GUARD_RATES; i++) {
        const struct sb_security_entry *e = sb_security_limit(model, guard_rates[i].scope);
        if (!e)
            continue;
        struct sb_ratelimit_rate *rate = guard_rate(cfg, i);
        rate->per_second = (double)e->count / (double)e->per_s;
        rate->burst = (double)(e->burst_offset ? e->burst : e->count);
    }
    const struct sb_security *sec = &model->security;
    for (size_t i = 0; i < sec->n_entries; i++) {
        const struct sb_security_entry *e = &sec->entries[i];
        int kind = e->kind == SB_SEC_ON ? sb_threat_kind_parse(e->name) : -1;
        int action = kind >= 0 ? sb_threat_action_parse(e->action) : -1;
        if (action < 0)
            continue;
        cfg->action[kind] = (enum sb_threat_action)action;
        cfg->duration_s[kind] = e->duration_offset ? e->duration_n * e->duration_unit_s : 0;
    }
}

/* The guard's configuration: the defaults, the spec's security block, then
 * the environment, which overrides both (docs/security.md). */
static int guard_config(const struct sb_model *model, struct sb_guard_config *cfg, struct sb_buf *err)
{
    sb_guard_config_default(cfg);
    spec_guard_config(model, cfg);
    const char *on = getenv("SPECBASE_GUARD");
    if (on && *on) {
        if (!strcmp(on, "off"))
            cfg->enabled = false;
        else if (strcmp(on, "on") != 0) {
            sb_buf_printf(err, "SPECBASE_GUARD must be \"on\" or \"off\"; got \"%s\"", on);
            return -1;
        }
    }
    for (size_t i = 0; i < N_GUARD_RATES; i++) {
        const char *text = getenv(guard_rates[i].env);
        if (text && *text && parse_rate(guard_rates[i].env, text, guard_rate(cfg, i), err) != 0)
            return -1;
    }
    const char *policy = getenv("SPECBASE_THREAT_POLICY");
    if (policy && *policy && parse_policy(policy, cfg, err) != 0)
        return -1;
    const char *ban = getenv("SPECBASE_BAN_SECONDS");
    if (ban && *ban) {
        char *end = NULL;
        long long v = strtoll(ban, &end, 10);
        if (end == ban || *end || v < 1 || v > 7 * 24 * 3600) {
            sb_buf_printf(err, "SPECBASE_BAN_SECONDS must be 1..604800; got \"%s\"", ban);
            return -1;
        }
        cfg->ban_s = v;
        cfg->throttle_s = v;
        memset(cfg->duration_s, 0, sizeof(cfg->duration_s));
    }
    return 0;
}

/* An audit entry in a transaction of its own, for events whose request
 * wrote nothing (its unit rolled back, or it never had one): queued on the
 * writer, not waited for. Strings are copied. */
struct later_unit {
    struct sb_write_unit unit;
    enum sb_audit_op op;
    char *sub, *role, *addr, *request_id, *collection, *changes;
};

static char *copy_or_null(const char *s)
{
    if (!s || !*s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = sb_xmalloc(n);
    memcpy(out, s, n);
    return out;
}

static int later_write(sqlite3 *db, void *arg)
{
    struct later_unit *t = arg;
    struct sb_audit_entry entry = {
        .actor_sub = t->sub,
        .actor_role = t->role,
        .actor_addr = t->addr,
        .request_id = t->request_id,
        .op = t->op,
        .collection = t->collection,
        .changes = t->changes,
    };
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_audit_append(db, &entry, &err);
    sb_buf_free(&err);
    return rc == 0 ? 0 : -1;
}

static void later_done(struct sb_write_unit *unit)
{
    struct later_unit *t = unit->arg;
    free(t->sub);
    free(t->role);
    free(t->addr);
    free(t->request_id);
    free(t->collection);
    free(t->changes);
    free(t);
}

static void audit_later(struct sb_app *app, const char *sub, const char *role, const char *addr,
                        const char *request_id, enum sb_audit_op op, const char *collection,
                        char *changes)
{
    struct later_unit *t = sb_xcalloc(1, sizeof(*t));
    t->op = op;
    t->sub = copy_or_null(sub);
    t->role = copy_or_null(role);
    t->addr = copy_or_null(addr);
    t->request_id = copy_or_null(request_id);
    t->collection = copy_or_null(collection);
    t->changes = changes; /* taken */
    t->unit.fn = later_write;
    t->unit.arg = t;
    t->unit.done = later_done;
    if (!app->writer || sb_writer_submit(app->writer, &t->unit) != 0)
        later_done(&t->unit); /* closing: not recorded */
}

void sb_app_audit_denied(struct sb_app *app, struct sb_http_request *req, const struct sb_identity *who,
                         const char *collection, const struct sb_api_error *err)
{
    char sub[24] = "";
    if (who && who->has_id)
        snprintf(sub, sizeof(sub), "%lld", (long long)who->id);
    struct sb_buf changes;
    sb_buf_init(&changes);
    sb_buf_puts(&changes, "{\"method\":");
    sb_json_string(&changes, req->method, strlen(req->method));
    sb_buf_puts(&changes, ",\"message\":");
    sb_json_string(&changes, err->message ? err->message : "", err->message ? strlen(err->message) : 0);
    sb_buf_putc(&changes, '}');
    audit_later(app, sub, who ? who->role : NULL, req->client_addr, req->request_id,
                SB_AUDIT_OP_RULE_DENIED, collection, sb_buf_take(&changes));
}

/* Threat events go to the audit trail too, so that `specbase threats`
 * lists them after the fact. The ring takes a kind from an address at most
 * once per repeat interval, which bounds the writes an attacker can cause. */
static void threat_sink(const struct sb_threat_event *event, void *ctx)
{
    struct sb_app *app = ctx;
    struct sb_buf json;
    sb_buf_init(&json);
    sb_threat_event_json(event, &json);
    if (event->action == SB_THREAT_BAN && json.len && json.data[json.len - 1] == '}') {
        json.len--; /* how long the ban lasts, for the list of bans */
        sb_buf_printf(&json, ",\"ban_seconds\":%lld}", (long long)app->ban_s[event->kind]);
    }
    audit_later(app, NULL, NULL, event->addr, NULL, SB_AUDIT_OP_THREAT, NULL, sb_buf_take(&json));
}

static void count_batch(void *ctx, size_t units)
{
    sb_metrics_batch(ctx, (int64_t)units);
}

static void observe(void *ctx, const char *addr, const char *raw_path, int status, uint64_t us)
{
    struct sb_app *app = ctx;
    if (addr)
        sb_guard_after(app->guard, addr, status, sb_app_now_us());
    sb_metrics_request(app->metrics, raw_path ? sb_metrics_route_family(raw_path) : SB_ROUTE_OTHER,
                       status, (int64_t)us);
}

void sb_app_observe(struct sb_app *app, struct sb_http_config *cfg)
{
    cfg->observe = observe;
    cfg->observe_ctx = app;
}

void sb_app_serving(struct sb_app *app, struct sb_http_server *server)
{
    atomic_store(&app->server, server);
}

int sb_app_init(struct sb_app *app, const struct sb_model *model, const char *db_path,
                const struct sb_db_options *opts, struct sb_writer *writer, struct sb_buf *err)
{
    memset(app, 0, sizeof(*app));
    app->model = model;
    app->db_path = db_path;
    if (opts)
        app->db_opts = *opts;
    else
        sb_db_options_default(&app->db_opts);
    app->writer = writer;
    app->dialect = &sb_dialect_sqlite;
    app->max_rows = 1000;
    if (pthread_key_create(&app->reader_key, close_reader) != 0) {
        sb_buf_puts(err, "cannot create the reader key");
        return -1;
    }
    app->reader_key_made = true;
    app->snapshots = sb_db_snapshots_new(0);
    if (!app->snapshots) {
        sb_buf_puts(err, "cannot start the snapshot thread");
        return -1;
    }
    struct sb_guard_config gcfg;
    if (guard_config(model, &gcfg, err) != 0)
        return -1;
    app->guard = sb_guard_new(&gcfg);
    for (int k = 0; k < SB_THREAT_N_KINDS; k++)
        app->ban_s[k] = gcfg.duration_s[k] ? gcfg.duration_s[k] : gcfg.ban_s;
    app->metrics = sb_metrics_new();
    const char *token = getenv("SPECBASE_METRICS_TOKEN");
    if (token && *token) {
        if (strlen(token) < 16) {
            sb_buf_puts(err, "SPECBASE_METRICS_TOKEN must be at least 16 characters");
            return -1;
        }
        size_t n = strlen(token) + 1;
        app->metrics_token = sb_xmalloc(n);
        memcpy(app->metrics_token, token, n);
    }
    if (writer) {
        sb_writer_on_batch(writer, count_batch, app->metrics);
        sb_guard_set_sink(app->guard, threat_sink, app);
    }
    /* the model never changes while serving: describe it once */
    struct sb_buf doc;
    sb_buf_init(&doc);
    if (sb_openapi_render(model, SB_OPENAPI_SERVER_URL, &doc) != 0) {
        sb_buf_free(&doc);
        sb_buf_puts(err, "cannot describe the API");
        return -1;
    }
    app->openapi_len = doc.len;
    app->openapi = sb_buf_take(&doc);
    sb_buf_init(&doc);
    sb_spec_to_json(model, &doc);
    sb_sha256_hex(sb_buf_str(&doc), doc.len, app->spec_hash);
    sb_buf_free(&doc);
    return sb_auth_init(app, err);
}

void sb_app_free(struct sb_app *app)
{
    sb_auth_free(app);
    free(app->openapi);
    app->openapi = NULL;
    sb_guard_free(app->guard);
    app->guard = NULL;
    sb_metrics_free(app->metrics);
    app->metrics = NULL;
    free(app->metrics_token);
    app->metrics_token = NULL;
    /* the calling thread's reader, if it made one (worker threads close
     * theirs when they exit) */
    if (app->reader_key_made) {
        struct sb_db_reader *reader = pthread_getspecific(app->reader_key);
        if (reader) {
            close_reader(reader);
            pthread_setspecific(app->reader_key, NULL);
        }
        pthread_key_delete(app->reader_key);
        app->reader_key_made = false;
    }
    sb_db_snapshots_free(app->snapshots);
    app->snapshots = NULL;
}

static struct sb_db_reader *thread_reader(struct sb_app *app, struct sb_buf *err)
{
    struct sb_db_reader *reader = pthread_getspecific(app->reader_key);
    if (reader)
        return reader;
    if (sb_db_reader_open(app->snapshots, app->db_path, &app->db_opts, &reader, err) != 0)
        return NULL;
    pthread_setspecific(app->reader_key, reader);
    return reader;
}

sqlite3 *sb_app_reader(struct sb_app *app, struct sb_buf *err)
{
    struct sb_db_reader *reader = thread_reader(app, err);
    return reader ? sb_db_reader_conn(reader) : NULL;
}

sqlite3 *sb_app_read_snapshot(struct sb_app *app, struct sb_buf *err)
{
    struct sb_db_reader *reader = thread_reader(app, err);
    if (!reader)
        return NULL;
    /* without a writer there is no count of commits: a fresh transaction */
    uint64_t commits = app->writer ? sb_writer_commits(app->writer) : 0;
    return sb_db_reader_snapshot(reader, app->writer ? &commits : NULL, err);
}

void sb_app_read_done(struct sb_app *app, bool keep)
{
    sb_db_reader_done(pthread_getspecific(app->reader_key), keep);
}

const struct sb_identity *sb_app_identity(struct sb_app *app, struct sb_http_request *req,
                                          struct sb_api_error *err)
{
    const struct sb_identity *who = sb_auth_identity(app, req, err);
    if (!who) {
        /* a bad signature or header, not an expired token: someone is
         * trying tokens they did not get from us */
        if (!strcmp(err->code, "PGRST301"))
            sb_guard_report(app->guard, SB_THREAT_JWT_TAMPERING, req->client_addr,
                            err->message, sb_app_now_us());
        return NULL;
    }
    if (who->has_id) {
        char sub[24];
        snprintf(sub, sizeof(sub), "%lld", (long long)who->id);
        int wait = 0;
        if (sb_guard_principal(app->guard, req->client_addr, sub, sb_app_now_us(), &wait) !=
            SB_GUARD_GO) {
            sb_api_error_set(err, 429, "SB013",
                             "Too many requests for this account; retry in %d seconds", wait);
            return NULL;
        }
    }
    return who;
}

int sb_app_audit(struct sb_app *app, sqlite3 *db, struct sb_http_request *req, const struct sb_identity *who,
                 enum sb_audit_op op, const char *collection, bool has_row, int64_t row_id, const char *changes)
{
    (void)app;
    char sub[24] = "";
    if (who && who->has_id)
        snprintf(sub, sizeof(sub), "%lld", (long long)who->id);
    struct sb_audit_entry entry = {
        .actor_sub = sub[0] ? sub : NULL,
        .actor_role = who ? who->role : NULL,
        .actor_addr = req ? req->client_addr : NULL,
        .request_id = req ? req->request_id : NULL,
        .op = op,
        .collection = collection,
        .has_row_id = has_row,
        .row_id = row_id,
        .changes = changes,
    };
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_audit_append(db, &entry, &err);
    sb_buf_free(&err);
    return rc == 0 ? 0 : -1;
}

void sb_app_error(struct sb_http_response *resp, const struct sb_api_error *err)
{
    sb_http_response_error(resp, err);
}

static void error_response(struct sb_http_response *resp, int status, const char *code, const char *message)
{
    struct sb_api_error err = {0};
    sb_api_error_set(&err, status, code, "%s", message);
    sb_http_response_error(resp, &err);
    sb_api_error_clear(&err);
}

/* A unit that reads through the writer's connection: the thread is alive,
 * the connection usable and a transaction commits. */
static int ready_probe(sqlite3 *db, void *arg)
{
    (void)arg;
    return sqlite3_exec(db, "SELECT 1 FROM _sb_migrations LIMIT 1", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void health(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp,
                   bool ready)
{
    resp->content_type = SB_HTTP_JSON;
    if (!ready) {
        sb_buf_puts(&resp->body, "{\"status\":\"ok\"}");
        return;
    }
    struct sb_buf err;
    sb_buf_init(&err);
    const char *reason = NULL;
    sqlite3 *db = sb_app_reader(app, &err);
    char applied[65];
    int found = db ? sb_meta_applied_hash(db, applied, &err) : -1;
    if (found < 0)
        reason = "the database cannot be read";
    else if (found == 0)
        reason = "no spec is applied";
    else if (strcmp(applied, app->spec_hash) != 0)
        reason = "the database holds another spec than the one served (migrated behind the server?)";
    /* and the write path: the writer thread runs a unit and commits */
    else if (app->writer && sb_writer_exec(app->writer, ready_probe, NULL, NULL) != 0)
        reason = "the writer cannot commit";
    sb_buf_free(&err);
    (void)req;
    if (reason) {
        resp->status = 503;
        sb_buf_puts(&resp->body, "{\"status\":\"unavailable\",\"reason\":");
        sb_json_string(&resp->body, reason, strlen(reason));
        sb_buf_putc(&resp->body, '}');
        return;
    }
    sb_buf_puts(&resp->body, "{\"status\":\"ready\"}");
}

/* The guard's refusal: 403 for a banned address, 429 over a rate; in
 * GoTrue's shape under /auth/v1/, PostgREST's elsewhere. */
static void refuse(struct sb_http_response *resp, enum sb_guard_verdict verdict, bool auth, int wait)
{
    char text[24];
    snprintf(text, sizeof(text), "%d", wait > 0 ? wait : 1);
    sb_http_response_header(resp, "Retry-After", text);
    bool banned = verdict == SB_GUARD_BANNED;
    const char *msg = banned ? "This address is blocked for a while after suspicious activity"
                             : "Too many requests; slow down";
    if (auth)
        return sb_auth_error(resp, banned ? 403 : 429,
                             banned ? "request_blocked" : "over_request_rate_limit", msg);
    error_response(resp, banned ? 403 : 429, banned ? "SB012" : "SB013", msg);
}

/* The metrics and the threat view are for the operator: the service key,
 * or SPECBASE_METRICS_TOKEN as a bearer token. */
static bool operator_request(struct sb_app *app, struct sb_http_request *req)
{
    const char *auth = sb_http_header(req, "Authorization");
    if (app->metrics_token && auth && !strncasecmp(auth, "Bearer ", 7)) {
        const char *given = auth + 7;
        size_t n = strlen(app->metrics_token);
        if (strlen(given) == n && sodium_memcmp(given, app->metrics_token, n) == 0)
            return true;
    }
    struct sb_api_error err = {0};
    const struct sb_identity *who = sb_auth_identity(app, req, &err);
    sb_api_error_clear(&err);
    return who && who->bypass_rules;
}

static void operator_view(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp,
                          bool metrics)
{
    if (req->method_id != SB_HTTP_GET && req->method_id != SB_HTTP_HEAD) {
        sb_http_response_header(resp, "Allow", "GET, HEAD");
        error_response(resp, 405, "PGRST117", "Unsupported HTTP method");
        return;
    }
    if (!operator_request(app, req)) {
        sb_http_response_header(resp, "WWW-Authenticate", "Bearer");
        error_response(resp, 401, "PGRST302", "This endpoint needs the service key or the metrics token");
        return;
    }
    sb_http_response_header(resp, "Cache-Control", "no-store");
    int64_t now = sb_app_now_us();
    struct sb_guard_stats gstats;
    sb_guard_stats(app->guard, now, &gstats);
    if (metrics) {
        struct sb_writer_stats wstats;
        struct sb_http_stats hstats;
        struct sb_metrics_sources sources = {.guard = &gstats};
        if (app->writer) {
            sb_writer_stats(app->writer, &wstats);
            sb_metrics_queue_depth(app->metrics, (int64_t)wstats.queued);
            sources.writer = &wstats;
        }
        struct sb_http_server *server = atomic_load(&app->server);
        if (server) {
            sb_http_stats(server, &hstats);
            sources.http = &hstats;
        }
        resp->content_type = SB_METRICS_CONTENT_TYPE;
        sb_metrics_render(&resp->body, app->metrics, &sources);
        return;
    }
    /* /_/threats: the recent events and the active bans, as JSON */
    enum { MAX_SHOWN = 1024 };
    struct sb_threat_event *events = sb_arena_alloc(req->arena, MAX_SHOWN * sizeof(*events));
    struct sb_threat_ban *bans = sb_arena_alloc(req->arena, MAX_SHOWN * sizeof(*bans));
    size_t n_events = sb_guard_events(app->guard, events, MAX_SHOWN);
    size_t n_bans = sb_guard_bans(app->guard, now, bans, MAX_SHOWN);
    if (n_bans > MAX_SHOWN)
        n_bans = MAX_SHOWN;
    resp->content_type = SB_HTTP_JSON;
    struct sb_buf *out = &resp->body;
    sb_buf_puts(out, "{\"events\":[");
    for (size_t i = n_events; i-- > 0;) { /* newest first */
        if (i + 1 != n_events)
            sb_buf_putc(out, ',');
        sb_threat_event_json(&events[i], out);
    }
    sb_buf_puts(out, "],\"bans\":[");
    for (size_t i = 0; i < n_bans; i++) {
        sb_buf_printf(out, "%s{\"address\":", i ? "," : "");
        sb_json_string(out, bans[i].addr, strlen(bans[i].addr));
        sb_buf_printf(out, ",\"kind\":\"%s\",\"remaining_seconds\":%lld}",
                      sb_threat_kind_name(bans[i].kind), (long long)bans[i].remaining_s);
    }
    sb_buf_puts(out, "],\"counts\":{");
    for (int k = 0; k < SB_THREAT_N_KINDS; k++)
        sb_buf_printf(out, "%s\"%s\":%llu", k ? "," : "", sb_threat_kind_name(k),
                      (unsigned long long)gstats.events[k]);
    sb_buf_printf(out, "},\"refused\":{\"banned\":%llu,\"limited\":%llu}}",
                  (unsigned long long)gstats.banned_refusals,
                  (unsigned long long)gstats.limited_refusals);
}

void sb_app_handle(struct sb_http_request *req, struct sb_http_response *resp, void *ctx)
{
    struct sb_app *app = ctx;
    const char *path = req->path;
    if (!strcmp(path, "/_/health"))
        return health(app, req, resp, false);
    if (!strcmp(path, "/_/ready"))
        return health(app, req, resp, true);
    /* the guard, before any parsing or database work */
    int64_t now = sb_app_now_us();
    bool auth = sb_metrics_route_family(path) == SB_ROUTE_AUTH;
    int wait = 0;
    enum sb_guard_verdict verdict = sb_guard_before(app->guard, req->client_addr, NULL, auth, now, &wait);
    if (verdict == SB_GUARD_GO && req->query_len)
        verdict = sb_guard_inspect(app->guard, req->client_addr, req->query, req->query_len, true, now);
    /* bodies under /auth/v1/ hold passwords: not scanned */
    if (verdict == SB_GUARD_GO && req->body_len && !auth)
        verdict = sb_guard_inspect(app->guard, req->client_addr, req->body, req->body_len, false, now);
    if (verdict != SB_GUARD_GO)
        return refuse(resp, verdict, auth, wait);
    /* answers that depend on a credential must not be kept by shared caches */
    if (sb_http_header(req, "Authorization") || sb_http_header(req, "apikey"))
        sb_http_response_header(resp, "Cache-Control", "no-store");
    if (!strcmp(path, "/_/metrics"))
        return operator_view(app, req, resp, true);
    if (!strcmp(path, "/_/threats"))
        return operator_view(app, req, resp, false);
    if (!strcmp(path, "/_/audit"))
        return sb_audit_api_handle(app, req, resp);
    static const char auth_prefix[] = "/auth/v1/";
    if (!strncmp(path, auth_prefix, sizeof(auth_prefix) - 1))
        return sb_auth_handle(app, path + sizeof(auth_prefix) - 1, req, resp);
    static const char prefix[] = "/rest/v1/";
    if (!strcmp(path, "/rest/v1") || !strcmp(path, "/rest/v1/")) {
        if (req->method_id != SB_HTTP_GET && req->method_id != SB_HTTP_HEAD) {
            sb_http_response_header(resp, "Allow", "GET, HEAD");
            error_response(resp, 405, "PGRST117", "Unsupported HTTP method for the API description");
            return;
        }
        resp->content_type = "application/openapi+json; charset=utf-8";
        sb_buf_append(&resp->body, app->openapi, app->openapi_len);
        return;
    }
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0) {
        error_response(resp, 404, "PGRST125", "Invalid path specified in request URL");
        return;
    }
    const char *name = path + sizeof(prefix) - 1;
    /* the schema headers: only "public" exists */
    const char *profile = sb_http_header(req, req->method_id == SB_HTTP_GET || req->method_id == SB_HTTP_HEAD
                                                  ? "Accept-Profile"
                                                  : "Content-Profile");
    if (profile && strcmp(profile, "public") != 0) {
        struct sb_api_error err = {0};
        sb_api_error_set(&err, 406, "PGRST106", "The schema must be one of the following: public");
        sb_http_response_error(resp, &err);
        sb_api_error_clear(&err);
        return;
    }
    if (!strncmp(name, "rpc/", 4))
        return sb_actions_handle(app, name + 4, req, resp);
    if (!*name || strchr(name, '/')) {
        error_response(resp, 404, "PGRST125", "Invalid path specified in request URL");
        return;
    }
    const struct sb_collection *coll = sb_model_collection(app->model, name);
    if (!coll) {
        error_response(resp, 404, "PGRST205",
                       sb_arena_printf(req->arena, "Could not find the table 'public.%s' in the schema cache", name));
        return;
    }
    sb_records_handle(app, coll, req, resp);
}
