/* Diagnostics: collection, ordering, rendering with the source line and a
 * caret, and "did you mean" suggestions by edit distance. See diag.h. */
#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

void sb_diags_init(struct sb_diags *diags, const struct sb_source *source)
{
    memset(diags, 0, sizeof(*diags));
    diags->source = source;
}

void sb_diags_free(struct sb_diags *diags)
{
    for (size_t i = 0; i < diags->len; i++)
        free(diags->entries[i].message);
    free(diags->entries);
    memset(diags, 0, sizeof(*diags));
}

void sb_diag_add(struct sb_diags *diags, enum sb_severity severity, size_t offset,
                 size_t length, const char *fmt, ...)
{
    if (severity == SB_SEV_ERROR)
        diags->n_errors++;
    if (diags->len >= SB_DIAG_MAX_ERRORS) {
        diags->n_dropped++;
        return;
    }
    if (diags->len == diags->cap) {
        diags->cap = diags->cap ? diags->cap * 2 : 8;
        diags->entries = sb_xrealloc(diags->entries, diags->cap * sizeof(*diags->entries));
    }
    struct sb_buf msg;
    sb_buf_init(&msg);
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(small)) { /* long messages are cut, never unbounded */
        memcpy(small + sizeof(small) - 4, "...", 4);
        n = (int)sizeof(small) - 1;
    }
    sb_buf_append(&msg, small, (size_t)n);
    struct sb_diag_entry *entry = &diags->entries[diags->len++];
    entry->severity = severity;
    if (diags->source && offset > diags->source->len)
        offset = diags->source->len;
    entry->offset = offset;
    entry->length = length;
    entry->message = sb_buf_take(&msg);
}

void sb_diags_sort(struct sb_diags *diags)
{
    /* insertion sort: stable, and lists are short (capped) */
    for (size_t i = 1; i < diags->len; i++) {
        struct sb_diag_entry key = diags->entries[i];
        size_t j = i;
        while (j > 0 && diags->entries[j - 1].offset > key.offset) {
            diags->entries[j] = diags->entries[j - 1];
            j--;
        }
        diags->entries[j] = key;
    }
}

static bool is_continuation(unsigned char ch)
{
    return (ch & 0xC0) == 0x80;
}
static size_t seq_len(const unsigned char *s, size_t i, size_t len);

void sb_source_position(const struct sb_source *source, size_t offset, size_t *line, size_t *col)
{
    size_t ln = 1, cl = 1;
    const unsigned char *s = (const unsigned char *)source->text;
    if (offset > source->len)
        offset = source->len;
    for (size_t i = 0; i < offset;) {
        if (s[i] == '\n') {
            ln++;
            cl = 1;
            i++;
            continue;
        }
        size_t n = seq_len(s, i, source->len); /* same steps as put_line */
        i += n ? n : 1;
        cl++;
    }
    *line = ln;
    *col = cl;
}

static const char *severity_name(enum sb_severity severity)
{
    switch (severity) {
    case SB_SEV_ERROR: return "error";
    case SB_SEV_WARNING: return "warning";
    case SB_SEV_NOTE: return "note";
    }
    return "error";
}

/* Length of a well-formed UTF-8 sequence at s[i] (lead and continuation
 * bytes only; the lexer does the full validation), 0 when malformed. */
static size_t seq_len(const unsigned char *s, size_t i, size_t len)
{
    unsigned char c = s[i];
    size_t need = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (need == 0 || len - i < need)
        return 0;
    for (size_t k = 1; k < need; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return need;
}

/* Printable copy of one source line: control bytes and malformed UTF-8 are
 * shown as '?', tabs as one space, so the caret stays aligned. */
static void put_line(struct sb_buf *out, const char *text, size_t len)
{
    const size_t max_shown = 200;
    const unsigned char *s = (const unsigned char *)text;
    size_t shown = 0, i = 0;
    while (i < len && shown < max_shown) {
        size_t n = seq_len(s, i, len);
        if (n == 0 || s[i] == 0x7f || (s[i] < 0x20 && s[i] != '\t')) {
            sb_buf_putc(out, '?');
            i++;
        } else if (s[i] == '\t') {
            sb_buf_putc(out, ' ');
            i++;
        } else {
            sb_buf_append(out, text + i, n);
            i += n;
        }
        shown++;
    }
    if (i < len)
        sb_buf_puts(out, " ...");
}

static void render_entry(const struct sb_diags *diags, const struct sb_diag_entry *entry,
                         struct sb_buf *out)
{
    const struct sb_source *src = diags->source;
    size_t line, col;
    sb_source_position(src, entry->offset, &line, &col);
    sb_buf_printf(out, "%s:%zu:%zu: %s: %s\n", src->name, line, col,
                  severity_name(entry->severity), entry->message);
    if (src->len == 0)
        return;
    size_t start = entry->offset;
    while (start > 0 && src->text[start - 1] != '\n')
        start--;
    size_t end = entry->offset;
    while (end < src->len && src->text[end] != '\n')
        end++;
    if (end == start && entry->offset >= src->len)
        return; /* at end of input on an empty last line: nothing to show */
    char gutter[32];
    int gw = snprintf(gutter, sizeof(gutter), "%5zu | ", line);
    sb_buf_puts(out, gutter);
    put_line(out, src->text + start, end - start);
    sb_buf_putc(out, '\n');
    sb_buf_fill(out, ' ', (size_t)gw - 2);
    sb_buf_puts(out, "| ");
    size_t caret_col = col > 200 ? 200 : col;
    sb_buf_fill(out, ' ', caret_col - 1);
    sb_buf_putc(out, '^');
    size_t span = 0;
    for (size_t i = entry->offset; i < entry->offset + entry->length && i < end; i++)
        if (!is_continuation((unsigned char)src->text[i]))
            span++;
    if (span > 1) {
        size_t tildes = span - 1;
        if (caret_col + tildes > 201)
            tildes = caret_col < 201 ? 201 - caret_col : 0;
        sb_buf_fill(out, '~', tildes);
    }
    sb_buf_putc(out, '\n');
}

void sb_diags_render(const struct sb_diags *diags, struct sb_buf *out)
{
    for (size_t i = 0; i < diags->len; i++)
        render_entry(diags, &diags->entries[i], out);
    if (diags->n_dropped)
        sb_buf_printf(out, "%s: too many errors; %zu more not shown\n",
                      diags->source->name, diags->n_dropped);
    if (diags->n_errors > 1)
        sb_buf_printf(out, "%zu errors\n", diags->n_errors);
}

static size_t edit_distance(const char *a, size_t a_len, const char *b, size_t b_len)
{
    /* optimal string alignment distance (Levenshtein plus adjacent
     * transposition), three rows; names are short (capped here) */
    size_t rows[3][65];
    if (a_len > 64 || b_len > 64)
        return (size_t)-1;
    size_t *before = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= b_len; j++)
        prev[j] = j;
    for (size_t i = 1; i <= a_len; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= b_len; j++) {
            size_t cost = (a[i - 1] == b[j - 1]) ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            cur[j] = best;
        }
        size_t *tmp = before;
        before = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[b_len];
}

const char *sb_suggest(const char *word, size_t word_len, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_dist = (size_t)-1;
    size_t allowed = word_len <= 3 ? 1 : word_len <= 6 ? 2 : 3;
    for (size_t i = 0; candidates[i]; i++) {
        size_t cand_len = strlen(candidates[i]);
        size_t dist = edit_distance(word, word_len, candidates[i], cand_len);
        if (dist < best_dist && dist <= allowed && dist < cand_len) {
            best = candidates[i];
            best_dist = dist;
        }
    }
    return best;
}
