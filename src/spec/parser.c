/* Parser of the spec language: recursive descent over the token array from
 * lexer.c, one function per grammar rule (docs/grammar.ebnf; the rule is in
 * the comment above each function). It builds the model (model.h) in the
 * model's arena without resolving names: that is check.c's job. Expressions
 * are parsed by parse_expr.c.
 *
 * Error recovery: after an error the parser reports nothing more until it
 * re-synchronises at the next declaration (a token that starts a line), so
 * one mistake gives one message and the rest of the file is still checked. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/parser_int.h"
#include "spec/spec.h"
#include "util/die.h"

/* ---- token helpers ---------------------------------------------------- */

const struct sb_token *sb_p_peek(struct parser *p)
{
    return &p->toks.items[p->pos];
}

const struct sb_token *sb_p_peek_at(struct parser *p, size_t ahead)
{
    size_t i = p->pos + ahead;
    return &p->toks.items[i < p->toks.len ? i : p->toks.len - 1];
}

const struct sb_token *sb_p_next(struct parser *p)
{
    const struct sb_token *tok = &p->toks.items[p->pos];
    if (tok->kind != SB_TOK_EOF)
        p->pos++;
    return tok;
}

bool sb_p_is(struct parser *p, enum sb_token_kind kind)
{
    return sb_p_peek(p)->kind == kind;
}

bool sb_p_tok_is_word(struct parser *p, const struct sb_token *tok, const char *word)
{
    size_t n = strlen(word);
    return tok->kind == SB_TOK_IDENT && tok->length == n && memcmp(p->src + tok->offset, word, n) == 0;
}

bool sb_p_is_word(struct parser *p, const char *word)
{
    return sb_p_tok_is_word(p, sb_p_peek(p), word);
}

bool sb_p_accept(struct parser *p, enum sb_token_kind kind)
{
    if (!sb_p_is(p, kind))
        return false;
    sb_p_next(p);
    return true;
}

void sb_p_error(struct parser *p, size_t offset, size_t length, const char *fmt, ...)
{
    if (p->panic)
        return;
    p->panic = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_diag_error(p->diags, offset, length, "%s", msg);
}

static void describe(struct parser *p, const struct sb_token *tok, char *out, size_t size)
{
    if (tok->kind == SB_TOK_IDENT || tok->kind == SB_TOK_INT || tok->kind == SB_TOK_FLOAT) {
        int n = tok->length > 40 ? 40 : (int)tok->length;
        snprintf(out, size, "'%.*s'%s", n, p->src + tok->offset, tok->length > 40 ? "..." : "");
    } else {
        snprintf(out, size, "%s", sb_token_shown(tok->kind));
    }
}

void sb_p_error_here(struct parser *p, const char *expected)
{
    const struct sb_token *tok = sb_p_peek(p);
    char found[64];
    describe(p, tok, found, sizeof(found));
    sb_p_error(p, tok->offset, tok->length, "expected %s, found %s", expected, found);
}

bool sb_p_expect(struct parser *p, enum sb_token_kind kind, const char *what)
{
    if (sb_p_accept(p, kind))
        return true;
    const struct sb_token *tok = sb_p_peek(p);
    char found[64];
    describe(p, tok, found, sizeof(found));
    sb_p_error(p, tok->offset, tok->length, "expected %s %s, found %s", sb_token_shown(kind), what,
               found);
    return false;
}

const char *sb_p_name(struct parser *p, const char *what, size_t *offset)
{
    const struct sb_token *tok = sb_p_peek(p);
    if (tok->kind != SB_TOK_IDENT) {
        sb_p_error_here(p, what);
        return NULL;
    }
    sb_p_next(p);
    *offset = tok->offset;
    const char *word = p->src + tok->offset;
    if (tok->length > SB_SPEC_MAX_NAME) {
        sb_p_error(p, tok->offset, tok->length, "name is %zu characters long; the limit is %d",
                   tok->length, SB_SPEC_MAX_NAME);
        return NULL;
    }
    char *name = sb_arena_strndup(p->arena, word, tok->length);
    for (size_t i = 0; i < tok->length; i++) {
        if (name[i] >= 'A' && name[i] <= 'Z') {
            /* suggest snake_case: firstName -> first_name, URL -> url */
            char lower[2 * SB_SPEC_MAX_NAME + 1];
            size_t n = 0;
            for (size_t k = 0; k < tok->length; k++) {
                char ch = name[k];
                bool upper = ch >= 'A' && ch <= 'Z';
                if (upper && k > 0 && ((name[k - 1] >= 'a' && name[k - 1] <= 'z') ||
                                       (name[k - 1] >= '0' && name[k - 1] <= '9')))
                    lower[n++] = '_';
                lower[n++] = upper ? (char)(ch - 'A' + 'a') : ch;
            }
            lower[n] = '\0';
            sb_diag_error(p->diags, tok->offset, tok->length,
                          "names are lower case; did you mean '%s'?", lower);
            break;
        }
    }
    return name;
}

/* Skip to the next line-starting token outside nested brackets (or to the
 * closing '}' of the current block), ending panic mode. */
void sb_p_sync_line(struct parser *p)
{
    int depth = 0;
    bool first = true;
    for (;;) {
        const struct sb_token *tok = sb_p_peek(p);
        if (tok->kind == SB_TOK_EOF)
            break;
        if (!first && tok->bol && depth <= 0)
            break;
        if (tok->kind == SB_TOK_RBRACE && depth <= 0)
            break;
        if (tok->kind == SB_TOK_LBRACE || tok->kind == SB_TOK_LPAREN || tok->kind == SB_TOK_LBRACKET)
            depth++;
        else if (tok->kind == SB_TOK_RBRACE || tok->kind == SB_TOK_RPAREN || tok->kind == SB_TOK_RBRACKET)
            depth--;
        sb_p_next(p);
        first = false;
    }
    p->panic = false;
}

