/* Lexical pieces of the PostgREST query-string grammar, shared by the
 * select, filter, logic and order parsers (see parse_int.h): the cursor,
 * PostgREST-shaped error messages with line and column, field names
 * (quoted or dash-separated identifiers), json paths and identifiers.
 *
 * Every scan first finds the extent of a token and only then allocates
 * exactly its size, so memory stays proportional to the input. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "query/parse_int.h"

#define SHOWN_TEXT_MAX 200 /* bytes of the offending text quoted in a message */

void qp_cur_init(struct qp_cur *cur, struct qp_ctx *ctx, const char *text, size_t len,
                 const char *what)
{
    cur->ctx = ctx;
    cur->text = text;
    cur->len = len;
    cur->pos = 0;
    cur->what = what;
}

/* ---- errors ---------------------------------------------------------------- */

static bool is_continuation(unsigned char ch)
{
    return (ch & 0xC0) == 0x80;
}

size_t qp_utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && is_continuation((unsigned char)text[max]))
        max--;
    return max;
}

/* How many bytes of the cursor's text a message quotes, and whether it was
 * cut. */
static size_t shown_len(const struct qp_cur *cur, const char **ellipsis)
{
    size_t shown = qp_utf8_cut(cur->text, cur->len, SHOWN_TEXT_MAX);
    *ellipsis = shown < cur->len ? "..." : "";
    return shown;
}

static int vfail(struct qp_cur *cur, size_t pos, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int vfail(struct qp_cur *cur, size_t pos, const char *fmt, va_list ap)
{
    struct sb_api_error *err = cur->ctx->err;
    if (sb_api_error_is_set(err))
        return -1;
    if (pos > cur->len)
        pos = cur->len;
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos; i++) {
        unsigned char ch = (unsigned char)cur->text[i];
        if (ch == '\n') {
            line++;
            column = 1;
        } else if (!is_continuation(ch)) {
            column++;
        }
    }
    const char *ellipsis;
    size_t shown = shown_len(cur, &ellipsis);
    char details[512];
    int n = vsnprintf(details, sizeof(details), fmt, ap);
    if (n >= (int)sizeof(details)) /* cut: end on a character boundary */
        details[qp_utf8_cut(details, sizeof(details) - 1, sizeof(details) - 4)] = '\0';
    sb_api_error_set(err, 400, "PGRST100", "\"failed to parse %s (%.*s%s)\" (line %zu, column %zu)",
                     cur->what, (int)shown, cur->text, ellipsis, line, column);
    sb_api_error_details(err, "%s", details);
    return -1;
}

int qp_error_at(struct qp_cur *cur, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cur, pos, fmt, ap);
    va_end(ap);
    return -1;
}

int qp_unexpected(struct qp_cur *cur, const char *expecting)
{
    if (qp_eof(cur))
        return qp_error_at(cur, cur->pos, "unexpected end of input expecting %s", expecting);
    unsigned char ch = (unsigned char)cur->text[cur->pos];
    if (ch < 0x20 || ch == 0x7F)
        return qp_error_at(cur, cur->pos, "unexpected control character 0x%02x expecting %s", ch,
                           expecting);
    size_t n = 1;
    while (cur->pos + n < cur->len && n < 4 &&
           is_continuation((unsigned char)cur->text[cur->pos + n]))
        n++;
    return qp_error_at(cur, cur->pos, "unexpected \"%.*s\" expecting %s", (int)n,
                       cur->text + cur->pos, expecting);
}

int qp_aggregate_error(struct qp_cur *cur)
{
    struct sb_api_error *err = cur->ctx->err;
    if (sb_api_error_is_set(err))
        return -1;
    const char *ellipsis;
    size_t shown = shown_len(cur, &ellipsis);
    sb_api_error_set(err, 400, "PGRST123", "Use of aggregate functions is not allowed");
    sb_api_error_details(err,
                         "select parameter (%.*s%s): aggregates such as count() and "
                         "col.sum() are not supported",
                         (int)shown, cur->text, ellipsis);
    return -1;
}

int qp_budget(struct qp_cur *cur)
{
    struct qp_ctx *ctx = cur->ctx;
    if (ctx->arena->used_total - ctx->arena_start <= SB_Q_MAX_AST_BYTES)
        return 0;
    return qp_error_at(cur, cur->pos, "the query is too large: parsing it needs more than %u MiB",
                       SB_Q_MAX_AST_BYTES >> 20);
}

