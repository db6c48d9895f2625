/* The query AST: what a PostgREST query string asks for, as parsed by
 * src/query/parse.c from the decoded pairs of src/query/qs.c.
 *
 * The AST is syntax only. Names (columns, relations, hints, casts, json
 * keys) stay the strings the client sent; values stay text. A binder checks
 * every name against the model and types every value; an SQL compiler turns
 * the bound tree into SQL with bound parameters. Nothing here is ever
 * spliced into SQL.
 *
 * Shape of a request:
 *
 *   GET /posts?select=id,author:users!inner(name),comments(id,body)
 *             &id=gt.10&or=(a.eq.1,b.eq.2)&order=id.desc&limit=10
 *             &comments.order=id.desc&comments.limit=2&comments.body=ilike.*x*
 *
 *   query.select        the select tree (embeds nest their own items)
 *   query.root          the top level: where (id > 10 AND (a = 1 OR b = 2)),
 *                       order, limit, offset
 *   query.embeds[i]     one level per embedded resource that a parameter
 *                       names, here ["comments"]: its own where, order,
 *                       limit and offset, with paths relative to it
 *
 * Embed levels are keyed by their path: the names used in the keys
 * (`comments.limit`, `a.b.order`), which the binder matches against the
 * select tree (alias first, then relation name, as PostgREST does). A filter
 * such as `author=is.null` on an embed itself arrives as a filter on the
 * "column" `author` of the parent level; the binder recognises it.
 *
 * Every pointer is into the arena passed to the parser; every string is
 * NUL-terminated (the parser rejects NUL bytes), and lengths are given where
 * a caller may want them without strlen.
 *
 * Bounds: a hostile query string gets a 400, never a crash, a hang or
 * unbounded memory. The limits below are checked by the parser. */
#ifndef SB_QUERY_AST_H
#define SB_QUERY_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ---------------------------------------------------------------- */

#define SB_Q_MAX_PARAMS 200            /* pairs in one query string */
#define SB_Q_MAX_VALUE_LEN (64 * 1024) /* bytes of one decoded key or value */
#define SB_Q_MAX_LOGIC_DEPTH 32        /* nested and()/or() groups, the param's own included */
#define SB_Q_MAX_EMBED_DEPTH 8         /* nested embeds in select=, and segments of a key's path */
#define SB_Q_MAX_SELECT_ITEMS 500      /* select items in the whole tree */
#define SB_Q_MAX_LIST_VALUES 1000      /* elements of one in.(...) or (any)/(all) {...} list */
#define SB_Q_MAX_ORDER_TERMS 1000      /* order terms, all order params together */
#define SB_Q_MAX_CONDITIONS 1000       /* filters, top level and inside logic trees together */
#define SB_Q_MAX_COLUMNS 1000          /* names in columns= and in on_conflict= (each) */
#define SB_Q_MAX_JSON_STEPS 32         /* -> / ->> steps of one path */
#define SB_Q_MAX_JSON_INDEX 2147483647 /* |index| of a json array step (PostgreSQL int4) */
#define SB_Q_MAX_AST_BYTES (8u << 20)  /* arena bytes one parse may use, a backstop */

/* ---- operators ------------------------------------------------------------- */

#define SB_Q_OPF_QUANT 0x01u   /* takes (any) / (all): eq gt gte lt lte like ilike match imatch */
#define SB_Q_OPF_PATTERN 0x02u /* like / ilike: '*' in the value means '%' */
#define SB_Q_OPF_FTS 0x04u     /* full-text search: optional (config) */
#define SB_Q_OPF_LIST 0x08u    /* in.(a,b): the operand is a list */
#define SB_Q_OPF_IS 0x10u      /* is.null|not_null|true|false|unknown */

