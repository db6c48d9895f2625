/* The request side of an exchange: the request target split into a decoded
 * path and the raw query, the method, the headers copied out of
 * libmicrohttpd's connection memory (so that a deferred request keeps them)
 * with their count and size checked, and the request id. server.c calls
 * these once the headers are complete; the lookup functions are public
 * (server.h). */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"
#include "http/proxy.h"
#include "util/die.h"
#include "util/formats.h"

int http_parse_target(struct sb_http_exchange *ex)
{
    const char *target = ex->target;
    size_t len = ex->target_len;
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)target[i];
        if (ch <= 0x20 || ch == 0x7f)
            return -1; /* spaces and controls are never valid in a target */
    }
    /* absolute-form (RFC 9112 3.2.2): skip scheme and authority */
    if (len >= 7 && (strncasecmp(target, "http://", 7) == 0 ||
                     (len >= 8 && strncasecmp(target, "https://", 8) == 0))) {
        const char *authority = strstr(target, "//") + 2;
        const char *slash = memchr(authority, '/', len - (size_t)(authority - target));
        const char *question = memchr(authority, '?', len - (size_t)(authority - target));
        if (!slash || (question && question < slash))
            return -1;
        start = (size_t)(slash - target);
    } else if (len == 0 || target[0] != '/') {
        return -1; /* asterisk-form and anything else */
    }

    const char *path_start = target + start;
    size_t rest = len - start;
    const char *question = memchr(path_start, '?', rest);
    size_t raw_path_len = question ? (size_t)(question - path_start) : rest;

    ex->req.raw_path = sb_arena_strndup(&ex->arena, path_start, raw_path_len);
    if (question) {
        ex->req.query = question + 1;
        ex->req.query_len = rest - raw_path_len - 1;
    } else {
        ex->req.query = "";
        ex->req.query_len = 0;
    }

    char *path = sb_arena_alloc(&ex->arena, raw_path_len + 1);
    size_t out = 0;
    for (size_t i = 0; i < raw_path_len; i++) {
        char ch = path_start[i];
        if (ch == '%') {
            if (i + 2 >= raw_path_len)
                return -1; /* "%" or "%X" at the end */
            int h = sb_hex_value((unsigned char)path_start[i + 1]);
            int l = sb_hex_value((unsigned char)path_start[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            ch = (char)(h * 16 + l);
            if (ch == '\0')
                return -1;
            i += 2;
        }
        path[out++] = ch;
    }
    path[out] = '\0';
    ex->req.path = path;
    ex->req.path_len = out;
    return 0;
}

static const char *const method_names[] = {
    [SB_HTTP_GET] = "GET",         [SB_HTTP_HEAD] = "HEAD",   [SB_HTTP_POST] = "POST",
    [SB_HTTP_PUT] = "PUT",         [SB_HTTP_PATCH] = "PATCH", [SB_HTTP_DELETE] = "DELETE",
    [SB_HTTP_OPTIONS] = "OPTIONS",
};

int http_method_parse(const char *method, enum sb_http_method *out)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (strcmp(method, method_names[i]) == 0) {
            *out = (enum sb_http_method)i;
            return 0;
        }
    }
    return -1;
}

bool http_request_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > SB_HTTP_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)id[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || (ch != '\0' && strchr("-_.:+/=@~", ch) != NULL);
        if (!ok)
            return false;
    }
    return true;
}

/* Request ids need to be unique and unguessable enough not to collide, not
 * secret: a per-thread xoshiro256** seeded from the kernel once. */
static _Thread_local uint64_t rng_state[4];
static _Thread_local bool rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        if (getrandom(rng_state, sizeof(rng_state), 0) != (ssize_t)sizeof(rng_state)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            rng_state[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
            rng_state[1] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
            rng_state[2] = (uint64_t)(uintptr_t)&rng_state;
            rng_state[3] = 0x2545f4914f6cdd1dull;
        }
        rng_seeded = true;
    }
    uint64_t *s = rng_state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void http_request_id_make(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[16];
    uint64_t a = rng_next(), b = rng_next();
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[bytes[i] >> 4];
        out[o++] = hex[bytes[i] & 15];
    }
    out[o] = '\0';
}

