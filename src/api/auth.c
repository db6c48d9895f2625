/* Accounts under /auth/v1 with GoTrue's request and response shapes, so
 * supabase-js's auth client works unmodified (docs/auth.md):
 *
 *   POST /signup                         email, password, data -> session
 *   POST /token?grant_type=password      email, password -> session
 *   POST /token?grant_type=refresh_token refresh_token -> session (rotated)
 *   GET  /user, PUT /user                the signed-in account
 *   POST /logout[?scope=global|others]   revoke the session(s)
 *
 * Passwords are hashed and verified on the hashing pool (auth/hashpool.h),
 * never on an HTTP worker; account rows and sessions are written by the
 * single writer; the answer is sent once that write is durable. Failed
 * sign-ins slow down and then lock out per account and per address
 * (auth/throttle.h). Access tokens are HS256 JWTs naming the account (sub),
 * its spec role (role) and the session (session_id); every request with a
 * token is checked against the live session and account, so signing out,
 * a refresh-token reuse or a deleted account ends access at once. */
#include "api/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "api/app.h"
#include "auth/password.h"
#include "auth/session.h"
#include "guard/validate.h"
#include "guard/values.h"
#include "store/stmt.h"
#include "util/formats.h"
#include "util/json_out.h"

#define KEY_LIFETIME (10LL * 365 * 24 * 3600) /* anon and service keys */

static const struct sb_identity identity_service = {.role = "service", .bypass_rules = true};

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

/* ---- set-up --------------------------------------------------------------- */

static int write_schema(sqlite3 *db, void *arg)
{
    struct sb_buf *err = arg;
    int purged = 0;
    /* and forget sessions and rotated tokens older than 30 days */
    return sb_session_schema(db, err) == 0 && sb_session_purge(db, 30LL * 24 * 3600, &purged, err) == 0 &&
                   sb_audit_schema(db, err) == 0
               ? 0
               : 1;
}

int sb_auth_init(struct sb_app *app, struct sb_buf *err)
{
    sb_jwt_keys_init(&app->keys);
    app->keys_ready = true;
    app->users = app->model->auth.users;
    app->token_ttl = 3600;
    const char *ttl = getenv("SPECBASE_JWT_EXPIRY");
    if (ttl && *ttl) {
        char *end;
        long long v = strtoll(ttl, &end, 10);
        if (*end || v < 60 || v > 7 * 24 * 3600) {
            sb_buf_puts(err, "SPECBASE_JWT_EXPIRY must be 60 to 604800 seconds");
            return -1;
        }
        app->token_ttl = v;
    }
    /* the HS256 secret: from the environment, or a 0600 file beside the database */
    const char *env_secret = getenv("SPECBASE_JWT_SECRET");
    if (env_secret && *env_secret) {
        if (sb_jwt_keys_set_secret(&app->keys, (const unsigned char *)env_secret, strlen(env_secret), err) != 0)
            return -1;
    } else {
        unsigned char secret[SB_JWT_MAX_SECRET];
        size_t len = sizeof(secret);
        bool created = false;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s.jwt-secret", app->db_path) >= sizeof(path)) {
            sb_buf_puts(err, "the database path is too long");
            return -1;
        }
        int rc = sb_jwt_secret_file(path, secret, &len, &created, err);
        if (rc == 0)
            rc = sb_jwt_keys_set_secret(&app->keys, secret, len, err);
        sodium_memzero(secret, sizeof(secret));
        if (rc != 0)
            return -1;
    }
    const char *jwks = getenv("SPECBASE_JWT_JWKS");
    if (jwks && *jwks && sb_jwt_keys_load_jwks(&app->keys, jwks, err) != 0)
        return -1;
    const char *pem = getenv("SPECBASE_JWT_PUBLIC_KEY");
    if (pem && *pem && sb_jwt_keys_load_pem(&app->keys, pem, NULL, err) != 0)
        return -1;
    bool key_created = false;
    if (sb_audit_key_load(app->db_path, &app->audit_key, &key_created, err) != 0)
        return -1;
    const char *aud = getenv("SPECBASE_JWT_AUD");
    app->audience = aud && *aud ? aud : NULL;
    struct sb_hashpool_options hopts;
    sb_hashpool_options_default(&hopts);
    hopts.rehash_on_verify = true;
    /* Argon2id cost: SPECBASE_PWHASH_OPSLIMIT (passes), SPECBASE_PWHASH_MEMLIMIT (bytes) */
    const char *ops = getenv("SPECBASE_PWHASH_OPSLIMIT"), *mem = getenv("SPECBASE_PWHASH_MEMLIMIT");
    if (ops && *ops)
        hopts.params.opslimit = strtoull(ops, NULL, 10);
    if (mem && *mem)
        hopts.params.memlimit = (size_t)strtoull(mem, NULL, 10);
    if (sb_password_params_check(&hopts.params, err) != 0)
        return -1;
    if (sb_hashpool_open(&hopts, &app->hashpool, err) != 0)
        return -1;
    struct sb_throttle_options topts;
    sb_throttle_options_default(&topts);
    app->throttle = sb_throttle_new(&topts);
    if (app->writer) {
        struct sb_write_result res;
        if (sb_writer_exec(app->writer, write_schema, err, &res) != 0) {
            sb_buf_printf(err, "%s%s", err->len ? "" : "cannot create the session tables: ", res.message);
            return -1;
        }
    }
    return 0;
}

