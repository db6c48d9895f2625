/* The server: libmicrohttpd's daemon (worker threads each with their own
 * epoll, suspend/resume allowed) and the stages of one request through it.
 *
 * MHD calls us at these points, all on the connection's worker thread:
 *   request line  uri_log: a new exchange (arena, raw target); the query is
 *                 hidden from MHD, which would otherwise parse it into its
 *                 connection memory (we keep it raw for the query parser)
 *   headers       access handler, first call: headers copied and checked,
 *                 request id, every limit; the verdict is stored (an
 *                 answer queued at this point would make MHD close the
 *                 connection, so it waits for the next call when it can)
 *   body chunks   access handler with data: counted against the limit
 *   complete      access handler, final call: the handler runs; its
 *                 response is queued, or the connection suspended
 *   done          notify_completed: access log, the exchange released
 * and conn.c is told each phase, for the watchdog's deadlines.
 *
 * Deferred responses: the handler asks for a handle and returns; the
 * connection is suspended; any thread fills the response and calls
 * sb_http_complete, which resumes the connection; MHD then calls the handler
 * callback again and the response is queued. defer_mu orders the race
 * between the handler's return and an early completion, and between a
 * completion and shutdown. An exchange is reference-counted (MHD's
 * reference, plus the handle's) so that a late completion after shutdown
 * only frees; defer_mu is not the server's so that such a completion never
 * touches a freed server. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_int.h"
#include "util/die.h"

/* Memory MHD may use per connection beyond our header and URL limits (its
 * header records, the response header it builds, read slack). */
#define POOL_SLACK 8192
#define POOL_PER_HEADER 64

/* Guards the deferred fields of every exchange and each server's list of
 * suspended ones (see the file comment). */
static pthread_mutex_t defer_mu = PTHREAD_MUTEX_INITIALIZER;

struct sb_http_config sb_http_config_default(void)
{
    return (struct sb_http_config){
        .host = "127.0.0.1",
        .port = 3000,
        .threads = 0,
        .max_body_bytes = 1024 * 1024,
        .max_url_bytes = 8 * 1024,
        .max_header_bytes = 16 * 1024,
        .max_headers = 100,
        .idle_timeout_s = 60,
        .header_timeout_s = 10,
        .body_timeout_s = 30,
        .max_connections = 1024,
        .max_connections_per_ip = 128,
        .shutdown_timeout_s = 10,
        .cors_origins = NULL,
        .access_log = true,
        .log = NULL,
    };
}

/* ---- exchanges ---- */

static void release(struct sb_http_exchange *ex)
{
    if (atomic_fetch_sub(&ex->refs, 1) != 1)
        return;
    sb_buf_free(&ex->body);
    sb_buf_free(&ex->resp.body);
    sb_arena_free(&ex->arena);
    free(ex);
}

static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *mhd)
{
    struct sb_http_server *srv = cls;
    struct sb_http_exchange *ex = sb_xcalloc(1, sizeof(*ex));
    sb_arena_init(&ex->arena);
    ex->srv = srv;
    ex->mhd = mhd;
    atomic_init(&ex->refs, 1);
    ex->start_us = http_now_us();
    ex->start_wall_ms = http_wall_ms();
    ex->stage = STAGE_NEW;
    ex->req.exchange = ex;
    ex->req.arena = &ex->arena;
    ex->handle.exchange = ex;
    sb_buf_init(&ex->body);
    http_response_init(&ex->resp, &ex->arena);

    size_t len = uri ? strlen(uri) : 0;
    ex->target_len = len;
    if (!uri)
        ex->target = ""; /* no target at all: refused as malformed */
    else if (len <= srv->cfg.max_url_bytes)
        ex->target = sb_arena_strndup(&ex->arena, uri, len);
    /* MHD parses the query into records in its per-connection memory after
     * this callback returns: end the string it will parse right after the
     * '?' (its own buffer, documented to be untouched until now), so that a
     * long query costs it nothing and cannot exhaust that memory. */
    char *question = uri ? strchr(uri, '?') : NULL;
    if (question && question[1])
        question[1] = '\0';

    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct http_conn *conn = info ? info->socket_context : NULL;
    ex->conn = conn;
    ex->req.client_addr = sb_arena_strdup(&ex->arena, conn ? conn->addr : "-");
    if (conn) {
        pthread_mutex_lock(&conn->mu);
        conn->current = ex;
        if (conn->phase == PHASE_WAIT_FIRST || conn->phase == PHASE_IDLE) {
            conn->phase_since_ms =
                conn->phase == PHASE_WAIT_FIRST ? conn->opened_ms : http_now_ms();
            conn->phase = PHASE_HEADERS;
        }
        pthread_mutex_unlock(&conn->mu);
    }
    return ex;
}

