/* The select= parser: a forest of columns, stars and embedded resources
 * (see ast.h for the items). Called by parse.c for the select parameter and
 * by sb_query_parse_select for callers that have the value alone.
 *
 * Grammar (whitespace between tokens is ignored):
 *   forest  := [item (',' item)*]
 *   item    := '*'
 *            | '...' name embed-params '(' forest ')'
 *            | [alias ':'] name embed-params '(' forest ')'
 *            | [alias ':'] name json-path ['::' ident]
 *   embed-params := ('!' name)*   at most one hint and one of inner/left
 * Aggregates (`count()`, `col.sum()`) are recognised and refused. */
#include <string.h>

#include "query/parse_int.h"

static int forest(struct qp_cur *cur, int depth, struct sb_ptrvec *items);

/* ".sum()", ".avg()", ".count()", ".max()", ".min()" at the cursor. */
static bool at_aggregate_suffix(const struct qp_cur *cur)
{
    static const char *const names[] = {".sum", ".avg", ".count", ".max", ".min"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!qp_looking_at(cur, names[i]))
            continue;
        struct qp_cur after = *cur;
        after.pos += strlen(names[i]);
        qp_ws(&after);
        if (qp_accept(&after, "(")) {
            qp_ws(&after);
            if (qp_peek(&after) == ')')
                return true;
        }
    }
    return false;
}

/* embed-params: '!' hint | '!inner' | '!left', each kind at most once. */
static int embed_params(struct qp_cur *cur, struct sb_q_select_item *item)
{
    while (qp_peek(cur) == '!') {
        cur->pos++;
        size_t at = cur->pos;
        if (!qp_at_name(cur))
            return qp_unexpected(cur, "foreign key hint or join type (inner, left)");
        const char *param;
        bool quoted;
        if (qp_name(cur, &param, &quoted) != 0)
            return -1;
        enum sb_q_join join = SB_Q_JOIN_DEFAULT;
        if (!quoted && strcmp(param, "inner") == 0)
            join = SB_Q_JOIN_INNER;
        else if (!quoted && strcmp(param, "left") == 0)
            join = SB_Q_JOIN_LEFT;
        if (join != SB_Q_JOIN_DEFAULT) {
            if (item->join != SB_Q_JOIN_DEFAULT)
                return qp_error_at(cur, at, "more than one join type (!inner, !left) on \"%s\"",
                                   item->relation);
            item->join = join;
        } else {
            if (item->hint)
                return qp_error_at(cur, at, "more than one foreign key hint on \"%s\"",
                                   item->relation);
            item->hint = param;
        }
        qp_ws(cur);
    }
    return 0;
}

/* The rest of an embed after its name: params and '(' forest ')'. */
static int embed(struct qp_cur *cur, int depth, struct sb_q_select_item *item)
{
    item->kind = SB_Q_SEL_EMBED;
    if (embed_params(cur, item) != 0)
        return -1;
    if (qp_peek(cur) != '(')
        return qp_unexpected(cur, "\"(\"");
    if (depth + 1 > SB_Q_MAX_EMBED_DEPTH)
        return qp_error_at(cur, cur->pos, "embedded resources nested more than %d levels deep",
                           SB_Q_MAX_EMBED_DEPTH);
    cur->pos++;
    struct sb_ptrvec children = {0};
    if (forest(cur, depth + 1, &children) != 0)
        return -1;
    if (qp_peek(cur) != ')')
        return qp_unexpected(cur, "\",\" or \")\"");
    cur->pos++;
    item->children = (struct sb_q_select_item **)children.items;
    item->n_children = children.len;
    return 0;
}

/* item (see the grammar above); leaves the cursor after the item and any
 * whitespace. */
static int item(struct qp_cur *cur, int depth, struct sb_q_select_item **out)
{
    struct qp_ctx *ctx = cur->ctx;
    if (++ctx->n_select > SB_Q_MAX_SELECT_ITEMS)
        return qp_error_at(cur, cur->pos, "more than %d select items", SB_Q_MAX_SELECT_ITEMS);
    if (qp_budget(cur) != 0)
        return -1;
    struct sb_q_select_item *it = sb_arena_alloc(ctx->arena, sizeof(*it));
    *out = it;
    qp_ws(cur);

    if (qp_accept(cur, "...")) {
        qp_ws(cur);
        it->spread = true;
        if (qp_name(cur, &it->relation, NULL) != 0)
            return -1;
        qp_ws(cur);
        if (embed(cur, depth, it) != 0)
            return -1;
        qp_ws(cur);
        return 0;
    }
    if (qp_peek(cur) == '*') {
        cur->pos++;
        it->kind = SB_Q_SEL_STAR;
        qp_ws(cur);
        return 0;
    }

    size_t name_at = cur->pos;
    const char *name;
    bool quoted;
    if (qp_name(cur, &name, &quoted) != 0)
        return -1;
    qp_ws(cur);
    if (qp_peek(cur) == ':' && qp_peek_at(cur, 1) != ':') {
        cur->pos++;
        qp_ws(cur);
        it->alias = name;
        name_at = cur->pos;
        if (qp_name(cur, &name, &quoted) != 0)
            return -1;
        qp_ws(cur);
    }
    if (!quoted && strcmp(name, "count") == 0 && qp_peek(cur) == '(') {
        struct qp_cur after = *cur;
        after.pos++;
        qp_ws(&after);
        if (qp_peek(&after) == ')') {
            cur->pos = name_at;
            return qp_aggregate_error(cur);
        }
    }
    if (qp_peek(cur) == '!' || qp_peek(cur) == '(') {
        it->relation = name;
        if (embed(cur, depth, it) != 0)
            return -1;
        qp_ws(cur);
        return 0;
    }

    it->kind = SB_Q_SEL_COLUMN;
    it->path.column = name;
    if (qp_json_path(cur, &it->path) != 0)
        return -1;
    qp_ws(cur);
    if (qp_accept(cur, "::")) {
        if (qp_ident(cur, &it->cast) != 0)
            return -1;
        qp_ws(cur);
    }
    if (qp_peek(cur) == '.' && at_aggregate_suffix(cur))
        return qp_aggregate_error(cur);
    return 0;
}

static int forest(struct qp_cur *cur, int depth, struct sb_ptrvec *items)
{
    qp_ws(cur);
    if (qp_eof(cur) || qp_peek(cur) == ')')
        return 0;
    for (;;) {
        struct sb_q_select_item *it = NULL;
        if (item(cur, depth, &it) != 0)
            return -1;
        sb_ptrvec_push(cur->ctx->arena, items, it);
        if (qp_peek(cur) == ',') {
            cur->pos++;
            continue;
        }
        if ((depth > 0 && qp_peek(cur) == ')') || (depth == 0 && qp_eof(cur)))
            return 0;
        bool bare_column = it->kind == SB_Q_SEL_COLUMN && !it->cast;
        if (bare_column)
            return qp_unexpected(cur, depth > 0 ? "\"->\", \"->>\", \"::\", \",\" or \")\""
                                                : "\"->\", \"->>\", \"::\", \",\" or end of input");
        return qp_unexpected(cur, depth > 0 ? "\",\" or \")\"" : "\",\" or end of input");
    }
}

int qp_select(struct qp_cur *cur, struct sb_q_select_item ***items, size_t *n_items)
{
    struct sb_ptrvec vec = {0};
    if (forest(cur, 0, &vec) != 0)
        return -1;
    if (!qp_eof(cur))
        return qp_unexpected(cur, "\",\" or end of input");
    *items = (struct sb_q_select_item **)vec.items;
    *n_items = vec.len;
    return 0;
}
