/* The records API: GET, HEAD, POST, PATCH and DELETE on
 * /rest/v1/<collection>, with PostgREST's wire conventions (status codes,
 * Prefer, Accept, Range and Content-Range, error bodies).
 *
 * Reads run on the calling worker thread with its own read connection.
 * Writes are validated and compiled on the worker thread, then handed to
 * the single writer as one unit (store/writer.h) and the request is
 * deferred until the group commit that holds it: the worker is free
 * meanwhile, and the answer is sent only once the write is durable.
 *
 * Access rules: reads and the WHERE of updates and deletes carry the
 * collection's rule for the caller; created and updated rows are checked
 * against the create/update rule and the field write rules inside the same
 * unit, before it commits, and a violation rolls the unit back (403). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api/app.h"
#include "api/dberror.h"
#include "api/negotiate.h"
#include "guard/validate.h"
#include "guard/values.h"
#include "query/parse.h"
#include "query/qs.h"
#include "query/sql.h"
#include "store/stmt.h"
#include "util/json_out.h"

#define MEDIA_ROWS ((1u << SB_MEDIA_JSON) | (1u << SB_MEDIA_OBJECT) | (1u << SB_MEDIA_CSV))

/* ---- running statements ------------------------------------------------------ */

typedef int (*row_fn)(sqlite3_stmt *stmt, void *arg);

/* Run sql on db; for each result row call on_row (may be NULL). Returns 0 or
 * SQLite's code (err filled). */
static int run(sqlite3 *db, const struct sb_sql *sql, const struct sb_collection *coll, bool deleting,
               row_fn on_row, void *arg, struct sb_api_error *err)
{
    return sb_api_run(db, sql, coll ? coll->name : NULL, deleting, on_row, arg, NULL, err);
}

/* Rows collected as JSON texts joined by ',' */
struct rows {
    struct sb_buf json;
    size_t n;
    int64_t last_id;
    int64_t *ids;        /* for writes: the affected ids, in order */
    size_t n_ids, cap_ids;
    struct sb_arena *arena;
};

static int collect_json(sqlite3_stmt *stmt, void *arg)
{
    struct rows *rows = arg;
    int col = sqlite3_column_count(stmt) - 1; /* the JSON is the last column */
    if (rows->n)
        sb_buf_putc(&rows->json, ',');
    const unsigned char *text = sqlite3_column_text(stmt, col);
    sb_buf_append(&rows->json, (const char *)(text ? text : (const unsigned char *)"null"),
                  text ? (size_t)sqlite3_column_bytes(stmt, col) : 4);
    rows->n++;
    if (col > 0) { /* writes return the id first */
        int64_t id = sqlite3_column_int64(stmt, 0);
        if (rows->n_ids == rows->cap_ids) {
            size_t cap = rows->cap_ids ? rows->cap_ids * 2 : 16;
            int64_t *ids = sb_arena_alloc(rows->arena, cap * sizeof(*ids));
            if (rows->n_ids)
                memcpy(ids, rows->ids, rows->n_ids * sizeof(*ids));
            rows->ids = ids;
            rows->cap_ids = cap;
        }
        rows->ids[rows->n_ids++] = id;
        rows->last_id = id;
    }
    return rows->json.too_big ? -1 : 0;
}

static int collect_count(sqlite3_stmt *stmt, void *arg)
{
    *(int64_t *)arg = sqlite3_column_int64(stmt, 0);
    return 0;
}

/* ---- CSV ---------------------------------------------------------------------- */

static void csv_field(struct sb_buf *out, const char *text, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = text[i] == ',' || text[i] == '"' || text[i] == '\n' || text[i] == '\r';
    if (!quote) {
        sb_buf_append(out, text, len);
        return;
    }
    sb_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"')
            sb_buf_putc(out, '"');
        sb_buf_putc(out, text[i]);
    }
    sb_buf_putc(out, '"');
}

/* The members of a JSON object text produced by the database: for each,
 * the key (still escaped, as it appears between its quotes) and the raw
 * value text. The input is valid JSON (json_object's output), so this only
 * has to find boundaries: strings are skipped with their escapes, nested
 * values by bracket depth. Raw value text keeps numbers as the database
 * wrote them (49.50, not 49.5). */
struct member {
    const char *key, *value;
    size_t key_len, value_len;
};

static size_t skip_string(const char *s, size_t i, size_t len)
{
    for (i++; i < len && s[i] != '"'; i++)
        if (s[i] == '\\')
            i++;
    return i + 1;
}

static size_t object_members(const char *s, size_t len, struct member *out, size_t max)
{
    size_t n = 0, i = 1; /* past '{' */
    while (i < len && n < max) {
        while (i < len && (s[i] == ',' || s[i] == ' '))
            i++;
        if (i >= len || s[i] != '"')
            break;
        size_t key_end = skip_string(s, i, len);
        out[n].key = s + i + 1;
        out[n].key_len = key_end - i - 2;
        i = key_end + 1; /* the ':' */
        size_t start = i;
        int depth = 0;
        while (i < len) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, i, len);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (depth == 0)
                    break;
                depth--;
            } else if (c == ',' && depth == 0)
                break;
            i++;
        }
        out[n].value = s + start;
        out[n++].value_len = i - start;
    }
    return n;
}

/* A JSON string's text without quotes and escapes, appended to out. */
static void unescape_json(const char *s, size_t len, struct sb_buf *out)
{
    json_t *str = json_loadb(s, len, JSON_DECODE_ANY, NULL);
    if (json_is_string(str))
        sb_buf_append(out, json_string_value(str), json_string_length(str));
    json_decref(str);
}

/* JSON rows -> CSV with a header line (PostgREST's text/csv): strings as
 * their text, null as an empty field, numbers and booleans as written,
 * nested values as their JSON text. */
static int rows_to_csv(const struct rows *rows, const struct sb_collection *coll, struct sb_buf *out,
                       struct sb_api_error *err)
{
    (void)err;
    struct member members[SB_SPEC_MAX_FIELDS + 3];
    struct sb_buf cell;
    sb_buf_init(&cell);
    if (rows->n == 0) {
        bool first = true;
        for (size_t i = 0; i < coll->n_fields; i++) {
            const struct sb_field *f = coll->fields[i];
            if ((f->flags & SB_FIELD_HIDDEN) || f->type.kind == SB_TYPE_PASSWORD)
                continue;
            if (!first)
                sb_buf_putc(out, ',');
            first = false;
            csv_field(out, f->name, strlen(f->name));
        }
    }
    const char *s = rows->json.data;
    size_t len = rows->json.len;
    for (size_t i = 0, r = 0; i < len; r++) {
        /* rows are '{...}' joined by ',' at depth 0 */
        size_t start = i;
        int depth = 0;
        for (; i < len; i++) {
            if (s[i] == '"') {
                i = skip_string(s, i, len) - 1;
                continue;
            }
            if (s[i] == '{' || s[i] == '[')
                depth++;
            else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
                i++;
                break;
            }
        }
        size_t n = object_members(s + start, i - start, members, sizeof(members) / sizeof(members[0]));
        if (r == 0) {
            for (size_t m = 0; m < n; m++) {
                if (m)
                    sb_buf_putc(out, ',');
                sb_buf_reset(&cell);
                sb_buf_putc(&cell, '"');
                sb_buf_append(&cell, members[m].key, members[m].key_len);
                sb_buf_putc(&cell, '"');
                struct sb_buf key;
                sb_buf_init(&key);
                unescape_json(cell.data, cell.len, &key);
                csv_field(out, sb_buf_str(&key), key.len);
                sb_buf_free(&key);
            }
        }
        sb_buf_putc(out, '\n');
        for (size_t m = 0; m < n; m++) {
            if (m)
                sb_buf_putc(out, ',');
            const char *v = members[m].value;
            size_t vl = members[m].value_len;
            if (vl == 4 && !memcmp(v, "null", 4))
                continue;
            if (v[0] == '"') {
                sb_buf_reset(&cell);
                unescape_json(v, vl, &cell);
                csv_field(out, sb_buf_str(&cell), cell.len);
            } else {
                csv_field(out, v, vl);
            }
        }
        while (i < len && s[i] == ',')
            i++;
    }
    sb_buf_free(&cell);
    return 0;
}

