/* Sessions and refresh tokens, in specbase's own tables:
 *
 *   _sb_sessions        one row per sign-in: id (UUID, the JWT's session_id
 *                       claim), user_id, created_at, refreshed_at,
 *                       revoked_at (NULL while valid), user_agent, ip
 *   _sb_refresh_tokens  one row per refresh token ever issued: session_id,
 *                       token_hash (SHA-256 of the token, hex: the token
 *                       itself is never stored), parent (the token it
 *                       replaced), revoked, created_at
 *
 * A refresh token is 32 random bytes in base64url without padding (43
 * characters), opaque to clients. Each use rotates it: the presented token is
 * marked revoked and a new one, whose parent is the old one, is returned.
 * Presenting a revoked token again means it was copied (reuse): the whole
 * session is revoked, so both the thief's and the owner's tokens die.
 *
 * Writers (create, refresh, revoke, purge) run on the writer connection
 * inside a unit the caller owns (store/writer.h): they never BEGIN or COMMIT.
 * sb_session_valid only reads and runs on any connection. Statements come
 * from the thread's statement cache (store/stmt.h), so the connection's owner
 * calls sb_stmt_forget before closing it, as for every other query.
 *
 * Errors on a refresh follow GoTrue, whose codes supabase-js knows: every one
 * is answered 400 {"code": sb_session_error_code(rc), "message": ...}. */
#ifndef SB_AUTH_SESSION_H
#define SB_AUTH_SESSION_H

#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"

/* Error codes (negative; 0 is success). */
#define SB_SESSION_EDB (-1)       /* a database error; message in err; roll the unit back */
#define SB_SESSION_ENOTFOUND (-2) /* no such refresh token */
#define SB_SESSION_EREUSED (-3)   /* a rotated token presented again: session now revoked */
#define SB_SESSION_EREVOKED (-4)  /* the token's session was revoked (signed out) */

#define SB_SESSION_ID_LEN 36    /* UUID text */
#define SB_REFRESH_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

/* What create and refresh hand back. refresh_token is a secret: send it,
 * then wipe it (sodium_memzero); it cannot be recovered from the database. */
struct sb_session {
    char id[SB_SESSION_ID_LEN + 1];
    int64_t user_id;
    char refresh_token[SB_REFRESH_TOKEN_LEN + 1];
};

/* Create the two tables and their indexes if absent (STRICT tables; run at
 * startup on the writer connection). Returns 0 or SB_SESSION_EDB. */
int sb_session_schema(sqlite3 *db, struct sb_buf *err);

/* Start a session for user_id and issue its first refresh token. user_agent
 * and ip are borrowed, may be NULL, and are stored cut to 512 and 64 bytes.
 * Returns 0 with *out filled, or SB_SESSION_EDB. */
int sb_session_create(sqlite3 *db, int64_t user_id, const char *user_agent, const char *ip,
                      struct sb_session *out, struct sb_buf *err);

/* Rotate token (borrowed, token_len bytes as received): on success *out
 * holds the session, its user and a new refresh token, and the session's
 * refreshed_at, user_agent and ip are updated.
 *
 * SB_SESSION_EREUSED: token had already been rotated; the session and every
 * token of it have just been revoked. These changes MUST be committed: the
 * unit returns 0 to the writer and carries the refusal out of band (GoTrue
 * does the same), otherwise the rollback undoes the revocation. out->id and
 * out->user_id name the session for the audit trail; no token is issued.
 * SB_SESSION_EREVOKED: the session was signed out (out->id, user_id set).
 * SB_SESSION_ENOTFOUND: unknown or malformed token. Nothing was changed.
 * SB_SESSION_EDB: roll the unit back. */
int sb_session_refresh(sqlite3 *db, const char *token, size_t token_len, const char *user_agent,
                       const char *ip, struct sb_session *out, struct sb_buf *err);

/* Sign out one session (idempotent: an unknown or already revoked id is not
 * an error). Returns 0 or SB_SESSION_EDB. */
int sb_session_revoke(sqlite3 *db, const char *session_id, struct sb_buf *err);

/* Sign out every session of user_id except keep_session_id (NULL: all of
 * them; GoTrue's scope "global" vs "others"). Returns 0 or SB_SESSION_EDB. */
int sb_session_revoke_user(sqlite3 *db, int64_t user_id, const char *keep_session_id,
                           struct sb_buf *err);

/* Is session_id (an access token's session_id claim, borrowed) a session
 * that exists and is not revoked? Returns 1 (and *user_id when not NULL: the
 * caller checks it equals the token's sub), 0 (unknown, revoked or not a
 * UUID), or SB_SESSION_EDB. A revoked session is refused even while its
 * access token has not expired. */
int sb_session_valid(sqlite3 *db, const char *session_id, int64_t *user_id, struct sb_buf *err);

/* Delete what is no longer needed, older than max_age_seconds: sessions
 * revoked before then (with their tokens), and rotated tokens created before
 * then (presenting one afterwards is "not found" rather than a detected
 * reuse). Returns 0 or SB_SESSION_EDB; *n_deleted (when not NULL) is the
 * number of rows deleted. */
int sb_session_purge(sqlite3 *db, int64_t max_age_seconds, int *n_deleted, struct sb_buf *err);

/* GoTrue's error code for an SB_SESSION_E* value ("refresh_token_not_found",
 * "refresh_token_already_used", "session_not_found", "unexpected_failure"). */
const char *sb_session_error_code(int rc);
/* GoTrue's message ("Invalid Refresh Token: Refresh Token Not Found", ...). */
const char *sb_session_error_message(int rc);
/* The HTTP status: 400 for refusals, 500 for SB_SESSION_EDB. */
int sb_session_error_status(int rc);

#endif
