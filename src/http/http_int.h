/* Internals shared by the files of src/http/ (not for other modules):
 *   server.c      libmicrohttpd glue: daemon, request stages, defer, stop
 *   conn.c        connection tracking, limits per address, the watchdog
 *   request.c     request target, headers, request id
 *   response.c    response API, MHD responses, raw responses, CORS
 *   access_log.c  one JSON line per request
 *
 * Locks, always taken in this order: server.conns_mu, then a connection's
 * mu; server.c's defer_mu is never held together with either. */
#ifndef SB_HTTP_INT_H
#define SB_HTTP_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

#include "http/server.h"

enum http_error_id {
#define SB_HTTP_ERROR(id, status, code, message, hint) HTTP_ERR_##id,
#include "http/error_list.h"
#undef SB_HTTP_ERROR
    HTTP_ERR_COUNT
};

/* Where a connection is in its request cycle; decides which deadline the
 * watchdog applies. Changed only under the connection's mu. */
enum conn_phase {
    PHASE_WAIT_FIRST, /* connected, first request line not yet complete */
    PHASE_IDLE,       /* keep-alive between requests (MHD's idle timeout) */
    PHASE_HEADERS,    /* a request has started; headers due by the deadline */
    PHASE_BODY,       /* headers in; body due by the body deadline */
    PHASE_HANDLER,    /* handler, deferred, or sending: no deadline here */
    PHASE_LINGER,     /* answered early and half-closed; reading what is left */
    PHASE_DEAD,       /* timed out or shut down: MHD will close it */
};

struct http_conn {
    struct http_conn *prev, *next; /* server.conns, under conns_mu */
    pthread_mutex_t mu;
    int fd;                  /* MHD's socket: never closed here */
    enum conn_phase phase;   /* under mu */
    uint64_t phase_since_ms; /* under mu */
    uint64_t opened_ms;
    uint64_t completed;               /* requests completed, under mu */
    struct sb_http_exchange *current; /* the request in progress, under mu */
    /* watchdog's own view of an idle connection */
    uint64_t idle_seen_completed;
    uint64_t idle_bytes;
    enum http_error_id reject; /* TOO_MANY_CONNS(_IP), or HTTP_ERR_COUNT */
    bool counted_ip;
    struct in6_addr ip; /* IPv4 as ::ffff:a.b.c.d */
    char addr[INET6_ADDRSTRLEN];
};

struct ip_slot {
    struct in6_addr ip;
    unsigned count; /* 0: empty slot */
};

enum ex_stage {
    STAGE_NEW,      /* request line seen; headers not yet complete */
    STAGE_BODY,     /* collecting the body */
    STAGE_DISCARD,  /* answered early; dropping the rest of the body */
    STAGE_RUN,      /* headers fine, no body: run the handler on the next call */
    STAGE_REJECTED, /* resp holds this layer's error: queue it on the next call */
    STAGE_WAIT,     /* deferred: suspended until sb_http_complete */
    STAGE_READY,    /* deferred and completed: queue on the next call */
    STAGE_SHUTDOWN, /* deferred past the shutdown deadline: answer 503 */
    STAGE_SENT,     /* response queued */
};

struct http_hdr {
    const char *name, *value;
};

struct sb_http_response;
struct sb_http_header_line {
    struct sb_http_header_line *next;
    const char *name, *value;
};

struct sb_http_deferred {
    struct sb_http_exchange *exchange;
};

struct sb_http_exchange {
    struct sb_http_request req;
    struct sb_http_response resp;
    struct sb_arena arena;
    struct sb_http_server *srv;
    struct http_conn *conn; /* valid until MHD completes the request */
    struct MHD_Connection *mhd;
    atomic_int refs;     /* MHD's, plus one while deferred */
    enum ex_stage stage; /* MHD thread only */
    const char *target;  /* raw request target (arena) */
    size_t target_len;
    struct http_hdr *hdrs; /* arena */
    size_t n_hdrs;
    struct sb_buf body;
    bool body_pending; /* headers announced a body */
    bool close_after;  /* answer with Connection: close */
    bool in_flight;    /* counted in server.in_flight */
    /* under server.c's defer_mu */
    bool deferred, suspended, completed, orphaned;
    struct sb_http_exchange *susp_prev, *susp_next;
    struct sb_http_deferred handle;
    /* for the access log */
    int status_sent; /* 0: nothing sent */
    bool observed;   /* cfg.observe has seen this exchange */
    uint64_t bytes_out;
    uint64_t start_us;     /* monotonic */
    int64_t start_wall_ms; /* realtime */
    char id_buf[SB_HTTP_REQUEST_ID_MAX + 1];
};

struct sb_http_server {
    struct sb_http_config cfg;
    sb_http_handler handler;
    void *ctx;
    struct MHD_Daemon *daemon;
    int port;
    FILE *log;
    struct http_log *logbuf; /* access_log.c's buffers, from http_log_start */
    size_t pool_bytes; /* MHD's per-connection memory */

