/* The OpenAPI 3.1 document of a checked model (openapi.h): info, servers,
 * the paths of every collection and action with their parameters, bodies
 * and responses, and the shared components. The JSON Schemas come from
 * openapi_schema.c; what a client sees of a field (readable, writable,
 * relation names, doc comments) from surface.c, which the TypeScript
 * generator (typescript.c) shares. Each part (a path item, a schema, a
 * parameter) is built as a jansson tree in a fixed key order, printed with
 * a 2-space indent and freed before the next is built, so that the
 * document of thousands of collections is never one tree in memory;
 * numbers are printed in their shortest exact form.
 *
 * Operation ids: select_<c>, head_<c>, insert_<c>, update_<c>, delete_<c>
 * for collections, rpc_post_<a> and rpc_get_<a> for actions; the prefixes
 * keep them distinct whatever the names. Component names: <c>, <c>Insert,
 * <c>Update, <a>Args and Error in schemas (spec names are lower case, so
 * the suffixes never collide with a name), rowFilter.<c>.<field> for the
 * filter parameters (PostgREST's naming). */
#include "api/openapi.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/openapi_int.h"
#include "api/surface.h"
#include "spec/fmt.h"
#include "spec/spec.h"
#include "util/json_out.h"

#define MEDIA_JSON "application/json"
#define MEDIA_OBJECT "application/vnd.pgrst.object+json"
#define MEDIA_CSV "text/csv"

static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value ? value : json_null());
}

static json_t *jstr(const char *text)
{
    json_t *value = json_string(text ? text : "");
    return value ? value : json_string("");
}

static json_t *jbuf(const struct sb_buf *buf)
{
    return jstr(sb_buf_str(buf));
}

static void push(json_t *array, json_t *value)
{
    json_array_append_new(array, value);
}

/* ---- printing ----------------------------------------------------------------------- */

static void indent(struct sb_buf *out, size_t depth)
{
    sb_buf_putc(out, '\n');
    sb_buf_fill(out, ' ', depth * 2);
}

static void dump(const json_t *value, size_t depth, struct sb_buf *out)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        if (json_object_size(value) == 0) {
            sb_buf_puts(out, "{}");
            return;
        }
        sb_buf_putc(out, '{');
        bool first = true;
        /* iteration does not modify the object; the macro wants it non-const */
        json_t *obj = (json_t *)value;
        const char *key;
        json_t *item;
        json_object_foreach(obj, key, item) {
            if (!first)
                sb_buf_putc(out, ',');
            first = false;
            indent(out, depth + 1);
            sb_json_string(out, key, strlen(key));
            sb_buf_puts(out, ": ");
            dump(item, depth + 1, out);
        }
        indent(out, depth);
        sb_buf_putc(out, '}');
        return;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(value);
        if (n == 0) {
            sb_buf_puts(out, "[]");
            return;
        }
        sb_buf_putc(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_buf_putc(out, ',');
            indent(out, depth + 1);
            dump(json_array_get(value, i), depth + 1, out);
        }
        indent(out, depth);
        sb_buf_putc(out, ']');
        return;
    }
    case JSON_STRING:
        sb_json_string(out, json_string_value(value), json_string_length(value));
        return;
    case JSON_INTEGER:
        sb_json_int(out, (int64_t)json_integer_value(value));
        return;
    case JSON_REAL:
        sb_json_double(out, json_real_value(value));
        return;
    case JSON_TRUE:
        sb_buf_puts(out, "true");
        return;
    case JSON_FALSE:
        sb_buf_puts(out, "false");
        return;
    case JSON_NULL:
        sb_buf_puts(out, "null");
        return;
    }
}

/* The document's objects written member by member: each member's tree is
 * built, printed and freed in turn, so that the document of thousands of
 * collections is never one tree in memory. */
struct stream {
    struct sb_buf *out;
    size_t depth;       /* of the members being written */
    bool first[8];      /* per depth: no member written yet */
};

static void member_key(struct stream *s, const char *key)
{
    if (!s->first[s->depth])
        sb_buf_putc(s->out, ',');
    s->first[s->depth] = false;
    indent(s->out, s->depth);
    sb_json_string(s->out, key, strlen(key));
    sb_buf_puts(s->out, ": ");
}

