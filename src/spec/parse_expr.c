/* Expression parser of the spec language: recursive descent with one
 * function per precedence level (grammar in docs/grammar.ebnf), a hard
 * nesting limit (SB_SPEC_MAX_DEPTH) so hostile input cannot exhaust the
 * stack. Produces sb_expr nodes in the model's arena; names are resolved
 * later by check.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/parser_int.h"
#include "util/buf.h"

static struct sb_expr *new_expr(struct parser *p, enum sb_expr_kind kind, size_t offset)
{
    struct sb_expr *e = sb_arena_alloc(p->arena, sizeof(*e));
    e->kind = kind;
    e->offset = offset;
    return e;
}

static void finish(struct parser *p, struct sb_expr *e)
{
    /* the expression spans up to the end of the previous token */
    const struct sb_token *last = &p->toks.items[p->pos > 0 ? p->pos - 1 : 0];
    size_t end = last->offset + last->length;
    e->length = end > e->offset ? end - e->offset : 0;
}

static bool enter(struct parser *p)
{
    if (++p->depth > SB_SPEC_MAX_DEPTH) {
        const struct sb_token *tok = sb_p_peek(p);
        sb_p_error(p, tok->offset, tok->length,
                   "expression nested too deeply (the limit is %d levels)", SB_SPEC_MAX_DEPTH);
        return false;
    }
    return true;
}

static struct sb_expr *binary(struct parser *p, enum sb_op op, struct sb_expr *left,
                              struct sb_expr *right)
{
    if (!left || !right)
        return NULL;
    struct sb_expr *e = new_expr(p, op == SB_OP_NOT || op == SB_OP_NEG ? SB_EXPR_UNARY : SB_EXPR_BINARY,
                                 left->offset);
    e->op = op;
    e->left = left;
    e->right = right;
    finish(p, e);
    return e;
}

/* Decode the string token at tok into arena memory. */
static bool decode_string(struct parser *p, const struct sb_token *tok, struct sb_expr *e)
{
    const char *s = p->src + tok->offset;
    if (tok->length < 2 || s[tok->length - 1] != '"')
        return false; /* unterminated: already reported by the lexer */
    struct sb_buf out;
    sb_buf_init(&out);
    bool ok = true;
    for (size_t i = 1; i + 1 < tok->length; i++) {
        char c = s[i];
        if (c != '\\') {
            sb_buf_putc(&out, c);
            continue;
        }
        char esc = s[++i];
        switch (esc) {
        case '"': sb_buf_putc(&out, '"'); break;
        case '\\': sb_buf_putc(&out, '\\'); break;
        case 'n': sb_buf_putc(&out, '\n'); break;
        case 't': sb_buf_putc(&out, '\t'); break;
        default:
            sb_p_error(p, tok->offset + i - 1, 2,
                       "unknown escape '\\%c' in string; use \\\", \\\\, \\n or \\t", esc);
            ok = false;
            break;
        }
    }
    if (out.len > SB_SPEC_MAX_STRING) {
        sb_p_error(p, tok->offset, 1, "string is %zu bytes; the limit is %u", out.len,
                   SB_SPEC_MAX_STRING);
        ok = false;
    }
    e->text = sb_arena_strndup(p->arena, sb_buf_str(&out), out.len);
    e->text_len = out.len;
    sb_buf_free(&out);
    return ok;
}

static bool parse_int_token(struct parser *p, const struct sb_token *tok, int64_t *out)
{
    char digits[32];
    if (tok->length >= sizeof(digits)) {
        sb_p_error(p, tok->offset, tok->length, "integer out of range (64-bit)");
        return false;
    }
    memcpy(digits, p->src + tok->offset, tok->length);
    digits[tok->length] = '\0';
    errno = 0;
    char *end = NULL;
    long long v = strtoll(digits, &end, 10);
    if (errno == ERANGE || *end != '\0') {
        sb_p_error(p, tok->offset, tok->length, "integer out of range (64-bit)");
        return false;
    }
    *out = v;
    return true;
}