/* Take ex off the server's list of suspended exchanges; defer_mu held. */
static void unsuspend(struct sb_http_server *srv, struct sb_http_exchange *ex)
{
    if (ex->susp_prev)
        ex->susp_prev->susp_next = ex->susp_next;
    else
        srv->suspended = ex->susp_next;
    if (ex->susp_next)
        ex->susp_next->susp_prev = ex->susp_prev;
    ex->suspended = false;
}

static void on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)mhd;
    (void)toe;
    struct sb_http_server *srv = cls;
    struct sb_http_exchange *ex = *con_cls;
    if (!ex)
        return;
    *con_cls = NULL;
    struct http_conn *conn = ex->conn;
    if (conn) {
        pthread_mutex_lock(&conn->mu);
        conn->current = NULL;
        conn->completed++;
        if (conn->phase != PHASE_DEAD && conn->phase != PHASE_LINGER) {
            conn->phase = PHASE_IDLE;
            conn->phase_since_ms = http_now_ms();
        }
        pthread_mutex_unlock(&conn->mu);
    }
    if (ex->in_flight)
        atomic_fetch_sub(&srv->in_flight, 1);
    atomic_fetch_add(&srv->n_requests, 1);
    if (!ex->req.request_id) {
        http_request_id_make(ex->id_buf);
        ex->req.request_id = ex->id_buf;
    }
    http_log_exchange(srv, ex);

    pthread_mutex_lock(&defer_mu);
    if (ex->deferred && !ex->completed)
        ex->orphaned = true;
    if (ex->suspended) {
        /* only at daemon stop: MHD resumed it itself */
        unsuspend(srv, ex);
    }
    ex->mhd = NULL;
    ex->conn = NULL;
    pthread_mutex_unlock(&defer_mu);
    release(ex);
}

/* Answer the layer's own error now or on the next call, as MHD allows:
 * without a body to come, on the next call (the connection stays usable);
 * with a body announced and the client waiting for "100 Continue", queued
 * now (MHD then skips the body and closes); with a body on its way, written
 * straight to the socket, which is then half-closed and drained (so the
 * client reads the answer instead of a reset). */
static enum MHD_Result reject(struct sb_http_exchange *ex, enum http_error_id id,
                              const char *details, bool expect_continue)
{
    if (http_error_status(id) != 400 && http_error_status(id) != 405)
        atomic_fetch_add(&ex->srv->n_rejected, 1);
    http_respond_error(&ex->resp, id, details);
    if (http_error_status(id) == 503)
        ex->close_after = true;
    if (!ex->body_pending) {
        ex->stage = STAGE_REJECTED;
        return MHD_YES;
    }
    if (expect_continue || !ex->conn) {
        ex->close_after = true;
        return http_queue(ex, &ex->resp);
    }
    struct sb_buf raw;
    sb_buf_init(&raw);
    http_format_raw(ex, &raw);
    if (http_conn_answer_and_linger(ex->conn, raw.data, raw.len)) {
        ex->status_sent = ex->resp.status;
        ex->bytes_out = ex->resp.body.len;
    }
    sb_buf_free(&raw);
    ex->stage = STAGE_DISCARD;
    return MHD_YES;
}

