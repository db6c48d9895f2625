/* The access log: one JSON object per line per request, written to the
 * configured stream with one locked fwrite+fflush so that lines from the
 * worker threads and the watchdog never interleave:
 *
 *   {"time":"2025-05-20T12:34:56.789Z","id":"…","client":"127.0.0.1",
 *    "method":"GET","path":"/rest/v1/product","status":200,"bytes":512,"us":84}
 *
 * time is when the request line arrived (UTC), us how long until the
 * response was sent, bytes the body bytes sent. The query string is not
 * logged: filters carry user data. Server messages use the same stream:
 * {"time","level","msg"}. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"
#include "util/json_out.h"

static void put_time(struct sb_buf *out, int64_t wall_ms)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    sb_buf_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

static void put_string(struct sb_buf *out, const char *key, const char *value)
{
    sb_buf_putc(out, ',');
    sb_json_key(out, key);
    if (!value)
        value = "-";
    sb_json_string(out, value, strlen(value));
}

static void emit(struct sb_http_server *srv, struct sb_buf *line)
{
    sb_buf_putc(line, '\n');
    flockfile(srv->log);
    fwrite(line->data, 1, line->len, srv->log);
    fflush(srv->log);
    funlockfile(srv->log);
}

void http_log_line(struct sb_http_server *srv, int64_t wall_ms, const char *id, const char *addr,
                   const char *method, const char *path, int status, uint64_t bytes,
                   uint64_t duration_us)
{
    if (!srv->cfg.access_log)
        return;
    struct sb_buf line;
    sb_buf_init(&line);
    sb_buf_puts(&line, "{\"time\":");
    put_time(&line, wall_ms);
    put_string(&line, "id", id);
    put_string(&line, "client", addr);
    put_string(&line, "method", method);
    put_string(&line, "path", path);
    sb_buf_printf(&line, ",\"status\":%d,\"bytes\":%llu,\"us\":%llu}", status,
                  (unsigned long long)bytes, (unsigned long long)duration_us);
    emit(srv, &line);
    sb_buf_free(&line);
}

void http_log_exchange(struct sb_http_server *srv, struct sb_http_exchange *ex)
{
    if (!srv->cfg.access_log && !srv->cfg.observe)
        return;
    uint64_t now = http_now_us();
    uint64_t duration_us = now > ex->start_us ? now - ex->start_us : 0;
    if (srv->cfg.access_log)
        http_log_line(srv, ex->start_wall_ms, ex->req.request_id, ex->req.client_addr,
                      ex->req.method, ex->req.raw_path, ex->status_sent, ex->bytes_out,
                      duration_us);
    if (srv->cfg.observe)
        srv->cfg.observe(srv->cfg.observe_ctx, ex->req.client_addr, ex->req.raw_path,
                         ex->status_sent, duration_us);
}

void http_log_message(struct sb_http_server *srv, const char *level, const char *msg)
{
    struct sb_buf line;
    sb_buf_init(&line);
    sb_buf_puts(&line, "{\"time\":");
    put_time(&line, http_wall_ms());
    put_string(&line, "level", level);
    put_string(&line, "msg", msg);
    sb_buf_putc(&line, '}');
    emit(srv, &line);
    sb_buf_free(&line);
}