/* After a declaration: the next one must start on a new line. */
void sb_p_end_of_line(struct parser *p)
{
    const struct sb_token *tok = sb_p_peek(p);
    if (!p->panic && !tok->bol && tok->kind != SB_TOK_RBRACE && tok->kind != SB_TOK_EOF) {
        char found[64];
        describe(p, tok, found, sizeof(found));
        sb_p_error(p, tok->offset, tok->length, "unexpected %s: one declaration per line", found);
    }
    if (p->panic)
        sb_p_sync_line(p);
}

size_t sb_p_prev_end(struct parser *p)
{
    if (p->pos == 0)
        return 0;
    const struct sb_token *tok = &p->toks.items[p->pos - 1];
    return tok->offset + tok->length;
}

static const char *const type_words[] = {
#define SB_TYPE(name, kw, sqlite, pg) kw,
#include "spec/type_list.h"
#undef SB_TYPE
    NULL,
};

/* Common names from other languages, mapped to ours for suggestions. */
static const char *type_alias(const char *word, size_t n)
{
    static const char *const alias_names[] = {"string", "integer", "boolean", "datetime", "double", "number", NULL};
    static const char *const alias_types[] = {"text", "int", "bool", "timestamp", "float", "float"};
    static const char *const aliases[][2] = {
        {"string", "text"},     {"varchar", "text"},  {"str", "text"},
        {"integer", "int"},     {"bigint", "int"},    {"long", "int"},
        {"boolean", "bool"},    {"datetime", "timestamp"}, {"timestamptz", "timestamp"},
        {"double", "float"},    {"real", "float"},    {"number", "float"},
        {"numeric", "decimal"}, {"money", "decimal"}, {"jsonb", "json"},
    };
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strlen(aliases[i][0]) == n && memcmp(aliases[i][0], word, n) == 0)
            return aliases[i][1];
    /* a misspelt alias ("strng") still deserves its suggestion */
    const char *near = sb_suggest(word, n, alias_names);
    for (size_t i = 0; near && alias_names[i]; i++)
        if (alias_names[i] == near)
            return alias_types[i];
    return NULL;
}

/* number = [ "-" ] ( INT | FLOAT ); for integer-only bounds float is refused */
static bool parse_bound(struct parser *p, bool allow_float, int64_t *ival, double *fval,
                        const char **text)
{
    size_t start = sb_p_peek(p)->offset;
    bool neg = sb_p_accept(p, SB_TOK_MINUS);
    const struct sb_token *tok = sb_p_peek(p);
    if (tok->kind == SB_TOK_INT) {
        sb_p_next(p);
        static const char int64_min_digits[] = "9223372036854775808";
        if (neg && tok->length == sizeof(int64_min_digits) - 1 &&
            memcmp(p->src + tok->offset, int64_min_digits, tok->length) == 0) {
            *ival = INT64_MIN; /* the one value whose magnitude is not an int64 */
            *fval = (double)*ival;
            *text = sb_arena_strndup(p->arena, p->src + start, sb_p_prev_end(p) - start);
            return true;
        }
        if (!sb_p_int(p, tok, ival))
            return false;
        if (neg)
            *ival = -*ival;
        *fval = (double)*ival;
    } else if (tok->kind == SB_TOK_FLOAT && allow_float) {
        sb_p_next(p);
        *fval = strtod(sb_arena_strndup(p->arena, p->src + tok->offset, tok->length), NULL);
        if (neg)
            *fval = -*fval;
        *ival = 0;
    } else if (tok->kind == SB_TOK_FLOAT) {
        sb_p_error(p, tok->offset, tok->length, "expected a whole number here");
        return false;
    } else {
        sb_p_error_here(p, "a number");
        return false;
    }
    *text = sb_arena_strndup(p->arena, p->src + start, sb_p_prev_end(p) - start);
    return true;
}

/* range = [ number ] ".." [ number ] */
static bool parse_range(struct parser *p, bool allow_float, bool *has_min, bool *has_max,
                        int64_t *min, int64_t *max, double *fmin, double *fmax,
                        const char **min_text, const char **max_text)
{
    double f;
    const char *t;
    *has_min = *has_max = false;
    if (!sb_p_is(p, SB_TOK_DOTDOT)) {
        if (!parse_bound(p, allow_float, min, fmin ? fmin : &f, min_text ? min_text : &t))
            return false;
        *has_min = true;
    }
    if (!sb_p_is(p, SB_TOK_DOTDOT)) {
        sb_p_error_here(p, "'..' in a range (for example 1..100)");
        return false;
    }
    sb_p_next(p);
    enum sb_token_kind k = sb_p_peek(p)->kind;
    if (k == SB_TOK_INT || k == SB_TOK_FLOAT || k == SB_TOK_MINUS) {
        if (!parse_bound(p, allow_float, max, fmax ? fmax : &f, max_text ? max_text : &t))
            return false;
        *has_max = true;
    }
    return true;
}