/* ---- request parsing shared by every method ----------------------------------- */

struct request {
    struct sb_app *app;
    const struct sb_collection *coll;
    struct sb_http_request *req;
    struct sb_sql_ctx ctx;
    struct sb_query query;
    struct sb_prefer prefer;
    struct sb_accept accept;
    struct sb_api_error err;
};

static int parse_request(struct request *r, unsigned offered)
{
    struct sb_http_request *req = r->req;
    struct sb_qs_pair *pairs = NULL;
    size_t n_pairs = 0;
    if (sb_qs_split(req->arena, req->query, req->query_len, &pairs, &n_pairs, &r->err) != 0)
        return -1;
    if (sb_query_parse(req->arena, pairs, n_pairs, &r->query, &r->err) != 0)
        return -1;
    const char *const *prefer_values = NULL;
    size_t n_prefer = sb_http_header_values(req, "Prefer", &prefer_values);
    if (sb_prefer_parse(prefer_values, n_prefer, &r->prefer, &r->err) != 0)
        return -1;
    if (sb_accept_parse(sb_http_header(req, "Accept"), offered, &r->accept, &r->err) != 0)
        return -1;
    return 0;
}

static void finish_error(struct request *r, struct sb_http_response *resp)
{
    if (r->err.status == 403 && !strcmp(r->err.code, "42501"))
        sb_app_audit_denied(r->app, r->req, r->ctx.who, r->coll->name, &r->err);
    sb_http_response_error(resp, &r->err);
    sb_api_error_clear(&r->err);
}

static void set_content_type(struct request *r, struct sb_http_response *resp)
{
    if (r->accept.media == SB_MEDIA_CSV)
        resp->content_type = "text/csv; charset=utf-8";
    else if (r->accept.media == SB_MEDIA_OBJECT)
        resp->content_type = "application/vnd.pgrst.object+json; charset=utf-8";
    else
        resp->content_type = SB_HTTP_JSON;
}

/* Write the rows as the body in the negotiated media type. Returns -1 with
 * r->err set (406 for a singular response without exactly one row). */
static int write_body(struct request *r, const struct rows *rows, struct sb_http_response *resp)
{
    if (r->accept.media == SB_MEDIA_OBJECT) {
        if (rows->n != 1) {
            sb_api_error_set(&r->err, 406, "PGRST116", "JSON object requested, multiple (or no) rows returned");
            sb_api_error_details(&r->err, "The result contains %zu rows", rows->n);
            return -1;
        }
        sb_buf_append(&resp->body, rows->json.data, rows->json.len);
    } else if (r->accept.media == SB_MEDIA_CSV) {
        if (rows_to_csv(rows, r->coll, &resp->body, &r->err) != 0)
            return -1;
    } else {
        sb_buf_putc(&resp->body, '[');
        if (rows->json.len)
            sb_buf_append(&resp->body, rows->json.data, rows->json.len);
        sb_buf_putc(&resp->body, ']');
    }
    set_content_type(r, resp);
    return 0;
}

static void preference_applied(struct request *r, bool is_write, struct sb_http_response *resp)
{
    struct sb_buf applied;
    sb_buf_init(&applied);
    sb_prefer_applied(&r->prefer, is_write, &applied);
    if (applied.len)
        sb_http_response_header(resp, "Preference-Applied", applied.data);
    sb_buf_free(&applied);
}

/* ---- GET / HEAD ---------------------------------------------------------------- */

static void handle_read(struct request *r, struct sb_http_response *resp)
{
    struct sb_http_request *req = r->req;
    struct sb_read_opts opts = {.nulls_stripped = r->accept.nulls_stripped};
    const struct sb_q_level *root = &r->query.root;
    if (root->has_limit) {
        opts.has_limit = true;
        opts.limit = root->limit;
    }
    if (root->has_offset)
        opts.offset = root->offset;
    int64_t first = 0, last = -1;
    int has_range = sb_range_parse(sb_http_header(req, "Range"), &first, &last, &r->err);
    if (has_range < 0)
        return finish_error(r, resp);
    if (has_range == 1 && !root->has_limit && !root->has_offset) {
        opts.offset = first;
        if (last >= 0) {
            opts.has_limit = true;
            opts.limit = last - first + 1;
        }
    }
    struct sb_sql rows_sql, count_sql;
    sb_sql_init(&rows_sql, req->arena);
    sb_sql_init(&count_sql, req->arena);
    struct rows rows = {.arena = req->arena};
    sb_buf_init(&rows.json);
    int64_t total = 0;
    bool counting = r->prefer.count != SB_COUNT_NONE;
    struct sb_buf msg;
    sb_buf_init(&msg);
    sqlite3 *db = NULL;
    if (sb_sql_read(&r->ctx, r->coll, &r->query, &opts, &rows_sql, &r->err) != 0)
        goto fail;
    if (counting && sb_sql_count(&r->ctx, r->coll, &r->query, &count_sql, &r->err) != 0)
        goto fail;
    int64_t db_start = sb_app_now_us();
    /* the count and the page from one snapshot, which may be the one an
     * earlier request on this thread read, if nothing was written since */
    db = sb_app_read_snapshot(r->app, &msg);
    if (!db) {
        sb_api_error_set(&r->err, 503, "PGRST000", "Could not connect to the database");
        sb_api_error_details(&r->err, "%s", sb_buf_str(&msg));
        goto fail;
    }
    if (counting && run(db, &count_sql, r->coll, false, collect_count, &total, &r->err) != SQLITE_OK)
        goto fail;
    if (run(db, &rows_sql, r->coll, false, collect_json, &rows, &r->err) != SQLITE_OK)
        goto fail;
    sb_app_read_done(r->app, true);
    db = NULL;
    sb_app_db_time(r->app, db_start);
    if (counting && total > 0 && opts.offset > total) {
        sb_api_error_set(&r->err, 416, "PGRST103", "Requested range not satisfiable");
        sb_api_error_details(&r->err, "An offset of %lld was requested, but there are only %lld rows.",
                             (long long)opts.offset, (long long)total);
        sb_http_response_header(resp, "Content-Range", sb_arena_printf(req->arena, "*/%lld", (long long)total));
        goto fail;
    }
    if (write_body(r, &rows, resp) != 0)
        goto fail;
    struct sb_buf range;
    sb_buf_init(&range);
    sb_content_range(opts.offset, (int64_t)rows.n, counting, total, &range);
    sb_http_response_header(resp, "Content-Range", range.data);
    sb_buf_free(&range);
    resp->status = counting && (opts.offset > 0 || (int64_t)rows.n < total) && r->accept.media != SB_MEDIA_OBJECT
                       ? 206
                       : 200;
    preference_applied(r, false, resp);
    sb_buf_free(&msg);
    sb_buf_free(&rows.json);
    sb_sql_free(&rows_sql);
    sb_sql_free(&count_sql);
    return;
fail:
    if (db)
        sb_app_read_done(r->app, false);
    sb_buf_free(&msg);
    sb_buf_free(&rows.json);
    sb_sql_free(&rows_sql);
    sb_sql_free(&count_sql);
    finish_error(r, resp);
}

