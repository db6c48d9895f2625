/* The response side of an exchange: the public response API (headers,
 * PostgREST-shaped errors), the headers this layer puts on every answer
 * (X-Request-Id, X-Content-Type-Options, CORS, Connection: close when the
 * connection ends), turning a response into a libmicrohttpd response, and
 * the same answer as raw HTTP/1.1 text for the cases where this layer writes
 * to the socket itself (a body refused mid-upload, the watchdog's 408).
 * CORS follows PostgREST: preflights answered here, "*" unless a list of
 * origins is configured. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/http_int.h"

struct http_error_info {
    int status;
    const char *code, *message, *hint;
};

static const struct http_error_info error_table[HTTP_ERR_COUNT] = {
#define SB_HTTP_ERROR(id, status, code, message, hint)                                             \
    [HTTP_ERR_##id] = {status, code, message, hint},
#include "http/error_list.h"
#undef SB_HTTP_ERROR
};

static const char expose_headers[] =
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, "
    "Transfer-Encoding, Range-Unit, Preference-Applied, X-Request-Id";
static const char allow_methods[] = "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD";
static const char default_allow_headers[] =
    "Authorization, Content-Type, Accept, Accept-Language, Content-Language, apikey, "
    "x-client-info, Prefer, Accept-Profile, Content-Profile, Range, x-retry-count";
#define PREFLIGHT_MAX_AGE "86400"
#define MAX_REFLECTED_HEADERS 2048

void http_response_init(struct sb_http_response *resp, struct sb_arena *arena)
{
    resp->status = 200;
    resp->content_type = NULL;
    sb_buf_init(&resp->body);
    resp->headers = NULL;
    resp->arena = arena;
}

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Headers whose value only this layer or libmicrohttpd may decide. */
static bool reserved_header(const char *name)
{
    static const char *const reserved[] = {"Content-Length", "Transfer-Encoding", "Connection",
                                           "Date",           "X-Request-Id",      "Content-Type"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strcasecmp(name, reserved[i]) == 0)
            return true;
    }
    return false;
}

int sb_http_response_header(struct sb_http_response *resp, const char *name, const char *value)
{
    if (!name[0] || reserved_header(name))
        return -1;
    for (const char *p = name; *p; p++) {
        if (!is_tchar((unsigned char)*p))
            return -1;
    }
    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            return -1;
    }
    struct sb_http_header_line *line = sb_arena_alloc(resp->arena, sizeof(*line));
    line->name = sb_arena_strdup(resp->arena, name);
    line->value = sb_arena_strdup(resp->arena, value);
    struct sb_http_header_line **tail = &resp->headers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = line;
    return 0;
}

void sb_http_response_error(struct sb_http_response *resp, const struct sb_api_error *err)
{
    resp->status = err->status ? err->status : 500;
    resp->content_type = SB_HTTP_JSON;
    sb_buf_reset(&resp->body);
    sb_api_error_json(err, &resp->body);
}

int http_error_status(enum http_error_id id)
{
    return error_table[id].status;
}

void http_error_fill(struct sb_api_error *err, enum http_error_id id)
{
    const struct http_error_info *info = &error_table[id];
    sb_api_error_set(err, info->status, info->code, "%s", info->message);
    if (info->hint)
        sb_api_error_hint(err, "%s", info->hint);
}

void http_respond_error(struct sb_http_response *resp, enum http_error_id id, const char *details)
{
    struct sb_api_error err = {0};
    http_error_fill(&err, id);
    if (details)
        sb_api_error_details(&err, "%s", details);
    resp->headers = NULL;
    sb_http_response_error(resp, &err);
    sb_api_error_clear(&err);
    if (id == HTTP_ERR_BAD_METHOD)
        sb_http_response_header(resp, "Allow", allow_methods);
    if (id == HTTP_ERR_TOO_MANY_CONNS || id == HTTP_ERR_TOO_MANY_CONNS_IP ||
        id == HTTP_ERR_SHUTTING_DOWN)
        sb_http_response_header(resp, "Retry-After", "1");
}

/* The origin to allow for this request: "*", the request's Origin when it is
 * in the configured list, or NULL. */
static const char *allowed_origin(const struct sb_http_exchange *ex)
{
    const struct sb_http_server *srv = ex->srv;
    if (srv->cors_any)
        return "*";
    const char *origin = ex->hdrs ? sb_http_header(&ex->req, "Origin") : NULL;
    if (!origin || !origin[0])
        return NULL;
    size_t origin_len = strlen(origin);
    const char *list = srv->cfg.cors_origins;
    while (*list) {
        while (*list == ' ' || *list == ',')
            list++;
        const char *end = list;
        while (*end && *end != ',')
            end++;
        const char *trim = end;
        while (trim > list && trim[-1] == ' ')
            trim--;
        if ((size_t)(trim - list) == origin_len && strncasecmp(list, origin, origin_len) == 0)
            return origin;
        list = end;
    }
    return NULL;
}

/* No answer is a page: if a browser is ever led to render one, it loads
 * nothing and cannot be framed. */
#define CSP "default-src 'none'; frame-ancestors 'none'"
#define SB_COMMON_HEADERS 7

/* The headers of every answer, in order. Returns how many were set. */
static size_t common_headers(const struct sb_http_exchange *ex, bool preflight,
                             struct http_hdr out[SB_COMMON_HEADERS])
{
    size_t n = 0;
    out[n++] = (struct http_hdr){"X-Request-Id", ex->req.request_id};
    out[n++] = (struct http_hdr){"X-Content-Type-Options", "nosniff"};
    out[n++] = (struct http_hdr){"Content-Security-Policy", CSP};
    const char *origin = allowed_origin(ex);
    if (origin)
        out[n++] = (struct http_hdr){"Access-Control-Allow-Origin", origin};
    if (origin && !preflight)
        out[n++] = (struct http_hdr){"Access-Control-Expose-Headers", expose_headers};
    if (!ex->srv->cors_any)
        out[n++] = (struct http_hdr){"Vary", "Origin"};
    if (ex->close_after)
        out[n++] = (struct http_hdr){"Connection", "close"};
    return n;
}

