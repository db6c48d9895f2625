/* Full-text search: the value of PostgREST's fts, plfts, phfts and wfts
 * filters (PostgreSQL's to_tsquery, plainto_tsquery, phraseto_tsquery and
 * websearch_to_tsquery syntaxes) turned into an FTS5 MATCH expression for a
 * collection's "_sb_fts_<collection>" table (store/ddl.h). The SQL compiler
 * binds the expression as a parameter:
 *
 *   ... WHERE "id" IN (SELECT rowid FROM "_sb_fts_post" WHERE "_sb_fts_post" MATCH ?)
 *
 * Every word reaches FTS5 as a quoted string ("word", '"' doubled), so the
 * expression is always valid FTS5 and holds only the operators the user
 * wrote: a word such as AND, NEAR or body:x stays a word.
 *
 * Words are what FTS5's unicode61 tokenizer (remove_diacritics 2) sees:
 * runs of characters that are not separators. Separators are the ASCII
 * characters other than letters and digits and the non-ASCII code points
 * unicode61 treats as separators (punctuation, symbols, spaces: a table in
 * fts.c); bytes that are not valid UTF-8 belong to words. Case and
 * diacritics are folded by FTS5 itself. There are no stop words and no
 * stemming: "cats" does not find "cat" (use cat:* for a prefix).
 *
 * The syntaxes (as PostgreSQL, with these limits):
 *   SB_FTS_TSQUERY   (fts)   words joined by & | ! <-> and parentheses;
 *                            precedence ! then <-> then & then |; 'quoted
 *                            text' ('' or \' for a quote); word:* is a
 *                            prefix; an operand of several words (fat-cat,
 *                            'fat cat') is a phrase. Not supported: weights
 *                            (word:A) and distances other than one (<2>).
 *   SB_FTS_PLAIN     (plfts) every word ANDed, everything else ignored.
 *   SB_FTS_PHRASE    (phfts) every word, in order, as one phrase.
 *   SB_FTS_WEBSEARCH (wfts)  words ANDed; "quoted text" is a phrase; the
 *                            word `or` between operands means OR (AND binds
 *                            tighter); a leading '-' negates an operand;
 *                            other punctuation is ignored.
 * FTS5's NOT subtracts one match from another, so a negation needs a
 * positive side: 'cat & !dog' works, '!dog' alone and 'cat | !dog' are
 * refused with a reason. Operands without words ('...', '-') are dropped,
 * as PostgreSQL drops operands without lexemes.
 *
 * Limits (a query past one is refused): SB_FTS_MAX_TERMS words,
 * SB_FTS_MAX_DEPTH nested parentheses, SB_FTS_MAX_QUERY bytes of FTS5 text,
 * and 24 levels of parentheses in that text (FTS5's parser overflows near
 * 32; precedence adds levels the query did not write). */
#ifndef SB_QUERY_FTS_H
#define SB_QUERY_FTS_H

#include <stddef.h>

#include "util/buf.h"

enum sb_fts_kind {
    SB_FTS_TSQUERY,  /* fts:   to_tsquery */
    SB_FTS_PLAIN,    /* plfts: plainto_tsquery */
    SB_FTS_PHRASE,   /* phfts: phraseto_tsquery */
    SB_FTS_WEBSEARCH /* wfts:  websearch_to_tsquery */
};

#define SB_FTS_MAX_TERMS 64   /* words in one query */
#define SB_FTS_MAX_QUERY 4096 /* bytes of the FTS5 expression */
#define SB_FTS_MAX_DEPTH 16   /* nested parentheses (fts) */

/* sb_fts_query's result when the query has no words at all: FTS5 cannot
 * express "matches nothing", so the caller emits a false condition. */
#define SB_FTS_MATCHES_NOTHING 1

/* Convert text[0..len) (any bytes) of the given kind to an FTS5 MATCH
 * expression. column (borrowed; NULL: every column of the table) restricts
 * the search to one column: {"column"} : (...).
 * Returns:
 *    0  the expression was appended to out (borrowed);
 *    1  SB_FTS_MATCHES_NOTHING: no words; out is untouched;
 *   -1  the query is refused; out is untouched and *why (when why is not
 *       NULL) is a static, client-facing reason (the caller answers 400). */
int sb_fts_query(enum sb_fts_kind kind, const char *text, size_t len, const char *column,
                 struct sb_buf *out, const char **why);

#endif