/* Open an object: the document (key NULL) or a member of the current one. */
static void stream_open(struct stream *s, const char *key)
{
    if (key)
        member_key(s, key);
    sb_buf_putc(s->out, '{');
    s->first[++s->depth] = true;
}

static void stream_close(struct stream *s)
{
    bool empty = s->first[s->depth--];
    if (!empty)
        indent(s->out, s->depth);
    sb_buf_putc(s->out, '}');
}

/* Write the member key: value, and free value (taken). */
static void stream_put(struct stream *s, const char *key, json_t *value)
{
    member_key(s, key);
    dump(value, s->depth, s->out);
    json_decref(value);
}

/* ---- shared components ----------------------------------------------------------------- */

/* The query and header parameters every collection shares. */
static const struct shared_param {
    const char *key, *name, *in, *type;
    const char *description;
} shared_params[] = {
    {"select", "select", "query", "string",
     "The fields to return, comma-separated: `*`, `field`, `alias:field`, casts `field::text`, json paths "
     "`attrs->color` and `attrs->>color`. Default `*`. Hidden and password fields cannot be selected."},
    {"order", "order", "query", "string",
     "Sort keys, comma-separated: `field.asc` or `field.desc`, optionally `.nullsfirst` or `.nullslast`."},
    {"limit", "limit", "query", "integer", "At most this many rows."},
    {"offset", "offset", "query", "integer", "Skip this many rows."},
    {"or", "or", "query", "string",
     "Rows matching any of the filters: `(field.op.value,field.op.value,...)`; nests `and(...)` and "
     "`or(...)`."},
    {"and", "and", "query", "string", "Rows matching all of the filters: `(field.op.value,...)`."},
    {"columns", "columns", "query", "string",
     "Read only these keys from each object of the body, comma-separated; a row without one takes the "
     "field's default."},
    {"range", "Range", "header", "string",
     "The rows to return as `first-last` (0-based, inclusive), used when the query has no limit or offset."},
    {"preferRead", "Prefer", "header", "string",
     "`count=exact`: count the matching rows; Content-Range then ends with the total and a partial page is "
     "206."},
    {"preferInsert", "Prefer", "header", "string",
     "Comma-separated preferences: `return=minimal` (the default: 201 without a body), "
     "`return=headers-only` (201 with a Location header), `return=representation` (201 with the created "
     "rows); `count=exact`; `tx=rollback` (answer as if committed, write nothing)."},
    {"preferWrite", "Prefer", "header", "string",
     "Comma-separated preferences: `return=minimal` (the default: 204) or `return=representation` (200 "
     "with the rows); `count=exact`; `tx=rollback`; `handling=strict` with `max-affected=N` (refuse, with "
     "400, a write that affects more than N rows)."},
};

#define N_SHARED_PARAMS (sizeof(shared_params) / sizeof(shared_params[0]))

static void put_shared_params(struct stream *s)
{
    for (size_t i = 0; i < N_SHARED_PARAMS; i++) {
        const struct shared_param *p = &shared_params[i];
        json_t *param = json_object();
        set(param, "name", jstr(p->name));
        set(param, "in", jstr(p->in));
        set(param, "required", json_false());
        set(param, "description", jstr(p->description));
        json_t *schema = json_object();
        set(schema, "type", jstr(p->type));
        if (!strcmp(p->type, "integer"))
            set(schema, "minimum", json_integer(0));
        if (!strcmp(p->key, "range"))
            set(schema, "pattern", jstr("^[0-9]+-[0-9]*$"));
        set(param, "schema", schema);
        stream_put(s, p->key, param);
    }
}

static json_t *string_header(const char *description)
{
    json_t *header = json_object();
    set(header, "description", jstr(description));
    json_t *schema = json_object();
    set(schema, "type", jstr("string"));
    set(header, "schema", schema);
    return header;
}

static void put_shared_headers(struct stream *s)
{
    stream_put(s, "ContentRange",
        string_header("The rows in the response and the total when counted: `first-last/total`, `*` for an "
                      "unknown total, `*/0` when empty."));
    stream_put(s, "Location", string_header("The created row, with return=headers-only: `/<collection>?id=eq.N`."));
    stream_put(s, "PreferenceApplied", string_header("The preferences of the Prefer header that were honoured."));
}

