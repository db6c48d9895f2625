/* The SQL functions of sqlfn.h: PostgreSQL's regular-expression match, LIKE
 * and ILIKE, jsonb containment and array overlap, for SQLite. The query
 * compiler (query/sql.c) emits calls to them with bound operands; every
 * connection gets them through the auto-extension sb_sqlfn_install sets up,
 * so db.c's readers and the writer see the same functions.
 *
 * Everything here runs inside a query on a client's operands, so each
 * function bounds its work: pattern and text sizes, a step budget for LIKE
 * and JSON comparisons, and a regular-expression search that passes over
 * the text once. */
#include "store/sqlfn.h"

#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/die.h"
#include "util/formats.h"

static bool any_null(int argc, sqlite3_value **argv)
{
    for (int i = 0; i < argc; i++)
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            return true;
    return false;
}


/* ---- regular expressions ------------------------------------------------ */

static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale; /* (locale_t)0 when the system lacks C.UTF-8 */

static void locale_init(void)
{
    utf8_locale = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
}

/* Switch this thread to C.UTF-8 (when it exists); returns what to restore. */
static locale_t enter_utf8(void)
{
    pthread_once(&locale_once, locale_init);
    return utf8_locale ? uselocale(utf8_locale) : (locale_t)0;
}

static void leave_utf8(locale_t previous)
{
    if (previous)
        uselocale(previous);
}

#define WEIGHT_CAP (1ull << 40)

static unsigned long long weight_mul(unsigned long long a, unsigned long long b)
{
    if (a != 0 && b > WEIGHT_CAP / a)
        return WEIGHT_CAP;
    return a * b;
}

/* The index just past the bracket expression that starts at p[i] == '[',
 * or n when it does not end. A ']' first (after an optional '^') is a
 * member; [:class:], [=equiv=] and [.coll.] may contain ']'. */
static size_t bracket_end(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && p[j] == '^')
        j++;
    if (j < n && p[j] == ']')
        j++;
    while (j < n) {
        if (p[j] == '[' && j + 1 < n && (p[j + 1] == '.' || p[j + 1] == ':' || p[j + 1] == '=')) {
            char kind = p[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(p[k] == kind && p[k + 1] == ']'))
                k++;
            if (k + 1 >= n)
                return n;
            j = k + 2;
            continue;
        }
        if (p[j] == ']')
            return j + 1;
        j++;
    }
    return n;
}

/* The repetition count of a bound "{m}", "{m,}", "{m,n}" or "{,n}" at p[i]
 * == '{' (the number of copies regcomp makes), with *end just past it; 0
 * when p[i] does not start a bound. */
static unsigned long bound_count(const char *p, size_t n, size_t i, size_t *end)
{
    unsigned long lo = 0, hi = 0;
    bool have_lo = false, have_hi = false, comma = false;
    size_t j = i + 1;
    for (; j < n && p[j] >= '0' && p[j] <= '9'; j++, have_lo = true)
        lo = lo < 100000 ? lo * 10 + (unsigned long)(p[j] - '0') : lo;
    if (j < n && p[j] == ',') {
        comma = true;
        for (j++; j < n && p[j] >= '0' && p[j] <= '9'; j++, have_hi = true)
            hi = hi < 100000 ? hi * 10 + (unsigned long)(p[j] - '0') : hi;
    }
    if (j >= n || p[j] != '}' || (!have_lo && !have_hi))
        return 0;
    *end = j + 1;
    if (!comma)
        return lo ? lo : 1;
    if (!have_hi)
        return lo + 1;
    unsigned long most = hi > lo ? hi : lo;
    return most ? most : 1;
}

/* Check pattern (n bytes, no NUL) and write its anchored form "^.*(pattern)"
 * into wrapped. regexec tries an unanchored pattern from every start
 * position in turn, quadratic in the text; the anchored form is one forward
 * pass. A ')' without its '(' is a literal in POSIX EREs and is escaped so
 * that it cannot close the added group. The pattern's own anchors become
 * GNU's buffer anchors \` and \' (what ^ and $ mean without REG_NEWLINE):
 * inside the group, glibc would also match ^ after a newline. Refuses back-references (matching
 * them is exponential) and patterns that repetition bounds expand past
 * SB_SQLFN_REGEX_MAX_WEIGHT atoms (regcomp copies the repeated part).
 * Returns NULL, or the reason for refusing. */