static bool header_is(const char *value, const char *token)
{
    return value && strcasecmp(value, token) == 0;
}

/* First call: headers complete. */
static enum MHD_Result on_headers(struct sb_http_exchange *ex, const char *method,
                                  const char *version)
{
    struct sb_http_server *srv = ex->srv;
    const struct sb_http_config *cfg = &srv->cfg;
    char details[160];

    if (ex->conn) {
        unsigned from = 1u << PHASE_WAIT_FIRST | 1u << PHASE_IDLE | 1u << PHASE_HEADERS;
        if (http_conn_move(ex->conn, from, PHASE_HANDLER) == PHASE_DEAD)
            return MHD_NO; /* the watchdog answered 408 */
    }
    ex->in_flight = true;
    atomic_fetch_add(&srv->in_flight, 1);
    if (atomic_load(&srv->stopping))
        ex->close_after = true;

    ex->req.method = sb_arena_strdup(&ex->arena, method);
    ex->req.http10 = strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
    size_t header_bytes = 0;
    enum http_error_id header_error =
        http_copy_headers(ex, cfg->max_headers, cfg->max_header_bytes, &header_bytes);

    const char *incoming_id = sb_http_header(&ex->req, "X-Request-Id");
    if (incoming_id && http_request_id_valid(incoming_id, strlen(incoming_id))) {
        ex->req.request_id = incoming_id;
    } else {
        http_request_id_make(ex->id_buf);
        ex->req.request_id = ex->id_buf;
    }

    /* the body as MHD will read it (asked of MHD: our copy of the headers
     * is skipped when they are over the limits): any Transfer-Encoding
     * means a body (MHD decodes "chunked"), else Content-Length, which MHD
     * has already checked to be a number */
    const char *length = MHD_lookup_connection_value(ex->mhd, MHD_HEADER_KIND, "Content-Length");
    const char *encoding =
        MHD_lookup_connection_value(ex->mhd, MHD_HEADER_KIND, "Transfer-Encoding");
    unsigned long long content_length = 0;
    if (length && !encoding) {
        char *end;
        errno = 0;
        content_length = strtoull(length, &end, 10);
        if (errno || end == length)
            content_length = ULLONG_MAX;
    }
    ex->body_pending = encoding || content_length > 0;
    bool expect_continue =
        !ex->req.http10 &&
        header_is(MHD_lookup_connection_value(ex->mhd, MHD_HEADER_KIND, "Expect"), "100-continue");

    if (header_error == HTTP_ERR_TOO_MANY_HEADERS) {
        snprintf(details, sizeof(details), "More than %u header lines", cfg->max_headers);
        return reject(ex, header_error, details, expect_continue);
    }
    if (header_error == HTTP_ERR_HEADERS_TOO_LARGE) {
        snprintf(details, sizeof(details), "Headers of %zu bytes; the limit is %zu bytes",
                 header_bytes, cfg->max_header_bytes);
        return reject(ex, header_error, details, expect_continue);
    }
    if (header_error != HTTP_ERR_COUNT)
        return reject(ex, header_error, "A header holds a NUL byte", expect_continue);
    /* framing that a proxy in front could read differently from us (request
     * smuggling): refused, and the connection closed after the answer, so
     * no byte after this request is ever read as another one */
    const char *const *lengths = NULL;
    size_t n_lengths = sb_http_header_values(&ex->req, "Content-Length", &lengths);
    if (n_lengths > 1 || (n_lengths && encoding)) {
        ex->close_after = true;
        return reject(ex, HTTP_ERR_BAD_HEADER,
                      n_lengths > 1 ? "More than one Content-Length header"
                                    : "Content-Length and Transfer-Encoding together",
                      expect_continue);
    }
    if (!ex->target) {
        snprintf(details, sizeof(details), "The URL is %zu bytes; the limit is %zu bytes",
                 ex->target_len, cfg->max_url_bytes);
        return reject(ex, HTTP_ERR_URL_TOO_LONG, details, expect_continue);
    }
    if (ex->conn && ex->conn->reject != HTTP_ERR_COUNT) {
        snprintf(details, sizeof(details), "The limit is %u connections%s",
                 ex->conn->reject == HTTP_ERR_TOO_MANY_CONNS ? cfg->max_connections
                                                             : cfg->max_connections_per_ip,
                 ex->conn->reject == HTTP_ERR_TOO_MANY_CONNS ? "" : " per client address");
        return reject(ex, ex->conn->reject, details, expect_continue);
    }
    if (http_method_parse(method, &ex->req.method_id) != 0) {
        snprintf(details, sizeof(details), "Unsupported HTTP method: %.40s", method);
        return reject(ex, HTTP_ERR_BAD_METHOD, details, expect_continue);
    }
    if (http_parse_target(ex) != 0)
        return reject(ex, HTTP_ERR_BAD_TARGET, NULL, expect_continue);
    if (content_length > cfg->max_body_bytes) {
        snprintf(details, sizeof(details), "The body is %s bytes; the limit is %zu bytes",
                 content_length == ULLONG_MAX ? "too many" : length, cfg->max_body_bytes);
        return reject(ex, HTTP_ERR_BODY_TOO_LARGE, details, expect_continue);
    }
    if (!ex->body_pending) {
        ex->stage = STAGE_RUN;
        return MHD_YES;
    }
    ex->stage = STAGE_BODY;
    if (ex->conn)
        http_conn_move(ex->conn, 1u << PHASE_HANDLER, PHASE_BODY);
    return MHD_YES; /* MHD sends "100 Continue" if asked */
}