bool sb_p_int(struct parser *p, const struct sb_token *tok, int64_t *out)
{
    return parse_int_token(p, tok, out);
}

static struct sb_expr *parse_list(struct parser *p, enum sb_token_kind close,
                                  struct sb_expr *e, const char *what)
{
    struct sb_ptrvec items = {0};
    if (!sb_p_is(p, close)) {
        for (;;) {
            struct sb_expr *item = sb_p_expr(p);
            if (!item)
                return NULL;
            sb_ptrvec_push(p->arena, &items, item);
            if (!sb_p_accept(p, SB_TOK_COMMA))
                break;
            if (sb_p_is(p, close))
                break; /* trailing comma */
        }
    }
    if (!sb_p_expect(p, close, what))
        return NULL;
    e->args = (struct sb_expr **)items.items;
    e->n_args = items.len;
    finish(p, e);
    return e;
}

/* primary = literal | "anyone" | "authenticated" | NAME [ "(" args ")" ]
 *         | "[" list "]" | "(" expr ")" */
static struct sb_expr *parse_primary(struct parser *p)
{
    const struct sb_token *tok = sb_p_peek(p);
    struct sb_expr *e;
    switch (tok->kind) {
    case SB_TOK_INT:
        sb_p_next(p);
        e = new_expr(p, SB_EXPR_INT, tok->offset);
        if (!parse_int_token(p, tok, &e->ival))
            return NULL;
        finish(p, e);
        return e;
    case SB_TOK_FLOAT: {
        sb_p_next(p);
        e = new_expr(p, SB_EXPR_FLOAT, tok->offset);
        e->text = sb_arena_strndup(p->arena, p->src + tok->offset, tok->length);
        e->text_len = tok->length;
        errno = 0;
        e->fval = strtod(e->text, NULL);
        if (errno == ERANGE) {
            sb_p_error(p, tok->offset, tok->length, "number out of range");
            return NULL;
        }
        finish(p, e);
        return e;
    }
    case SB_TOK_STRING:
        sb_p_next(p);
        e = new_expr(p, SB_EXPR_STRING, tok->offset);
        if (!decode_string(p, tok, e))
            return NULL;
        finish(p, e);
        return e;
    case SB_TOK_LBRACKET:
        sb_p_next(p);
        e = new_expr(p, SB_EXPR_LIST, tok->offset);
        return parse_list(p, SB_TOK_RBRACKET, e, "to close the list");
    case SB_TOK_LPAREN: {
        sb_p_next(p);
        struct sb_expr *inner = sb_p_expr(p);
        if (!inner || !sb_p_expect(p, SB_TOK_RPAREN, "to close '('"))
            return NULL;
        inner->parens = true;
        return inner;
    }
    case SB_TOK_IDENT:
        break;
    default:
        sb_p_error_here(p, "an expression");
        return NULL;
    }
    sb_p_next(p);
    const char *word = p->src + tok->offset;
    size_t n = tok->length;
#define IS(w) (n == sizeof(w) - 1 && memcmp(word, w, n) == 0)
    if (IS("true") || IS("false")) {
        e = new_expr(p, SB_EXPR_BOOL, tok->offset);
        e->bval = IS("true");
    } else if (IS("null")) {
        e = new_expr(p, SB_EXPR_NULL, tok->offset);
    } else if (IS("anyone")) {
        e = new_expr(p, SB_EXPR_ANYONE, tok->offset);
    } else if (IS("authenticated")) {
        e = new_expr(p, SB_EXPR_AUTHENTICATED, tok->offset);
    } else if (IS("and") || IS("or") || IS("in")) {
        sb_p_error(p, tok->offset, tok->length, "expected an expression before '%.*s'", (int)n, word);
        return NULL;
    } else {
        e = new_expr(p, SB_EXPR_NAME, tok->offset);
        e->name = sb_arena_strndup(p->arena, word, n);
        e->name_offset = tok->offset;
        if (sb_p_is(p, SB_TOK_LPAREN) && !sb_p_peek(p)->bol) {
            sb_p_next(p);
            e->kind = SB_EXPR_CALL;
            return parse_list(p, SB_TOK_RPAREN, e, "to close the call");
        }
    }
#undef IS
    finish(p, e);
    return e;
}

