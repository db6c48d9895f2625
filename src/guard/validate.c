/* Request-body and filter validation (see validate.h). A body goes through
 * four gates, each refusing with the matching PostgREST error: a scan for
 * nesting depth and row count before any parsing (so a bomb costs one pass
 * over the bytes), jansson's strict parse (duplicate keys and \u0000
 * refused), the shape of the body and its keys, then every value of every
 * row, converted by guard/values.c and checked by the spec's field and row
 * checks through spec/eval.c. Failures are collected, not returned on the
 * first, so that one response tells the client everything to fix. */
#include "guard/validate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "guard/values.h"
#include "spec/eval.h"
#include "spec/fmt.h"
#include "util/buf.h"

#define MAX_LISTED 100 /* failures kept for the response (all are counted) */
#define MAX_KEY_SHOWN 64 /* bytes of a client's key quoted in a message */

enum default_kind { DEFAULT_NONE, DEFAULT_LITERAL, DEFAULT_COMPUTED };

struct failure {
    const char *field;
    const char *rule;
    const char *message;
};

struct validator {
    const struct sb_collection *coll;
    const struct sb_validate_opts *opts;
    struct sb_arena *arena;
    struct failure listed[MAX_LISTED];
    size_t n_listed, n_failures;
    const char *first_unknown;     /* a key or column with no field */
    const struct sb_field **by_name; /* the collection's fields sorted by name */
    /* per field (by index) */
    enum default_kind *default_kind;
    struct sb_value *defaults;     /* literal defaults in storage form */
    /* per check (field checks by field index, then row checks), made when
     * a check first fails: its text and the fields it is reported on */
    const char **check_text;
    const char **check_field;
};

static void add_failure(struct validator *v, const char *field, const char *rule, const char *message)
{
    if (v->n_listed < MAX_LISTED)
        v->listed[v->n_listed++] = (struct failure){field, rule, message};
    v->n_failures++;
}

/* Where a failure of field name in a row is reported: "name", "[3].name",
 * "[3].tags[1]". Made only for failures. */
static const char *path_of(struct validator *v, const char *prefix, const char *name, const char *suffix)
{
    if (!*prefix && !*suffix)
        return name;
    return sb_arena_printf(v->arena, "%s%s%s", prefix, name, suffix);
}

/* A client's key as shown in messages: at most MAX_KEY_SHOWN bytes, cut on a
 * character boundary. */
static const char *shown_key(struct sb_arena *arena, const char *key)
{
    size_t len = strlen(key);
    if (len <= MAX_KEY_SHOWN)
        return key;
    size_t n = MAX_KEY_SHOWN;
    while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
        n--;
    return sb_arena_printf(arena, "%.*s...", (int)n, key);
}

static int by_name_cmp(const void *a, const void *b)
{
    const struct sb_field *const *fa = a, *const *fb = b;
    return strcmp((*fa)->name, (*fb)->name);
}

static const struct sb_field *find_field(const struct validator *v, const char *name)
{
    size_t lo = 0, hi = v->coll->n_fields;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, v->by_name[mid]->name);
        if (c == 0)
            return v->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool is_system_field(const struct sb_field *f, const char *name)
{
    return (f->flags & SB_FIELD_SYSTEM) && strcmp(f->name, name) == 0;
}

/* ---- defaults ---------------------------------------------------------------- */

/* A default written as a constant, as JSON; NULL when it is computed at
 * write time (now(), today(), auth.*) or is constant arithmetic. */
static json_t *literal_json(const struct sb_expr *e)
{
    switch (e->kind) {
    case SB_EXPR_INT: return json_integer((json_int_t)e->ival);
    case SB_EXPR_FLOAT: return json_real(e->fval);
    case SB_EXPR_STRING: return json_stringn(e->text ? e->text : "", e->text_len);
    case SB_EXPR_BOOL: return json_boolean(e->bval);
    case SB_EXPR_NULL: return json_null();
    case SB_EXPR_UNARY:
        if (e->op == SB_OP_NEG && e->left->kind == SB_EXPR_INT)
            return json_integer(-(json_int_t)e->left->ival);
        if (e->op == SB_OP_NEG && e->left->kind == SB_EXPR_FLOAT)
            return json_real(-e->left->fval);
        return NULL;
    case SB_EXPR_LIST: {
        json_t *array = json_array();
        for (size_t i = 0; i < e->n_args; i++) {
            json_t *item = literal_json(e->args[i]);
            if (!item) {
                json_decref(array);
                return NULL;
            }
            json_array_append_new(array, item);
        }
        return array;
    }
    default:
        return NULL;
    }
}

