/* Threat detection and mitigation, see threat.h.
 *
 * The scanner runs in one pass over the input: a normaliser undoes
 * percent-escapes (twice, for "%252e"), JSON escapes ("\u003c", "\/"),
 * '+' as space, case, runs of white space and SQL inline comments, and
 * feeds the result into a short tail buffer; a table of patterns, indexed
 * by their last character, is compared against the tail at each character,
 * with word-boundary checks where a pattern is a word. The few probes that
 * need context (a quote before " or ", "javascript:" not followed by a
 * space, "{{" closed by "}}") are small state machines beside the table.
 *
 * The guard keeps three token-bucket limiters (guard/ratelimit.h) and a
 * table of sources (client addresses): burst counters, throttle and ban
 * deadlines, the last time each event kind was put in the ring. That table
 * is set-associative like the limiters', with striped mutexes; a slot with
 * an active ban or throttle is the last to be reused, so a flood of new
 * addresses does not lift a ban. Events go to a ring under its own mutex;
 * counters are atomics. The HTTP handler (api/app.c) calls the guard; the
 * metrics (api/metrics.c) read its counters. */
#include "guard/threat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "util/die.h"
#include "util/formats.h"
#include "util/json_out.h"

/* ==== the scanner ================================================================== */

enum {
    WORD_START = 1, /* the character before the pattern is not a letter or digit */
    WORD_END = 2,   /* nor is the character after it */
};

struct pattern {
    const char *text; /* normalised: lower case, single spaces */
    unsigned probe;
    unsigned flags;
};

static const struct pattern patterns[] = {
    /* SQL: set operations, comments that end a statement, stacked queries,
     * catalogue tables, timing functions, numeric tautologies */
    {"union select", SB_PROBE_SQL, WORD_START | WORD_END},
    {"union all select", SB_PROBE_SQL, WORD_START | WORD_END},
    {"union distinct select", SB_PROBE_SQL, WORD_START | WORD_END},
    {";--", SB_PROBE_SQL, 0},
    {"; --", SB_PROBE_SQL, 0},
    {"'--", SB_PROBE_SQL, 0},
    {"' --", SB_PROBE_SQL, 0},
    {"/*!", SB_PROBE_SQL, 0},
    {"; drop table", SB_PROBE_SQL, WORD_END},
    {";drop table", SB_PROBE_SQL, WORD_END},
    {"; delete from", SB_PROBE_SQL, WORD_END},
    {"; insert into", SB_PROBE_SQL, WORD_END},
    {"; truncate table", SB_PROBE_SQL, WORD_END},
    {"information_schema", SB_PROBE_SQL, WORD_START},
    {"sqlite_master", SB_PROBE_SQL, WORD_START},
    {"sqlite_schema", SB_PROBE_SQL, WORD_START},
    {"pg_sleep(", SB_PROBE_SQL, WORD_START},
    {"sleep(", SB_PROBE_SQL, WORD_START},
    {"benchmark(", SB_PROBE_SQL, WORD_START},
    {"waitfor delay", SB_PROBE_SQL, WORD_START | WORD_END},
    {"load_extension(", SB_PROBE_SQL, WORD_START},
    {"or 1=1", SB_PROBE_SQL, WORD_START | WORD_END},
    {"or 1 = 1", SB_PROBE_SQL, WORD_START | WORD_END},
    {"and 1=1", SB_PROBE_SQL, WORD_START | WORD_END},
    {"and 1=2", SB_PROBE_SQL, WORD_START | WORD_END},
    {"' or true", SB_PROBE_SQL, WORD_END},
    {"' or not", SB_PROBE_SQL, WORD_END},
    /* script: tags that run code, event handler attributes, script URLs */
    {"<script", SB_PROBE_SCRIPT, 0},
    {"</script", SB_PROBE_SCRIPT, 0},
    {"<iframe", SB_PROBE_SCRIPT, 0},
    {"<object", SB_PROBE_SCRIPT, 0},
    {"<embed", SB_PROBE_SCRIPT, 0},
    {"<svg/on", SB_PROBE_SCRIPT, 0},
    {"document.cookie", SB_PROBE_SCRIPT, WORD_START},
    {"onerror=", SB_PROBE_SCRIPT, WORD_START},
    {"onerror =", SB_PROBE_SCRIPT, WORD_START},
    {"onload=", SB_PROBE_SCRIPT, WORD_START},
    {"onload =", SB_PROBE_SCRIPT, WORD_START},
    {"onclick=", SB_PROBE_SCRIPT, WORD_START},
    {"onmouseover=", SB_PROBE_SCRIPT, WORD_START},
    {"onfocus=", SB_PROBE_SCRIPT, WORD_START},
    {"ontoggle=", SB_PROBE_SCRIPT, WORD_START},
    {"onanimationstart=", SB_PROBE_SCRIPT, WORD_START},
    {"onpointerover=", SB_PROBE_SCRIPT, WORD_START},
    {"srcdoc=", SB_PROBE_SCRIPT, WORD_START},
    {"data:text/html", SB_PROBE_SCRIPT, WORD_START},
    /* path traversal ("../" itself is handled beside the table) */
    {"/etc/passwd", SB_PROBE_TRAVERSAL, 0},
    {"/etc/shadow", SB_PROBE_TRAVERSAL, 0},
    {"/proc/self/", SB_PROBE_TRAVERSAL, 0},
    {"c:\\windows\\", SB_PROBE_TRAVERSAL, 0},
    {"\\windows\\win.ini", SB_PROBE_TRAVERSAL, 0},
};
#define N_PATTERNS (sizeof(patterns) / sizeof(patterns[0]))
#define TAIL_KEEP 64 /* longer than every pattern */