static const char *scan_pattern(const char *p, size_t n, struct sb_buf *wrapped)
{
    /* Per open group: the weight of its completed parts and of its last
     * atom (what a following repetition multiplies). */
    struct frame {
        unsigned long long total, last;
    } stack[SB_SQLFN_REGEX_MAX_PATTERN + 1];
    size_t depth = 0;
    stack[0].total = stack[0].last = 0;
    sb_buf_puts(wrapped, "^.*(");
    size_t i = 0;
    while (i < n) {
        struct frame *top = &stack[depth];
        size_t start = i, end;
        unsigned long count;
        switch (p[i]) {
        case '\\':
            if (i + 1 < n && p[i + 1] >= '1' && p[i + 1] <= '9')
                return "back-references (\\1 to \\9) are not supported in regular expressions";
            i += i + 1 < n ? 2 : 1;
            top->total += 1;
            top->last = 1;
            break;
        case '[':
            i = bracket_end(p, n, i);
            top->total += 1;
            top->last = 1;
            break;
        case '(':
            i++;
            depth++;
            stack[depth].total = stack[depth].last = 0;
            break;
        case ')':
            i++;
            if (depth == 0) {
                sb_buf_putc(wrapped, '\\');
                top->total += 1;
                top->last = 1;
            } else {
                unsigned long long group = stack[depth].total + 1;
                depth--;
                stack[depth].total += group;
                stack[depth].last = group;
            }
            break;
        case '{':
            count = bound_count(p, n, i, &end);
            if (count == 0) {
                i++;
                top->total += 1;
                top->last = 1;
            } else {
                i = end;
                top->total += weight_mul(top->last, count - 1);
                top->last = weight_mul(top->last, count);
            }
            break;
        case '+': /* regcomp turns a+ into aa* */
            i++;
            top->total += top->last;
            top->last = weight_mul(top->last, 2);
            break;
        case '*':
        case '?':
            i++;
            top->total += 1;
            break;
        case '|':
            i++;
            top->total += 1;
            top->last = 0;
            break;
        case '^': /* after ".*(", glibc lets '^' match after a newline */
        case '$':
            sb_buf_puts(wrapped, p[i] == '^' ? "\\`" : "\\'");
            i++;
            start = i;
            top->total += 1;
            top->last = 1;
            break;
        default:
            i++;
            top->total += 1;
            top->last = 1;
            break;
        }
        if (top->total > WEIGHT_CAP)
            top->total = WEIGHT_CAP;
        sb_buf_append(wrapped, p + start, i - start);
    }
    unsigned long long weight = 0;
    for (size_t k = 0; k <= depth; k++)
        weight += stack[k].total;
    if (weight > SB_SQLFN_REGEX_MAX_WEIGHT)
        return "regular expression too complex (its repetitions expand too far)";
    sb_buf_putc(wrapped, ')');
    return NULL;
}

static void free_regex(void *re)
{
    regfree(re);
    free(re);
}

/* Compile pattern for a match anywhere in a text. Returns the owned regex,
 * or NULL with the client-facing reason in err. The pattern is compiled as
 * given first: that decides whether it is valid and words the error. The
 * anchored form (scan_pattern) is used when it compiles to the same groups
 * plus the added one, else the pattern as given. */
static regex_t *compile_pattern(const char *pattern, size_t len, int cflags, char *err,
                                size_t err_len)
{
    if (len > SB_SQLFN_REGEX_MAX_PATTERN) {
        snprintf(err, err_len, "regular expression too long (over %d bytes)",
                 SB_SQLFN_REGEX_MAX_PATTERN);
        return NULL;
    }
    if (memchr(pattern, '\0', len)) {
        snprintf(err, err_len, "regular expression contains a NUL byte");
        return NULL;
    }
    struct sb_buf wrapped;
    sb_buf_init(&wrapped);
    const char *why = scan_pattern(pattern, len, &wrapped);
    if (why) {
        snprintf(err, err_len, "%s", why);
        sb_buf_free(&wrapped);
        return NULL;
    }
    locale_t previous = enter_utf8();
    regex_t *plain = sb_xmalloc(sizeof(*plain));
    int rc = regcomp(plain, pattern, cflags);
    if (rc != 0) {
        char msg[256];
        regerror(rc, plain, msg, sizeof(msg));
        snprintf(err, err_len, "invalid regular expression: %s", msg);
        free(plain);
        plain = NULL;
    } else {
        regex_t *anchored = sb_xmalloc(sizeof(*anchored));
        if (regcomp(anchored, sb_buf_str(&wrapped), cflags) == 0) {
            if (anchored->re_nsub == plain->re_nsub + 1) {
                free_regex(plain);
                plain = anchored;
            } else {
                free_regex(anchored);
            }
        } else {
            free(anchored);
        }
    }
    leave_utf8(previous);
    sb_buf_free(&wrapped);
    return plain;
}

static void regexp_match(sqlite3_context *ctx, sqlite3_value **argv, int cflags)
{
    if (any_null(2, argv)) {
        sqlite3_result_null(ctx);
        return;
    }
    const char *text = (const char *)sqlite3_value_text(argv[1]);
    size_t text_len = (size_t)sqlite3_value_bytes(argv[1]);
    if (!text) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (text_len > SB_SQLFN_REGEX_MAX_TEXT) {
        sqlite3_result_error(ctx, "text too long for a regular expression match (over 1 MiB)", -1);
        return;
    }
    regex_t *re = sqlite3_get_auxdata(ctx, 0);
    bool fresh = false;
    if (!re) {
        const char *pattern = (const char *)sqlite3_value_text(argv[0]);
        size_t pattern_len = (size_t)sqlite3_value_bytes(argv[0]);
        if (!pattern) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        char err[320];
        re = compile_pattern(pattern, pattern_len, cflags, err, sizeof(err));
        if (!re) {
            sqlite3_result_error(ctx, err, -1);
            return;
        }
        fresh = true;
    }
    locale_t previous = enter_utf8();
    int rc = regexec(re, text, 0, NULL, 0);
    leave_utf8(previous);
    if (rc == 0 || rc == REG_NOMATCH)
        sqlite3_result_int(ctx, rc == 0);
    else
        sqlite3_result_error(ctx, "regular expression match failed (out of memory)", -1);
    /* Last: SQLite may free re before this returns. */
    if (fresh)
        sqlite3_set_auxdata(ctx, 0, re, free_regex);
}

