/* Threat detection and mitigation in front of the API.
 *
 * Two parts:
 *   - The probe scanner (sb_threat_scan): a fast pass over input text (a
 *     raw query string, a body) that reports which kinds of injection probe
 *     it holds: SQL, script, path traversal, template strings. Percent- and
 *     JSON-escapes are undone first, so "%27%20or%201%3D1" and "\u003cscript"
 *     are seen for what they are. Detection only: specbase binds every value
 *     and never evaluates input as code, so a probe is stored verbatim as
 *     data; the scanner says who is probing.
 *   - The guard (struct sb_guard): per client address and per principal rate
 *     limits (guard/ratelimit.h), status-burst detection (401/403 denials:
 *     credential stuffing; 404s: id enumeration), reports from other layers
 *     (JWT tampering, oversized or malformed requests), a mitigation policy
 *     per event kind (log, throttle for a while, ban for a while), a bounded
 *     ring of recent events and the list of active bans.
 *
 * Call order in the HTTP handler (docs/security.md):
 *
 *   switch (sb_guard_before(g, addr, NULL, is_auth, now, &wait)) {
 *   case SB_GUARD_BANNED:  403, nothing else runs
 *   case SB_GUARD_LIMITED: 429 with Retry-After: wait
 *   }
 *   sb_guard_inspect(g, addr, query, query_len, true, now);  and the body
 *   ... verify the token; then sb_guard_principal(g, addr, subject, ...) ...
 *   ... handle the request ...
 *   sb_guard_after(g, addr, status, now);
 *
 * Memory is fixed at creation (sources tracked, events kept). Time is passed
 * in (microseconds on a clock that does not go back, e.g. CLOCK_MONOTONIC);
 * event times are also stamped with the wall clock for display. All guard
 * functions are thread-safe. */
#ifndef SB_GUARD_THREAT_H
#define SB_GUARD_THREAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard/ratelimit.h"
#include "util/buf.h"

/* ---- the probe scanner ------------------------------------------------------------ */

/* Probe kinds: X(NAME, "label"). Bits of the scanner's result. */
#define SB_PROBE_LIST(X)                                                                           \
    X(SQL, "sql")                                                                                  \
    X(SCRIPT, "script")                                                                            \
    X(TRAVERSAL, "traversal")                                                                      \
    X(TEMPLATE, "template")

enum sb_probe_bit {
#define X(name, label) SB_PROBE_BIT_##name,
    SB_PROBE_LIST(X)
#undef X
        SB_PROBE_N_KINDS
};
#define SB_PROBE_SQL (1u << SB_PROBE_BIT_SQL)
#define SB_PROBE_SCRIPT (1u << SB_PROBE_BIT_SCRIPT)
#define SB_PROBE_TRAVERSAL (1u << SB_PROBE_BIT_TRAVERSAL)
#define SB_PROBE_TEMPLATE (1u << SB_PROBE_BIT_TEMPLATE)

/* The probe kinds found in text[0..len) (no NUL needed), as SB_PROBE_* bits;
 * 0 when none. Linear in len; allocates nothing. */
unsigned sb_threat_scan(const char *text, size_t len);

/* "sql,script"-style list of the kinds in mask, into out (size >= 40). */
void sb_threat_probe_names(unsigned mask, char *out, size_t size);

/* ---- events, actions and the policy ------------------------------------------------ */

enum sb_threat_action {
    SB_THREAT_LOG,      /* record the event, nothing more */
    SB_THREAT_THROTTLE, /* and lower the source's rate for throttle_s */
    SB_THREAT_BAN,      /* and answer 403 to the source for ban_s */
};
const char *sb_threat_action_name(enum sb_threat_action action);
/* The action named "log", "throttle" or "ban", or -1. For reading the
 * spec's policy. */
int sb_threat_action_parse(const char *name);

/* Event kinds: X(NAME, "label", default action). */
#define SB_THREAT_KIND_LIST(X)                                                                     \
    X(INJECTION_PROBE, "injection_probe", SB_THREAT_LOG)                                           \
    X(AUTH_FAILURES, "auth_failures", SB_THREAT_THROTTLE)                                          \
    X(ENUMERATION, "enumeration", SB_THREAT_BAN)                                                   \
    X(JWT_TAMPERING, "jwt_tampering", SB_THREAT_LOG)                                               \
    X(OVERSIZED, "oversized", SB_THREAT_LOG)                                                       \
    X(MALFORMED, "malformed", SB_THREAT_LOG)                                                       \
    X(RATE_LIMITED, "rate_limited", SB_THREAT_LOG)

