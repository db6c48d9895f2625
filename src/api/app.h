/* The application behind the HTTP layer: the checked model, the database
 * (one writer, a read connection per worker thread) and the request router.
 * serve (cli/serve.c) builds one and hands sb_app_handle to the HTTP
 * server; the handlers (records.c, ...) receive it as their context. */
#ifndef SB_API_APP_H
#define SB_API_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include <sqlite3.h>

#include "api/metrics.h"
#include "auth/hashpool.h"
#include "auth/jwt.h"
#include "auth/throttle.h"
#include "guard/threat.h"
#include "http/server.h"
#include "store/audit.h"
#include "query/sql.h"
#include "spec/model.h"
#include "store/db.h"
#include "store/writer.h"

struct sb_app {
    const struct sb_model *model;   /* borrowed, checked */
    const char *db_path;            /* borrowed */
    struct sb_db_options db_opts;
    struct sb_writer *writer;       /* borrowed */
    const struct sb_dialect *dialect;
    pthread_key_t reader_key;       /* this thread's struct sb_db_reader */
    bool reader_key_made;
    struct sb_db_snapshots *snapshots; /* owned: the readers, their snapshots */
    size_t max_rows;                /* rows per bulk insert */
    char spec_hash[65];             /* the served model's hash, as _sb_spec stores it */
    char *openapi;                  /* owned: the OpenAPI document, made once */
    size_t openapi_len;
    /* accounts (api/auth.c) */
    struct sb_jwt_keys keys;        /* the HS256 secret and outside public keys */
    bool keys_ready;
    struct sb_hashpool *hashpool;   /* owned: password hashing off the workers */
    struct sb_throttle *throttle;   /* owned: sign-in failures */
    int64_t token_ttl;              /* access token lifetime, seconds */
    const char *audience;           /* required aud of tokens (SPECBASE_JWT_AUD), or NULL */
    struct sb_audit_key audit_key;  /* keys the hashes of pii values in the audit trail */
    const struct sb_collection *users; /* the auth block's collection, or NULL */
    /* the guard and the metrics (api/app.c) */
    struct sb_guard *guard;         /* owned: rate limits, threat events, bans */
    struct sb_metrics *metrics;     /* owned: counters for /_/metrics */
    char *metrics_token;            /* owned: SPECBASE_METRICS_TOKEN, or NULL */
    int64_t ban_s[SB_THREAT_N_KINDS]; /* how long a ban for each event kind lasts */
    _Atomic(struct sb_http_server *) server; /* for its counters; set by sb_app_serving */
};

/* Prepare app for serving model from db_path (the writer is opened by the
 * caller). Returns 0, or -1 with a message in err. */
int sb_app_init(struct sb_app *app, const struct sb_model *model, const char *db_path,
                const struct sb_db_options *opts, struct sb_writer *writer, struct sb_buf *err);
/* The server that runs app's handler, for the metrics (set after
 * sb_http_start, cleared before sb_http_stop). */
void sb_app_serving(struct sb_app *app, struct sb_http_server *server);
/* Set cfg's observer to app's (guard bursts and request metrics). */
void sb_app_observe(struct sb_app *app, struct sb_http_config *cfg);

/* Release what sb_app_init made (after the HTTP server stopped and the
 * writer closed: the writer counts its batches in app's metrics). */
void sb_app_free(struct sb_app *app);

/* Record in the audit trail (op rule_denied, in a transaction of its own,
 * not waited for) that a rule refused who's request on collection (or
 * action) with err (403 42501). */
void sb_app_audit_denied(struct sb_app *app, struct sb_http_request *req, const struct sb_identity *who,
                         const char *collection, const struct sb_api_error *err);

/* Microseconds on the monotonic clock, for sb_app_db_time. */
int64_t sb_app_now_us(void);
/* Count the database time of one request that started at since_us
 * (sb_app_now_us) in the metrics. */
void sb_app_db_time(struct sb_app *app, int64_t since_us);

/* The HTTP handler: ctx is the struct sb_app. */
void sb_app_handle(struct sb_http_request *req, struct sb_http_response *resp, void *ctx);

/* This thread's read connection (opened on first use) with no transaction
 * open, or NULL with a message in err. */
sqlite3 *sb_app_reader(struct sb_app *app, struct sb_buf *err);
/* This thread's read connection inside a read transaction that sees every
 * write answered so far (a snapshot kept from an earlier request while the
 * writer has committed nothing since), or NULL with a message in err. The
 * caller ends its use with sb_app_read_done (keep false after an error)
 * and runs no BEGIN/COMMIT of its own on it. */
sqlite3 *sb_app_read_snapshot(struct sb_app *app, struct sb_buf *err);
void sb_app_read_done(struct sb_app *app, bool keep);

/* The identity of a request's caller, or NULL with err set (a token that
 * fails verification: 401). */
const struct sb_identity *sb_app_identity(struct sb_app *app, struct sb_http_request *req,
                                          struct sb_api_error *err);

/* GET /_/audit, the audit trail for the roles the spec allows
 * (audit_api.c). */
void sb_audit_api_handle(struct sb_app *app, struct sb_http_request *req, struct sb_http_response *resp);

/* Handlers of /rest/v1/<collection> (records.c). */
void sb_records_handle(struct sb_app *app, const struct sb_collection *coll,
                       struct sb_http_request *req, struct sb_http_response *resp);

/* Append an audit entry for req's caller inside the current write unit
 * (db is the writer's connection). Returns 0 or -1 (the unit must fail). */
int sb_app_audit(struct sb_app *app, sqlite3 *db, struct sb_http_request *req, const struct sb_identity *who,
                 enum sb_audit_op op, const char *collection, bool has_row, int64_t row_id, const char *changes);

/* Answer with err (borrowed) in PostgREST's shape. */
void sb_app_error(struct sb_http_response *resp, const struct sb_api_error *err);

#endif