/* Patterns by last character: a list of indexes, -1 terminated. Built once. */
static signed char by_last[256][N_PATTERNS + 1];
static pthread_once_t by_last_once = PTHREAD_ONCE_INIT;

static void build_by_last(void)
{
    size_t fill[256] = {0};
    for (size_t i = 0; i < N_PATTERNS; i++) {
        const char *text = patterns[i].text;
        unsigned char last = (unsigned char)text[strlen(text) - 1];
        by_last[last][fill[last]++] = (signed char)i;
    }
    for (size_t c = 0; c < 256; c++)
        by_last[c][fill[c]] = -1;
}

static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* The normaliser's input position. */
struct reader {
    const unsigned char *text;
    size_t len, pos;
};

/* The next decoded byte (before case and space folding), or -1 at the end.
 * Undoes %XX (and %25XX), JSON's \uXXXX (non-ASCII becomes 0x80) and the
 * one-character JSON escapes, and '+' as a space. */
static int next_raw(struct reader *r)
{
    if (r->pos >= r->len)
        return -1;
    const unsigned char *p = r->text + r->pos;
    size_t left = r->len - r->pos;
    if (p[0] == '%' && left >= 3 && sb_hex_value(p[1]) >= 0 && sb_hex_value(p[2]) >= 0) {
        int value = sb_hex_value(p[1]) * 16 + sb_hex_value(p[2]);
        r->pos += 3;
        if (value == '%' && left >= 5 && sb_hex_value(p[3]) >= 0 && sb_hex_value(p[4]) >= 0) {
            value = sb_hex_value(p[3]) * 16 + sb_hex_value(p[4]);
            r->pos += 2;
        }
        return value;
    }
    if (p[0] == '\\' && left >= 2) {
        if (p[1] == 'u' && left >= 6) {
            int value = 0;
            for (size_t i = 2; i < 6; i++) {
                int digit = sb_hex_value(p[i]);
                if (digit < 0)
                    goto plain;
                value = value * 16 + digit;
            }
            r->pos += 6;
            return value < 0x80 ? value : 0x80;
        }
        if (p[1] && strchr("\"\\/", p[1])) {
            r->pos += 2;
            return p[1];
        }
        if (p[1] && strchr("nrtbf", p[1])) {
            r->pos += 2;
            return ' ';
        }
    }
plain:
    r->pos++;
    return p[0] == '+' ? ' ' : p[0];
}

/* The scanner's state: the normalised tail and the context machines. */
struct scan {
    unsigned char tail[2 * TAIL_KEEP];
    size_t tail_len;
    size_t n_out;           /* characters emitted so far */
    size_t cond_until;      /* after "' or ": a comparison before this position is SQL */
    bool js_pending;        /* "javascript:" just seen: a non-space next is a script URL */
    size_t open_brace2;     /* position after "{{" + 1, 0 when none open */
    size_t open_dollar;     /* "${" and "#{" */
    size_t open_percent;    /* "<%" */
    unsigned found;
};

#define TEMPLATE_SPAN 200 /* a template expression closes within this many characters */
#define COND_SPAN 24      /* "' or " ... '=' */

static bool tail_ends_with(const struct scan *s, size_t skip, const char *text, size_t len)
{
    if (s->tail_len < skip + len)
        return false;
    return memcmp(s->tail + s->tail_len - skip - len, text, len) == 0;
}

/* The character before the last skip+len ones, or ' ' at the start. */
static unsigned char tail_before(const struct scan *s, size_t skip, size_t len)
{
    return s->tail_len > skip + len ? s->tail[s->tail_len - skip - len - 1] : ' ';
}

static void match_table(struct scan *s, unsigned char last, size_t skip, bool at_boundary)
{
    for (const signed char *index = by_last[last]; *index >= 0; index++) {
        const struct pattern *pat = &patterns[*index];
        if (s->found & pat->probe)
            continue;
        if ((pat->flags & WORD_END) ? !at_boundary : skip != 0)
            continue;
        size_t len = strlen(pat->text);
        if (!tail_ends_with(s, skip, pat->text, len))
            continue;
        if ((pat->flags & WORD_START) && is_word(tail_before(s, skip, len)))
            continue;
        s->found |= pat->probe;
    }
}