void sb_auth_free(struct sb_app *app)
{
    if (app->hashpool)
        sb_hashpool_close(app->hashpool);
    app->hashpool = NULL;
    if (app->throttle)
        sb_throttle_free(app->throttle);
    app->throttle = NULL;
    sb_audit_key_wipe(&app->audit_key);
    if (app->keys_ready)
        sb_jwt_keys_free(&app->keys);
    app->keys_ready = false;
}

int sb_auth_keys(struct sb_app *app, struct sb_buf *anon, struct sb_buf *service)
{
    int64_t now = now_seconds();
    /* with a required audience the keys carry it, or they would be refused */
    struct sb_jwt_claims c = {.role = "anon", .iat = now, .exp = now + KEY_LIFETIME,
                              .aud = app->audience ? app->audience : "anon"};
    if (sb_jwt_sign_hs256(&c, app->keys.secret, app->keys.secret_len, anon) != 0)
        return -1;
    c.role = "service_role";
    c.aud = app->audience ? app->audience : "service_role";
    return sb_jwt_sign_hs256(&c, app->keys.secret, app->keys.secret_len, service);
}

/* ---- GoTrue's answers ------------------------------------------------------- */

/* {"code": status, "error_code": code, "msg": message}: what supabase-js's
 * auth client reads (error_code, msg) from GoTrue. */
void sb_auth_error(struct sb_http_response *resp, int status, const char *code, const char *msg)
{
    resp->status = status;
    resp->content_type = SB_HTTP_JSON;
    sb_buf_reset(&resp->body);
    sb_buf_printf(&resp->body, "{\"code\":%d,\"error_code\":", status);
    sb_json_string(&resp->body, code, strlen(code));
    sb_buf_puts(&resp->body, ",\"msg\":");
    sb_json_string(&resp->body, msg, strlen(msg));
    sb_buf_putc(&resp->body, '}');
}

static void gotrue_api_error(struct sb_http_response *resp, const struct sb_api_error *err)
{
    sb_auth_error(resp, err->status ? err->status : 400, err->code[0] ? err->code : "validation_failed",
                 err->details && err->n_fields ? err->details : err->message ? err->message : "invalid request");
}

/* The account as GoTrue's user object. */
struct user_info {
    int64_t id;
    const char *email, *role, *created_at, *updated_at, *metadata;
};

static const char *spec_role_column(const struct sb_app *app)
{
    const struct sb_field *f = sb_collection_field(app->users, "role");
    return f && f->type.kind == SB_TYPE_ENUM ? "role" : NULL;
}

/* Read the account id from db; *found false when there is none. */
static int load_user(struct sb_app *app, sqlite3 *db, int64_t id, struct sb_arena *arena, struct user_info *out,
                     bool *found, struct sb_api_error *err)
{
    *found = false;
    struct sb_query all = {0};
    struct sb_q_select_item star = {.kind = SB_Q_SEL_STAR};
    struct sb_q_select_item *items[1] = {&star};
    all.select = items;
    all.n_select = 1;
    struct sb_sql_ctx ctx = {.model = app->model, .dialect = app->dialect, .who = &identity_service, .arena = arena};
    struct sb_sql sql;
    sb_sql_init(&sql, arena);
    sb_buf_puts(&sql.text, "SELECT \"t\".\"email\", ");
    const char *role_col = spec_role_column(app);
    sb_buf_puts(&sql.text, role_col ? "\"t\".\"role\"" : "NULL");
    sb_buf_puts(&sql.text, ", \"t\".\"created_at\", \"t\".\"updated_at\", json_remove(");
    if (sb_sql_row_json(&ctx, app->users, &all, "t", false, &sql, err) != 0) {
        sb_sql_free(&sql);
        return -1;
    }
    sb_buf_puts(&sql.text, ", '$.id', '$.email', '$.role', '$.created_at', '$.updated_at') FROM ");
    sb_sql_ident(&sql.text, app->users->name);
    sb_buf_puts(&sql.text, " AS \"t\" WHERE \"t\".\"id\" = ");
    sb_sql_bind_int(&sql, id);
    sqlite3_stmt *stmt;
    struct sb_buf msg;
    sb_buf_init(&msg);
    int rc = sb_stmt_get(db, sql.text.data, sql.text.len, &stmt, &msg);
    if (rc == SQLITE_OK && (rc = sb_stmt_bind(stmt, sql.binds, sql.n_binds)) == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *found = true;
            out->id = id;
            out->email = sb_arena_strdup(arena, (const char *)sqlite3_column_text(stmt, 0));
            out->role = sqlite3_column_type(stmt, 1) == SQLITE_NULL
                            ? "authenticated"
                            : sb_arena_strdup(arena, (const char *)sqlite3_column_text(stmt, 1));
            out->created_at = sb_arena_strdup(arena, (const char *)sqlite3_column_text(stmt, 2));
            out->updated_at = sb_arena_strdup(arena, (const char *)sqlite3_column_text(stmt, 3));
            const unsigned char *meta = sqlite3_column_text(stmt, 4);
            out->metadata = sb_arena_strdup(arena, meta ? (const char *)meta : "{}");
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
        sb_stmt_done(stmt);
    }
    if (rc != SQLITE_OK && !sb_api_error_is_set(err)) {
        sb_api_error_set(err, 500, "unexpected_failure", "could not read the account");
        sb_api_error_details(err, "%s", msg.len ? msg.data : sqlite3_errmsg(db));
    }
    sb_buf_free(&msg);
    sb_sql_free(&sql);
    return rc == SQLITE_OK ? 0 : -1;
}