struct header_scan {
    struct sb_http_exchange *ex;
    size_t count, bytes;
    bool bad;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct header_scan *scan = cls;
    scan->count++;
    scan->bytes += key_size + value_size + 4; /* "Name: value\r\n" */
    if (strlen(key) != key_size || (value && strlen(value) != value_size))
        scan->bad = true;
    return MHD_YES;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct header_scan *scan = cls;
    struct sb_http_exchange *ex = scan->ex;
    struct http_hdr *hdr = &ex->hdrs[ex->n_hdrs++];
    hdr->name = sb_arena_strndup(&ex->arena, key, key_size);
    hdr->value = value ? sb_arena_strndup(&ex->arena, value, value_size) : "";
    return ex->n_hdrs < scan->count ? MHD_YES : MHD_NO;
}

/* Behind a trusted proxy, the client named by X-Forwarded-For (every such
 * header, in order, is one list) replaces the peer as req.client_addr. */
static void forwarded_client(struct sb_http_exchange *ex)
{
    const struct sb_http_proxies *proxies = ex->srv->cfg.trusted_proxies;
    if (!proxies || !ex->conn)
        return;
    const char *const *values;
    size_t n = sb_http_header_values(&ex->req, "X-Forwarded-For", &values);
    if (n == 0)
        return;
    const char *xff = values[0];
    if (n > 1) {
        struct sb_buf all;
        sb_buf_init(&all);
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_buf_putc(&all, ',');
            sb_buf_puts(&all, values[i]);
        }
        xff = sb_arena_strndup(&ex->arena, sb_buf_str(&all), all.len);
        sb_buf_free(&all);
    }
    char client[INET6_ADDRSTRLEN];
    if (sb_http_forwarded_client(proxies, &ex->conn->ip, ex->conn->addr, xff, client, sizeof(client)))
        ex->req.client_addr = sb_arena_strdup(&ex->arena, client);
}

enum http_error_id http_copy_headers(struct sb_http_exchange *ex, unsigned max_headers,
                                     size_t max_bytes, size_t *bytes_out)
{
    struct header_scan scan = {.ex = ex};
    MHD_get_connection_values_n(ex->mhd, MHD_HEADER_KIND, count_header, &scan);
    *bytes_out = scan.bytes;
    if (scan.count > max_headers)
        return HTTP_ERR_TOO_MANY_HEADERS;
    if (scan.bytes > max_bytes)
        return HTTP_ERR_HEADERS_TOO_LARGE;
    if (scan.bad)
        return HTTP_ERR_BAD_HEADER;
    ex->n_hdrs = 0;
    if (scan.count) {
        ex->hdrs = sb_arena_alloc(&ex->arena, scan.count * sizeof(*ex->hdrs));
        MHD_get_connection_values_n(ex->mhd, MHD_HEADER_KIND, copy_header, &scan);
    }
    forwarded_client(ex);
    return HTTP_ERR_COUNT;
}

const char *sb_http_header(const struct sb_http_request *req, const char *name)
{
    const struct sb_http_exchange *ex = req->exchange;
    for (size_t i = 0; i < ex->n_hdrs; i++) {
        if (strcasecmp(ex->hdrs[i].name, name) == 0)
            return ex->hdrs[i].value;
    }
    return NULL;
}

size_t sb_http_header_values(const struct sb_http_request *req, const char *name,
                             const char *const **values)
{
    struct sb_http_exchange *ex = req->exchange;
    size_t n = 0;
    for (size_t i = 0; i < ex->n_hdrs; i++)
        n += strcasecmp(ex->hdrs[i].name, name) == 0;
    *values = NULL;
    if (n == 0)
        return 0;
    const char **list = sb_arena_alloc(&ex->arena, n * sizeof(*list));
    size_t k = 0;
    for (size_t i = 0; i < ex->n_hdrs; i++) {
        if (strcasecmp(ex->hdrs[i].name, name) == 0)
            list[k++] = ex->hdrs[i].value;
    }
    *values = list;
    return n;
}

size_t sb_http_header_count(const struct sb_http_request *req)
{
    return req->exchange->n_hdrs;
}

void sb_http_header_at(const struct sb_http_request *req, size_t index, const char **name,
                       const char **value)
{
    const struct sb_http_exchange *ex = req->exchange;
    if (index >= ex->n_hdrs)
        sb_die("sb_http_header_at: index out of range");
    *name = ex->hdrs[index].name;
    *value = ex->hdrs[index].value;
}