/* A body chunk past the limit: answered at once, the rest dropped. */
static void body_too_large(struct sb_http_exchange *ex)
{
    char details[160];
    snprintf(details, sizeof(details), "The body is over %zu bytes, the limit",
             ex->srv->cfg.max_body_bytes);
    ex->close_after = true;
    sb_buf_free(&ex->body);
    reject(ex, HTTP_ERR_BODY_TOO_LARGE, details, false);
    ex->stage = STAGE_DISCARD;
}

/* Answer the rest of a deferred exchange with 503 (shutdown), in a response
 * of its own: the completing thread may still be writing ex->resp. */
static void queue_shutdown_answer(struct sb_http_exchange *ex)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_http_response resp;
    http_response_init(&resp, &arena);
    http_respond_error(&resp, HTTP_ERR_SHUTTING_DOWN, NULL);
    ex->close_after = true;
    http_queue(ex, &resp);
    sb_buf_free(&resp.body);
    sb_arena_free(&arena);
}

/* The request is complete: run the handler, then queue or suspend. */
static enum MHD_Result dispatch(struct sb_http_exchange *ex)
{
    struct sb_http_server *srv = ex->srv;
    if (ex->body.len) {
        ex->req.body = ex->body.data;
        ex->req.body_len = ex->body.len;
    }
    if (http_cors_preflight(ex))
        return http_queue(ex, &ex->resp);
    srv->handler(&ex->req, &ex->resp, srv->ctx);