static void user_json(const struct user_info *u, struct sb_buf *out)
{
    sb_buf_printf(out, "{\"id\":\"%lld\",\"aud\":\"authenticated\",\"role\":\"authenticated\",\"email\":",
                  (long long)u->id);
    sb_json_string(out, u->email, strlen(u->email));
    sb_buf_puts(out, ",\"email_confirmed_at\":");
    sb_json_string(out, u->created_at, strlen(u->created_at));
    sb_buf_puts(out, ",\"confirmed_at\":");
    sb_json_string(out, u->created_at, strlen(u->created_at));
    sb_buf_puts(out, ",\"phone\":\"\",\"app_metadata\":{\"provider\":\"email\",\"providers\":[\"email\"],\"role\":");
    sb_json_string(out, u->role, strlen(u->role));
    sb_buf_puts(out, "},\"user_metadata\":");
    sb_buf_puts(out, u->metadata);
    sb_buf_puts(out, ",\"identities\":[],\"is_anonymous\":false,\"created_at\":");
    sb_json_string(out, u->created_at, strlen(u->created_at));
    sb_buf_puts(out, ",\"updated_at\":");
    sb_json_string(out, u->updated_at, strlen(u->updated_at));
    sb_buf_putc(out, '}');
}

/* The session object GoTrue answers sign-ins with. */
static int session_json(struct sb_app *app, const struct user_info *u, const struct sb_session *s,
                        struct sb_buf *out)
{
    int64_t now = now_seconds();
    char sub[24];
    snprintf(sub, sizeof(sub), "%lld", (long long)u->id);
    struct sb_jwt_claims c = {.sub = sub, .role = u->role, .email = u->email, .session_id = s->id,
                              .iat = now, .exp = now + app->token_ttl, .aud = app->audience};
    struct sb_buf token;
    sb_buf_init(&token);
    if (sb_jwt_sign_hs256(&c, app->keys.secret, app->keys.secret_len, &token) != 0) {
        sb_buf_free(&token);
        return -1;
    }
    sb_buf_puts(out, "{\"access_token\":");
    sb_json_string(out, token.data, token.len);
    sb_buf_printf(out, ",\"token_type\":\"bearer\",\"expires_in\":%lld,\"expires_at\":%lld,\"refresh_token\":",
                  (long long)app->token_ttl, (long long)(now + app->token_ttl));
    sb_json_string(out, s->refresh_token, strlen(s->refresh_token));
    sb_buf_puts(out, ",\"user\":");
    user_json(u, out);
    sb_buf_putc(out, '}');
    sodium_memzero(token.data, token.len);
    sb_buf_free(&token);
    return 0;
}

/* ---- identity ------------------------------------------------------------------ */

