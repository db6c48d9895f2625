/* Lexer: turns spec source into tokens over a character-class table, in one
 * pass. Tokens are slices of the source; the parser (parser.c) decodes
 * numbers and strings from them. Comments are collected separately so the
 * formatter (fmt.c) can put them back. Newlines are not tokens, but each
 * token records whether it starts a line, which the parser uses to recover
 * from errors and to tell a misspelt modifier from the next declaration. */
#include "spec/lexer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

enum char_class {
    CC_OTHER = 0, /* not valid outside strings and comments */
    CC_SPACE,
    CC_NEWLINE,
    CC_IDENT,     /* letter or underscore */
    CC_DIGIT,
    CC_QUOTE,
    CC_HASH,
    CC_PUNCT,     /* one of the operator/punctuation characters */
};

static const unsigned char char_class[256] = {
    [' '] = CC_SPACE, ['\t'] = CC_SPACE, ['\r'] = CC_SPACE, ['\n'] = CC_NEWLINE,
    ['_'] = CC_IDENT,
    ['a'] = CC_IDENT, ['b'] = CC_IDENT, ['c'] = CC_IDENT, ['d'] = CC_IDENT, ['e'] = CC_IDENT,
    ['f'] = CC_IDENT, ['g'] = CC_IDENT, ['h'] = CC_IDENT, ['i'] = CC_IDENT, ['j'] = CC_IDENT,
    ['k'] = CC_IDENT, ['l'] = CC_IDENT, ['m'] = CC_IDENT, ['n'] = CC_IDENT, ['o'] = CC_IDENT,
    ['p'] = CC_IDENT, ['q'] = CC_IDENT, ['r'] = CC_IDENT, ['s'] = CC_IDENT, ['t'] = CC_IDENT,
    ['u'] = CC_IDENT, ['v'] = CC_IDENT, ['w'] = CC_IDENT, ['x'] = CC_IDENT, ['y'] = CC_IDENT,
    ['z'] = CC_IDENT,
    ['A'] = CC_IDENT, ['B'] = CC_IDENT, ['C'] = CC_IDENT, ['D'] = CC_IDENT, ['E'] = CC_IDENT,
    ['F'] = CC_IDENT, ['G'] = CC_IDENT, ['H'] = CC_IDENT, ['I'] = CC_IDENT, ['J'] = CC_IDENT,
    ['K'] = CC_IDENT, ['L'] = CC_IDENT, ['M'] = CC_IDENT, ['N'] = CC_IDENT, ['O'] = CC_IDENT,
    ['P'] = CC_IDENT, ['Q'] = CC_IDENT, ['R'] = CC_IDENT, ['S'] = CC_IDENT, ['T'] = CC_IDENT,
    ['U'] = CC_IDENT, ['V'] = CC_IDENT, ['W'] = CC_IDENT, ['X'] = CC_IDENT, ['Y'] = CC_IDENT,
    ['Z'] = CC_IDENT,
    ['0'] = CC_DIGIT, ['1'] = CC_DIGIT, ['2'] = CC_DIGIT, ['3'] = CC_DIGIT, ['4'] = CC_DIGIT,
    ['5'] = CC_DIGIT, ['6'] = CC_DIGIT, ['7'] = CC_DIGIT, ['8'] = CC_DIGIT, ['9'] = CC_DIGIT,
    ['"'] = CC_QUOTE, ['#'] = CC_HASH,
    ['{'] = CC_PUNCT, ['}'] = CC_PUNCT, ['('] = CC_PUNCT, [')'] = CC_PUNCT, ['['] = CC_PUNCT,
    [']'] = CC_PUNCT, [','] = CC_PUNCT, [':'] = CC_PUNCT, ['.'] = CC_PUNCT, ['-'] = CC_PUNCT,
    ['='] = CC_PUNCT, ['!'] = CC_PUNCT, ['<'] = CC_PUNCT, ['>'] = CC_PUNCT, ['+'] = CC_PUNCT,
    ['*'] = CC_PUNCT, ['/'] = CC_PUNCT, ['%'] = CC_PUNCT,
};

static const char *const token_shown[] = {
#define SB_TOKEN(name, shown) shown,
#include "spec/token_list.h"
#undef SB_TOKEN
};

const char *sb_token_shown(enum sb_token_kind kind)
{
    return kind < SB_TOK__COUNT ? token_shown[kind] : "token";
}

/* Length of the UTF-8 sequence at text[i] (0 when invalid). Rejects
 * overlongs, surrogates and code points past U+10FFFF. */
