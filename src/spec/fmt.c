/* Formatter: prints a parsed model (parser.c) back as canonical spec text,
 * the form `specbase fmt` writes. It reads the model only, never the tokens:
 * declarations come from the model in source order (collection members from
 * coll->members, so the checker's system fields never appear), and comments
 * are put back by their byte offsets, with the blank lines between
 * declarations taken from the source text. The expression and type printers
 * are shared with the JSON dump (json.c) through fmt.h.
 *
 * Layout: one declaration per line, two-space indentation, field columns
 * aligned within a run of consecutive fields, one blank line between
 * top-level items, at most one blank line anywhere. Formatting its own
 * output changes nothing. */
#include "spec/fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "spec/spec.h"

/* A step line longer than this puts its `else` on a continuation line. */
#define MAX_COLUMNS 100

/* ---- expressions -------------------------------------------------------- */

/* Binding strength, lowest first, as in docs/grammar.ebnf. */
enum prec {
    PREC_OR = 1,
    PREC_AND,
    PREC_NOT,
    PREC_CMP,   /* == != < <= > >= in, not in: non-associative */
    PREC_ADD,
    PREC_MUL,
    PREC_NEG,
    PREC_POSTFIX, /* member access, calls, literals, names */
};

static const char *op_text(enum sb_op op)
{
    switch (op) {
    case SB_OP_OR: return "or";
    case SB_OP_AND: return "and";
    case SB_OP_NOT: return "not";
    case SB_OP_EQ: return "==";
    case SB_OP_NE: return "!=";
    case SB_OP_LT: return "<";
    case SB_OP_LE: return "<=";
    case SB_OP_GT: return ">";
    case SB_OP_GE: return ">=";
    case SB_OP_IN: return "in";
    case SB_OP_NOT_IN: return "not in";
    case SB_OP_ADD: return "+";
    case SB_OP_SUB: return "-";
    case SB_OP_MUL: return "*";
    case SB_OP_DIV: return "/";
    case SB_OP_MOD: return "%";
    case SB_OP_NEG: return "-";
    case SB_OP_NONE: break;
    }
    return "?";
}

static int op_prec(enum sb_op op)
{
    switch (op) {
    case SB_OP_OR: return PREC_OR;
    case SB_OP_AND: return PREC_AND;
    case SB_OP_NOT: return PREC_NOT;
    case SB_OP_EQ: case SB_OP_NE: case SB_OP_LT: case SB_OP_LE: case SB_OP_GT: case SB_OP_GE:
    case SB_OP_IN: case SB_OP_NOT_IN:
        return PREC_CMP;
    case SB_OP_ADD: case SB_OP_SUB: return PREC_ADD;
    case SB_OP_MUL: case SB_OP_DIV: case SB_OP_MOD: return PREC_MUL;
    case SB_OP_NEG: return PREC_NEG;
    case SB_OP_NONE: break;
    }
    return PREC_POSTFIX;
}

static bool float_is_negative(const struct sb_expr *expr)
{
    if (expr->text)
        return expr->text[0] == '-';
    return signbit(expr->fval) != 0;
}

/* How tightly the printed form of expr binds (ignoring its own parens). */
static int expr_prec(const struct sb_expr *expr)
{
    switch (expr->kind) {
    case SB_EXPR_BINARY:
    case SB_EXPR_UNARY:
        return op_prec(expr->op);
    case SB_EXPR_INT:
        /* a negative literal prints with its sign, like a unary minus */
        return expr->ival < 0 ? PREC_NEG : PREC_POSTFIX;
    case SB_EXPR_FLOAT:
        return float_is_negative(expr) ? PREC_NEG : PREC_POSTFIX;
    default:
        return PREC_POSTFIX;
    }
}

static void put_string_literal(struct sb_buf *out, const char *text, size_t len)
{
    sb_buf_putc(out, '"');
    size_t run = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (text[i]) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (!esc)
            continue;
        sb_buf_append(out, text + run, i - run);
        sb_buf_puts(out, esc);
        run = i + 1;
    }
    sb_buf_append(out, text + run, len - run);
    sb_buf_putc(out, '"');
}

static void put_expr(const struct sb_expr *expr, struct sb_buf *out);

/* An operand: in parentheses when written so or when it binds less tightly
 * than its position needs. */
static void put_operand(const struct sb_expr *expr, int min_prec, struct sb_buf *out)
{
    if (!expr) {
        sb_buf_puts(out, "?");
        return;
    }
    if (!expr->parens && expr_prec(expr) < min_prec) {
        sb_buf_putc(out, '(');
        put_expr(expr, out);
        sb_buf_putc(out, ')');
        return;
    }
    put_expr(expr, out);
}