/* ---- writes --------------------------------------------------------------------- */

enum write_kind { WRITE_INSERT, WRITE_UPDATE, WRITE_DELETE };

/* One write request between the worker that compiled it, the writer thread
 * that runs it and the completion that answers. Lives in the request's
 * arena, which outlives the deferred request. */
struct write_job {
    struct request r;
    enum write_kind kind;
    struct sb_sql *statements;   /* INSERT: one per row; UPDATE/DELETE: one */
    size_t n_statements;
    struct sb_sql check;         /* post-write rule check: ?1 is the row id */
    bool has_check;
    struct sb_sql precheck;      /* updates: count of rows the change would take out of the rule */
    bool has_precheck;
    struct sb_sql check_update;  /* upserts: the check of rows that were updated */
    bool has_check_update;
    bool upsert;                 /* INSERT ... ON CONFLICT */
    bool merge;                  /* ... DO UPDATE (resolution=merge-duplicates, PUT) */
    bool put;
    int64_t max_id_before;       /* upserts: ids above it were inserted */
    size_t n_inserted;
    struct rows rows;            /* RETURNING id, row json */
    const struct sb_rows *written; /* the validated values (create, update), for the audit trail */
    const char **changes;          /* their audit JSON per row of written (audit_changes) */
    bool rolled_back;            /* tx=rollback: answered as if committed */
    struct sb_http_deferred *deferred;
    int64_t queued_us; /* when the unit was queued, for the metrics */
    struct sb_write_unit unit;
};

#define UNIT_FAILED 1   /* err is set */
#define UNIT_ROLLBACK 2 /* tx=rollback: undo, answer as usual */

static int check_rows(sqlite3 *db, struct write_job *job)
{
    /* every written row must satisfy the rule (and field write rules) as
     * stored, defaults applied; an upsert checks inserted rows against the
     * create rule and updated ones against the update rule */
    for (size_t i = 0; i < job->rows.n_ids; i++) {
        bool inserted = !job->upsert || job->rows.ids[i] > job->max_id_before;
        struct sb_sql *check = inserted ? &job->check : &job->check_update;
        if (!(inserted ? job->has_check : job->has_check_update))
            continue;
        check->binds[0].i = job->rows.ids[i];
        int64_t ok = 0;
        if (run(db, check, job->r.coll, false, collect_count, &ok, &job->r.err) != SQLITE_OK)
            return -1;
        if (!ok) {
            sb_api_error_set(&job->r.err, 403, "42501", "new row violates row-level security policy for table \"%s\"",
                             job->r.coll->name);
            return -1;
        }
    }
    return 0;
}

/* A validated value as JSON text for the audit trail. */
static void value_json(const struct sb_field *f, const struct sb_value *v, struct sb_buf *out)
{
    switch (v->kind) {
    case SB_VAL_NULL: sb_buf_puts(out, "null"); break;
    case SB_VAL_INT:
        if (f->type.kind == SB_TYPE_BOOL && !f->type.is_array)
            sb_buf_puts(out, v->i ? "true" : "false");
        else
            sb_buf_printf(out, "%lld", (long long)v->i);
        break;
    case SB_VAL_FLOAT: sb_json_double(out, v->f); break;
    case SB_VAL_TEXT:
        if (f->type.kind == SB_TYPE_JSON || f->type.is_array || f->type.kind == SB_TYPE_DECIMAL)
            sb_buf_append(out, v->text, v->len);
        else
            sb_json_string(out, v->text, v->len);
        break;
    }
}

/* The audit trail's changes JSON of each row of job->written: the values
 * written (pii hashed, passwords never). Built on the request's thread
 * before the write is queued, so that the single writer does not spend its
 * time on JSON and pii hashes, which do not depend on the order of writes. */
static void audit_changes(struct write_job *job)
{
    struct request *r = &job->r;
    const struct sb_rows *w = job->written;
    if (!w || w->n_rows == 0)
        return;
    job->changes = sb_arena_alloc(r->req->arena, w->n_rows * sizeof(*job->changes));
    struct sb_buf changes, value;
    sb_buf_init(&changes);
    sb_buf_init(&value);
    for (size_t row = 0; row < w->n_rows; row++) {
        sb_buf_reset(&changes);
        sb_buf_puts(&changes, "{}");
        for (size_t c = 0; c < w->n_fields; c++) {
            const struct sb_value *v = sb_rows_value(w, row, c);
            if ((v->flags & (SB_VALUE_SECRET | SB_VALUE_DEFAULT)) || w->fields[c]->type.kind == SB_TYPE_PASSWORD)
                continue;
            sb_buf_reset(&value);
            value_json(w->fields[c], v, &value);
            sb_audit_changes_add(&changes, w->fields[c], NULL, value.data, &r->app->audit_key);
        }
        job->changes[row] = sb_arena_strdup(r->req->arena, sb_buf_str(&changes));
    }
    sb_buf_free(&changes);
    sb_buf_free(&value);
}

/* One entry per written row: who, what, which row, and the values written
 * (audit_changes). */
static int audit_rows(sqlite3 *db, struct write_job *job)
{
    struct request *r = &job->r;
    const struct sb_rows *w = job->written;
    int rc = 0;
    for (size_t i = 0; i < job->rows.n_ids && rc == 0; i++) {
        bool inserted = job->kind == WRITE_INSERT && (!job->upsert || job->rows.ids[i] > job->max_id_before);
        enum sb_audit_op op = job->kind == WRITE_DELETE ? SB_AUDIT_OP_DELETE
                            : inserted                  ? SB_AUDIT_OP_CREATE
                                                        : SB_AUDIT_OP_UPDATE;
        size_t row = job->kind == WRITE_INSERT ? i : 0;
        const char *changes = job->changes && w && row < w->n_rows ? job->changes[row] : "{}";
        rc = sb_app_audit(r->app, db, r->req, r->ctx.who, op, r->coll->name, true, job->rows.ids[i], changes);
    }
    return rc;
}

