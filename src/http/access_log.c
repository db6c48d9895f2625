/* The access log: one JSON object per line per request:
 *
 *   {"time":"2025-05-20T12:34:56.789Z","id":"…","client":"127.0.0.1",
 *    "method":"GET","path":"/rest/v1/product","status":200,"bytes":512,"us":84}
 *
 * time is when the request line arrived (UTC), us how long until the
 * response was sent, bytes the body bytes sent. The query string is not
 * logged: filters carry user data. Server messages use the same stream:
 * {"time","level","msg"}.
 *
 * Lines are formatted by hand into one of a few buffers (a thread keeps to
 * one, so worker threads do not contend) and written in batches, whole
 * lines under the stream's lock: when a buffer fills, and at the latest
 * LOG_FLUSH_MS after a line was buffered, by a small flusher thread. A
 * server message first writes out everything buffered, then itself, and
 * stopping the server writes out the rest. (Writing out whenever the
 * server had no request in flight cost a write per few requests under
 * load, for lines that are due within LOG_FLUSH_MS anyway.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"
#include "util/die.h"
#include "util/json_out.h"
#include "util/clock.h"

#define LOG_SHARDS 8          /* buffers; threads are spread over them */
#define LOG_FLUSH_BYTES 16384 /* a buffer this full is written at once */
#define LOG_FLUSH_MS 20       /* the longest a line waits in a buffer */

struct log_shard {
    pthread_mutex_t mu;
    struct sb_buf buf;     /* whole lines, not yet written */
    int64_t cached_sec;    /* the second cached_date formats; -1: none */
    char cached_date[20];  /* "YYYY-MM-DDTHH:MM:SS" */
};

struct http_log {
    struct log_shard shards[LOG_SHARDS];
    atomic_bool pending; /* a buffer went from empty to not; the flusher is due */
    pthread_mutex_t mu;  /* with wake: the flusher's sleep */
    pthread_cond_t wake;
    bool stop; /* under mu */
    pthread_t flusher;
    bool flusher_running;
};

/* which shard this thread writes to: 1 + an index, 0 until first use */
static _Thread_local unsigned thread_shard;
static atomic_uint next_shard;

static struct log_shard *my_shard(struct http_log *lg)
{
    if (!thread_shard)
        thread_shard = 1 + atomic_fetch_add(&next_shard, 1) % LOG_SHARDS;
    return &lg->shards[thread_shard - 1];
}

/* Write a shard's lines out; caller holds its mu. */
static void write_out(struct sb_http_server *srv, struct log_shard *sh)
{
    if (!sh->buf.len)
        return;
    flockfile(srv->log);
    fwrite(sh->buf.data, 1, sh->buf.len, srv->log);
    fflush(srv->log);
    funlockfile(srv->log);
    sb_buf_reset(&sh->buf);
}

static void flush_all(struct sb_http_server *srv)
{
    struct http_log *lg = srv->logbuf;
    for (size_t i = 0; i < LOG_SHARDS; i++) {
        pthread_mutex_lock(&lg->shards[i].mu);
        write_out(srv, &lg->shards[i]);
        pthread_mutex_unlock(&lg->shards[i].mu);
    }
}

static void *flusher_main(void *arg)
{
    struct sb_http_server *srv = arg;
    struct http_log *lg = srv->logbuf;
    pthread_mutex_lock(&lg->mu);
    while (!lg->stop) {
        if (!atomic_load(&lg->pending)) {
            pthread_cond_wait(&lg->wake, &lg->mu);
            continue;
        }
        atomic_store(&lg->pending, false);
        struct timespec until = sb_mono_deadline(LOG_FLUSH_MS * 1000L);
        while (!lg->stop && pthread_cond_timedwait(&lg->wake, &lg->mu, &until) == 0) {
        }
        pthread_mutex_unlock(&lg->mu);
        flush_all(srv);
        pthread_mutex_lock(&lg->mu);
    }
    pthread_mutex_unlock(&lg->mu);
    return NULL;
}

int http_log_start(struct sb_http_server *srv)
{
    struct http_log *lg = sb_xcalloc(1, sizeof(*lg));
    for (size_t i = 0; i < LOG_SHARDS; i++) {
        pthread_mutex_init(&lg->shards[i].mu, NULL);
        sb_buf_init(&lg->shards[i].buf);
        lg->shards[i].cached_sec = -1;
    }
    atomic_init(&lg->pending, false);
    pthread_mutex_init(&lg->mu, NULL);
    sb_cond_init_mono(&lg->wake);
    srv->logbuf = lg;
    if (pthread_create(&lg->flusher, NULL, flusher_main, srv) != 0) {
        http_log_stop(srv);
        return -1;
    }
    lg->flusher_running = true;
    return 0;
}

void http_log_stop(struct sb_http_server *srv)
{
    struct http_log *lg = srv->logbuf;
    if (!lg)
        return;
    if (lg->flusher_running) {
        pthread_mutex_lock(&lg->mu);
        lg->stop = true;
        pthread_cond_signal(&lg->wake);
        pthread_mutex_unlock(&lg->mu);
        pthread_join(lg->flusher, NULL);
    }
    flush_all(srv);
    for (size_t i = 0; i < LOG_SHARDS; i++) {
        sb_buf_free(&lg->shards[i].buf);
        pthread_mutex_destroy(&lg->shards[i].mu);
    }
    pthread_cond_destroy(&lg->wake);
    pthread_mutex_destroy(&lg->mu);
    free(lg);
    srv->logbuf = NULL;
}

/* ---- formatting ------------------------------------------------------------ */