static bool valid_header_list(const char *list)
{
    size_t len = 0;
    for (const char *p = list; *p; p++, len++) {
        unsigned char ch = (unsigned char)*p;
        if (!(is_tchar(ch) || ch == ',' || ch == ' ') || len >= MAX_REFLECTED_HEADERS)
            return false;
    }
    return len > 0;
}

bool http_cors_preflight(struct sb_http_exchange *ex)
{
    if (ex->req.method_id != SB_HTTP_OPTIONS ||
        !sb_http_header(&ex->req, "Access-Control-Request-Method"))
        return false;
    struct sb_http_response *resp = &ex->resp;
    resp->status = 200;
    if (allowed_origin(ex)) {
        const char *asked = sb_http_header(&ex->req, "Access-Control-Request-Headers");
        sb_http_response_header(resp, "Access-Control-Allow-Methods", allow_methods);
        sb_http_response_header(resp, "Access-Control-Allow-Headers",
                                asked && valid_header_list(asked) ? asked : default_allow_headers);
        sb_http_response_header(resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    }
    return true;
}

static bool body_allowed(const struct sb_http_exchange *ex, int status)
{
    return !(ex->req.method_id == SB_HTTP_HEAD || status < 200 || status == 204 || status == 304);
}

enum MHD_Result http_queue(struct sb_http_exchange *ex, struct sb_http_response *resp)
{
    size_t len = resp->body.len;
    struct MHD_Response *r;
    if (len) {
        r = MHD_create_response_from_buffer(len, sb_buf_take(&resp->body), MHD_RESPMEM_MUST_FREE);
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, "Content-Type", resp->content_type);
    for (const struct sb_http_header_line *line = resp->headers; line; line = line->next)
        MHD_add_response_header(r, line->name, line->value);
    struct http_hdr common[SB_COMMON_HEADERS];
    bool preflight = ex->req.method_id == SB_HTTP_OPTIONS && resp->status == 200 && ex->hdrs &&
                     sb_http_header(&ex->req, "Access-Control-Request-Method");
    size_t n = common_headers(ex, preflight, common);
    for (size_t i = 0; i < n; i++)
        MHD_add_response_header(r, common[i].name, common[i].value);
    int status = resp->status >= 100 && resp->status <= 599 ? resp->status : 500;
    ex->status_sent = status;
    http_observe(ex->srv, ex);
    enum MHD_Result rc = MHD_queue_response(ex->mhd, (unsigned)status, r);
    MHD_destroy_response(r);
    ex->bytes_out = body_allowed(ex, status) ? len : 0;
    ex->stage = STAGE_SENT;
    return rc;
}

static const char *reason(int status)
{
    const char *text = MHD_get_reason_phrase_for((unsigned)status);
    return text && text[0] ? text : "Unknown";
}

/* "Date: Tue, 20 May 2025 12:34:56 GMT\r\n" (RFC 9110 IMF-fixdate), as
 * MHD adds to the answers it sends. */
static void put_date(struct sb_buf *out)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    sb_buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
}

void http_format_raw(struct sb_http_exchange *ex, struct sb_buf *out)
{
    struct sb_http_response *resp = &ex->resp;
    sb_buf_printf(out, "HTTP/1.1 %d %s\r\n", resp->status, reason(resp->status));
    put_date(out);
    if (resp->content_type)
        sb_buf_printf(out, "Content-Type: %s\r\n", resp->content_type);
    sb_buf_printf(out, "Content-Length: %zu\r\n", resp->body.len);
    for (const struct sb_http_header_line *line = resp->headers; line; line = line->next)
        sb_buf_printf(out, "%s: %s\r\n", line->name, line->value);
    bool close_was = ex->close_after;
    ex->close_after = true;
    struct http_hdr common[SB_COMMON_HEADERS];
    size_t n = common_headers(ex, false, common);
    ex->close_after = close_was;
    for (size_t i = 0; i < n; i++)
        sb_buf_printf(out, "%s: %s\r\n", common[i].name, common[i].value);
    sb_buf_puts(out, "\r\n");
    if (body_allowed(ex, resp->status))
        sb_buf_append(out, resp->body.data ? resp->body.data : "", resp->body.len);
}

void http_format_raw_error(const struct sb_http_server *srv, enum http_error_id id,
                           const char *request_id, struct sb_buf *out)
{
    struct sb_api_error err = {0};
    http_error_fill(&err, id);
    struct sb_buf body;
    sb_buf_init(&body);
    sb_api_error_json(&err, &body);
    sb_api_error_clear(&err);
    int status = http_error_status(id);
    sb_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, reason(status));
    put_date(out);
    sb_buf_printf(out,
                  "Content-Type: %s\r\nContent-Length: %zu\r\n"
                  "X-Request-Id: %s\r\nX-Content-Type-Options: nosniff\r\n"
                  "Content-Security-Policy: " CSP "\r\n",
                  SB_HTTP_JSON, body.len, request_id);
    if (srv->cors_any)
        sb_buf_printf(out,
                      "Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: %s\r\n",
                      expose_headers);
    sb_buf_puts(out, "Connection: close\r\n\r\n");
    sb_buf_append(out, body.data, body.len);
    sb_buf_free(&body);
}