/* postfix = primary { "." NAME } */
static struct sb_expr *parse_postfix(struct parser *p)
{
    struct sb_expr *e = parse_primary(p);
    while (e && sb_p_is(p, SB_TOK_DOT)) {
        sb_p_next(p);
        const struct sb_token *tok = sb_p_peek(p);
        if (tok->kind != SB_TOK_IDENT) {
            sb_p_error_here(p, "a name after '.'");
            return NULL;
        }
        sb_p_next(p);
        struct sb_expr *m = new_expr(p, SB_EXPR_MEMBER, e->offset);
        m->left = e;
        m->name = sb_arena_strndup(p->arena, p->src + tok->offset, tok->length);
        m->name_offset = tok->offset;
        finish(p, m);
        e = m;
    }
    return e;
}

/* unary = "-" unary | postfix */
static struct sb_expr *parse_unary(struct parser *p)
{
    if (!enter(p))
        return NULL;
    struct sb_expr *e;
    if (sb_p_is(p, SB_TOK_MINUS)) {
        size_t offset = sb_p_next(p)->offset;
        struct sb_expr *operand = parse_unary(p);
        if (!operand) {
            p->depth--;
            return NULL;
        }
        e = new_expr(p, SB_EXPR_UNARY, offset);
        e->op = SB_OP_NEG;
        e->left = operand;
        finish(p, e);
    } else {
        e = parse_postfix(p);
    }
    p->depth--;
    return e;
}

/* term = unary { ( "*" | "/" | "%" ) unary } */
static struct sb_expr *parse_term(struct parser *p)
{
    struct sb_expr *e = parse_unary(p);
    for (;;) {
        enum sb_op op;
        if (sb_p_is(p, SB_TOK_STAR))
            op = SB_OP_MUL;
        else if (sb_p_is(p, SB_TOK_SLASH))
            op = SB_OP_DIV;
        else if (sb_p_is(p, SB_TOK_PERCENT))
            op = SB_OP_MOD;
        else
            return e;
        sb_p_next(p);
        e = binary(p, op, e, parse_unary(p));
    }
}

/* additive = term { ( "+" | "-" ) term } */
static struct sb_expr *parse_additive(struct parser *p)
{
    struct sb_expr *e = parse_term(p);
    for (;;) {
        enum sb_op op;
        if (sb_p_is(p, SB_TOK_PLUS))
            op = SB_OP_ADD;
        else if (sb_p_is(p, SB_TOK_MINUS))
            op = SB_OP_SUB;
        else
            return e;
        sb_p_next(p);
        e = binary(p, op, e, parse_term(p));
    }
}