    pthread_mutex_lock(&defer_mu);
    if (!ex->deferred || ex->completed) {
        pthread_mutex_unlock(&defer_mu);
        return http_queue(ex, &ex->resp);
    }
    if (srv->closing) {
        ex->orphaned = true;
        pthread_mutex_unlock(&defer_mu);
        queue_shutdown_answer(ex);
        return MHD_YES;
    }
    ex->stage = STAGE_WAIT;
    ex->suspended = true;
    ex->susp_prev = NULL;
    ex->susp_next = srv->suspended;
    if (srv->suspended)
        srv->suspended->susp_prev = ex;
    srv->suspended = ex;
    MHD_suspend_connection(ex->mhd);
    pthread_mutex_unlock(&defer_mu);
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mhd, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)mhd;
    (void)url;
    struct sb_http_exchange *ex = *con_cls;
    if (!ex)
        return MHD_NO;
    size_t size = *upload_data_size;
    *upload_data_size = 0;

    switch (ex->stage) {
    case STAGE_NEW: return on_headers(ex, method, version);
    case STAGE_BODY:
        if (size) {
            if (ex->body.len + size > ex->srv->cfg.max_body_bytes) {
                body_too_large(ex);
                return MHD_YES;
            }
            sb_buf_append(&ex->body, upload_data, size);
            return MHD_YES;
        }
        if (ex->conn && http_conn_move(ex->conn, 1u << PHASE_BODY, PHASE_HANDLER) != PHASE_BODY)
            return MHD_NO; /* the watchdog answered 408 */
        return dispatch(ex);
    case STAGE_DISCARD: return size ? MHD_YES : MHD_NO;   /* answered: close once the body is in */
    case STAGE_RUN: return size ? MHD_YES : dispatch(ex); /* a body no header announced: dropped */
    case STAGE_REJECTED:
    case STAGE_READY: return size ? MHD_YES : http_queue(ex, &ex->resp);
    case STAGE_SHUTDOWN: queue_shutdown_answer(ex); return MHD_YES;
    case STAGE_WAIT:
    case STAGE_SENT: return MHD_YES;
    }
    return MHD_NO;
}

/* ---- deferred responses ---- */

struct sb_http_deferred *sb_http_defer(struct sb_http_request *req)
{
    struct sb_http_exchange *ex = req->exchange;
    pthread_mutex_lock(&defer_mu);
    if (ex->deferred)
        sb_die("sb_http_defer called twice for one request");
    ex->deferred = true;
    atomic_fetch_add(&ex->refs, 1);
    pthread_mutex_unlock(&defer_mu);
    return &ex->handle;
}

struct sb_http_request *sb_http_deferred_request(struct sb_http_deferred *deferred)
{
    return &deferred->exchange->req;
}

struct sb_http_response *sb_http_deferred_response(struct sb_http_deferred *deferred)
{
    return &deferred->exchange->resp;
}

void sb_http_complete(struct sb_http_deferred *deferred)
{
    struct sb_http_exchange *ex = deferred->exchange;
    struct sb_http_server *srv = ex->srv;
    pthread_mutex_lock(&defer_mu);
    ex->completed = true;
    if (!ex->orphaned && ex->suspended) {
        unsuspend(srv, ex);
        ex->stage = STAGE_READY;
        MHD_resume_connection(ex->mhd);
    }
    pthread_mutex_unlock(&defer_mu);
    release(ex);
}

/* ---- start and stop ---- */

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct sb_http_server *srv = cls;
    pthread_mutex_lock(&srv->start_mu);
    /* after start: a client's broken request is not ours to print */
    if (srv->startup_errors && srv->startup_errors->len < 1024) {
        char text[256];
        vsnprintf(text, sizeof(text), fmt, ap);
        sb_buf_puts(srv->startup_errors, text);
    }
    pthread_mutex_unlock(&srv->start_mu);
}

/* MHD leaves %-decoding to a callback: ours does none (request.c decodes
 * the path itself, the query stays raw). */
static size_t no_unescape(void *cls, struct MHD_Connection *mhd, char *text)
{
    (void)cls;
    (void)mhd;
    return strlen(text);
}