/* X(NAME, "token", flags): one line per PostgREST filter operator. */
#define SB_Q_OP_LIST(X)                                                                            \
    X(EQ, "eq", SB_Q_OPF_QUANT)                                                                    \
    X(NEQ, "neq", 0)                                                                               \
    X(GT, "gt", SB_Q_OPF_QUANT)                                                                    \
    X(GTE, "gte", SB_Q_OPF_QUANT)                                                                  \
    X(LT, "lt", SB_Q_OPF_QUANT)                                                                    \
    X(LTE, "lte", SB_Q_OPF_QUANT)                                                                  \
    X(LIKE, "like", SB_Q_OPF_QUANT | SB_Q_OPF_PATTERN)                                             \
    X(ILIKE, "ilike", SB_Q_OPF_QUANT | SB_Q_OPF_PATTERN)                                           \
    X(MATCH, "match", SB_Q_OPF_QUANT)                                                              \
    X(IMATCH, "imatch", SB_Q_OPF_QUANT)                                                            \
    X(IN, "in", SB_Q_OPF_LIST)                                                                     \
    X(IS, "is", SB_Q_OPF_IS)                                                                       \
    X(ISDISTINCT, "isdistinct", 0)                                                                 \
    X(FTS, "fts", SB_Q_OPF_FTS)                                                                    \
    X(PLFTS, "plfts", SB_Q_OPF_FTS)                                                                \
    X(PHFTS, "phfts", SB_Q_OPF_FTS)                                                                \
    X(WFTS, "wfts", SB_Q_OPF_FTS)                                                                  \
    X(CS, "cs", 0)                                                                                 \
    X(CD, "cd", 0)                                                                                 \
    X(OV, "ov", 0)                                                                                 \
    X(SL, "sl", 0)                                                                                 \
    X(SR, "sr", 0)                                                                                 \
    X(NXR, "nxr", 0)                                                                               \
    X(NXL, "nxl", 0)                                                                               \
    X(ADJ, "adj", 0)

enum sb_q_op {
#define SB_Q_OP_ENUM(name, token, flags) SB_Q_OP_##name,
    SB_Q_OP_LIST(SB_Q_OP_ENUM)
#undef SB_Q_OP_ENUM
        SB_Q_OP_COUNT
};

/* The operator's token ("eq", "wfts", ...). */
const char *sb_q_op_name(enum sb_q_op op);
/* Its SB_Q_OPF_* flags. */
unsigned sb_q_op_flags(enum sb_q_op op);
/* The operator spelled by name[0..len) (case-sensitive, as PostgREST), or -1. */
int sb_q_op_lookup(const char *name, size_t len);

/* ---- paths ----------------------------------------------------------------- */

/* One json step: `->key`, `->>key`, `->0`, `->>-1`. A quoted key ("0") is
 * a key, never an index. */
struct sb_q_json_step {
    const char *key; /* member name (may be ""), or NULL for an array index */
    int32_t index;   /* when key == NULL; negative counts from the end */
    bool as_text;    /* ->> (true) or -> (false) */
};

/* A column with an optional json path: `data->a->>b`. */
struct sb_q_path {
    const char *column; /* never NULL, never "" */
    struct sb_q_json_step *steps;
    size_t n_steps;
};

/* ---- filters and logic ----------------------------------------------------- */

enum sb_q_quant { SB_Q_QUANT_NONE, SB_Q_QUANT_ANY, SB_Q_QUANT_ALL };

enum sb_q_is { SB_Q_IS_NULL, SB_Q_IS_NOT_NULL, SB_Q_IS_TRUE, SB_Q_IS_FALSE, SB_Q_IS_UNKNOWN };

/* One `path=[not.]op[(any|all)|(config)].value` (or `path.op.value` inside
 * a logic tree). Which operand fields are set depends on op:
 *   in          list/n_list: the elements, quotes and escapes removed;
 *               `in.()` is the empty list (matches no row)
 *   is          is_value
 *   (any|all)   value: the raw array literal `{a,b}`; list/n_list: its
 *               elements (see sb_q_parse_array_literal)
 *   like/ilike  value (and list) with every '*' already turned into '%'
 *   fts ops     value: the query text; fts_config: NULL or the config
 *   the rest    value: the text after the operator's '.', as sent (cs/cd/ov
 *               `{a,b}` arrays, `[1,2)` ranges and json stay raw text for
 *               the binder, which knows the column's type) */
