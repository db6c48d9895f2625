/* The client's view of a checked model (surface.h): field visibility and
 * writability as the records API applies them, relation names, action
 * results and the spec's documentation comments. Read by the OpenAPI
 * document (openapi.c) and the TypeScript types (typescript.c), so both
 * describe the same API. */
#include "api/surface.h"

#include <stdint.h>
#include <string.h>

bool sb_surface_readable(const struct sb_field *field)
{
    return !(field->flags & SB_FIELD_HIDDEN) && field->type.kind != SB_TYPE_PASSWORD;
}

static bool is_id(const struct sb_field *field)
{
    return (field->flags & SB_FIELD_SYSTEM) && strcmp(field->name, "id") == 0;
}

bool sb_surface_insertable(const struct sb_field *field)
{
    if (field->flags & SB_FIELD_SYSTEM)
        return is_id(field);
    return !(field->flags & SB_FIELD_READONLY);
}

bool sb_surface_updatable(const struct sb_field *field)
{
    return !(field->flags & (SB_FIELD_SYSTEM | SB_FIELD_READONLY));
}

bool sb_surface_insert_optional(const struct sb_field *field)
{
    return is_id(field) || !(field->flags & SB_FIELD_REQUIRED) || field->default_expr != NULL;
}

bool sb_surface_one_to_one(const struct sb_field *relation)
{
    if (relation->flags & SB_FIELD_UNIQUE)
        return true;
    const struct sb_collection *coll = relation->owner;
    for (size_t i = 0; coll && i < coll->n_indexes; i++) {
        const struct sb_index *index = coll->indexes[i];
        if (index->unique && index->n_columns == 1 && index->columns && index->columns[0] == relation)
            return true;
    }
    return false;
}

void sb_surface_fkey_name(const struct sb_field *relation, struct sb_buf *out)
{
    struct sb_buf name;
    sb_buf_init(&name);
    sb_buf_printf(&name, "%s_%s_fkey", relation->owner ? relation->owner->name : "", relation->name);
    if (name.len <= SB_SPEC_MAX_NAME) {
        sb_buf_append(out, name.data, name.len);
    } else {
        /* the rule of derived index names (check.c): a prefix, an FNV-1a
         * hash of the full name, the suffix */
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < name.len; i++)
            h = (h ^ (unsigned char)name.data[i]) * 16777619u;
        sb_buf_printf(out, "%.*s_%08x_fkey", SB_SPEC_MAX_NAME - 14, name.data, h);
    }
    sb_buf_free(&name);
}

/* ---- documentation comments ------------------------------------------------------- */

static size_t line_start(const char *src, size_t pos)
{
    while (pos > 0 && src[pos - 1] != '\n')
        pos--;
    return pos;
}

/* Only spaces and tabs between from and to. */
static bool blank_between(const char *src, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (src[i] != ' ' && src[i] != '\t')
            return false;
    return true;
}

/* The comment text without '#', one following space and trailing blanks. */
static void comment_text(const char *src, const struct sb_comment *comment, const char **text, size_t *len)
{
    const char *s = src + comment->offset + 1;
    size_t n = comment->length ? comment->length - 1 : 0;
    if (n && *s == ' ') {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    *text = s;
    *len = n;
}

/* Index of the first comment at or after offset (comments are in source
 * order). */
static size_t first_comment_from(const struct sb_model *model, size_t offset)
{
    size_t lo = 0, hi = model->n_comments;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (model->comments[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sb_surface_doc(const struct sb_model *model, size_t start, size_t end, struct sb_buf *out)
{
    const char *src = model->source;
    if (!src || start > model->source_len)
        return;
    /* comments above: walk up while each comment fills the line just above */
    size_t line = line_start(src, start);
    size_t first = first_comment_from(model, line), n_above = 0;
    while (first > 0) {
        const struct sb_comment *c = &model->comments[first - 1];
        size_t c_end = c->offset + c->length;
        size_t next = c_end;
        while (next < model->source_len && (src[next] == ' ' || src[next] == '\t' || src[next] == '\r'))
            next++;
        if (next >= model->source_len || src[next] != '\n' || next + 1 != line)
            break;
        size_t c_line = line_start(src, c->offset);
        if (!blank_between(src, c_line, c->offset))
            break;
        line = c_line;
        first--;
        n_above++;
    }
    size_t len_before = out->len;
    for (size_t i = first; i < first + n_above; i++) {
        const char *text;
        size_t len;
        comment_text(src, &model->comments[i], &text, &len);
        if (out->len > len_before)
            sb_buf_putc(out, '\n');
        sb_buf_append(out, text, len);
    }
    if (end == 0 || end > model->source_len)
        return;
    /* a comment after the declaration, on its last line */
    size_t i = first_comment_from(model, end);
    if (i < model->n_comments) {
        const struct sb_comment *c = &model->comments[i];
        if (blank_between(src, end, c->offset)) {
            const char *text;
            size_t len;
            comment_text(src, c, &text, &len);
            if (out->len > len_before)
                sb_buf_putc(out, '\n');
            sb_buf_append(out, text, len);
        }
    }
}

const struct sb_step *sb_surface_result(const struct sb_action *action)
{
    for (size_t i = 0; i < action->n_steps; i++)
        if (action->steps[i].kind == SB_STEP_RETURN)
            return &action->steps[i];
    return NULL;
}

bool sb_surface_default_is_const(const struct sb_expr *expr)
{
    if (!expr)
        return false;
    switch (expr->kind) {
    case SB_EXPR_INT:
    case SB_EXPR_FLOAT:
    case SB_EXPR_STRING:
    case SB_EXPR_BOOL:
    case SB_EXPR_NULL:
        return true;
    case SB_EXPR_UNARY:
        return expr->op == SB_OP_NEG && expr->left &&
               (expr->left->kind == SB_EXPR_INT || expr->left->kind == SB_EXPR_FLOAT);
    case SB_EXPR_LIST:
        for (size_t i = 0; i < expr->n_args; i++)
            if (!sb_surface_default_is_const(expr->args[i]))
                return false;
        return true;
    default:
        return false;
    }
}
