/* The query-string parser's entry points (see parse.h): sorts each decoded
 * pair into select, columns, on_conflict, order, limit, offset, logic or
 * filter by its key, hands the value to the matching parser (select to
 * parse_select.c, filters and logic trees to parse_filter.c; order, limits
 * and column lists here), and files the result under the level (top or
 * embedded resource) that the key's path names. */
#include "query/parse.h"

#include <string.h>

#include "query/parse_int.h"

/* A key: up to SB_Q_MAX_EMBED_DEPTH embed names, an optional "not" and the
 * last segment, then an optional json path. */
#define MAX_KEY_SEGMENTS (SB_Q_MAX_EMBED_DEPTH + 2)

struct key {
    const char *segs[MAX_KEY_SEGMENTS];
    bool quoted[MAX_KEY_SEGMENTS];
    size_t n;
    struct sb_q_path json; /* steps after the last segment */
};

/* A level under construction: its conditions are gathered here and become
 * its where node at the end. */
struct level_state {
    struct sb_q_level *level;
    struct sb_ptrvec conds;
};

struct parser {
    struct qp_ctx ctx;
    struct sb_query *query;
    struct level_state *levels; /* [0] is the root */
    size_t n_levels;
    struct sb_ptrvec embeds; /* the levels past the root, for query->embeds */
};

/* ---- keys and levels --------------------------------------------------------- */

/* key := name ('.' name)* json-path */
static int parse_key(struct qp_cur *cur, struct key *key)
{
    memset(key, 0, sizeof(*key));
    for (;;) {
        while (qp_peek(cur) == ' ')
            cur->pos++;
        if (key->n == MAX_KEY_SEGMENTS)
            return qp_error_at(cur, cur->pos, "embedded resources nested more than %d levels deep",
                               SB_Q_MAX_EMBED_DEPTH);
        if (qp_name(cur, &key->segs[key->n], &key->quoted[key->n]) != 0)
            return -1;
        key->n++;
        if (!qp_accept(cur, "."))
            break;
    }
    if (qp_json_path(cur, &key->json) != 0)
        return -1;
    qp_ws(cur);
    if (!qp_eof(cur))
        return qp_unexpected(cur, "\".\", \"->\", \"->>\" or end of input");
    return 0;
}

static bool key_last_is(const struct key *key, const char *word)
{
    return key->json.n_steps == 0 && !key->quoted[key->n - 1] &&
           strcmp(key->segs[key->n - 1], word) == 0;
}

static struct level_state *level_for(struct parser *p, struct qp_cur *cur, const char *const *names,
                                     size_t n)
{
    if (n > SB_Q_MAX_EMBED_DEPTH) {
        qp_error_at(cur, 0, "embedded resources nested more than %d levels deep",
                    SB_Q_MAX_EMBED_DEPTH);
        return NULL;
    }
    for (size_t i = 0; i < p->n_levels; i++) {
        struct sb_q_level *level = p->levels[i].level;
        if (level->n_embed != n)
            continue;
        size_t k = 0;
        while (k < n && strcmp(level->embed[k], names[k]) == 0)
            k++;
        if (k == n)
            return &p->levels[i];
    }
    struct sb_arena *arena = p->ctx.arena;
    struct sb_q_level *level = sb_arena_alloc(arena, sizeof(*level));
    level->embed = sb_arena_alloc(arena, n * sizeof(*level->embed));
    memcpy(level->embed, names, n * sizeof(*names));
    level->n_embed = n;
    sb_ptrvec_push(arena, &p->embeds, level);
    struct level_state *state = &p->levels[p->n_levels++];
    memset(state, 0, sizeof(*state));
    state->level = level;
    return state;
}

/* ---- order -------------------------------------------------------------------- */

/* ['.' (asc|desc)] ['.' (nullsfirst|nullslast)] */
static int order_modifiers(struct qp_cur *cur, struct sb_q_order_term *term)
{
    bool have_dir = false, have_nulls = false;
    while (qp_peek(cur) == '.') {
        if (have_nulls)
            return qp_unexpected(cur, "\",\" or end of input");
        cur->pos++;
        size_t start = cur->pos;
        while (!qp_eof(cur) && qp_peek(cur) >= 'a' && qp_peek(cur) <= 'z')
            cur->pos++;
        size_t n = cur->pos - start;
        const char *word = cur->text + start;
        cur->pos = start;
        if (!have_dir && n == 3 && memcmp(word, "asc", 3) == 0) {
            have_dir = true;
        } else if (!have_dir && n == 4 && memcmp(word, "desc", 4) == 0) {
            have_dir = true;
            term->desc = true;
        } else if (n == 10 && memcmp(word, "nullsfirst", 10) == 0) {
            have_nulls = true;
            term->nulls = SB_Q_NULLS_FIRST;
        } else if (n == 9 && memcmp(word, "nullslast", 9) == 0) {
            have_nulls = true;
            term->nulls = SB_Q_NULLS_LAST;
        } else {
            return qp_unexpected(cur, have_dir ? "\"nullsfirst\" or \"nullslast\""
                                               : "\"asc\", \"desc\", \"nullsfirst\" or "
                                                 "\"nullslast\"");
        }
        cur->pos = start + n;
    }
    return 0;
}

