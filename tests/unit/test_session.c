/* Unit tests of src/auth/session.c on an in-memory database: the schema
 * (STRICT, idempotent), sessions and their first token, rotation on refresh,
 * reuse of a rotated token revoking the whole session, logout of one or all
 * sessions, sb_session_valid refusing revoked sessions, GoTrue's error
 * vocabulary, purge, and tokens stored only as hashes: the raw token text
 * appears nowhere in the database image. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auth/session.h"
#include "store/stmt.h"
#include "test.h"
#include "util/formats.h"

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        abort();
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_session_schema(db, &err);
    if (rc != 0)
        sb_test_fail(__FILE__, __LINE__, "schema: %s", sb_buf_str(&err));
    sb_buf_free(&err);
    return db;
}

static void close_db(sqlite3 *db)
{
    sb_stmt_forget(db);
    sqlite3_close(db);
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

/* The first column of the first row of sql with ?1 = text, as a new string
 * ("" when no row). */
static char *query_text(sqlite3 *db, const char *sql, const char *param)
{
    sqlite3_stmt *stmt = NULL;
    char *value = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (param)
            sqlite3_bind_text(stmt, 1, param, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
            value = strdup((const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return value ? value : strdup("");
}

static int refresh(sqlite3 *db, const char *token, struct sb_session *out)
{
    return sb_session_refresh(db, token, strlen(token), "test-agent/1.0", "192.0.2.7", out, NULL);
}

static bool base64url_token(const char *token)
{
    if (strlen(token) != SB_REFRESH_TOKEN_LEN)
        return false;
    for (const char *p = token; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p))
            return false;
    return true;
}

TEST(schema_strict_and_idempotent)
{
    sqlite3 *db = open_db();
    CHECK_EQ_INT(sb_session_schema(db, NULL), 0); /* again: no error */
    CHECK_EQ_INT(query_int(db, "SELECT strict FROM pragma_table_list WHERE name = '_sb_sessions'"),
                 1);
    CHECK_EQ_INT(
        query_int(db, "SELECT strict FROM pragma_table_list WHERE name = '_sb_refresh_tokens'"), 1);
    /* STRICT: a text where an integer belongs is refused */
    CHECK(sqlite3_exec(db,
                       "INSERT INTO _sb_sessions (id, user_id) VALUES "
                       "('00000000-0000-4000-8000-000000000000', 'abc')",
                       NULL, NULL, NULL) != SQLITE_OK);
    close_db(db);
}

TEST(create_session)
{
    sqlite3 *db = open_db();
    struct sb_session s;
    CHECK_EQ_INT(sb_session_create(db, 42, "Mozilla/5.0", "203.0.113.9", &s, NULL), 0);
    CHECK(sb_format_uuid(s.id, strlen(s.id)) && strlen(s.id) == 36);
    CHECK_EQ_INT(s.id[14], '4'); /* version 4 */
    CHECK(strchr("89ab", s.id[19]) != NULL);
    CHECK_EQ_INT(s.user_id, 42);
    CHECK(base64url_token(s.refresh_token));

    int64_t user = 0;
    CHECK_EQ_INT(sb_session_valid(db, s.id, &user, NULL), 1);
    CHECK_EQ_INT(user, 42);
    char *ua =
        query_text(db, "SELECT user_agent || ' ' || ip FROM _sb_sessions WHERE id = ?1", s.id);
    CHECK_EQ_STR(ua, "Mozilla/5.0 203.0.113.9");
    free(ua);

    struct sb_session other;
    CHECK_EQ_INT(sb_session_create(db, 42, NULL, NULL, &other, NULL), 0);
    CHECK(strcmp(other.id, s.id) != 0);
    CHECK(strcmp(other.refresh_token, s.refresh_token) != 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_sessions WHERE user_agent IS NULL"), 1);
    close_db(db);
}

TEST(refresh_rotates)
{
    sqlite3 *db = open_db();
    struct sb_session s, r1, r2;
    CHECK_EQ_INT(sb_session_create(db, 7, NULL, NULL, &s, NULL), 0);
    CHECK_EQ_INT(refresh(db, s.refresh_token, &r1), 0);
    CHECK_EQ_STR(r1.id, s.id);
    CHECK_EQ_INT(r1.user_id, 7);
    CHECK(base64url_token(r1.refresh_token));
    CHECK(strcmp(r1.refresh_token, s.refresh_token) != 0);
    CHECK_EQ_INT(refresh(db, r1.refresh_token, &r2), 0);
    CHECK(strcmp(r2.refresh_token, r1.refresh_token) != 0);

    /* three tokens, a chain of parents, only the last usable */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens"), 3);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens WHERE revoked = 0"), 1);
    CHECK_EQ_INT(query_int(db,
                           "SELECT count(*) FROM _sb_refresh_tokens c JOIN _sb_refresh_tokens p "
                           "ON c.parent = p.id WHERE p.revoked = 1"),
                 2);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens WHERE parent IS NULL"), 1);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_sessions WHERE refreshed_at IS NOT NULL "
                               "AND user_agent = 'test-agent/1.0' AND ip = '192.0.2.7'"),
                 1);
    CHECK_EQ_INT(sb_session_valid(db, s.id, NULL, NULL), 1);
    close_db(db);
}