static json_t *error_content(void)
{
    json_t *content = json_object();
    json_t *media = json_object();
    set(media, "schema", sb_openapi_ref("schemas", "Error"));
    set(content, MEDIA_JSON, media);
    return content;
}

static json_t *error_response(const char *description)
{
    json_t *response = json_object();
    set(response, "description", jstr(description));
    set(response, "content", error_content());
    return response;
}

/* The error responses of the records API, by status. */
static const struct shared_response {
    const char *status, *key, *description;
} shared_responses[] = {
    {"400", "BadRequest",
     "Bad request: the query string does not parse (PGRST100), an unknown or hidden field (42703), an "
     "invalid filter value (22P02), an invalid body (PGRST102, PGRST204, 22P02, 23502, 23514, with errors[] "
     "naming every failing field)."},
    {"401", "Unauthorized", "The apikey or bearer token is invalid or expired."},
    {"403", "Forbidden", "A rule of the spec refuses the write (42501); nothing is written."},
    {"404", "NotFound", "No such collection (PGRST205)."},
    {"406", "NotAcceptable",
     "No acceptable media type (PGRST107), a schema other than public (PGRST106), or a single object "
     "requested when there is not exactly one row (PGRST116)."},
    {"409", "Conflict",
     "A unique value is taken (23505) or a reference does not hold: the target row does not exist, or the "
     "row is still referenced (23503)."},
    {"413", "PayloadTooLarge", "The body has more rows than the server accepts in one request."},
    {"415", "UnsupportedMediaType", "The body is not JSON (PGRST102)."},
    {"416", "RangeNotSatisfiable", "The offset is past the end of the counted rows (PGRST103)."},
};

#define N_SHARED_RESPONSES (sizeof(shared_responses) / sizeof(shared_responses[0]))

static void put_shared_responses(struct stream *s)
{
    for (size_t i = 0; i < N_SHARED_RESPONSES; i++)
        stream_put(s, shared_responses[i].key, error_response(shared_responses[i].description));
}

/* Add $refs to the shared error responses of statuses (a NULL-terminated
 * list such as {"400", "403", NULL}) to responses. */
static void add_errors(json_t *responses, const char *const *statuses)
{
    for (; *statuses; statuses++)
        for (size_t i = 0; i < N_SHARED_RESPONSES; i++)
            if (!strcmp(shared_responses[i].status, *statuses))
                set(responses, *statuses, sb_openapi_ref("responses", shared_responses[i].key));
}

static void push_param_ref(json_t *parameters, const char *key)
{
    push(parameters, sb_openapi_ref("parameters", key));
}

/* ---- collections ----------------------------------------------------------------------- */

/* The filter operators that apply to values of a field's type. */
static void filter_operators(const struct sb_field *field, struct sb_buf *out)
{
    const struct sb_type *type = &field->type;
    if (type->is_array) {
        sb_buf_puts(out, "eq, neq, cs, cd, ov, is, isdistinct, in");
        return;
    }
    sb_buf_puts(out, "eq, neq, gt, gte, lt, lte, in, is, isdistinct");
    switch (type->kind) {
    case SB_TYPE_TEXT:
    case SB_TYPE_EMAIL:
    case SB_TYPE_URL:
        sb_buf_puts(out, ", like, ilike, match, imatch");
        break;
    case SB_TYPE_JSON:
        sb_buf_puts(out, ", cs, cd");
        break;
    default:
        break;
    }
    if (field->flags & SB_FIELD_SEARCHABLE)
        sb_buf_puts(out, ", fts, plfts, phfts, wfts");
}

static const char *filter_key(const struct sb_collection *coll, const struct sb_field *field, struct sb_buf *key)
{
    sb_buf_reset(key);
    sb_buf_printf(key, "rowFilter.%s.%s", coll->name, field->name);
    return sb_buf_str(key);
}

/* The query parameter filtering on field. */
static json_t *filter_param(const struct sb_field *field)
{
    json_t *param = json_object();
    set(param, "name", jstr(field->name));
    set(param, "in", jstr("query"));
    set(param, "required", json_false());
    struct sb_buf text;
    sb_buf_init(&text);
    sb_buf_printf(&text, "Filter on %s (", field->name);
    sb_spec_format_type(&field->type, &text);
    sb_buf_puts(&text, "): `operator.value` or `not.operator.value`, such as `eq.VALUE` or `in.(A,B)`. "
                       "Operators: ");
    filter_operators(field, &text);
    sb_buf_puts(&text, ". A value invalid for the type is refused (400, 22P02).");
    set(param, "description", jbuf(&text));
    sb_buf_free(&text);
    json_t *schema = json_object();
    set(schema, "type", jstr("string"));
    set(schema, "pattern", jstr("^(not\\.)?[a-z]+(\\([^)]*\\))?\\."));
    set(param, "schema", schema);
    return param;
}

