/* Unit tests of the HTTP layer's pure parts (src/http/): the request target
 * (decoded path, raw query), request ids, response header checks, the
 * configuration checks of sb_http_start. The behaviour on the wire is tested
 * black-box in tests/http/. */
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "test.h"

static struct sb_http_exchange *exchange_for(const char *target)
{
    struct sb_http_exchange *ex = calloc(1, sizeof(*ex));
    sb_arena_init(&ex->arena);
    ex->req.exchange = ex;
    ex->req.arena = &ex->arena;
    ex->target = sb_arena_strdup(&ex->arena, target);
    ex->target_len = strlen(target);
    http_response_init(&ex->resp, &ex->arena);
    return ex;
}

static void exchange_free(struct sb_http_exchange *ex)
{
    sb_buf_free(&ex->resp.body);
    sb_arena_free(&ex->arena);
    free(ex);
}

TEST(http_target_decodes_path_keeps_query_raw)
{
    struct sb_http_exchange *ex = exchange_for("/rest/v1/caf%C3%A9%20bar?name=eq.a%20b+c&x=1?2");
    CHECK_EQ_INT(http_parse_target(ex), 0);
    CHECK_EQ_STR(ex->req.path, "/rest/v1/caf\xc3\xa9 bar");
    CHECK_EQ_INT(ex->req.path_len, strlen("/rest/v1/caf\xc3\xa9 bar"));
    CHECK_EQ_STR(ex->req.raw_path, "/rest/v1/caf%C3%A9%20bar");
    CHECK_EQ_STR(ex->req.query, "name=eq.a%20b+c&x=1?2");
    CHECK_EQ_INT(ex->req.query_len, strlen("name=eq.a%20b+c&x=1?2"));
    exchange_free(ex);

    ex = exchange_for("/a+b");
    CHECK_EQ_INT(http_parse_target(ex), 0);
    CHECK_EQ_STR(ex->req.path, "/a+b"); /* '+' is a space only in queries */
    CHECK_EQ_STR(ex->req.query, "");
    exchange_free(ex);

    ex = exchange_for("http://example.com:8080/x/y?q");
    CHECK_EQ_INT(http_parse_target(ex), 0);
    CHECK_EQ_STR(ex->req.path, "/x/y");
    CHECK_EQ_STR(ex->req.query, "q");
    exchange_free(ex);
}

TEST(http_target_rejects_malformed)
{
    const char *bad[] = {"/a%",
                         "/a%4",
                         "/a%zz",
                         "/a%00b",
                         "relative",
                         "*",
                         "/a\x01"
                         "b",
                         "/a b",
                         "",
                         "http://host",
                         "http://host?x=/y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sb_http_exchange *ex = exchange_for(bad[i]);
        if (http_parse_target(ex) != -1)
            sb_test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
        exchange_free(ex);
    }
}

TEST(http_request_ids)
{
    CHECK(http_request_id_valid("abc", 3));
    CHECK(http_request_id_valid("0f8fad5b-d9cb-469f-a165-70867728950e", 36));
    CHECK(http_request_id_valid("Root=1-67891233:x/y+z@w~", 24));
    CHECK(!http_request_id_valid("", 0));
    CHECK(!http_request_id_valid("a b", 3));
    CHECK(!http_request_id_valid("a\"b", 3));
    CHECK(!http_request_id_valid("a;b", 3));
    char longest[SB_HTTP_REQUEST_ID_MAX + 2];
    memset(longest, 'x', sizeof(longest));
    CHECK(http_request_id_valid(longest, SB_HTTP_REQUEST_ID_MAX));
    CHECK(!http_request_id_valid(longest, SB_HTTP_REQUEST_ID_MAX + 1));

    char a[37], b[37];
    http_request_id_make(a);
    http_request_id_make(b);
    CHECK_EQ_INT(strlen(a), 36);
    CHECK(strcmp(a, b) != 0);
    CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    CHECK(a[14] == '4');                  /* version 4 */
    CHECK(strchr("89ab", a[19]) != NULL); /* RFC 4122 variant */
    CHECK(http_request_id_valid(a, 36));
}

