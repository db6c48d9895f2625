/* The security block (docs/spec.md §13):
 *
 *   security {
 *     limit address: 50/s burst 100
 *     on enumeration: ban 1 hour
 *     audit: admin
 *   }
 *
 * security = "security" "{" { entry } "}"
 * entry    = "limit" NAME ":" INT "/" UNIT [ "burst" INT ]
 *          | "on" NAME ":" NAME [ INT DURATION_UNIT ]
 *          | "audit" ":" NAME { "," NAME }
 *
 * Only the syntax is checked here; names, ranges and repeats are the
 * checker's (check.c). */
#include <string.h>

#include "spec/parser_int.h"
#include "util/diag.h"

struct unit {
    const char *word;
    int64_t seconds;
};

/* After the '/' of a rate. */
static const struct unit rate_units[] = {
    {"s", 1},       {"sec", 1},     {"second", 1}, {"min", 60}, {"minute", 60},
    {"h", 3600},    {"hour", 3600}, {"d", 86400},  {"day", 86400},
    {NULL, 0},
};

/* After the number of a duration. */
static const struct unit duration_units[] = {
    {"second", 1},   {"seconds", 1},   {"minute", 60}, {"minutes", 60},
    {"hour", 3600},  {"hours", 3600},  {"day", 86400}, {"days", 86400},
    {NULL, 0},
};

/* The unit the current token names, consumed; 0 (with an error) when it is
 * not one of units. */
static int64_t parse_unit(struct parser *p, const struct unit *units, const char *what)
{
    const struct sb_token *tok = sb_p_peek(p);
    if (tok->kind == SB_TOK_IDENT)
        for (size_t i = 0; units[i].word; i++)
            if (sb_p_tok_is_word(p, tok, units[i].word)) {
                sb_p_next(p);
                return units[i].seconds;
            }
    sb_p_error_here(p, what);
    return 0;
}

/* An INT token, consumed and decoded; false after an error. */
static bool parse_count(struct parser *p, const char *what, int64_t *out, size_t *offset)
{
    const struct sb_token *tok = sb_p_peek(p);
    if (tok->kind != SB_TOK_INT) {
        sb_p_error_here(p, what);
        return false;
    }
    sb_p_next(p);
    if (offset)
        *offset = tok->offset;
    return sb_p_int(p, tok, out);
}

/* limit NAME: N/UNIT [burst B] (at NAME) */
static bool parse_limit(struct parser *p, struct sb_security_entry *e)
{
    e->name = sb_p_name(p, "what the limit applies to (address, user or auth)", &e->name_offset);
    if (!e->name || !sb_p_expect(p, SB_TOK_COLON, "after the limit's name") ||
        !parse_count(p, "a rate such as 50/s", &e->count, NULL) ||
        !sb_p_expect(p, SB_TOK_SLASH, "in the rate (50/s, 600/min, 1000/h)"))
        return false;
    e->per_s = parse_unit(p, rate_units, "a unit after '/': s, min, h or d");
    if (!e->per_s)
        return false;
    if (sb_p_is_word(p, "burst")) {
        sb_p_next(p);
        if (!parse_count(p, "the burst: how many requests may come at once", &e->burst, &e->burst_offset))
            return false;
    }
    return true;
}

/* on NAME: ACTION [N UNIT] (at NAME) */
static bool parse_on(struct parser *p, struct sb_security_entry *e)
{
    e->name = sb_p_name(p, "an event kind (injection_probe, auth_failures, enumeration, ...)",
                        &e->name_offset);
    if (!e->name || !sb_p_expect(p, SB_TOK_COLON, "after the event kind"))
        return false;
    e->action = sb_p_name(p, "log, throttle or ban", &e->action_offset);
    if (!e->action)
        return false;
    if (sb_p_is(p, SB_TOK_INT) && !sb_p_peek(p)->bol) {
        if (!parse_count(p, "a duration", &e->duration_n, &e->duration_offset))
            return false;
        e->duration_unit_s = parse_unit(p, duration_units, "a unit: seconds, minutes, hours or days");
        if (!e->duration_unit_s)
            return false;
    }
    return true;
}

/* audit: ROLE, ... (at ':') */
static bool parse_audit(struct parser *p, struct sb_security_entry *e)
{
    if (!sb_p_expect(p, SB_TOK_COLON, "after 'audit'"))
        return false;
    struct sb_ptrvec roles = {0}, offs = {0};
    do {
        size_t *off = sb_arena_alloc(p->arena, sizeof(*off));
        const char *role = sb_p_name(p, "a role name", off);
        if (!role)
            return false;
        sb_ptrvec_push(p->arena, &roles, (void *)role);
        sb_ptrvec_push(p->arena, &offs, off);
    } while (sb_p_accept(p, SB_TOK_COMMA));
    e->roles = (const char **)roles.items;
    e->n_roles = roles.len;
    e->role_offsets = sb_arena_alloc(p->arena, roles.len * sizeof(size_t));
    for (size_t i = 0; i < roles.len; i++)
        e->role_offsets[i] = *(size_t *)offs.items[i];
    return true;
}

void sb_p_security(struct parser *p)
{
    struct sb_security *sec = &p->model->security;
    const struct sb_token *kw = sb_p_next(p);
    if (sec->present) {
        sb_p_error(p, kw->offset, kw->length, "the spec already has a security block");
        sb_p_sync_line(p);
        return;
    }
    sec->present = true;
    sec->offset = kw->offset;
    if (!sb_p_expect(p, SB_TOK_LBRACE, "after 'security'"))
        return;
    struct sb_ptrvec entries = {0};
    while (!sb_p_is(p, SB_TOK_RBRACE) && !sb_p_is(p, SB_TOK_EOF)) {
        const struct sb_token *tok = sb_p_peek(p);
        struct sb_security_entry *e = sb_arena_alloc(p->arena, sizeof(*e));
        memset(e, 0, sizeof(*e));
        e->start = tok->offset;
        bool ok;
        if (sb_p_tok_is_word(p, tok, "limit")) {
            sb_p_next(p);
            e->kind = SB_SEC_LIMIT;
            ok = parse_limit(p, e);
        } else if (sb_p_tok_is_word(p, tok, "on")) {
            sb_p_next(p);
            e->kind = SB_SEC_ON;
            ok = parse_on(p, e);
        } else if (sb_p_tok_is_word(p, tok, "audit")) {
            sb_p_next(p);
            e->kind = SB_SEC_AUDIT;
            ok = parse_audit(p, e);
        } else {
            static const char *const words[] = {"limit", "on", "audit", NULL};
            sb_p_unknown_setting(p, "security", words, "'limit', 'on' or 'audit' in the security block");
            continue;
        }
        e->end = sb_p_prev_end(p);
        if (ok)
            sb_ptrvec_push(p->arena, &entries, e);
        sb_p_end_of_line(p);
    }
    sec->entries = sb_arena_alloc(p->arena, (entries.len ? entries.len : 1) * sizeof(*sec->entries));
    for (size_t i = 0; i < entries.len; i++)
        sec->entries[i] = *(struct sb_security_entry *)entries.items[i];
    sec->n_entries = entries.len;
    sec->body_end = sb_p_peek(p)->offset;
    sb_p_expect(p, SB_TOK_RBRACE, "to close the security block");
    sec->end = sb_p_prev_end(p);
}