static size_t utf8_len(const unsigned char *text, size_t i, size_t len)
{
    unsigned char c = text[i];
    if (c < 0x80)
        return 1;
    size_t need;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len - i < need)
        return 0;
    for (size_t k = 1; k < need; k++) {
        if ((text[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (text[i + k] & 0x3F);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

int sb_lex_validate(const char *text, size_t len, struct sb_diags *diags)
{
    if (len > SB_SPEC_MAX_BYTES) {
        sb_diag_error(diags, 0, 0, "spec is %zu bytes; the limit is %u bytes (4 MiB)", len,
                      SB_SPEC_MAX_BYTES);
        return -1;
    }
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        if (bytes[i] == 0) {
            sb_diag_error(diags, i, 1, "NUL byte in spec: a spec is UTF-8 text (is this a binary file?)");
            return -1;
        }
        size_t n = utf8_len(bytes, i, len);
        if (n == 0) {
            sb_diag_error(diags, i, 1, "invalid UTF-8 byte 0x%02x: a spec is UTF-8 text", bytes[i]);
            return -1;
        }
        i += n;
    }
    return 0;
}

struct lexer {
    const char *text;
    size_t len, pos;
    bool at_bol;
    struct sb_tokens *out;
    size_t cap, comments_cap;
    struct sb_diags *diags;
};

static void push(struct lexer *lx, enum sb_token_kind kind, size_t offset, size_t length)
{
    struct sb_tokens *out = lx->out;
    if (out->len == lx->cap) {
        lx->cap = lx->cap ? lx->cap * 2 : 256;
        out->items = sb_xrealloc(out->items, lx->cap * sizeof(*out->items));
    }
    out->items[out->len++] = (struct sb_token){kind, offset, length, lx->at_bol};
    lx->at_bol = false;
}

static void push_comment(struct lexer *lx, size_t offset, size_t length)
{
    struct sb_tokens *out = lx->out;
    if (out->n_comments == lx->comments_cap) {
        lx->comments_cap = lx->comments_cap ? lx->comments_cap * 2 : 32;
        out->comments = sb_xrealloc(out->comments, lx->comments_cap * sizeof(*out->comments));
    }
    out->comments[out->n_comments++] = (struct sb_comment){offset, length};
}

static void lex_number(struct lexer *lx)
{
    const char *t = lx->text;
    size_t start = lx->pos, i = lx->pos;
    bool is_float = false;
    while (i < lx->len && char_class[(unsigned char)t[i]] == CC_DIGIT)
        i++;
    /* "1..10" is a range, not a float: a dot counts only before a digit */
    if (i + 1 < lx->len && t[i] == '.' && char_class[(unsigned char)t[i + 1]] == CC_DIGIT) {
        is_float = true;
        i++;
        while (i < lx->len && char_class[(unsigned char)t[i]] == CC_DIGIT)
            i++;
    }
    if (i < lx->len && (t[i] == 'e' || t[i] == 'E')) {
        size_t j = i + 1;
        if (j < lx->len && (t[j] == '+' || t[j] == '-'))
            j++;
        if (j < lx->len && char_class[(unsigned char)t[j]] == CC_DIGIT) {
            is_float = true;
            i = j;
            while (i < lx->len && char_class[(unsigned char)t[i]] == CC_DIGIT)
                i++;
        }
    }
    if (i < lx->len && char_class[(unsigned char)t[i]] == CC_IDENT) {
        size_t j = i;
        while (j < lx->len && (char_class[(unsigned char)t[j]] == CC_IDENT ||
                               char_class[(unsigned char)t[j]] == CC_DIGIT))
            j++;
        sb_diag_error(lx->diags, start, j - start,
                      "invalid name '%.*s': a name must start with a letter",
                      (int)(j - start > 40 ? 40 : j - start), t + start);
        /* continue as if it were a name, so the parser adds no second error */
        push(lx, SB_TOK_IDENT, start, j - start);
        lx->pos = j;
        return;
    }
    push(lx, is_float ? SB_TOK_FLOAT : SB_TOK_INT, start, i - start);
    lx->pos = i;
}

static void lex_string(struct lexer *lx)
{
    const char *t = lx->text;
    size_t start = lx->pos, i = lx->pos + 1;
    while (i < lx->len && t[i] != '"' && t[i] != '\n') {
        if (t[i] == '\\' && i + 1 < lx->len && t[i + 1] != '\n')
            i++;
        i++;
    }
    if (i >= lx->len || t[i] != '"') {
        sb_diag_error(lx->diags, start, 1,
                      "unterminated string: a string ends with '\"' on the same line");
        push(lx, SB_TOK_STRING, start, i - start); /* parser sees an unterminated slice */
        lx->pos = i;
        return;
    }
    i++;
    push(lx, SB_TOK_STRING, start, i - start);
    lx->pos = i;
}

static void lex_punct(struct lexer *lx)
{
    const char *t = lx->text;
    size_t i = lx->pos;
    char c = t[i], next = i + 1 < lx->len ? t[i + 1] : '\0';
    enum sb_token_kind kind;
    size_t n = 1;
    switch (c) {
    case '{': kind = SB_TOK_LBRACE; break;
    case '}': kind = SB_TOK_RBRACE; break;
    case '(': kind = SB_TOK_LPAREN; break;
    case ')': kind = SB_TOK_RPAREN; break;
    case '[': kind = SB_TOK_LBRACKET; break;
    case ']': kind = SB_TOK_RBRACKET; break;
    case ',': kind = SB_TOK_COMMA; break;
    case ':': kind = SB_TOK_COLON; break;
    case '+': kind = SB_TOK_PLUS; break;
    case '*': kind = SB_TOK_STAR; break;
    case '/': kind = SB_TOK_SLASH; break;
    case '%': kind = SB_TOK_PERCENT; break;
    case '.':
        kind = next == '.' ? SB_TOK_DOTDOT : SB_TOK_DOT;
        n = next == '.' ? 2 : 1;
        break;
    case '-':
        kind = next == '>' ? SB_TOK_ARROW : SB_TOK_MINUS;
        n = next == '>' ? 2 : 1;
        break;
    case '=':
        kind = next == '=' ? SB_TOK_EQ : SB_TOK_ASSIGN;
        n = next == '=' ? 2 : 1;
        break;
    case '<':
        kind = next == '=' ? SB_TOK_LE : SB_TOK_LT;
        n = next == '=' ? 2 : 1;
        break;
    case '>':
        kind = next == '=' ? SB_TOK_GE : SB_TOK_GT;
        n = next == '=' ? 2 : 1;
        break;
    case '!':
        if (next == '=') {
            kind = SB_TOK_NE;
            n = 2;
            break;
        }
        sb_diag_error(lx->diags, i, 1, "unexpected '!'; write 'not' for negation or '!=' for inequality");
        lx->pos = i + 1;
        return;
    default:
        sb_die("lexer: unhandled punctuation");
    }
    push(lx, kind, i, n);
    lx->pos = i + n;
}

void sb_lex(const char *text, size_t len, struct sb_tokens *out, struct sb_diags *diags)
{
    struct lexer lx = {.text = text, .len = len, .pos = 0, .at_bol = true, .out = out, .diags = diags};
    memset(out, 0, sizeof(*out));
    while (lx.pos < len) {
        unsigned char c = (unsigned char)text[lx.pos];
        switch (char_class[c]) {
        case CC_SPACE:
            lx.pos++;
            break;
        case CC_NEWLINE:
            lx.pos++;
            lx.at_bol = true;
            break;
        case CC_HASH: {
            size_t start = lx.pos;
            while (lx.pos < len && text[lx.pos] != '\n')
                lx.pos++;
            size_t end = lx.pos;
            while (end > start && (text[end - 1] == '\r' || text[end - 1] == ' ' || text[end - 1] == '\t'))
                end--;
            push_comment(&lx, start, end - start);
            break;
        }
        case CC_IDENT: {
            size_t start = lx.pos;
            while (lx.pos < len && (char_class[(unsigned char)text[lx.pos]] == CC_IDENT ||
                                    char_class[(unsigned char)text[lx.pos]] == CC_DIGIT))
                lx.pos++;
            push(&lx, SB_TOK_IDENT, start, lx.pos - start);
            break;
        }
        case CC_DIGIT:
            lex_number(&lx);
            break;
        case CC_QUOTE:
            lex_string(&lx);
            break;
        case CC_PUNCT:
            lex_punct(&lx);
            break;
        default: {
            /* one diagnostic per run of stray characters */
            size_t start = lx.pos;
            size_t n = c < 0x80 ? 1 : utf8_len((const unsigned char *)text, lx.pos, len);
            if (n == 0)
                n = 1;
            if (c >= 0x20 && c < 0x7f)
                sb_diag_error(diags, start, n, "unexpected character '%c'", c);
            else if (c < 0x80)
                sb_diag_error(diags, start, n, "unexpected control character 0x%02x", c);
            else
                sb_diag_error(diags, start, n,
                              "unexpected character '%.*s': names are ASCII; other text belongs in a string or a comment",
                              (int)n, text + start);
            lx.pos += n;
            while (lx.pos < len && char_class[(unsigned char)text[lx.pos]] == CC_OTHER)
                lx.pos++;
            break;
        }
        }
    }
    push(&lx, SB_TOK_EOF, len, 0);
    out->items[out->len - 1].bol = true;
}

void sb_tokens_free(struct sb_tokens *tokens)
{
    free(tokens->items);
    free(tokens->comments);
    memset(tokens, 0, sizeof(*tokens));
}