/* type = scalar [ "[" [ range ] "]" ] */
static bool parse_type(struct parser *p, struct sb_type *type)
{
    const struct sb_token *tok = sb_p_peek(p);
    type->offset = tok->offset;
    if (tok->kind == SB_TOK_ARROW) {
        sb_p_next(p);
        type->kind = SB_TYPE_REF;
        size_t off;
        type->ref_name = sb_p_name(p, "a collection name after '->'", &off);
        if (!type->ref_name)
            return false;
    } else if (tok->kind == SB_TOK_IDENT) {
        const char *word = p->src + tok->offset;
        int found = -1;
        for (int i = 0; type_words[i]; i++)
            if (i != SB_TYPE_REF && strlen(type_words[i]) == tok->length &&
                memcmp(type_words[i], word, tok->length) == 0)
                found = i;
        if (found < 0) {
            const char *hint = type_alias(word, tok->length);
            if (!hint)
                hint = sb_suggest(word, tok->length, type_words);
            int n = tok->length > 40 ? 40 : (int)tok->length;
            if (hint)
                sb_p_error(p, tok->offset, tok->length, "unknown type '%.*s'; did you mean '%s'?", n,
                           word, hint);
            else
                sb_p_error(p, tok->offset, tok->length,
                           "unknown type '%.*s'; types are text, int, float, decimal, bool, "
                           "timestamp, date, uuid, email, url, enum, json, password and -> collection",
                           n, word);
            return false;
        }
        sb_p_next(p);
        type->kind = (enum sb_type_kind)found;
        switch (type->kind) {
        case SB_TYPE_TEXT:
        case SB_TYPE_INT:
        case SB_TYPE_FLOAT:
            if (sb_p_is(p, SB_TOK_LPAREN) && !sb_p_peek(p)->bol) {
                sb_p_next(p);
                bool is_float = type->kind == SB_TYPE_FLOAT;
                if (!parse_range(p, is_float, &type->has_min, &type->has_max, &type->min,
                                 &type->max, &type->fmin, &type->fmax, &type->min_text,
                                 &type->max_text))
                    return false;
                if (!sb_p_expect(p, SB_TOK_RPAREN, "to close the range"))
                    return false;
            }
            break;
        case SB_TYPE_DECIMAL: {
            if (!sb_p_expect(p, SB_TOK_LPAREN, "after 'decimal': write decimal(precision, scale)"))
                return false;
            int64_t prec = 0, scale = 0;
            const struct sb_token *t1 = sb_p_peek(p);
            if (!sb_p_expect(p, SB_TOK_INT, "(the precision)") || !sb_p_int(p, t1, &prec))
                return false;
            if (!sb_p_expect(p, SB_TOK_COMMA, "between precision and scale"))
                return false;
            const struct sb_token *t2 = sb_p_peek(p);
            if (!sb_p_expect(p, SB_TOK_INT, "(the scale)") || !sb_p_int(p, t2, &scale))
                return false;
            if (!sb_p_expect(p, SB_TOK_RPAREN, "to close decimal(...)"))
                return false;
            if (prec < 1 || prec > 38) {
                sb_p_error(p, t1->offset, t1->length, "decimal precision must be 1 to 38");
                return false;
            }
            if (scale < 0 || scale > prec) {
                sb_p_error(p, t2->offset, t2->length,
                           "decimal scale must be 0 to the precision (%d)", (int)prec);
                return false;
            }
            type->precision = (int)prec;
            type->scale = (int)scale;
            break;
        }
        case SB_TYPE_ENUM: {
            if (!sb_p_expect(p, SB_TOK_LPAREN, "after 'enum': write enum(a, b, c)"))
                return false;
            struct sb_ptrvec values = {0};
            do {
                if (sb_p_is(p, SB_TOK_STRING)) {
                    const struct sb_token *s = sb_p_peek(p);
                    sb_p_error(p, s->offset, s->length,
                               "enum values are names, not strings: write enum(a, b)");
                    return false;
                }
                size_t off;
                const char *value = sb_p_name(p, "an enum value", &off);
                if (!value)
                    return false;
                sb_ptrvec_push(p->arena, &values, (void *)value);
            } while (sb_p_accept(p, SB_TOK_COMMA));
            if (!sb_p_expect(p, SB_TOK_RPAREN, "to close enum(...)"))
                return false;
            type->enum_values = (const char **)values.items;
            type->n_enum_values = values.len;
            break;
        }
        default:
            break;
        }
    } else {
        sb_p_error_here(p, "a type");
        return false;
    }
    if (sb_p_is(p, SB_TOK_LBRACKET) && !sb_p_peek(p)->bol) {
        sb_p_next(p);
        type->is_array = true;
        if (!sb_p_is(p, SB_TOK_RBRACKET)) {
            if (!parse_range(p, false, &type->arr_has_min, &type->arr_has_max, &type->arr_min,
                             &type->arr_max, NULL, NULL, NULL, NULL))
                return false;
        }
        if (!sb_p_expect(p, SB_TOK_RBRACKET, "to close the array bounds"))
            return false;
    }
    type->length = sb_p_prev_end(p) - type->offset;
    return true;
}

static const char *const modifier_words[] = {
    "required", "unique", "pii", "readonly", "hidden", "searchable", "default", "check", "on", NULL,
};

/* field = NAME type { modifier } */
static struct sb_field *parse_field(struct parser *p)
{
    struct sb_field *field = sb_arena_alloc(p->arena, sizeof(*field));
    field->name = sb_p_name(p, "a field name", &field->offset);
    if (!field->name)
        return NULL;
    field->length = strlen(field->name);
    if (sb_p_peek(p)->bol || sb_p_is(p, SB_TOK_RBRACE)) {
        sb_p_error(p, field->offset, field->length, "field '%s' needs a type (for example: %s text)",
                   field->name, field->name);
        return NULL;
    }
    if (!parse_type(p, &field->type))
        return NULL;
    while (sb_p_is(p, SB_TOK_IDENT) && !sb_p_peek(p)->bol) {
        const struct sb_token *tok = sb_p_next(p);
        unsigned flag = 0;
        if (sb_p_tok_is_word(p, tok, "required"))
            flag = SB_FIELD_REQUIRED;
        else if (sb_p_tok_is_word(p, tok, "unique"))
            flag = SB_FIELD_UNIQUE;
        else if (sb_p_tok_is_word(p, tok, "pii"))
            flag = SB_FIELD_PII;
        else if (sb_p_tok_is_word(p, tok, "readonly"))
            flag = SB_FIELD_READONLY;
        else if (sb_p_tok_is_word(p, tok, "hidden"))
            flag = SB_FIELD_HIDDEN;
        else if (sb_p_tok_is_word(p, tok, "searchable"))
            flag = SB_FIELD_SEARCHABLE;
        bool duplicate = false;
        if (flag) {
            duplicate = (field->flags & flag) != 0;
            field->flags |= flag;
        } else if (sb_p_tok_is_word(p, tok, "default")) {
            duplicate = field->default_expr != NULL;
            if (!(field->default_expr = sb_p_expr(p)))
                return NULL;
        } else if (sb_p_tok_is_word(p, tok, "check")) {
            duplicate = field->check != NULL;
            if (!(field->check = sb_p_expr(p)))
                return NULL;
        } else if (sb_p_tok_is_word(p, tok, "on")) {
            duplicate = field->on_delete_written;
            if (!sb_p_is_word(p, "delete")) {
                sb_p_error_here(p, "'delete' after 'on'");
                return NULL;
            }
            sb_p_next(p);
            if (sb_p_is_word(p, "restrict")) {
                field->on_delete = SB_ON_DELETE_RESTRICT;
            } else if (sb_p_is_word(p, "cascade")) {
                field->on_delete = SB_ON_DELETE_CASCADE;
            } else if (sb_p_is_word(p, "set") && sb_p_tok_is_word(p, sb_p_peek_at(p, 1), "null")) {
                sb_p_next(p);
                field->on_delete = SB_ON_DELETE_SET_NULL;
            } else {
                sb_p_error_here(p, "'restrict', 'cascade' or 'set null' after 'on delete'");
                return NULL;
            }
            sb_p_next(p);
            field->on_delete_written = true;
        } else {
            const char *word = p->src + tok->offset;
            const char *hint = sb_suggest(word, tok->length, modifier_words);
            int n = tok->length > 40 ? 40 : (int)tok->length;
            if (hint)
                sb_p_error(p, tok->offset, tok->length,
                           "unknown modifier '%.*s'; did you mean '%s'?", n, word, hint);
            else
                sb_p_error(p, tok->offset, tok->length,
                           "unknown modifier '%.*s' (modifiers: required, unique, pii, readonly, "
                           "hidden, searchable, default, check, on delete)", n, word);
            return NULL;
        }
        if (duplicate)
            sb_diag_error(p->diags, tok->offset, tok->length, "'%.*s' is given twice",
                          (int)tok->length, p->src + tok->offset);
    }
    field->end = sb_p_prev_end(p);
    return field;
}

