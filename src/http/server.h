/* The HTTP server: libmicrohttpd (epoll, a small pool of worker threads) with
 * the limits it lacks added here, and one handler callback for everything
 * that is not HTTP plumbing.
 *
 * This layer owns: listening, limits (body, URL, header size and count,
 * connections in total and per client address), timeouts (header deadline,
 * body deadline, idle keep-alive), the request id, CORS, the security
 * headers, the access log, suspended ("deferred") responses and graceful
 * shutdown. Everything it rejects is answered in PostgREST's error shape
 * (api/error.h) with the codes listed in http/error_list.h; docs/http.md
 * describes every limit, its default and what a client sees.
 *
 * The handler runs on a worker thread (there are only a few: it must not
 * block on slow work; see sb_http_defer) and fills a response. It sees only
 * requests that passed every limit, with the complete body. Preflight
 * OPTIONS requests (with Access-Control-Request-Method) are answered here
 * and never reach it.
 *
 * Ownership: the request and the response are borrowed by the handler and
 * live until the response has been sent (for a deferred request: until
 * sb_http_complete). Every pointer in them is owned by the layer. */
#ifndef SB_HTTP_SERVER_H
#define SB_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/error.h"
#include "util/arena.h"
#include "util/buf.h"

/* Error codes of this layer's functions (negative; 0 is success). */
#define SB_HTTP_EINVAL (-1)  /* a configuration value is out of range */
#define SB_HTTP_ELISTEN (-2) /* the address could not be resolved or bound */

/* Longest accepted incoming X-Request-Id, in bytes. */
#define SB_HTTP_REQUEST_ID_MAX 128

struct sb_http_proxies;

struct sb_http_config {
    const char *host;          /* borrowed; numeric address or name ("127.0.0.1") */
    int port;                  /* 0: an ephemeral port (see sb_http_port) */
    unsigned threads;          /* worker threads; 0: one per core */
    size_t max_body_bytes;     /* 1 MiB; larger bodies: 413 */
    size_t max_url_bytes;      /* 8 KiB, path plus query as sent; longer: 414 */
    size_t max_header_bytes;   /* 16 KiB, all header lines together; more: 431 */
    unsigned max_headers;      /* 100 header lines; more: 431 */
    unsigned idle_timeout_s;   /* 60: keep-alive connection without activity is closed */
    unsigned header_timeout_s; /* 10: a started request must have its headers by then: 408 */
    unsigned body_timeout_s;   /* 30: the body must be complete this long after headers: 408 */
    unsigned max_connections;  /* 1024 open connections; the next ones get 503 */
    unsigned max_connections_per_ip; /* 128 from one client address; more get 503 */
    unsigned shutdown_timeout_s;     /* 10: how long sb_http_stop waits for requests in flight */
    const char *cors_origins;        /* borrowed; NULL or "*": any origin ("*"); else a
                                        comma-separated list of origins to reflect */
    const struct sb_http_proxies *trusted_proxies; /* borrowed; NULL: none. From these
                                        peers, X-Forwarded-For names the client (proxy.h) */
    bool access_log;                 /* one JSON line per request to log */
    FILE *log;                       /* borrowed; access log and server messages; NULL: stderr */
    /* Called once for every answered request (deferred ones and those the
     * layer itself refused included): as the answer is queued, before the
     * client can have it (so a guard counting statuses has counted this one
     * when the client's next request arrives), or at completion for
     * answers the layer writes itself; on the thread that queued or
     * finished it. Given the client address and the path as sent (either
     * may be NULL for a request refused before they were known), the
     * status and the microseconds since the request arrived. Must be
     * thread-safe and quick. NULL: none. */
    void (*observe)(void *ctx, const char *client_addr, const char *raw_path, int status,
                    uint64_t duration_us);
    void *observe_ctx;
};

/* The defaults above (host 127.0.0.1, port 3000, access log on, log NULL). */
struct sb_http_config sb_http_config_default(void);

enum sb_http_method {
    SB_HTTP_GET,
    SB_HTTP_HEAD,
    SB_HTTP_POST,
    SB_HTTP_PUT,
    SB_HTTP_PATCH,
    SB_HTTP_DELETE,
    SB_HTTP_OPTIONS,
};

struct sb_http_exchange; /* private: one request and its response */

/* One request, complete and within every limit. Strings are NUL-terminated
 * and owned by the layer. */
struct sb_http_request {
    enum sb_http_method method_id;
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, starts with '/', no NUL inside */
    size_t path_len;
    const char *raw_path; /* the path exactly as sent (no query) */
    const char *query;    /* raw query after '?', NOT decoded; "" when none */
    size_t query_len;
    const char *body; /* the complete body, NUL-terminated; NULL when none */
    size_t body_len;
    const char *client_addr;           /* "127.0.0.1", "::1" */
    const char *request_id;            /* taken from a valid X-Request-Id, else made (a UUID) */
    bool http10;                       /* the client spoke HTTP/1.0 */
    struct sb_arena *arena;            /* per request; freed after the response is sent */
    struct sb_http_exchange *exchange; /* private */
};

