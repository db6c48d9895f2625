/* Unit tests of src/api/metrics.c: route families from paths; the
 * exposition parses as Prometheus text format 0.0.4 (every sample belongs to
 * a metric announced by HELP and TYPE lines, label values are quoted and
 * escaped, values are numbers); histogram buckets are cumulative and end
 * with +Inf equal to _count; requests are counted by family and status;
 * the guard's, the HTTP layer's and the writer's counters appear when
 * given; and counting from many threads loses nothing. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/metrics.h"
#include "test.h"

/* ---- a small exposition parser ------------------------------------------------------- */

struct family {
    char name[96];
    char type[16];
    bool help;
};

struct parsed {
    struct family families[64];
    size_t n_families;
    size_t n_samples;
};

static struct family *family_of(struct parsed *p, const char *name)
{
    for (size_t i = 0; i < p->n_families; i++)
        if (!strcmp(p->families[i].name, name))
            return &p->families[i];
    return NULL;
}

static bool metric_name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

/* The family a sample's metric name belongs to: itself, or for a histogram
 * its name without _bucket, _sum or _count. */
static struct family *sample_family(struct parsed *p, const char *name)
{
    struct family *fam = family_of(p, name);
    if (fam)
        return fam;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(name), slen = strlen(suffixes[i]);
        if (len > slen && !strcmp(name + len - slen, suffixes[i])) {
            char base[96];
            snprintf(base, sizeof(base), "%.*s", (int)(len - slen), name);
            fam = family_of(p, base);
            if (fam && !strcmp(fam->type, "histogram"))
                return fam;
        }
    }
    return NULL;
}

static bool quiet; /* parser_rejects_bad_exposition expects problems */

__attribute__((format(printf, 2, 3))) static void complain(int line, const char *fmt, ...)
{
    if (quiet)
        return;
    char message[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    sb_test_fail(__FILE__, line, "%s", message);
}

/* Parse text; report the first problem with its line. Returns true when
 * the text is valid exposition. */
static bool parse_exposition(const char *text, struct parsed *p)
{
    memset(p, 0, sizeof(*p));
    int line_no = 0;
    const char *line = text;
    while (*line) {
        line_no++;
        const char *end = strchr(line, '\n');
        if (!end) {
            complain(__LINE__, "line %d: no final newline", line_no);
            return false;
        }
        char buf[512];
        snprintf(buf, sizeof(buf), "%.*s", (int)(end - line), line);
        line = end + 1;
        if (!strncmp(buf, "# HELP ", 7) || !strncmp(buf, "# TYPE ", 7)) {
            char name[96] = "", rest[400] = "";
            const char *q = buf + 7;
            size_t n = 0;
            while (metric_name_char(q[n], n == 0) && n < sizeof(name) - 1)
                n++;
            if (n == 0 || q[n] != ' ') {
                complain(__LINE__, "line %d: bad metric name: %s", line_no, buf);
                return false;
            }
            snprintf(name, sizeof(name), "%.*s", (int)n, q);
            snprintf(rest, sizeof(rest), "%s", q + n + 1);
            struct family *fam = family_of(p, name);
            if (!fam) {
                if (p->n_families == 64)
                    return false;
                fam = &p->families[p->n_families++];
                snprintf(fam->name, sizeof(fam->name), "%s", name);
            }
            if (buf[2] == 'H') {
                fam->help = rest[0] != '\0';
            } else {
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram")) {
                    complain(__LINE__, "line %d: bad type: %s", line_no, buf);
                    return false;
                }
                if (fam->type[0]) {
                    complain(__LINE__, "line %d: second TYPE for %s", line_no, name);
                    return false;
                }
                snprintf(fam->type, sizeof(fam->type), "%.15s", rest);
            }
            continue;
        }
        if (buf[0] == '#' || buf[0] == '\0') {
            complain(__LINE__, "line %d: unexpected: %s", line_no, buf);
            return false;
        }
        /* a sample: name{label="value",...} number */
        const char *q = buf;
        char name[96];
        size_t n = 0;
        while (metric_name_char(q[n], n == 0) && n < sizeof(name) - 1)
            n++;
        snprintf(name, sizeof(name), "%.*s", (int)n, q);
        q += n;
        if (*q == '{') {
            q++;
            while (*q != '}') {
                size_t ln = 0;
                while (metric_name_char(q[ln], ln == 0))
                    ln++;
                if (ln == 0 || q[ln] != '=' || q[ln + 1] != '"') {
                    complain(__LINE__, "line %d: bad label: %s", line_no, buf);
                    return false;
                }
                q += ln + 2;
                while (*q && *q != '"') {
                    if (*q == '\\') {
                        if (q[1] != '\\' && q[1] != '"' && q[1] != 'n') {
                            complain(__LINE__, "line %d: bad escape: %s", line_no, buf);
                            return false;
                        }
                        q++;
                    }
                    q++;
                }
                if (*q != '"') {
                    complain(__LINE__, "line %d: open label: %s", line_no, buf);
                    return false;
                }
                q++;
                if (*q == ',')
                    q++;
                else if (*q != '}') {
                    complain(__LINE__, "line %d: bad label list: %s", line_no, buf);
                    return false;
                }
            }
            q++;
        }
        if (*q != ' ') {
            complain(__LINE__, "line %d: no value: %s", line_no, buf);
            return false;
        }
        char *num_end;
        strtod(q + 1, &num_end);
        if (num_end == q + 1 || *num_end) {
            complain(__LINE__, "line %d: bad value: %s", line_no, buf);
            return false;
        }
        struct family *fam = sample_family(p, name);
        if (!fam || !fam->help || !fam->type[0]) {
            complain(__LINE__, "line %d: sample without HELP and TYPE: %s", line_no, buf);
            return false;
        }
        p->n_samples++;
    }
    return true;
}

