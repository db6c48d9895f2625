/* libFuzzer target for the query-string front end (`make fuzz-query`). Each
 * input is used several ways, under AddressSanitizer and
 * UndefinedBehaviorSanitizer:
 *   - as a raw query string: split (qs.c), then parsed (parse*.c);
 *   - as the decoded value of select, a filter, a logic param, order,
 *     limit, columns and an embedded logic param, and as a filter key;
 *   - alone through sb_query_parse_select and sb_q_parse_array_literal.
 * Beyond memory errors it asserts: a failure is a 400 with a PGRST code, a
 * message and details, all valid UTF-8, and its JSON body renders; a
 * success leaves no error, an AST within the documented bounds (walked
 * whole) and a valid UTF-8 dump; no parse uses more arena than the budget
 * allows; and the AST printed back as PostgREST parameters (every name and
 * logic value double-quoted) parses to the same AST (the same dump), which
 * holds quoting and escaping to account. A violated property aborts, and
 * libFuzzer keeps the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/error.h"
#include "query/parse.h"
#include "query/qs.h"
#include "util/arena.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Most any one parse may allocate: the backstop plus one value copied past
 * it and arena chunk slack. */
#define ARENA_CEILING (SB_Q_MAX_AST_BYTES + 4u * SB_Q_MAX_VALUE_LEN + (2u << 20))

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_query: %s\n%s\n", what, detail ? detail : "");
    abort();
}

static void check_utf8(const char *what, const char *text)
{
    if (text && !sb_qs_utf8_valid(text, strlen(text)))
        fail(what, "not valid UTF-8");
}

static void check_error(struct sb_api_error *err)
{
    if (err->status != 400)
        fail("error status is not 400", err->message);
    if (strcmp(err->code, "PGRST100") != 0 && strcmp(err->code, "PGRST123") != 0)
        fail("unexpected error code", err->code);
    if (!err->message || !err->message[0] || !err->details)
        fail("error without message or details", err->message);
    check_utf8("error message", err->message);
    check_utf8("error details", err->details);
    struct sb_buf json;
    sb_buf_init(&json);
    sb_api_error_json(err, &json);
    if (json.len == 0)
        fail("empty error JSON", NULL);
    sb_buf_free(&json);
    sb_api_error_clear(err);
}

static void check_path(const struct sb_q_path *path)
{
    if (!path->column || !path->column[0])
        fail("path without a column", NULL);
    if (path->n_steps > SB_Q_MAX_JSON_STEPS || (path->n_steps && !path->steps))
        fail("bad json path", path->column);
    for (size_t i = 0; i < path->n_steps; i++)
        if (path->steps[i].key)
            check_utf8("json key", path->steps[i].key);
}

static void check_items(struct sb_q_select_item *const *items, size_t n, int depth)
{
    if (depth > SB_Q_MAX_EMBED_DEPTH)
        fail("select nested past the bound", NULL);
    for (size_t i = 0; i < n; i++) {
        const struct sb_q_select_item *item = items[i];
        if (item->kind == SB_Q_SEL_COLUMN) {
            check_path(&item->path);
        } else if (item->kind == SB_Q_SEL_EMBED) {
            if (!item->relation || !item->relation[0])
                fail("embed without a relation", NULL);
            if (item->spread && item->alias)
                fail("spread with an alias", item->alias);
            check_items(item->children, item->n_children, depth + 1);
        } else if (item->alias) {
            fail("star with an alias", item->alias);
        }
    }
}

static size_t check_cond(const struct sb_q_cond *cond, int depth)
{
    if (cond->kind == SB_Q_COND_FILTER) {
        const struct sb_q_filter *filter = cond->filter;
        check_path(&filter->path);
        unsigned flags = sb_q_op_flags(filter->op);
        if ((flags & (SB_Q_OPF_LIST | SB_Q_OPF_IS)) ? filter->value != NULL : filter->value == NULL)
            fail("operand does not match the operator", sb_q_op_name(filter->op));
        if (filter->value && strlen(filter->value) != filter->value_len)
            fail("value_len is wrong", filter->value);
        if (filter->n_list > SB_Q_MAX_LIST_VALUES)
            fail("list past the bound", NULL);
        for (size_t i = 0; i < filter->n_list; i++)
            check_utf8("list element", filter->list[i]);
        if ((flags & SB_Q_OPF_PATTERN) && filter->value && strchr(filter->value, '*'))
            fail("like pattern still holds '*'", filter->value);
        return 1;
    }
    if (depth > SB_Q_MAX_LOGIC_DEPTH) /* the level's own AND is depth 0 */
        fail("logic nested past the bound", NULL);
    if (cond->n_children == 0)
        fail("empty group", NULL);
    size_t n = 0;
    for (size_t i = 0; i < cond->n_children; i++)
        n += check_cond(cond->children[i], depth + 1);
    return n;
}