TEST(reuse_revokes_session)
{
    sqlite3 *db = open_db();
    struct sb_session s, r1, r2, bad;
    CHECK_EQ_INT(sb_session_create(db, 9, NULL, NULL, &s, NULL), 0);
    CHECK_EQ_INT(refresh(db, s.refresh_token, &r1), 0);
    CHECK_EQ_INT(refresh(db, r1.refresh_token, &r2), 0);

    /* the first token, already rotated, comes back: a copy is in other hands */
    CHECK_EQ_INT(refresh(db, s.refresh_token, &bad), SB_SESSION_EREUSED);
    CHECK_EQ_STR(bad.id, s.id); /* named for the audit trail */
    CHECK_EQ_INT(bad.user_id, 9);
    CHECK_EQ_STR(bad.refresh_token, ""); /* nothing issued */
    CHECK_EQ_INT(sb_session_valid(db, s.id, NULL, NULL), 0);
    /* the newest token dies with its session */
    CHECK_EQ_INT(refresh(db, r2.refresh_token, &bad), SB_SESSION_EREUSED);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens WHERE revoked = 0"), 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens"), 3);

    CHECK_EQ_STR(sb_session_error_code(SB_SESSION_EREUSED), "refresh_token_already_used");
    CHECK_EQ_STR(sb_session_error_message(SB_SESSION_EREUSED),
                 "Invalid Refresh Token: Already Used");
    CHECK_EQ_INT(sb_session_error_status(SB_SESSION_EREUSED), 400);

    /* other sessions of the same user are untouched */
    struct sb_session other;
    CHECK_EQ_INT(sb_session_create(db, 9, NULL, NULL, &other, NULL), 0);
    CHECK_EQ_INT(refresh(db, other.refresh_token, &r1), 0);
    close_db(db);
}

TEST(unknown_and_malformed_tokens)
{
    sqlite3 *db = open_db();
    struct sb_session s, out;
    CHECK_EQ_INT(sb_session_create(db, 1, NULL, NULL, &s, NULL), 0);
    /* well-formed but never issued */
    char forged[SB_REFRESH_TOKEN_LEN + 1];
    memcpy(forged, s.refresh_token, sizeof(forged));
    forged[0] = forged[0] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(refresh(db, forged, &out), SB_SESSION_ENOTFOUND);
    CHECK_EQ_INT(refresh(db, "", &out), SB_SESSION_ENOTFOUND);
    CHECK_EQ_INT(refresh(db, "short", &out), SB_SESSION_ENOTFOUND);
    /* the right token followed by more bytes, or with a character outside base64url */
    char longer[SB_REFRESH_TOKEN_LEN + 2];
    snprintf(longer, sizeof(longer), "%sA", s.refresh_token);
    CHECK_EQ_INT(refresh(db, longer, &out), SB_SESSION_ENOTFOUND);
    memcpy(forged, s.refresh_token, sizeof(forged));
    forged[5] = '+';
    CHECK_EQ_INT(refresh(db, forged, &out), SB_SESSION_ENOTFOUND);
    CHECK_EQ_INT(sb_session_refresh(db, NULL, 0, NULL, NULL, &out, NULL), SB_SESSION_ENOTFOUND);
    /* the token given with an explicit length: bytes past it are not read */
    char padded[64];
    snprintf(padded, sizeof(padded), "%s!!garbage", s.refresh_token);
    CHECK_EQ_INT(sb_session_refresh(db, padded, SB_REFRESH_TOKEN_LEN, NULL, NULL, &out, NULL), 0);

    CHECK_EQ_STR(sb_session_error_code(SB_SESSION_ENOTFOUND), "refresh_token_not_found");
    CHECK_EQ_STR(sb_session_error_message(SB_SESSION_ENOTFOUND),
                 "Invalid Refresh Token: Refresh Token Not Found");
    CHECK_EQ_INT(sb_session_error_status(SB_SESSION_EDB), 500);
    CHECK_EQ_STR(sb_session_error_code(SB_SESSION_EDB), "unexpected_failure");
    close_db(db);
}