static const char *bearer(struct sb_http_request *req)
{
    const char *auth = sb_http_header(req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        return auth + 7;
    return sb_http_header(req, "apikey");
}

static bool looks_like_jwt(const char *token)
{
    const char *dot = strchr(token, '.');
    return dot && strchr(dot + 1, '.') && !strchr(strchr(dot + 1, '.') + 1, '.');
}

static int parse_id(const char *text, int64_t *out)
{
    return text && sb_parse_int64(text, strlen(text), out) == 0 && *out > 0 ? 0 : -1;
}

const struct sb_identity *sb_auth_identity(struct sb_app *app, struct sb_http_request *req, struct sb_api_error *err)
{
    const char *token = bearer(req);
    if (!token || !*token || !looks_like_jwt(token))
        return &sb_identity_anon; /* no token, or an opaque publishable key */
    struct sb_jwt_verify_opts opts;
    sb_jwt_verify_opts_init(&opts);
    opts.audience = app->audience;
    struct sb_jwt_claims claims;
    if (sb_jwt_verify(token, strlen(token), &app->keys, &opts, req->arena, &claims, err) != 0)
        return NULL;
    if (!claims.role || !strcmp(claims.role, "anon"))
        return &sb_identity_anon;
    if (!strcmp(claims.role, "service_role"))
        return &identity_service;
    /* an account: its session must be live and the account still there;
     * the role and email come from the account as it is now */
    int64_t id;
    if (!app->users || parse_id(claims.sub, &id) != 0 || !claims.session_id) {
        sb_api_error_set(err, 401, "PGRST303", "JWT claims validation failed");
        sb_api_error_details(err, "the token names no account and session of this server");
        return NULL;
    }
    struct sb_buf msg;
    sb_buf_init(&msg);
    sqlite3 *db = sb_app_reader(app, &msg);
    int64_t session_user = 0;
    int rc = db ? sb_session_valid(db, claims.session_id, &session_user, &msg) : SB_SESSION_EDB;
    struct user_info u;
    bool found = false;
    if (rc == SB_SESSION_EDB) {
        sb_api_error_set(err, 503, "PGRST000", "Could not check the session");
        sb_buf_free(&msg);
        return NULL;
    }
    if (rc == 1 && session_user == id)
        load_user(app, db, id, req->arena, &u, &found, err);
    sb_buf_free(&msg);
    if (sb_api_error_is_set(err))
        return NULL;
    if (!found) {
        sb_api_error_set(err, 401, "PGRST303", "JWT claims validation failed");
        sb_api_error_details(err, "the session has ended or the account no longer exists");
        return NULL;
    }
    struct sb_identity *who = sb_arena_alloc(req->arena, sizeof(*who));
    who->role = u.role;
    who->authenticated = true;
    who->has_id = true;
    who->id = id;
    who->email = u.email;
    return who;
}

/* ---- the jobs: hashing pool, then the writer, then the answer ---------------------- */

enum auth_kind { AUTH_SIGNUP, AUTH_LOGIN, AUTH_REFRESH, AUTH_UPDATE, AUTH_LOGOUT, AUTH_FAILED };

struct auth_job {
    struct sb_app *app;
    enum auth_kind kind;
    struct sb_http_request *req;
    struct sb_http_deferred *deferred;
    /* inputs */
    char *email;                /* lower-cased */
    char *password;             /* heap, wiped and freed when done */
    size_t password_len;
    struct sb_rows fields;      /* validated account fields (signup, update) */
    int64_t user_id;
    char stored_hash[SB_PWHASH_STRBYTES];
    char *refresh_token;
    char *session_id;
    bool revoke_all, keep_current;
    /* work */
    struct sb_hash_job hash;
    struct sb_write_unit unit;
    struct sb_session session;
    struct user_info user;
    struct sb_api_error err;
    int gotrue_status;          /* a GoTrue error to answer, with gotrue_code */
    const char *gotrue_code, *gotrue_msg;
};

static void job_fail(struct auth_job *job, int status, const char *code, const char *msg)
{
    if (!job->gotrue_status) {
        job->gotrue_status = status;
        job->gotrue_code = code;
        job->gotrue_msg = msg;
    }
}

/* Forget the password the job holds: zeroed, then freed. */
static void wipe_password(struct auth_job *job)
{
    if (!job->password)
        return;
    sodium_memzero(job->password, job->password_len);
    free(job->password);
    job->password = NULL;
    job->password_len = 0;
}

static void job_finish(struct auth_job *job)
{
    struct sb_http_response *resp = sb_http_deferred_response(job->deferred);
    if (job->gotrue_status) {
        sb_auth_error(resp, job->gotrue_status, job->gotrue_code, job->gotrue_msg);
    } else if (sb_api_error_is_set(&job->err)) {
        gotrue_api_error(resp, &job->err);
    } else {
        resp->content_type = SB_HTTP_JSON;
        if (job->kind == AUTH_LOGOUT) {
            resp->status = 204;
        } else if (job->kind == AUTH_UPDATE) {
            user_json(&job->user, &resp->body);
        } else if (session_json(job->app, &job->user, &job->session, &resp->body) != 0) {
            sb_auth_error(resp, 500, "unexpected_failure", "could not sign the access token");
        }
    }
    wipe_password(job);
    sb_api_error_clear(&job->err);
    sb_http_complete(job->deferred);
}

static void write_done(struct sb_write_unit *unit)
{
    struct auth_job *job = unit->done_arg;
    if (unit->result.rc != 0 && !job->gotrue_status && !sb_api_error_is_set(&job->err))
        job_fail(job, 500, "unexpected_failure", "the account could not be written");
    job_finish(job);
}

/* email and password are written from the request, hashed, not from the
 * validated row */
static bool is_credential(const struct sb_field *f)
{
    return !strcmp(f->name, "email") || !strcmp(f->name, "password");
}

/* INSERT the account (signup) or UPDATE it (password, email, fields). */
static int write_account(sqlite3 *db, struct auth_job *job, bool insert)
{
    struct sb_app *app = job->app;
    struct sb_sql sql;
    sb_sql_init(&sql, job->req->arena);
    const struct sb_rows *f = &job->fields;
    if (insert) {
        sb_buf_puts(&sql.text, "INSERT INTO ");
        sb_sql_ident(&sql.text, app->users->name);
        sb_buf_puts(&sql.text, " (\"email\", \"password\"");
        for (size_t c = 0; c < f->n_fields; c++) {
            if (is_credential(f->fields[c]))
                continue;
            sb_buf_puts(&sql.text, ", ");
            sb_sql_ident(&sql.text, f->fields[c]->name);
        }
        sb_buf_puts(&sql.text, ") VALUES (");
        sb_sql_bind_text(&sql, job->email, strlen(job->email));
        sb_buf_puts(&sql.text, ", ");
        sb_sql_bind_text(&sql, job->hash.out, strlen(job->hash.out));
        for (size_t c = 0; c < f->n_fields; c++) {
            if (is_credential(f->fields[c]))
                continue;
            sb_buf_puts(&sql.text, ", ");
            sb_sql_bind(&sql, sb_rows_value(f, 0, c));
        }
        sb_buf_puts(&sql.text, ") RETURNING \"id\"");
    } else {
        sb_buf_puts(&sql.text, "UPDATE ");
        sb_sql_ident(&sql.text, app->users->name);
        sb_buf_printf(&sql.text, " SET \"updated_at\" = %s", app->dialect->now_sql);
        if (job->email) {
            sb_buf_puts(&sql.text, ", \"email\" = ");
            sb_sql_bind_text(&sql, job->email, strlen(job->email));
        }
        if (job->password) {
            sb_buf_puts(&sql.text, ", \"password\" = ");
            sb_sql_bind_text(&sql, job->hash.out, strlen(job->hash.out));
        }
        for (size_t c = 0; c < f->n_fields; c++) {
            if (is_credential(f->fields[c]))
                continue;
            sb_buf_puts(&sql.text, ", ");
            sb_sql_ident(&sql.text, f->fields[c]->name);
            sb_buf_puts(&sql.text, " = ");
            sb_sql_bind(&sql, sb_rows_value(f, 0, c));
        }
        sb_buf_puts(&sql.text, " WHERE \"id\" = ");
        sb_sql_bind_int(&sql, job->user_id);
        sb_buf_puts(&sql.text, " RETURNING \"id\"");
    }
    sqlite3_stmt *stmt;
    struct sb_buf msg;
    sb_buf_init(&msg);
    int rc = sb_stmt_get(db, sql.text.data, sql.text.len, &stmt, &msg);
    if (rc == SQLITE_OK && (rc = sb_stmt_bind(stmt, sql.binds, sql.n_binds)) == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            job->user_id = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_NOTFOUND;
        }
        int ext = sqlite3_extended_errcode(db);
        sb_stmt_done(stmt);
        if (ext == SQLITE_CONSTRAINT_UNIQUE)
            job_fail(job, 422, insert ? "user_already_exists" : "email_exists",
                     insert ? "User already registered" : "A user with this email address has already been registered");
        else if (rc == SQLITE_CONSTRAINT || (ext & 0xff) == SQLITE_CONSTRAINT)
            job_fail(job, 422, "validation_failed", "the account's values break a constraint of the spec");
    }
    if (rc != SQLITE_OK && !job->gotrue_status)
        job_fail(job, 500, "unexpected_failure", "the account could not be written");
    sb_buf_free(&msg);
    sb_sql_free(&sql);
    return rc == SQLITE_OK ? 0 : -1;
}

