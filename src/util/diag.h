/* Diagnostics about a source text (a spec file): collected while the front
 * end runs, rendered once at the end in one format:
 *
 *   shop.spec:12:7: error: unknown type 'strng'; did you mean 'text'?
 *      12 |   name strng
 *         |        ^~~~~
 *
 * Several errors per run; past SB_DIAG_MAX_ERRORS the rest are counted and
 * dropped so that a hostile input cannot make the report unbounded. */
#ifndef SB_DIAG_H
#define SB_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define SB_DIAG_MAX_ERRORS 50

enum sb_severity { SB_SEV_ERROR, SB_SEV_WARNING, SB_SEV_NOTE };

struct sb_diag_entry {
    enum sb_severity severity;
    size_t offset, length; /* byte span in the source */
    char *message;         /* owned by the list */
};

struct sb_source {
    const char *name; /* borrowed: file name shown in messages */
    const char *text; /* borrowed: the source bytes */
    size_t len;
};

struct sb_diags {
    const struct sb_source *source; /* borrowed */
    struct sb_diag_entry *entries;  /* owned */
    size_t len, cap;
    size_t n_errors;  /* all errors reported, including dropped ones */
    size_t n_dropped; /* entries not stored because of the cap */
};

void sb_diags_init(struct sb_diags *diags, const struct sb_source *source);
void sb_diags_free(struct sb_diags *diags);
/* Record a diagnostic on [offset, offset+length). */
void sb_diag_add(struct sb_diags *diags, enum sb_severity severity, size_t offset,
                 size_t length, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define sb_diag_error(d, off, len, ...) sb_diag_add((d), SB_SEV_ERROR, (off), (len), __VA_ARGS__)
/* Stable order: by offset, then by insertion. Call before rendering. */
void sb_diags_sort(struct sb_diags *diags);
/* Render every entry (and a trailing "N errors" line when more than one). */
void sb_diags_render(const struct sb_diags *diags, struct sb_buf *out);
/* 1-based line and column (in characters) of a byte offset. */
void sb_source_position(const struct sb_source *source, size_t offset, size_t *line, size_t *col);

/* The candidate closest to word by edit distance, or NULL when none is close
 * enough to be a plausible typo. candidates is a NULL-terminated array. */
const char *sb_suggest(const char *word, size_t word_len, const char *const *candidates);

#endif