TEST(logout)
{
    sqlite3 *db = open_db();
    struct sb_session s, out;
    CHECK_EQ_INT(sb_session_create(db, 3, NULL, NULL, &s, NULL), 0);
    CHECK_EQ_INT(sb_session_revoke(db, s.id, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, s.id, NULL, NULL), 0);
    CHECK_EQ_INT(refresh(db, s.refresh_token, &out), SB_SESSION_EREVOKED);
    CHECK_EQ_STR(out.refresh_token, "");
    CHECK_EQ_STR(sb_session_error_code(SB_SESSION_EREVOKED), "session_not_found");
    /* idempotent, and unknown ids are not an error */
    CHECK_EQ_INT(sb_session_revoke(db, s.id, NULL), 0);
    CHECK_EQ_INT(sb_session_revoke(db, "00000000-0000-4000-8000-000000000000", NULL), 0);
    CHECK_EQ_INT(sb_session_revoke(db, NULL, NULL), 0);
    close_db(db);
}

TEST(revoke_all_sessions_of_user)
{
    sqlite3 *db = open_db();
    struct sb_session a[3], b;
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(sb_session_create(db, 5, NULL, NULL, &a[i], NULL), 0);
    CHECK_EQ_INT(sb_session_create(db, 6, NULL, NULL, &b, NULL), 0);

    /* scope "others": all but the caller's */
    CHECK_EQ_INT(sb_session_revoke_user(db, 5, a[1].id, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, a[0].id, NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, a[1].id, NULL, NULL), 1);
    CHECK_EQ_INT(sb_session_valid(db, a[2].id, NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, b.id, NULL, NULL), 1);
    /* scope "global" */
    CHECK_EQ_INT(sb_session_revoke_user(db, 5, NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, a[1].id, NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, b.id, NULL, NULL), 1);
    struct sb_session out;
    CHECK_EQ_INT(refresh(db, a[1].refresh_token, &out), SB_SESSION_EREVOKED);
    CHECK_EQ_INT(sb_session_revoke_user(db, 5, NULL, NULL), 0); /* none left: still 0 */
    CHECK_EQ_INT(sb_session_revoke_user(db, 6, NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, b.id, NULL, NULL), 0);
    close_db(db);
}

TEST(valid_refuses_malformed_ids)
{
    sqlite3 *db = open_db();
    struct sb_session s;
    CHECK_EQ_INT(sb_session_create(db, 1, NULL, NULL, &s, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, "", NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, "not-a-uuid", NULL, NULL), 0);
    CHECK_EQ_INT(sb_session_valid(db, "00000000-0000-4000-8000-000000000000", NULL, NULL), 0);
    char upper[40];
    snprintf(upper, sizeof(upper), "%s", s.id);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    if (strcmp(upper, s.id) != 0)
        CHECK_EQ_INT(sb_session_valid(db, upper, NULL, NULL), 0);
    char longer[48];
    snprintf(longer, sizeof(longer), "%sx", s.id);
    CHECK_EQ_INT(sb_session_valid(db, longer, NULL, NULL), 0);
    close_db(db);
}

/* Does needle occur anywhere in the bytes of the whole database? */
static bool database_contains(sqlite3 *db, const char *needle)
{
    sqlite3_int64 size = 0;
    unsigned char *image = sqlite3_serialize(db, "main", &size, 0);
    if (!image) {
        sb_test_fail(__FILE__, __LINE__, "sqlite3_serialize failed");
        return true;
    }
    size_t n = strlen(needle);
    bool found = false;
    for (size_t i = 0; !found && i + n <= (size_t)size; i++)
        found = image[i] == (unsigned char)needle[0] && memcmp(image + i, needle, n) == 0;
    sqlite3_free(image);
    return found;
}