/* NAME { "," NAME } inside parentheses; the '(' is current. */
static bool parse_name_list(struct parser *p, const char *what, const char ***names,
                            size_t **offsets, size_t *count)
{
    if (!sb_p_expect(p, SB_TOK_LPAREN, "to start the list of fields"))
        return false;
    struct sb_ptrvec list = {0}, offs = {0};
    do {
        size_t *off = sb_arena_alloc(p->arena, sizeof(*off));
        const char *name = sb_p_name(p, what, off);
        if (!name)
            return false;
        sb_ptrvec_push(p->arena, &list, (void *)name);
        sb_ptrvec_push(p->arena, &offs, off);
    } while (sb_p_accept(p, SB_TOK_COMMA));
    if (!sb_p_expect(p, SB_TOK_RPAREN, "to close the list of fields"))
        return false;
    *names = (const char **)list.items;
    *count = list.len;
    *offsets = sb_arena_alloc(p->arena, (list.len ? list.len : 1) * sizeof(size_t));
    for (size_t i = 0; i < list.len; i++)
        (*offsets)[i] = *(size_t *)offs.items[i];
    return true;
}

/* index = ( "index" | "unique" ) "(" NAME { "," NAME } ")" */
static struct sb_index *parse_index(struct parser *p, bool unique)
{
    struct sb_index *index = sb_arena_alloc(p->arena, sizeof(*index));
    index->offset = sb_p_next(p)->offset;
    index->unique = unique;
    if (!parse_name_list(p, "a field name", &index->column_names, &index->column_offsets,
                         &index->n_columns))
        return NULL;
    index->end = sb_p_prev_end(p);
    return index;
}

static const char *const op_words[] = {"read", "create", "update", "delete", NULL};

/* rule = "allow" ops expr
 * ops  = op { "," op } | ( "read" | "write" ) "(" NAME { "," NAME } ")" */
static struct sb_rule *parse_rule(struct parser *p)
{
    struct sb_rule *rule = sb_arena_alloc(p->arena, sizeof(*rule));
    rule->offset = sb_p_next(p)->offset;
    const struct sb_token *first = sb_p_peek(p);
    const struct sb_token *after = sb_p_peek_at(p, 1);
    /* `read(f, g)` (no space) or `write (f)` is a field rule; `read (a or b)`
     * is a row rule whose condition starts with a parenthesis */
    bool adjacent = after->offset == first->offset + first->length;
    if (first->kind == SB_TOK_IDENT && after->kind == SB_TOK_LPAREN &&
        ((sb_p_tok_is_word(p, first, "read") && adjacent) || sb_p_tok_is_word(p, first, "write"))) {
        sb_p_next(p);
        rule->ops = sb_p_tok_is_word(p, first, "read") ? SB_RULE_READ : SB_RULE_WRITE;
        if (!parse_name_list(p, "a field name", &rule->field_names, &rule->field_offsets,
                             &rule->n_fields))
            return NULL;
    } else {
        do {
            const struct sb_token *tok = sb_p_peek(p);
            unsigned op = 0;
            if (sb_p_tok_is_word(p, tok, "read"))
                op = SB_RULE_READ;
            else if (sb_p_tok_is_word(p, tok, "create"))
                op = SB_RULE_CREATE;
            else if (sb_p_tok_is_word(p, tok, "update"))
                op = SB_RULE_UPDATE;
            else if (sb_p_tok_is_word(p, tok, "delete"))
                op = SB_RULE_DELETE;
            if (!op) {
                if (sb_p_tok_is_word(p, tok, "write")) {
                    sb_p_error(p, tok->offset, tok->length,
                               "'write' is for field rules: allow write(field, ...) EXPR; for whole "
                               "rows use create, update, delete");
                } else if (sb_p_tok_is_word(p, tok, "all")) {
                    sb_p_error(p, tok->offset, tok->length,
                               "list the operations: allow read, create, update, delete EXPR");
                } else if (tok->kind == SB_TOK_IDENT) {
                    static const char *const sql_words[] = {"select", "insert", "modify", "remove", NULL};
                    const char *hint = sb_suggest(p->src + tok->offset, tok->length, op_words);
                    for (size_t k = 0; !hint && sql_words[k]; k++)
                        if (sb_p_tok_is_word(p, tok, sql_words[k]))
                            hint = op_words[k];
                    if (hint)
                        sb_p_error(p, tok->offset, tok->length,
                                   "unknown operation '%.*s'; did you mean '%s'?", (int)tok->length,
                                   p->src + tok->offset, hint);
                    else
                        sb_p_error_here(p, "an operation (read, create, update or delete)");
                } else {
                    sb_p_error_here(p, "an operation (read, create, update or delete)");
                }
                return NULL;
            }
            sb_p_next(p);
            if (rule->ops & op)
                sb_diag_error(p->diags, tok->offset, tok->length, "operation '%.*s' is listed twice",
                              (int)tok->length, p->src + tok->offset);
            rule->ops |= op;
        } while (sb_p_accept(p, SB_TOK_COMMA));
    }
    if (sb_p_peek(p)->bol || sb_p_is(p, SB_TOK_RBRACE)) {
        sb_p_error(p, rule->offset, 5,
                   "the rule needs a condition (for example: anyone, authenticated, owner == auth.id)");
        return NULL;
    }
    if (!(rule->expr = sb_p_expr(p)))
        return NULL;
    rule->end = sb_p_prev_end(p);
    return rule;
}

