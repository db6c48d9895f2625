/* http_echo: the HTTP layer (src/http/) alone, behind a handler that echoes
 * requests, for the black-box tests in tests/http/ and for bench/http.sh.
 *
 *   http_echo [--host H] [--port N] [--threads N] [--max-body BYTES]
 *             [--max-url BYTES] [--max-header-bytes BYTES] [--max-headers N]
 *             [--idle-timeout S] [--header-timeout S] [--body-timeout S]
 *             [--max-conns N] [--max-conns-per-ip N] [--shutdown-timeout S]
 *             [--cors-origins LIST] [--access-log]
 *
 * Prints the bound port alone on a line on stdout once it serves (port 0,
 * the default, picks a free one). SIGTERM or SIGINT: graceful stop, then
 * "stopped: N cut; ..." with the server's counters on stderr, and exit 0.
 * The access log goes to stderr.
 *
 * Paths:
 *   /echo             JSON: method, path, raw_path, query, body, headers,
 *                     client, id, http10
 *   /bench            a fixed 200-byte JSON answer
 *   /defer?ms=N       deferred; a timer thread completes it after N ms (and
 *                     "deferred ID for N ms" goes to stderr)
 *   /status?code=N    that status, with a small JSON body
 *   /error            a PostgREST-shaped 409 through sb_http_response_error
 *   /headers          response headers: one valid, one with CR LF (refused)
 *   anything else     404 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/server.h"
#include "util/json_out.h"

/* ---- the timer thread that completes deferred requests ---- */

struct timer_entry {
    struct timer_entry *next;
    struct timespec due;
    struct sb_http_deferred *deferred;
    long ms;
};

static pthread_mutex_t timer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static struct timer_entry *timers; /* sorted by due */
static bool timer_stop;

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void complete(struct timer_entry *entry)
{
    struct sb_http_response *resp = sb_http_deferred_response(entry->deferred);
    resp->status = 200;
    resp->content_type = SB_HTTP_JSON;
    sb_buf_printf(&resp->body, "{\"deferred\":true,\"ms\":%ld}", entry->ms);
    sb_http_complete(entry->deferred);
    free(entry);
}

static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&timer_mu);
    while (!timer_stop) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timers && !before(&now, &timers->due)) {
            struct timer_entry *entry = timers;
            timers = entry->next;
            pthread_mutex_unlock(&timer_mu);
            complete(entry);
            pthread_mutex_lock(&timer_mu);
        } else if (timers) {
            pthread_cond_timedwait(&timer_cond, &timer_mu, &timers->due);
        } else {
            pthread_cond_wait(&timer_cond, &timer_mu);
        }
    }
    /* the server has stopped: what is left only needs freeing */
    while (timers) {
        struct timer_entry *entry = timers;
        timers = entry->next;
        complete(entry);
    }
    pthread_mutex_unlock(&timer_mu);
    return NULL;
}

static void timer_add(struct sb_http_deferred *deferred, long ms)
{
    struct timer_entry *entry = calloc(1, sizeof(*entry));
    if (!entry)
        abort();
    entry->deferred = deferred;
    entry->ms = ms;
    clock_gettime(CLOCK_MONOTONIC, &entry->due);
    entry->due.tv_sec += ms / 1000;
    entry->due.tv_nsec += (ms % 1000) * 1000000L;
    if (entry->due.tv_nsec >= 1000000000L) {
        entry->due.tv_sec++;
        entry->due.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&timer_mu);
    struct timer_entry **at = &timers;
    while (*at && !before(&entry->due, &(*at)->due))
        at = &(*at)->next;
    entry->next = *at;
    *at = entry;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_mu);
}

/* ---- the handler ---- */

static long query_number(const struct sb_http_request *req, const char *key, long fallback)
{
    size_t key_len = strlen(key);
    const char *q = req->query;
    while (*q) {
        if (strncmp(q, key, key_len) == 0 && q[key_len] == '=') {
            char *end;
            long value = strtol(q + key_len + 1, &end, 10);
            return end == q + key_len + 1 ? fallback : value;
        }
        q = strchr(q, '&');
        if (!q)
            break;
        q++;
    }
    return fallback;
}