static int write_unit(sqlite3 *db, void *arg)
{
    struct write_job *job = arg;
    struct request *r = &job->r;
    if (job->upsert) {
        /* ids are never reused (AUTOINCREMENT): rows above today's largest
         * id were inserted, the others updated */
        struct sb_sql max;
        sb_sql_init(&max, r->req->arena);
        sb_buf_puts(&max.text, "SELECT coalesce(max(\"id\"), 0) FROM ");
        sb_sql_ident(&max.text, r->coll->name);
        int rc = run(db, &max, r->coll, false, collect_count, &job->max_id_before, &r->err);
        sb_sql_free(&max);
        if (rc != SQLITE_OK)
            return UNIT_FAILED;
    }
    if (job->has_precheck) {
        int64_t breaking = 0;
        if (run(db, &job->precheck, r->coll, false, collect_count, &breaking, &r->err) != SQLITE_OK)
            return UNIT_FAILED;
        if (breaking) {
            sb_api_error_set(&r->err, 403, "42501", "new row violates row-level security policy for table \"%s\"",
                             r->coll->name);
            return UNIT_FAILED;
        }
    }
    for (size_t i = 0; i < job->n_statements; i++)
        if (run(db, &job->statements[i], r->coll, job->kind == WRITE_DELETE, collect_json, &job->rows,
                &r->err) != SQLITE_OK) {
            if (!sb_api_error_is_set(&r->err))
                sb_api_error_set(&r->err, 413, "54000", "the response is too large");
            return UNIT_FAILED;
        }
    if ((job->has_check || job->has_check_update) && check_rows(db, job) != 0)
        return UNIT_FAILED;
    for (size_t i = 0; i < job->rows.n_ids; i++)
        job->n_inserted += !job->upsert || job->rows.ids[i] > job->max_id_before;
    if (r->accept.media == SB_MEDIA_OBJECT && job->rows.n != 1) {
        sb_api_error_set(&r->err, 406, "PGRST116", "JSON object requested, multiple (or no) rows returned");
        sb_api_error_details(&r->err, "The result contains %zu rows", job->rows.n);
        return UNIT_FAILED;
    }
    if (r->prefer.strict && r->prefer.has_max_affected && (int64_t)job->rows.n > r->prefer.max_affected) {
        sb_api_error_set(&r->err, 400, "PGRST124", "Query result exceeds max-affected preference constraint");
        sb_api_error_details(&r->err, "The query affects %zu rows", job->rows.n);
        return UNIT_FAILED;
    }
    if (r->prefer.tx == SB_TX_ROLLBACK) {
        job->rolled_back = true;
        return UNIT_ROLLBACK;
    }
    /* the audit trail, in the same transaction as the change */
    if (audit_rows(db, job) != 0) {
        sb_api_error_set(&r->err, 500, "XX000", "the audit trail could not be written");
        return UNIT_FAILED;
    }
    return 0;
}

static void write_answer(struct write_job *job, struct sb_http_response *resp)
{
    struct request *r = &job->r;
    if (sb_api_error_is_set(&r->err))
        return finish_error(r, resp);
    bool representation = r->prefer.ret == SB_RETURN_REPRESENTATION;
    if (job->put) {
        resp->status = representation ? 200 : 204;
    } else if (job->kind == WRITE_INSERT) {
        /* PostgREST: a merge that inserted nothing is 200 */
        resp->status = job->merge && job->n_inserted == 0 ? 200 : 201;
        if (r->prefer.ret == SB_RETURN_HEADERS_ONLY && job->rows.n_ids) {
            sb_http_response_header(resp, "Location",
                                    sb_arena_printf(r->req->arena, "/%s?id=eq.%lld", r->coll->name,
                                                    (long long)job->rows.ids[job->rows.n_ids - 1]));
        }
    } else {
        resp->status = representation ? 200 : 204;
    }
    if (representation && write_body(r, &job->rows, resp) != 0)
        return finish_error(r, resp);
    bool counting = r->prefer.count != SB_COUNT_NONE;
    const char *range;
    if (job->kind == WRITE_UPDATE && job->rows.n)
        range = counting ? sb_arena_printf(r->req->arena, "0-%zu/%zu", job->rows.n - 1, job->rows.n)
                         : sb_arena_printf(r->req->arena, "0-%zu/*", job->rows.n - 1);
    else
        range = counting ? sb_arena_printf(r->req->arena, "*/%zu", job->rows.n) : "*/*";
    sb_http_response_header(resp, "Content-Range", range);
    preference_applied(r, true, resp);
}

static void write_done(struct sb_write_unit *unit)
{
    struct write_job *job = unit->done_arg;
    struct request *r = &job->r;
    const struct sb_write_result *res = &unit->result;
    if (res->rc != 0 && !(res->rc == SB_STORE_EUNIT && res->unit_rc == UNIT_ROLLBACK) &&
        !sb_api_error_is_set(&r->err)) {
        if (res->rc == SB_STORE_ECLOSED)
            sb_api_error_set(&r->err, 503, "PGRST000", "The server is shutting down");
        else {
            sb_api_error_set(&r->err, 500, "XX000", "the write could not be committed");
            sb_api_error_details(&r->err, "%s", res->message);
        }
    }
    sb_app_db_time(job->r.app, job->queued_us);
    struct sb_http_response *resp = sb_http_deferred_response(job->deferred);
    write_answer(job, resp);
    sb_buf_free(&job->rows.json);
    for (size_t i = 0; i < job->n_statements; i++)
        sb_sql_free(&job->statements[i]);
    sb_sql_free(&job->check);
    sb_sql_free(&job->check_update);
    sb_sql_free(&job->precheck);
    sb_http_complete(job->deferred);
}

/* Queue the job on the writer and defer the answer. */
static void submit(struct write_job *job, struct sb_http_response *resp)
{
    audit_changes(job);
    job->deferred = sb_http_defer(job->r.req);
    job->queued_us = sb_app_now_us();
    job->unit.fn = write_unit;
    job->unit.arg = job;
    job->unit.done = write_done;
    job->unit.done_arg = job;
    if (sb_writer_submit(job->r.app->writer, &job->unit) != 0) {
        sb_api_error_set(&job->r.err, 503, "PGRST000", "The server is shutting down");
        struct sb_http_response *dresp = sb_http_deferred_response(job->deferred);
        (void)resp;
        write_answer(job, dresp);
        sb_http_complete(job->deferred);
    }
}

/* "SELECT 1 FROM coll AS t WHERE t.id = ?1 AND rule AND field write rules"
 * for the rows a write leaves; has_check false when nothing can fail. */