static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    regexp_match(ctx, argv, REG_EXTENDED | REG_NOSUB);
}

static void fn_iregexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    regexp_match(ctx, argv, REG_EXTENDED | REG_NOSUB | REG_ICASE);
}

/* ---- LIKE and ILIKE ----------------------------------------------------- */

/* Simple lower-case mappings: code points lo..hi, every stride-th one, map
 * to themselves plus delta (from UnicodeData's simple mappings, for the
 * blocks listed in sqlfn.h). Sorted and disjoint. */
static const struct fold_range {
    uint32_t lo, hi;
    int32_t delta;
    uint32_t stride;
} fold_ranges[] = {
    {0x41, 0x5A, 32, 1}, {0xC0, 0xD6, 32, 1}, {0xD8, 0xDE, 32, 1}, {0x100, 0x12E, 1, 2},
    {0x130, 0x130, -199, 1}, {0x132, 0x136, 1, 2}, {0x139, 0x147, 1, 2}, {0x14A, 0x176, 1, 2},
    {0x178, 0x178, -121, 1}, {0x179, 0x17D, 1, 2}, {0x181, 0x181, 210, 1}, {0x182, 0x184, 1, 2},
    {0x186, 0x186, 206, 1}, {0x187, 0x187, 1, 1}, {0x189, 0x18A, 205, 1}, {0x18B, 0x18B, 1, 1},
    {0x18E, 0x18E, 79, 1}, {0x18F, 0x18F, 202, 1}, {0x190, 0x190, 203, 1}, {0x191, 0x191, 1, 1},
    {0x193, 0x193, 205, 1}, {0x194, 0x194, 207, 1}, {0x196, 0x196, 211, 1}, {0x197, 0x197, 209, 1},
    {0x198, 0x198, 1, 1}, {0x19C, 0x19C, 211, 1}, {0x19D, 0x19D, 213, 1}, {0x19F, 0x19F, 214, 1},
    {0x1A0, 0x1A4, 1, 2}, {0x1A6, 0x1A6, 218, 1}, {0x1A7, 0x1A7, 1, 1}, {0x1A9, 0x1A9, 218, 1},
    {0x1AC, 0x1AC, 1, 1}, {0x1AE, 0x1AE, 218, 1}, {0x1AF, 0x1AF, 1, 1}, {0x1B1, 0x1B2, 217, 1},
    {0x1B3, 0x1B5, 1, 2}, {0x1B7, 0x1B7, 219, 1}, {0x1B8, 0x1B8, 1, 1}, {0x1BC, 0x1BC, 1, 1},
    {0x1C4, 0x1C4, 2, 1}, {0x1C5, 0x1C5, 1, 1}, {0x1C7, 0x1C7, 2, 1}, {0x1C8, 0x1C8, 1, 1},
    {0x1CA, 0x1CA, 2, 1}, {0x1CB, 0x1DB, 1, 2}, {0x1DE, 0x1EE, 1, 2}, {0x1F1, 0x1F1, 2, 1},
    {0x1F2, 0x1F4, 1, 2}, {0x1F6, 0x1F6, -97, 1}, {0x1F7, 0x1F7, -56, 1}, {0x1F8, 0x21E, 1, 2},
    {0x220, 0x220, -130, 1}, {0x222, 0x232, 1, 2}, {0x23A, 0x23A, 10795, 1}, {0x23B, 0x23B, 1, 1},
    {0x23D, 0x23D, -163, 1}, {0x23E, 0x23E, 10792, 1}, {0x241, 0x241, 1, 1},
    {0x243, 0x243, -195, 1}, {0x244, 0x244, 69, 1}, {0x245, 0x245, 71, 1}, {0x246, 0x24E, 1, 2},
    {0x370, 0x372, 1, 2}, {0x376, 0x376, 1, 1}, {0x37F, 0x37F, 116, 1}, {0x386, 0x386, 38, 1},
    {0x388, 0x38A, 37, 1}, {0x38C, 0x38C, 64, 1}, {0x38E, 0x38F, 63, 1}, {0x391, 0x3A1, 32, 1},
    {0x3A3, 0x3AB, 32, 1}, {0x3CF, 0x3CF, 8, 1}, {0x3D8, 0x3EE, 1, 2}, {0x3F4, 0x3F4, -60, 1},
    {0x3F7, 0x3F7, 1, 1}, {0x3F9, 0x3F9, -7, 1}, {0x3FA, 0x3FA, 1, 1}, {0x3FD, 0x3FF, -130, 1},
    {0x400, 0x40F, 80, 1}, {0x410, 0x42F, 32, 1}, {0x460, 0x480, 1, 2}, {0x48A, 0x4BE, 1, 2},
    {0x4C0, 0x4C0, 15, 1}, {0x4C1, 0x4CD, 1, 2}, {0x4D0, 0x52E, 1, 2}, {0x531, 0x556, 48, 1},
    {0x10A0, 0x10C5, 7264, 1}, {0x1E00, 0x1E94, 1, 2}, {0x1E9E, 0x1E9E, -7615, 1},
    {0x1EA0, 0x1EFE, 1, 2}, {0x1F08, 0x1F0F, -8, 1}, {0x1F18, 0x1F1D, -8, 1},
    {0x1F28, 0x1F2F, -8, 1}, {0x1F38, 0x1F3F, -8, 1}, {0x1F48, 0x1F4D, -8, 1},
    {0x1F59, 0x1F5F, -8, 2}, {0x1F68, 0x1F6F, -8, 1}, {0x1F88, 0x1F8F, -8, 1},
    {0x1F98, 0x1F9F, -8, 1}, {0x1FA8, 0x1FAF, -8, 1}, {0x1FB8, 0x1FB9, -8, 1},
    {0x1FBA, 0x1FBB, -74, 1}, {0x1FBC, 0x1FBC, -9, 1}, {0x1FC8, 0x1FCB, -86, 1},
    {0x1FCC, 0x1FCC, -9, 1}, {0x1FD8, 0x1FD9, -8, 1}, {0x1FDA, 0x1FDB, -100, 1},
    {0x1FE8, 0x1FE9, -8, 1}, {0x1FEA, 0x1FEB, -112, 1}, {0x1FEC, 0x1FEC, -7, 1},
    {0x1FF8, 0x1FF9, -128, 1}, {0x1FFA, 0x1FFB, -126, 1}, {0x1FFC, 0x1FFC, -9, 1},
    {0x2160, 0x216F, 16, 1}, {0x24B6, 0x24CF, 26, 1}, {0x2C00, 0x2C2F, 48, 1},
    {0xFF21, 0xFF3A, 32, 1},
};

