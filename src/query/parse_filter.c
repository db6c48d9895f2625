/* Filters and logic trees: the operator expressions of `col=op.value`
 * parameters and the `or=(...)` / `and=(...)` trees (see ast.h for what each
 * operator keeps). parse.c hands each filter value and logic value here,
 * with the column already parsed from the key.
 *
 * Grammar:
 *   opexpr  := ['not.'] op ['(' ('any'|'all') ')' | '(' fts-config ')'] '.' operand
 *   operand := in: '(' [elem (',' elem)*] ')'   elem := "quoted" | [^,)]*
 *            | is: null | not_null | true | false | unknown   (any case)
 *            | the rest of the text (top level), or inside a logic tree
 *              "quoted" | '{' [^{}]* '}' | [^,)]*
 *   tree    := ['not.'] ('and'|'or') '(' tree (',' tree)* ')'
 *            | field '.' opexpr
 * A double-quoted element or logic value ends at its closing quote only
 * when ',' or ')' follows (after optional spaces); otherwise (or when the
 * quote is never closed) the text is taken raw, quotes included, as
 * PostgREST does. */
#include <string.h>

#include "query/parse.h"
#include "query/parse_int.h"

#define EXPECT_OPERATOR "\"not\" or operator (eq, gt, ...)"

int qp_count_condition(struct qp_cur *cur)
{
    if (++cur->ctx->n_conditions > SB_Q_MAX_CONDITIONS)
        return qp_error_at(cur, cur->pos, "more than %d filters in the query", SB_Q_MAX_CONDITIONS);
    return qp_budget(cur);
}

/* ---- array literals ---------------------------------------------------------- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int sb_q_parse_array_literal(struct sb_arena *arena, const char *text, size_t len,
                             const char ***items, size_t *n_items, const char **why)
{
    struct sb_ptrvec vec = {0};
    size_t i = 0;
    *items = NULL;
    *n_items = 0;
    while (i < len && is_space(text[i]))
        i++;
    if (i == len || text[i] != '{') {
        *why = "an array literal must start with \"{\"";
        return -1;
    }
    i++;
    while (i < len && is_space(text[i]))
        i++;
    if (i < len && text[i] == '}') {
        i++;
    } else {
        for (;;) {
            while (i < len && is_space(text[i]))
                i++;
            if (i == len) {
                *why = "unterminated array literal: expecting \"}\"";
                return -1;
            }
            if (text[i] == '{') {
                *why = "nested arrays are not supported";
                return -1;
            }
            if (vec.len == SB_Q_MAX_LIST_VALUES) {
                *why = "more than 1000 elements in an array literal";
                return -1;
            }
            bool quoted = text[i] == '"';
            if (quoted)
                i++;
            size_t end = i;
            while (end < len) {
                char ch = text[end];
                if (ch == '\\' && end + 1 < len) {
                    end += 2;
                    continue;
                }
                if (quoted ? ch == '"' : (ch == ',' || ch == '}' || ch == '"' || ch == '{'))
                    break;
                end++;
            }
            if (quoted && end >= len) {
                *why = "unterminated quoted element in an array literal";
                return -1;
            }
            char *elem = sb_arena_alloc(arena, end - i + 1);
            size_t n = 0, keep = 0;
            bool escaped_any = false;
            for (size_t k = i; k < end; k++) {
                bool escaped = text[k] == '\\' && k + 1 < end;
                if (escaped) {
                    k++;
                    escaped_any = true;
                }
                elem[n++] = text[k];
                if (quoted || escaped || !is_space(text[k]))
                    keep = n;
            }
            elem[keep] = '\0';
            if (quoted) {
                end++;
            } else {
                if (end < len && (text[end] == '"' || text[end] == '{')) {
                    *why = "unexpected quote or brace inside an unquoted array element";
                    return -1;
                }
                if (keep == 0) {
                    *why = "empty element in an array literal (quote it: \"\")";
                    return -1;
                }
                if (!escaped_any && keep == 4 && (elem[0] | 0x20) == 'n' &&
                    (elem[1] | 0x20) == 'u' && (elem[2] | 0x20) == 'l' && (elem[3] | 0x20) == 'l') {
                    *why = "NULL elements are not supported in an array literal";
                    return -1;
                }
            }
            sb_ptrvec_push(arena, &vec, elem);
            i = end;
            while (i < len && is_space(text[i]))
                i++;
            if (i < len && text[i] == ',') {
                i++;
                continue;
            }
            if (i < len && text[i] == '}') {
                i++;
                break;
            }
            *why = i == len ? "unterminated array literal: expecting \"}\""
                            : "expecting \",\" or \"}\" in an array literal";
            return -1;
        }
    }
    while (i < len && is_space(text[i]))
        i++;
    if (i != len) {
        *why = "unexpected text after the closing \"}\" of an array literal";
        return -1;
    }
    *items = (const char **)vec.items;
    *n_items = vec.len;
    return 0;
}

/* ---- operands ---------------------------------------------------------------- */