/* comparison = additive [ cmp additive | [ "not" ] "in" additive ] */
static struct sb_expr *parse_comparison(struct parser *p)
{
    struct sb_expr *e = parse_additive(p);
    if (!e)
        return NULL;
    enum sb_op op = SB_OP_NONE;
    switch (sb_p_peek(p)->kind) {
    case SB_TOK_EQ: op = SB_OP_EQ; break;
    case SB_TOK_NE: op = SB_OP_NE; break;
    case SB_TOK_LT: op = SB_OP_LT; break;
    case SB_TOK_LE: op = SB_OP_LE; break;
    case SB_TOK_GT: op = SB_OP_GT; break;
    case SB_TOK_GE: op = SB_OP_GE; break;
    case SB_TOK_ASSIGN: {
        const struct sb_token *tok = sb_p_peek(p);
        sb_p_error(p, tok->offset, tok->length, "'=' is assignment; compare with '=='");
        return NULL;
    }
    case SB_TOK_IDENT:
        if (sb_p_is_word(p, "in")) {
            op = SB_OP_IN;
        } else if (sb_p_is_word(p, "not") && sb_p_tok_is_word(p, sb_p_peek_at(p, 1), "in")) {
            sb_p_next(p);
            op = SB_OP_NOT_IN;
        }
        break;
    default:
        break;
    }
    if (op == SB_OP_NONE)
        return e;
    sb_p_next(p);
    struct sb_expr *right = parse_additive(p);
    e = binary(p, op, e, right);
    if (e) {
        enum sb_token_kind k = sb_p_peek(p)->kind;
        if (k == SB_TOK_EQ || k == SB_TOK_NE || k == SB_TOK_LT || k == SB_TOK_LE ||
            k == SB_TOK_GT || k == SB_TOK_GE) {
            const struct sb_token *tok = sb_p_peek(p);
            sb_p_error(p, tok->offset, tok->length,
                       "comparisons do not chain; join them with 'and'");
            return NULL;
        }
    }
    return e;
}

/* not_expr = "not" not_expr | comparison */
static struct sb_expr *parse_not(struct parser *p)
{
    if (!enter(p))
        return NULL;
    struct sb_expr *e;
    if (sb_p_is_word(p, "not")) {
        size_t offset = sb_p_next(p)->offset;
        struct sb_expr *operand = parse_not(p);
        if (!operand) {
            p->depth--;
            return NULL;
        }
        e = new_expr(p, SB_EXPR_UNARY, offset);
        e->op = SB_OP_NOT;
        e->left = operand;
        finish(p, e);
    } else {
        e = parse_comparison(p);
    }
    p->depth--;
    return e;
}

/* and_expr = not_expr { "and" not_expr } */
static struct sb_expr *parse_and(struct parser *p)
{
    struct sb_expr *e = parse_not(p);
    while (e && sb_p_is_word(p, "and")) {
        sb_p_next(p);
        e = binary(p, SB_OP_AND, e, parse_not(p));
    }
    return e;
}

/* expr = and_expr { "or" and_expr } */
struct sb_expr *sb_p_expr(struct parser *p)
{
    if (!enter(p))
        return NULL;
    struct sb_expr *e = parse_and(p);
    while (e && sb_p_is_word(p, "or")) {
        sb_p_next(p);
        e = binary(p, SB_OP_OR, e, parse_and(p));
    }
    p->depth--;
    return e;
}

/* object = "{" [ NAME ":" expr { "," NAME ":" expr } [ "," ] ] "}" */
struct sb_expr *sb_p_object(struct parser *p)
{
    const struct sb_token *open = sb_p_peek(p);
    if (!sb_p_expect(p, SB_TOK_LBRACE, "to start the list of values"))
        return NULL;
    struct sb_expr *e = new_expr(p, SB_EXPR_OBJECT, open->offset);
    struct sb_ptrvec keys = {0}, values = {0};
    while (!sb_p_is(p, SB_TOK_RBRACE)) {
        size_t key_offset;
        const char *key = sb_p_name(p, "a field name", &key_offset);
        if (!key || !sb_p_expect(p, SB_TOK_COLON, "after the field name"))
            return NULL;
        struct sb_expr *value = sb_p_expr(p);
        if (!value)
            return NULL;
        (void)key_offset;
        sb_ptrvec_push(p->arena, &keys, (void *)key);
        sb_ptrvec_push(p->arena, &values, value);
        if (!sb_p_accept(p, SB_TOK_COMMA))
            break;
    }
    if (!sb_p_expect(p, SB_TOK_RBRACE, "to close the list of values"))
        return NULL;
    e->keys = (const char **)keys.items;
    e->args = (struct sb_expr **)values.items;
    e->n_args = values.len;
    finish(p, e);
    return e;
}