/* The filter parameters of a collection's readable fields. */
static void put_filter_params(struct stream *s, const struct sb_collection *coll)
{
    struct sb_buf key;
    sb_buf_init(&key);
    for (size_t i = 0; i < coll->n_fields; i++)
        if (sb_surface_readable(coll->fields[i]))
            stream_put(s, filter_key(coll, coll->fields[i], &key), filter_param(coll->fields[i]));
    sb_buf_free(&key);
}

/* $refs to the filter parameters of every readable field, then or / and. */
static void push_filters(const struct sb_collection *coll, json_t *parameters)
{
    struct sb_buf key;
    sb_buf_init(&key);
    for (size_t i = 0; i < coll->n_fields; i++)
        if (sb_surface_readable(coll->fields[i]))
            push_param_ref(parameters, filter_key(coll, coll->fields[i], &key));
    sb_buf_free(&key);
    push_param_ref(parameters, "or");
    push_param_ref(parameters, "and");
}

static json_t *tag_list(const char *tag)
{
    json_t *tags = json_array();
    push(tags, jstr(tag));
    return tags;
}

/* a + b + c in buf (reset first); returns the text, borrowed from buf. */
static const char *cat(struct sb_buf *buf, const char *a, const char *b, const char *c)
{
    sb_buf_reset(buf);
    sb_buf_puts(buf, a);
    sb_buf_puts(buf, b);
    sb_buf_puts(buf, c);
    return sb_buf_str(buf);
}

/* An operation tagged tag: its summary is summary_head + name +
 * summary_tail, its id id_prefix + name. */
static json_t *operation(const char *tag, const char *summary_head, const char *summary_tail,
                         const char *id_prefix, const char *name)
{
    json_t *op = json_object();
    struct sb_buf text;
    sb_buf_init(&text);
    set(op, "tags", tag_list(tag));
    set(op, "summary", jstr(cat(&text, summary_head, name, summary_tail)));
    set(op, "operationId", jstr(cat(&text, id_prefix, name, "")));
    sb_buf_free(&text);
    return op;
}

static json_t *media(json_t *schema)
{
    json_t *m = json_object();
    set(m, "schema", schema);
    return m;
}

static json_t *rows_schema(const char *name)
{
    json_t *array = json_object();
    set(array, "type", jstr("array"));
    set(array, "items", sb_openapi_ref("schemas", name));
    return array;
}

/* The content of a response carrying rows: a JSON array, a single object
 * (Accept: application/vnd.pgrst.object+json) or, for reads, CSV. */
static json_t *rows_content(const char *name, bool csv)
{
    json_t *content = json_object();
    set(content, MEDIA_JSON, media(rows_schema(name)));
    set(content, MEDIA_OBJECT, media(sb_openapi_ref("schemas", name)));
    if (csv) {
        json_t *text = json_object();
        set(text, "type", jstr("string"));
        set(content, MEDIA_CSV, media(text));
    }
    return content;
}

/* Response headers from keys: pairs of a header name and its key in
 * components.headers, ended by NULL. */
static json_t *header_refs(const char *const *keys)
{
    json_t *headers = json_object();
    for (; *keys; keys += 2)
        set(headers, keys[0], sb_openapi_ref("headers", keys[1]));
    return headers;
}

static json_t *ok_response(const char *description, json_t *content, json_t *headers)
{
    json_t *response = json_object();
    set(response, "description", jstr(description));
    if (headers)
        set(response, "headers", headers);
    if (content)
        set(response, "content", content);
    return response;
}

static const char *const range_headers[] = {"Content-Range", "ContentRange", NULL};
static const char *const write_headers[] = {"Content-Range", "ContentRange", "Preference-Applied",
                                            "PreferenceApplied", NULL};
static const char *const insert_headers[] = {"Content-Range", "ContentRange", "Location", "Location",
                                             "Preference-Applied", "PreferenceApplied", NULL};