static void check_query(const struct sb_query *query)
{
    if (query->n_select > SB_Q_MAX_SELECT_ITEMS)
        fail("too many select items", NULL);
    check_items(query->select, query->n_select, 0);
    size_t n_conditions = 0, n_order = 0;
    for (size_t i = 0; i <= query->n_embeds; i++) {
        const struct sb_q_level *level = i == 0 ? &query->root : query->embeds[i - 1];
        if ((i == 0) != (level->n_embed == 0) || level->n_embed > SB_Q_MAX_EMBED_DEPTH)
            fail("bad level path", NULL);
        if (sb_query_level(query, level->embed, level->n_embed) != level)
            fail("level lookup does not find the level", NULL);
        if (level->where)
            n_conditions += check_cond(level->where, 0);
        for (size_t k = 0; k < level->n_order; k++)
            check_path(&level->order[k].path);
        n_order += level->n_order;
        if ((level->has_limit && level->limit < 0) || (level->has_offset && level->offset < 0))
            fail("negative limit or offset", NULL);
    }
    if (n_conditions > SB_Q_MAX_CONDITIONS || n_order > SB_Q_MAX_ORDER_TERMS)
        fail("conditions or order terms past the bound", NULL);
    struct sb_buf dump;
    sb_buf_init(&dump);
    sb_query_dump(query, &dump);
    check_utf8("dump", sb_buf_str(&dump));
    sb_buf_free(&dump);
}

/* ---- printing an AST back as parameters (the round-trip property) ---------- */

struct printer {
    struct sb_arena *arena;
    struct sb_qs_pair pairs[SB_Q_MAX_PARAMS];
    size_t n;
    bool too_long; /* a printed key or value would pass the length bound */
};

static void put_quoted(struct sb_buf *b, const char *text)
{
    sb_buf_putc(b, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_buf_putc(b, '\\');
        sb_buf_putc(b, *p);
    }
    sb_buf_putc(b, '"');
}

static void put_path(struct sb_buf *b, const struct sb_q_path *path)
{
    put_quoted(b, path->column);
    for (size_t i = 0; i < path->n_steps; i++) {
        sb_buf_puts(b, path->steps[i].as_text ? "->>" : "->");
        if (path->steps[i].key)
            put_quoted(b, path->steps[i].key);
        else
            sb_buf_printf(b, "%d", (int)path->steps[i].index);
    }
}

static void put_opexpr(struct sb_buf *b, const struct sb_q_filter *filter, bool in_logic)
{
    static const char *const is_words[] = {"null", "not_null", "true", "false", "unknown"};
    if (filter->negate)
        sb_buf_puts(b, "not.");
    sb_buf_puts(b, sb_q_op_name(filter->op));
    if (filter->quant != SB_Q_QUANT_NONE)
        sb_buf_puts(b, filter->quant == SB_Q_QUANT_ANY ? "(any)" : "(all)");
    if (filter->fts_config)
        sb_buf_printf(b, "(%s)", filter->fts_config);
    sb_buf_putc(b, '.');
    unsigned flags = sb_q_op_flags(filter->op);
    if (flags & SB_Q_OPF_LIST) {
        sb_buf_putc(b, '(');
        for (size_t i = 0; i < filter->n_list; i++) {
            if (i)
                sb_buf_putc(b, ',');
            put_quoted(b, filter->list[i]);
        }
        sb_buf_putc(b, ')');
    } else if (flags & SB_Q_OPF_IS) {
        sb_buf_puts(b, is_words[filter->is_value]);
    } else if (in_logic) {
        put_quoted(b, filter->value);
    } else {
        sb_buf_append(b, filter->value, filter->value_len);
    }
}

static void put_group(struct sb_buf *b, const struct sb_q_cond *cond)
{
    sb_buf_putc(b, '(');
    for (size_t i = 0; i < cond->n_children; i++) {
        const struct sb_q_cond *child = cond->children[i];
        if (i)
            sb_buf_putc(b, ',');
        if (child->kind == SB_Q_COND_FILTER) {
            put_path(b, &child->filter->path);
            sb_buf_putc(b, '.');
            put_opexpr(b, child->filter, true);
        } else {
            sb_buf_puts(b, child->negate ? "not." : "");
            sb_buf_puts(b, child->kind == SB_Q_COND_OR ? "or" : "and");
            put_group(b, child);
        }
    }
    sb_buf_putc(b, ')');
}

