/* The request headers that shape a PostgREST response: Prefer (RFC 7240, as
 * PostgREST reads it), Accept (media types and their parameters) and Range
 * (with Range-Unit: items), and the Content-Range and Preference-Applied
 * texts that go back. Pure functions over header text: no I/O. */
#ifndef SB_API_NEGOTIATE_H
#define SB_API_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/error.h"
#include "util/buf.h"

enum sb_pref_return { SB_RETURN_DEFAULT, SB_RETURN_MINIMAL, SB_RETURN_HEADERS_ONLY, SB_RETURN_REPRESENTATION };
enum sb_pref_count { SB_COUNT_NONE, SB_COUNT_EXACT, SB_COUNT_PLANNED, SB_COUNT_ESTIMATED };
enum sb_pref_resolution { SB_RESOLUTION_NONE, SB_RESOLUTION_MERGE, SB_RESOLUTION_IGNORE };
enum sb_pref_tx { SB_TX_DEFAULT, SB_TX_COMMIT, SB_TX_ROLLBACK };

struct sb_prefer {
    enum sb_pref_return ret;
    enum sb_pref_count count;
    enum sb_pref_resolution resolution;
    bool missing_default;     /* missing=default */
    enum sb_pref_tx tx;
    bool strict;              /* handling=strict */
    bool has_max_affected;
    int64_t max_affected;
    char invalid[256];        /* unrecognised preferences, ", "-separated (cut when long) */
};

/* Parse every value of the Prefer header (values[i], n of them; repeated
 * headers and comma lists both allowed). With handling=strict and invalid
 * preferences: PGRST122 (400) in err, returns -1. */
int sb_prefer_parse(const char *const *values, size_t n, struct sb_prefer *out, struct sb_api_error *err);

/* Preference-Applied text for what this request honoured (empty when
 * nothing). is_write: return/missing/resolution/tx/max-affected apply. */
void sb_prefer_applied(const struct sb_prefer *prefer, bool is_write, struct sb_buf *out);

enum sb_media {
    SB_MEDIA_JSON,        /* application/json (also * / * and absent) */
    SB_MEDIA_OBJECT,      /* application/vnd.pgrst.object+json: exactly one row */
    SB_MEDIA_CSV,         /* text/csv */
    SB_MEDIA_OPENAPI,     /* application/openapi+json */
};

struct sb_accept {
    enum sb_media media;
    bool nulls_stripped;  /* ;nulls=stripped on the pgrst media types */
};

/* Choose the response media type from Accept (NULL = JSON). The choices the
 * caller can produce are given as a bit set of (1 << SB_MEDIA_*). Nothing
 * acceptable: PGRST107 (406), returns -1. */
int sb_accept_parse(const char *accept, unsigned offered, struct sb_accept *out, struct sb_api_error *err);

/* The Range request header ("0-9", "5-", optionally "items=0-9"). Returns 1
 * with first/last set (last = -1 when open), 0 when absent or not a range we
 * understand (ignored, as PostgREST does), -1 with PGRST103 (416) when first
 * is past last. */
int sb_range_parse(const char *range, int64_t *first, int64_t *last, struct sb_api_error *err);

/* Content-Range: first-last/total, with "*" for an empty page or an
 * unknown total (PostgREST's forms). */
void sb_content_range(int64_t first, int64_t n_rows, bool has_total, int64_t total, struct sb_buf *out);

#endif