static int check_config(const struct sb_http_config *cfg, struct sb_buf *err)
{
    const char *bad = NULL;
    if (cfg->port < 0 || cfg->port > 65535)
        bad = "port must be 0..65535";
    else if (cfg->max_body_bytes == 0 || cfg->max_url_bytes < 16 || cfg->max_header_bytes < 256 ||
             cfg->max_headers == 0)
        bad = "size limits must be positive (URL at least 16, headers at least 256 bytes)";
    else if (cfg->max_url_bytes > (1u << 20) || cfg->max_header_bytes > (1u << 20) ||
             cfg->max_headers > 10000)
        bad = "URL and header limits must be at most 1 MiB, header count at most 10000";
    else if (cfg->idle_timeout_s == 0 || cfg->header_timeout_s == 0 || cfg->body_timeout_s == 0)
        bad = "timeouts must be at least 1 second";
    else if (cfg->max_connections == 0 || cfg->max_connections_per_ip == 0 ||
             cfg->max_connections > 1000000)
        bad = "connection limits must be 1..1000000";
    else if (cfg->threads > 1024)
        bad = "threads must be at most 1024";
    if (bad) {
        sb_buf_printf(err, "http: %s", bad);
        return SB_HTTP_EINVAL;
    }
    return 0;
}

/* Enough descriptors for every connection MHD may hold, when allowed. */
static void raise_fd_limit(rlim_t want)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= want)
        return;
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= want ? want : lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
}

int sb_http_start(const struct sb_http_config *cfg, sb_http_handler handler, void *ctx,
                  struct sb_http_server **out, struct sb_buf *err)
{
    *out = NULL;
    int rc = check_config(cfg, err);
    if (rc)
        return rc;

    const char *host = cfg->host && cfg->host[0] ? cfg->host : "127.0.0.1";
    char port_text[16];
    snprintf(port_text, sizeof(port_text), "%d", cfg->port);
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *addrs = NULL;
    int gai = getaddrinfo(host, port_text, &hints, &addrs);
    if (gai != 0 || !addrs) {
        sb_buf_printf(err, "http: cannot resolve %s: %s", host, gai_strerror(gai));
        return SB_HTTP_ELISTEN;
    }

    struct sb_http_server *srv = sb_xcalloc(1, sizeof(*srv));
    srv->cfg = *cfg;
    srv->cfg.host = host;
    if (srv->cfg.threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        srv->cfg.threads = cores > 0 ? (unsigned)cores : 1;
    }
    srv->handler = handler;
    srv->ctx = ctx;
    srv->log = cfg->log ? cfg->log : stderr;
    srv->cors_any = !cfg->cors_origins || strcmp(cfg->cors_origins, "*") == 0;
    pthread_mutex_init(&srv->start_mu, NULL);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->in_flight, 0);
    atomic_init(&srv->n_requests, 0);
    atomic_init(&srv->n_connections, 0);
    atomic_init(&srv->n_rejected, 0);

    size_t pool = cfg->max_url_bytes + cfg->max_header_bytes +
                  (size_t)cfg->max_headers * POOL_PER_HEADER + POOL_SLACK;
    srv->pool_bytes = (pool + 4095) & ~(size_t)4095;
    /* MHD's own limits are a margin above ours: up to them, connections
     * past our limits are let in to be answered 503 */
    unsigned hard_limit =
        cfg->max_connections + (cfg->max_connections / 8 > 16 ? cfg->max_connections / 8 : 16);
    unsigned hard_per_ip =
        cfg->max_connections_per_ip +
        (cfg->max_connections_per_ip / 8 > 4 ? cfg->max_connections_per_ip / 8 : 4);
    raise_fd_limit((rlim_t)hard_limit + 64 + 4 * srv->cfg.threads);

    http_conns_init(srv);
    if (http_log_start(srv) != 0) {
        sb_buf_printf(err, "http: cannot start the log's flusher thread");
        rc = SB_HTTP_ELISTEN;
        goto fail;
    }
    if (http_watchdog_start(srv) != 0) {
        sb_buf_printf(err, "http: cannot start the watchdog thread");
        rc = SB_HTTP_ELISTEN;
        goto fail;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (addrs->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct sb_buf startup_errors;
    sb_buf_init(&startup_errors);
    srv->startup_errors = &startup_errors;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_SOCK_ADDR,
        addrs->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
        MHD_OPTION_CONNECTION_LIMIT, hard_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, hard_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        srv->pool_bytes, MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK,
        on_request_line, srv, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        int saved = errno;
        sb_buf_printf(err, "http: cannot listen on %s:%d: %s", host, cfg->port,
                      startup_errors.len ? sb_buf_str(&startup_errors) : strerror(saved));
        while (err->len && (err->data[err->len - 1] == '\n' || err->data[err->len - 1] == ' '))
            err->data[--err->len] = '\0';
        pthread_mutex_lock(&srv->start_mu);
        srv->startup_errors = NULL;
        pthread_mutex_unlock(&srv->start_mu);
        sb_buf_free(&startup_errors);
        rc = SB_HTTP_ELISTEN;
        goto fail;
    }
    pthread_mutex_lock(&srv->start_mu);
    srv->startup_errors = NULL;
    pthread_mutex_unlock(&srv->start_mu);
    sb_buf_free(&startup_errors);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    freeaddrinfo(addrs);
    *out = srv;
    return 0;

fail:
    freeaddrinfo(addrs);
    http_watchdog_stop(srv);
    http_log_stop(srv);
    http_conns_free(srv);
    pthread_mutex_destroy(&srv->start_mu);
    free(srv);
    return rc;
}

