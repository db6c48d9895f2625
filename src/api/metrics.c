/* Prometheus metrics, see metrics.h.
 *
 * Every counter is a relaxed atomic in one struct: requests per route
 * family and exact status (a fixed 600-entry row per family, rendered only
 * where not zero), histograms as per-bucket counts (made cumulative when
 * rendered) with a sum in microseconds. The guard, the HTTP layer and the
 * writer keep their own counters; the /_/metrics handler (api/app.c) takes
 * their snapshots and passes them to sb_metrics_render. */
#include "api/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

#define N_STATUS 600

/* Latency buckets, upper bounds in microseconds (+Inf follows). */
static const int64_t latency_bounds_us[] = {500,    1000,   2500,   5000,    10000,   25000,  50000,
                                            100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define N_LATENCY (sizeof(latency_bounds_us) / sizeof(latency_bounds_us[0]))

/* Writer batch sizes, units (+Inf follows). */
static const int64_t batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
#define N_BATCH (sizeof(batch_bounds) / sizeof(batch_bounds[0]))
_Static_assert(N_BATCH <= N_LATENCY, "batch buckets share the histogram struct");

struct histogram {
    _Atomic uint64_t buckets[N_LATENCY + 1]; /* the last: above every bound */
    _Atomic uint64_t count;
    _Atomic uint64_t sum; /* microseconds, or units */
};

struct sb_metrics {
    _Atomic uint64_t requests[SB_ROUTE_N_FAMILIES][N_STATUS];
    struct histogram latency[SB_ROUTE_N_FAMILIES];
    struct histogram db_time;
    struct histogram batches; /* uses N_BATCH + 1 of the buckets */
    _Atomic int64_t queue_depth;
};

static const char *const route_names[] = {
#define X(name, label) label,
    SB_ROUTE_LIST(X)
#undef X
};

const char *sb_metrics_route_name(enum sb_route_family family)
{
    return (unsigned)family < SB_ROUTE_N_FAMILIES ? route_names[family] : "other";
}

static bool has_prefix(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

enum sb_route_family sb_metrics_route_family(const char *path)
{
    if (!path)
        return SB_ROUTE_OTHER;
    if (!strcmp(path, "/rest/v1") || !strcmp(path, "/rest/v1/"))
        return SB_ROUTE_OPENAPI;
    if (has_prefix(path, "/rest/v1/rpc/"))
        return SB_ROUTE_RPC;
    if (has_prefix(path, "/rest/v1/"))
        return SB_ROUTE_REST;
    if (has_prefix(path, "/auth/v1/"))
        return SB_ROUTE_AUTH;
    if (!strcmp(path, "/_/health") || !strcmp(path, "/_/ready"))
        return SB_ROUTE_HEALTH;
    if (!strcmp(path, "/_/metrics"))
        return SB_ROUTE_METRICS;
    return SB_ROUTE_OTHER;
}

struct sb_metrics *sb_metrics_new(void)
{
    return sb_xcalloc(1, sizeof(struct sb_metrics));
}

void sb_metrics_free(struct sb_metrics *m)
{
    free(m);
}

static void observe(struct histogram *h, const int64_t *bounds, size_t n_bounds, int64_t value)
{
    if (value < 0)
        value = 0;
    size_t i = 0;
    while (i < n_bounds && value > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, (uint64_t)value, memory_order_relaxed);
}

void sb_metrics_request(struct sb_metrics *m, enum sb_route_family family, int status,
                        int64_t latency_us)
{
    if ((unsigned)family >= SB_ROUTE_N_FAMILIES)
        family = SB_ROUTE_OTHER;
    if (status < 100 || status >= N_STATUS)
        status = 0;
    atomic_fetch_add_explicit(&m->requests[family][status], 1, memory_order_relaxed);
    observe(&m->latency[family], latency_bounds_us, N_LATENCY, latency_us);
}

void sb_metrics_db_time(struct sb_metrics *m, int64_t db_us)
{
    observe(&m->db_time, latency_bounds_us, N_LATENCY, db_us);
}

void sb_metrics_queue_depth(struct sb_metrics *m, int64_t depth)
{
    atomic_store_explicit(&m->queue_depth, depth, memory_order_relaxed);
}

void sb_metrics_batch(struct sb_metrics *m, int64_t n_units)
{
    observe(&m->batches, batch_bounds, N_BATCH, n_units);
}

/* ---- rendering -------------------------------------------------------------------- */

void sb_metrics_label_escape(struct sb_buf *out, const char *value)
{
    for (; *value; value++) {
        if (*value == '\\')
            sb_buf_puts(out, "\\\\");
        else if (*value == '"')
            sb_buf_puts(out, "\\\"");
        else if (*value == '\n')
            sb_buf_puts(out, "\\n");
        else
            sb_buf_putc(out, *value);
    }
}

static void header(struct sb_buf *out, const char *name, const char *type, const char *help)
{
    sb_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} number, or name number without a label. */
static void sample(struct sb_buf *out, const char *name, const char *label, const char *value,
                   unsigned long long number)
{
    sb_buf_puts(out, name);
    if (label) {
        sb_buf_printf(out, "{%s=\"", label);
        sb_metrics_label_escape(out, value);
        sb_buf_puts(out, "\"}");
    }
    sb_buf_printf(out, " %llu\n", number);
}

static void gauge(struct sb_buf *out, const char *name, const char *help, long long value)
{
    header(out, name, "gauge", help);
    sb_buf_printf(out, "%s %lld\n", name, value);
}

static void counter(struct sb_buf *out, const char *name, const char *help,
                    unsigned long long value)
{
    header(out, name, "counter", help);
    sb_buf_printf(out, "%s %llu\n", name, value);
}

/* The samples of one histogram; label (may be NULL) is name="value".
 * scale: 1e6 renders microseconds as seconds, 1 leaves units alone. */
static void histogram_samples(struct sb_buf *out, const char *name, const char *label,
                              const char *value, const struct histogram *h,
                              const int64_t *bounds, size_t n_bounds, double scale)
{
    struct sb_buf labels;
    sb_buf_init(&labels);
    if (label) {
        sb_buf_printf(&labels, "%s=\"", label);
        sb_metrics_label_escape(&labels, value);
        sb_buf_puts(&labels, "\",");
    }
    unsigned long long cumulative = 0;
    for (size_t i = 0; i <= n_bounds; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < n_bounds)
            sb_buf_printf(out, "%s_bucket{%sle=\"%g\"} %llu\n", name, sb_buf_str(&labels),
                          (double)bounds[i] / scale, cumulative);
        else
            sb_buf_printf(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, sb_buf_str(&labels),
                          cumulative);
    }
    /* the count is the +Inf bucket: both come from the same loads */
    if (labels.len)
        labels.data[--labels.len] = '\0'; /* the trailing comma */
    const char *open = labels.len ? "{" : "", *close = labels.len ? "}" : "";
    unsigned long long sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
    if (scale == 1)
        sb_buf_printf(out, "%s_sum%s%s%s %llu\n", name, open, sb_buf_str(&labels), close, sum);
    else
        sb_buf_printf(out, "%s_sum%s%s%s %.6f\n", name, open, sb_buf_str(&labels), close,
                      (double)sum / scale);
    sb_buf_printf(out, "%s_count%s%s%s %llu\n", name, open, sb_buf_str(&labels), close, cumulative);
    sb_buf_free(&labels);
}

static void render_guard(struct sb_buf *out, const struct sb_guard_stats *guard)
{
    header(out, "specbase_threat_events_total", "counter",
           "Threat events detected, by kind (repeats included).");
    for (int kind = 0; kind < SB_THREAT_N_KINDS; kind++)
        sample(out, "specbase_threat_events_total", "kind", sb_threat_kind_name(kind),
               (unsigned long long)guard->events[kind]);
    header(out, "specbase_guard_refusals_total", "counter",
           "Requests refused by the guard: banned (403) or rate_limited (429).");
    sample(out, "specbase_guard_refusals_total", "reason", "banned",
           (unsigned long long)guard->banned_refusals);
    sample(out, "specbase_guard_refusals_total", "reason", "rate_limited",
           (unsigned long long)guard->limited_refusals);
    gauge(out, "specbase_guard_active_bans", "Client addresses banned right now.",
          (long long)guard->active_bans);
    gauge(out, "specbase_guard_active_throttles", "Client addresses throttled right now.",
          (long long)guard->active_throttles);
    gauge(out, "specbase_guard_sources_tracked", "Client addresses the guard holds state for.",
          (long long)guard->sources_tracked);
}

void sb_metrics_render(struct sb_buf *out, const struct sb_metrics *m,
                       const struct sb_metrics_sources *sources)
{
    header(out, "specbase_http_requests_total", "counter",
           "Requests answered by the API, by route family and status.");
    for (int family = 0; family < SB_ROUTE_N_FAMILIES; family++)
        for (int status = 0; status < N_STATUS; status++) {
            unsigned long long n =
                atomic_load_explicit(&m->requests[family][status], memory_order_relaxed);
            if (n)
                sb_buf_printf(out, "specbase_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                              route_names[family], status, n);
        }
    header(out, "specbase_http_request_duration_seconds", "histogram",
           "Time from the handler's start to the response, by route family.");
    for (int family = 0; family < SB_ROUTE_N_FAMILIES; family++)
        histogram_samples(out, "specbase_http_request_duration_seconds", "route",
                          route_names[family], &m->latency[family], latency_bounds_us, N_LATENCY,
                          1e6);
    header(out, "specbase_db_duration_seconds", "histogram",
           "Time spent in the database per request (reads, and writes from queueing to commit).");
    histogram_samples(out, "specbase_db_duration_seconds", NULL, NULL, &m->db_time,
                      latency_bounds_us, N_LATENCY, 1e6);
    gauge(out, "specbase_writer_queue_depth", "Units waiting for the writer.",
          (long long)atomic_load_explicit(&m->queue_depth, memory_order_relaxed));
    header(out, "specbase_writer_batch_units", "histogram", "Units per writer transaction.");
    histogram_samples(out, "specbase_writer_batch_units", NULL, NULL, &m->batches, batch_bounds,
                      N_BATCH, 1);
    const struct sb_metrics_sources none = {0};
    if (!sources)
        sources = &none;
    if (sources->writer) {
        counter(out, "specbase_writer_units_total", "Write units completed.",
                sources->writer->units);
        counter(out, "specbase_writer_batches_total", "Writer transactions run.",
                sources->writer->batches);
        counter(out, "specbase_writer_failures_total", "Write units that did not commit.",
                sources->writer->failures);
        gauge(out, "specbase_writer_max_batch", "The largest batch seen, in units.",
              (long long)sources->writer->max_batch_seen);
    }
    if (sources->http) {
        counter(out, "specbase_http_connections_total", "Connections accepted.",
                (unsigned long long)sources->http->connections);
        gauge(out, "specbase_http_open_connections", "Connections open now.",
              (long long)sources->http->open_connections);
        gauge(out, "specbase_http_in_flight", "Requests between headers and response.",
              (long long)sources->http->in_flight);
        counter(out, "specbase_http_rejected_limits_total",
                "Requests refused by the HTTP layer's limits (408, 413, 414, 431, 503).",
                (unsigned long long)sources->http->rejected_limits);
    }
    if (sources->guard)
        render_guard(out, sources->guard);
}