/* Constant arithmetic (default 60 * 60) evaluated once, as JSON. */
static json_t *constant_json(const struct sb_expr *e, struct sb_arena *arena)
{
    struct sb_eval_env env = {.arena = arena};
    struct sb_value value;
    if (sb_eval(e, &env, &value) != 0)
        return NULL;
    switch (value.kind) {
    case SB_VAL_NULL: return json_null();
    case SB_VAL_INT:
        return e->vtype.kind == SB_V_BOOL ? json_boolean(value.i) : json_integer((json_int_t)value.i);
    case SB_VAL_FLOAT: return json_real(value.f);
    case SB_VAL_TEXT: return json_stringn(value.text, value.len);
    }
    return NULL;
}

static void ignore_failure(struct sb_value_sink *sink, const char *suffix, const char *rule,
                           const char *message)
{
    (void)sink, (void)suffix, (void)rule, (void)message;
}

/* The storage value of each field's default, when it is a constant. A
 * default the converter refuses (the checker should have caught it) is
 * left to the database, as computed. */
static void prepare_defaults(struct validator *v)
{
    size_t n = v->coll->n_fields;
    v->default_kind = sb_arena_alloc(v->arena, n * sizeof(*v->default_kind));
    v->defaults = sb_arena_alloc(v->arena, n * sizeof(*v->defaults));
    for (size_t i = 0; i < n; i++) {
        const struct sb_field *f = v->coll->fields[i];
        v->default_kind[i] = DEFAULT_NONE;
        if (!f->default_expr)
            continue;
        json_t *json = literal_json(f->default_expr);
        if (!json)
            json = constant_json(f->default_expr, v->arena);
        v->default_kind[i] = DEFAULT_COMPUTED;
        if (!json)
            continue;
        struct sb_value_sink quiet = {ignore_failure};
        if (json_is_null(json)) {
            v->default_kind[i] = DEFAULT_LITERAL;
        } else if (sb_value_from_json(&f->type, json, v->arena, &v->defaults[i], &quiet) == 0) {
            v->default_kind[i] = DEFAULT_LITERAL;
            v->defaults[i].flags &= ~(unsigned)SB_VALUE_SECRET;
        }
        json_decref(json);
    }
}

/* ---- checks -------------------------------------------------------------------- */

static const char *expr_text(struct sb_arena *arena, const struct sb_expr *e)
{
    struct sb_buf text;
    sb_buf_init(&text);
    sb_spec_format_expr(e, &text);
    const char *s = sb_arena_strndup(arena, sb_buf_str(&text), text.len);
    sb_buf_free(&text);
    return s;
}

static void mark_fields(const struct sb_expr *e, unsigned char *seen)
{
    if (!e)
        return;
    if (e->kind == SB_EXPR_NAME && e->ref == SB_REF_FIELD && e->field)
        seen[e->field->index] = 1;
    mark_fields(e->left, seen);
    mark_fields(e->right, seen);
    for (size_t i = 0; i < e->n_args; i++)
        mark_fields(e->args[i], seen);
}

/* The fields a row check names, "a,b" in model order: where its failure is
 * reported. */
static const char *row_check_fields(struct validator *v, const struct sb_expr *e)
{
    unsigned char *seen = sb_arena_alloc(v->arena, v->coll->n_fields);
    mark_fields(e, seen);
    struct sb_buf names;
    sb_buf_init(&names);
    for (size_t i = 0; i < v->coll->n_fields; i++)
        if (seen[i])
            sb_buf_printf(&names, "%s%s", names.len ? "," : "", v->coll->fields[i]->name);
    const char *s = sb_arena_strdup(v->arena, names.len ? sb_buf_str(&names) : v->coll->name);
    sb_buf_free(&names);
    return s;
}