static void put_args(struct sb_expr *const *args, size_t n_args, struct sb_buf *out)
{
    for (size_t i = 0; i < n_args; i++) {
        if (i)
            sb_buf_puts(out, ", ");
        put_operand(args[i], PREC_OR, out);
    }
}

static void put_expr_bare(const struct sb_expr *expr, struct sb_buf *out)
{
    switch (expr->kind) {
    case SB_EXPR_INT:
        sb_buf_printf(out, "%" PRId64, expr->ival);
        break;
    case SB_EXPR_FLOAT:
        if (expr->text)
            sb_buf_puts(out, expr->text);
        else
            sb_buf_printf(out, "%.17g", expr->fval);
        break;
    case SB_EXPR_STRING:
        put_string_literal(out, expr->text ? expr->text : "", expr->text ? expr->text_len : 0);
        break;
    case SB_EXPR_BOOL:
        sb_buf_puts(out, expr->bval ? "true" : "false");
        break;
    case SB_EXPR_NULL:
        sb_buf_puts(out, "null");
        break;
    case SB_EXPR_ANYONE:
        sb_buf_puts(out, "anyone");
        break;
    case SB_EXPR_AUTHENTICATED:
        sb_buf_puts(out, "authenticated");
        break;
    case SB_EXPR_NAME:
        sb_buf_puts(out, expr->name ? expr->name : "?");
        break;
    case SB_EXPR_MEMBER:
        if (expr->left) {
            put_operand(expr->left, PREC_POSTFIX, out);
            sb_buf_putc(out, '.');
        }
        sb_buf_puts(out, expr->name ? expr->name : "?");
        break;
    case SB_EXPR_UNARY:
        if (expr->op == SB_OP_NOT) {
            sb_buf_puts(out, "not ");
            put_operand(expr->left, PREC_NOT, out);
        } else {
            sb_buf_putc(out, '-');
            put_operand(expr->left, PREC_NEG, out);
        }
        break;
    case SB_EXPR_BINARY: {
        int prec = op_prec(expr->op);
        /* comparisons do not chain: `a == b == c` is not in the language */
        int left_min = prec == PREC_CMP ? PREC_CMP + 1 : prec;
        put_operand(expr->left, left_min, out);
        sb_buf_putc(out, ' ');
        sb_buf_puts(out, op_text(expr->op));
        sb_buf_putc(out, ' ');
        put_operand(expr->right, prec + 1, out);
        break;
    }
    case SB_EXPR_CALL:
        sb_buf_puts(out, expr->name ? expr->name : "?");
        sb_buf_putc(out, '(');
        put_args(expr->args, expr->n_args, out);
        sb_buf_putc(out, ')');
        break;
    case SB_EXPR_LIST:
        sb_buf_putc(out, '[');
        put_args(expr->args, expr->n_args, out);
        sb_buf_putc(out, ']');
        break;
    case SB_EXPR_OBJECT:
        if (expr->n_args == 0) {
            sb_buf_puts(out, "{}");
            break;
        }
        sb_buf_puts(out, "{ ");
        for (size_t i = 0; i < expr->n_args; i++) {
            if (i)
                sb_buf_puts(out, ", ");
            sb_buf_puts(out, expr->keys && expr->keys[i] ? expr->keys[i] : "?");
            sb_buf_puts(out, ": ");
            put_operand(expr->args[i], PREC_OR, out);
        }
        sb_buf_puts(out, " }");
        break;
    }
}

static void put_expr(const struct sb_expr *expr, struct sb_buf *out)
{
    if (expr->parens) {
        sb_buf_putc(out, '(');
        put_expr_bare(expr, out);
        sb_buf_putc(out, ')');
    } else {
        put_expr_bare(expr, out);
    }
}

void sb_spec_format_expr(const struct sb_expr *expr, struct sb_buf *out)
{
    if (!expr) {
        sb_buf_puts(out, "?");
        return;
    }
    put_expr(expr, out);
}

/* ---- types ---------------------------------------------------------------- */

static void put_float_bound(struct sb_buf *out, const char *text, double value)
{
    if (!text) {
        sb_buf_printf(out, "%.17g", value);
        return;
    }
    /* as written, but without the spaces that may separate a sign */
    if (signbit(value) && text[0] != '-')
        sb_buf_putc(out, '-');
    for (; *text; text++)
        if (*text != ' ' && *text != '\t' && *text != '\r' && *text != '\n')
            sb_buf_putc(out, *text);
}

