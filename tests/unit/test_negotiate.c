/* Unit tests of Prefer / Accept / Range negotiation (src/api/negotiate.c):
 * the header values postgrest-js and supabase-js send, and what PostgREST
 * answers for them. */
#include <string.h>

#include "api/negotiate.h"
#include "test.h"

static struct sb_prefer prefer_of(const char *a, const char *b, int *rc, struct sb_api_error *err)
{
    const char *values[2] = {a, b};
    struct sb_prefer p;
    *rc = sb_prefer_parse(values, b ? 2 : 1, &p, err);
    return p;
}

TEST(prefer_client_values)
{
    struct sb_api_error err = {0};
    int rc;
    struct sb_prefer p = prefer_of("return=representation,count=exact", NULL, &rc, &err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(p.ret, SB_RETURN_REPRESENTATION);
    CHECK_EQ_INT(p.count, SB_COUNT_EXACT);
    p = prefer_of("resolution=merge-duplicates, return=representation", "missing=default", &rc, &err);
    CHECK_EQ_INT(p.resolution, SB_RESOLUTION_MERGE);
    CHECK(p.missing_default);
    CHECK_EQ_INT(p.ret, SB_RETURN_REPRESENTATION);
    p = prefer_of("tx=rollback, handling=strict, max-affected=5", NULL, &rc, &err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(p.tx, SB_TX_ROLLBACK);
    CHECK(p.strict && p.has_max_affected && p.max_affected == 5);
    struct sb_buf applied;
    sb_buf_init(&applied);
    sb_prefer_applied(&p, true, &applied);
    CHECK_EQ_STR(sb_buf_str(&applied), "handling=strict, tx=rollback, max-affected=5");
    sb_buf_free(&applied);
    /* unknown preferences: ignored leniently, rejected strictly */
    p = prefer_of("foo, return=minimal", NULL, &rc, &err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(p.invalid, "foo");
    p = prefer_of("handling=strict, foo, bar", NULL, &rc, &err);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(err.status, 400);
    CHECK_EQ_STR(err.code, "PGRST122");
    CHECK_EQ_STR(err.details, "Invalid preferences: foo, bar");
    sb_api_error_clear(&err);
    p = prefer_of("handling=strict, max-affected=-1", NULL, &rc, &err);
    CHECK_EQ_INT(rc, -1);
    sb_api_error_clear(&err);
}

TEST(accept_media_types)
{
    struct sb_api_error err = {0};
    struct sb_accept a;
    unsigned rows = 1u << SB_MEDIA_JSON | 1u << SB_MEDIA_OBJECT | 1u << SB_MEDIA_CSV;
    CHECK_EQ_INT(sb_accept_parse(NULL, rows, &a, &err), 0);
    CHECK_EQ_INT(a.media, SB_MEDIA_JSON);
    CHECK_EQ_INT(sb_accept_parse("*/*", rows, &a, &err), 0);
    CHECK_EQ_INT(a.media, SB_MEDIA_JSON);
    CHECK_EQ_INT(sb_accept_parse("application/vnd.pgrst.object+json", rows, &a, &err), 0);
    CHECK_EQ_INT(a.media, SB_MEDIA_OBJECT);
    CHECK_EQ_INT(sb_accept_parse("application/vnd.pgrst.object+json;nulls=stripped", rows, &a, &err), 0);
    CHECK(a.media == SB_MEDIA_OBJECT && a.nulls_stripped);
    CHECK_EQ_INT(sb_accept_parse("application/vnd.pgrst.array+json;nulls=stripped", rows, &a, &err), 0);
    CHECK(a.media == SB_MEDIA_JSON && a.nulls_stripped);
    CHECK_EQ_INT(sb_accept_parse("text/csv", rows, &a, &err), 0);
    CHECK_EQ_INT(a.media, SB_MEDIA_CSV);
    CHECK_EQ_INT(sb_accept_parse("text/csv;q=0.5, application/json", rows, &a, &err), 0);
    CHECK_EQ_INT(a.media, SB_MEDIA_JSON);
    CHECK_EQ_INT(sb_accept_parse("image/png", rows, &a, &err), -1);
    CHECK_EQ_INT(err.status, 406);
    CHECK_EQ_STR(err.code, "PGRST107");
    sb_api_error_clear(&err);
}

TEST(range_header)
{
    struct sb_api_error err = {0};
    int64_t first, last;
    CHECK_EQ_INT(sb_range_parse("0-9", &first, &last, &err), 1);
    CHECK(first == 0 && last == 9);
    CHECK_EQ_INT(sb_range_parse("items=5-", &first, &last, &err), 1);
    CHECK(first == 5 && last == -1);
    CHECK_EQ_INT(sb_range_parse("bytes", &first, &last, &err), 0);
    CHECK_EQ_INT(sb_range_parse(NULL, &first, &last, &err), 0);
    CHECK_EQ_INT(sb_range_parse("9-2", &first, &last, &err), -1);
    CHECK_EQ_INT(err.status, 416);
    sb_api_error_clear(&err);
    struct sb_buf cr;
    sb_buf_init(&cr);
    sb_content_range(0, 15, false, 0, &cr);
    CHECK_EQ_STR(sb_buf_str(&cr), "0-14/*");
    sb_buf_reset(&cr);
    sb_content_range(10, 5, true, 42, &cr);
    CHECK_EQ_STR(sb_buf_str(&cr), "10-14/42");
    sb_buf_reset(&cr);
    sb_content_range(0, 0, true, 0, &cr);
    CHECK_EQ_STR(sb_buf_str(&cr), "*/0");
    sb_buf_reset(&cr);
    sb_content_range(0, 0, false, 0, &cr);
    CHECK_EQ_STR(sb_buf_str(&cr), "*/*");
    sb_buf_free(&cr);
}

TEST(error_json_shape)
{
    struct sb_api_error err = {0};
    sb_api_error_set(&err, 409, "23505", "duplicate key value violates unique constraint \"%s\"", "user_email_key");
    sb_api_error_set(&err, 500, "XX000", "second error is ignored");
    sb_api_error_details(&err, "Key (email)=(a@b.co) already exists.");
    struct sb_buf out;
    sb_buf_init(&out);
    sb_api_error_json(&err, &out);
    CHECK_EQ_STR(sb_buf_str(&out), "{\"code\":\"23505\",\"message\":\"duplicate key value violates unique "
                                   "constraint \\\"user_email_key\\\"\",\"details\":\"Key (email)=(a@b.co) "
                                   "already exists.\",\"hint\":null}");
    CHECK_EQ_INT(err.status, 409);
    sb_api_error_clear(&err);
    sb_buf_reset(&out);
    sb_api_error_set(&err, 400, "23514", "invalid values");
    sb_api_error_field(&err, "price", "min", "must be at least %d", 0);
    sb_api_error_json(&err, &out);
    CHECK_EQ_STR(sb_buf_str(&out), "{\"code\":\"23514\",\"message\":\"invalid values\",\"details\":null,"
                                   "\"hint\":null,\"errors\":[{\"field\":\"price\",\"rule\":\"min\","
                                   "\"message\":\"must be at least 0\"}]}");
    sb_api_error_clear(&err);
    sb_buf_free(&out);
}