/* After the word "or"/"and" ends (the tail minus the boundary character):
 * was it preceded by a closing quote, as in "x' or ", "1') and "? */
static bool quote_before_word(const struct scan *s, size_t word_len)
{
    size_t i = s->tail_len - 1 - word_len; /* index just past the character before the word */
    while (i > 0 && (s->tail[i - 1] == ' ' || s->tail[i - 1] == ')'))
        i--;
    return i > 0 && s->tail[i - 1] == '\'';
}

static void emit(struct scan *s, unsigned char c)
{
    if (c == ' ' && s->tail_len && s->tail[s->tail_len - 1] == ' ')
        return;
    if (s->tail_len == sizeof(s->tail)) {
        memmove(s->tail, s->tail + sizeof(s->tail) - TAIL_KEEP, TAIL_KEEP);
        s->tail_len = TAIL_KEEP;
    }
    s->tail[s->tail_len++] = c;
    s->n_out++;

    if (s->js_pending) {
        s->js_pending = false;
        if (c != ' ')
            s->found |= SB_PROBE_SCRIPT;
    }
    if (s->n_out <= s->cond_until && (c == '=' || c == '<' || c == '>'))
        s->found |= SB_PROBE_SQL;

    match_table(s, c, 0, false);
    if (!is_word(c) && s->tail_len >= 2) {
        unsigned char last_word_char = s->tail[s->tail_len - 2];
        if (is_word(last_word_char))
            match_table(s, last_word_char, 1, true);
        /* "' or " and "' and ": a comparison must follow soon */
        if ((c == ' ' || c == '(') &&
            ((tail_ends_with(s, 1, "or", 2) && !is_word(tail_before(s, 1, 2)) &&
              quote_before_word(s, 2)) ||
             (tail_ends_with(s, 1, "and", 3) && !is_word(tail_before(s, 1, 3)) &&
              quote_before_word(s, 3))))
            s->cond_until = s->n_out + COND_SPAN;
    }
    /* script URLs: "javascript:alert(1)", not "javascript: a language" */
    if (c == ':' && ((tail_ends_with(s, 0, "javascript:", 11) && !is_word(tail_before(s, 0, 11))) ||
                     (tail_ends_with(s, 0, "vbscript:", 9) && !is_word(tail_before(s, 0, 9)))))
        s->js_pending = true;
    /* traversal: exactly two dots, then a slash ("so.../" is prose) */
    if ((c == '/' || c == '\\') && tail_ends_with(s, 1, "..", 2) && tail_before(s, 1, 2) != '.')
        s->found |= SB_PROBE_TRAVERSAL;
    /* template expressions: an opener, then its closer not too far on */
    if (c == '{' && s->tail_len >= 2) {
        unsigned char prev = s->tail[s->tail_len - 2];
        if (prev == '{')
            s->open_brace2 = s->n_out + 1;
        else if (prev == '$' || prev == '#')
            s->open_dollar = s->n_out + 1;
    } else if (c == '%' && tail_ends_with(s, 0, "<%", 2)) {
        s->open_percent = s->n_out + 1;
    } else if (c == '}') {
        if ((s->open_brace2 && tail_ends_with(s, 0, "}}", 2) &&
             s->n_out - s->open_brace2 <= TEMPLATE_SPAN) ||
            (s->open_dollar && s->n_out - s->open_dollar <= TEMPLATE_SPAN))
            s->found |= SB_PROBE_TEMPLATE;
    } else if (c == '>' && s->open_percent && tail_ends_with(s, 0, "%>", 2) &&
               s->n_out - s->open_percent <= TEMPLATE_SPAN) {
        s->found |= SB_PROBE_TEMPLATE;
    }
}

unsigned sb_threat_scan(const char *text, size_t len)
{
    pthread_once(&by_last_once, build_by_last);
    struct scan s;
    memset(&s, 0, sizeof(s));
    struct reader r = {(const unsigned char *)text, len, 0};
    const unsigned all = (1u << SB_PROBE_N_KINDS) - 1;
    int c;
    while ((c = next_raw(&r)) >= 0 && s.found != all) {
        /* an inline comment "/ * ... * /" closed within 256 bytes reads as a
         * space ("union/ * * /select"); it is itself a sign of SQL */
        if (c == '/' && r.pos < r.len && r.text[r.pos] == '*') {
            size_t limit = r.len - r.pos < 256 ? r.len : r.pos + 256;
            const unsigned char *close = NULL;
            for (size_t i = r.pos + 1; i + 1 < limit; i++)
                if (r.text[i] == '*' && r.text[i + 1] == '/') {
                    close = r.text + i;
                    break;
                }
            if (close && !(r.pos + 1 < r.len && r.text[r.pos + 1] == '!')) {
                s.found |= SB_PROBE_SQL;
                r.pos = (size_t)(close - r.text) + 2;
                emit(&s, ' ');
                continue;
            }
        }
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        else if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            c = ' ';
        emit(&s, (unsigned char)c);
    }
    if (s.found != all)
        emit(&s, ' '); /* the end is a word boundary */
    return s.found;
}