/* The value of the sample line that starts with prefix ("name{...} "), or -1. */
static double value_of(const char *text, const char *prefix)
{
    const char *at = text;
    size_t len = strlen(prefix);
    while ((at = strstr(at, prefix))) {
        if (at == text || at[-1] == '\n')
            return strtod(at + len, NULL);
        at += len;
    }
    return -1;
}

/* ---- tests ------------------------------------------------------------------------------- */

TEST(route_families)
{
    CHECK_EQ_INT(sb_metrics_route_family("/rest/v1/products"), SB_ROUTE_REST);
    CHECK_EQ_INT(sb_metrics_route_family("/rest/v1/rpc/checkout"), SB_ROUTE_RPC);
    CHECK_EQ_INT(sb_metrics_route_family("/rest/v1"), SB_ROUTE_OPENAPI);
    CHECK_EQ_INT(sb_metrics_route_family("/rest/v1/"), SB_ROUTE_OPENAPI);
    CHECK_EQ_INT(sb_metrics_route_family("/auth/v1/token"), SB_ROUTE_AUTH);
    CHECK_EQ_INT(sb_metrics_route_family("/_/ready"), SB_ROUTE_HEALTH);
    CHECK_EQ_INT(sb_metrics_route_family("/_/metrics"), SB_ROUTE_METRICS);
    CHECK_EQ_INT(sb_metrics_route_family("/wp-admin/../x"), SB_ROUTE_OTHER);
    CHECK_EQ_INT(sb_metrics_route_family(NULL), SB_ROUTE_OTHER);
    CHECK_EQ_STR(sb_metrics_route_name(SB_ROUTE_AUTH), "auth");
}

TEST(label_escaping)
{
    struct sb_buf out;
    sb_buf_init(&out);
    sb_metrics_label_escape(&out, "a\\b\"c\nd");
    CHECK_EQ_STR(sb_buf_str(&out), "a\\\\b\\\"c\\nd");
    sb_buf_free(&out);
}