void sb_spec_format_type(const struct sb_type *type, struct sb_buf *out)
{
    switch (type->kind) {
    case SB_TYPE_TEXT:
    case SB_TYPE_INT:
        sb_buf_puts(out, sb_type_keyword(type->kind));
        if (type->has_min || type->has_max) {
            sb_buf_putc(out, '(');
            if (type->has_min)
                sb_buf_printf(out, "%" PRId64, type->min);
            sb_buf_puts(out, "..");
            if (type->has_max)
                sb_buf_printf(out, "%" PRId64, type->max);
            sb_buf_putc(out, ')');
        }
        break;
    case SB_TYPE_FLOAT:
        sb_buf_puts(out, "float");
        if (type->has_min || type->has_max) {
            sb_buf_putc(out, '(');
            if (type->has_min)
                put_float_bound(out, type->min_text, type->fmin);
            sb_buf_puts(out, "..");
            if (type->has_max)
                put_float_bound(out, type->max_text, type->fmax);
            sb_buf_putc(out, ')');
        }
        break;
    case SB_TYPE_DECIMAL:
        sb_buf_printf(out, "decimal(%d, %d)", type->precision, type->scale);
        break;
    case SB_TYPE_ENUM:
        sb_buf_puts(out, "enum(");
        for (size_t i = 0; i < type->n_enum_values; i++) {
            if (i)
                sb_buf_puts(out, ", ");
            sb_buf_puts(out, type->enum_values[i]);
        }
        sb_buf_putc(out, ')');
        break;
    case SB_TYPE_REF:
        sb_buf_puts(out, "-> ");
        sb_buf_puts(out, type->ref_name ? type->ref_name : "?");
        break;
    default:
        sb_buf_puts(out, sb_type_keyword(type->kind));
        break;
    }
    if (type->is_array) {
        sb_buf_putc(out, '[');
        if (type->arr_has_min || type->arr_has_max) {
            if (type->arr_has_min)
                sb_buf_printf(out, "%" PRId64, type->arr_min);
            sb_buf_puts(out, "..");
            if (type->arr_has_max)
                sb_buf_printf(out, "%" PRId64, type->arr_max);
        }
        sb_buf_putc(out, ']');
    }
}

/* ---- layout and comments -------------------------------------------------- */

struct printer {
    const struct sb_model *model;
    struct sb_buf *out;
    size_t next_comment; /* first comment not yet printed */
    size_t last_end;     /* source offset where the last printed line ended */
    bool no_blank;       /* the next line may not be preceded by a blank line */
    bool force_blank;    /* the next line is preceded by exactly one blank line */
};

/* Whether source[from, to) holds an empty line: a newline, then only
 * spaces, then another newline. Comments in between make lines non-empty. */
static bool blank_between(const struct printer *p, size_t from, size_t to)
{
    const char *src = p->model->source;
    if (!src)
        return false;
    if (to > p->model->source_len)
        to = p->model->source_len;
    bool after_newline = false;
    for (size_t i = from; i < to; i++) {
        char c = src[i];
        if (c == '\n') {
            if (after_newline)
                return true;
            after_newline = true;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            after_newline = false;
        }
    }
    return false;
}

static bool newline_between(const struct printer *p, size_t from, size_t to)
{
    const char *src = p->model->source;
    if (!src || from >= to)
        return false;
    if (to > p->model->source_len)
        to = p->model->source_len;
    return from < to && memchr(src + from, '\n', to - from) != NULL;
}

/* Start an output line for something that begins at source offset start:
 * the blank line (if any) before it, then the indentation. */
static void begin_line(struct printer *p, int level, size_t start)
{
    if (p->force_blank)
        sb_buf_putc(p->out, '\n');
    else if (!p->no_blank && start > p->last_end && blank_between(p, p->last_end, start))
        sb_buf_putc(p->out, '\n');
    p->force_blank = false;
    p->no_blank = false;
    sb_buf_fill(p->out, ' ', (size_t)level * 2);
}

static void put_comment_text(struct printer *p, const struct sb_comment *comment)
{
    const char *text = p->model->source + comment->offset;
    size_t len = comment->length;
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
        len--;
    sb_buf_append(p->out, text, len);
    size_t end = comment->offset + comment->length;
    if (end > p->last_end)
        p->last_end = end;
    p->next_comment++;
}

static const struct sb_comment *peek_comment(const struct printer *p)
{
    if (!p->model->source || p->next_comment >= p->model->n_comments)
        return NULL;
    return &p->model->comments[p->next_comment];
}