static uint32_t fold(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    size_t lo = 0, hi = sizeof(fold_ranges) / sizeof(fold_ranges[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct fold_range *r = &fold_ranges[mid];
        if (c < r->lo)
            hi = mid;
        else if (c > r->hi)
            lo = mid + 1;
        else
            return (c - r->lo) % r->stride == 0 ? (uint32_t)((int32_t)c + r->delta) : c;
    }
    return c;
}

/* Match the whole text against a LIKE pattern whose escapes are complete
 * (no lone '\' at the end). Greedy: a '%' first matches nothing, and on a
 * mismatch the last '%' takes one more character. Earlier '%' never need to
 * be revisited, so the cost is at most len(text) * len(pattern) steps.
 * Returns 1, 0, or -1 when SB_SQLFN_LIKE_MAX_STEPS ran out. */
static int like_match(const unsigned char *p, size_t p_len, const unsigned char *t, size_t t_len,
                      bool fold_case)
{
    size_t pi = 0, ti = 0;
    size_t star_p = SIZE_MAX, star_t = 0; /* after the last '%', and where it resumes */
    unsigned long steps = 0;
    while (ti < t_len) {
        if (++steps > SB_SQLFN_LIKE_MAX_STEPS)
            return -1;
        if (pi < p_len && p[pi] == '%') {
            while (pi < p_len && p[pi] == '%')
                pi++;
            if (pi == p_len)
                return 1;
            star_p = pi;
            star_t = ti;
            continue;
        }
        if (pi < p_len) {
            size_t t_n, p_n;
            uint32_t tc = sb_utf8_next(t + ti, t_len - ti, &t_n);
            if (p[pi] == '_') {
                pi++;
                ti += t_n;
                continue;
            }
            size_t at = p[pi] == '\\' ? pi + 1 : pi;
            uint32_t pc = sb_utf8_next(p + at, p_len - at, &p_n);
            if (pc == tc || (fold_case && fold(pc) == fold(tc))) {
                pi = at + p_n;
                ti += t_n;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return 0;
        size_t n;
        sb_utf8_next(t + star_t, t_len - star_t, &n);
        star_t += n;
        ti = star_t;
        pi = star_p;
    }
    while (pi < p_len && p[pi] == '%')
        pi++;
    return pi == p_len;
}

static void like(sqlite3_context *ctx, sqlite3_value **argv, bool fold_case)
{
    if (any_null(2, argv)) {
        sqlite3_result_null(ctx);
        return;
    }
    const unsigned char *text = sqlite3_value_text(argv[1]);
    size_t text_len = (size_t)sqlite3_value_bytes(argv[1]);
    const unsigned char *pattern = sqlite3_value_text(argv[0]);
    size_t pattern_len = (size_t)sqlite3_value_bytes(argv[0]);
    if (!text || !pattern) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (size_t i = 0; i < pattern_len; i += pattern[i] == '\\' ? 2 : 1) {
        if (pattern[i] == '\\' && i + 1 == pattern_len) {
            sqlite3_result_error(ctx, "LIKE pattern must not end with escape character", -1);
            return;
        }
    }
    int rc = like_match(pattern, pattern_len, text, text_len, fold_case);
    if (rc < 0)
        sqlite3_result_error(ctx, "LIKE pattern too costly to match against this text", -1);
    else
        sqlite3_result_int(ctx, rc);
}

static void fn_like(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    like(ctx, argv, false);
}

static void fn_ilike(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    like(ctx, argv, true);
}

/* ---- JSON containment and overlap --------------------------------------- */

/* Whether the containers in text[0..len) nest at most max deep. Run before
 * jansson so that nesting is refused before any recursion. */
static bool depth_ok(const char *text, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

/* Parse one operand. Returns an owned value, or NULL with the reason in
 * err. Integers beyond 64 bits make jansson fail; the text is then read
 * again with every number as a double. */
static json_t *parse_json(const char *text, size_t len, char *err, size_t err_len)
{
    if (len > SB_SQLFN_JSON_MAX_TEXT) {
        snprintf(err, err_len, "JSON text too long (over 1 MiB)");
        return NULL;
    }
    if (!depth_ok(text, len, SB_SQLFN_JSON_MAX_DEPTH)) {
        snprintf(err, err_len, "JSON nested too deeply (over %d levels)", SB_SQLFN_JSON_MAX_DEPTH);
        return NULL;
    }
    json_error_t error;
    json_t *value = json_loadb(text, len, JSON_DECODE_ANY, &error);
    if (!value && json_error_code(&error) == json_error_numeric_overflow)
        value = json_loadb(text, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &error);
    if (!value)
        snprintf(err, err_len, "invalid input syntax for type json: %s", error.text);
    return value;
}

static void free_json(void *value)
{
    json_decref(value);
}

/* The parsed argument i: cached for the statement (*fresh false), or parsed
 * now (*fresh true: the caller passes it to keep_json). NULL after setting
 * the error result. */
static json_t *json_arg(sqlite3_context *ctx, sqlite3_value **argv, int i, bool *fresh)
{
    json_t *value = sqlite3_get_auxdata(ctx, i);
    *fresh = false;
    if (value)
        return value;
    const char *text = (const char *)sqlite3_value_text(argv[i]);
    if (!text) {
        sqlite3_result_error_nomem(ctx);
        return NULL;
    }
    char err[256];
    value = parse_json(text, (size_t)sqlite3_value_bytes(argv[i]), err, sizeof(err));
    if (!value) {
        sqlite3_result_error(ctx, err, -1);
        return NULL;
    }
    *fresh = true;
    return value;
}

/* Hand a freshly parsed argument to SQLite's cache (which may free it at
 * once: call this last). */
static void keep_json(sqlite3_context *ctx, int i, json_t *value, bool fresh)
{
    if (fresh)
        sqlite3_set_auxdata(ctx, i, value, free_json);
}

static bool is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

/* -1, 0, 1 as integer i is below, equal to, above double d, exactly. */
static int cmp_int_real(json_int_t i, double d)
{
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double whole = trunc(d);
    long long w = (long long)whole;
    if (i != w)
        return i < w ? -1 : 1;
    return d > whole ? -1 : d < whole ? 1 : 0;
}

static int scalar_rank(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return 0;
    case JSON_FALSE:
    case JSON_TRUE:
        return 1;
    case JSON_INTEGER:
    case JSON_REAL:
        return 2;
    case JSON_STRING:
        return 3;
    default:
        return 4;
    }
}

/* A total order on scalars in which "equal" is jsonb equality: by kind,
 * then false < true, numbers by value, strings by bytes. */
static int scalar_cmp(const json_t *x, const json_t *y)
{
    int rx = scalar_rank(x), ry = scalar_rank(y);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (rx == 1)
        return json_is_true(x) - json_is_true(y);
    if (rx == 2) {
        if (json_is_integer(x) && json_is_integer(y)) {
            json_int_t a = json_integer_value(x), b = json_integer_value(y);
            return a < b ? -1 : a > b;
        }
        if (json_is_integer(x))
            return cmp_int_real(json_integer_value(x), json_real_value(y));
        if (json_is_integer(y))
            return -cmp_int_real(json_integer_value(y), json_real_value(x));
        double a = json_real_value(x), b = json_real_value(y);
        return a < b ? -1 : a > b;
    }
    if (rx == 3) {
        size_t la = json_string_length(x), lb = json_string_length(y);
        int c = memcmp(json_string_value(x), json_string_value(y), la < lb ? la : lb);
        return c != 0 ? (c < 0 ? -1 : 1) : la < lb ? -1 : la > lb;
    }
    return 0;
}

static int scalar_cmp_ptr(const void *a, const void *b)
{
    return scalar_cmp(*(json_t *const *)a, *(json_t *const *)b);
}

/* The scalar elements of array (nulls too unless skip_null), sorted; owned
 * (NULL when there are none). Charges the sort to *budget. */
static json_t **sorted_scalars(json_t *array, bool skip_null, size_t *n_out, long *budget)
{
    size_t n_elems = json_array_size(array), n = 0;
    json_t **out = NULL;
    for (size_t i = 0; i < n_elems; i++) {
        json_t *e = json_array_get(array, i);
        if (is_scalar(e) && !(skip_null && json_is_null(e))) {
            if (!out)
                out = sb_xmalloc(n_elems * sizeof(*out));
            out[n++] = e;
        }
    }
    if (n > 1)
        qsort(out, n, sizeof(*out), scalar_cmp_ptr);
    *budget -= (long)n_elems;
    *n_out = n;
    return out;
}

static bool find_scalar(json_t **sorted, size_t n, json_t *key)
{
    return n > 0 && bsearch(&key, sorted, n, sizeof(*sorted), scalar_cmp_ptr) != NULL;
}

static int contains(json_t *a, json_t *b, long *budget);

/* Containment of a value inside an object member or an array element:
 * scalars must be equal, containers of the same kind contain. */
static int value_contains(json_t *a, json_t *b, long *budget)
{
    if (is_scalar(a) || is_scalar(b))
        return is_scalar(a) && is_scalar(b) && scalar_cmp(a, b) == 0;
    return contains(a, b, budget);
}

/* Every element of array b is in array a: a scalar equal to a scalar
 * element, a container inside a container element of the same kind. */
static int array_contains(json_t *a, json_t *b, long *budget)
{
    size_t n_a = json_array_size(a), n_b = json_array_size(b);
    json_t **scalars = NULL;
    size_t n_scalars = 0;
    bool sorted = false;
    int result = 1;
    for (size_t j = 0; j < n_b && result == 1; j++) {
        json_t *e = json_array_get(b, j);
        if (is_scalar(e)) {
            if (!sorted) {
                scalars = sorted_scalars(a, false, &n_scalars, budget);
                sorted = true;
                if (*budget < 0) {
                    result = -1;
                    break;
                }
            }
            if (!find_scalar(scalars, n_scalars, e))
                result = 0;
            continue;
        }
        result = 0;
        for (size_t i = 0; i < n_a; i++) {
            json_t *candidate = json_array_get(a, i);
            if (json_typeof(candidate) != json_typeof(e))
                continue;
            int r = contains(candidate, e, budget);
            if (r != 0) {
                result = r;
                break;
            }
        }
    }
    free(scalars);
    return result;
}

/* jsonb @> below the top level: 1, 0, or -1 when the budget ran out. */
static int contains(json_t *a, json_t *b, long *budget)
{
    if (--*budget < 0)
        return -1;
    if (json_is_object(b)) {
        if (!json_is_object(a) || json_object_size(b) > json_object_size(a))
            return 0;
        const char *key;
        json_t *member;
        json_object_foreach(b, key, member) {
            json_t *mine = json_object_get(a, key);
            if (!mine)
                return 0;
            int r = value_contains(mine, member, budget);
            if (r != 1)
                return r;
        }
        return 1;
    }
    if (json_is_array(b))
        return json_is_array(a) ? array_contains(a, b, budget) : 0;
    return is_scalar(a) && scalar_cmp(a, b) == 0;
}

/* jsonb @> at the top level, where an array also contains a scalar equal
 * to one of its elements (but a scalar never contains an array). */
static int top_contains(json_t *a, json_t *b, long *budget)
{
    if (is_scalar(b)) {
        if (is_scalar(a))
            return scalar_cmp(a, b) == 0;
        if (!json_is_array(a))
            return 0;
        size_t n = json_array_size(a);
        *budget -= (long)n;
        if (*budget < 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(a, i);
            if (is_scalar(e) && scalar_cmp(e, b) == 0)
                return 1;
        }
        return 0;
    }
    if (is_scalar(a))
        return 0;
    return contains(a, b, budget);
}

/* Deep equality with numbers by value: 1, 0, or -1 when the budget ran out. */
static int json_equal_values(json_t *x, json_t *y, long *budget)
{
    if (--*budget < 0)
        return -1;
    if (is_scalar(x) || is_scalar(y))
        return is_scalar(x) && is_scalar(y) && scalar_cmp(x, y) == 0;
    if (json_typeof(x) != json_typeof(y))
        return 0;
    if (json_is_object(x)) {
        if (json_object_size(x) != json_object_size(y))
            return 0;
        const char *key;
        json_t *member;
        json_object_foreach(x, key, member) {
            json_t *other = json_object_get(y, key);
            if (!other)
                return 0;
            int r = json_equal_values(member, other, budget);
            if (r != 1)
                return r;
        }
        return 1;
    }
    size_t n = json_array_size(x);
    if (n != json_array_size(y))
        return 0;
    for (size_t i = 0; i < n; i++) {
        int r = json_equal_values(json_array_get(x, i), json_array_get(y, i), budget);
        if (r != 1)
            return r;
    }
    return 1;
}

/* Some element of array a equals some element of array b (nulls never do). */
static int overlaps(json_t *a, json_t *b, long *budget)
{
    size_t n_scalars;
    json_t **scalars = sorted_scalars(a, true, &n_scalars, budget);
    size_t n_a = json_array_size(a), n_b = json_array_size(b);
    int result = *budget < 0 ? -1 : 0;
    for (size_t j = 0; j < n_b && result == 0; j++) {
        json_t *e = json_array_get(b, j);
        if (json_is_null(e))
            continue;
        if (is_scalar(e)) {
            result = find_scalar(scalars, n_scalars, e);
            continue;
        }
        for (size_t i = 0; i < n_a && result == 0; i++)
            result = json_equal_values(json_array_get(a, i), e, budget);
    }
    free(scalars);
    return result;
}

/* Overlap of two arrays; anything else is an error (*why). */
static int array_overlaps(json_t *a, json_t *b, long *budget, const char **why)
{
    if (!json_is_array(a) || !json_is_array(b)) {
        *why = "the overlap operator needs two JSON arrays";
        return -1;
    }
    *why = "JSON overlap check too costly";
    return overlaps(a, b, budget);
}

static int containment(json_t *a, json_t *b, long *budget, const char **why)
{
    *why = "JSON containment check too costly";
    return top_contains(a, b, budget);
}

/* A test of two JSON arguments: test answers 1, 0, or -1 with the error in
 * *why. NULL in, NULL out; the parsed arguments are kept for the next row. */
static void json_pair(sqlite3_context *ctx, sqlite3_value **argv,
                      int (*test)(json_t *a, json_t *b, long *budget, const char **why))
{
    if (any_null(2, argv)) {
        sqlite3_result_null(ctx);
        return;
    }
    bool fresh_a, fresh_b;
    json_t *a = json_arg(ctx, argv, 0, &fresh_a);
    if (!a)
        return;
    json_t *b = json_arg(ctx, argv, 1, &fresh_b);
    if (!b) {
        keep_json(ctx, 0, a, fresh_a);
        return;
    }
    long budget = SB_SQLFN_JSON_MAX_STEPS;
    const char *why = NULL;
    int r = test(a, b, &budget, &why);
    if (r < 0)
        sqlite3_result_error(ctx, why, -1);
    else
        sqlite3_result_int(ctx, r);
    keep_json(ctx, 0, a, fresh_a);
    keep_json(ctx, 1, b, fresh_b);
}

static void fn_json_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    json_pair(ctx, argv, containment);
}

static void fn_json_overlaps(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    json_pair(ctx, argv, array_overlaps);
}

/* ---- JSON text assembly ------------------------------------------------- */

/* The text sb_json_build is writing: sqlite3_malloc'd, so the result is
 * handed to SQLite without a copy. */
struct json_text {
    char *data;
    size_t len, cap;
    size_t max;   /* the connection's SQLITE_LIMIT_LENGTH */
    int error;    /* SQLITE_NOMEM, SQLITE_TOOBIG, or SQLITE_MISMATCH for a BLOB */
};

static bool json_text_grow(struct json_text *t, size_t more)
{
    if (t->len + more > t->max) {
        t->error = SQLITE_TOOBIG;
        return false;
    }
    size_t cap = t->cap * 2 > t->len + more ? t->cap * 2 : t->len + more;
    char *data = sqlite3_realloc64(t->data, cap);
    if (!data) {
        t->error = SQLITE_NOMEM;
        return false;
    }
    t->data = data;
    t->cap = cap;
    return true;
}

static inline bool json_text_reserve(struct json_text *t, size_t more)
{
    return !t->error && (t->len + more <= t->cap || json_text_grow(t, more));
}

static inline void json_text_put(struct json_text *t, const void *bytes, size_t n)
{
    if (n && json_text_reserve(t, n)) {
        memcpy(t->data + t->len, bytes, n);
        t->len += n;
    }
}

/* What follows the backslash when a byte is escaped in a JSON string: 0
 * for none, 'u' for \u00XX. The escapes of SQLite's json_quote(). */
static const char json_escape[256] = {
    ['\0'] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u', [6] = 'u', [7] = 'u',
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [11] = 'u', ['\f'] = 'f', ['\r'] = 'r', [14] = 'u', [15] = 'u',
    [16] = 'u', [17] = 'u', [18] = 'u', [19] = 'u', [20] = 'u', [21] = 'u', [22] = 'u', [23] = 'u',
    [24] = 'u', [25] = 'u', [26] = 'u', [27] = 'u', [28] = 'u', [29] = 'u', [30] = 'u', [31] = 'u',
    ['"'] = '"', ['\\'] = '\\',
};

/* How many bytes of z, from the start, need no escaping. Eight bytes at a
 * time while none of them is below 0x20, '"' or '\\' (the usual "has a
 * byte less than / equal to" word tests, exact for whether any byte
 * matches), then byte by byte. */
static size_t json_clean_prefix(const unsigned char *z, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, z + i, 8);
        uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
        uint64_t hits = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
        if (hits & highs)
            break;
    }
    while (i < n && !json_escape[z[i]])
        i++;
    return i;
}