    pthread_mutex_t conns_mu;
    struct http_conn *conns;
    unsigned n_open;
    struct ip_slot *ips; /* open addressing, linear probing */
    size_t ips_mask;

    pthread_t watchdog;
    bool watchdog_running;
    pthread_mutex_t wd_mu;
    pthread_cond_t wd_cond;
    bool wd_stop;

    struct sb_http_exchange *suspended; /* deferred and waiting (server.c's defer_mu) */
    bool closing;                       /* no new suspensions */

    atomic_bool stopping; /* answer with Connection: close */
    atomic_uint in_flight;
    atomic_uint_fast64_t n_requests, n_connections, n_rejected;

    bool cors_any; /* cors_origins NULL or "*" */
    pthread_mutex_t start_mu;
    struct sb_buf *startup_errors; /* MHD's messages while starting, else NULL (start_mu) */
};

/* time */
uint64_t http_now_ms(void);
uint64_t http_now_us(void);
int64_t http_wall_ms(void);

/* conn.c */
int http_conns_init(struct sb_http_server *srv);
void http_conns_free(struct sb_http_server *srv);
/* MHD_OPTION_NOTIFY_CONNECTION */
void http_conn_notify(void *cls, struct MHD_Connection *mhd, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
int http_watchdog_start(struct sb_http_server *srv);
void http_watchdog_stop(struct sb_http_server *srv);
/* Move conn to phase `to` when it is in one of the phases of from_mask
 * (1u << phase); returns the phase it was in. */
enum conn_phase http_conn_move(struct http_conn *conn, unsigned from_mask, enum conn_phase to);
/* Write bytes straight to the socket (nothing else writes meanwhile) and
 * half-close it; the connection lingers, reading, until the client closes
 * or the linger time ends. Caller holds no lock. Returns false (nothing
 * written) when the watchdog has already answered. */
bool http_conn_answer_and_linger(struct http_conn *conn, const char *data, size_t len);
#define HTTP_LINGER_MS 5000

/* request.c */
/* Parse the raw target into req->path/raw_path/query (arena). 0 or -1. */
int http_parse_target(struct sb_http_exchange *ex);
int http_method_parse(const char *method, enum sb_http_method *out);
bool http_request_id_valid(const char *id, size_t len);
/* A random UUID (version 4), 36 characters plus NUL. */
void http_request_id_make(char out[37]);
/* Copy MHD's request headers into the arena; checks count and size.
 * Returns HTTP_ERR_COUNT when fine, else the error. */
enum http_error_id http_copy_headers(struct sb_http_exchange *ex, unsigned max_headers,
                                     size_t max_bytes, size_t *bytes_out);

/* response.c */
void http_response_init(struct sb_http_response *resp, struct sb_arena *arena);
void http_error_fill(struct sb_api_error *err, enum http_error_id id);
int http_error_status(enum http_error_id id);
/* Fill resp with the layer's error (details may be NULL). */
void http_respond_error(struct sb_http_response *resp, enum http_error_id id, const char *details);
/* Queue resp (ex->resp, or one made apart from it) on ex's MHD connection
 * with the layer's headers; records status and bytes for the log. */
enum MHD_Result http_queue(struct sb_http_exchange *ex, struct sb_http_response *resp);
/* The full HTTP/1.1 text of ex->resp (with Connection: close) for a direct
 * write; the body is left out where HTTP allows none. */
void http_format_raw(struct sb_http_exchange *ex, struct sb_buf *out);
/* A raw error answer when there is no exchange (watchdog). */
void http_format_raw_error(const struct sb_http_server *srv, enum http_error_id id,
                           const char *request_id, struct sb_buf *out);
/* An OPTIONS preflight (Access-Control-Request-Method present): fills the
 * response and returns true. */
bool http_cors_preflight(struct sb_http_exchange *ex);

/* access_log.c */
struct http_log;
/* The log's buffers and flusher thread; 0 or -1. http_log_stop writes out
 * what is buffered and frees them (nothing may log after it). */
int http_log_start(struct sb_http_server *srv);
void http_log_stop(struct sb_http_server *srv);
void http_log_exchange(struct sb_http_server *srv, struct sb_http_exchange *ex);
/* Give the exchange's status to cfg.observe, once: as the answer is queued
 * (so that the guard has counted it before the client can send its next
 * request), or at completion for answers that bypass the queue. */
void http_observe(struct sb_http_server *srv, struct sb_http_exchange *ex);
void http_log_line(struct sb_http_server *srv, int64_t wall_ms, const char *id, const char *addr,
                   const char *method, const char *path, int status, uint64_t bytes,
                   uint64_t duration_us);
/* A server message: {"time","level","msg"}. */
void http_log_message(struct sb_http_server *srv, const char *level, const char *msg);

#endif