/* Print, one per line, every unprinted comment that starts before `before`.
 * Callers pass the end of the declaration that follows, so a comment written
 * in the middle of a multi-line declaration moves above it. */
static void flush_comments(struct printer *p, int level, size_t before)
{
    const struct sb_comment *comment;
    while ((comment = peek_comment(p)) && comment->offset < before) {
        begin_line(p, level, comment->offset);
        put_comment_text(p, comment);
        sb_buf_putc(p->out, '\n');
    }
}

/* End the line of a declaration that ends at source offset end, keeping a
 * comment written after it on the same line. `next` is where the following
 * declaration starts: a comment after that (`{ x int } # c`) belongs to the
 * later line. */
static void finish_line(struct printer *p, size_t end, size_t next)
{
    if (end > p->last_end)
        p->last_end = end;
    const struct sb_comment *comment = peek_comment(p);
    if (comment && comment->offset >= end && comment->offset < next &&
        !newline_between(p, end, comment->offset)) {
        sb_buf_putc(p->out, ' ');
        put_comment_text(p, comment);
    }
    sb_buf_putc(p->out, '\n');
}

/* Columns taken by UTF-8 text (one per code point). */
static size_t text_columns(const char *text, size_t len)
{
    size_t cols = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            cols++;
    return cols;
}

/* Offset just past the '{' that opens a block, searching from `from` over
 * spaces, comments, strings and a balanced parameter list; `from` when the
 * brace is not found (a model from a source with errors). */
static size_t block_open(const struct printer *p, size_t from)
{
    const char *src = p->model->source;
    size_t len = p->model->source_len;
    if (!src)
        return from;
    int depth = 0;
    for (size_t i = from; i < len; i++) {
        char c = src[i];
        if (c == '#') {
            while (i < len && src[i] != '\n')
                i++;
        } else if (c == '"') {
            for (i++; i < len && src[i] != '"' && src[i] != '\n'; i++)
                if (src[i] == '\\' && i + 1 < len)
                    i++;
        } else if (c == '(' || c == '[') {
            depth++;
        } else if (c == ')' || c == ']') {
            depth--;
        } else if (c == '{' && depth <= 0) {
            return i + 1;
        } else if (c == '}') {
            break;
        }
    }
    return from;
}

/* ---- declarations ---------------------------------------------------------- */

struct field_columns {
    size_t name_width, type_width;
};

static void put_modifiers(const struct sb_field *field, struct sb_buf *out)
{
    static const struct {
        unsigned flag;
        const char *word;
    } flags[] = {
        {SB_FIELD_REQUIRED, "required"}, {SB_FIELD_UNIQUE, "unique"},
        {SB_FIELD_READONLY, "readonly"}, {SB_FIELD_HIDDEN, "hidden"},
        {SB_FIELD_PII, "pii"},           {SB_FIELD_SEARCHABLE, "searchable"},
    };
    bool first = true;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (!(field->flags & flags[i].flag))
            continue;
        if (!first)
            sb_buf_putc(out, ' ');
        sb_buf_puts(out, flags[i].word);
        first = false;
    }
    if (field->on_delete_written) {
        if (!first)
            sb_buf_putc(out, ' ');
        sb_buf_puts(out, field->on_delete == SB_ON_DELETE_CASCADE    ? "on delete cascade"
                         : field->on_delete == SB_ON_DELETE_SET_NULL ? "on delete set null"
                                                                     : "on delete restrict");
        first = false;
    }
    if (field->default_expr) {
        if (!first)
            sb_buf_putc(out, ' ');
        sb_buf_puts(out, "default ");
        sb_spec_format_expr(field->default_expr, out);
        first = false;
    }
    if (field->check) {
        if (!first)
            sb_buf_putc(out, ' ');
        sb_buf_puts(out, "check ");
        sb_spec_format_expr(field->check, out);
    }
}

static void put_field(struct printer *p, const struct sb_field *field,
                      const struct field_columns *cols)
{
    struct sb_buf type, mods;
    sb_buf_init(&type);
    sb_buf_init(&mods);
    sb_spec_format_type(&field->type, &type);
    put_modifiers(field, &mods);

    size_t name_len = strlen(field->name);
    sb_buf_puts(p->out, field->name);
    sb_buf_fill(p->out, ' ', cols->name_width > name_len ? cols->name_width - name_len + 1 : 1);
    sb_buf_append(p->out, sb_buf_str(&type), type.len);
    if (mods.len) {
        size_t type_cols = text_columns(sb_buf_str(&type), type.len);
        sb_buf_fill(p->out, ' ',
                    cols->type_width > type_cols ? cols->type_width - type_cols + 1 : 1);
        sb_buf_append(p->out, sb_buf_str(&mods), mods.len);
    }
    sb_buf_free(&type);
    sb_buf_free(&mods);
}