static int build_check(struct write_job *job, unsigned op, const struct sb_rows *written)
{
    struct sb_sql *sql = op == SB_RULE_UPDATE && job->upsert ? &job->check_update : &job->check;
    bool *has = op == SB_RULE_UPDATE && job->upsert ? &job->has_check_update : &job->has_check;
    struct request *r = &job->r;
    const struct sb_collection *coll = r->coll;
    if (r->ctx.who->bypass_rules)
        return 0;
    const struct sb_rule *rule = op == SB_RULE_CREATE ? coll->create_rule : coll->update_rule;
    /* a plain update's rule is decided before it runs (handle_update); only
     * its field write rules are checked on the rows it leaves */
    bool rule_here = op == SB_RULE_CREATE || job->upsert;
    bool needed = rule_here && rule && rule->expr->kind != SB_EXPR_ANYONE;
    for (size_t i = 0; written && i < written->n_fields; i++)
        needed |= written->fields[i]->write_rule != NULL;
    if (!needed)
        return 0;
    sb_buf_puts(&sql->text, "SELECT 1 FROM ");
    sb_sql_ident(&sql->text, coll->name);
    sb_buf_puts(&sql->text, " AS \"t\" WHERE \"t\".\"id\" = ");
    sb_sql_bind_int(sql, 0);
    if (rule_here && sb_sql_rule(&r->ctx, coll, op, "t", sql, &r->err) != 0)
        return -1;
    for (size_t i = 0; written && i < written->n_fields; i++) {
        const struct sb_field *f = written->fields[i];
        if (!f->write_rule)
            continue;
        /* a field write rule is a one-field rule: compile it through the
         * same path by viewing it as the collection's rule */
        struct sb_collection view = *coll;
        view.create_rule = view.update_rule = f->write_rule;
        if (sb_sql_rule(&r->ctx, &view, op, "t", sql, &r->err) != 0)
            return -1;
    }
    *has = true;
    return 0;
}

static const struct sb_query *returning_query(struct request *r)
{
    return &r->query;
}

/* " RETURNING "id", <row json>" */
static int returning(struct request *r, struct sb_sql *sql)
{
    sb_buf_puts(&sql->text, " RETURNING \"id\", ");
    bool wanted = r->prefer.ret == SB_RETURN_REPRESENTATION;
    if (!wanted) {
        sb_buf_puts(&sql->text, "NULL");
        return 0;
    }
    /* qualified by the table name: embedded subqueries refer to the written row */
    return sb_sql_row_json(&r->ctx, r->coll, returning_query(r), r->coll->name, r->accept.nulls_stripped, sql, &r->err);
}

static int refuse_passwords(struct request *r, const struct sb_rows *rows)
{
    for (size_t i = 0; i < rows->n_fields; i++)
        if (rows->fields[i]->type.kind == SB_TYPE_PASSWORD)
            return sb_api_error_set(&r->err, 403, "42501",
                                    "password field '%s' is written only through the auth endpoints",
                                    rows->fields[i]->name);
    return 0;
}

static bool is_json_body(struct sb_http_request *req)
{
    const char *ct = sb_http_header(req, "Content-Type");
    if (!ct)
        return true; /* PostgREST assumes JSON */
    return strncasecmp(ct, "application/json", 16) == 0 || strncasecmp(ct, "*/*", 3) == 0;
}

static struct write_job *new_job(struct request *r, enum write_kind kind)
{
    struct write_job *job = sb_arena_alloc(r->req->arena, sizeof(*job));
    job->r = *r;
    job->kind = kind;
    job->rows.arena = r->req->arena;
    sb_buf_init(&job->rows.json);
    job->rows.json.limit = 64u << 20;
    sb_sql_init(&job->check, r->req->arena);
    sb_sql_init(&job->check_update, r->req->arena);
    sb_sql_init(&job->precheck, r->req->arena);
    return job;
}

/* The value of a default the database cannot compute: auth.* of the caller. */
static void bind_auth_default(struct request *r, const struct sb_expr *d, struct sb_sql *sql)
{
    const struct sb_identity *who = r->ctx.who;
    if (d->ref == SB_REF_AUTH_ID && who->has_id)
        sb_sql_bind_int(sql, who->id);
    else if (d->ref == SB_REF_AUTH_ROLE)
        sb_sql_bind_text(sql, who->role, strlen(who->role));
    else if (d->ref == SB_REF_AUTH_EMAIL && who->email)
        sb_sql_bind_text(sql, who->email, strlen(who->email));
    else
        sb_sql_bind_null(sql);
}

static bool is_auth_default(const struct sb_field *f)
{
    return f->default_expr && f->default_expr->kind == SB_EXPR_MEMBER;
}

/* INSERT INTO coll (cols) VALUES (...) for one validated row. Absent fields
 * take the column's default, except auth.* defaults, bound here. */
static int insert_row(struct request *r, const struct sb_rows *rows, size_t row, struct sb_sql *sql)
{
    const struct sb_collection *coll = r->coll;
    const struct sb_field *cols[SB_SPEC_MAX_FIELDS + 3];
    const struct sb_value *vals[SB_SPEC_MAX_FIELDS + 3];
    size_t n = 0;
    for (size_t c = 0; c < rows->n_fields; c++) {
        const struct sb_value *v = sb_rows_value(rows, row, c);
        if ((v->flags & SB_VALUE_DEFAULT) && !((v->flags & SB_VALUE_COMPUTED) && is_auth_default(rows->fields[c])))
            continue; /* the column default applies */
        cols[n] = rows->fields[c];
        vals[n++] = (v->flags & SB_VALUE_DEFAULT) ? NULL : v;
    }
    for (size_t k = 0; k < coll->n_fields; k++) {
        const struct sb_field *f = coll->fields[k];
        if (!is_auth_default(f))
            continue;
        bool present = false;
        for (size_t c = 0; c < n; c++)
            present |= cols[c] == f;
        if (!present) {
            cols[n] = f;
            vals[n++] = NULL;
        }
    }
    sb_buf_puts(&sql->text, "INSERT INTO ");
    sb_sql_ident(&sql->text, coll->name);
    if (n == 0) {
        sb_buf_puts(&sql->text, " DEFAULT VALUES");
        return 0;
    }
    for (size_t c = 0; c < n; c++) {
        sb_buf_puts(&sql->text, c ? ", " : " (");
        sb_sql_ident(&sql->text, cols[c]->name);
    }
    sb_buf_puts(&sql->text, ") VALUES (");
    for (size_t c = 0; c < n; c++) {
        if (c)
            sb_buf_puts(&sql->text, ", ");
        if (vals[c])
            sb_sql_bind(sql, vals[c]);
        else
            bind_auth_default(r, cols[c]->default_expr, sql);
    }
    sb_buf_putc(&sql->text, ')');
    return 0;
}

/* ---- CSV bodies ------------------------------------------------------------- */

/* One CSV cell as JSON for its field: numbers and booleans as JSON values
 * when they read as such (else a string, which the validator then refuses
 * with the field's type), json and arrays as their JSON text, an empty
 * unquoted cell as null, the rest as strings. */