/* Evaluate one check over the row; on a failure, record it against the
 * field fails_at (made only then, it costs an allocation). A check whose
 * result the known values do not decide is left to the database. */
static void run_check(struct validator *v, const struct sb_expr *check, size_t slot,
                      const char *prefix, const char *field, const struct sb_eval_env *env)
{
    bool passed = true;
    int rc = sb_eval_check(check, env, &passed);
    if (rc == 0 && passed)
        return;
    if (rc != 0 && rc != SB_EVAL_EOVERFLOW && rc != SB_EVAL_EDIVZERO)
        return;
    if (!v->check_text[slot])
        v->check_text[slot] = expr_text(v->arena, check);
    if (!field) {
        if (!v->check_field[slot])
            v->check_field[slot] = row_check_fields(v, check);
        field = v->check_field[slot];
    }
    const char *path = path_of(v, prefix, field, "");
    if (rc == 0)
        add_failure(v, path, "check", sb_arena_printf(v->arena, "must satisfy %s", v->check_text[slot]));
    else
        add_failure(v, path, "check",
                    sb_arena_printf(v->arena, "cannot satisfy %s: %s", v->check_text[slot], sb_eval_strerror(rc)));
}

static void run_checks(struct validator *v, const char *prefix, const struct sb_eval_env *env)
{
    const struct sb_collection *coll = v->coll;
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *f = coll->fields[i];
        if (f->check)
            run_check(v, f->check, i, prefix, f->name, env);
    }
    for (size_t i = 0; i < coll->n_checks; i++)
        if (coll->checks[i]->expr)
            run_check(v, coll->checks[i]->expr, coll->n_fields + i, prefix, NULL, env);
}

/* ---- values ------------------------------------------------------------------------ */

struct field_sink {
    struct sb_value_sink base;
    struct validator *v;
    const char *prefix, *name;
};

static void field_fail(struct sb_value_sink *sink, const char *suffix, const char *rule,
                       const char *message)
{
    struct field_sink *fs = (struct field_sink *)sink;
    add_failure(fs->v, path_of(fs->v, fs->prefix, fs->name, suffix), rule, message);
}

/* Validate the given (non-absent) JSON value of f into *slot. Returns 0 when
 * it is valid. */
static int field_value(struct validator *v, const struct sb_field *f, const json_t *json,
                       const char *prefix, struct sb_value *slot)
{
    memset(slot, 0, sizeof(*slot));
    if (json_is_null(json)) {
        if (f->flags & SB_FIELD_REQUIRED) {
            add_failure(v, path_of(v, prefix, f->name, ""), "required", "is required and cannot be null");
            return -1;
        }
        return 0;
    }
    struct sb_type type = f->type;
    if (is_system_field(f, "id")) { /* explicit ids are positive */
        type.has_min = true;
        type.min = 1;
    }
    struct field_sink sink = {{field_fail}, v, prefix, f->name};
    return sb_value_from_json(&type, json, v->arena, slot, &sink.base);
}

/* ---- the body ------------------------------------------------------------------------- */

static int body_error(struct sb_api_error *err, int status, const char *code, const char *message)
{
    return sb_api_error_set(err, status, code, "%s", message);
}

/* Do all objects of a bulk body have the keys of the first? */
static bool keys_match(json_t *const *objects, size_t n_rows)
{
    const json_t *first = objects[0];
    for (size_t r = 1; r < n_rows; r++) {
        const char *key;
        json_t *item;
        if (json_object_size(objects[r]) != json_object_size(first))
            return false;
        json_object_foreach(objects[r], key, item) {
            if (!json_object_get(first, key))
                return false;
        }
    }
    return true;
}

static void unknown(struct validator *v, const char *key)
{
    const char *shown = shown_key(v->arena, key);
    if (!v->first_unknown)
        v->first_unknown = shown;
    add_failure(v, shown, "unknown", sb_arena_printf(v->arena, "is not a field of %s", v->coll->name));
}

/* Mark the fields the body writes in used[] (by index); report unknown
 * keys and fields the caller may not write. */