static void add_member(struct parser *p, struct sb_ptrvec *members, enum sb_member_kind kind,
                       void *item)
{
    struct sb_member *m = sb_arena_alloc(p->arena, sizeof(*m));
    m->kind = kind;
    m->item = item;
    sb_ptrvec_push(p->arena, members, m);
}

/* collection = "collection" NAME "{" { member } "}" */
static struct sb_collection *parse_collection(struct parser *p)
{
    struct sb_collection *coll = sb_arena_alloc(p->arena, sizeof(*coll));
    coll->start = sb_p_next(p)->offset;
    coll->name = sb_p_name(p, "a collection name", &coll->offset);
    if (!coll->name)
        return NULL;
    coll->length = strlen(coll->name);
    if (!sb_p_expect(p, SB_TOK_LBRACE, "to open the collection"))
        return NULL;
    struct sb_ptrvec members = {0}, fields = {0}, indexes = {0}, rules = {0}, checks = {0};
    while (!sb_p_is(p, SB_TOK_RBRACE) && !sb_p_is(p, SB_TOK_EOF)) {
        const struct sb_token *tok = sb_p_peek(p);
        if (tok->kind != SB_TOK_IDENT) {
            sb_p_error_here(p, "a field, index, check or rule");
            sb_p_sync_line(p);
            if (!sb_p_is(p, SB_TOK_RBRACE) && sb_p_peek(p)->kind != SB_TOK_IDENT && !sb_p_is(p, SB_TOK_EOF))
                sb_p_next(p);
            continue;
        }
        if (sb_p_tok_is_word(p, tok, "collection") || sb_p_tok_is_word(p, tok, "action")) {
            sb_p_error(p, tok->offset, tok->length, "expected '}' to close collection '%s'",
                       coll->name);
            return NULL;
        }
        bool next_paren = sb_p_peek_at(p, 1)->kind == SB_TOK_LPAREN;
        if (sb_p_tok_is_word(p, tok, "allow")) {
            struct sb_rule *rule = parse_rule(p);
            if (rule) {
                add_member(p, &members, SB_MEMBER_RULE, rule);
                sb_ptrvec_push(p->arena, &rules, rule);
            }
        } else if ((sb_p_tok_is_word(p, tok, "index") || sb_p_tok_is_word(p, tok, "unique")) &&
                   next_paren) {
            struct sb_index *index = parse_index(p, sb_p_tok_is_word(p, tok, "unique"));
            if (index) {
                add_member(p, &members, SB_MEMBER_INDEX, index);
                sb_ptrvec_push(p->arena, &indexes, index);
            }
        } else if (sb_p_tok_is_word(p, tok, "check")) {
            struct sb_check *check = sb_arena_alloc(p->arena, sizeof(*check));
            check->offset = sb_p_next(p)->offset;
            if ((check->expr = sb_p_expr(p))) {
                check->end = sb_p_prev_end(p);
                add_member(p, &members, SB_MEMBER_CHECK, check);
                sb_ptrvec_push(p->arena, &checks, check);
            }
        } else {
            struct sb_field *field = parse_field(p);
            if (field) {
                add_member(p, &members, SB_MEMBER_FIELD, field);
                sb_ptrvec_push(p->arena, &fields, field);
            }
        }
        sb_p_end_of_line(p);
    }
    coll->body_end = sb_p_peek(p)->offset;
    if (!sb_p_expect(p, SB_TOK_RBRACE, "to close the collection"))
        return NULL;
    coll->end = sb_p_prev_end(p);
    coll->n_members = members.len;
    coll->members = sb_arena_alloc(p->arena, (members.len ? members.len : 1) * sizeof(*coll->members));
    for (size_t i = 0; i < members.len; i++)
        coll->members[i] = *(struct sb_member *)members.items[i];
    coll->fields = (struct sb_field **)fields.items;
    coll->n_fields = fields.len;
    coll->indexes = (struct sb_index **)indexes.items;
    coll->n_indexes = indexes.len;
    coll->rules = (struct sb_rule **)rules.items;
    coll->n_rules = rules.len;
    coll->checks = (struct sb_check **)checks.items;
    coll->n_checks = checks.len;
    return coll;
}

/* else = "else" INT STRING */
static bool parse_else(struct parser *p, struct sb_step *step, bool required)
{
    if (!sb_p_is_word(p, "else")) {
        if (required) {
            sb_p_error_here(p, "'else STATUS \"message\"'");
            return false;
        }
        return true;
    }
    sb_p_next(p);
    const struct sb_token *status = sb_p_peek(p);
    int64_t code = 0;
    if (!sb_p_expect(p, SB_TOK_INT, "(an HTTP status) after 'else'") || !sb_p_int(p, status, &code))
        return false;
    if (code < 400 || code > 599) {
        sb_p_error(p, status->offset, status->length,
                   "status %lld is not an error status; use 400 to 599", (long long)code);
        return false;
    }
    step->has_else = true;
    step->status = (int)code;
    step->status_offset = status->offset;
    const struct sb_token *msg = sb_p_peek(p);
    if (msg->kind != SB_TOK_STRING) {
        sb_p_error_here(p, "a message string after the status");
        return false;
    }
    struct sb_expr *text = sb_p_expr(p); /* decodes the string */
    if (!text)
        return false;
    if (text->kind != SB_EXPR_STRING) {
        sb_p_error(p, msg->offset, msg->length, "the message must be a plain string");
        return false;
    }
    step->message = text->text;
    return true;
}