TEST(tokens_stored_hashed)
{
    sqlite3 *db = open_db();
    struct sb_session s, r1, r2;
    CHECK_EQ_INT(sb_session_create(db, 11, NULL, NULL, &s, NULL), 0);
    CHECK_EQ_INT(refresh(db, s.refresh_token, &r1), 0);
    CHECK_EQ_INT(refresh(db, r1.refresh_token, &r2), 0);
    const char *tokens[] = {s.refresh_token, r1.refresh_token, r2.refresh_token};
    for (int i = 0; i < 3; i++) {
        /* not the token, nor a sizeable piece of it */
        CHECK(!database_contains(db, tokens[i]));
        char piece[17];
        memcpy(piece, tokens[i] + 10, 16);
        piece[16] = '\0';
        CHECK(!database_contains(db, piece));
        /* what is stored is its SHA-256 */
        unsigned char digest[crypto_hash_sha256_BYTES];
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        crypto_hash_sha256(digest, (const unsigned char *)tokens[i], strlen(tokens[i]));
        sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
        char *sql_hit =
            query_text(db, "SELECT count(*) FROM _sb_refresh_tokens WHERE token_hash = ?1", hex);
        CHECK_EQ_STR(sql_hit, "1");
        free(sql_hit);
    }
    /* the check above can see text: the session id is stored as is */
    CHECK(database_contains(db, s.id));
    close_db(db);
}

TEST(client_strings_bounded)
{
    sqlite3 *db = open_db();
    char ua[1200];
    memset(ua, 'a', sizeof(ua) - 1);
    ua[sizeof(ua) - 1] = '\0';
    /* a two-byte character straddling byte 512 is dropped whole */
    ua[511] = '\xc3';
    ua[512] = '\xa9';
    struct sb_session s;
    CHECK_EQ_INT(sb_session_create(db, 1, ua, "2001:db8::1", &s, NULL), 0);
    CHECK_EQ_INT(query_int(db, "SELECT length(CAST(user_agent AS BLOB)) FROM _sb_sessions"), 511);
    char ip[200];
    memset(ip, '9', sizeof(ip) - 1);
    ip[sizeof(ip) - 1] = '\0';
    struct sb_session out;
    CHECK_EQ_INT(
        sb_session_refresh(db, s.refresh_token, strlen(s.refresh_token), ua, ip, &out, NULL), 0);
    CHECK_EQ_INT(query_int(db, "SELECT length(ip) FROM _sb_sessions"), 64);
    close_db(db);
}

TEST(purge_old_rows)
{
    sqlite3 *db = open_db();
    struct sb_session old, live, r1, r2, out;
    CHECK_EQ_INT(sb_session_create(db, 1, NULL, NULL, &old, NULL), 0);
    CHECK_EQ_INT(refresh(db, old.refresh_token, &r1), 0);
    CHECK_EQ_INT(sb_session_revoke(db, old.id, NULL), 0);
    CHECK_EQ_INT(sb_session_create(db, 2, NULL, NULL, &live, NULL), 0);
    CHECK_EQ_INT(refresh(db, live.refresh_token, &r2), 0);
    /* recent rows survive */
    int n = -1;
    CHECK_EQ_INT(sb_session_purge(db, 86400, &n, NULL), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens"), 4);

    /* age everything by a year */
    CHECK_EQ_INT(
        sqlite3_exec(db,
                     "UPDATE _sb_sessions SET revoked_at = '2000-01-01T00:00:00.000Z' "
                     "WHERE revoked_at IS NOT NULL;"
                     "UPDATE _sb_refresh_tokens SET created_at = '2000-01-01T00:00:00.000Z'",
                     NULL, NULL, NULL),
        SQLITE_OK);
    /* the revoked session and its 2 tokens, the live session's rotated token */
    CHECK_EQ_INT(sb_session_purge(db, 86400, &n, NULL), 0);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_sessions"), 1);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_refresh_tokens"), 1);
    /* the live session goes on */
    CHECK_EQ_INT(refresh(db, r2.refresh_token, &out), 0);
    CHECK_EQ_INT(refresh(db, live.refresh_token, &out), SB_SESSION_ENOTFOUND);
    close_db(db);
}

TEST(database_errors_reported)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        abort();
    /* no schema: every call fails with a message */
    struct sb_buf err;
    sb_buf_init(&err);
    struct sb_session s;
    CHECK_EQ_INT(sb_session_create(db, 1, NULL, NULL, &s, &err), SB_SESSION_EDB);
    CHECK(strstr(sb_buf_str(&err), "_sb_sessions") != NULL);
    CHECK_EQ_STR(s.refresh_token, "");
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_session_valid(db, "00000000-0000-4000-8000-000000000000", NULL, &err),
                 SB_SESSION_EDB);
    CHECK(err.len > 0);
    sb_buf_free(&err);
    close_db(db);
}