enum sb_threat_kind {
#define X(name, label, action) SB_THREAT_##name,
    SB_THREAT_KIND_LIST(X)
#undef X
        SB_THREAT_N_KINDS
};
/* "injection_probe", ... (NULL for an out-of-range kind). */
const char *sb_threat_kind_name(enum sb_threat_kind kind);
/* The kind named name, or -1. For reading the spec's policy. */
int sb_threat_kind_parse(const char *name);

#define SB_THREAT_ADDR_MAX 48   /* an IPv6 address text fits */
#define SB_THREAT_DETAIL_MAX 96 /* printable ASCII only: safe to print */

/* One recorded event (a copy: owns nothing). */
struct sb_threat_event {
    uint64_t seq;        /* 1, 2, ... in the order recorded */
    int64_t at_us;       /* the monotonic time given by the caller */
    int64_t wall_s;      /* Unix time when it was recorded */
    enum sb_threat_kind kind;
    enum sb_threat_action action; /* what the policy did */
    unsigned probes;              /* SB_PROBE_* bits, for injection_probe */
    char addr[SB_THREAT_ADDR_MAX];
    char detail[SB_THREAT_DETAIL_MAX];
};

/* Append event as one JSON object, no newline (for the log, the audit
 * trail and `specbase threats --json`):
 * {"seq":1,"time":"2026-11-25T14:00:00Z","kind":"injection_probe",
 *  "action":"log","address":"192.0.2.1","probes":["sql"],"detail":"..."} */
void sb_threat_event_json(const struct sb_threat_event *event, struct sb_buf *out);

/* One active ban (a copy). */
struct sb_threat_ban {
    char addr[SB_THREAT_ADDR_MAX];
    enum sb_threat_kind kind; /* the event that caused it */
    int64_t until_us;         /* the monotonic time it ends */
    int64_t remaining_s;      /* at the time of the call, >= 1 */
};

/* ---- the guard ---------------------------------------------------------------------- */

struct sb_guard_config {
    struct sb_ratelimit_rate per_address;      /* 50/s, burst 100 */
    struct sb_ratelimit_rate per_principal;    /* 100/s, burst 200 */
    struct sb_ratelimit_rate auth_per_address; /* /auth/v1/: 5/s, burst 10 (on top of per_address) */
    int denial_threshold;   /* 401/403 answers to one address within denial_window_s: 20 */
    int64_t denial_window_s; /* 60 */
    int notfound_threshold; /* 404 answers to one address within notfound_window_s: 50 */
    int64_t notfound_window_s; /* 60 */
    int64_t ban_s;             /* how long a ban lasts: 600 */
    int64_t throttle_s;        /* how long a throttle lasts: 600 */
    double throttle_factor;    /* a throttled source pays this many tokens per request: 10 */
    int64_t repeat_s;          /* the same kind from the same address is put in the ring
                                  at most once per repeat_s (counters see all): 10 */
    enum sb_threat_action action[SB_THREAT_N_KINDS]; /* the policy; defaults in the list */
    int64_t duration_s[SB_THREAT_N_KINDS]; /* a throttle or ban for this kind lasts this long;
                                              0: throttle_s or ban_s */
    size_t sources;   /* addresses tracked for bursts, throttles and bans: 16384 */
    size_t principals; /* principals with a bucket: 16384 */
    size_t events;    /* events kept in the ring: 1024 */
    bool enabled;     /* false: sb_guard_before always answers SB_GUARD_GO, nothing is
                         recorded (a spec that turns the guard off) */
};

/* The defaults above. */
void sb_guard_config_default(struct sb_guard_config *cfg);

struct sb_guard;

/* A new guard (cfg NULL: defaults; cfg copied; values out of range are
 * clamped). Owned: free with sb_guard_free. */
struct sb_guard *sb_guard_new(const struct sb_guard_config *cfg);
void sb_guard_free(struct sb_guard *g);