static void select_fields(struct validator *v, json_t *first, bool *used)
{
    const struct sb_validate_opts *opts = v->opts;
    if (opts->columns) {
        for (size_t i = 0; i < opts->n_columns; i++) {
            const struct sb_field *f = find_field(v, opts->columns[i]);
            if (!f) {
                unknown(v, opts->columns[i]);
                continue;
            }
            /* a patch writes only the columns its object has */
            if (opts->mode != SB_VALIDATE_UPDATE || json_object_get(first, f->name))
                used[f->index] = true;
        }
    } else {
        const char *key;
        json_t *item;
        json_object_foreach(first, key, item) {
            const struct sb_field *f = find_field(v, key);
            if (f)
                used[f->index] = true;
            else
                unknown(v, key);
        }
    }
    for (size_t i = 0; i < v->coll->n_fields; i++) {
        const struct sb_field *f = v->coll->fields[i];
        if (!used[i])
            continue;
        if (is_system_field(f, "id")) {
            if (opts->mode == SB_VALIDATE_UPDATE) {
                add_failure(v, f->name, "readonly", "cannot be changed");
                used[i] = false;
            }
        } else if (f->flags & SB_FIELD_SYSTEM) {
            add_failure(v, f->name, "readonly", "is set by the server");
            used[i] = false;
        } else if ((f->flags & SB_FIELD_READONLY) && !opts->allow_readonly) {
            add_failure(v, f->name, "readonly", "is read-only");
            used[i] = false;
        }
    }
}

static bool needs_value(const struct validator *v, const struct sb_field *f)
{
    return (f->flags & SB_FIELD_REQUIRED) && !(f->flags & SB_FIELD_SYSTEM) &&
           v->default_kind[f->index] == DEFAULT_NONE;
}

/* The row every create starts from: literal defaults known, computed ones
 * (and the server's id and timestamps) unknown, the rest null. */
static void row_template(const struct validator *v, struct sb_value *row, unsigned char *known)
{
    for (size_t i = 0; i < v->coll->n_fields; i++) {
        const struct sb_field *f = v->coll->fields[i];
        memset(&row[i], 0, sizeof(row[i]));
        if (v->opts->mode == SB_VALIDATE_UPDATE) {
            known[i] = 0;
        } else if (v->default_kind[i] == DEFAULT_LITERAL) {
            row[i] = v->defaults[i];
            known[i] = 1;
        } else {
            known[i] = v->default_kind[i] == DEFAULT_NONE && !(f->flags & SB_FIELD_SYSTEM);
        }
    }
}

static void fill_error(struct validator *v, struct sb_api_error *err)
{
    bool all_type = true, all_required = true;
    for (size_t i = 0; i < v->n_listed; i++) {
        all_type = all_type && !strcmp(v->listed[i].rule, "type");
        all_required = all_required && !strcmp(v->listed[i].rule, "required");
    }
    if (v->n_listed < v->n_failures)
        all_type = all_required = false;
    if (v->first_unknown)
        sb_api_error_set(err, 400, "PGRST204", "Could not find the '%s' column of '%s' in the schema cache",
                         v->first_unknown, v->coll->name);
    else
        sb_api_error_set(err, 400, all_type ? "22P02" : all_required ? "23502" : "23514",
                         "Invalid data for '%s': %zu field%s failed validation", v->coll->name,
                         v->n_failures, v->n_failures == 1 ? "" : "s");
    struct sb_buf details;
    sb_buf_init(&details);
    for (size_t i = 0; i < v->n_listed; i++) {
        const struct failure *f = &v->listed[i];
        sb_api_error_field(err, f->field, f->rule, "%s", f->message);
        sb_buf_printf(&details, "%s%s: %s", i ? "; " : "", f->field, f->message);
    }
    if (v->n_failures > v->n_listed)
        sb_buf_printf(&details, "; and %zu more", v->n_failures - v->n_listed);
    sb_api_error_details(err, "%s", sb_buf_str(&details));
    sb_buf_free(&details);
}