static int finish_user(sqlite3 *db, struct auth_job *job)
{
    bool found = false;
    if (load_user(job->app, db, job->user_id, job->req->arena, &job->user, &found, &job->err) != 0)
        return -1;
    if (!found) {
        job_fail(job, 404, "user_not_found", "User not found");
        return -1;
    }
    return 0;
}

/* The audit entry of an account event; the email is pii (hashed). */
static int audit_account(sqlite3 *db, struct auth_job *job, enum sb_audit_op op)
{
    struct sb_app *app = job->app;
    /* a failed sign-in is made by someone anonymous, about an account */
    bool actor = job->user_id > 0 && op != SB_AUDIT_OP_SIGNIN_FAILED;
    struct sb_identity who = {.role = actor && job->user.role ? job->user.role : "anon", .has_id = actor,
                              .id = job->user_id};
    struct sb_buf changes;
    sb_buf_init(&changes);
    sb_buf_puts(&changes, "{}");
    if (job->email && (op == SB_AUDIT_OP_SIGNUP || op == SB_AUDIT_OP_SIGNIN_FAILED || op == SB_AUDIT_OP_UPDATE)) {
        struct sb_buf email;
        sb_buf_init(&email);
        sb_json_string(&email, job->email, strlen(job->email));
        sb_audit_changes_add_name(&changes, "email", true, NULL, email.data, &app->audit_key);
        sb_buf_free(&email);
    }
    if (job->password && op == SB_AUDIT_OP_UPDATE)
        sb_audit_changes_add_name(&changes, "password", false, NULL, "\"(changed)\"", &app->audit_key);
    int rc = sb_app_audit(app, db, job->req, &who, op, app->users->name, job->user_id > 0, job->user_id,
                          changes.data);
    sb_buf_free(&changes);
    return rc;
}

static int store_rehash(sqlite3 *db, struct auth_job *job)
{
    struct sb_sql sql;
    sb_sql_init(&sql, job->req->arena);
    sb_buf_puts(&sql.text, "UPDATE ");
    sb_sql_ident(&sql.text, job->app->users->name);
    sb_buf_puts(&sql.text, " SET \"password\" = ");
    sb_sql_bind_text(&sql, job->hash.out, strlen(job->hash.out));
    sb_buf_puts(&sql.text, " WHERE \"id\" = ");
    sb_sql_bind_int(&sql, job->user_id);
    sqlite3_stmt *stmt;
    int rc = sb_stmt_get(db, sql.text.data, sql.text.len, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sb_stmt_bind(stmt, sql.binds, sql.n_binds);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sb_stmt_done(stmt);
    }
    sb_sql_free(&sql);
    return rc == SQLITE_OK ? 0 : -1;
}