/* After a "quoted" value: only spaces, then ',' or ')' or the end. */
static bool quoted_ends_here(const struct qp_cur *cur)
{
    struct qp_cur after = *cur;
    while (qp_peek(&after) == ' ' || qp_peek(&after) == '\t')
        after.pos++;
    int ch = qp_peek(&after);
    return ch == -1 || ch == ',' || ch == ')';
}

/* Raw text up to ',' or ')' (or the end). */
static void raw_until_delim(struct qp_cur *cur, const char **out, size_t *out_len)
{
    size_t start = cur->pos;
    while (!qp_eof(cur) && qp_peek(cur) != ',' && qp_peek(cur) != ')')
        cur->pos++;
    *out = sb_arena_strndup(cur->ctx->arena, cur->text + start, cur->pos - start);
    *out_len = cur->pos - start;
}

/* in: '(' [elem (',' elem)*] ')'; `()` is the empty list. */
static int in_list(struct qp_cur *cur, struct sb_q_filter *filter)
{
    qp_ws(cur);
    if (qp_peek(cur) != '(')
        return qp_unexpected(cur, "\"(\"");
    cur->pos++;
    qp_ws(cur);
    struct sb_ptrvec vec = {0};
    if (qp_peek(cur) == ')') {
        cur->pos++;
    } else {
        for (;;) {
            if (vec.len == SB_Q_MAX_LIST_VALUES)
                return qp_error_at(cur, cur->pos, "more than %d values in an in list",
                                   SB_Q_MAX_LIST_VALUES);
            if (qp_budget(cur) != 0)
                return -1;
            const char *elem = NULL;
            size_t elem_len, start = cur->pos;
            if (qp_quote_closes(cur)) {
                if (qp_quoted(cur, &elem, &elem_len) != 0)
                    return -1;
                if (quoted_ends_here(cur)) {
                    while (qp_peek(cur) == ' ' || qp_peek(cur) == '\t')
                        cur->pos++;
                } else {
                    cur->pos = start;
                    elem = NULL;
                }
            }
            if (!elem)
                raw_until_delim(cur, &elem, &elem_len);
            sb_ptrvec_push(cur->ctx->arena, &vec, (void *)elem);
            if (qp_accept(cur, ","))
                continue;
            if (qp_accept(cur, ")"))
                break;
            return qp_unexpected(cur, "\",\" or \")\"");
        }
    }
    filter->list = (const char **)vec.items;
    filter->n_list = vec.len;
    return 0;
}

static bool accept_ci(struct qp_cur *cur, const char *word)
{
    size_t n = strlen(word);
    if (cur->len - cur->pos < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = cur->text[cur->pos + i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != word[i])
            return false;
    }
    cur->pos += n;
    return true;
}