/* A JSON string, escaped as SQLite's json_quote() escapes it. */
static void json_text_string(struct json_text *t, const unsigned char *z, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (!json_text_reserve(t, n + 2))
        return;
    t->data[t->len++] = '"';
    for (;;) {
        size_t clean = json_clean_prefix(z, n);
        json_text_put(t, z, clean);
        if (clean == n)
            break;
        unsigned char c = z[clean];
        char esc = json_escape[c];
        char seq[6] = {'\\', esc, '0', '0', hex[c >> 4], hex[c & 15]};
        json_text_put(t, seq, esc == 'u' ? 6 : 2);
        z += clean + 1;
        n -= clean + 1;
    }
    json_text_put(t, "\"", 1);
}

static void json_text_int(struct json_text *t, sqlite3_int64 v)
{
    char digits[24];
    size_t at = sizeof(digits);
    sqlite3_uint64 magnitude = v < 0 ? 0 - (sqlite3_uint64)v : (sqlite3_uint64)v;
    do {
        digits[--at] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (v < 0)
        digits[--at] = '-';
    json_text_put(t, digits + at, sizeof(digits) - at);
}

/* One value as json_quote() writes it: null, an integer, a real in SQLite's
 * own "%!0.15g", or an escaped string. */
static void json_text_value(struct json_text *t, sqlite3_value *v, int type)
{
    switch (type) {
    case SQLITE_NULL:
        json_text_put(t, "null", 4);
        return;
    case SQLITE_INTEGER:
        json_text_int(t, sqlite3_value_int64(v));
        return;
    case SQLITE_FLOAT: {
        char number[64];
        sqlite3_snprintf((int)sizeof(number), number, "%!0.15g", sqlite3_value_double(v));
        json_text_put(t, number, strlen(number));
        return;
    }
    case SQLITE_BLOB:
        if (!t->error)
            t->error = SQLITE_MISMATCH;
        return;
    default: {
        const unsigned char *z = sqlite3_value_text(v);
        json_text_string(t, z, (size_t)sqlite3_value_bytes(v));
        return;
    }
    }
}

#define JSON_BUILD_TYPES 128 /* arguments whose types are remembered between the passes */

static void fn_json_build(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (argc < 1) {
        sqlite3_result_error(ctx, "sb_json_build: no kinds", -1);
        return;
    }
    const unsigned char *kinds = sqlite3_value_text(argv[0]);
    size_t n_kinds = kinds ? (size_t)sqlite3_value_bytes(argv[0]) : 0;
    if (n_kinds != (size_t)argc - 1) {
        sqlite3_result_error(ctx, "sb_json_build: one kind per argument", -1);
        return;
    }
    /* one allocation when nothing needs escaping: the parts' sizes */
    unsigned char types[JSON_BUILD_TYPES];
    size_t guess = 1;
    for (int i = 1; i < argc; i++) {
        int type = sqlite3_value_type(argv[i]);
        if (i < JSON_BUILD_TYPES)
            types[i] = (unsigned char)type;
        guess += type == SQLITE_TEXT ? (size_t)sqlite3_value_bytes(argv[i]) + 2 : 24;
    }
    struct json_text t = {.max = (size_t)sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1)};
    json_text_reserve(&t, guess);
    for (int i = 1; i < argc && !t.error; i++) {
        sqlite3_value *v = argv[i];
        int type = i < JSON_BUILD_TYPES ? types[i] : sqlite3_value_type(v);
        if (kinds[i - 1] == 'v') {
            json_text_value(&t, v, type);
        } else if (type == SQLITE_NULL) {
            json_text_put(&t, "null", 4);
        } else {
            const unsigned char *z = sqlite3_value_text(v);
            json_text_put(&t, z, (size_t)sqlite3_value_bytes(v));
        }
    }
    if (t.error) {
        sqlite3_free(t.data);
        if (t.error == SQLITE_NOMEM)
            sqlite3_result_error_nomem(ctx);
        else if (t.error == SQLITE_TOOBIG)
            sqlite3_result_error_toobig(ctx);
        else
            sqlite3_result_error(ctx, "JSON cannot hold BLOB values", -1);
        return;
    }
    sqlite3_result_text64(ctx, t.data ? t.data : "", t.len, t.data ? sqlite3_free : SQLITE_STATIC, SQLITE_UTF8);
}