static int validate_rows(struct validator *v, json_t *const *objects, size_t n_rows, bool bulk,
                         struct sb_rows *out, struct sb_api_error *err)
{
    const struct sb_collection *coll = v->coll;
    const struct sb_validate_opts *opts = v->opts;
    bool creating = opts->mode != SB_VALIDATE_UPDATE;
    bool *used = sb_arena_alloc(v->arena, coll->n_fields * sizeof(*used));
    if (bulk && !opts->columns && !keys_match(objects, n_rows))
        return body_error(err, 400, "PGRST102", "All object keys must match");
    select_fields(v, objects[0], used);
    prepare_defaults(v);
    if (creating)
        for (size_t i = 0; i < coll->n_fields; i++)
            if (!used[i] && needs_value(v, coll->fields[i]))
                add_failure(v, coll->fields[i]->name, "required", "is required");

    size_t n_fields = 0;
    for (size_t i = 0; i < coll->n_fields; i++)
        n_fields += used[i];
    const struct sb_field **fields = sb_arena_alloc(v->arena, (n_fields + 1) * sizeof(*fields));
    for (size_t i = 0, c = 0; i < coll->n_fields; i++)
        if (used[i])
            fields[c++] = coll->fields[i];
    struct sb_value *values = sb_arena_alloc(v->arena, (n_rows * n_fields + 1) * sizeof(*values));
    struct sb_value *row = sb_arena_alloc(v->arena, coll->n_fields * sizeof(*row));
    unsigned char *known = sb_arena_alloc(v->arena, coll->n_fields);
    v->check_text = sb_arena_alloc(v->arena, (coll->n_fields + coll->n_checks + 1) * sizeof(*v->check_text));
    v->check_field = sb_arena_alloc(v->arena, (coll->n_fields + coll->n_checks + 1) * sizeof(*v->check_field));
    bool has_defaults = false;

    for (size_t r = 0; r < n_rows; r++) {
        const char *prefix = bulk ? sb_arena_printf(v->arena, "[%zu].", r) : "";
        row_template(v, row, known);
        for (size_t c = 0; c < n_fields; c++) {
            const struct sb_field *f = fields[c];
            struct sb_value *slot = &values[r * n_fields + c];
            json_t *json = json_object_get(objects[r], f->name);
            if (!json) { /* only with columns=: the default applies */
                if (needs_value(v, f))
                    add_failure(v, path_of(v, prefix, f->name, ""), "required", "is required");
                *slot = v->default_kind[f->index] == DEFAULT_LITERAL ? v->defaults[f->index] : (struct sb_value){0};
                slot->flags = SB_VALUE_DEFAULT |
                              (v->default_kind[f->index] == DEFAULT_COMPUTED ? SB_VALUE_COMPUTED : 0u);
                has_defaults = true;
                continue;
            }
            if (field_value(v, f, json, prefix, slot) != 0) {
                known[f->index] = 0;
                continue;
            }
            row[f->index] = *slot;
            known[f->index] = 1;
        }
        struct sb_eval_env env = {.row = row, .known = known, .n_row = coll->n_fields, .arena = v->arena};
        run_checks(v, prefix, &env);
    }
    if (v->n_failures) {
        fill_error(v, err);
        return -1;
    }
    *out = (struct sb_rows){fields, n_fields, values, n_rows, bulk, has_defaults};
    return 0;
}

int sb_validate_body(const struct sb_collection *coll, const char *body, size_t len,
                     const struct sb_validate_opts *opts, struct sb_arena *arena,
                     struct sb_rows *out, struct sb_api_error *err)
{
    static const struct sb_validate_opts defaults = {.mode = SB_VALIDATE_CREATE};
    if (!opts)
        opts = &defaults;
    memset(out, 0, sizeof(*out));
    if (!body)
        body = "";
    size_t max_depth = opts->max_depth ? opts->max_depth : SB_VALIDATE_MAX_DEPTH;
    size_t max_rows = opts->max_rows ? opts->max_rows : SB_VALIDATE_MAX_ROWS;