static const char *const probe_names[] = {
#define X(name, label) label,
    SB_PROBE_LIST(X)
#undef X
};

void sb_threat_probe_names(unsigned mask, char *out, size_t size)
{
    size_t used = 0;
    if (size)
        out[0] = '\0';
    for (size_t i = 0; i < SB_PROBE_N_KINDS; i++) {
        if (!(mask & (1u << i)))
            continue;
        int n = snprintf(out + used, size - used, "%s%s", used ? "," : "", probe_names[i]);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

/* ==== kinds and actions ============================================================= */

static const char *const kind_names[] = {
#define X(name, label, action) label,
    SB_THREAT_KIND_LIST(X)
#undef X
};

static const enum sb_threat_action default_actions[] = {
#define X(name, label, action) action,
    SB_THREAT_KIND_LIST(X)
#undef X
};

const char *sb_threat_kind_name(enum sb_threat_kind kind)
{
    return (unsigned)kind < SB_THREAT_N_KINDS ? kind_names[kind] : NULL;
}

int sb_threat_kind_parse(const char *name)
{
    for (int i = 0; i < SB_THREAT_N_KINDS; i++)
        if (!strcmp(kind_names[i], name))
            return i;
    return -1;
}

const char *sb_threat_action_name(enum sb_threat_action action)
{
    switch (action) {
    case SB_THREAT_LOG:
        return "log";
    case SB_THREAT_THROTTLE:
        return "throttle";
    case SB_THREAT_BAN:
        return "ban";
    }
    return "log";
}

int sb_threat_action_parse(const char *name)
{
    static const enum sb_threat_action actions[] = {SB_THREAT_LOG, SB_THREAT_THROTTLE, SB_THREAT_BAN};
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (name && !strcmp(sb_threat_action_name(actions[i]), name))
            return (int)actions[i];
    return -1;
}

void sb_threat_event_json(const struct sb_threat_event *event, struct sb_buf *out)
{
    char when[32] = "";
    time_t wall = (time_t)event->wall_s;
    struct tm tm;
    if (gmtime_r(&wall, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sb_buf_printf(out, "{\"seq\":%llu,\"time\":", (unsigned long long)event->seq);
    sb_json_string(out, when, strlen(when));
    const char *kind = sb_threat_kind_name(event->kind);
    sb_buf_puts(out, ",\"kind\":");
    sb_json_string(out, kind ? kind : "", kind ? strlen(kind) : 0);
    const char *action = sb_threat_action_name(event->action);
    sb_buf_puts(out, ",\"action\":");
    sb_json_string(out, action, strlen(action));
    sb_buf_puts(out, ",\"address\":");
    sb_json_string(out, event->addr, strnlen(event->addr, sizeof(event->addr)));
    sb_buf_puts(out, ",\"probes\":[");
    bool first = true;
    for (size_t i = 0; i < SB_PROBE_N_KINDS; i++)
        if (event->probes & (1u << i)) {
            if (!first)
                sb_buf_putc(out, ',');
            first = false;
            sb_json_string(out, probe_names[i], strlen(probe_names[i]));
        }
    sb_buf_puts(out, "],\"detail\":");
    sb_json_string(out, event->detail, strnlen(event->detail, sizeof(event->detail)));
    sb_buf_putc(out, '}');
}

/* ==== the guard ====================================================================== */

#define WAYS 8
#define STRIPES 64
#define US_PER_S 1000000

struct source {
    uint64_t key; /* 0: empty */
    char addr[SB_THREAT_ADDR_MAX];
    int64_t last_us; /* LRU stamp */
    int64_t denial_start_us, notfound_start_us;
    int32_t denials, notfound;
    int64_t throttled_until_us, banned_until_us;
    enum sb_threat_kind ban_kind;
    int64_t last_event_us[SB_THREAT_N_KINDS]; /* 0: never */
};

struct sb_guard {
    struct sb_guard_config cfg;
    struct sb_ratelimit *per_address, *per_principal, *auth_per_address;
    struct source *sources;
    size_t n_sets;
    pthread_mutex_t stripes[STRIPES];
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    /* the event ring */
    pthread_mutex_t ring_lock;
    struct sb_threat_event *ring;
    size_t ring_cap, ring_next, ring_len;
    uint64_t seq;
    sb_guard_sink sink;
    void *sink_ctx;
    /* counters */
    _Atomic uint64_t events[SB_THREAT_N_KINDS];
    _Atomic uint64_t banned_refusals, limited_refusals;
    /* no ban or throttle lasts past this time: until then sb_guard_before
       looks the address up; after it, no source can be restricted and the
       lookup (a hash and a lock) is skipped */
    _Atomic int64_t restricted_until_us;
};

/* Note that some source is restricted until until_us. */
static void restricted_until(struct sb_guard *g, int64_t until_us)
{
    int64_t seen = atomic_load_explicit(&g->restricted_until_us, memory_order_relaxed);
    while (seen < until_us &&
           !atomic_compare_exchange_weak_explicit(&g->restricted_until_us, &seen, until_us,
                                                  memory_order_release, memory_order_relaxed))
        ;
}

void sb_guard_config_default(struct sb_guard_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->per_address = (struct sb_ratelimit_rate){.per_second = 50, .burst = 100};
    cfg->per_principal = (struct sb_ratelimit_rate){.per_second = 100, .burst = 200};
    cfg->auth_per_address = (struct sb_ratelimit_rate){.per_second = 5, .burst = 10};
    cfg->denial_threshold = 20;
    cfg->denial_window_s = 60;
    cfg->notfound_threshold = 50;
    cfg->notfound_window_s = 60;
    cfg->ban_s = 600;
    cfg->throttle_s = 600;
    cfg->throttle_factor = 10;
    cfg->repeat_s = 10;
    for (size_t i = 0; i < SB_THREAT_N_KINDS; i++)
        cfg->action[i] = default_actions[i];
    cfg->sources = 16384;
    cfg->principals = 16384;
    cfg->events = 1024;
    cfg->enabled = true;
}

static int64_t clamp64(int64_t value, int64_t lo, int64_t hi)
{
    return value < lo ? lo : value > hi ? hi : value;
}

struct sb_guard *sb_guard_new(const struct sb_guard_config *cfg)
{
    if (sodium_init() < 0)
        sb_die("libsodium cannot be initialised");
    struct sb_guard *g = sb_xcalloc(1, sizeof(*g));
    if (cfg)
        g->cfg = *cfg;
    else
        sb_guard_config_default(&g->cfg);
    struct sb_guard_config *c = &g->cfg;
    c->denial_threshold = (int)clamp64(c->denial_threshold, 1, 1000000);
    c->notfound_threshold = (int)clamp64(c->notfound_threshold, 1, 1000000);
    c->denial_window_s = clamp64(c->denial_window_s, 1, 86400);
    c->notfound_window_s = clamp64(c->notfound_window_s, 1, 86400);
    c->ban_s = clamp64(c->ban_s, 1, 30 * 86400);
    c->throttle_s = clamp64(c->throttle_s, 1, 30 * 86400);
    c->repeat_s = clamp64(c->repeat_s, 0, 86400);
    for (size_t i = 0; i < SB_THREAT_N_KINDS; i++)
        c->duration_s[i] = clamp64(c->duration_s[i], 0, 30 * 86400);
    if (!(c->throttle_factor >= 1))
        c->throttle_factor = 1;
    for (size_t i = 0; i < SB_THREAT_N_KINDS; i++)
        if ((unsigned)c->action[i] > SB_THREAT_BAN)
            c->action[i] = SB_THREAT_LOG;
    c->sources = (size_t)clamp64((int64_t)c->sources, 64, 1 << 22);
    c->events = (size_t)clamp64((int64_t)c->events, 16, 1 << 20);

    g->per_address = sb_ratelimit_new(c->per_address, c->sources);
    g->auth_per_address = sb_ratelimit_new(c->auth_per_address, c->sources);
    g->per_principal = sb_ratelimit_new(c->per_principal, c->principals);
    g->n_sets = 1;
    while (g->n_sets * WAYS < c->sources)
        g->n_sets <<= 1;
    g->sources = sb_xcalloc(g->n_sets * WAYS, sizeof(*g->sources));
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&g->stripes[i], NULL);
    randombytes_buf(g->hash_key, sizeof(g->hash_key));
    pthread_mutex_init(&g->ring_lock, NULL);
    g->ring_cap = c->events;
    g->ring = sb_xcalloc(g->ring_cap, sizeof(*g->ring));
    return g;
}

void sb_guard_free(struct sb_guard *g)
{
    if (!g)
        return;
    sb_ratelimit_free(g->per_address);
    sb_ratelimit_free(g->auth_per_address);
    sb_ratelimit_free(g->per_principal);
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&g->stripes[i]);
    pthread_mutex_destroy(&g->ring_lock);
    free(g->sources);
    free(g->ring);
    free(g);
}

void sb_guard_set_sink(struct sb_guard *g, sb_guard_sink sink, void *ctx)
{
    g->sink = sink;
    g->sink_ctx = ctx;
}

/* ---- the source table ------------------------------------------------------------- */

static bool source_held(const struct source *src, int64_t now_us)
{
    return src->banned_until_us > now_us || src->throttled_until_us > now_us;
}

/* The set of addr, with its stripe locked (unlock with unlock_set). */
static struct source *lock_set(struct sb_guard *g, const char *addr, uint64_t *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)addr, strlen(addr), g->hash_key);
    uint64_t h;
    memcpy(&h, out, sizeof(h));
    *key = h ? h : 1;
    size_t set_index = (size_t)(*key >> 7) & (g->n_sets - 1);
    pthread_mutex_lock(&g->stripes[set_index % STRIPES]);
    return &g->sources[set_index * WAYS];
}