/* order := term (',' term)*
 * term  := (name '(' field ')' | name json-path) modifiers */
static int order_value(struct qp_cur *cur, struct sb_q_level *level)
{
    struct sb_ptrvec terms = {0};
    for (;;) {
        if (++cur->ctx->n_order > SB_Q_MAX_ORDER_TERMS)
            return qp_error_at(cur, cur->pos, "more than %d order terms", SB_Q_MAX_ORDER_TERMS);
        if (qp_budget(cur) != 0)
            return -1;
        struct sb_q_order_term *term = sb_arena_alloc(cur->ctx->arena, sizeof(*term));
        qp_ws(cur);
        const char *name;
        if (qp_name(cur, &name, NULL) != 0)
            return -1;
        qp_ws(cur);
        if (qp_peek(cur) == '(') {
            cur->pos++;
            term->relation = name;
            if (qp_field(cur, &term->path) != 0)
                return -1;
            if (!qp_accept(cur, ")"))
                return qp_unexpected(cur, "\"->\", \"->>\" or \")\"");
        } else {
            term->path.column = name;
            if (qp_json_path(cur, &term->path) != 0)
                return -1;
        }
        if (order_modifiers(cur, term) != 0)
            return -1;
        sb_ptrvec_push(cur->ctx->arena, &terms, term);
        qp_ws(cur);
        if (qp_accept(cur, ","))
            continue;
        if (qp_eof(cur))
            break;
        return qp_unexpected(cur, "delimiter (.), \",\" or end of input");
    }
    level->order = sb_arena_alloc(cur->ctx->arena, terms.len * sizeof(*level->order));
    for (size_t i = 0; i < terms.len; i++)
        level->order[i] = *(struct sb_q_order_term *)terms.items[i];
    level->n_order = terms.len;
    return 0;
}

/* ---- limit, offset, column lists ----------------------------------------------- */

static int count_value(struct qp_cur *cur, int64_t *out)
{
    if (qp_eof(cur) || qp_peek(cur) < '0' || qp_peek(cur) > '9')
        return qp_unexpected(cur, "a non-negative integer");
    int64_t value = 0;
    while (!qp_eof(cur) && qp_peek(cur) >= '0' && qp_peek(cur) <= '9') {
        int digit = qp_peek(cur) - '0';
        if (value > (INT64_MAX - digit) / 10)
            return qp_error_at(cur, 0, "out of range: at most %lld", (long long)INT64_MAX);
        value = value * 10 + digit;
        cur->pos++;
    }
    if (!qp_eof(cur))
        return qp_unexpected(cur, "digit or end of input");
    *out = value;
    return 0;
}

