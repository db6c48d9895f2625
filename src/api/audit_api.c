/* GET /_/audit: the audit trail, read-only, for the service key and the
 * roles the spec's security block lists (`audit: admin`). docs/audit.md.
 *
 *   ?since=TIME&actor=SUB&collection=NAME&op=OP  conditions, as the CLI's
 *   ?after=SEQ&limit=N                            paging, N <= 1000 (100)
 *
 * The answer is a JSON array of entries in seq order, each as
 * `specbase audit log --json` prints it; when more entries match than were
 * returned, the header Link: <...?after=SEQ...>; rel="next" points at the
 * next page. */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "query/qs.h"
#include "store/audit_log.h"
#include "util/json_out.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

static void fail(struct sb_http_response *resp, int status, const char *code, const char *msg)
{
    struct sb_api_error err = {0};
    sb_api_error_set(&err, status, code, "%s", msg);
    sb_app_error(resp, &err);
    sb_api_error_clear(&err);
}

/* value percent-encoded for a query string (unreserved bytes as they are). */
static void url_encode(struct sb_buf *out, const char *value, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~') {
            sb_buf_putc(out, (char)c);
        } else {
            sb_buf_putc(out, '%');
            sb_buf_putc(out, hex[c >> 4]);
            sb_buf_putc(out, hex[c & 15]);
        }
    }
}

/* A whole number in 0..max from text, or -1. */
static int64_t whole(const char *text, int64_t max)
{
    if (!*text || strlen(text) > 19)
        return -1;
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v <= max ? v : -1;
}

/* The filter from the query string; 0, or -1 with err set (400). */
static int parse_filter(struct sb_http_request *req, struct sb_audit_filter *f, struct sb_api_error *err)
{
    struct sb_qs_pair *pairs = NULL;
    size_t n = 0;
    if (sb_qs_split(req->arena, req->query, req->query_len, &pairs, &n, err) != 0)
        return -1;
    f->limit = PAGE_DEFAULT;
    for (size_t i = 0; i < n; i++) {
        const char *key = pairs[i].key, *value = pairs[i].value;
        if (!strcmp(key, "since")) {
            f->since = value;
        } else if (!strcmp(key, "actor")) {
            f->actor = value;
        } else if (!strcmp(key, "collection")) {
            f->collection = value;
        } else if (!strcmp(key, "op")) {
            f->op = value;
        } else if (!strcmp(key, "after") || !strcmp(key, "limit")) {
            bool after = key[0] == 'a';
            int64_t v = whole(value, after ? INT64_MAX / 10 : PAGE_MAX);
            if (v < 0 || (!after && v == 0)) {
                sb_api_error_set(err, 400, "PGRST100", "'%s' must be a whole number%s", key,
                                 after ? "" : " from 1 to 1000");
                return -1;
            }
            *(after ? &f->after_seq : &f->limit) = v;
        } else {
            sb_api_error_set(err, 400, "PGRST100", "Unknown parameter '%s'", key);
            sb_api_error_hint(err, "The audit trail takes since, actor, collection, op, after and limit");
            return -1;
        }
    }
    return 0;
}

void sb_audit_api_handle(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    if (req->method_id != SB_HTTP_GET && req->method_id != SB_HTTP_HEAD) {
        sb_http_response_header(resp, "Allow", "GET, HEAD");
        return fail(resp, 405, "PGRST117", "The audit trail is read-only");
    }
    struct sb_api_error err = {0};
    const struct sb_identity *who = sb_app_identity(app, req, &err);
    if (!who) {
        sb_app_error(resp, &err);
        sb_api_error_clear(&err);
        return;
    }
    if (!who->bypass_rules && !sb_security_audit_reader(app->model, who->role)) {
        if (!who->authenticated) {
            sb_http_response_header(resp, "WWW-Authenticate", "Bearer");
            return fail(resp, 401, "PGRST302", "Reading the audit trail needs a signed-in role the spec allows");
        }
        sb_api_error_set(&err, 403, "42501", "permission denied to read the audit trail");
        sb_app_audit_denied(app, req, who, NULL, &err);
        sb_app_error(resp, &err);
        sb_api_error_clear(&err);
        return;
    }
    struct sb_audit_filter filter = {0};
    if (parse_filter(req, &filter, &err) != 0) {
        sb_app_error(resp, &err);
        sb_api_error_clear(&err);
        return;
    }
    struct sb_buf msg;
    sb_buf_init(&msg);
    int64_t started = sb_app_now_us();
    sqlite3 *db = sb_app_reader(app, &msg);
    sqlite3_stmt *stmt = NULL;
    int64_t want = filter.limit;
    filter.limit = want + 1; /* one more: is there a next page? */
    if (!db || sb_audit_log_query(db, &filter, &stmt, &msg) != 0) {
        sb_buf_free(&msg);
        return fail(resp, 503, "PGRST000", "The audit trail cannot be read");
    }
    struct sb_buf *out = &resp->body;
    sb_buf_putc(out, '[');
    int64_t rows = 0, last = 0;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && rows < want) {
        if (rows++)
            sb_buf_putc(out, ',');
        sb_audit_row_json(stmt, out);
        last = sqlite3_column_int64(stmt, 0);
    }
    bool more = step == SQLITE_ROW;
    bool ok = step == SQLITE_ROW || step == SQLITE_DONE;
    sqlite3_finalize(stmt);
    sb_app_db_time(app, started);
    sb_buf_free(&msg);
    if (!ok) {
        sb_buf_reset(out);
        return fail(resp, 503, "PGRST000", "The audit trail cannot be read");
    }
    sb_buf_putc(out, ']');
    resp->content_type = SB_HTTP_JSON;
    if (more) {
        struct sb_buf link;
        sb_buf_init(&link);
        sb_buf_puts(&link, "</_/audit?");
        /* the same conditions, from the next entry on */
        struct sb_qs_pair *pairs = NULL;
        size_t n = 0;
        struct sb_api_error ignored = {0};
        if (sb_qs_split(req->arena, req->query, req->query_len, &pairs, &n, &ignored) == 0)
            for (size_t i = 0; i < n; i++)
                if (strcmp(pairs[i].key, "after") != 0) {
                    sb_buf_puts(&link, pairs[i].key);
                    sb_buf_putc(&link, '=');
                    url_encode(&link, pairs[i].value, pairs[i].value_len);
                    sb_buf_putc(&link, '&');
                }
        sb_api_error_clear(&ignored);
        sb_buf_printf(&link, "after=%lld>; rel=\"next\"", (long long)last);
        sb_http_response_header(resp, "Link", sb_arena_strndup(req->arena, sb_buf_str(&link), link.len));
        sb_buf_free(&link);
    }
}