static json_t *select_op(const struct sb_collection *coll, bool head)
{
    const char *name = coll->name;
    json_t *op = head ? operation(name, "Count the rows of ", " (headers only)", "head_", name)
                      : operation(name, "Read rows of ", "", "select_", name);
    set(op, "description",
        jstr(head ? "The headers of the matching GET: Content-Range, with the total under Prefer: count=exact."
                  : "The rows the collection's read rule lets the caller see, filtered by the query "
                    "parameters."));
    json_t *parameters = json_array();
    static const char *const paging[] = {"select", "order", "limit", "offset", NULL};
    for (const char *const *p = paging; *p; p++)
        push_param_ref(parameters, *p);
    push_filters(coll, parameters);
    push_param_ref(parameters, "range");
    push_param_ref(parameters, "preferRead");
    set(op, "parameters", parameters);
    json_t *responses = json_object();
    if (head) {
        set(responses, "200", ok_response("The rows' headers.", NULL, header_refs(range_headers)));
        set(responses, "206", ok_response("Part of the counted rows' headers.", NULL, header_refs(range_headers)));
        static const struct { const char *status, *description; } head_errors[] = {
            {"400", "Bad request (no body: this is a HEAD response)."},
            {"401", "The apikey or bearer token is invalid or expired."},
            {"406", "Not acceptable."},
            {"416", "The offset is past the end of the counted rows."},
        };
        for (size_t i = 0; i < sizeof(head_errors) / sizeof(head_errors[0]); i++)
            set(responses, head_errors[i].status, ok_response(head_errors[i].description, NULL, NULL));
    } else {
        set(responses, "200", ok_response("The rows.", rows_content(name, true), header_refs(range_headers)));
        set(responses, "206",
            ok_response("Part of the counted rows (Prefer: count=exact), as Content-Range says.",
                        rows_content(name, true), header_refs(range_headers)));
        static const char *const errors[] = {"400", "401", "403", "404", "406", "416", NULL};
        add_errors(responses, errors);
    }
    set(op, "responses", responses);
    return op;
}

static json_t *body(json_t *schema, bool required)
{
    json_t *request = json_object();
    set(request, "required", json_boolean(required));
    json_t *content = json_object();
    set(content, MEDIA_JSON, media(schema));
    set(request, "content", content);
    return request;
}

static json_t *insert_op(const struct sb_collection *coll, struct sb_buf *tmp)
{
    const char *name = coll->name;
    json_t *op = operation(name, "Create rows of ", "", "insert_", name);
    set(op, "description",
        jstr("One object, or an array of objects that all have the same keys (else 400 PGRST102). Every "
             "value is validated against the spec, and nothing is written when anything fails."));
    json_t *parameters = json_array();
    push_param_ref(parameters, "select");
    push_param_ref(parameters, "columns");
    push_param_ref(parameters, "preferInsert");
    set(op, "parameters", parameters);
    const char *insert = cat(tmp, name, "Insert", "");
    json_t *one_of = json_array();
    push(one_of, sb_openapi_ref("schemas", insert));
    json_t *many = json_object();
    set(many, "type", jstr("array"));
    set(many, "items", sb_openapi_ref("schemas", insert));
    set(many, "minItems", json_integer(1));
    push(one_of, many);
    json_t *schema = json_object();
    set(schema, "oneOf", one_of);
    set(op, "requestBody", body(schema, true));
    json_t *responses = json_object();
    set(responses, "201",
        ok_response("Created. No body with return=minimal (the default) or return=headers-only (then Location "
                    "names the row); the created rows with return=representation.",
                    rows_content(name, false), header_refs(insert_headers)));
    static const char *const errors[] = {"400", "401", "403", "406", "409", "413", "415", NULL};
    add_errors(responses, errors);
    set(op, "responses", responses);
    return op;
}