/* names := name (',' name)*, duplicates dropped. */
static int name_list(struct qp_cur *cur, const char ***out, size_t *n_out)
{
    struct sb_ptrvec names = {0};
    for (;;) {
        qp_ws(cur);
        if (names.len == SB_Q_MAX_COLUMNS)
            return qp_error_at(cur, cur->pos, "more than %d names", SB_Q_MAX_COLUMNS);
        const char *name;
        if (qp_name(cur, &name, NULL) != 0)
            return -1;
        bool seen = false;
        for (size_t i = 0; i < names.len && !seen; i++)
            seen = strcmp(names.items[i], name) == 0;
        if (!seen)
            sb_ptrvec_push(cur->ctx->arena, &names, (void *)name);
        qp_ws(cur);
        if (qp_accept(cur, ","))
            continue;
        if (qp_eof(cur))
            break;
        return qp_unexpected(cur, "\",\" or end of input");
    }
    *out = (const char **)names.items;
    *n_out = names.len;
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------ */

static int duplicate(struct parser *p, const struct sb_qs_pair *pair)
{
    size_t shown = qp_utf8_cut(pair->key, pair->key_len, 200);
    sb_api_error_set(p->ctx.err, 400, "PGRST100", "duplicate query parameter (%.*s%s)", (int)shown,
                     pair->key, shown < pair->key_len ? "..." : "");
    sb_api_error_details(p->ctx.err, "select, columns, on_conflict, order, limit and offset may "
                                     "each appear once per resource");
    return -1;
}

static int check_pair(struct parser *p, const struct sb_qs_pair *pair, size_t index)
{
    const char *problem = NULL;
    if (pair->key_len > SB_Q_MAX_VALUE_LEN || pair->value_len > SB_Q_MAX_VALUE_LEN)
        problem = "is longer than 65536 bytes";
    else if (memchr(pair->key, '\0', pair->key_len) || memchr(pair->value, '\0', pair->value_len))
        problem = "holds a NUL byte";
    else if (!sb_qs_utf8_valid(pair->key, pair->key_len) ||
             !sb_qs_utf8_valid(pair->value, pair->value_len))
        problem = "is not valid UTF-8";
    if (!problem)
        return 0;
    sb_api_error_set(p->ctx.err, 400, "PGRST100", "invalid query string");
    sb_api_error_details(p->ctx.err, "parameter %zu: the key or value %s", index + 1, problem);
    return -1;
}

static void add_condition(struct parser *p, struct level_state *state, struct sb_q_cond *cond)
{
    sb_ptrvec_push(p->ctx.arena, &state->conds, cond);
}

static int filter_param(struct parser *p, const struct sb_qs_pair *pair, struct key *key,
                        struct qp_cur *key_cur)
{
    struct level_state *state = level_for(p, key_cur, key->segs, key->n - 1);
    if (!state)
        return -1;
    struct qp_cur cur;
    qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len, "filter");
    if (qp_count_condition(&cur) != 0)
        return -1;
    struct sb_q_filter *filter = sb_arena_alloc(p->ctx.arena, sizeof(*filter));
    filter->path = key->json;
    filter->path.column = key->segs[key->n - 1];
    if (qp_filter_value(&cur, filter) != 0)
        return -1;
    struct sb_q_cond *cond = sb_arena_alloc(p->ctx.arena, sizeof(*cond));
    cond->kind = SB_Q_COND_FILTER;
    cond->filter = filter;
    add_condition(p, state, cond);
    return 0;
}

static int logic_param(struct parser *p, const struct sb_qs_pair *pair, struct key *key,
                       struct qp_cur *key_cur)
{
    bool is_or = strcmp(key->segs[key->n - 1], "or") == 0;
    size_t n_path = key->n - 1;
    bool negate =
        n_path > 0 && !key->quoted[n_path - 1] && strcmp(key->segs[n_path - 1], "not") == 0;
    if (negate)
        n_path--;
    struct level_state *state = level_for(p, key_cur, key->segs, n_path);
    if (!state)
        return -1;
    struct qp_cur cur;
    qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len, "logic tree");
    struct sb_q_cond *cond;
    if (qp_logic_value(&cur, is_or, negate, &cond) != 0)
        return -1;
    add_condition(p, state, cond);
    return 0;
}

static int level_param(struct parser *p, const struct sb_qs_pair *pair, struct key *key,
                       struct qp_cur *key_cur)
{
    struct level_state *state = level_for(p, key_cur, key->segs, key->n - 1);
    if (!state)
        return -1;
    struct sb_q_level *level = state->level;
    const char *word = key->segs[key->n - 1];
    struct qp_cur cur;
    if (strcmp(word, "order") == 0) {
        if (level->n_order)
            return duplicate(p, pair);
        qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len, "order");
        return order_value(&cur, level);
    }
    bool is_limit = strcmp(word, "limit") == 0;
    if (is_limit ? level->has_limit : level->has_offset)
        return duplicate(p, pair);
    qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len,
                is_limit ? "limit parameter" : "offset parameter");
    if (count_value(&cur, is_limit ? &level->limit : &level->offset) != 0)
        return -1;
    if (is_limit)
        level->has_limit = true;
    else
        level->has_offset = true;
    return 0;
}

static bool key_is(const struct sb_qs_pair *pair, const char *word)
{
    return pair->key_len == strlen(word) && memcmp(pair->key, word, pair->key_len) == 0;
}