    size_t n_top;
    if (sb_json_scan(body, len, max_depth, &n_top) != 0)
        return sb_api_error_set(err, 400, "PGRST102", "The JSON body is nested deeper than %zu levels",
                                max_depth);
    if (n_top > max_rows)
        return sb_api_error_set(err, 413, "54000", "Too many rows in one request: %zu (the limit is %zu)",
                                n_top, max_rows);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        sb_api_error_set(err, 400, "PGRST102", "Empty or invalid json");
        sb_api_error_details(err, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return -1;
    }

    int rc = -1;
    json_t *single[1] = {root};
    json_t **objects = single;
    size_t n_rows = 1;
    bool bulk = json_is_array(root);
    if (bulk) {
        n_rows = json_array_size(root);
        if (opts->mode == SB_VALIDATE_UPDATE) {
            body_error(err, 400, "PGRST102", "An update body must be one JSON object, not an array");
            goto done;
        }
        if (n_rows == 0) {
            body_error(err, 400, "PGRST102", "The body is an empty array: send at least one object");
            goto done;
        }
        if (n_rows > max_rows) {
            sb_api_error_set(err, 413, "54000", "Too many rows in one request: %zu (the limit is %zu)",
                             n_rows, max_rows);
            goto done;
        }
        objects = sb_arena_alloc(arena, n_rows * sizeof(*objects));
        for (size_t i = 0; i < n_rows; i++) {
            objects[i] = json_array_get(root, i);
            if (!json_is_object(objects[i])) {
                sb_api_error_set(err, 400, "PGRST102", "Element %zu of the body array is not a JSON object", i);
                goto done;
            }
        }
    } else if (!json_is_object(root)) {
        body_error(err, 400, "PGRST102", "The body must be a JSON object or an array of objects");
        goto done;
    }

    struct validator *v = sb_arena_alloc(arena, sizeof(*v));
    v->coll = coll;
    v->opts = opts;
    v->arena = arena;
    v->by_name = sb_arena_alloc(arena, (coll->n_fields + 1) * sizeof(*v->by_name));
    for (size_t i = 0; i < coll->n_fields; i++)
        v->by_name[i] = coll->fields[i];
    qsort(v->by_name, coll->n_fields, sizeof(*v->by_name), by_name_cmp);
    rc = validate_rows(v, objects, n_rows, bulk, out, err);
done:
    json_decref(root);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- filters ---------------------------------------------------------------------- */

static int refuse_password(const struct sb_field *field, struct sb_api_error *err)
{
    sb_api_error_set(err, 400, "PGRST100", "'%s' is a password field and cannot be used in a filter",
                     field->name);
    sb_api_error_field(err, field->name, "type", "password fields cannot be filtered");
    return -1;
}

int sb_validate_filter_value(const struct sb_field *field, const char *text, size_t len,
                             struct sb_value *out, struct sb_arena *arena,
                             struct sb_api_error *err)
{
    memset(out, 0, sizeof(*out));
    if (field->type.kind == SB_TYPE_PASSWORD)
        return refuse_password(field, err);
    struct sb_type type = field->type;
    type.is_array = false; /* an operand of an array field is one element */
    const char *code, *message;
    if (sb_value_from_text(&type, field->name, text ? text : "", len, arena, out, &code, &message) == 0)
        return 0;
    sb_api_error_set(err, 400, code, "%s", message);
    sb_api_error_details(err, "in the filter on '%s'", field->name);
    sb_api_error_field(err, field->name, type.kind == SB_TYPE_ENUM && !strcmp(code, "22P02") ? "enum" : "type",
                       "%s", message);
    return -1;
}

int sb_validate_pattern(const struct sb_field *field, const char *text, size_t len,
                        struct sb_value *out, struct sb_arena *arena, struct sb_api_error *err)
{
    memset(out, 0, sizeof(*out));
    if (field->type.kind == SB_TYPE_PASSWORD)
        return refuse_password(field, err);
    struct sb_type as_text = {.kind = SB_TYPE_TEXT};
    const char *code, *message;
    if (sb_value_from_text(&as_text, field->name, text ? text : "", len, arena, out, &code, &message) == 0)
        return 0;
    sb_api_error_set(err, 400, code, "%s", message);
    sb_api_error_details(err, "in the filter on '%s'", field->name);
    sb_api_error_field(err, field->name, "type", "%s", message);
    return -1;
}