static json_t *change_op(const struct sb_collection *coll, bool update, struct sb_buf *tmp)
{
    const char *name = coll->name;
    json_t *op = update ? operation(name, "Update rows of ", "", "update_", name)
                        : operation(name, "Delete rows of ", "", "delete_", name);
    set(op, "description",
        jstr(update ? "Changes the given fields in every row the filters match and the collection's update "
                      "rule allows."
                    : "Deletes every row the filters match and the collection's delete rule allows."));
    json_t *parameters = json_array();
    push_filters(coll, parameters);
    push_param_ref(parameters, "select");
    push_param_ref(parameters, "preferWrite");
    set(op, "parameters", parameters);
    if (update)
        set(op, "requestBody", body(sb_openapi_ref("schemas", cat(tmp, name, "Update", "")), true));
    json_t *responses = json_object();
    set(responses, "200",
        ok_response(update ? "The updated rows (return=representation)." : "The deleted rows (return=representation).",
                    rows_content(name, false), header_refs(write_headers)));
    set(responses, "204",
        ok_response(update ? "Updated (return=minimal, the default)." : "Deleted (return=minimal, the default).",
                    NULL, header_refs(write_headers)));
    static const char *const update_errors[] = {"400", "401", "403", "406", "409", "413", "415", NULL};
    static const char *const delete_errors[] = {"400", "401", "403", "406", "409", NULL};
    add_errors(responses, update ? update_errors : delete_errors);
    set(op, "responses", responses);
    return op;
}

static json_t *collection_path(const struct sb_collection *coll)
{
    struct sb_buf tmp;
    sb_buf_init(&tmp);
    json_t *path = json_object();
    set(path, "get", select_op(coll, false));
    set(path, "head", select_op(coll, true));
    set(path, "post", insert_op(coll, &tmp));
    set(path, "patch", change_op(coll, true, &tmp));
    set(path, "delete", change_op(coll, false, &tmp));
    sb_buf_free(&tmp);
    return path;
}

static void put_collection_schemas(struct stream *s, const struct sb_model *model, const struct sb_collection *coll)
{
    struct sb_buf name;
    sb_buf_init(&name);
    stream_put(s, coll->name, sb_openapi_collection_schema(model, coll, SB_OPENAPI_READ));
    stream_put(s, cat(&name, coll->name, "Insert", ""), sb_openapi_collection_schema(model, coll, SB_OPENAPI_INSERT));
    stream_put(s, cat(&name, coll->name, "Update", ""), sb_openapi_collection_schema(model, coll, SB_OPENAPI_UPDATE));
    sb_buf_free(&name);
}

/* ---- actions --------------------------------------------------------------------------- */

/* One error response of an action: the status's meaning and, when steps
 * fail with it, their messages. */
static void action_error(json_t *responses, const struct sb_action *action, int status, const char *meaning)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", status);
    if (json_object_get(responses, key))
        return;
    struct sb_buf text;
    sb_buf_init(&text);
    sb_buf_puts(&text, meaning);
    size_t n_messages = 0;
    for (size_t i = 0; i < action->n_steps; i++) {
        const struct sb_step *step = &action->steps[i];
        if (!step->has_else || step->status != status || !step->message)
            continue;
        sb_buf_puts(&text, n_messages++ ? ", " : " Messages: ");
        sb_json_string(&text, step->message, strlen(step->message));
    }
    if (n_messages)
        sb_buf_putc(&text, '.');
    set(responses, key, error_response(sb_buf_str(&text)));
    sb_buf_free(&text);
}

static const char *status_meaning(int status)
{
    switch (status) {
    case 400: return "Bad request: a missing, unknown or invalid argument, or a step refused the call.";
    case 401: return "The apikey or bearer token is invalid or expired.";
    case 403: return "The action's allow (or a step) refuses the caller.";
    case 404: return "A row the action needs does not exist.";
    case 409: return "A conflict: a unique value is taken, a reference does not hold, or a step refused the call.";
    default: return "A step of the action refused the call.";
    }
}

static json_t *action_responses(const struct sb_action *action)
{
    json_t *responses = json_object();
    const struct sb_step *result = sb_surface_result(action);
    if (result) {
        json_t *content = json_object();
        set(content, MEDIA_JSON, media(sb_openapi_result_schema(result->expr)));
        set(responses, "200", ok_response("The action's result.", content, NULL));
    } else {
        set(responses, "204", ok_response("Done; the action returns nothing.", NULL, NULL));
    }
    bool opens_to_anyone = action->allow && action->allow->kind == SB_EXPR_ANYONE;
    bool writes = false, gets = false;
    for (size_t i = 0; i < action->n_steps; i++) {
        enum sb_step_kind kind = action->steps[i].kind;
        writes |= kind == SB_STEP_CREATE || kind == SB_STEP_UPDATE || kind == SB_STEP_DELETE;
        gets |= kind == SB_STEP_GET && !action->steps[i].has_else;
    }
    /* statuses in ascending order: the fixed ones, then every step's */
    for (int status = 400; status <= 599; status++) {
        bool used = status == 400 || status == 401 || (status == 403 && !opens_to_anyone) ||
                    (status == 404 && gets) || (status == 409 && writes);
        for (size_t i = 0; !used && i < action->n_steps; i++)
            used = action->steps[i].has_else && action->steps[i].status == status;
        if (used)
            action_error(responses, action, status, status_meaning(status));
    }
    return responses;
}