/* ---- characters -------------------------------------------------------------- */

bool qp_looking_at(const struct qp_cur *cur, const char *lit)
{
    size_t n = strlen(lit);
    return cur->len - cur->pos >= n && memcmp(cur->text + cur->pos, lit, n) == 0;
}

bool qp_accept(struct qp_cur *cur, const char *lit)
{
    if (!qp_looking_at(cur, lit))
        return false;
    cur->pos += strlen(lit);
    return true;
}

static bool is_ws(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

void qp_ws(struct qp_cur *cur)
{
    while (is_ws(qp_peek(cur)))
        cur->pos++;
}

static bool is_alnum(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* PostgREST's identifier characters: letters (any non-ASCII byte stands for
 * one, the text being valid UTF-8), digits, '_', '$' and spaces. */
static bool ident_char(int ch)
{
    return ch >= 0x80 || is_alnum(ch) || ch == '_' || ch == '$' || ch == ' ';
}

static bool ident_start(int ch)
{
    return ch != ' ' && ident_char(ch);
}

/* A '-' that continues a name: not the start of "->". */
static bool at_name_dash(const struct qp_cur *cur)
{
    return qp_peek(cur) == '-' && qp_peek_at(cur, 1) != '>';
}

/* Copy text[start..end) splitting at '-', trimming spaces around each part. */
static const char *join_trimmed(struct qp_cur *cur, size_t start, size_t end)
{
    char *out = sb_arena_alloc(cur->ctx->arena, end - start + 1);
    size_t n = 0;
    size_t part = start;
    for (size_t i = start; i <= end; i++) {
        if (i < end && cur->text[i] != '-')
            continue;
        size_t a = part, b = i;
        while (a < b && is_ws((unsigned char)cur->text[a]))
            a++;
        while (b > a && is_ws((unsigned char)cur->text[b - 1]))
            b--;
        if (part > start)
            out[n++] = '-';
        memcpy(out + n, cur->text + a, b - a);
        n += b - a;
        part = i + 1;
    }
    out[n] = '\0';
    return out;
}

/* ---- tokens ------------------------------------------------------------------ */

/* The index of the quote closing the one at the cursor, or cur->len. */
static size_t closing_quote(const struct qp_cur *cur)
{
    size_t end = cur->pos + 1;
    while (end < cur->len && cur->text[end] != '"') {
        if (cur->text[end] == '\\' && end + 1 < cur->len)
            end++;
        end++;
    }
    return end < cur->len ? end : cur->len;
}

bool qp_quote_closes(const struct qp_cur *cur)
{
    return qp_peek(cur) == '"' && closing_quote(cur) < cur->len;
}

int qp_quoted(struct qp_cur *cur, const char **out, size_t *out_len)
{
    size_t start = cur->pos + 1, end = closing_quote(cur);
    if (end >= cur->len) {
        cur->pos = cur->len;
        return qp_unexpected(cur, "closing quote (\")");
    }
    char *text = sb_arena_alloc(cur->ctx->arena, end - start + 1);
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        if (cur->text[i] == '\\')
            i++;
        text[n++] = cur->text[i];
    }
    text[n] = '\0';
    cur->pos = end + 1;
    *out = text;
    if (out_len)
        *out_len = n;
    return 0;
}

bool qp_at_name(const struct qp_cur *cur)
{
    int ch = qp_peek(cur);
    return ch == '"' || ident_start(ch);
}

int qp_name(struct qp_cur *cur, const char **out, bool *quoted)
{
    if (quoted)
        *quoted = false;
    if (qp_peek(cur) == '"') {
        size_t start = cur->pos, len;
        if (qp_quoted(cur, out, &len) != 0)
            return -1;
        if (len == 0)
            return qp_error_at(cur, start, "empty quoted name \"\"");
        if (quoted)
            *quoted = true;
        return 0;
    }
    if (!ident_start(qp_peek(cur)))
        return qp_unexpected(cur, "field name (* or [a..z0..9_$])");
    size_t start = cur->pos;
    for (;;) {
        while (ident_char(qp_peek(cur)))
            cur->pos++;
        if (!at_name_dash(cur))
            break;
        cur->pos++;
        while (qp_peek(cur) == ' ')
            cur->pos++;
        if (!ident_start(qp_peek(cur)))
            return qp_unexpected(cur, "letter or digit after \"-\"");
    }
    *out = join_trimmed(cur, start, cur->pos);
    return 0;
}