static void unlock_set(struct sb_guard *g, const struct source *set)
{
    size_t set_index = (size_t)(set - g->sources) / WAYS;
    pthread_mutex_unlock(&g->stripes[set_index % STRIPES]);
}

/* addr's slot in set (locked), or NULL; with create, a new one in an empty
 * slot, else in the least recently used slot without a ban or throttle,
 * else in the one whose ban ends first. */
static struct source *find_source(struct source *set, uint64_t key, const char *addr,
                                  int64_t now_us, bool create)
{
    for (size_t i = 0; i < WAYS; i++)
        if (set[i].key == key && !strncmp(set[i].addr, addr, SB_THREAT_ADDR_MAX - 1))
            return &set[i];
    if (!create)
        return NULL;
    struct source *victim = NULL;
    for (size_t i = 0; i < WAYS; i++) {
        struct source *cand = &set[i];
        if (!cand->key) {
            victim = cand;
            break;
        }
        if (!victim) {
            victim = cand;
            continue;
        }
        bool cand_held = source_held(cand, now_us), victim_held = source_held(victim, now_us);
        if (cand_held != victim_held) {
            if (!cand_held)
                victim = cand;
        } else if (cand_held ? cand->banned_until_us < victim->banned_until_us
                             : cand->last_us < victim->last_us) {
            victim = cand;
        }
    }
    memset(victim, 0, sizeof(*victim));
    victim->key = key;
    snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
    victim->last_us = now_us;
    return victim;
}