static json_t *action_path(const struct sb_model *model, const struct sb_action *action)
{
    struct sb_buf tmp, doc;
    sb_buf_init(&tmp);
    sb_buf_init(&doc);
    sb_surface_doc(model, action->start, 0, &doc);
    bool any_required = false;
    for (size_t i = 0; i < action->n_params; i++)
        any_required |= action->params[i].default_expr == NULL;

    json_t *path = json_object();
    json_t *post = operation("rpc", "Call the action ", "", "rpc_post_", action->name);
    if (doc.len)
        set(post, "description", jbuf(&doc));
    set(post, "requestBody", body(sb_openapi_ref("schemas", cat(&tmp, action->name, "Args", "")), any_required));
    set(post, "responses", action_responses(action));
    set(path, "post", post);
    if (action->read_only) {
        json_t *get = operation("rpc", "Call the read-only action ", "", "rpc_get_", action->name);
        if (doc.len)
            set(get, "description", jbuf(&doc));
        json_t *parameters = json_array();
        for (size_t i = 0; i < action->n_params; i++) {
            const struct sb_param *param = &action->params[i];
            json_t *p = json_object();
            set(p, "name", jstr(param->name));
            set(p, "in", jstr("query"));
            set(p, "required", json_boolean(param->default_expr == NULL));
            bool null_default = param->default_expr && param->default_expr->kind == SB_EXPR_NULL;
            json_t *schema = sb_openapi_type_schema(&param->type, null_default, SB_OPENAPI_INSERT);
            if (param->default_expr && sb_surface_default_is_const(param->default_expr))
                set(schema, "default", sb_openapi_const_value(param->default_expr));
            set(p, "schema", schema);
            push(parameters, p);
        }
        if (json_array_size(parameters))
            set(get, "parameters", parameters);
        else
            json_decref(parameters);
        set(get, "responses", action_responses(action));
        set(path, "get", get);
    }
    sb_buf_free(&doc);
    sb_buf_free(&tmp);
    return path;
}

/* ---- the document ------------------------------------------------------------------------ */

/* "spec-" and the FNV-1a 64-bit hash of the canonical spec text. */
static void default_version(const struct sb_model *model, struct sb_buf *out)
{
    struct sb_buf text;
    sb_buf_init(&text);
    sb_spec_format(model, &text);
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < text.len; i++)
        h = (h ^ (unsigned char)text.data[i]) * 1099511628211u;
    sb_buf_free(&text);
    sb_buf_printf(out, "spec-%016" PRIx64, h);
}

static json_t *info(const struct sb_model *model, const struct sb_openapi_opts *opts)
{
    json_t *obj = json_object();
    set(obj, "title", jstr(model->app_name));
    struct sb_buf text;
    sb_buf_init(&text);
    if (opts && opts->version)
        sb_buf_puts(&text, opts->version);
    else
        default_version(model, &text);
    set(obj, "version", jbuf(&text));
    sb_buf_reset(&text);
    sb_surface_doc(model, model->app_start, 0, &text);
    if (text.len)
        sb_buf_puts(&text, "\n\n");
    sb_buf_puts(&text,
                "The REST API of the spec, with PostgREST's conventions: filters `field=operator.value`, "
                "`select`, `order`, `limit` and `offset`, the Range and Prefer headers, and the error body "
                "`{code, message, details, hint}`. Every request is checked against the spec's rules for "
                "the caller.");
    set(obj, "description", jbuf(&text));
    sb_buf_free(&text);
    return obj;
}

