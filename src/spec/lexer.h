/* Lexer of the spec language: source bytes -> an array of tokens that are
 * {kind, offset, length} slices of the source (never copies), plus the list
 * of comments (kept for the formatter). Errors go to the diagnostics. */
#ifndef SB_LEXER_H
#define SB_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/model.h"
#include "util/diag.h"

enum sb_token_kind {
#define SB_TOKEN(name, shown) SB_TOK_##name,
#include "spec/token_list.h"
#undef SB_TOKEN
    SB_TOK__COUNT
};

struct sb_token {
    enum sb_token_kind kind;
    size_t offset, length;
    bool bol; /* first token on its line */
};

struct sb_tokens {
    struct sb_token *items; /* owned (heap); last one is SB_TOK_EOF */
    size_t len;
    struct sb_comment *comments; /* owned (heap), by offset */
    size_t n_comments;
};

/* How a token kind is shown in messages ("'{'", "name", ...). */
const char *sb_token_shown(enum sb_token_kind kind);

/* Tokenize text[0..len). Always produces a token list ending in EOF; lexical
 * errors (stray characters, unterminated strings) are reported to diags and
 * the offending bytes skipped. */
void sb_lex(const char *text, size_t len, struct sb_tokens *out, struct sb_diags *diags);
void sb_tokens_free(struct sb_tokens *tokens);

/* Validate the source as a whole before lexing: size limit, NUL bytes,
 * UTF-8. Returns 0 when it can be lexed, -1 after reporting why not. */
int sb_lex_validate(const char *text, size_t len, struct sb_diags *diags);

#endif