static void put_field(struct sb_buf *out, const char *key, const char *value, size_t len)
{
    sb_json_key(out, key);
    if (value)
        sb_json_string(out, value, len);
    else
        sb_buf_puts(out, "null");
    sb_buf_putc(out, ',');
}

static void echo(struct sb_http_request *req, struct sb_http_response *resp)
{
    struct sb_buf *out = &resp->body;
    sb_buf_putc(out, '{');
    put_field(out, "method", req->method, strlen(req->method));
    put_field(out, "path", req->path, req->path_len);
    put_field(out, "raw_path", req->raw_path, strlen(req->raw_path));
    put_field(out, "query", req->query, req->query_len);
    put_field(out, "body", req->body, req->body_len);
    sb_buf_printf(out, "\"body_len\":%zu,", req->body_len);
    put_field(out, "client", req->client_addr, strlen(req->client_addr));
    put_field(out, "id", req->request_id, strlen(req->request_id));
    sb_buf_printf(out, "\"http10\":%s,\"headers\":[", req->http10 ? "true" : "false");
    for (size_t i = 0; i < sb_http_header_count(req); i++) {
        const char *name, *value;
        sb_http_header_at(req, i, &name, &value);
        sb_buf_puts(out, i ? ",[" : "[");
        sb_json_string(out, name, strlen(name));
        sb_buf_putc(out, ',');
        sb_json_string(out, value, strlen(value));
        sb_buf_putc(out, ']');
    }
    sb_buf_puts(out, "],\"prefer\":[");
    const char *const *prefer;
    size_t n_prefer = sb_http_header_values(req, "Prefer", &prefer);
    for (size_t i = 0; i < n_prefer; i++) {
        if (i)
            sb_buf_putc(out, ',');
        sb_json_string(out, prefer[i], strlen(prefer[i]));
    }
    sb_buf_puts(out, "]}");
    resp->content_type = SB_HTTP_JSON;
}

/* 200 bytes exactly, like a small record */
static const char bench_body[] =
    "{\"id\":12345,\"name\":\"Ergonomic steel chair\",\"category\":\"furniture\","
    "\"price\":149.90,\"stock\":42,\"tags\":[\"office\",\"steel\"],"
    "\"created_at\":\"2025-05-20T12:34:56Z\",\"active\":true,\"rating\":4.5,\"sku\":\"SB-"
    "0000042\"}";

static void handle(struct sb_http_request *req, struct sb_http_response *resp, void *ctx)
{
    (void)ctx;
    if (strcmp(req->path, "/echo") == 0 || strncmp(req->path, "/echo/", 6) == 0) {
        echo(req, resp);
    } else if (strcmp(req->path, "/bench") == 0) {
        resp->content_type = SB_HTTP_JSON;
        sb_buf_append(&resp->body, bench_body, sizeof(bench_body) - 1);
    } else if (strcmp(req->path, "/defer") == 0) {
        long ms = query_number(req, "ms", 50);
        timer_add(sb_http_defer(req), ms);
        fprintf(stderr, "deferred %s for %ld ms\n", req->request_id, ms); /* tests wait for it */
    } else if (strcmp(req->path, "/status") == 0) {
        resp->status = (int)query_number(req, "code", 200);
        resp->content_type = SB_HTTP_JSON;
        sb_buf_printf(&resp->body, "{\"status\":%d}", resp->status);
    } else if (strcmp(req->path, "/error") == 0) {
        struct sb_api_error err = {0};
        sb_api_error_set(&err, 409, "23505", "duplicate key value violates unique constraint");
        sb_api_error_details(&err, "Key (id)=(1) already exists.");
        sb_http_response_error(resp, &err);
        sb_api_error_clear(&err);
    } else if (strcmp(req->path, "/headers") == 0) {
        int ok = sb_http_response_header(resp, "X-Test", "ok");
        int split = sb_http_response_header(resp, "X-Split", "a\r\nSet-Cookie: evil=1");
        int length = sb_http_response_header(resp, "Content-Length", "1");
        resp->content_type = SB_HTTP_JSON;
        sb_buf_printf(&resp->body, "{\"ok\":%d,\"split\":%d,\"length\":%d}", ok, split, length);
    } else {
        resp->status = 404;
        resp->content_type = SB_HTTP_JSON;
        sb_buf_puts(&resp->body, "{\"code\":\"PGRST125\",\"message\":\"Invalid path specified in "
                                 "request URL\",\"details\":null,\"hint\":null}");
    }
}