static json_t *security_schemes(void)
{
    json_t *schemes = json_object();
    json_t *apikey = json_object();
    set(apikey, "type", jstr("apiKey"));
    set(apikey, "in", jstr("header"));
    set(apikey, "name", jstr("apikey"));
    set(apikey, "description", jstr("The project's anon key, or the service key (servers only: it bypasses the rules)."));
    set(schemes, "apikey", apikey);
    json_t *bearer = json_object();
    set(bearer, "type", jstr("http"));
    set(bearer, "scheme", jstr("bearer"));
    set(bearer, "bearerFormat", jstr("JWT"));
    set(bearer, "description", jstr("A signed-in user's access token (a JWT with a role claim)."));
    set(schemes, "bearer", bearer);
    return schemes;
}

static json_t *security(void)
{
    json_t *list = json_array();
    static const char *const schemes[] = {"apikey", "bearer"};
    for (size_t i = 0; i < 2; i++) {
        json_t *requirement = json_object();
        set(requirement, schemes[i], json_array());
        push(list, requirement);
    }
    return list;
}

static json_t *tags(const struct sb_model *model)
{
    json_t *list = json_array();
    struct sb_buf text;
    sb_buf_init(&text);
    for (size_t i = 0; i < model->n_collections; i++) {
        const struct sb_collection *coll = model->collections[i];
        json_t *tag = json_object();
        set(tag, "name", jstr(coll->name));
        sb_buf_reset(&text);
        sb_surface_doc(model, coll->start, 0, &text);
        if (!text.len)
            sb_buf_printf(&text, "The rows of %s.", coll->name);
        set(tag, "description", jbuf(&text));
        push(list, tag);
    }
    if (model->n_actions) {
        json_t *tag = json_object();
        set(tag, "name", jstr("rpc"));
        set(tag, "description",
            jstr("Actions: the spec's business operations, each one transaction, called with a JSON object of "
                 "arguments."));
        push(list, tag);
    }
    sb_buf_free(&text);
    return list;
}

void sb_openapi_document(const struct sb_model *model, const struct sb_openapi_opts *opts, struct sb_buf *out)
{
    struct stream s = {.out = out};
    struct sb_buf key;
    sb_buf_init(&key);
    stream_open(&s, NULL);
    stream_put(&s, "openapi", jstr("3.1.0"));
    stream_put(&s, "info", info(model, opts));
    json_t *servers = json_array();
    json_t *server = json_object();
    set(server, "url", jstr(opts && opts->server_url ? opts->server_url : SB_OPENAPI_SERVER_URL));
    push(servers, server);
    stream_put(&s, "servers", servers);
    stream_put(&s, "security", security());
    stream_put(&s, "tags", tags(model));

    stream_open(&s, "paths");
    for (size_t i = 0; i < model->n_collections; i++)
        stream_put(&s, cat(&key, "/", model->collections[i]->name, ""), collection_path(model->collections[i]));
    for (size_t i = 0; i < model->n_actions; i++)
        stream_put(&s, cat(&key, "/rpc/", model->actions[i]->name, ""), action_path(model, model->actions[i]));
    stream_close(&s);

    stream_open(&s, "components");
    stream_open(&s, "schemas");
    stream_put(&s, "Error", sb_openapi_error_schema());
    for (size_t i = 0; i < model->n_collections; i++)
        put_collection_schemas(&s, model, model->collections[i]);
    for (size_t i = 0; i < model->n_actions; i++)
        stream_put(&s, cat(&key, model->actions[i]->name, "Args", ""), sb_openapi_args_schema(model->actions[i]));
    stream_close(&s);
    if (model->n_collections) {
        stream_open(&s, "parameters");
        put_shared_params(&s);
        for (size_t i = 0; i < model->n_collections; i++)
            put_filter_params(&s, model->collections[i]);
        stream_close(&s);
        stream_open(&s, "headers");
        put_shared_headers(&s);
        stream_close(&s);
        stream_open(&s, "responses");
        put_shared_responses(&s);
        stream_close(&s);
    }
    stream_put(&s, "securitySchemes", security_schemes());
    stream_close(&s);
    stream_close(&s);
    sb_buf_putc(out, '\n');
    sb_buf_free(&key);
}

int sb_openapi_render(const struct sb_model *model, const char *server_url, struct sb_buf *out)
{
    struct sb_openapi_opts opts = {.server_url = server_url};
    sb_openapi_document(model, &opts, out);
    return 0;
}