TEST(http_response_header_guard)
{
    struct sb_http_exchange *ex = exchange_for("/");
    struct sb_http_response *resp = &ex->resp;
    CHECK_EQ_INT(sb_http_response_header(resp, "Location", "/rest/v1/t?id=eq.1"), 0);
    CHECK_EQ_INT(sb_http_response_header(resp, "X-Split", "a\r\nSet-Cookie: x=1"), -1);
    CHECK_EQ_INT(sb_http_response_header(resp, "X-Split", "a\nb"), -1);
    CHECK_EQ_INT(sb_http_response_header(resp, "Bad Name", "v"), -1);
    CHECK_EQ_INT(sb_http_response_header(resp, "", "v"), -1);
    CHECK_EQ_INT(sb_http_response_header(resp, "content-length", "5"), -1);
    CHECK_EQ_INT(sb_http_response_header(resp, "X-Request-Id", "mine"), -1);
    CHECK_EQ_INT(sb_http_response_header(resp, "Preference-Applied", "return=minimal"), 0);
    CHECK_EQ_STR(resp->headers->name, "Location");
    CHECK_EQ_STR(resp->headers->next->name, "Preference-Applied");
    CHECK(resp->headers->next->next == NULL);
    exchange_free(ex);
}

TEST(http_response_error_shape)
{
    struct sb_http_exchange *ex = exchange_for("/");
    http_respond_error(&ex->resp, HTTP_ERR_BODY_TOO_LARGE,
                       "The body is 2 bytes; the limit is 1 bytes");
    CHECK_EQ_INT(ex->resp.status, 413);
    CHECK_EQ_STR(ex->resp.content_type, SB_HTTP_JSON);
    CHECK_EQ_STR(sb_buf_str(&ex->resp.body),
                 "{\"code\":\"SB005\",\"message\":\"Request body too large\","
                 "\"details\":\"The body is 2 bytes; the limit is 1 bytes\","
                 "\"hint\":\"Send fewer rows per request\"}");
    exchange_free(ex);
}

static void no_handler(struct sb_http_request *req, struct sb_http_response *resp, void *ctx)
{
    (void)req;
    (void)resp;
    (void)ctx;
}

TEST(http_start_checks_config_and_binding)
{
    struct sb_http_config cfg = sb_http_config_default();
    CHECK_EQ_INT(cfg.max_body_bytes, 1024 * 1024);
    CHECK_EQ_INT(cfg.max_url_bytes, 8192);
    CHECK_EQ_INT(cfg.max_header_bytes, 16384);
    CHECK_EQ_INT(cfg.max_headers, 100);
    CHECK_EQ_INT(cfg.header_timeout_s, 10);
    CHECK_EQ_INT(cfg.max_connections, 1024);

    struct sb_http_server *server = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    cfg.header_timeout_s = 0;
    CHECK_EQ_INT(sb_http_start(&cfg, no_handler, NULL, &server, &err), SB_HTTP_EINVAL);
    CHECK(server == NULL);
    CHECK(strstr(sb_buf_str(&err), "timeouts") != NULL);

    cfg = sb_http_config_default();
    cfg.port = 0;
    cfg.access_log = false;
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_http_start(&cfg, no_handler, NULL, &server, &err), 0);
    if (!server)
        return;
    int port = sb_http_port(server);
    CHECK(port > 0);

    struct sb_http_server *second = NULL;
    cfg.port = port;
    CHECK_EQ_INT(sb_http_start(&cfg, no_handler, NULL, &second, &err), SB_HTTP_ELISTEN);
    CHECK(second == NULL);
    CHECK(strstr(sb_buf_str(&err), "cannot listen on 127.0.0.1") != NULL);

    struct sb_http_stats stats;
    sb_http_stats(server, &stats);
    CHECK_EQ_INT(stats.requests, 0);
    CHECK_EQ_INT(sb_http_stop(server), 0);
    sb_buf_free(&err);
}