/* assign = NAME ":" expr, inside "{ ... }" */
static bool parse_assigns(struct parser *p, struct sb_step *step, bool braces)
{
    struct sb_ptrvec list = {0};
    if (braces && !sb_p_expect(p, SB_TOK_LBRACE, "to start the field values"))
        return false;
    while (!(braces && sb_p_is(p, SB_TOK_RBRACE))) {
        struct sb_assign *a = sb_arena_alloc(p->arena, sizeof(*a));
        a->name = sb_p_name(p, "a field name", &a->offset);
        if (!a->name)
            return false;
        if (braces) {
            if (sb_p_is(p, SB_TOK_ASSIGN)) {
                const struct sb_token *tok = sb_p_peek(p);
                sb_p_error(p, tok->offset, tok->length, "write 'field: value' in create");
                return false;
            }
            if (!sb_p_expect(p, SB_TOK_COLON, "after the field name"))
                return false;
        } else if (!sb_p_expect(p, SB_TOK_ASSIGN, "after the field name (set field = value)")) {
            return false;
        }
        if (!(a->value = sb_p_expr(p)))
            return false;
        sb_ptrvec_push(p->arena, &list, a);
        if (!sb_p_accept(p, SB_TOK_COMMA))
            break;
    }
    if (braces && !sb_p_expect(p, SB_TOK_RBRACE, "to close the field values"))
        return false;
    step->n_assigns = list.len;
    step->assigns = sb_arena_alloc(p->arena, (list.len ? list.len : 1) * sizeof(*step->assigns));
    for (size_t i = 0; i < list.len; i++)
        step->assigns[i] = *(struct sb_assign *)list.items[i];
    return true;
}

static const char *const step_words[] = {"require", "create", "update", "delete", "get",
                                         "list",    "return", "let",    "allow",  NULL};

/* step (see docs/grammar.ebnf) */
static bool parse_step(struct parser *p, struct sb_step *step)
{
    const struct sb_token *tok = sb_p_peek(p);
    step->offset = tok->offset;
    if (sb_p_is_word(p, "let")) {
        sb_p_next(p);
        step->bind_name = sb_p_name(p, "a name after 'let'", &step->bind_offset);
        if (!step->bind_name || !sb_p_expect(p, SB_TOK_ASSIGN, "after the name in 'let'"))
            return false;
        tok = sb_p_peek(p);
    }
    if (sb_p_tok_is_word(p, tok, "require") || sb_p_tok_is_word(p, tok, "return")) {
        if (step->bind_name) {
            sb_p_error(p, tok->offset, tok->length, "'let' takes create, update, delete, get or list");
            return false;
        }
        sb_p_next(p);
        if (sb_p_tok_is_word(p, tok, "require")) {
            step->kind = SB_STEP_REQUIRE;
            if (!(step->expr = sb_p_expr(p)) || !parse_else(p, step, true))
                return false;
        } else {
            step->kind = SB_STEP_RETURN;
            step->expr = sb_p_is(p, SB_TOK_LBRACE) ? sb_p_object(p) : sb_p_expr(p);
            if (!step->expr)
                return false;
        }
        step->end = sb_p_prev_end(p);
        return true;
    }
    if (sb_p_tok_is_word(p, tok, "create"))
        step->kind = SB_STEP_CREATE;
    else if (sb_p_tok_is_word(p, tok, "update"))
        step->kind = SB_STEP_UPDATE;
    else if (sb_p_tok_is_word(p, tok, "delete"))
        step->kind = SB_STEP_DELETE;
    else if (sb_p_tok_is_word(p, tok, "get"))
        step->kind = SB_STEP_GET;
    else if (sb_p_tok_is_word(p, tok, "list"))
        step->kind = SB_STEP_LIST;
    else {
        const char *hint = tok->kind == SB_TOK_IDENT
                               ? sb_suggest(p->src + tok->offset, tok->length, step_words)
                               : NULL;
        if (hint)
            sb_p_error(p, tok->offset, tok->length, "unknown step '%.*s'; did you mean '%s'?",
                       (int)tok->length, p->src + tok->offset, hint);
        else
            sb_p_error_here(p, "a step (require, create, update, delete, get, list, return, let)");
        return false;
    }
    sb_p_next(p);
    step->coll_name = sb_p_name(p, "a collection name", &step->coll_offset);
    if (!step->coll_name)
        return false;
    switch (step->kind) {
    case SB_STEP_CREATE:
        if (!parse_assigns(p, step, true))
            return false;
        break;
    case SB_STEP_LIST:
        if (sb_p_is_word(p, "where")) {
            sb_p_next(p);
            if (!(step->where = sb_p_expr(p)))
                return false;
        }
        break;
    default:
        if (!sb_p_is_word(p, "where")) {
            sb_p_error_here(p, "'where' and a condition");
            return false;
        }
        sb_p_next(p);
        if (!(step->where = sb_p_expr(p)))
            return false;
        if (step->kind == SB_STEP_UPDATE) {
            if (!sb_p_is_word(p, "set")) {
                sb_p_error_here(p, "'set field = value'");
                return false;
            }
            sb_p_next(p);
            if (!parse_assigns(p, step, false))
                return false;
        }
        if (!parse_else(p, step, false))
            return false;
        break;
    }
    step->end = sb_p_prev_end(p);
    return true;
}