static void put_rule(struct printer *p, const struct sb_rule *rule)
{
    struct sb_buf *out = p->out;
    sb_buf_puts(out, "allow ");
    if (rule->n_fields > 0) {
        sb_buf_puts(out, (rule->ops & SB_RULE_WRITE) ? "write(" : "read(");
        for (size_t i = 0; i < rule->n_fields; i++) {
            if (i)
                sb_buf_puts(out, ", ");
            sb_buf_puts(out, rule->field_names[i]);
        }
        sb_buf_putc(out, ')');
    } else {
        static const struct {
            unsigned op;
            const char *word;
        } ops[] = {
            {SB_RULE_READ, "read"}, {SB_RULE_CREATE, "create"},
            {SB_RULE_UPDATE, "update"}, {SB_RULE_DELETE, "delete"},
        };
        bool first = true;
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
            if (!(rule->ops & ops[i].op))
                continue;
            if (!first)
                sb_buf_puts(out, ", ");
            sb_buf_puts(out, ops[i].word);
            first = false;
        }
    }
    sb_buf_putc(out, ' ');
    sb_spec_format_expr(rule->expr, out);
}

static void put_index(struct printer *p, const struct sb_index *index)
{
    sb_buf_puts(p->out, index->unique ? "unique (" : "index (");
    for (size_t i = 0; i < index->n_columns; i++) {
        if (i)
            sb_buf_puts(p->out, ", ");
        sb_buf_puts(p->out, index->column_names[i]);
    }
    sb_buf_putc(p->out, ')');
}

static size_t member_start(const struct sb_member *member)
{
    switch (member->kind) {
    case SB_MEMBER_FIELD: return ((const struct sb_field *)member->item)->offset;
    case SB_MEMBER_INDEX: return ((const struct sb_index *)member->item)->offset;
    case SB_MEMBER_RULE: return ((const struct sb_rule *)member->item)->offset;
    case SB_MEMBER_CHECK: return ((const struct sb_check *)member->item)->offset;
    }
    return 0;
}

static size_t member_end(const struct sb_member *member)
{
    size_t end = 0;
    switch (member->kind) {
    case SB_MEMBER_FIELD: end = ((const struct sb_field *)member->item)->end; break;
    case SB_MEMBER_INDEX: end = ((const struct sb_index *)member->item)->end; break;
    case SB_MEMBER_RULE: end = ((const struct sb_rule *)member->item)->end; break;
    case SB_MEMBER_CHECK: end = ((const struct sb_check *)member->item)->end; break;
    }
    size_t start = member_start(member);
    return end > start ? end : start;
}

static bool is_printed_field(const struct sb_member *member)
{
    return member->kind == SB_MEMBER_FIELD &&
           !(((const struct sb_field *)member->item)->flags & SB_FIELD_SYSTEM);
}

/* Column widths of the run of fields that starts at members[first]: the run
 * ends at a member that is not a field or after a blank source line. */
static size_t field_run(const struct printer *p, const struct sb_collection *coll, size_t first,
                        struct field_columns *cols)
{
    size_t i = first;
    cols->name_width = 0;
    cols->type_width = 0;
    struct sb_buf type;
    sb_buf_init(&type);
    while (i < coll->n_members && is_printed_field(&coll->members[i])) {
        if (i > first &&
            blank_between(p, member_end(&coll->members[i - 1]), member_start(&coll->members[i])))
            break;
        const struct sb_field *field = coll->members[i].item;
        size_t name_len = strlen(field->name);
        if (name_len > cols->name_width)
            cols->name_width = name_len;
        sb_buf_reset(&type);
        sb_spec_format_type(&field->type, &type);
        size_t type_cols = text_columns(sb_buf_str(&type), type.len);
        if (type_cols > cols->type_width)
            cols->type_width = type_cols;
        i++;
    }
    sb_buf_free(&type);
    return i;
}

/* The closing line of a block: comments left inside it, then the brace. */
static void close_block(struct printer *p, size_t body_end, size_t end)
{
    flush_comments(p, 1, body_end);
    p->no_blank = true;
    begin_line(p, 0, body_end);
    sb_buf_putc(p->out, '}');
    finish_line(p, end, SIZE_MAX);
}