/* ---- events ------------------------------------------------------------------------- */

/* Printable ASCII only, so that an event can be printed or logged as is. */
static void copy_printable(char *out, size_t size, const char *text)
{
    size_t n = 0;
    for (; text && *text && n + 1 < size; text++)
        out[n++] = (*text >= 0x20 && *text < 0x7f) ? *text : '?';
    out[n] = '\0';
}

/* How long kind's throttle or ban lasts, in seconds. */
static int64_t action_s(const struct sb_guard *g, enum sb_threat_kind kind)
{
    if (g->cfg.duration_s[kind])
        return g->cfg.duration_s[kind];
    return g->cfg.action[kind] == SB_THREAT_BAN ? g->cfg.ban_s : g->cfg.throttle_s;
}

/* Count an event of kind from addr, apply the policy to addr's source and
 * put the event in the ring (unless the same kind came from addr within
 * repeat_s). Returns the action taken. */
static enum sb_threat_action record(struct sb_guard *g, enum sb_threat_kind kind, const char *addr,
                                    unsigned probes, const char *detail, int64_t now_us)
{
    atomic_fetch_add_explicit(&g->events[kind], 1, memory_order_relaxed);
    enum sb_threat_action action = g->cfg.action[kind];
    bool to_ring = true;
    if (addr && *addr) {
        uint64_t key;
        struct source *set = lock_set(g, addr, &key);
        struct source *src = find_source(set, key, addr, now_us, true);
        src->last_us = now_us;
        if (action == SB_THREAT_BAN) {
            src->banned_until_us = now_us + action_s(g, kind) * US_PER_S;
            restricted_until(g, src->banned_until_us);
            src->ban_kind = kind;
        } else if (action == SB_THREAT_THROTTLE) {
            src->throttled_until_us = now_us + action_s(g, kind) * US_PER_S;
            restricted_until(g, src->throttled_until_us);
        }
        if (src->last_event_us[kind] && now_us - src->last_event_us[kind] < g->cfg.repeat_s * US_PER_S)
            to_ring = false;
        else
            src->last_event_us[kind] = now_us;
        unlock_set(g, set);
    }
    if (!to_ring)
        return action;
    struct sb_threat_event event;
    memset(&event, 0, sizeof(event));
    event.at_us = now_us;
    event.wall_s = (int64_t)time(NULL);
    event.kind = kind;
    event.action = action;
    event.probes = probes;
    copy_printable(event.addr, sizeof(event.addr), addr);
    copy_printable(event.detail, sizeof(event.detail), detail);
    pthread_mutex_lock(&g->ring_lock);
    event.seq = ++g->seq;
    g->ring[g->ring_next] = event;
    g->ring_next = (g->ring_next + 1) % g->ring_cap;
    if (g->ring_len < g->ring_cap)
        g->ring_len++;
    pthread_mutex_unlock(&g->ring_lock);
    if (g->sink)
        g->sink(&event, g->sink_ctx);
    return action;
}

void sb_guard_report(struct sb_guard *g, enum sb_threat_kind kind, const char *addr,
                     const char *detail, int64_t now_us)
{
    if (!g->cfg.enabled || (unsigned)kind >= SB_THREAT_N_KINDS)
        return;
    record(g, kind, addr, 0, detail, now_us);
}