static int one_param(struct parser *p, const struct sb_qs_pair *pair)
{
    struct sb_query *query = p->query;
    struct qp_cur cur;
    if (key_is(pair, "select")) {
        if (query->has_select)
            return duplicate(p, pair);
        query->has_select = true;
        qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len, "select parameter");
        return qp_select(&cur, &query->select, &query->n_select);
    }
    if (key_is(pair, "columns")) {
        if (query->has_columns)
            return duplicate(p, pair);
        query->has_columns = true;
        qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len, "columns parameter");
        return name_list(&cur, &query->columns, &query->n_columns);
    }
    if (key_is(pair, "on_conflict")) {
        if (query->has_on_conflict)
            return duplicate(p, pair);
        query->has_on_conflict = true;
        qp_cur_init(&cur, &p->ctx, pair->value, pair->value_len, "on_conflict parameter");
        return name_list(&cur, &query->on_conflict, &query->n_on_conflict);
    }
    struct key key;
    qp_cur_init(&cur, &p->ctx, pair->key, pair->key_len, "tree path");
    if (parse_key(&cur, &key) != 0)
        return -1;
    if (key_last_is(&key, "order") || key_last_is(&key, "limit") || key_last_is(&key, "offset"))
        return level_param(p, pair, &key, &cur);
    if (key_last_is(&key, "and") || key_last_is(&key, "or"))
        return logic_param(p, pair, &key, &cur);
    return filter_param(p, pair, &key, &cur);
}

int sb_query_parse(struct sb_arena *arena, const struct sb_qs_pair *pairs, size_t n_pairs,
                   struct sb_query *out, struct sb_api_error *err)
{
    memset(out, 0, sizeof(*out));
    struct parser p;
    memset(&p, 0, sizeof(p));
    p.ctx.arena = arena;
    p.ctx.err = err;
    p.ctx.arena_start = arena->used_total;
    p.query = out;
    if (n_pairs > SB_Q_MAX_PARAMS) {
        sb_api_error_set(err, 400, "PGRST100", "invalid query string");
        sb_api_error_details(err, "%zu parameters; at most %d are allowed", n_pairs,
                             SB_Q_MAX_PARAMS);
        return -1;
    }
    /* One level per parameter at most, plus the root. */
    p.levels = sb_arena_alloc(arena, (n_pairs + 1) * sizeof(*p.levels));
    p.levels[0].level = &out->root;
    p.n_levels = 1;
    for (size_t i = 0; i < n_pairs; i++) {
        const struct sb_qs_pair *pair = &pairs[i];
        if (pair->bare)
            continue;
        if (check_pair(&p, pair, i) != 0 || one_param(&p, pair) != 0)
            return -1;
    }
    for (size_t i = 0; i < p.n_levels; i++) {
        struct level_state *state = &p.levels[i];
        if (state->conds.len == 0)
            continue;
        struct sb_q_cond *where = sb_arena_alloc(arena, sizeof(*where));
        where->kind = SB_Q_COND_AND;
        where->children = (struct sb_q_cond **)state->conds.items;
        where->n_children = state->conds.len;
        state->level->where = where;
    }
    out->embeds = (struct sb_q_level **)p.embeds.items;
    out->n_embeds = p.embeds.len;
    if (!out->has_select) {
        struct sb_q_select_item *star = sb_arena_alloc(arena, sizeof(*star));
        star->kind = SB_Q_SEL_STAR;
        out->select = sb_arena_alloc(arena, sizeof(*out->select));
        out->select[0] = star;
        out->n_select = 1;
    }
    return 0;
}

int sb_query_parse_select(struct sb_arena *arena, const char *text, size_t len,
                          struct sb_q_select_item ***items, size_t *n_items,
                          struct sb_api_error *err)
{
    *items = NULL;
    *n_items = 0;
    struct qp_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.arena = arena;
    ctx.err = err;
    ctx.arena_start = arena->used_total;
    if (len > SB_Q_MAX_VALUE_LEN || memchr(text, '\0', len) || !sb_qs_utf8_valid(text, len)) {
        sb_api_error_set(err, 400, "PGRST100", "invalid select parameter");
        sb_api_error_details(err, "the value is longer than 65536 bytes, holds a NUL byte or is "
                                  "not valid UTF-8");
        return -1;
    }
    struct qp_cur cur;
    qp_cur_init(&cur, &ctx, text, len, "select parameter");
    return qp_select(&cur, items, n_items);
}

const struct sb_q_level *sb_query_level(const struct sb_query *query, const char *const *names,
                                        size_t n)
{
    if (n == 0)
        return &query->root;
    for (size_t i = 0; i < query->n_embeds; i++) {
        const struct sb_q_level *level = query->embeds[i];
        if (level->n_embed != n)
            continue;
        size_t k = 0;
        while (k < n && strcmp(level->embed[k], names[k]) == 0)
            k++;
        if (k == n)
            return level;
    }
    return NULL;
}