/* Whether a block has nothing to print inside (no members, no comments). */
static bool block_empty(const struct printer *p, size_t n_lines, size_t body_end)
{
    const struct sb_comment *comment = peek_comment(p);
    return n_lines == 0 && !(comment && comment->offset < body_end);
}

/* Where the first printed member at or after members[from] starts; the
 * closing brace when there is none. */
static size_t next_member_start(const struct sb_collection *coll, size_t from)
{
    for (size_t i = from; i < coll->n_members; i++)
        if (coll->members[i].kind != SB_MEMBER_FIELD || is_printed_field(&coll->members[i]))
            return member_start(&coll->members[i]);
    return coll->body_end;
}

static void put_collection(struct printer *p, const struct sb_collection *coll)
{
    size_t header_end = block_open(p, coll->offset + coll->length);
    flush_comments(p, 0, header_end);
    begin_line(p, 0, coll->start);
    sb_buf_printf(p->out, "collection %s {", coll->name);

    size_t n_lines = 0;
    for (size_t i = 0; i < coll->n_members; i++)
        if (coll->members[i].kind != SB_MEMBER_FIELD || is_printed_field(&coll->members[i]))
            n_lines++;
    if (block_empty(p, n_lines, coll->body_end)) {
        sb_buf_putc(p->out, '}');
        finish_line(p, coll->end, SIZE_MAX);
        return;
    }
    finish_line(p, header_end, next_member_start(coll, 0));
    p->no_blank = true;

    struct field_columns cols = {0, 0};
    size_t run_end = 0;
    for (size_t i = 0; i < coll->n_members; i++) {
        const struct sb_member *member = &coll->members[i];
        if (member->kind == SB_MEMBER_FIELD && !is_printed_field(member))
            continue;
        if (member->kind == SB_MEMBER_FIELD && i >= run_end)
            run_end = field_run(p, coll, i, &cols);
        size_t end = member_end(member);
        flush_comments(p, 1, end);
        begin_line(p, 1, member_start(member));
        switch (member->kind) {
        case SB_MEMBER_FIELD: put_field(p, member->item, &cols); break;
        case SB_MEMBER_INDEX: put_index(p, member->item); break;
        case SB_MEMBER_RULE: put_rule(p, member->item); break;
        case SB_MEMBER_CHECK:
            sb_buf_puts(p->out, "check ");
            sb_spec_format_expr(((const struct sb_check *)member->item)->expr, p->out);
            break;
        }
        finish_line(p, end, next_member_start(coll, i + 1));
    }
    close_block(p, coll->body_end, coll->end);
}

static void put_param(struct sb_buf *out, const struct sb_param *param)
{
    sb_buf_puts(out, param->name);
    sb_buf_puts(out, ": ");
    sb_spec_format_type(&param->type, out);
    if (param->default_expr) {
        sb_buf_puts(out, " = ");
        sb_spec_format_expr(param->default_expr, out);
    }
}

static void put_assigns(struct sb_buf *out, const struct sb_step *step, const char *sep)
{
    for (size_t i = 0; i < step->n_assigns; i++) {
        if (i)
            sb_buf_puts(out, ", ");
        sb_buf_puts(out, step->assigns[i].name);
        sb_buf_puts(out, sep);
        sb_spec_format_expr(step->assigns[i].value, out);
    }
}

/* The text of a step without its `else` part. */
static void step_text(struct sb_buf *out, const struct sb_step *step)
{
    static const char *const verbs[] = {
        [SB_STEP_CREATE] = "create", [SB_STEP_UPDATE] = "update", [SB_STEP_DELETE] = "delete",
        [SB_STEP_GET] = "get",       [SB_STEP_LIST] = "list",
    };
    switch (step->kind) {
    case SB_STEP_REQUIRE:
        sb_buf_puts(out, "require ");
        sb_spec_format_expr(step->expr, out);
        return;
    case SB_STEP_RETURN:
        sb_buf_puts(out, "return ");
        sb_spec_format_expr(step->expr, out);
        return;
    default:
        break;
    }
    if (step->bind_name)
        sb_buf_printf(out, "let %s = ", step->bind_name);
    sb_buf_printf(out, "%s %s", verbs[step->kind], step->coll_name ? step->coll_name : "?");
    if (step->kind == SB_STEP_CREATE) {
        if (step->n_assigns == 0) {
            sb_buf_puts(out, " {}");
        } else {
            sb_buf_puts(out, " { ");
            put_assigns(out, step, ": ");
            sb_buf_puts(out, " }");
        }
        return;
    }
    if (step->where) {
        sb_buf_puts(out, " where ");
        sb_spec_format_expr(step->where, out);
    }
    if (step->kind == SB_STEP_UPDATE) {
        sb_buf_puts(out, " set ");
        put_assigns(out, step, " = ");
    }
}