static int auth_unit(sqlite3 *db, void *arg)
{
    struct auth_job *job = arg;
    struct sb_buf msg;
    sb_buf_init(&msg);
    const char *ua = sb_http_header(job->req, "User-Agent");
    const char *ip = job->req->client_addr;
    int rc = 0;
    switch (job->kind) {
    case AUTH_SIGNUP:
        rc = write_account(db, job, true) || sb_session_create(db, job->user_id, ua, ip, &job->session, &msg) ||
             finish_user(db, job) || audit_account(db, job, SB_AUDIT_OP_SIGNUP);
        break;
    case AUTH_LOGIN:
        /* the hash was made with other cost parameters: store the new one */
        if (job->hash.rehash && job->hash.out[0])
            rc = store_rehash(db, job);
        rc = rc || sb_session_create(db, job->user_id, ua, ip, &job->session, &msg) || finish_user(db, job) ||
             audit_account(db, job, SB_AUDIT_OP_SIGNIN);
        break;
    case AUTH_REFRESH: {
        int s = sb_session_refresh(db, job->refresh_token, strlen(job->refresh_token), ua, ip, &job->session, &msg);
        if (s != 0) {
            if (s == SB_SESSION_EDB)
                job_fail(job, 500, "unexpected_failure", "the session could not be read");
            else
                job_fail(job, sb_session_error_status(s), sb_session_error_code(s), sb_session_error_message(s));
            /* a reused token revoked its session: keep that revocation */
            rc = s == SB_SESSION_EREUSED ? 0 : 1;
            break;
        }
        job->user_id = job->session.user_id;
        rc = finish_user(db, job);
        break;
    }
    case AUTH_UPDATE:
        rc = write_account(db, job, false) || finish_user(db, job) || audit_account(db, job, SB_AUDIT_OP_UPDATE);
        if (rc == 0 && job->password) /* a new password ends the other sessions */
            rc = sb_session_revoke_user(db, job->user_id, job->session_id, &msg) != 0;
        break;
    case AUTH_LOGOUT:
        if (job->revoke_all)
            rc = sb_session_revoke_user(db, job->user_id, job->keep_current ? job->session_id : NULL, &msg) != 0;
        else
            rc = sb_session_revoke(db, job->session_id, &msg) != 0;
        rc = rc || audit_account(db, job, SB_AUDIT_OP_TOKEN_REVOKED);
        break;
    case AUTH_FAILED:
        rc = audit_account(db, job, SB_AUDIT_OP_SIGNIN_FAILED);
        break;
    }
    if (rc != 0 && !job->gotrue_status && !sb_api_error_is_set(&job->err))
        job_fail(job, 500, "unexpected_failure", "the request could not be completed");
    sb_buf_free(&msg);
    return rc;
}

static void submit_write(struct auth_job *job)
{
    job->unit.fn = auth_unit;
    job->unit.arg = job;
    job->unit.done = write_done;
    job->unit.done_arg = job;
    if (sb_writer_submit(job->app->writer, &job->unit) != 0) {
        job_fail(job, 503, "service_unavailable", "The server is shutting down");
        job_finish(job);
    }
}

static void hash_done(struct sb_hash_job *hash)
{
    struct auth_job *job = hash->arg;
    struct sb_app *app = job->app;
    if (job->kind == AUTH_LOGIN) {
        const char *addr = job->req->client_addr;
        if (hash->rc != 0 || job->user_id == 0) {
            sb_throttle_fail(app->throttle, job->email, addr, now_seconds());
            job_fail(job, 400, "invalid_credentials", "Invalid login credentials");
            /* the failure is recorded (committed) before it is answered */
            job->kind = AUTH_FAILED;
            return submit_write(job);
        }
        sb_throttle_success(app->throttle, job->email, addr, now_seconds());
    } else if (hash->rc != 0) {
        job_fail(job, 500, "unexpected_failure", "the password could not be hashed");
        return job_finish(job);
    }
    submit_write(job);
}

static void submit_hash(struct auth_job *job, enum sb_hash_kind kind, struct sb_http_response *resp)
{
    job->hash.kind = kind;
    job->hash.password = job->password;
    job->hash.password_len = job->password_len;
    job->hash.hash = kind == SB_HASH_JOB_VERIFY && job->user_id ? job->stored_hash : NULL;
    job->hash.done = hash_done;
    job->hash.arg = job;
    int rc = sb_hashpool_submit(job->app->hashpool, &job->hash);
    if (rc != 0) {
        if (job->kind == AUTH_LOGIN) /* the attempt the throttle reserved did not happen */
            sb_throttle_release(job->app->throttle, job->email, job->req->client_addr);
        sb_http_response_header(resp, "Retry-After", "1");
        job_fail(job, 503, "over_request_rate_limit", "Too many sign-ins at once; try again in a second");
        job_finish(job);
    }
}

/* ---- requests ------------------------------------------------------------------------ */

static json_t *body_object(struct sb_http_request *req, struct sb_http_response *resp)
{
    json_error_t jerr;
    json_t *body = req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        sb_auth_error(resp, 400, "bad_json", "Could not parse request body as JSON");
        return NULL;
    }
    return body;
}

static struct auth_job *new_job(struct sb_app *app, enum auth_kind kind, struct sb_http_request *req)
{
    struct auth_job *job = sb_arena_alloc(req->arena, sizeof(*job));
    job->app = app;
    job->kind = kind;
    job->req = req;
    return job;
}

static int take_password(struct auth_job *job, json_t *body, struct sb_http_response *resp, bool policy)
{
    json_t *pw = json_object_get(body, "password");
    if (!json_is_string(pw)) {
        sb_auth_error(resp, 400, "validation_failed", "Signup requires a valid password");
        return -1;
    }
    size_t len = json_string_length(pw);
    if (policy) {
        struct sb_password_policy pol;
        sb_password_policy_default(&pol);
        struct sb_api_error err = {0};
        if (sb_password_check_policy(json_string_value(pw), len, &pol, &err) != 0) {
            gotrue_api_error(resp, &err);
            sb_api_error_clear(&err);
            return -1;
        }
    } else if (len > SB_PASSWORD_MAX_BYTES) {
        sb_auth_error(resp, 400, "validation_failed", "Password is too long");
        return -1;
    }
    job->password = malloc(len + 1);
    if (!job->password)
        abort();
    memcpy(job->password, json_string_value(pw), len + 1);
    job->password_len = len;
    return 0;
}