/* sb_json_array(j): the aggregate's text, a json_text in the aggregate
 * context. Each step reserves room for the closing ']' too. */
static void fn_json_array_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct json_text *t = sqlite3_aggregate_context(ctx, (int)sizeof(*t));
    if (!t) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (t->error)
        return;
    if (!t->cap) {
        t->max = (size_t)sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1);
        json_text_reserve(t, 256); /* a few objects without a realloc */
    }
    bool null = sqlite3_value_type(argv[0]) == SQLITE_NULL;
    const unsigned char *z = null ? (const unsigned char *)"null" : sqlite3_value_text(argv[0]);
    size_t n = null ? 4 : (size_t)sqlite3_value_bytes(argv[0]);
    if (!json_text_reserve(t, n + 2)) {
        if (t->error == SQLITE_NOMEM)
            sqlite3_result_error_nomem(ctx);
        else
            sqlite3_result_error_toobig(ctx);
        return;
    }
    t->data[t->len] = t->len ? ',' : '[';
    t->len++;
    if (n)
        memcpy(t->data + t->len, z, n);
    t->len += n;
}

static void fn_json_array_final(sqlite3_context *ctx)
{
    struct json_text *t = sqlite3_aggregate_context(ctx, 0);
    if (!t || t->error || !t->len) {
        if (t)
            sqlite3_free(t->data); /* the error, if any, was reported by the step */
        if (!t || !t->error)
            sqlite3_result_text(ctx, "[]", 2, SQLITE_STATIC);
        return;
    }
    t->data[t->len++] = ']';
    sqlite3_result_text64(ctx, t->data, t->len, sqlite3_free, SQLITE_UTF8);
}