static void put_step(struct printer *p, const struct sb_step *step, int level)
{
    struct sb_buf line;
    sb_buf_init(&line);
    step_text(&line, step);
    sb_buf_append(p->out, sb_buf_str(&line), line.len);
    if (step->has_else) {
        struct sb_buf tail;
        sb_buf_init(&tail);
        sb_buf_printf(&tail, "else %d ", step->status);
        put_string_literal(&tail, step->message ? step->message : "",
                           step->message ? strlen(step->message) : 0);
        size_t width = (size_t)level * 2 + text_columns(sb_buf_str(&line), line.len) + 1 +
                       text_columns(sb_buf_str(&tail), tail.len);
        if (width > MAX_COLUMNS) {
            sb_buf_putc(p->out, '\n');
            sb_buf_fill(p->out, ' ', (size_t)level * 2 + 4);
        } else {
            sb_buf_putc(p->out, ' ');
        }
        sb_buf_append(p->out, sb_buf_str(&tail), tail.len);
        sb_buf_free(&tail);
    }
    sb_buf_free(&line);
}

static void put_action(struct printer *p, const struct sb_action *action)
{
    size_t header_end = block_open(p, action->offset + action->length);
    flush_comments(p, 0, header_end);
    begin_line(p, 0, action->start);
    sb_buf_printf(p->out, "action %s(", action->name);
    for (size_t i = 0; i < action->n_params; i++) {
        if (i)
            sb_buf_puts(p->out, ", ");
        put_param(p->out, &action->params[i]);
    }
    sb_buf_puts(p->out, ") {");
    if (block_empty(p, action->n_steps + (action->allow != NULL), action->body_end)) {
        sb_buf_putc(p->out, '}');
        finish_line(p, action->end, SIZE_MAX);
        return;
    }
    size_t first_step = action->n_steps ? action->steps[0].offset : action->body_end;
    finish_line(p, header_end, action->allow ? action->allow_offset : first_step);
    p->no_blank = true;

    if (action->allow) {
        size_t end = action->allow->offset + action->allow->length;
        flush_comments(p, 1, end);
        begin_line(p, 1, action->allow_offset);
        sb_buf_puts(p->out, "allow ");
        sb_spec_format_expr(action->allow, p->out);
        finish_line(p, end, first_step);
    }
    for (size_t i = 0; i < action->n_steps; i++) {
        const struct sb_step *step = &action->steps[i];
        size_t end = step->end > step->offset ? step->end : step->offset;
        flush_comments(p, 1, end);
        begin_line(p, 1, step->offset);
        put_step(p, step, 1);
        finish_line(p, end, i + 1 < action->n_steps ? action->steps[i + 1].offset : action->body_end);
    }
    close_block(p, action->body_end, action->end);
}

static size_t auth_entry_end(const struct sb_auth *auth, bool users)
{
    if (users)
        return auth->users_offset + (auth->users_name ? strlen(auth->users_name) : 0);
    if (auth->n_roles == 0)
        return auth->roles_start;
    return auth->role_offsets[auth->n_roles - 1] + strlen(auth->roles[auth->n_roles - 1]);
}

static void put_auth_entry(struct printer *p, bool users, size_t next)
{
    const struct sb_auth *auth = &p->model->auth;
    size_t start = users ? auth->users_start : auth->roles_start;
    size_t end = auth_entry_end(auth, users);
    flush_comments(p, 1, end);
    begin_line(p, 1, start);
    if (users) {
        sb_buf_printf(p->out, "users: %s", auth->users_name ? auth->users_name : "?");
    } else {
        sb_buf_puts(p->out, "roles: ");
        for (size_t i = 0; i < auth->n_roles; i++) {
            if (i)
                sb_buf_puts(p->out, ", ");
            sb_buf_puts(p->out, auth->roles[i]);
        }
    }
    finish_line(p, end, next);
}