/* The answers of sb_guard_before and sb_guard_inspect. */
enum sb_guard_verdict {
    SB_GUARD_GO = 0,      /* go ahead */
    SB_GUARD_BANNED = 1,  /* answer 403 at once (no database, no body parsing) */
    SB_GUARD_LIMITED = 2, /* answer 429 with Retry-After: *retry_after seconds */
};

/* Before anything else for a request from addr (borrowed, NUL-terminated;
 * NULL or "" skips the address checks) by principal (the verified subject,
 * or NULL for anonymous; borrowed). auth_endpoint: the request is under
 * /auth/v1/ (stricter limit per address). *retry_after (may be NULL) is
 * set to seconds: until the limit allows (LIMITED) or the ban ends
 * (BANNED); 0 for GO. */
enum sb_guard_verdict sb_guard_before(struct sb_guard *g, const char *addr, const char *principal,
                                      bool auth_endpoint, int64_t now_us, int *retry_after);

/* The per-principal limit alone, for when the caller's identity is known
 * only after sb_guard_before (the token is verified later in the handler):
 * call sb_guard_before with principal NULL first, then this with the
 * verified subject (borrowed). Same answers as sb_guard_before (BANNED only
 * when the policy for rate_limited is ban). */
enum sb_guard_verdict sb_guard_principal(struct sb_guard *g, const char *addr,
                                         const char *principal, int64_t now_us, int *retry_after);

/* Scan text (a raw query string or a body; borrowed, len bytes) for probes
 * and record an injection_probe event when any is found, with the policy's
 * action. With excerpt, the event's detail also holds the first 40 bytes of
 * text (as printable ASCII): pass true for query strings, false for bodies,
 * which may carry personal data (the audit trail hashes pii fields; an
 * excerpt would not). Returns SB_GUARD_BANNED only when the policy for
 * injection_probe is ban (then answer 403), else SB_GUARD_GO: by default
 * the request goes on and the probe is stored as the data it is. */
enum sb_guard_verdict sb_guard_inspect(struct sb_guard *g, const char *addr, const char *text,
                                       size_t len, bool excerpt, int64_t now_us);

/* After the response is made: the final status feeds the burst detectors
 * (401 and 403: auth_failures; 404: enumeration; 413, 414 and 431:
 * oversized). */
void sb_guard_after(struct sb_guard *g, const char *addr, int status, int64_t now_us);

/* Report an event seen elsewhere (JWT tampering from the token verifier, a
 * malformed body from the parser, ...); detail (borrowed, may be NULL) is
 * copied as printable ASCII, cut at SB_THREAT_DETAIL_MAX - 1 bytes. The
 * policy's action applies. */
void sb_guard_report(struct sb_guard *g, enum sb_threat_kind kind, const char *addr,
                     const char *detail, int64_t now_us);

/* Called for every event put in the ring, outside the guard's locks, on
 * the thread that caused it (e.g. to append it to the audit trail or the
 * log); must not block for long. event is borrowed for the call. */
typedef void (*sb_guard_sink)(const struct sb_threat_event *event, void *ctx);
/* Set (or, with NULL, remove) the sink; call before serving. */
void sb_guard_set_sink(struct sb_guard *g, sb_guard_sink sink, void *ctx);

/* Copies of the newest events, oldest first, into out[0..max). Returns the
 * number copied. */
size_t sb_guard_events(struct sb_guard *g, struct sb_threat_event *out, size_t max);

/* Copies of the bans active at now_us into out[0..max) (out may be NULL
 * with max 0). Returns the number of active bans (may exceed max). */
size_t sb_guard_bans(struct sb_guard *g, int64_t now_us, struct sb_threat_ban *out, size_t max);

/* Lift addr's ban and throttle (the operator's pardon). Returns true when
 * there was one. */
bool sb_guard_unban(struct sb_guard *g, const char *addr);

/* Counters for metrics (a snapshot; counts since creation). */
struct sb_guard_stats {
    uint64_t events[SB_THREAT_N_KINDS]; /* occurrences per kind, repeats included */
    uint64_t banned_refusals;           /* requests answered SB_GUARD_BANNED */
    uint64_t limited_refusals;          /* requests answered SB_GUARD_LIMITED */
    size_t active_bans, active_throttles; /* at now_us */
    size_t sources_tracked, sources_capacity;
};
void sb_guard_stats(struct sb_guard *g, int64_t now_us, struct sb_guard_stats *out);

#endif