/* ---- command line ---- */

static int number(const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return errno || end == text || *end ? -1 : 0;
}

static int usage(void)
{
    fputs("usage: http_echo [--host H] [--port N] [--threads N] [--max-body B] [--max-url B]\n"
          "  [--max-header-bytes B] [--max-headers N] [--idle-timeout S] [--header-timeout S]\n"
          "  [--body-timeout S] [--max-conns N] [--max-conns-per-ip N] [--shutdown-timeout S]\n"
          "  [--cors-origins LIST] [--access-log]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct sb_http_config cfg = sb_http_config_default();
    cfg.port = 0;
    cfg.access_log = false;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--access-log") == 0) {
            cfg.access_log = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const char *arg = argv[++i];
        unsigned long long value = 0;
        if (strcmp(opt, "--host") == 0) {
            cfg.host = arg;
            continue;
        }
        if (strcmp(opt, "--cors-origins") == 0) {
            cfg.cors_origins = arg;
            continue;
        }
        if (number(arg, &value) != 0 || value > 0xffffffffull)
            return usage();
        if (strcmp(opt, "--port") == 0)
            cfg.port = (int)value;
        else if (strcmp(opt, "--threads") == 0)
            cfg.threads = (unsigned)value;
        else if (strcmp(opt, "--max-body") == 0)
            cfg.max_body_bytes = (size_t)value;
        else if (strcmp(opt, "--max-url") == 0)
            cfg.max_url_bytes = (size_t)value;
        else if (strcmp(opt, "--max-header-bytes") == 0)
            cfg.max_header_bytes = (size_t)value;
        else if (strcmp(opt, "--max-headers") == 0)
            cfg.max_headers = (unsigned)value;
        else if (strcmp(opt, "--idle-timeout") == 0)
            cfg.idle_timeout_s = (unsigned)value;
        else if (strcmp(opt, "--header-timeout") == 0)
            cfg.header_timeout_s = (unsigned)value;
        else if (strcmp(opt, "--body-timeout") == 0)
            cfg.body_timeout_s = (unsigned)value;
        else if (strcmp(opt, "--max-conns") == 0)
            cfg.max_connections = (unsigned)value;
        else if (strcmp(opt, "--max-conns-per-ip") == 0)
            cfg.max_connections_per_ip = (unsigned)value;
        else if (strcmp(opt, "--shutdown-timeout") == 0)
            cfg.shutdown_timeout_s = (unsigned)value;
        else
            return usage();
    }

    /* signals are taken by sigwait below, never delivered to a worker */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&timer_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_t timer_thread;
    if (pthread_create(&timer_thread, NULL, timer_main, NULL) != 0)
        return 1;

    struct sb_http_server *server;
    struct sb_buf err;
    sb_buf_init(&err);
    if (sb_http_start(&cfg, handle, NULL, &server, &err) != 0) {
        fprintf(stderr, "http_echo: %s\n", sb_buf_str(&err));
        sb_buf_free(&err);
        return 1;
    }
    sb_buf_free(&err);
    printf("%d\n", sb_http_port(server));
    fflush(stdout);

    int sig = 0;
    sigwait(&signals, &sig);
    struct sb_http_stats stats;
    sb_http_stats(server, &stats);
    unsigned cut = sb_http_stop(server);

    pthread_mutex_lock(&timer_mu);
    timer_stop = true;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_mu);
    pthread_join(timer_thread, NULL);
    pthread_cond_destroy(&timer_cond);
    fprintf(stderr, "stopped: %u cut; %llu requests, %llu connections, %llu refused by limits\n",
            cut, (unsigned long long)stats.requests, (unsigned long long)stats.connections,
            (unsigned long long)stats.rejected_limits);
    return 0;
}
