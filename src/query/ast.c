/* Helpers over the query AST (ast.h): the operator table built from
 * SB_Q_OP_LIST, and sb_query_dump (declared in parse.h), the compact text
 * form that the unit tests compare and the fuzz target walks. */
#include "query/ast.h"

#include <inttypes.h>
#include <string.h>

#include "query/parse.h"

static const struct {
    const char *name;
    unsigned flags;
} op_table[SB_Q_OP_COUNT] = {
#define SB_Q_OP_ROW(name, token, flags) {token, flags},
    SB_Q_OP_LIST(SB_Q_OP_ROW)
#undef SB_Q_OP_ROW
};

const char *sb_q_op_name(enum sb_q_op op)
{
    return (unsigned)op < SB_Q_OP_COUNT ? op_table[op].name : "?";
}

unsigned sb_q_op_flags(enum sb_q_op op)
{
    return (unsigned)op < SB_Q_OP_COUNT ? op_table[op].flags : 0;
}

int sb_q_op_lookup(const char *name, size_t len)
{
    for (int i = 0; i < SB_Q_OP_COUNT; i++)
        if (strlen(op_table[i].name) == len && memcmp(op_table[i].name, name, len) == 0)
            return i;
    return -1;
}

/* ---- dump --------------------------------------------------------------------- */

/* 'text' with \ ' and control characters escaped. */
static void put_quoted(struct sb_buf *out, const char *text)
{
    sb_buf_putc(out, '\'');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\'' || *p == '\\') {
            sb_buf_putc(out, '\\');
            sb_buf_putc(out, (char)*p);
        } else if (*p < 0x20 || *p == 0x7F) {
            sb_buf_printf(out, "\\x%02x", *p);
        } else {
            sb_buf_putc(out, (char)*p);
        }
    }
    sb_buf_putc(out, '\'');
}

/* A name bare when it is a plain identifier, quoted otherwise. */
static void put_name(struct sb_buf *out, const char *name)
{
    bool plain = name[0] != '\0' && !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '_' || *p == '$';
    if (plain)
        sb_buf_puts(out, name);
    else
        put_quoted(out, name);
}

static void put_path(struct sb_buf *out, const struct sb_q_path *path)
{
    put_name(out, path->column);
    for (size_t i = 0; i < path->n_steps; i++) {
        const struct sb_q_json_step *step = &path->steps[i];
        sb_buf_puts(out, step->as_text ? "->>" : "->");
        if (step->key)
            put_name(out, step->key);
        else
            sb_buf_printf(out, "%" PRId32, step->index);
    }
}

static void put_list(struct sb_buf *out, const char *open, const char *const *list, size_t n,
                     const char *close)
{
    sb_buf_puts(out, open);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_buf_putc(out, ',');
        put_quoted(out, list[i]);
    }
    sb_buf_puts(out, close);
}

static void put_filter(struct sb_buf *out, const struct sb_q_filter *filter)
{
    static const char *const is_words[] = {"null", "not_null", "true", "false", "unknown"};
    put_path(out, &filter->path);
    sb_buf_putc(out, '.');
    if (filter->negate)
        sb_buf_puts(out, "not.");
    sb_buf_puts(out, sb_q_op_name(filter->op));
    if (filter->quant != SB_Q_QUANT_NONE)
        sb_buf_puts(out, filter->quant == SB_Q_QUANT_ANY ? "(any)" : "(all)");
    if (filter->fts_config) {
        sb_buf_putc(out, '(');
        put_name(out, filter->fts_config);
        sb_buf_putc(out, ')');
    }
    sb_buf_putc(out, '.');
    unsigned flags = sb_q_op_flags(filter->op);
    if (flags & SB_Q_OPF_LIST)
        put_list(out, "(", filter->list, filter->n_list, ")");
    else if (flags & SB_Q_OPF_IS)
        sb_buf_puts(out, is_words[filter->is_value]);
    else if (filter->quant != SB_Q_QUANT_NONE)
        put_list(out, "[", filter->list, filter->n_list, "]");
    else
        put_quoted(out, filter->value);
}