int sb_http_port(const struct sb_http_server *server)
{
    return server->port;
}

void sb_http_stats(const struct sb_http_server *server, struct sb_http_stats *out)
{
    struct sb_http_server *srv = (struct sb_http_server *)server;
    out->requests = atomic_load(&srv->n_requests);
    out->connections = atomic_load(&srv->n_connections);
    pthread_mutex_lock(&srv->conns_mu);
    out->open_connections = srv->n_open;
    pthread_mutex_unlock(&srv->conns_mu);
    out->in_flight = atomic_load(&srv->in_flight);
    out->rejected_limits = atomic_load(&srv->n_rejected);
}

static void wait_in_flight(struct sb_http_server *srv, uint64_t deadline_ms)
{
    while (atomic_load(&srv->in_flight) > 0 && http_now_ms() < deadline_ms) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

unsigned sb_http_stop(struct sb_http_server *srv)
{
    if (!srv)
        return 0;
    atomic_store(&srv->stopping, true);
    /* Stop accepting. The listening socket is shut down now, so that new
     * connections are refused at once, and closed only after MHD has
     * stopped, so that a worker still in accept() never meets a reused fd. */
    MHD_socket listen_fd = MHD_quiesce_daemon(srv->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        shutdown(listen_fd, SHUT_RDWR);

    wait_in_flight(srv, http_now_ms() + (uint64_t)srv->cfg.shutdown_timeout_s * 1000u);

    /* Past the deadline: answer what is still suspended with 503 (MHD must
     * not be stopped with suspended connections), refuse new suspensions. */
    unsigned cut = atomic_load(&srv->in_flight);
    pthread_mutex_lock(&defer_mu);
    srv->closing = true;
    while (srv->suspended) {
        struct sb_http_exchange *ex = srv->suspended;
        unsuspend(srv, ex);
        ex->orphaned = true;
        ex->stage = STAGE_SHUTDOWN; /* answered by its worker thread once resumed */
        MHD_resume_connection(ex->mhd);
    }
    pthread_mutex_unlock(&defer_mu);
    if (cut) {
        char msg[96];
        snprintf(msg, sizeof(msg), "shutdown: %u request(s) still in flight were cut", cut);
        http_log_message(srv, "warn", msg);
        wait_in_flight(srv, http_now_ms() + 1000); /* let the 503s go out */
    }

    MHD_stop_daemon(srv->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    http_watchdog_stop(srv);
    http_log_stop(srv);
    http_conns_free(srv);
    pthread_mutex_destroy(&srv->start_mu);
    free(srv);
    return cut;
}
