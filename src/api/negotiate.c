/* Prefer, Accept and Range negotiation, see negotiate.h. PostgREST's own
 * behaviour is the reference: unknown preferences are ignored unless
 * handling=strict; an unacceptable Accept is a 406; an unparsable Range is
 * ignored. */
#include "api/negotiate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Trim spaces and tabs around [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static bool equals(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static void note_invalid(struct sb_prefer *p, const char *s, size_t n)
{
    size_t used = strlen(p->invalid);
    size_t room = sizeof(p->invalid) - 1 - used;
    if (room < 3)
        return;
    if (used) {
        memcpy(p->invalid + used, ", ", 2);
        used += 2;
        room -= 2;
    }
    if (n > room)
        n = room;
    memcpy(p->invalid + used, s, n);
    p->invalid[used + n] = '\0';
}

static void one_preference(struct sb_prefer *p, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        note_invalid(p, s, n);
        return;
    }
    const char *ks = s, *ke = eq, *vs = eq + 1, *ve = s + n;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
        vs++;
        ve--;
    }
    size_t kl = (size_t)(ke - ks), vl = (size_t)(ve - vs);
    bool ok = true;
    if (equals(ks, kl, "return")) {
        if (equals(vs, vl, "minimal"))
            p->ret = SB_RETURN_MINIMAL;
        else if (equals(vs, vl, "headers-only"))
            p->ret = SB_RETURN_HEADERS_ONLY;
        else if (equals(vs, vl, "representation"))
            p->ret = SB_RETURN_REPRESENTATION;
        else
            ok = false;
    } else if (equals(ks, kl, "count")) {
        if (equals(vs, vl, "exact"))
            p->count = SB_COUNT_EXACT;
        else if (equals(vs, vl, "planned"))
            p->count = SB_COUNT_PLANNED;
        else if (equals(vs, vl, "estimated"))
            p->count = SB_COUNT_ESTIMATED;
        else
            ok = false;
    } else if (equals(ks, kl, "resolution")) {
        if (equals(vs, vl, "merge-duplicates"))
            p->resolution = SB_RESOLUTION_MERGE;
        else if (equals(vs, vl, "ignore-duplicates"))
            p->resolution = SB_RESOLUTION_IGNORE;
        else
            ok = false;
    } else if (equals(ks, kl, "missing")) {
        if (equals(vs, vl, "default"))
            p->missing_default = true;
        else if (!equals(vs, vl, "null"))
            ok = false;
    } else if (equals(ks, kl, "tx")) {
        if (equals(vs, vl, "commit"))
            p->tx = SB_TX_COMMIT;
        else if (equals(vs, vl, "rollback"))
            p->tx = SB_TX_ROLLBACK;
        else
            ok = false;
    } else if (equals(ks, kl, "handling")) {
        if (equals(vs, vl, "strict"))
            p->strict = true;
        else if (equals(vs, vl, "lenient"))
            p->strict = false;
        else
            ok = false;
    } else if (equals(ks, kl, "max-affected")) {
        char digits[24];
        if (vl == 0 || vl >= sizeof(digits)) {
            ok = false;
        } else {
            memcpy(digits, vs, vl);
            digits[vl] = '\0';
            char *end;
            errno = 0;
            long long v = strtoll(digits, &end, 10);
            ok = *end == '\0' && errno == 0 && v >= 0 && isdigit((unsigned char)digits[0]);
            if (ok) {
                p->has_max_affected = true;
                p->max_affected = v;
            }
        }
    } else if (equals(ks, kl, "timezone") || equals(ks, kl, "params")) {
        /* accepted and ignored: timestamps are always UTC; actions take a JSON object */
    } else {
        ok = false;
    }
    if (!ok)
        note_invalid(p, s, n);
}

int sb_prefer_parse(const char *const *values, size_t n, struct sb_prefer *out, struct sb_api_error *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i];
        while (*v) {
            const char *comma = strchr(v, ',');
            const char *end = comma ? comma : v + strlen(v);
            const char *s = v, *e = end;
            trim(&s, &e);
            if (e > s)
                one_preference(out, s, (size_t)(e - s));
            v = comma ? comma + 1 : end;
        }
    }
    if (out->strict && out->invalid[0]) {
        sb_api_error_set(err, 400, "PGRST122", "Invalid preferences given with handling=strict");
        sb_api_error_details(err, "Invalid preferences: %s", out->invalid);
        return -1;
    }
    return 0;
}

static void add(struct sb_buf *out, const char *text)
{
    if (out->len)
        sb_buf_puts(out, ", ");
    sb_buf_puts(out, text);
}