/* First value of a header (name case-insensitive), or NULL. */
const char *sb_http_header(const struct sb_http_request *req, const char *name);
/* Every value of a header, in the order received (repeated headers such as
 * Prefer). *values is an array owned by the request's arena; returns the
 * count (0: *values is NULL). */
size_t sb_http_header_values(const struct sb_http_request *req, const char *name,
                             const char *const **values);
/* Iterate over every header line: index 0..sb_http_header_count()-1. */
size_t sb_http_header_count(const struct sb_http_request *req);
void sb_http_header_at(const struct sb_http_request *req, size_t index, const char **name,
                       const char **value);

struct sb_http_header_line; /* private: a response header kept in the arena */

/* The response the handler fills. Defaults: status 200, no content type,
 * empty body (Content-Length: 0). For HEAD, the layer sends the headers only,
 * with the Content-Length of the body the handler produced: a handler may
 * treat HEAD as GET and get exact headers, or skip the body. */
struct sb_http_response {
    int status;                          /* 100..599 */
    const char *content_type;            /* borrowed: a static string or arena memory; NULL: none */
    struct sb_buf body;                  /* appended to by the handler; the layer frees it */
    struct sb_http_header_line *headers; /* private: added with sb_http_response_header */
    struct sb_arena *arena;              /* the request's arena */
};

#define SB_HTTP_JSON "application/json; charset=utf-8"

/* Add a response header (name and value copied). Returns 0, or -1 (and adds
 * nothing) when the name is not an HTTP token or the value holds CR, LF or
 * NUL, so text from a client can never split the response. The layer's own
 * headers (X-Request-Id, X-Content-Type-Options, CORS, Content-Length, Date)
 * are added by it. */
int sb_http_response_header(struct sb_http_response *resp, const char *name, const char *value);
/* Status, JSON content type and PostgREST's body {"code","message","details",
 * "hint"} from err (borrowed, not cleared). Replaces any body so far. */
void sb_http_response_error(struct sb_http_response *resp, const struct sb_api_error *err);

/* The handler: fill resp for req. Called on a worker thread; ctx is the value
 * given to sb_http_start. To answer later from another thread, call
 * sb_http_defer and return without a response. */
typedef void (*sb_http_handler)(struct sb_http_request *req, struct sb_http_response *resp,
                                void *ctx);

/* A response to be completed later, on any thread. */
struct sb_http_deferred;

/* From inside the handler only, at most once: the handler returns without
 * a response, the connection is suspended (no worker thread is held), and
 * the returned handle must be passed to sb_http_complete exactly once, from
 * any thread, after filling sb_http_deferred_response(). Until then req and
 * resp stay valid. */
struct sb_http_deferred *sb_http_defer(struct sb_http_request *req);
struct sb_http_request *sb_http_deferred_request(struct sb_http_deferred *deferred);
struct sb_http_response *sb_http_deferred_response(struct sb_http_deferred *deferred);
/* Send the response and resume the connection. Thread-safe. The handle, the
 * request and the response are invalid afterwards. If the server stopped
 * waiting (shutdown timeout) or the client is gone, this only frees. */
void sb_http_complete(struct sb_http_deferred *deferred);

struct sb_http_server;

/* Check cfg, bind and start serving on worker threads. handler and ctx are
 * borrowed until sb_http_stop returns; cfg is copied (its strings are
 * borrowed until then too). Returns 0 with *out owned by the caller, or
 * SB_HTTP_EINVAL / SB_HTTP_ELISTEN with a message in err. */
int sb_http_start(const struct sb_http_config *cfg, sb_http_handler handler, void *ctx,
                  struct sb_http_server **out, struct sb_buf *err);
/* The bound port (the ephemeral one when cfg.port was 0). */
int sb_http_port(const struct sb_http_server *server);

struct sb_http_stats {
    uint64_t requests;    /* requests answered (any status) */
    uint64_t connections; /* connections accepted */
    unsigned open_connections;
    unsigned in_flight;       /* requests between headers received and response sent */
    uint64_t rejected_limits; /* 408, 413, 414, 431 and connection-limit 503 answers */
};
void sb_http_stats(const struct sb_http_server *server, struct sb_http_stats *out);

/* Graceful stop, then free: stop accepting, let requests in flight
 * (deferred ones included) finish for up to shutdown_timeout_s, answer those
 * still suspended with 503, close every connection and join the threads.
 * Async-signal-unsafe: call it from a normal thread (e.g. after sigwait).
 * Returns the number of requests that were cut by the timeout. */
unsigned sb_http_stop(struct sb_http_server *server);

#endif
