/* Internal to the spec front end: shared by parser.c and parse_expr.c. */
#ifndef SB_PARSER_INT_H
#define SB_PARSER_INT_H

#include <stdbool.h>

#include "spec/lexer.h"
#include "spec/model.h"
#include "util/diag.h"

struct parser {
    const char *src;
    struct sb_tokens toks;
    size_t pos;
    struct sb_model *model;
    struct sb_arena *arena;
    struct sb_diags *diags;
    bool panic; /* after an error, until the next sync point: no more errors */
    int depth;  /* expression nesting */
};

const struct sb_token *sb_p_peek(struct parser *p);
const struct sb_token *sb_p_peek_at(struct parser *p, size_t ahead);
const struct sb_token *sb_p_next(struct parser *p);
bool sb_p_is(struct parser *p, enum sb_token_kind kind);
/* Current token is the identifier word. */
bool sb_p_is_word(struct parser *p, const char *word);
bool sb_p_tok_is_word(struct parser *p, const struct sb_token *tok, const char *word);
bool sb_p_accept(struct parser *p, enum sb_token_kind kind);
/* Expect a token kind; reports "expected X, found Y" (what = context). */
bool sb_p_expect(struct parser *p, enum sb_token_kind kind, const char *what);
void sb_p_error(struct parser *p, size_t offset, size_t length, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Report an unexpected current token. */
void sb_p_error_here(struct parser *p, const char *expected);
/* An identifier as an arena string, with the name rules checked. */
const char *sb_p_name(struct parser *p, const char *what, size_t *offset);

/* After an error: skip to the start of the next line (or a closing brace at
 * this depth). */
void sb_p_sync_line(struct parser *p);
/* The current token must start a new line (or close the block). */
void sb_p_end_of_line(struct parser *p);
/* At a line of a block (named block) that starts with none of words:
 * report it (suggesting the nearest word, else saying what was expected)
 * and skip the line. */
void sb_p_unknown_setting(struct parser *p, const char *block, const char *const *words,
                          const char *expected);
/* The end offset of the token before the current one. */
size_t sb_p_prev_end(struct parser *p);

/* Decode an INT token; reports out-of-range values. */
bool sb_p_int(struct parser *p, const struct sb_token *tok, int64_t *out);

/* expr = and_expr { "or" and_expr } ...; NULL after an error. */
struct sb_expr *sb_p_expr(struct parser *p);
/* The `{ key: expr, ... }` of create steps and return objects. */
struct sb_expr *sb_p_object(struct parser *p);

/* security = "security" "{" { entry } "}" (parse_security.c), at
 * the `security` keyword. */
void sb_p_security(struct parser *p);

#endif