void sb_prefer_applied(const struct sb_prefer *p, bool is_write, struct sb_buf *out)
{
    if (is_write) {
        if (p->resolution == SB_RESOLUTION_MERGE)
            add(out, "resolution=merge-duplicates");
        else if (p->resolution == SB_RESOLUTION_IGNORE)
            add(out, "resolution=ignore-duplicates");
        if (p->missing_default)
            add(out, "missing=default");
        if (p->ret == SB_RETURN_MINIMAL)
            add(out, "return=minimal");
        else if (p->ret == SB_RETURN_HEADERS_ONLY)
            add(out, "return=headers-only");
        else if (p->ret == SB_RETURN_REPRESENTATION)
            add(out, "return=representation");
    }
    if (p->count == SB_COUNT_EXACT)
        add(out, "count=exact");
    else if (p->count == SB_COUNT_PLANNED)
        add(out, "count=planned");
    else if (p->count == SB_COUNT_ESTIMATED)
        add(out, "count=estimated");
    if (p->strict)
        add(out, "handling=strict");
    if (is_write && p->tx == SB_TX_COMMIT)
        add(out, "tx=commit");
    else if (is_write && p->tx == SB_TX_ROLLBACK)
        add(out, "tx=rollback");
    if (is_write && p->has_max_affected && p->strict) {
        char text[48];
        snprintf(text, sizeof(text), "max-affected=%lld", (long long)p->max_affected);
        add(out, text);
    }
}

struct media_name {
    const char *type;
    enum sb_media media;
};

static const struct media_name media_names[] = {
    {"application/json", SB_MEDIA_JSON},
    {"application/vnd.pgrst.array+json", SB_MEDIA_JSON},
    {"application/vnd.pgrst.object+json", SB_MEDIA_OBJECT},
    {"application/vnd.pgrst.object", SB_MEDIA_OBJECT},
    {"text/csv", SB_MEDIA_CSV},
    {"application/openapi+json", SB_MEDIA_OPENAPI},
};

int sb_accept_parse(const char *accept, unsigned offered, struct sb_accept *out, struct sb_api_error *err)
{
    out->media = SB_MEDIA_JSON;
    out->nulls_stripped = false;
    if (!accept || !*accept)
        return (offered & (1u << SB_MEDIA_JSON)) || !offered ? 0 : (out->media = SB_MEDIA_OPENAPI, 0);
    /* pick the acceptable type with the highest q (first wins ties) */
    double best_q = -1;
    bool found = false;
    const char *v = accept;
    while (*v) {
        const char *comma = strchr(v, ',');
        const char *end = comma ? comma : v + strlen(v);
        const char *semi = memchr(v, ';', (size_t)(end - v));
        const char *ts = v, *te = semi ? semi : end;
        trim(&ts, &te);
        size_t tl = (size_t)(te - ts);
        double q = 1.0;
        bool stripped = false;
        for (const char *param = semi; param && param < end;) {
            const char *next = memchr(param + 1, ';', (size_t)(end - param - 1));
            const char *ps = param + 1, *pe = next ? next : end;
            trim(&ps, &pe);
            if ((size_t)(pe - ps) > 2 && strncasecmp(ps, "q=", 2) == 0)
                q = strtod(ps + 2, NULL);
            else if (equals(ps, (size_t)(pe - ps), "nulls=stripped"))
                stripped = true;
            param = next;
        }
        int media = -1;
        if (equals(ts, tl, "*/*") || equals(ts, tl, "application/*"))
            media = (offered & (1u << SB_MEDIA_JSON)) ? SB_MEDIA_JSON : SB_MEDIA_OPENAPI;
        for (size_t i = 0; media < 0 && i < sizeof(media_names) / sizeof(media_names[0]); i++)
            if (equals(ts, tl, media_names[i].type))
                media = (int)media_names[i].media;
        if (media >= 0 && (offered & (1u << media)) && q > 0 && q > best_q) {
            best_q = q;
            out->media = (enum sb_media)media;
            out->nulls_stripped = stripped;
            found = true;
        }
        v = comma ? comma + 1 : end;
    }
    if (!found) {
        sb_api_error_set(err, 406, "PGRST107", "None of these media types are available: %.200s", accept);
        return -1;
    }
    return 0;
}

static bool parse_int64(const char *s, const char *e, int64_t *out)
{
    if (s >= e || e - s > 18)
        return false;
    int64_t v = 0;
    for (const char *p = s; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

int sb_range_parse(const char *range, int64_t *first, int64_t *last, struct sb_api_error *err)
{
    if (!range)
        return 0;
    const char *s = range, *e = range + strlen(range);
    trim(&s, &e);
    if ((size_t)(e - s) > 6 && strncasecmp(s, "items=", 6) == 0)
        s += 6;
    const char *dash = memchr(s, '-', (size_t)(e - s));
    if (!dash || !parse_int64(s, dash, first))
        return 0;
    if (dash + 1 == e) {
        *last = -1;
        return 1;
    }
    if (!parse_int64(dash + 1, e, last))
        return 0;
    if (*last < *first) {
        sb_api_error_set(err, 416, "PGRST103", "Requested range not satisfiable");
        sb_api_error_details(err, "The lower boundary must be lower than or equal to the upper boundary in the Range header.");
        return -1;
    }
    return 1;
}

void sb_content_range(int64_t first, int64_t n_rows, bool has_total, int64_t total, struct sb_buf *out)
{
    if (n_rows > 0)
        sb_buf_printf(out, "%lld-%lld/", (long long)first, (long long)(first + n_rows - 1));
    else
        sb_buf_puts(out, "*/");
    if (has_total)
        sb_buf_printf(out, "%lld", (long long)total);
    else
        sb_buf_putc(out, '*');
}