/* param = NAME ":" type [ "=" expr ] */
static bool parse_params(struct parser *p, struct sb_action *action)
{
    struct sb_ptrvec list = {0};
    if (!sb_p_expect(p, SB_TOK_LPAREN, "to start the parameters"))
        return false;
    while (!sb_p_is(p, SB_TOK_RPAREN)) {
        struct sb_param *param = sb_arena_alloc(p->arena, sizeof(*param));
        param->name = sb_p_name(p, "a parameter name", &param->offset);
        if (!param->name)
            return false;
        param->length = strlen(param->name);
        if (!sb_p_expect(p, SB_TOK_COLON, "after the parameter name (name: type)"))
            return false;
        if (!parse_type(p, &param->type))
            return false;
        if (sb_p_accept(p, SB_TOK_ASSIGN) && !(param->default_expr = sb_p_expr(p)))
            return false;
        sb_ptrvec_push(p->arena, &list, param);
        if (!sb_p_accept(p, SB_TOK_COMMA))
            break;
    }
    if (!sb_p_expect(p, SB_TOK_RPAREN, "to close the parameters"))
        return false;
    action->n_params = list.len;
    action->params = sb_arena_alloc(p->arena, (list.len ? list.len : 1) * sizeof(*action->params));
    for (size_t i = 0; i < list.len; i++)
        action->params[i] = *(struct sb_param *)list.items[i];
    return true;
}

/* action = "action" NAME "(" params ")" "{" [ "allow" expr ] { step } "}" */
static struct sb_action *parse_action(struct parser *p)
{
    struct sb_action *action = sb_arena_alloc(p->arena, sizeof(*action));
    action->start = sb_p_next(p)->offset;
    action->name = sb_p_name(p, "an action name", &action->offset);
    if (!action->name)
        return NULL;
    action->length = strlen(action->name);
    if (!parse_params(p, action) || !sb_p_expect(p, SB_TOK_LBRACE, "to open the action"))
        return NULL;
    struct sb_ptrvec steps = {0};
    while (!sb_p_is(p, SB_TOK_RBRACE) && !sb_p_is(p, SB_TOK_EOF)) {
        const struct sb_token *tok = sb_p_peek(p);
        if (sb_p_tok_is_word(p, tok, "collection") || sb_p_tok_is_word(p, tok, "action")) {
            sb_p_error(p, tok->offset, tok->length, "expected '}' to close action '%s'", action->name);
            return NULL;
        }
        if (sb_p_tok_is_word(p, tok, "allow")) {
            if (action->allow || steps.len)
                sb_p_error(p, tok->offset, tok->length,
                           action->allow ? "the action already has an 'allow' rule; combine them with 'or'"
                                         : "'allow' comes first in an action, before the steps");
            sb_p_next(p);
            action->allow_offset = tok->offset;
            if (!p->panic && sb_p_peek(p)->bol) {
                sb_p_error(p, tok->offset, tok->length, "'allow' needs a condition");
            } else if (!p->panic) {
                action->allow = sb_p_expr(p);
            }
        } else {
            struct sb_step *step = sb_arena_alloc(p->arena, sizeof(*step));
            if (parse_step(p, step))
                sb_ptrvec_push(p->arena, &steps, step);
        }
        sb_p_end_of_line(p);
    }
    action->body_end = sb_p_peek(p)->offset;
    if (!sb_p_expect(p, SB_TOK_RBRACE, "to close the action"))
        return NULL;
    action->end = sb_p_prev_end(p);
    action->n_steps = steps.len;
    action->steps = sb_arena_alloc(p->arena, (steps.len ? steps.len : 1) * sizeof(*action->steps));
    for (size_t i = 0; i < steps.len; i++)
        action->steps[i] = *(struct sb_step *)steps.items[i];
    return action;
}

void sb_p_unknown_setting(struct parser *p, const char *block, const char *const *words,
                          const char *expected)
{
    const struct sb_token *tok = sb_p_peek(p);
    const char *hint =
        tok->kind == SB_TOK_IDENT ? sb_suggest(p->src + tok->offset, tok->length, words) : NULL;
    if (hint)
        sb_p_error(p, tok->offset, tok->length, "unknown %s setting '%.*s'; did you mean '%s'?", block,
                   (int)tok->length, p->src + tok->offset, hint);
    else
        sb_p_error_here(p, expected);
    sb_p_sync_line(p);
    if (!sb_p_is(p, SB_TOK_RBRACE) && sb_p_peek(p)->kind != SB_TOK_IDENT && !sb_p_is(p, SB_TOK_EOF))
        sb_p_next(p);
}

/* auth = "auth" "{" { "users" ":" NAME | "roles" ":" NAME { "," NAME } } "}" */
static void parse_auth(struct parser *p)
{
    struct sb_auth *auth = &p->model->auth;
    const struct sb_token *kw = sb_p_next(p);
    if (auth->present) {
        sb_p_error(p, kw->offset, kw->length, "the spec already has an auth block");
        sb_p_sync_line(p);
        return;
    }
    auth->present = true;
    auth->offset = kw->offset;
    if (!sb_p_expect(p, SB_TOK_LBRACE, "after 'auth'"))
        return;
    while (!sb_p_is(p, SB_TOK_RBRACE) && !sb_p_is(p, SB_TOK_EOF)) {
        const struct sb_token *tok = sb_p_peek(p);
        if (sb_p_tok_is_word(p, tok, "users")) {
            sb_p_next(p);
            if (auth->users_name)
                sb_p_error(p, tok->offset, tok->length, "'users' is given twice");
            auth->users_start = tok->offset;
            if (sb_p_expect(p, SB_TOK_COLON, "after 'users'"))
                auth->users_name = sb_p_name(p, "the name of the collection of accounts", &auth->users_offset);
        } else if (sb_p_tok_is_word(p, tok, "roles")) {
            sb_p_next(p);
            if (auth->n_roles)
                sb_p_error(p, tok->offset, tok->length, "'roles' is given twice");
            auth->roles_start = tok->offset;
            if (sb_p_expect(p, SB_TOK_COLON, "after 'roles'")) {
                struct sb_ptrvec roles = {0}, offs = {0};
                do {
                    size_t *off = sb_arena_alloc(p->arena, sizeof(*off));
                    const char *role = sb_p_name(p, "a role name", off);
                    if (!role)
                        break;
                    sb_ptrvec_push(p->arena, &roles, (void *)role);
                    sb_ptrvec_push(p->arena, &offs, off);
                } while (sb_p_accept(p, SB_TOK_COMMA));
                auth->roles = (const char **)roles.items;
                auth->n_roles = roles.len;
                auth->role_offsets = sb_arena_alloc(p->arena, (roles.len ? roles.len : 1) * sizeof(size_t));
                for (size_t i = 0; i < roles.len; i++)
                    auth->role_offsets[i] = *(size_t *)offs.items[i];
            }
        } else {
            static const char *const words[] = {"users", "roles", NULL};
            sb_p_unknown_setting(p, "auth", words, "'users: COLLECTION' or 'roles: a, b' in the auth block");
            continue;
        }
        sb_p_end_of_line(p);
    }
    auth->body_end = sb_p_peek(p)->offset;
    sb_p_expect(p, SB_TOK_RBRACE, "to close the auth block");
    auth->end = sb_p_prev_end(p);
}