static void put_items(struct sb_buf *b, struct sb_q_select_item *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct sb_q_select_item *item = items[i];
        if (i)
            sb_buf_putc(b, ',');
        if (item->kind == SB_Q_SEL_STAR) {
            sb_buf_putc(b, '*');
            continue;
        }
        if (item->spread)
            sb_buf_puts(b, "...");
        if (item->alias) {
            put_quoted(b, item->alias);
            sb_buf_putc(b, ':');
        }
        if (item->kind == SB_Q_SEL_COLUMN) {
            put_path(b, &item->path);
            if (item->cast)
                sb_buf_printf(b, "::%s", item->cast);
            continue;
        }
        put_quoted(b, item->relation);
        if (item->hint) {
            sb_buf_putc(b, '!');
            put_quoted(b, item->hint);
        }
        if (item->join != SB_Q_JOIN_DEFAULT)
            sb_buf_puts(b, item->join == SB_Q_JOIN_INNER ? "!inner" : "!left");
        sb_buf_putc(b, '(');
        put_items(b, item->children, item->n_children);
        sb_buf_putc(b, ')');
    }
}

static void emit(struct printer *pr, struct sb_buf *key, struct sb_buf *value)
{
    if (key->len > SB_Q_MAX_VALUE_LEN || value->len > SB_Q_MAX_VALUE_LEN ||
        pr->n == SB_Q_MAX_PARAMS) {
        pr->too_long = true;
    } else {
        struct sb_qs_pair *pair = &pr->pairs[pr->n++];
        pair->key = sb_arena_strndup(pr->arena, sb_buf_str(key), key->len);
        pair->key_len = key->len;
        pair->value = sb_arena_strndup(pr->arena, sb_buf_str(value), value->len);
        pair->value_len = value->len;
    }
    sb_buf_reset(key);
    sb_buf_reset(value);
}

static void put_prefix(struct sb_buf *b, const struct sb_q_level *level)
{
    for (size_t i = 0; i < level->n_embed; i++) {
        put_quoted(b, level->embed[i]);
        sb_buf_putc(b, '.');
    }
}

static void print_level(struct printer *pr, const struct sb_q_level *level, struct sb_buf *key,
                        struct sb_buf *value)
{
    for (size_t i = 0; level->where && i < level->where->n_children; i++) {
        const struct sb_q_cond *cond = level->where->children[i];
        put_prefix(key, level);
        if (cond->kind == SB_Q_COND_FILTER) {
            put_path(key, &cond->filter->path);
            put_opexpr(value, cond->filter, false);
        } else {
            sb_buf_puts(key, cond->negate ? "not." : "");
            sb_buf_puts(key, cond->kind == SB_Q_COND_OR ? "or" : "and");
            put_group(value, cond);
        }
        emit(pr, key, value);
    }
    if (level->n_order) {
        put_prefix(key, level);
        sb_buf_puts(key, "order");
        for (size_t i = 0; i < level->n_order; i++) {
            const struct sb_q_order_term *term = &level->order[i];
            if (i)
                sb_buf_putc(value, ',');
            if (term->relation) {
                put_quoted(value, term->relation);
                sb_buf_putc(value, '(');
            }
            put_path(value, &term->path);
            if (term->relation)
                sb_buf_putc(value, ')');
            sb_buf_puts(value, term->desc ? ".desc" : ".asc");
            if (term->nulls != SB_Q_NULLS_DEFAULT)
                sb_buf_puts(value, term->nulls == SB_Q_NULLS_FIRST ? ".nullsfirst" : ".nullslast");
        }
        emit(pr, key, value);
    }
    if (level->has_limit) {
        put_prefix(key, level);
        sb_buf_puts(key, "limit");
        sb_buf_printf(value, "%lld", (long long)level->limit);
        emit(pr, key, value);
    }
    if (level->has_offset) {
        put_prefix(key, level);
        sb_buf_puts(key, "offset");
        sb_buf_printf(value, "%lld", (long long)level->offset);
        emit(pr, key, value);
    }
}

static void print_names(struct printer *pr, const char *name, const char *const *names, size_t n,
                        struct sb_buf *key, struct sb_buf *value)
{
    sb_buf_puts(key, name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_buf_putc(value, ',');
        put_quoted(value, names[i]);
    }
    emit(pr, key, value);
}