size_t sb_guard_events(struct sb_guard *g, struct sb_threat_event *out, size_t max)
{
    pthread_mutex_lock(&g->ring_lock);
    size_t n = g->ring_len < max ? g->ring_len : max;
    size_t start = (g->ring_next + g->ring_cap - n) % g->ring_cap;
    for (size_t i = 0; i < n; i++)
        out[i] = g->ring[(start + i) % g->ring_cap];
    pthread_mutex_unlock(&g->ring_lock);
    return n;
}

/* ---- the request path ----------------------------------------------------------------- */

static int seconds_until(int64_t until_us, int64_t now_us)
{
    int64_t wait = (until_us - now_us + US_PER_S - 1) / US_PER_S;
    return wait < 1 ? 1 : wait > 86400 * 30 ? 86400 * 30 : (int)wait;
}

enum sb_guard_verdict sb_guard_before(struct sb_guard *g, const char *addr, const char *principal,
                                      bool auth_endpoint, int64_t now_us, int *retry_after)
{
    int wait = 0;
    if (retry_after)
        *retry_after = 0;
    if (!g->cfg.enabled)
        return SB_GUARD_GO;
    bool has_addr = addr && *addr, throttled = false;
    if (has_addr && now_us < atomic_load_explicit(&g->restricted_until_us, memory_order_acquire)) {
        uint64_t key;
        struct source *set = lock_set(g, addr, &key);
        struct source *src = find_source(set, key, addr, now_us, false);
        if (src) {
            src->last_us = now_us;
            if (src->banned_until_us > now_us)
                wait = seconds_until(src->banned_until_us, now_us);
            throttled = src->throttled_until_us > now_us;
        }
        unlock_set(g, set);
        if (wait) {
            atomic_fetch_add_explicit(&g->banned_refusals, 1, memory_order_relaxed);
            if (retry_after)
                *retry_after = wait;
            return SB_GUARD_BANNED;
        }
    }
    double cost = throttled ? g->cfg.throttle_factor : 1;
    const char *which = NULL;
    if (has_addr && sb_ratelimit_take(g->per_address, addr, cost, now_us, &wait))
        which = "address";
    else if (has_addr && auth_endpoint &&
             sb_ratelimit_take(g->auth_per_address, addr, cost, now_us, &wait))
        which = "auth endpoint";
    else if (principal && sb_ratelimit_take(g->per_principal, principal, 1, now_us, &wait))
        which = "principal";
    if (!which)
        return SB_GUARD_GO;
    atomic_fetch_add_explicit(&g->limited_refusals, 1, memory_order_relaxed);
    if (retry_after)
        *retry_after = wait;
    char detail[SB_THREAT_DETAIL_MAX];
    snprintf(detail, sizeof(detail), "%s limit%s", which, throttled ? " (throttled)" : "");
    enum sb_threat_action action = record(g, SB_THREAT_RATE_LIMITED, addr, 0, detail, now_us);
    if (action == SB_THREAT_BAN) {
        if (retry_after)
            *retry_after = (int)action_s(g, SB_THREAT_RATE_LIMITED);
        return SB_GUARD_BANNED;
    }
    return SB_GUARD_LIMITED;
}

enum sb_guard_verdict sb_guard_principal(struct sb_guard *g, const char *addr,
                                         const char *principal, int64_t now_us, int *retry_after)
{
    int wait = 0;
    if (retry_after)
        *retry_after = 0;
    if (!g->cfg.enabled || !principal || !*principal ||
        !sb_ratelimit_take(g->per_principal, principal, 1, now_us, &wait))
        return SB_GUARD_GO;
    atomic_fetch_add_explicit(&g->limited_refusals, 1, memory_order_relaxed);
    if (retry_after)
        *retry_after = wait;
    enum sb_threat_action action =
        record(g, SB_THREAT_RATE_LIMITED, addr, 0, "principal limit", now_us);
    if (action == SB_THREAT_BAN) {
        if (retry_after)
            *retry_after = (int)action_s(g, SB_THREAT_RATE_LIMITED);
        return SB_GUARD_BANNED;
    }
    return SB_GUARD_LIMITED;
}

enum sb_guard_verdict sb_guard_inspect(struct sb_guard *g, const char *addr, const char *text,
                                       size_t len, bool excerpt, int64_t now_us)
{
    if (!g->cfg.enabled || !text || !len)
        return SB_GUARD_GO;
    unsigned probes = sb_threat_scan(text, len);
    if (!probes)
        return SB_GUARD_GO;
    char names[48], start[40], detail[SB_THREAT_DETAIL_MAX];
    sb_threat_probe_names(probes, names, sizeof(names));
    size_t n = len < sizeof(start) - 1 ? len : sizeof(start) - 1;
    memcpy(start, text, n);
    start[n] = '\0';
    if (excerpt)
        snprintf(detail, sizeof(detail), "%s: %s", names, start);
    else
        snprintf(detail, sizeof(detail), "%s", names);
    enum sb_threat_action action = record(g, SB_THREAT_INJECTION_PROBE, addr, probes, detail, now_us);
    return action == SB_THREAT_BAN ? SB_GUARD_BANNED : SB_GUARD_GO;
}