static void put_cond(struct sb_buf *out, const struct sb_q_cond *cond)
{
    if (cond->kind == SB_Q_COND_FILTER) {
        put_filter(out, cond->filter);
        return;
    }
    if (cond->negate)
        sb_buf_puts(out, "not.");
    sb_buf_puts(out, cond->kind == SB_Q_COND_OR ? "or(" : "and(");
    for (size_t i = 0; i < cond->n_children; i++) {
        if (i)
            sb_buf_putc(out, ',');
        put_cond(out, cond->children[i]);
    }
    sb_buf_putc(out, ')');
}

static void put_items(struct sb_buf *out, struct sb_q_select_item *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct sb_q_select_item *item = items[i];
        if (i)
            sb_buf_putc(out, ',');
        if (item->kind == SB_Q_SEL_STAR) {
            sb_buf_putc(out, '*');
            continue;
        }
        if (item->spread)
            sb_buf_puts(out, "...");
        if (item->alias) {
            put_name(out, item->alias);
            sb_buf_putc(out, ':');
        }
        if (item->kind == SB_Q_SEL_COLUMN) {
            put_path(out, &item->path);
            if (item->cast) {
                sb_buf_puts(out, "::");
                put_name(out, item->cast);
            }
            continue;
        }
        put_name(out, item->relation);
        if (item->hint) {
            sb_buf_putc(out, '!');
            put_name(out, item->hint);
        }
        if (item->join != SB_Q_JOIN_DEFAULT)
            sb_buf_puts(out, item->join == SB_Q_JOIN_INNER ? "!inner" : "!left");
        sb_buf_putc(out, '(');
        put_items(out, item->children, item->n_children);
        sb_buf_putc(out, ')');
    }
}

/* '&' between parts, then the level's path prefix and the part's name. */
static void part(struct sb_buf *out, size_t start, const struct sb_q_level *level, const char *name)
{
    if (out->len > start)
        sb_buf_putc(out, '&');
    for (size_t i = 0; level && i < level->n_embed; i++) {
        put_name(out, level->embed[i]);
        sb_buf_putc(out, '.');
    }
    sb_buf_puts(out, name);
    sb_buf_putc(out, '=');
}

static void put_level(struct sb_buf *out, size_t start, const struct sb_q_level *level)
{
    if (level->where) {
        part(out, start, level, "where");
        put_cond(out, level->where);
    }
    if (level->n_order) {
        part(out, start, level, "order");
        for (size_t i = 0; i < level->n_order; i++) {
            const struct sb_q_order_term *term = &level->order[i];
            if (i)
                sb_buf_putc(out, ',');
            if (term->relation) {
                put_name(out, term->relation);
                sb_buf_putc(out, '(');
            }
            put_path(out, &term->path);
            if (term->relation)
                sb_buf_putc(out, ')');
            sb_buf_puts(out, term->desc ? ".desc" : ".asc");
            if (term->nulls != SB_Q_NULLS_DEFAULT)
                sb_buf_puts(out, term->nulls == SB_Q_NULLS_FIRST ? ".nullsfirst" : ".nullslast");
        }
    }
    if (level->has_limit) {
        part(out, start, level, "limit");
        sb_buf_printf(out, "%" PRId64, level->limit);
    }
    if (level->has_offset) {
        part(out, start, level, "offset");
        sb_buf_printf(out, "%" PRId64, level->offset);
    }
}

static void put_names(struct sb_buf *out, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_buf_putc(out, ',');
        put_name(out, names[i]);
    }
}

void sb_query_dump(const struct sb_query *query, struct sb_buf *out)
{
    size_t start = out->len;
    if (query->has_select) {
        part(out, start, NULL, "select");
        put_items(out, query->select, query->n_select);
    }
    put_level(out, start, &query->root);
    for (size_t i = 0; i < query->n_embeds; i++)
        put_level(out, start, query->embeds[i]);
    if (query->has_columns) {
        part(out, start, NULL, "columns");
        put_names(out, query->columns, query->n_columns);
    }
    if (query->has_on_conflict) {
        part(out, start, NULL, "on_conflict");
        put_names(out, query->on_conflict, query->n_on_conflict);
    }
}