static int take_email(struct auth_job *job, json_t *body, struct sb_http_response *resp)
{
    json_t *email = json_object_get(body, "email");
    const char *text = json_string_value(email);
    if (!text || !sb_format_email(text, strlen(text))) {
        sb_auth_error(resp, 400, "validation_failed", "Unable to validate email address: invalid format");
        return -1;
    }
    job->email = sb_arena_strdup(job->req->arena, text);
    for (char *p = job->email; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return 0;
}

/* The account fields in `data` (signup) or the body (update): the users
 * collection's own fields, validated; email, password, role and any field
 * with a write rule are not settable here. */
static int take_fields(struct auth_job *job, json_t *data, bool update, struct sb_http_response *resp)
{
    if (data && !json_is_object(data)) {
        sb_auth_error(resp, 400, "validation_failed", "data must be an object");
        return -1;
    }
    if (update && (!data || json_object_size(data) == 0))
        return 0;
    const char *key;
    json_t *value;
    json_object_foreach(data, key, value) {
        const struct sb_field *f = sb_collection_field(job->app->users, key);
        if (f && (!strcmp(key, "email") || !strcmp(key, "password") || f->write_rule)) {
            sb_auth_error(resp, 403, "not_admin", "this field cannot be set by the account itself");
            return -1;
        }
    }
    /* validated as the account's row: with the email and password on signup,
     * so that required fields and checks see the whole row */
    json_t *row = data ? json_deep_copy(data) : json_object();
    if (!update) {
        json_object_set_new(row, "email", json_string(job->email));
        json_object_set_new(row, "password", json_stringn(job->password, job->password_len));
    }
    char *text = json_dumps(row, JSON_COMPACT);
    json_decref(row);
    struct sb_validate_opts vopts = {.mode = update ? SB_VALIDATE_UPDATE : SB_VALIDATE_CREATE, .max_rows = 1};
    struct sb_api_error err = {0};
    int rc = sb_validate_body(job->app->users, text, strlen(text), &vopts, job->req->arena, &job->fields, &err);
    sodium_memzero(text, strlen(text));
    free(text);
    if (rc != 0) {
        gotrue_api_error(resp, &err);
        sb_api_error_clear(&err);
    }
    return rc;
}

static void signup(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    json_t *body = body_object(req, resp);
    if (!body)
        return;
    struct auth_job *job = new_job(app, AUTH_SIGNUP, req);
    if (take_email(job, body, resp) != 0 || take_password(job, body, resp, true) != 0 ||
        take_fields(job, json_object_get(body, "data"), false, resp) != 0) {
        json_decref(body);
        wipe_password(job);
        return;
    }
    json_decref(body);
    job->deferred = sb_http_defer(req);
    submit_hash(job, SB_HASH_JOB_HASH, resp);
}

static void login(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    json_t *body = body_object(req, resp);
    if (!body)
        return;
    struct auth_job *job = new_job(app, AUTH_LOGIN, req);
    if (take_email(job, body, resp) != 0 || take_password(job, body, resp, false) != 0) {
        json_decref(body);
        wipe_password(job);
        return;
    }
    json_decref(body);
    int retry = 0;
    if (sb_throttle_check(app->throttle, job->email, req->client_addr, now_seconds(), &retry) != 0) {
        char text[24];
        snprintf(text, sizeof(text), "%d", retry);
        sb_http_response_header(resp, "Retry-After", text);
        sb_auth_error(resp, 429, "over_request_rate_limit", "Too many failed sign-ins; try again later");
        wipe_password(job);
        return;
    }
    /* the account and its hash; an unknown email still costs a verification */
    struct sb_buf msg;
    sb_buf_init(&msg);
    sqlite3 *db = sb_app_reader(app, &msg);
    if (db) {
        struct sb_sql sql;
        sb_sql_init(&sql, req->arena);
        sb_buf_puts(&sql.text, "SELECT \"id\", \"password\" FROM ");
        sb_sql_ident(&sql.text, app->users->name);
        sb_buf_puts(&sql.text, " WHERE lower(\"email\") = ");
        sb_sql_bind_text(&sql, job->email, strlen(job->email));
        sqlite3_stmt *stmt;
        if (sb_stmt_get(db, sql.text.data, sql.text.len, &stmt, &msg) == SQLITE_OK) {
            sb_stmt_bind(stmt, sql.binds, sql.n_binds);
            if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 1) == SQLITE_TEXT &&
                (size_t)sqlite3_column_bytes(stmt, 1) < sizeof(job->stored_hash)) {
                job->user_id = sqlite3_column_int64(stmt, 0);
                snprintf(job->stored_hash, sizeof(job->stored_hash), "%s", (const char *)sqlite3_column_text(stmt, 1));
            }
            sb_stmt_done(stmt);
        }
        sb_sql_free(&sql);
    }
    sb_buf_free(&msg);
    job->deferred = sb_http_defer(req);
    submit_hash(job, SB_HASH_JOB_VERIFY, resp);
}