/* Count one hit in a window that starts at the first hit; true exactly
 * when the count reaches threshold. */
static bool window_hit(int64_t *start_us, int32_t *count, int64_t window_s, int threshold,
                       int64_t now_us)
{
    if (*count == 0 || now_us - *start_us >= window_s * US_PER_S) {
        *start_us = now_us;
        *count = 0;
    }
    if (*count < INT32_MAX)
        (*count)++;
    return *count == threshold;
}

void sb_guard_after(struct sb_guard *g, const char *addr, int status, int64_t now_us)
{
    if (!g->cfg.enabled)
        return;
    if (status == 413 || status == 414 || status == 431) {
        char detail[32];
        snprintf(detail, sizeof(detail), "status %d", status);
        record(g, SB_THREAT_OVERSIZED, addr, 0, detail, now_us);
        return;
    }
    bool denial = status == 401 || status == 403;
    if ((!denial && status != 404) || !addr || !*addr)
        return;
    uint64_t key;
    struct source *set = lock_set(g, addr, &key);
    struct source *src = find_source(set, key, addr, now_us, true);
    src->last_us = now_us;
    bool fire = denial ? window_hit(&src->denial_start_us, &src->denials, g->cfg.denial_window_s,
                                    g->cfg.denial_threshold, now_us)
                       : window_hit(&src->notfound_start_us, &src->notfound,
                                    g->cfg.notfound_window_s, g->cfg.notfound_threshold, now_us);
    unlock_set(g, set);
    if (!fire)
        return;
    char detail[SB_THREAT_DETAIL_MAX];
    if (denial)
        snprintf(detail, sizeof(detail), "%d answers 401/403 within %lld s", g->cfg.denial_threshold,
                 (long long)g->cfg.denial_window_s);
    else
        snprintf(detail, sizeof(detail), "%d answers 404 within %lld s", g->cfg.notfound_threshold,
                 (long long)g->cfg.notfound_window_s);
    record(g, denial ? SB_THREAT_AUTH_FAILURES : SB_THREAT_ENUMERATION, addr, 0, detail, now_us);
}

/* ---- bans and counters ------------------------------------------------------------------ */

size_t sb_guard_bans(struct sb_guard *g, int64_t now_us, struct sb_threat_ban *out, size_t max)
{
    size_t n_active = 0;
    for (size_t set_index = 0; set_index < g->n_sets; set_index++) {
        pthread_mutex_lock(&g->stripes[set_index % STRIPES]);
        for (size_t i = 0; i < WAYS; i++) {
            const struct source *src = &g->sources[set_index * WAYS + i];
            if (!src->key || src->banned_until_us <= now_us)
                continue;
            if (n_active < max) {
                struct sb_threat_ban *ban = &out[n_active];
                snprintf(ban->addr, sizeof(ban->addr), "%s", src->addr);
                ban->kind = src->ban_kind;
                ban->until_us = src->banned_until_us;
                ban->remaining_s = seconds_until(src->banned_until_us, now_us);
            }
            n_active++;
        }
        pthread_mutex_unlock(&g->stripes[set_index % STRIPES]);
    }
    return n_active;
}

bool sb_guard_unban(struct sb_guard *g, const char *addr)
{
    if (!addr || !*addr)
        return false;
    uint64_t key;
    struct source *set = lock_set(g, addr, &key);
    struct source *src = find_source(set, key, addr, 0, false);
    bool had = src && (src->banned_until_us || src->throttled_until_us);
    if (src)
        src->banned_until_us = src->throttled_until_us = 0;
    unlock_set(g, set);
    return had;
}

void sb_guard_stats(struct sb_guard *g, int64_t now_us, struct sb_guard_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < SB_THREAT_N_KINDS; i++)
        out->events[i] = atomic_load_explicit(&g->events[i], memory_order_relaxed);
    out->banned_refusals = atomic_load_explicit(&g->banned_refusals, memory_order_relaxed);
    out->limited_refusals = atomic_load_explicit(&g->limited_refusals, memory_order_relaxed);
    out->sources_capacity = g->n_sets * WAYS;
    for (size_t set_index = 0; set_index < g->n_sets; set_index++) {
        pthread_mutex_lock(&g->stripes[set_index % STRIPES]);
        for (size_t i = 0; i < WAYS; i++) {
            const struct source *src = &g->sources[set_index * WAYS + i];
            if (!src->key)
                continue;
            out->sources_tracked++;
            out->active_bans += src->banned_until_us > now_us;
            out->active_throttles += src->throttled_until_us > now_us;
        }
        pthread_mutex_unlock(&g->stripes[set_index % STRIPES]);
    }
}