/* Print query as pairs, parse them, and require the same dump. */
static void check_round_trip(const struct sb_query *query, size_t arena_used)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct printer *pr = sb_arena_alloc(&arena, sizeof(*pr));
    pr->arena = &arena;
    struct sb_buf key, value;
    sb_buf_init(&key);
    sb_buf_init(&value);
    if (query->has_select) {
        sb_buf_puts(&key, "select");
        put_items(&value, query->select, query->n_select);
        emit(pr, &key, &value);
    }
    print_level(pr, &query->root, &key, &value);
    for (size_t i = 0; i < query->n_embeds; i++)
        print_level(pr, query->embeds[i], &key, &value);
    if (query->has_columns)
        print_names(pr, "columns", query->columns, query->n_columns, &key, &value);
    if (query->has_on_conflict)
        print_names(pr, "on_conflict", query->on_conflict, query->n_on_conflict, &key, &value);
    sb_buf_free(&key);
    sb_buf_free(&value);

    /* Quoting makes text longer; near the arena budget a reparse may stop. */
    if (!pr->too_long && arena_used < SB_Q_MAX_AST_BYTES / 2) {
        struct sb_api_error err = {0};
        struct sb_query again;
        if (sb_query_parse(&arena, pr->pairs, pr->n, &again, &err) != 0) {
            struct sb_buf shown;
            sb_buf_init(&shown);
            for (size_t i = 0; i < pr->n; i++)
                sb_buf_printf(&shown, "%s=%s\n", pr->pairs[i].key, pr->pairs[i].value);
            sb_buf_printf(&shown, "-> %s | %s", err.message, err.details);
            fail("the printed query does not parse", sb_buf_str(&shown));
        }
        struct sb_buf first, second;
        sb_buf_init(&first);
        sb_buf_init(&second);
        sb_query_dump(query, &first);
        sb_query_dump(&again, &second);
        if (strcmp(sb_buf_str(&first), sb_buf_str(&second)) != 0) {
            sb_buf_printf(&first, "\n--- reparsed:\n%s", sb_buf_str(&second));
            fail("the printed query parses differently", sb_buf_str(&first));
        }
        sb_buf_free(&first);
        sb_buf_free(&second);
    }
    sb_arena_free(&arena);
}

static void parse_pairs(const struct sb_qs_pair *pairs, size_t n)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_query query;
    if (sb_query_parse(&arena, pairs, n, &query, &err) == 0) {
        if (sb_api_error_is_set(&err))
            fail("error set on success", err.message);
        check_query(&query);
        check_round_trip(&query, arena.used_total);
    } else {
        check_error(&err);
    }
    if (arena.used_total > ARENA_CEILING)
        fail("the parse used more arena than the bound", NULL);
    sb_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    /* The input as a raw query string. */
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_qs_pair *pairs;
    size_t n;
    if (sb_qs_split(&arena, text, size, &pairs, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++)
            if (!sb_qs_utf8_valid(pairs[i].key, pairs[i].key_len) ||
                !sb_qs_utf8_valid(pairs[i].value, pairs[i].value_len) ||
                memchr(pairs[i].key, 0, pairs[i].key_len) ||
                memchr(pairs[i].value, 0, pairs[i].value_len))
                fail("split let a bad pair through", NULL);
        parse_pairs(pairs, n);
    } else {
        check_error(&err);
    }
    sb_arena_free(&arena);

    /* The input as one decoded value, and as a key. */
    static const char *const keys[] = {"select", "id",      "or",         "order",
                                       "limit",  "columns", "a.b.not.and"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct sb_qs_pair pair = {keys[i], strlen(keys[i]), text, size, false};
        parse_pairs(&pair, 1);
    }
    struct sb_qs_pair as_key = {text, size, "eq.1", 4, false};
    parse_pairs(&as_key, 1);

    /* The standalone entry points. */
    sb_arena_init(&arena);
    struct sb_q_select_item **items;
    if (sb_query_parse_select(&arena, text, size, &items, &n, &err) == 0)
        check_items(items, n, 0);
    else
        check_error(&err);
    const char **elems;
    const char *why = NULL;
    if (sb_q_parse_array_literal(&arena, text, size, &elems, &n, &why) == 0) {
        if (n > SB_Q_MAX_LIST_VALUES)
            fail("array literal past the bound", NULL);
    } else if (!why) {
        fail("array literal failure without a reason", NULL);
    }
    sb_arena_free(&arena);
    return 0;
}