static const char *const top_words[] = {"app", "auth", "security", "collection", "action", NULL};

static void add_item(struct parser *p, struct sb_ptrvec *items, enum sb_item_kind kind, void *item)
{
    struct sb_item *it = sb_arena_alloc(p->arena, sizeof(*it));
    it->kind = kind;
    it->item = item;
    sb_ptrvec_push(p->arena, items, it);
}

/* Skip to the next line that starts with a top-level keyword. */
static void sync_top(struct parser *p)
{
    sb_p_next(p);
    while (!sb_p_is(p, SB_TOK_EOF)) {
        const struct sb_token *tok = sb_p_peek(p);
        if (tok->bol && tok->kind == SB_TOK_IDENT)
            for (int i = 0; top_words[i]; i++)
                if (sb_p_tok_is_word(p, tok, top_words[i]))
                    goto done;
        sb_p_next(p);
    }
done:
    p->panic = false;
}

/* spec = { item } */
static void parse_spec(struct parser *p)
{
    struct sb_model *model = p->model;
    struct sb_ptrvec items = {0}, colls = {0}, actions = {0};
    while (!sb_p_is(p, SB_TOK_EOF)) {
        const struct sb_token *tok = sb_p_peek(p);
        if (sb_p_tok_is_word(p, tok, "app")) {
            sb_p_next(p);
            if (model->app_name) {
                sb_p_error(p, tok->offset, tok->length, "the spec already names its app");
            } else {
                if (items.len)
                    sb_p_error(p, tok->offset, tok->length, "'app NAME' must come first in the spec");
                model->app_start = tok->offset;
                model->app_name = sb_p_name(p, "the app's name after 'app'", &model->app_offset);
                if (model->app_name)
                    add_item(p, &items, SB_ITEM_APP, NULL);
            }
        } else if (sb_p_tok_is_word(p, tok, "auth")) {
            parse_auth(p);
            if (model->auth.present && model->auth.offset == tok->offset)
                add_item(p, &items, SB_ITEM_AUTH, NULL);
        } else if (sb_p_tok_is_word(p, tok, "security")) {
            sb_p_security(p);
            if (model->security.present && model->security.offset == tok->offset)
                add_item(p, &items, SB_ITEM_SECURITY, NULL);
        } else if (sb_p_tok_is_word(p, tok, "collection")) {
            struct sb_collection *coll = parse_collection(p);
            if (coll) {
                add_item(p, &items, SB_ITEM_COLLECTION, coll);
                sb_ptrvec_push(p->arena, &colls, coll);
            }
        } else if (sb_p_tok_is_word(p, tok, "action")) {
            struct sb_action *action = parse_action(p);
            if (action) {
                add_item(p, &items, SB_ITEM_ACTION, action);
                sb_ptrvec_push(p->arena, &actions, action);
            }
        } else {
            const char *hint = tok->kind == SB_TOK_IDENT
                                   ? sb_suggest(p->src + tok->offset, tok->length, top_words)
                                   : NULL;
            if (hint) {
                sb_p_error(p, tok->offset, tok->length, "unknown declaration '%.*s'; did you mean '%s'?",
                           (int)tok->length, p->src + tok->offset, hint);
            } else {
                sb_p_error_here(p, "'app', 'auth', 'security', 'collection' or 'action'");
            }
            sync_top(p);
            continue;
        }
        if (p->panic) {
            sync_top(p);
            continue;
        }
        sb_p_end_of_line(p);
        if (p->panic)
            sync_top(p);
    }
    if (!model->app_name && p->diags->n_errors == 0) {
        if (p->toks.len <= 1)
            sb_diag_error(p->diags, 0, 0, "empty spec: it must start with 'app NAME'");
        else
            sb_diag_error(p->diags, p->toks.items[0].offset, p->toks.items[0].length,
                          "the spec must start with 'app NAME'");
    }
    model->items = sb_arena_alloc(p->arena, (items.len ? items.len : 1) * sizeof(*model->items));
    for (size_t i = 0; i < items.len; i++)
        model->items[i] = *(struct sb_item *)items.items[i];
    model->n_items = items.len;
    model->collections = (struct sb_collection **)colls.items;
    model->n_collections = colls.len;
    model->actions = (struct sb_action **)actions.items;
    model->n_actions = actions.len;
}

struct sb_model *sb_spec_parse(const char *name, const char *text, size_t len, struct sb_diags *diags)
{
    struct sb_model *model = sb_xcalloc(1, sizeof(*model));
    sb_arena_init(&model->arena);
    model->source_name = name;
    model->source = text;
    model->source_len = len;
    if (sb_lex_validate(text, len, diags) != 0)
        return model;
    struct parser p = {.src = text, .model = model, .arena = &model->arena, .diags = diags};
    sb_lex(text, len, &p.toks, diags);
    parse_spec(&p);
    model->n_comments = p.toks.n_comments;
    model->comments = sb_arena_alloc(&model->arena, (p.toks.n_comments ? p.toks.n_comments : 1) *
                                                        sizeof(*model->comments));
    if (p.toks.n_comments)
        memcpy(model->comments, p.toks.comments, p.toks.n_comments * sizeof(*model->comments));
    sb_tokens_free(&p.toks);
    return model;
}

void sb_model_free(struct sb_model *model)
{
    if (!model)
        return;
    sb_arena_free(&model->arena);
    free(model);
}