static void csv_cell_json(const struct sb_field *f, const char *cell, size_t len, bool quoted, struct sb_buf *out)
{
    if (len == 0 && !quoted) {
        sb_buf_puts(out, "null");
        return;
    }
    if (f && !f->type.is_array) {
        enum sb_type_kind k = f->type.kind;
        if (k == SB_TYPE_INT || k == SB_TYPE_REF) {
            int64_t v;
            if (sb_parse_int64(cell, len, &v) == 0) {
                sb_buf_printf(out, "%lld", (long long)v);
                return;
            }
        } else if (k == SB_TYPE_FLOAT) {
            char tmp[64];
            if (len < sizeof(tmp)) {
                memcpy(tmp, cell, len);
                tmp[len] = '\0';
                char *end;
                double d = strtod(tmp, &end);
                if (end != tmp && *end == '\0' && d == d && d - d == 0) {
                    sb_json_double(out, d);
                    return;
                }
            }
        } else if (k == SB_TYPE_BOOL) {
            if ((len == 4 && !strncasecmp(cell, "true", 4)) || (len == 1 && (cell[0] == 't' || cell[0] == '1'))) {
                sb_buf_puts(out, "true");
                return;
            }
            if ((len == 5 && !strncasecmp(cell, "false", 5)) || (len == 1 && (cell[0] == 'f' || cell[0] == '0'))) {
                sb_buf_puts(out, "false");
                return;
            }
        }
    }
    if (f && (f->type.is_array || f->type.kind == SB_TYPE_JSON)) {
        json_t *parsed = json_loadb(cell, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
        if (parsed) {
            json_decref(parsed);
            sb_buf_append(out, cell, len);
            return;
        }
    }
    sb_json_string(out, cell, len);
}

/* Read one CSV cell at *pos (RFC 4180 quoting); returns false at the end of
 * the input. *end_of_row tells whether the cell ended its line. */
static bool csv_next(const char *s, size_t len, size_t *pos, struct sb_buf *cell, bool *quoted, bool *end_of_row)
{
    size_t i = *pos;
    sb_buf_reset(cell);
    *quoted = false;
    if (i >= len)
        return false;
    if (s[i] == '"') {
        *quoted = true;
        for (i++; i < len; i++) {
            if (s[i] == '"') {
                if (i + 1 < len && s[i + 1] == '"') {
                    sb_buf_putc(cell, '"');
                    i++;
                    continue;
                }
                i++;
                break;
            }
            sb_buf_putc(cell, s[i]);
        }
    } else {
        while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r')
            sb_buf_putc(cell, s[i++]);
    }
    *end_of_row = i >= len || s[i] == '\n' || s[i] == '\r';
    if (i < len && s[i] == ',')
        i++;
    else {
        if (i < len && s[i] == '\r')
            i++;
        if (i < len && s[i] == '\n')
            i++;
    }
    *pos = i;
    return true;
}

/* A text/csv body (a header line of field names, then rows) as the JSON
 * array the validator reads. */
static int csv_to_json(const struct sb_collection *coll, const char *body, size_t len, struct sb_buf *out,
                       struct sb_api_error *err)
{
    struct sb_buf cell;
    sb_buf_init(&cell);
    const char *names[SB_SPEC_MAX_FIELDS + 3];
    const struct sb_field *fields[SB_SPEC_MAX_FIELDS + 3];
    size_t n_cols = 0, pos = 0;
    bool quoted, eor = false;
    while (!eor && csv_next(body, len, &pos, &cell, &quoted, &eor)) {
        if (n_cols == SB_SPEC_MAX_FIELDS + 3) {
            sb_buf_free(&cell);
            return sb_api_error_set(err, 400, "PGRST102", "too many CSV columns");
        }
        names[n_cols] = sb_buf_take(&cell);
        fields[n_cols] = sb_collection_field(coll, names[n_cols]);
        n_cols++;
    }
    sb_buf_putc(out, '[');
    size_t row = 0;
    int rc = 0;
    while (rc == 0 && pos < len) {
        size_t col = 0;
        eor = false;
        sb_buf_puts(out, row++ ? ",{" : "{");
        while (!eor && csv_next(body, len, &pos, &cell, &quoted, &eor)) {
            if (col >= n_cols) {
                rc = sb_api_error_set(err, 400, "PGRST102", "CSV row %zu has more cells than the header", row);
                break;
            }
            if (col)
                sb_buf_putc(out, ',');
            sb_json_string(out, names[col], strlen(names[col]));
            sb_buf_putc(out, ':');
            csv_cell_json(fields[col], cell.data ? cell.data : "", cell.len, quoted, out);
            col++;
        }
        if (rc == 0 && col != n_cols)
            rc = sb_api_error_set(err, 400, "PGRST102", "CSV row %zu has %zu cells; the header has %zu", row, col,
                                  n_cols);
        sb_buf_putc(out, '}');
    }
    sb_buf_putc(out, ']');
    for (size_t i = 0; i < n_cols; i++)
        free((char *)names[i]);
    sb_buf_free(&cell);
    if (rc == 0 && row == 0)
        rc = sb_api_error_set(err, 400, "PGRST102", "the CSV body has no rows");
    return rc;
}

static bool has_content_type(struct sb_http_request *req, const char *type)
{
    const char *ct = sb_http_header(req, "Content-Type");
    return ct && strncasecmp(ct, type, strlen(type)) == 0;
}

/* ---- inserts and upserts ------------------------------------------------------- */

/* The on_conflict columns (default: id), which must be a unique key. */
static int conflict_target(struct request *r, const struct sb_field **cols, size_t *n)
{
    const struct sb_collection *coll = r->coll;
    *n = 0;
    if (!r->query.has_on_conflict) {
        cols[(*n)++] = sb_collection_field(coll, "id");
        return 0;
    }
    for (size_t i = 0; i < r->query.n_on_conflict && *n < SB_SPEC_MAX_FIELDS; i++) {
        const struct sb_field *f = sb_sql_visible_field(coll, r->query.on_conflict[i], &r->err);
        if (!f)
            return -1;
        cols[(*n)++] = f;
    }
    bool unique = *n == 1 && (cols[0]->flags & SB_FIELD_UNIQUE);
    for (size_t k = 0; !unique && k < coll->n_indexes; k++) {
        const struct sb_index *ix = coll->indexes[k];
        if (!ix->unique || ix->n_columns != *n)
            continue;
        bool all = true;
        for (size_t i = 0; i < *n; i++) {
            bool in = false;
            for (size_t j = 0; j < ix->n_columns; j++)
                in |= ix->columns[j] == cols[i];
            all &= in;
        }
        unique = all;
    }
    if (!unique)
        return sb_api_error_set(&r->err, 400, "42P10",
                                "there is no unique or exclusion constraint matching the ON CONFLICT specification");
    return 0;
}

/* " ON CONFLICT (cols) DO NOTHING | DO UPDATE SET ... WHERE <update rule>" */
static int upsert_clause(struct write_job *job, const struct sb_field *const *cols, size_t n_cols,
                         const struct sb_rows *rows, struct sb_sql *sql)
{
    struct request *r = &job->r;
    sb_buf_puts(&sql->text, " ON CONFLICT (");
    for (size_t i = 0; i < n_cols; i++) {
        if (i)
            sb_buf_puts(&sql->text, ", ");
        sb_sql_ident(&sql->text, cols[i]->name);
    }
    if (!job->merge) {
        sb_buf_puts(&sql->text, ") DO NOTHING");
        return 0;
    }
    sb_buf_puts(&sql->text, ") DO UPDATE SET ");
    for (size_t c = 0; c < rows->n_fields; c++) {
        const struct sb_field *f = rows->fields[c];
        bool key = false;
        for (size_t i = 0; i < n_cols; i++)
            key |= cols[i] == f;
        if (key)
            continue;
        sb_sql_ident(&sql->text, f->name);
        sb_buf_puts(&sql->text, " = excluded.");
        sb_sql_ident(&sql->text, f->name);
        sb_buf_puts(&sql->text, ", ");
    }
    sb_buf_printf(&sql->text, "\"updated_at\" = %s WHERE 1", r->ctx.dialect->now_sql);
    /* the existing row must be one the caller may update */
    return sb_sql_rule(&r->ctx, r->coll, SB_RULE_UPDATE, r->coll->name, sql, &r->err);
}

/* Validated rows -> the write job: one INSERT per row (upserts with their
 * ON CONFLICT clause), the rule checks, and the unit queued. */
static void insert_rows(struct request *r, struct sb_rows *rows, bool upsert, bool merge, bool put,
                        struct sb_http_response *resp)
{
    struct sb_http_request *req = r->req;
    if (refuse_passwords(r, rows) != 0)
        return finish_error(r, resp);
    if (!r->coll->create_rule && !r->ctx.who->bypass_rules && !(merge && r->coll->update_rule)) {
        /* no rule means deny: refused before anything is written */
        sb_api_error_set(&r->err, 403, "42501", "new row violates row-level security policy for table \"%s\"",
                         r->coll->name);
        return finish_error(r, resp);
    }
    const struct sb_field *cols[SB_SPEC_MAX_FIELDS];
    size_t n_cols = 0;
    if (upsert && conflict_target(r, cols, &n_cols) != 0)
        return finish_error(r, resp);
    struct write_job *job = new_job(r, WRITE_INSERT);
    struct sb_rows *kept = sb_arena_alloc(req->arena, sizeof(*kept));
    *kept = *rows;
    job->written = kept;
    job->upsert = upsert;
    job->merge = merge;
    job->put = put;
    job->statements = sb_arena_alloc(req->arena, (rows->n_rows ? rows->n_rows : 1) * sizeof(*job->statements));
    for (size_t row = 0; row < rows->n_rows; row++) {
        struct sb_sql *sql = &job->statements[job->n_statements++];
        sb_sql_init(sql, req->arena);
        if (insert_row(r, rows, row, sql) != 0 || (upsert && upsert_clause(job, cols, n_cols, rows, sql) != 0) ||
            returning(r, sql) != 0)
            return finish_error(r, resp);
    }
    if (build_check(job, SB_RULE_CREATE, rows) != 0 || (merge && build_check(job, SB_RULE_UPDATE, rows) != 0))
        return finish_error(r, resp);
    submit(job, resp);
}

/* The body as JSON: CSV is converted, other types refused. */
static int json_body(struct request *r, const char **body, size_t *len)
{
    struct sb_http_request *req = r->req;
    *body = req->body ? req->body : "";
    *len = req->body_len;
    if (has_content_type(req, "text/csv")) {
        struct sb_buf json;
        sb_buf_init(&json);
        if (csv_to_json(r->coll, *body, *len, &json, &r->err) != 0) {
            sb_buf_free(&json);
            return -1;
        }
        *body = sb_arena_strndup(req->arena, sb_buf_str(&json), json.len);
        *len = json.len;
        sb_buf_free(&json);
        return 0;
    }
    if (!is_json_body(req))
        return sb_api_error_set(&r->err, 415, "PGRST102", "Content-Type not acceptable: %.100s",
                                sb_http_header(req, "Content-Type"));
    return 0;
}

static void handle_insert(struct request *r, struct sb_http_response *resp)
{
    struct sb_http_request *req = r->req;
    const char *body;
    size_t len;
    if (json_body(r, &body, &len) != 0)
        return finish_error(r, resp);
    bool upsert = r->prefer.resolution != SB_RESOLUTION_NONE;
    struct sb_validate_opts vopts = {.mode = upsert ? SB_VALIDATE_UPSERT : SB_VALIDATE_CREATE,
                                     .max_rows = r->app->max_rows};
    if (r->query.has_columns) {
        vopts.columns = r->query.columns;
        vopts.n_columns = r->query.n_columns;
    }
    struct sb_rows rows;
    if (sb_validate_body(r->coll, body, len, &vopts, req->arena, &rows, &r->err) != 0)
        return finish_error(r, resp);
    insert_rows(r, &rows, upsert, r->prefer.resolution == SB_RESOLUTION_MERGE, false, resp);
}

/* PUT /coll?id=eq.N: the single-row upsert of PostgREST. */
static void handle_put(struct request *r, struct sb_http_response *resp)
{
    struct sb_http_request *req = r->req;
    const struct sb_q_level *root = &r->query.root;
    if (root->has_limit || root->has_offset) {
        sb_api_error_set(&r->err, 400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT");
        return finish_error(r, resp);
    }
    const struct sb_q_cond *w = root->where;
    const struct sb_q_filter *flt = w && w->kind == SB_Q_COND_AND && w->n_children == 1 &&
                                            w->children[0]->kind == SB_Q_COND_FILTER
                                        ? w->children[0]->filter
                                        : NULL;
    int64_t id = 0;
    if (!flt || flt->negate || flt->op != SB_Q_OP_EQ || flt->quant != SB_Q_QUANT_NONE || flt->path.n_steps ||
        strcmp(flt->path.column, "id") != 0 || sb_parse_int64(flt->value, flt->value_len, &id) != 0 || id < 1) {
        sb_api_error_set(&r->err, 405, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators");
        return finish_error(r, resp);
    }
    const char *body;
    size_t len;
    if (json_body(r, &body, &len) != 0)
        return finish_error(r, resp);
    struct sb_validate_opts vopts = {.mode = SB_VALIDATE_UPSERT, .max_rows = 1};
    struct sb_rows rows;
    if (sb_validate_body(r->coll, body, len, &vopts, req->arena, &rows, &r->err) != 0)
        return finish_error(r, resp);
    if (rows.bulk || rows.n_rows != 1) {
        sb_api_error_set(&r->err, 400, "PGRST102", "PUT takes one JSON object");
        return finish_error(r, resp);
    }
    /* the payload's id must be the URL's (PGRST115); a missing one is taken from it */
    const struct sb_field *id_field = sb_collection_field(r->coll, "id");
    bool has_id = false;
    for (size_t c = 0; c < rows.n_fields; c++)
        if (rows.fields[c] == id_field) {
            has_id = true;
            const struct sb_value *v = sb_rows_value(&rows, 0, c);
            if (v->kind != SB_VAL_INT || v->i != id) {
                sb_api_error_set(&r->err, 400, "PGRST115", "Payload values do not match URL in primary key column(s)");
                return finish_error(r, resp);
            }
        }
    if (!has_id) {
        struct sb_rows with_id = rows;
        with_id.fields = sb_arena_alloc(req->arena, (rows.n_fields + 1) * sizeof(*with_id.fields));
        with_id.values = sb_arena_alloc(req->arena, (rows.n_fields + 1) * sizeof(*with_id.values));
        with_id.fields[0] = id_field;
        with_id.values[0] = (struct sb_value){.kind = SB_VAL_INT, .i = id};
        for (size_t c = 0; c < rows.n_fields; c++) {
            with_id.fields[c + 1] = rows.fields[c];
            with_id.values[c + 1] = rows.values[c];
        }
        with_id.n_fields = rows.n_fields + 1;
        rows = with_id;
    }
    insert_rows(r, &rows, true, true, true, resp);
}

static void handle_update(struct request *r, struct sb_http_response *resp)
{
    struct sb_http_request *req = r->req;
    if (!is_json_body(req)) {
        sb_api_error_set(&r->err, 415, "PGRST102", "Content-Type not acceptable: %.100s",
                         sb_http_header(req, "Content-Type"));
        return finish_error(r, resp);
    }
    struct sb_validate_opts vopts = {.mode = SB_VALIDATE_UPDATE, .max_rows = 1};
    struct sb_rows rows;
    if (sb_validate_body(r->coll, req->body ? req->body : "", req->body_len, &vopts, req->arena, &rows, &r->err) != 0)
        return finish_error(r, resp);
    if (rows.bulk || rows.n_rows != 1) {
        sb_api_error_set(&r->err, 400, "PGRST102", "PATCH takes one JSON object");
        return finish_error(r, resp);
    }
    if (refuse_passwords(r, &rows) != 0)
        return finish_error(r, resp);
    struct write_job *job = new_job(r, WRITE_UPDATE);
    struct sb_rows *kept = sb_arena_alloc(req->arena, sizeof(*kept));
    *kept = rows;
    job->written = kept;
    job->statements = sb_arena_alloc(req->arena, sizeof(*job->statements));
    job->n_statements = 1;
    struct sb_sql *sql = &job->statements[0];
    sb_sql_init(sql, req->arena);
    sb_buf_puts(&sql->text, "UPDATE ");
    sb_sql_ident(&sql->text, r->coll->name);
    sb_buf_puts(&sql->text, " AS \"t\" SET ");
    for (size_t c = 0; c < rows.n_fields; c++) {
        sb_sql_ident(&sql->text, rows.fields[c]->name);
        sb_buf_puts(&sql->text, " = ");
        sb_sql_bind(sql, sb_rows_value(&rows, 0, c));
        sb_buf_puts(&sql->text, ", ");
    }
    sb_buf_printf(&sql->text, "\"updated_at\" = %s WHERE 1", r->ctx.dialect->now_sql);
    /* the rows the rule lets the caller change, judged as they are now
     * (new.f is the value written); and, checked first in the same unit,
     * none of them may leave the rule as it will be (403, nothing written) */
    const struct sb_value *patch = sb_rows_value(&rows, 0, 0);
    if (sb_sql_update_rule(&r->ctx, r->coll, SB_ROW_BEFORE, "t", rows.fields, patch, rows.n_fields, sql, &r->err) != 0 ||
        sb_sql_filters(&r->ctx, r->coll, &r->query, "t", sql, &r->err) != 0 || returning(r, sql) != 0 ||
        build_check(job, SB_RULE_UPDATE, &rows) != 0)
        return finish_error(r, resp);
    const struct sb_rule *rule = r->coll->update_rule;
    if (!r->ctx.who->bypass_rules && rule && rule->expr->kind != SB_EXPR_ANYONE) {
        struct sb_sql *pre = &job->precheck;
        sb_buf_puts(&pre->text, "SELECT count(*) FROM ");
        sb_sql_ident(&pre->text, r->coll->name);
        sb_buf_puts(&pre->text, " AS \"t\" WHERE 1");
        struct sb_sql after;
        sb_sql_piece(&after, pre);
        if (sb_sql_update_rule(&r->ctx, r->coll, SB_ROW_BEFORE, "t", rows.fields, patch, rows.n_fields, pre, &r->err) != 0 ||
            sb_sql_filters(&r->ctx, r->coll, &r->query, "t", pre, &r->err) != 0 ||
            sb_sql_update_rule(&r->ctx, r->coll, SB_ROW_AFTER, "t", rows.fields, patch, rows.n_fields, &after, &r->err) != 0) {
            sb_sql_free(&after);
            return finish_error(r, resp);
        }
        /* after is " AND (rule)": the rows that break it */
        sb_buf_puts(&pre->text, " AND NOT (1");
        sb_buf_append(&pre->text, after.text.data, after.text.len);
        sb_buf_puts(&pre->text, ")");
        sb_sql_free(&after);
        job->has_precheck = true;
    }
    submit(job, resp);
}

static void handle_delete(struct request *r, struct sb_http_response *resp)
{
    struct sb_http_request *req = r->req;
    struct write_job *job = new_job(r, WRITE_DELETE);
    job->statements = sb_arena_alloc(req->arena, sizeof(*job->statements));
    job->n_statements = 1;
    struct sb_sql *sql = &job->statements[0];
    sb_sql_init(sql, req->arena);
    sb_buf_puts(&sql->text, "DELETE FROM ");
    sb_sql_ident(&sql->text, r->coll->name);
    sb_buf_puts(&sql->text, " AS \"t\" WHERE 1");
    if (sb_sql_rule(&r->ctx, r->coll, SB_RULE_DELETE, "t", sql, &r->err) != 0 ||
        sb_sql_filters(&r->ctx, r->coll, &r->query, "t", sql, &r->err) != 0 || returning(r, sql) != 0)
        return finish_error(r, resp);
    submit(job, resp);
}

void sb_records_handle(struct sb_app *app, const struct sb_collection *coll, struct sb_http_request *req,
                       struct sb_http_response *resp)
{
    struct request r = {.app = app, .coll = coll, .req = req};
    const struct sb_identity *who = sb_app_identity(app, req, &r.err);
    if (!who) {
        const char *www = sb_jwt_www_authenticate(&r.err, req->arena);
        if (www)
            sb_http_response_header(resp, "WWW-Authenticate", www);
        return finish_error(&r, resp);
    }
    r.ctx = (struct sb_sql_ctx){.model = app->model, .dialect = app->dialect, .who = who, .arena = req->arena};
    switch (req->method_id) {
    case SB_HTTP_GET:
    case SB_HTTP_HEAD:
    case SB_HTTP_POST:
    case SB_HTTP_PUT:
    case SB_HTTP_PATCH:
    case SB_HTTP_DELETE:
        break;
    default:
        sb_http_response_header(resp, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE");
        sb_api_error_set(&r.err, 405, "PGRST117", "Unsupported HTTP method: %s", req->method);
        return finish_error(&r, resp);
    }
    if (parse_request(&r, MEDIA_ROWS) != 0)
        return finish_error(&r, resp);
    switch (req->method_id) {
    case SB_HTTP_GET:
    case SB_HTTP_HEAD:
        return handle_read(&r, resp);
    case SB_HTTP_POST:
        return handle_insert(&r, resp);
    case SB_HTTP_PUT:
        return handle_put(&r, resp);
    case SB_HTTP_PATCH:
        return handle_update(&r, resp);
    default:
        return handle_delete(&r, resp);
    }
}
