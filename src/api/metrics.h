/* Counters and histograms of the running server, exposed in Prometheus'
 * text format (version 0.0.4) at GET /_/metrics: requests by route family,
 * method and status, request latency per route family, database time,
 * writer batches and queue depth, and, from the guard (guard/threat.h),
 * threat events by kind, refusals and active bans.
 *
 * Recording is lock-free (relaxed atomics): the HTTP handler records each
 * request once, at its end. Rendering reads a snapshot that may mix
 * requests in flight, as every Prometheus exporter does. */
#ifndef SB_API_METRICS_H
#define SB_API_METRICS_H

#include <stdint.h>

#include "guard/threat.h"
#include "http/server.h"
#include "store/writer.h"
#include "util/buf.h"

/* Route families: X(NAME, "label"). The label set is fixed, so a client
 * cannot grow the exposition by requesting new paths. */
#define SB_ROUTE_LIST(X)                                                                           \
    X(REST, "rest")         /* /rest/v1/<collection> */                                            \
    X(RPC, "rpc")           /* /rest/v1/rpc/<action> */                                            \
    X(OPENAPI, "openapi")   /* /rest/v1 and /rest/v1/ */                                           \
    X(AUTH, "auth")         /* /auth/v1/... */                                                     \
    X(HEALTH, "health")     /* /_/health, /_/ready */                                              \
    X(METRICS, "metrics")   /* /_/metrics */                                                       \
    X(OTHER, "other")       /* anything else (404) */

enum sb_route_family {
#define X(name, label) SB_ROUTE_##name,
    SB_ROUTE_LIST(X)
#undef X
        SB_ROUTE_N_FAMILIES
};

/* The family of a decoded request path (borrowed). */
enum sb_route_family sb_metrics_route_family(const char *path);
/* "rest", "rpc", ... */
const char *sb_metrics_route_name(enum sb_route_family family);

struct sb_metrics;

/* New, all zero. Owned: free with sb_metrics_free. */
struct sb_metrics *sb_metrics_new(void);
void sb_metrics_free(struct sb_metrics *m);

/* One answered request: its family, final status (100..599; others are
 * counted as 0) and the time from the handler's start to the response, in
 * microseconds. Thread-safe, lock-free. */
void sb_metrics_request(struct sb_metrics *m, enum sb_route_family family, int status,
                        int64_t latency_us);
/* Time spent in the database for one request (a read, or a write from
 * queueing on the writer to its commit), microseconds. */
void sb_metrics_db_time(struct sb_metrics *m, int64_t db_us);
/* Units queued for the writer right now (a gauge; set, not added). */
void sb_metrics_queue_depth(struct sb_metrics *m, int64_t depth);
/* One writer transaction of n_units units. */
void sb_metrics_batch(struct sb_metrics *m, int64_t n_units);

/* The other layers' counters to render with ours; any pointer may be NULL
 * (that section is left out). All borrowed for the call. */
struct sb_metrics_sources {
    const struct sb_guard_stats *guard;
    const struct sb_http_stats *http;
    const struct sb_writer_stats *writer;
};

/* Append the exposition to out: "# HELP" and "# TYPE" before each metric,
 * then its samples, label values escaped. Content type for the answer:
 * SB_METRICS_CONTENT_TYPE. */
void sb_metrics_render(struct sb_buf *out, const struct sb_metrics *m,
                       const struct sb_metrics_sources *sources);

#define SB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append value as a Prometheus label value (without the quotes): backslash,
 * double quote and line feed escaped as \\, \" and \n. */
void sb_metrics_label_escape(struct sb_buf *out, const char *value);

#endif