int qp_ident(struct qp_cur *cur, const char **out)
{
    while (qp_peek(cur) == ' ')
        cur->pos++;
    if (!ident_start(qp_peek(cur)))
        return qp_unexpected(cur, "letter or digit");
    size_t start = cur->pos;
    while (ident_char(qp_peek(cur)))
        cur->pos++;
    *out = join_trimmed(cur, start, cur->pos);
    return 0;
}

/* A json array index: -?[0-9]+ followed by the end of the operand. */
static bool at_json_index(const struct qp_cur *cur, size_t *end)
{
    size_t i = cur->pos;
    if (i < cur->len && cur->text[i] == '-')
        i++;
    size_t digits = i;
    while (i < cur->len && cur->text[i] >= '0' && cur->text[i] <= '9')
        i++;
    if (i == digits)
        return false;
    struct qp_cur after = *cur;
    after.pos = i;
    int ch = qp_peek(&after);
    if (ch == -1 || ch == '.' || ch == ',' || ch == ')' || is_ws(ch) ||
        qp_looking_at(&after, "->") || qp_looking_at(&after, "::")) {
        *end = i;
        return true;
    }
    return false;
}

static bool json_key_char(int ch)
{
    return ch != -1 && !strchr("(-:.,>)", ch);
}

static int json_operand(struct qp_cur *cur, struct sb_q_json_step *step)
{
    size_t end;
    if (at_json_index(cur, &end)) {
        size_t i = cur->pos;
        bool negative = cur->text[i] == '-';
        if (negative)
            i++;
        int64_t value = 0;
        for (; i < end; i++) {
            value = value * 10 + (cur->text[i] - '0');
            if (value > SB_Q_MAX_JSON_INDEX)
                return qp_error_at(cur, cur->pos, "json array index out of range (at most %d)",
                                   SB_Q_MAX_JSON_INDEX);
        }
        step->key = NULL;
        step->index = (int32_t)(negative ? -value : value);
        cur->pos = end;
        return 0;
    }
    if (qp_peek(cur) == '"')
        return qp_quoted(cur, &step->key, NULL);
    size_t start = cur->pos;
    for (;;) {
        while (json_key_char(qp_peek(cur)))
            cur->pos++;
        if (!at_name_dash(cur))
            break;
        cur->pos++;
        if (!json_key_char(qp_peek(cur)))
            return qp_unexpected(cur, "json key character after \"-\"");
    }
    const char *key = join_trimmed(cur, start, cur->pos);
    if (key[0] == '\0') {
        cur->pos = start;
        while (is_ws(qp_peek(cur)))
            cur->pos++;
        return qp_unexpected(cur, "json key or array index");
    }
    step->key = key;
    return 0;
}

int qp_json_path(struct qp_cur *cur, struct sb_q_path *path)
{
    struct sb_q_json_step steps[SB_Q_MAX_JSON_STEPS];
    size_t n = 0;
    while (qp_looking_at(cur, "->")) {
        if (n == SB_Q_MAX_JSON_STEPS)
            return qp_error_at(cur, cur->pos, "json path longer than %d steps",
                               SB_Q_MAX_JSON_STEPS);
        struct sb_q_json_step *step = &steps[n];
        memset(step, 0, sizeof(*step));
        step->as_text = qp_accept(cur, "->>");
        if (!step->as_text)
            cur->pos += 2;
        if (json_operand(cur, step) != 0)
            return -1;
        n++;
    }
    if (n) {
        path->steps = sb_arena_alloc(cur->ctx->arena, n * sizeof(*steps));
        memcpy(path->steps, steps, n * sizeof(*steps));
        path->n_steps = n;
    }
    return 0;
}

int qp_field(struct qp_cur *cur, struct sb_q_path *path)
{
    qp_ws(cur);
    if (qp_name(cur, &path->column, NULL) != 0 || qp_json_path(cur, path) != 0)
        return -1;
    qp_ws(cur);
    return 0;
}