/* ---- registration ------------------------------------------------------- */

static const struct {
    const char *name;
    void (*fn)(sqlite3_context *ctx, int argc, sqlite3_value **argv);
} functions[] = {
    {"sb_regexp", fn_regexp},
    {"sb_iregexp", fn_iregexp},
    {"sb_like", fn_like},
    {"sb_ilike", fn_ilike},
    {"sb_json_contains", fn_json_contains},
    {"sb_json_overlaps", fn_json_overlaps},
};

int sb_sqlfn_register(sqlite3 *db)
{
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
        int rc = sqlite3_create_function_v2(
            db, functions[i].name, 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
            functions[i].fn, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return -1;
    }
    if (sqlite3_create_function_v2(db, "sb_json_build", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                   NULL, fn_json_build, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(db, "sb_json_array", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                   NULL, NULL, fn_json_array_step, fn_json_array_final, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static int auto_register(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    (void)api;
    if (sb_sqlfn_register(db) == 0)
        return SQLITE_OK;
    *err = sqlite3_mprintf("specbase SQL functions: %s", sqlite3_errmsg(db));
    return SQLITE_ERROR;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;

static void install(void)
{
    /* sqlite3_auto_extension takes the entry point as void (*)(void). */
    install_rc = sqlite3_auto_extension((void (*)(void))auto_register);
}

int sb_sqlfn_install(void)
{
    pthread_once(&install_once, install);
    return install_rc == SQLITE_OK ? 0 : -1;
}