static void put_auth(struct printer *p)
{
    const struct sb_auth *auth = &p->model->auth;
    bool has_users = auth->users_start != 0 || auth->users_name != NULL;
    bool has_roles = auth->roles_start != 0 || auth->n_roles > 0;
    size_t header_end = block_open(p, auth->offset + 4);
    flush_comments(p, 0, header_end);
    begin_line(p, 0, auth->offset);
    sb_buf_puts(p->out, "auth {");
    if (block_empty(p, (size_t)has_users + (size_t)has_roles, auth->body_end)) {
        sb_buf_putc(p->out, '}');
        finish_line(p, auth->end, SIZE_MAX);
        return;
    }
    if (!has_users && !has_roles) { /* only comments inside */
        finish_line(p, header_end, auth->body_end);
        p->no_blank = true;
        close_block(p, auth->body_end, auth->end);
        return;
    }
    /* entries in the order written, so comments stay next to their line */
    bool roles_first = has_users && has_roles && auth->roles_start < auth->users_start;
    size_t first = !has_users || roles_first ? auth->roles_start : auth->users_start;
    size_t second = !has_users || !has_roles ? auth->body_end
                    : roles_first            ? auth->users_start
                                             : auth->roles_start;
    finish_line(p, header_end, first);
    p->no_blank = true;
    put_auth_entry(p, has_users && !roles_first, second);
    if (has_users && has_roles)
        put_auth_entry(p, roles_first, auth->body_end);
    close_block(p, auth->body_end, auth->end);
}

static const char *unit_word(int64_t seconds, bool rate)
{
    switch (seconds) {
    case 1: return rate ? "s" : "second";
    case 60: return rate ? "min" : "minute";
    case 3600: return rate ? "h" : "hour";
    default: return rate ? "d" : "day";
    }
}

static void put_security_entry(struct sb_buf *out, const struct sb_security_entry *e)
{
    switch (e->kind) {
    case SB_SEC_LIMIT:
        sb_buf_printf(out, "limit %s: %lld/%s", e->name, (long long)e->count, unit_word(e->per_s, true));
        if (e->burst_offset)
            sb_buf_printf(out, " burst %lld", (long long)e->burst);
        break;
    case SB_SEC_ON:
        sb_buf_printf(out, "on %s: %s", e->name, e->action);
        if (e->duration_offset)
            sb_buf_printf(out, " %lld %s%s", (long long)e->duration_n, unit_word(e->duration_unit_s, false),
                          e->duration_n == 1 ? "" : "s");
        break;
    case SB_SEC_AUDIT:
        sb_buf_puts(out, "audit: ");
        for (size_t i = 0; i < e->n_roles; i++)
            sb_buf_printf(out, "%s%s", i ? ", " : "", e->roles[i]);
        break;
    }
}

static void put_security(struct printer *p)
{
    const struct sb_security *sec = &p->model->security;
    size_t header_end = block_open(p, sec->offset + 8);
    flush_comments(p, 0, header_end);
    begin_line(p, 0, sec->offset);
    sb_buf_puts(p->out, "security {");
    if (block_empty(p, sec->n_entries, sec->body_end)) {
        sb_buf_putc(p->out, '}');
        finish_line(p, sec->end, SIZE_MAX);
        return;
    }
    finish_line(p, header_end, sec->n_entries ? sec->entries[0].start : sec->body_end);
    p->no_blank = true;
    for (size_t i = 0; i < sec->n_entries; i++) {
        const struct sb_security_entry *e = &sec->entries[i];
        flush_comments(p, 1, e->end);
        begin_line(p, 1, e->start);
        put_security_entry(p->out, e);
        finish_line(p, e->end, i + 1 < sec->n_entries ? sec->entries[i + 1].start : sec->body_end);
    }
    close_block(p, sec->body_end, sec->end);
}

static void put_app(struct printer *p)
{
    const struct sb_model *model = p->model;
    const char *name = model->app_name ? model->app_name : "?";
    size_t end = model->app_offset + strlen(name);
    flush_comments(p, 0, end);
    begin_line(p, 0, model->app_start);
    sb_buf_printf(p->out, "app %s", name);
    finish_line(p, end, SIZE_MAX);
}

void sb_spec_format(const struct sb_model *model, struct sb_buf *out)
{
    struct printer p = {.model = model, .out = out, .no_blank = true};
    for (size_t i = 0; i < model->n_items; i++) {
        const struct sb_item *item = &model->items[i];
        /* one blank line before each top-level item and its comments */
        if (i > 0)
            p.force_blank = true;
        switch (item->kind) {
        case SB_ITEM_APP: put_app(&p); break;
        case SB_ITEM_AUTH: put_auth(&p); break;
        case SB_ITEM_SECURITY: put_security(&p); break;
        case SB_ITEM_COLLECTION: put_collection(&p, item->item); break;
        case SB_ITEM_ACTION: put_action(&p, item->item); break;
        }
    }
    p.force_blank = false;
    flush_comments(&p, 0, (size_t)-1);
}