static void refresh(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    json_t *body = body_object(req, resp);
    if (!body)
        return;
    const char *token = json_string_value(json_object_get(body, "refresh_token"));
    if (!token || !*token || strlen(token) > 256) {
        json_decref(body);
        sb_auth_error(resp, 400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
        return;
    }
    struct auth_job *job = new_job(app, AUTH_REFRESH, req);
    job->refresh_token = sb_arena_strdup(req->arena, token);
    json_decref(body);
    job->deferred = sb_http_defer(req);
    submit_write(job);
}

/* The signed-in account of the request, or an answer (401) and NULL. */
static const struct sb_identity *signed_in(struct sb_app *app, struct sb_http_request *req,
                                           struct sb_http_response *resp, const char **session_id)
{
    struct sb_api_error err = {0};
    const struct sb_identity *who = sb_auth_identity(app, req, &err);
    if (!who || !who->has_id) {
        sb_auth_error(resp, 401, who ? "no_authorization" : "bad_jwt",
                     who ? "This endpoint requires a valid Bearer token" : err.message ? err.message : "invalid JWT");
        sb_api_error_clear(&err);
        return NULL;
    }
    /* the session id of the (already verified) token */
    struct sb_jwt_verify_opts opts;
    sb_jwt_verify_opts_init(&opts);
    opts.audience = app->audience;
    struct sb_jwt_claims claims;
    const char *token = bearer(req);
    if (sb_jwt_verify(token, strlen(token), &app->keys, &opts, req->arena, &claims, &err) == 0)
        *session_id = claims.session_id;
    sb_api_error_clear(&err);
    return who;
}

static void get_user(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    const char *sid = NULL;
    const struct sb_identity *who = signed_in(app, req, resp, &sid);
    if (!who)
        return;
    struct sb_buf msg;
    sb_buf_init(&msg);
    sqlite3 *db = sb_app_reader(app, &msg);
    sb_buf_free(&msg);
    struct user_info u;
    bool found = false;
    struct sb_api_error err = {0};
    if (!db || load_user(app, db, who->id, req->arena, &u, &found, &err) != 0 || !found) {
        sb_auth_error(resp, 404, "user_not_found", "User not found");
        sb_api_error_clear(&err);
        return;
    }
    resp->content_type = SB_HTTP_JSON;
    user_json(&u, &resp->body);
}

static void put_user(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    const char *sid = NULL;
    const struct sb_identity *who = signed_in(app, req, resp, &sid);
    if (!who)
        return;
    json_t *body = body_object(req, resp);
    if (!body)
        return;
    struct auth_job *job = new_job(app, AUTH_UPDATE, req);
    job->user_id = who->id;
    job->session_id = sid ? sb_arena_strdup(req->arena, sid) : NULL;
    int rc = 0;
    if (json_object_get(body, "email"))
        rc = take_email(job, body, resp);
    if (rc == 0 && json_object_get(body, "password"))
        rc = take_password(job, body, resp, true);
    if (rc == 0)
        rc = take_fields(job, json_object_get(body, "data"), true, resp);
    json_decref(body);
    if (rc != 0) {
        wipe_password(job);
        return;
    }
    job->deferred = sb_http_defer(req);
    if (job->password)
        submit_hash(job, SB_HASH_JOB_HASH, resp);
    else
        submit_write(job);
}

static void logout(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp)
{
    const char *sid = NULL;
    const struct sb_identity *who = signed_in(app, req, resp, &sid);
    if (!who)
        return;
    struct auth_job *job = new_job(app, AUTH_LOGOUT, req);
    job->user_id = who->id;
    job->session_id = sid ? sb_arena_strdup(req->arena, sid) : NULL;
    const char *scope = strstr(req->query, "scope=");
    if (scope && !strncmp(scope + 6, "global", 6))
        job->revoke_all = true;
    else if (scope && !strncmp(scope + 6, "others", 6))
        job->revoke_all = job->keep_current = true;
    job->deferred = sb_http_defer(req);
    submit_write(job);
}

void sb_auth_handle(struct sb_app *app, const char *rest, struct sb_http_request *req, struct sb_http_response *resp)
{
    if (!app->users) {
        sb_auth_error(resp, 404, "feature_disabled", "This spec has no auth block: accounts are not enabled");
        return;
    }
    enum sb_http_method m = req->method_id;
    if (!strcmp(rest, "signup") && m == SB_HTTP_POST)
        return signup(app, req, resp);
    if (!strcmp(rest, "token") && m == SB_HTTP_POST) {
        if (strstr(req->query, "grant_type=password"))
            return login(app, req, resp);
        if (strstr(req->query, "grant_type=refresh_token"))
            return refresh(app, req, resp);
        return sb_auth_error(resp, 400, "unsupported_grant_type", "grant_type must be password or refresh_token");
    }
    if (!strcmp(rest, "user") && m == SB_HTTP_GET)
        return get_user(app, req, resp);
    if (!strcmp(rest, "user") && m == SB_HTTP_PUT)
        return put_user(app, req, resp);
    if (!strcmp(rest, "logout") && m == SB_HTTP_POST)
        return logout(app, req, resp);
    if (!strcmp(rest, "health") || !strcmp(rest, "settings")) {
        resp->content_type = SB_HTTP_JSON;
        sb_buf_puts(&resp->body, "{\"external\":{\"email\":true},\"disable_signup\":false,\"mailer_autoconfirm\":true}");
        return;
    }
    sb_auth_error(resp, 404, "not_found", "Not found");
}