static char *put_digits(char *at, unsigned value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        at[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return at + width;
}

static void put_uint(struct sb_buf *out, uint64_t value)
{
    char text[20];
    size_t at = sizeof(text);
    do {
        text[--at] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    sb_buf_append(out, text + at, sizeof(text) - at);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", quoted; the date and second are formatted
 * once per second per shard. */
static void put_time(struct sb_buf *out, struct log_shard *sh, int64_t wall_ms)
{
    int64_t secs = wall_ms >= 0 ? wall_ms / 1000 : 0;
    if (secs != sh->cached_sec) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        char *at = sh->cached_date;
        at = put_digits(at, (unsigned)(tm.tm_year + 1900) % 10000, 4);
        *at++ = '-';
        at = put_digits(at, (unsigned)tm.tm_mon + 1, 2);
        *at++ = '-';
        at = put_digits(at, (unsigned)tm.tm_mday, 2);
        *at++ = 'T';
        at = put_digits(at, (unsigned)tm.tm_hour, 2);
        *at++ = ':';
        at = put_digits(at, (unsigned)tm.tm_min, 2);
        *at++ = ':';
        put_digits(at, (unsigned)tm.tm_sec, 2);
        sh->cached_sec = secs;
    }
    char text[1 + 19 + 6];
    text[0] = '"';
    memcpy(text + 1, sh->cached_date, 19);
    text[20] = '.';
    put_digits(text + 21, (unsigned)(wall_ms >= 0 ? wall_ms % 1000 : 0), 3);
    text[24] = 'Z';
    text[25] = '"';
    sb_buf_append(out, text, sizeof(text));
}

/* ,"key":"value" with key already quoted and followed by ':' */
static void put_field(struct sb_buf *out, const char *quoted_key, size_t key_len, const char *value)
{
    sb_buf_append(out, quoted_key, key_len);
    if (!value)
        value = "-";
    sb_json_string(out, value, strlen(value));
}
#define PUT_FIELD(out, key, value) put_field(out, key, sizeof(key) - 1, value)

/* Count the shard's new line; the lock is still held. Writes the shard out
 * when full, and wakes the flusher when the shard was empty before. */
static void line_added(struct sb_http_server *srv, struct log_shard *sh, size_t len_before)
{
    struct http_log *lg = srv->logbuf;
    if (sh->buf.len >= LOG_FLUSH_BYTES) {
        write_out(srv, sh);
        return;
    }
    if (len_before == 0 && !atomic_exchange(&lg->pending, true)) {
        pthread_mutex_lock(&lg->mu);
        pthread_cond_signal(&lg->wake);
        pthread_mutex_unlock(&lg->mu);
    }
}

void http_log_line(struct sb_http_server *srv, int64_t wall_ms, const char *id, const char *addr,
                   const char *method, const char *path, int status, uint64_t bytes,
                   uint64_t duration_us)
{
    if (!srv->cfg.access_log)
        return;
    struct log_shard *sh = my_shard(srv->logbuf);
    pthread_mutex_lock(&sh->mu);
    struct sb_buf *out = &sh->buf;
    size_t len_before = out->len;
    sb_buf_append(out, "{\"time\":", 8);
    put_time(out, sh, wall_ms);
    PUT_FIELD(out, ",\"id\":", id);
    PUT_FIELD(out, ",\"client\":", addr);
    PUT_FIELD(out, ",\"method\":", method);
    PUT_FIELD(out, ",\"path\":", path);
    sb_buf_append(out, ",\"status\":", 10);
    if (status < 0) {
        sb_buf_putc(out, '-');
        status = -status;
    }
    put_uint(out, (uint64_t)status);
    sb_buf_append(out, ",\"bytes\":", 9);
    put_uint(out, bytes);
    sb_buf_append(out, ",\"us\":", 6);
    put_uint(out, duration_us);
    sb_buf_append(out, "}\n", 2);
    line_added(srv, sh, len_before);
    pthread_mutex_unlock(&sh->mu);
}

void http_observe(struct sb_http_server *srv, struct sb_http_exchange *ex)
{
    if (!srv->cfg.observe || ex->observed)
        return;
    ex->observed = true;
    uint64_t now = http_now_us();
    srv->cfg.observe(srv->cfg.observe_ctx, ex->req.client_addr, ex->req.raw_path, ex->status_sent,
                     now > ex->start_us ? now - ex->start_us : 0);
}

void http_log_exchange(struct sb_http_server *srv, struct sb_http_exchange *ex)
{
    if (srv->cfg.access_log) {
        uint64_t now = http_now_us();
        http_log_line(srv, ex->start_wall_ms, ex->req.request_id, ex->req.client_addr,
                      ex->req.method, ex->req.raw_path, ex->status_sent, ex->bytes_out,
                      now > ex->start_us ? now - ex->start_us : 0);
    }
    http_observe(srv, ex);
}

void http_log_message(struct sb_http_server *srv, const char *level, const char *msg)
{
    if (srv->logbuf)
        flush_all(srv); /* what was logged before comes first */
    struct log_shard own = {.cached_sec = -1};
    struct sb_buf *line = &own.buf;
    sb_buf_init(line);
    sb_buf_puts(line, "{\"time\":");
    put_time(line, &own, http_wall_ms());
    PUT_FIELD(line, ",\"level\":", level);
    PUT_FIELD(line, ",\"msg\":", msg);
    sb_buf_append(line, "}\n", 2);
    flockfile(srv->log);
    fwrite(line->data, 1, line->len, srv->log);
    fflush(srv->log);
    funlockfile(srv->log);
    sb_buf_free(line);
}