TEST(exposition_parses_and_counts)
{
    struct sb_metrics *m = sb_metrics_new();
    sb_metrics_request(m, SB_ROUTE_REST, 200, 300);      /* 0.3 ms */
    sb_metrics_request(m, SB_ROUTE_REST, 200, 4000);     /* 4 ms */
    sb_metrics_request(m, SB_ROUTE_REST, 404, 20000000); /* 20 s: only +Inf */
    sb_metrics_request(m, SB_ROUTE_AUTH, 429, 100);
    sb_metrics_request(m, SB_ROUTE_OTHER, 999, 100);     /* out of range: status 0 */
    sb_metrics_db_time(m, 1500);
    sb_metrics_queue_depth(m, 7);
    sb_metrics_batch(m, 3);
    sb_metrics_batch(m, 5000);
    struct sb_buf out;
    sb_buf_init(&out);
    sb_metrics_render(&out, m, NULL);
    const char *text = sb_buf_str(&out);
    struct parsed parsed;
    CHECK(parse_exposition(text, &parsed));
    CHECK(parsed.n_samples > 50);
    CHECK_EQ_INT(value_of(text, "specbase_http_requests_total{route=\"rest\",status=\"200\"} "), 2);
    CHECK_EQ_INT(value_of(text, "specbase_http_requests_total{route=\"rest\",status=\"404\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_http_requests_total{route=\"auth\",status=\"429\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_http_requests_total{route=\"other\",status=\"0\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_http_requests_total{route=\"rpc\",status=\"200\"} "), -1);
    /* cumulative buckets: <= 0.5 ms: 1, <= 5 ms: 2, +Inf: 3 */
    const char *h = "specbase_http_request_duration_seconds";
    char key[160];
    snprintf(key, sizeof(key), "%s_bucket{route=\"rest\",le=\"0.0005\"} ", h);
    CHECK_EQ_INT(value_of(text, key), 1);
    snprintf(key, sizeof(key), "%s_bucket{route=\"rest\",le=\"0.0025\"} ", h);
    CHECK_EQ_INT(value_of(text, key), 1);
    snprintf(key, sizeof(key), "%s_bucket{route=\"rest\",le=\"0.005\"} ", h);
    CHECK_EQ_INT(value_of(text, key), 2);
    snprintf(key, sizeof(key), "%s_bucket{route=\"rest\",le=\"10\"} ", h);
    CHECK_EQ_INT(value_of(text, key), 2);
    snprintf(key, sizeof(key), "%s_bucket{route=\"rest\",le=\"+Inf\"} ", h);
    CHECK_EQ_INT(value_of(text, key), 3);
    snprintf(key, sizeof(key), "%s_count{route=\"rest\"} ", h);
    CHECK_EQ_INT(value_of(text, key), 3);
    snprintf(key, sizeof(key), "%s_sum{route=\"rest\"} ", h);
    CHECK(value_of(text, key) > 20.0042 && value_of(text, key) < 20.0044);
    CHECK_EQ_INT(value_of(text, "specbase_db_duration_seconds_count "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_writer_queue_depth "), 7);
    CHECK_EQ_INT(value_of(text, "specbase_writer_batch_units_bucket{le=\"4\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_writer_batch_units_bucket{le=\"+Inf\"} "), 2);
    CHECK_EQ_INT(value_of(text, "specbase_writer_batch_units_sum "), 5003);
    /* the other layers are left out when not given */
    CHECK(!strstr(text, "specbase_threat_events_total"));
    CHECK(!strstr(text, "specbase_http_open_connections"));
    struct family *fam = family_of(&parsed, h);
    CHECK(fam && !strcmp(fam->type, "histogram"));
    sb_buf_free(&out);
    sb_metrics_free(m);
}

TEST(exposition_with_guard_http_and_writer)
{
    struct sb_metrics *m = sb_metrics_new();
    struct sb_guard *g = sb_guard_new(NULL);
    int64_t now = 1000000000;
    for (int i = 0; i < 50; i++)
        sb_guard_after(g, "192.0.2.1", 404, now);
    sb_guard_inspect(g, "192.0.2.2", "<script>", 8, false, now);
    sb_guard_before(g, "192.0.2.1", NULL, false, now, NULL);
    struct sb_guard_stats guard;
    sb_guard_stats(g, now, &guard);
    struct sb_http_stats http = {.requests = 10, .connections = 3, .open_connections = 2,
                                 .in_flight = 1, .rejected_limits = 4};
    struct sb_writer_stats writer = {.units = 9, .batches = 4, .failures = 1, .max_batch_seen = 3};
    struct sb_metrics_sources sources = {.guard = &guard, .http = &http, .writer = &writer};
    struct sb_buf out;
    sb_buf_init(&out);
    sb_metrics_render(&out, m, &sources);
    const char *text = sb_buf_str(&out);
    struct parsed parsed;
    CHECK(parse_exposition(text, &parsed));
    CHECK_EQ_INT(value_of(text, "specbase_threat_events_total{kind=\"enumeration\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_threat_events_total{kind=\"injection_probe\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_threat_events_total{kind=\"jwt_tampering\"} "), 0);
    CHECK_EQ_INT(value_of(text, "specbase_guard_active_bans "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_guard_refusals_total{reason=\"banned\"} "), 1);
    CHECK_EQ_INT(value_of(text, "specbase_http_open_connections "), 2);
    CHECK_EQ_INT(value_of(text, "specbase_http_rejected_limits_total "), 4);
    CHECK_EQ_INT(value_of(text, "specbase_writer_units_total "), 9);
    CHECK_EQ_INT(value_of(text, "specbase_writer_max_batch "), 3);
    struct family *fam = family_of(&parsed, "specbase_guard_active_bans");
    CHECK(fam && !strcmp(fam->type, "gauge"));
    sb_buf_free(&out);
    sb_guard_free(g);
    sb_metrics_free(m);
}

TEST(parser_rejects_bad_exposition)
{
    /* the checker itself must be able to fail */
    struct parsed parsed;
    quiet = true;
    CHECK(!parse_exposition("x_total 1\n", &parsed)); /* no HELP/TYPE */
    CHECK(!parse_exposition("# HELP x h\n# TYPE x counter\nx{a=\"b} 1\n", &parsed));
    CHECK(!parse_exposition("# HELP x h\n# TYPE x counter\nx{a=\"\\q\"} 1\n", &parsed));
    CHECK(!parse_exposition("# HELP x h\n# TYPE x counter\nx one\n", &parsed));
    CHECK(parse_exposition("# HELP x h\n# TYPE x counter\nx{a=\"q\\\"\\n\"} 1\n", &parsed));
    quiet = false;
}

static struct sb_metrics *shared;

static void *count_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++)
        sb_metrics_request(shared, SB_ROUTE_REST, 201, i);
    return NULL;
}

TEST(threads_lose_nothing)
{
    shared = sb_metrics_new();
    pthread_t threads[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&threads[i], NULL, count_thread, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);
    struct sb_buf out;
    sb_buf_init(&out);
    sb_metrics_render(&out, shared, NULL);
    CHECK_EQ_INT(value_of(sb_buf_str(&out), "specbase_http_requests_total{route=\"rest\",status=\"201\"} "),
                 80000);
    CHECK_EQ_INT(value_of(sb_buf_str(&out), "specbase_http_request_duration_seconds_count{route=\"rest\"} "),
                 80000);
    sb_buf_free(&out);
    sb_metrics_free(shared);
}