struct sb_q_filter {
    struct sb_q_path path; /* relative to the filter's level */
    enum sb_q_op op;
    bool negate; /* not.op */
    enum sb_q_quant quant;
    const char *value; /* NULL for in and is */
    size_t value_len;
    const char **list;
    size_t n_list;
    enum sb_q_is is_value;
    const char *fts_config;
};

enum sb_q_cond_kind { SB_Q_COND_FILTER, SB_Q_COND_AND, SB_Q_COND_OR };

/* A condition tree. A filter's own `not.` is filter->negate; `negate` here
 * is the `not.` of a group (`not.or=(...)`, `not.and(...)`). */
struct sb_q_cond {
    enum sb_q_cond_kind kind;
    bool negate;                 /* groups only */
    struct sb_q_filter *filter;  /* SB_Q_COND_FILTER */
    struct sb_q_cond **children; /* groups: at least one child */
    size_t n_children;
};

/* ---- order ----------------------------------------------------------------- */

enum sb_q_nulls { SB_Q_NULLS_DEFAULT, SB_Q_NULLS_FIRST, SB_Q_NULLS_LAST };

/* `col.desc.nullslast`, `data->>x.asc`, or `rel(col).desc` (ordering by a
 * column of a to-one embed: relation is then the embed's name or alias). */
struct sb_q_order_term {
    const char *relation; /* NULL for a plain column */
    struct sb_q_path path;
    bool desc; /* asc is the default */
    enum sb_q_nulls nulls;
};

/* ---- select ---------------------------------------------------------------- */

enum sb_q_sel_kind { SB_Q_SEL_STAR, SB_Q_SEL_COLUMN, SB_Q_SEL_EMBED };
enum sb_q_join { SB_Q_JOIN_DEFAULT, SB_Q_JOIN_INNER, SB_Q_JOIN_LEFT };

/* One item of select=: `*`, `[alias:]col[->json][::cast]`, or an embed
 * `[alias:]rel[!hint][!inner|!left](items)` / `...rel[!hint][!join](items)`.
 * An embed may have no items (`rel!inner()`: filter by it, return nothing
 * of it). */
struct sb_q_select_item {
    enum sb_q_sel_kind kind;
    const char *alias; /* NULL when none; never set on STAR or spread */
    /* SB_Q_SEL_COLUMN */
    struct sb_q_path path;
    const char *cast; /* NULL or the type name after :: */
    /* SB_Q_SEL_EMBED */
    const char *relation;
    const char *hint; /* !fk_name or !column; NULL when none */
    enum sb_q_join join;
    bool spread; /* ...rel(...) */
    struct sb_q_select_item **children;
    size_t n_children;
};

/* ---- the whole query ------------------------------------------------------- */

/* The top level or one embedded resource: everything a parameter says
 * about rows at that level. */
struct sb_q_level {
    const char **embed;      /* path of embed names from the top; NULL for the root */
    size_t n_embed;          /* 0 for the root, 1..SB_Q_MAX_EMBED_DEPTH */
    struct sb_q_cond *where; /* SB_Q_COND_AND of the level's filters and logic
                                params in query-string order; NULL if none */
    struct sb_q_order_term *order;
    size_t n_order; /* 0 when no order param */
    bool has_limit;
    int64_t limit; /* 0..INT64_MAX */
    bool has_offset;
    int64_t offset; /* 0..INT64_MAX */
};

struct sb_query {
    /* select=: when absent, has_select is false and select holds one STAR
     * item (PostgREST's default); `select=` (empty) gives zero items. */
    bool has_select;
    struct sb_q_select_item **select;
    size_t n_select;

    struct sb_q_level root;
    struct sb_q_level **embeds; /* levels named by keys, first-seen order */
    size_t n_embeds;

    /* columns= (for inserts) and on_conflict= (upserts): names in order,
     * duplicates dropped. */
    bool has_columns;
    const char **columns;
    size_t n_columns;
    bool has_on_conflict;
    const char **on_conflict;
    size_t n_on_conflict;
};

#endif
