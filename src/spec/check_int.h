/* Internal to the checker: shared by check.c (declarations) and
 * check_expr.c (expression typing). */
#ifndef SB_CHECK_INT_H
#define SB_CHECK_INT_H

#include <stdbool.h>

#include "spec/model.h"
#include "util/diag.h"

struct checker {
    struct sb_model *model;
    struct sb_arena *arena;
    struct sb_diags *diags;
    const struct sb_collection *users;
    const char **role_names; /* declared roles + anon + authenticated, NULL-terminated */
};

/* Where an expression appears: decides which names it may use. */
enum scope_kind { SCOPE_DEFAULT, SCOPE_CHECK, SCOPE_RULE, SCOPE_ACTION };

struct scope {
    enum scope_kind kind;
    const char *what;                   /* "a check", "a rule", ... for messages */
    const struct sb_collection *coll;   /* bare names are its fields (or NULL) */
    bool allow_new, allow_old;          /* rules: new.f / old.f */
    const struct sb_action *action;     /* parameters and bindings */
    size_t n_steps_visible;             /* bindings of steps [0, n) */
};

/* Type e under scope s, setting e->vtype and the resolution fields. */
void sb_check_expr(struct checker *c, struct sb_expr *e, const struct scope *s);
/* Require a condition (bool) after typing; reports what it got instead. */
void sb_check_condition(struct checker *c, struct sb_expr *e, const struct scope *s,
                        const char *what);
/* The value type of a declared type (field, parameter); owner_for_id is
 * the collection whose system id this is (else NULL). */
struct sb_vtype sb_vtype_of(const struct sb_type *type, bool nullable,
                            const struct sb_collection *owner_for_id);
/* Check that a typed expression may be stored in a value of declared type
 * `type` (defaults, create values, set values, parameter defaults). */
void sb_check_assignable(struct checker *c, const struct sb_type *type, bool required,
                         const struct sb_expr *e, const char *target);
/* "int", "text", "id of user", ... for messages (static or arena string). */
const char *sb_vtype_name(struct checker *c, const struct sb_vtype *t);
/* NULL-terminated candidate list for suggestions. */
const char **sb_check_field_names(struct checker *c, const struct sb_collection *coll);

#endif
