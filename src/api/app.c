/* The application context and the router of /rest/v1 and /_/ (see app.h).
 * Routes: /rest/v1/ (OpenAPI), /rest/v1/<collection> (records.c),
 * /rest/v1/rpc/<action> (actions.c), /auth/v1/ (auth.c), /_/health and
 * /_/ready. Everything else is
 * PostgREST's 404 PGRST125. */
#include "api/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/actions.h"
#include "api/auth.h"
#include "api/openapi.h"
#include "store/stmt.h"
#include "util/die.h"

static void close_reader(void *value)
{
    sqlite3 *db = value;
    sb_stmt_forget(db); /* runs on the thread that used db */
    sb_db_close(db);
}

int sb_app_init(struct sb_app *app, const struct sb_model *model, const char *db_path,
                const struct sb_db_options *opts, struct sb_writer *writer, struct sb_buf *err)
{
    memset(app, 0, sizeof(*app));
    app->model = model;
    app->db_path = db_path;
    if (opts)
        app->db_opts = *opts;
    else
        sb_db_options_default(&app->db_opts);
    app->writer = writer;
    app->dialect = &sb_dialect_sqlite;
    app->max_rows = 1000;
    if (pthread_key_create(&app->reader_key, close_reader) != 0) {
        sb_buf_puts(err, "cannot create the reader key");
        return -1;
    }
    app->reader_key_made = true;
    /* the model never changes while serving: describe it once */
    struct sb_buf doc;
    sb_buf_init(&doc);
    if (sb_openapi_render(model, SB_OPENAPI_SERVER_URL, &doc) != 0) {
        sb_buf_free(&doc);
        sb_buf_puts(err, "cannot describe the API");
        return -1;
    }
    app->openapi_len = doc.len;
    app->openapi = sb_buf_take(&doc);
    return sb_auth_init(app, err);
}

void sb_app_free(struct sb_app *app)
{
    sb_auth_free(app);
    free(app->openapi);
    app->openapi = NULL;
    /* the calling thread's reader, if it made one (worker threads close
     * theirs when they exit) */
    if (app->reader_key_made) {
        sqlite3 *db = pthread_getspecific(app->reader_key);
        if (db) {
            close_reader(db);
            pthread_setspecific(app->reader_key, NULL);
        }
        pthread_key_delete(app->reader_key);
        app->reader_key_made = false;
    }
}

sqlite3 *sb_app_reader(struct sb_app *app, struct sb_buf *err)
{
    sqlite3 *db = pthread_getspecific(app->reader_key);
    if (db)
        return db;
    if (sb_db_open(app->db_path, SB_DB_READ, &app->db_opts, &db, err) != 0)
        return NULL;
    pthread_setspecific(app->reader_key, db);
    return db;
}

const struct sb_identity *sb_app_identity(struct sb_app *app, struct sb_http_request *req,
                                          struct sb_api_error *err)
{
    return sb_auth_identity(app, req, err);
}

int sb_app_audit(struct sb_app *app, sqlite3 *db, struct sb_http_request *req, const struct sb_identity *who,
                 enum sb_audit_op op, const char *collection, bool has_row, int64_t row_id, const char *changes)
{
    (void)app;
    char sub[24] = "";
    if (who && who->has_id)
        snprintf(sub, sizeof(sub), "%lld", (long long)who->id);
    struct sb_audit_entry entry = {
        .actor_sub = sub[0] ? sub : NULL,
        .actor_role = who ? who->role : NULL,
        .actor_addr = req ? req->client_addr : NULL,
        .request_id = req ? req->request_id : NULL,
        .op = op,
        .collection = collection,
        .has_row_id = has_row,
        .row_id = row_id,
        .changes = changes,
    };
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_audit_append(db, &entry, &err);
    sb_buf_free(&err);
    return rc == 0 ? 0 : -1;
}

void sb_app_error(struct sb_http_response *resp, const struct sb_api_error *err)
{
    sb_http_response_error(resp, err);
}

static void error_response(struct sb_http_response *resp, int status, const char *code, const char *message)
{
    struct sb_api_error err = {0};
    sb_api_error_set(&err, status, code, "%s", message);
    sb_http_response_error(resp, &err);
    sb_api_error_clear(&err);
}

static void health(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp,
                   bool ready)
{
    resp->content_type = SB_HTTP_JSON;
    if (!ready) {
        sb_buf_puts(&resp->body, "{\"status\":\"ok\"}");
        return;
    }
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = sb_app_reader(app, &err);
    bool ok = db && sqlite3_exec(db, "SELECT 1 FROM _sb_spec LIMIT 1", NULL, NULL, NULL) == SQLITE_OK;
    sb_buf_free(&err);
    (void)req;
    if (!ok) {
        resp->status = 503;
        sb_buf_puts(&resp->body, "{\"status\":\"unavailable\"}");
        return;
    }
    sb_buf_puts(&resp->body, "{\"status\":\"ready\"}");
}

void sb_app_handle(struct sb_http_request *req, struct sb_http_response *resp, void *ctx)
{
    struct sb_app *app = ctx;
    const char *path = req->path;
    if (!strcmp(path, "/_/health"))
        return health(app, req, resp, false);
    if (!strcmp(path, "/_/ready"))
        return health(app, req, resp, true);
    static const char auth_prefix[] = "/auth/v1/";
    if (!strncmp(path, auth_prefix, sizeof(auth_prefix) - 1))
        return sb_auth_handle(app, path + sizeof(auth_prefix) - 1, req, resp);
    static const char prefix[] = "/rest/v1/";
    if (!strcmp(path, "/rest/v1") || !strcmp(path, "/rest/v1/")) {
        if (req->method_id != SB_HTTP_GET && req->method_id != SB_HTTP_HEAD) {
            sb_http_response_header(resp, "Allow", "GET, HEAD");
            error_response(resp, 405, "PGRST117", "Unsupported HTTP method for the API description");
            return;
        }
        resp->content_type = "application/openapi+json; charset=utf-8";
        sb_buf_append(&resp->body, app->openapi, app->openapi_len);
        return;
    }
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0) {
        error_response(resp, 404, "PGRST125", "Invalid path specified in request URL");
        return;
    }
    const char *name = path + sizeof(prefix) - 1;
    /* the schema headers: only "public" exists */
    const char *profile = sb_http_header(req, req->method_id == SB_HTTP_GET || req->method_id == SB_HTTP_HEAD
                                                  ? "Accept-Profile"
                                                  : "Content-Profile");
    if (profile && strcmp(profile, "public") != 0) {
        struct sb_api_error err = {0};
        sb_api_error_set(&err, 406, "PGRST106", "The schema must be one of the following: public");
        sb_http_response_error(resp, &err);
        sb_api_error_clear(&err);
        return;
    }
    if (!strncmp(name, "rpc/", 4))
        return sb_actions_handle(app, name + 4, req, resp);
    if (!*name || strchr(name, '/')) {
        error_response(resp, 404, "PGRST125", "Invalid path specified in request URL");
        return;
    }
    const struct sb_collection *coll = sb_model_collection(app->model, name);
    if (!coll) {
        error_response(resp, 404, "PGRST205",
                       sb_arena_printf(req->arena, "Could not find the table 'public.%s' in the schema cache", name));
        return;
    }
    sb_records_handle(app, coll, req, resp);
}