static int is_value(struct qp_cur *cur, struct sb_q_filter *filter)
{
    static const struct {
        const char *word;
        enum sb_q_is value;
    } words[] = {
        {"not_null", SB_Q_IS_NOT_NULL}, {"null", SB_Q_IS_NULL},       {"true", SB_Q_IS_TRUE},
        {"false", SB_Q_IS_FALSE},       {"unknown", SB_Q_IS_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (accept_ci(cur, words[i].word)) {
            filter->is_value = words[i].value;
            return 0;
        }
    }
    return qp_unexpected(cur, "null, not_null, true, false or unknown");
}

/* A logic tree's single value: "quoted", {pg,array} or raw up to ',' / ')'. */
static int logic_value(struct qp_cur *cur, const char **out, size_t *out_len)
{
    size_t start = cur->pos;
    if (qp_quote_closes(cur)) {
        if (qp_quoted(cur, out, out_len) != 0)
            return -1;
        if (quoted_ends_here(cur))
            return 0;
        cur->pos = start;
    } else if (qp_peek(cur) == '{') {
        size_t end = start + 1;
        while (end < cur->len && cur->text[end] != '}' && cur->text[end] != '{')
            end++;
        if (end < cur->len && cur->text[end] == '}') {
            *out_len = end + 1 - start;
            *out = sb_arena_strndup(cur->ctx->arena, cur->text + start, *out_len);
            cur->pos = end + 1;
            return 0;
        }
    }
    raw_until_delim(cur, out, out_len);
    return 0;
}

static void star_to_percent(char *text)
{
    for (; *text; text++)
        if (*text == '*')
            *text = '%';
}

/* opexpr (see the grammar above). in_logic selects the operand rules; at
 * the top level the expression must take the whole text. */
static int opexpr(struct qp_cur *cur, bool in_logic, struct sb_q_filter *filter)
{
    if (qp_accept(cur, "not."))
        filter->negate = true;
    size_t start = cur->pos, end = start;
    while (end < cur->len && cur->text[end] >= 'a' && cur->text[end] <= 'z')
        end++;
    int op = sb_q_op_lookup(cur->text + start, end - start);
    if (op < 0) {
        if (end == start)
            return qp_unexpected(cur, EXPECT_OPERATOR);
        return qp_error_at(cur, start, "unexpected \"%.*s\" expecting %s", (int)(end - start),
                           cur->text + start,
                           filter->negate ? "operator (eq, gt, ...)" : EXPECT_OPERATOR);
    }
    cur->pos = end;
    filter->op = (enum sb_q_op)op;
    unsigned flags = sb_q_op_flags(filter->op);

    if (qp_peek(cur) == '(' && (flags & SB_Q_OPF_QUANT)) {
        cur->pos++;
        if (qp_accept(cur, "any"))
            filter->quant = SB_Q_QUANT_ANY;
        else if (qp_accept(cur, "all"))
            filter->quant = SB_Q_QUANT_ALL;
        else
            return qp_unexpected(cur, "any or all");
        if (!qp_accept(cur, ")"))
            return qp_unexpected(cur, "\")\"");
    } else if (qp_peek(cur) == '(' && (flags & SB_Q_OPF_FTS)) {
        cur->pos++;
        if (qp_ident(cur, &filter->fts_config) != 0)
            return -1;
        if (!qp_accept(cur, ")"))
            return qp_unexpected(cur, "\")\"");
    }
    if (!qp_accept(cur, "."))
        return qp_unexpected(cur, "delimiter (.)");

    if (flags & SB_Q_OPF_LIST) {
        if (in_list(cur, filter) != 0)
            return -1;
    } else if (flags & SB_Q_OPF_IS) {
        if (is_value(cur, filter) != 0)
            return -1;
    } else {
        size_t value_at = cur->pos;
        if (in_logic) {
            if (logic_value(cur, &filter->value, &filter->value_len) != 0)
                return -1;
        } else {
            filter->value_len = cur->len - cur->pos;
            filter->value =
                sb_arena_strndup(cur->ctx->arena, cur->text + cur->pos, filter->value_len);
            cur->pos = cur->len;
        }
        if (flags & SB_Q_OPF_PATTERN)
            star_to_percent((char *)filter->value);
        if (filter->quant != SB_Q_QUANT_NONE) {
            const char *why;
            if (sb_q_parse_array_literal(cur->ctx->arena, filter->value, filter->value_len,
                                         &filter->list, &filter->n_list, &why) != 0)
                return qp_error_at(cur, value_at, "%s", why);
        }
    }
    if (!in_logic) {
        qp_ws(cur);
        if (!qp_eof(cur))
            return qp_unexpected(cur, "end of input");
    }
    return 0;
}

int qp_filter_value(struct qp_cur *cur, struct sb_q_filter *filter)
{
    return opexpr(cur, false, filter);
}

/* ---- logic trees ------------------------------------------------------------- */

/* Whether a group `[not.](and|or) (` starts at the cursor; if so, where its
 * '(' is. */
static bool at_group(const struct qp_cur *cur, bool *negate, bool *is_or, size_t *paren)
{
    struct qp_cur look = *cur;
    *negate = qp_accept(&look, "not.");
    if (qp_accept(&look, "and"))
        *is_or = false;
    else if (qp_accept(&look, "or"))
        *is_or = true;
    else
        return false;
    qp_ws(&look);
    if (qp_peek(&look) != '(')
        return false;
    *paren = look.pos;
    return true;
}

static int group(struct qp_cur *cur, int depth, bool is_or, bool negate, struct sb_q_cond **out);

/* tree (see the grammar above). */
static int tree(struct qp_cur *cur, int depth, struct sb_q_cond **out)
{
    qp_ws(cur);
    bool negate, is_or;
    size_t paren;
    if (at_group(cur, &negate, &is_or, &paren)) {
        cur->pos = paren;
        return group(cur, depth + 1, is_or, negate, out);
    }
    if (qp_count_condition(cur) != 0)
        return -1;
    struct sb_q_filter *filter = sb_arena_alloc(cur->ctx->arena, sizeof(*filter));
    if (!qp_at_name(cur))
        return qp_unexpected(cur, "field name (* or [a..z0..9_$]), negation operator (not) or "
                                  "logic operator (and, or)");
    if (qp_field(cur, &filter->path) != 0)
        return -1;
    if (!qp_accept(cur, "."))
        return qp_unexpected(cur, "\"->\", \"->>\" or delimiter (.)");
    if (opexpr(cur, true, filter) != 0)
        return -1;
    struct sb_q_cond *cond = sb_arena_alloc(cur->ctx->arena, sizeof(*cond));
    cond->kind = SB_Q_COND_FILTER;
    cond->filter = filter;
    *out = cond;
    return 0;
}

/* '(' tree (',' tree)* ')' with the cursor on '('. */
static int group(struct qp_cur *cur, int depth, bool is_or, bool negate, struct sb_q_cond **out)
{
    if (depth > SB_Q_MAX_LOGIC_DEPTH)
        return qp_error_at(cur, cur->pos, "logic operators nested more than %d levels deep",
                           SB_Q_MAX_LOGIC_DEPTH);
    if (qp_budget(cur) != 0)
        return -1;
    cur->pos++;
    struct sb_ptrvec children = {0};
    for (;;) {
        struct sb_q_cond *child;
        if (tree(cur, depth, &child) != 0)
            return -1;
        sb_ptrvec_push(cur->ctx->arena, &children, child);
        qp_ws(cur);
        if (qp_accept(cur, ","))
            continue;
        if (qp_accept(cur, ")"))
            break;
        return qp_unexpected(cur, "\",\" or \")\"");
    }
    struct sb_q_cond *cond = sb_arena_alloc(cur->ctx->arena, sizeof(*cond));
    cond->kind = is_or ? SB_Q_COND_OR : SB_Q_COND_AND;
    cond->negate = negate;
    cond->children = (struct sb_q_cond **)children.items;
    cond->n_children = children.len;
    *out = cond;
    return 0;
}

int qp_logic_value(struct qp_cur *cur, bool is_or, bool negate, struct sb_q_cond **out)
{
    qp_ws(cur);
    if (qp_peek(cur) != '(')
        return qp_unexpected(cur, "\"(\"");
    if (group(cur, 1, is_or, negate, out) != 0)
        return -1;
    qp_ws(cur);
    if (!qp_eof(cur))
        return qp_unexpected(cur, "end of input");
    return 0;
}
