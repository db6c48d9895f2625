/* The spec model: what a spec file says, as parsed (parser.c) and then
 * resolved and type-checked in place (check.c). After a successful check the
 * model is immutable and every consumer (fmt, JSON dump, DDL, validation,
 * rules, actions, OpenAPI) reads it through const pointers. Everything lives
 * in the model's arena; strings are NUL-terminated arena copies.
 *
 * Offsets are byte offsets into the source text, kept for diagnostics and for
 * the formatter (which re-attaches comments by position). */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

/* Hard limits of the front end; documented in docs/spec.md. */
#define SB_SPEC_MAX_BYTES       (4u * 1024 * 1024) /* source size */
#define SB_SPEC_MAX_DEPTH       64                 /* expression nesting */
#define SB_SPEC_MAX_NAME        63                 /* identifier length (PostgreSQL's) */
#define SB_SPEC_MAX_FIELDS      500                /* fields per collection */
#define SB_SPEC_MAX_COLLECTIONS 10000
#define SB_SPEC_MAX_STRING      65536              /* string literal, decoded bytes */

/* A name -> item hash index (open addressing, in the model's arena), built
 * by the checker so that lookups stay O(1) on specs of thousands of
 * collections. */
struct sb_name_index {
    const char **names; /* slot -> name, NULL when empty */
    void **items;
    size_t mask;        /* slots - 1 (a power of two); 0 when not built */
};

enum sb_type_kind {
#define SB_TYPE(name, kw, sqlite, pg) SB_TYPE_##name,
#include "spec/type_list.h"
#undef SB_TYPE
    SB_TYPE__COUNT
};

/* Keyword, SQLite and PostgreSQL names of a type kind (static strings). */
const char *sb_type_keyword(enum sb_type_kind kind);
const char *sb_type_sqlite(enum sb_type_kind kind);
const char *sb_type_pg(enum sb_type_kind kind);

enum sb_on_delete { SB_ON_DELETE_RESTRICT, SB_ON_DELETE_CASCADE, SB_ON_DELETE_SET_NULL };

struct sb_collection;

/* A declared type: the field type or an action parameter type. */
struct sb_type {
    enum sb_type_kind kind;
    size_t offset, length;
    /* text: length in characters; int: value; float: value (fmin/fmax) */
    bool has_min, has_max;
    int64_t min, max;
    double fmin, fmax;
    const char *min_text, *max_text; /* float bounds as written */
    int precision, scale;            /* decimal(p,s) */
    const char **enum_values;        /* enum: in declared order */
    size_t n_enum_values;
    const char *ref_name;                /* relation: target collection name */
    const struct sb_collection *ref;     /* resolved by the checker */
    /* arrays: TYPE[] or TYPE[min..max] (element count) */
    bool is_array;
    bool arr_has_min, arr_has_max;
    int64_t arr_min, arr_max;
};

/* ---- expressions -------------------------------------------------------- */

enum sb_expr_kind {
    SB_EXPR_INT,     /* ival */
    SB_EXPR_FLOAT,   /* fval, text = literal as written */
    SB_EXPR_STRING,  /* text (decoded), text_len */
    SB_EXPR_BOOL,    /* bval */
    SB_EXPR_NULL,
    SB_EXPR_ANYONE,        /* rule atom: always true */
    SB_EXPR_AUTHENTICATED, /* rule atom: the caller is signed in */
    SB_EXPR_NAME,    /* name: a field, parameter or binding */
    SB_EXPR_MEMBER,  /* left.name: auth.id, new.price, order.id */
    SB_EXPR_UNARY,   /* op left */
    SB_EXPR_BINARY,  /* left op right */
    SB_EXPR_CALL,    /* name(args) */
    SB_EXPR_LIST,    /* [args] */
    SB_EXPR_OBJECT,  /* { keys[i]: args[i] }, only in `return` */
};

enum sb_op {
    SB_OP_NONE,
    SB_OP_OR, SB_OP_AND, SB_OP_NOT,
    SB_OP_EQ, SB_OP_NE, SB_OP_LT, SB_OP_LE, SB_OP_GT, SB_OP_GE,
    SB_OP_IN, SB_OP_NOT_IN,
    SB_OP_ADD, SB_OP_SUB, SB_OP_MUL, SB_OP_DIV, SB_OP_MOD,
    SB_OP_NEG,
};

/* What a name in an expression resolved to (set by the checker). */
enum sb_ref_kind {
    SB_REF_NONE,
    SB_REF_FIELD,         /* field of the row in context (field) */
    SB_REF_OLD_FIELD,     /* old.field in an update rule */
    SB_REF_NEW_FIELD,     /* new.field in a create/update rule */
    SB_REF_PARAM,         /* action parameter (param) */
    SB_REF_BINDING,       /* a `let` step's result (step) */
    SB_REF_BINDING_FIELD, /* binding.field (step, field) */
    SB_REF_AUTH_ID,
    SB_REF_AUTH_ROLE,
    SB_REF_AUTH_EMAIL,
    SB_REF_FUNCTION,      /* the callee of a CALL (func) */
};

/* Value types of expressions, derived by the checker. */
enum sb_vkind {
    SB_V_ERROR,     /* already reported; suppresses follow-on errors */
    SB_V_NULL,
    SB_V_BOOL, SB_V_INT, SB_V_FLOAT, SB_V_DECIMAL,
    SB_V_TEXT,      /* text, email, url, uuid, password */
    SB_V_ENUM,      /* enum_type says which values */
    SB_V_TIMESTAMP, SB_V_DATE,
    SB_V_JSON,
    SB_V_ID,        /* id of coll (system id or relation) */
    SB_V_LIST,      /* elem gives the element kind */
    SB_V_ROW,       /* one row of coll */
    SB_V_ROWS,      /* rows of coll */
    SB_V_OBJECT,
};

enum sb_func {
    SB_FUNC_NONE, SB_FUNC_NOW, SB_FUNC_TODAY, SB_FUNC_LOWER, SB_FUNC_UPPER,
    SB_FUNC_LEN, SB_FUNC_ABS, SB_FUNC_COALESCE,
};

struct sb_vtype {
    enum sb_vkind kind;
    enum sb_vkind elem;                    /* for SB_V_LIST */
    const struct sb_collection *coll;      /* for ID, ROW, ROWS */
    const struct sb_type *enum_type;       /* for ENUM (and LIST of ENUM) */
    bool nullable;
};

struct sb_field;
struct sb_param;
struct sb_step;

struct sb_expr {
    enum sb_expr_kind kind;
    enum sb_op op;
    size_t offset, length; /* whole expression */
    int64_t ival;
    double fval;
    bool bval;
    const char *text;      /* STRING (decoded), FLOAT (as written) */
    size_t text_len;
    const char *name;      /* NAME, MEMBER (the member), CALL (the function) */
    size_t name_offset;    /* where name appears */
    struct sb_expr *left, *right;
    struct sb_expr **args; /* CALL, LIST, OBJECT values */
    const char **keys;     /* OBJECT keys */
    size_t n_args;
    bool parens;           /* written inside parentheses (for fmt only) */
    /* resolved by the checker */
    struct sb_vtype vtype;
    enum sb_ref_kind ref;
    enum sb_func func;
    const struct sb_field *field;
    const struct sb_param *param;
    const struct sb_step *step;
};

/* ---- collections --------------------------------------------------------- */

enum sb_field_flag {
    SB_FIELD_REQUIRED   = 1u << 0,
    SB_FIELD_UNIQUE     = 1u << 1,
    SB_FIELD_PII        = 1u << 2,
    SB_FIELD_READONLY   = 1u << 3, /* set by the server only */
    SB_FIELD_HIDDEN     = 1u << 4, /* never returned */
    SB_FIELD_SEARCHABLE = 1u << 5, /* full-text indexed */
    SB_FIELD_SYSTEM     = 1u << 6, /* id, created_at, updated_at */
};

struct sb_rule;

struct sb_field {
    const char *name;
    size_t offset, length;     /* the name (the declaration starts there) */
    size_t end;                /* end of the field's declaration */
    struct sb_type type;
    unsigned flags;
    struct sb_expr *default_expr;
    struct sb_expr *check;
    enum sb_on_delete on_delete;
    bool on_delete_written;
    const struct sb_collection *owner;   /* set by the checker */
    size_t index;                        /* position in owner->fields */
    /* field rules (checker): NULL means the collection's rules decide */
    const struct sb_rule *read_rule;
    const struct sb_rule *write_rule;
};

/* Operations a rule covers. Field rules use READ and WRITE only. */
enum sb_rule_op {
    SB_RULE_READ   = 1u << 0,
    SB_RULE_CREATE = 1u << 1,
    SB_RULE_UPDATE = 1u << 2,
    SB_RULE_DELETE = 1u << 3,
    SB_RULE_WRITE  = 1u << 4, /* field rules: create or update of the field */
};

struct sb_rule {
    unsigned ops;
    const char **field_names;  /* non-empty: a field rule */
    size_t n_fields;
    size_t *field_offsets;
    const struct sb_field **fields; /* resolved */
    struct sb_expr *expr;
    size_t offset, end;
};

struct sb_index {
    bool unique;
    const char **column_names;
    size_t *column_offsets;
    size_t n_columns;
    const struct sb_field **columns; /* resolved */
    const char *name;                /* derived: <collection>_<cols>_idx|_key */
    size_t offset, end;
};

struct sb_check {
    struct sb_expr *expr;
    size_t offset, end;
};

enum sb_member_kind { SB_MEMBER_FIELD, SB_MEMBER_INDEX, SB_MEMBER_RULE, SB_MEMBER_CHECK };

/* One line of a collection body, in source order (for the formatter). */
struct sb_member {
    enum sb_member_kind kind;
    void *item; /* struct sb_field / sb_index / sb_rule / sb_check */
};

struct sb_collection {
    const char *name;
    size_t start;               /* the `collection` keyword */
    size_t offset, length, end; /* name span; end = after '}' */
    size_t body_end;            /* offset of the closing '}' */
    struct sb_member *members;  /* source order */
    size_t n_members;
    /* after check: id, user fields in order, created_at, updated_at */
    struct sb_field **fields;
    size_t n_fields;
    struct sb_index **indexes;
    size_t n_indexes;
    struct sb_rule **rules;
    size_t n_rules;
    struct sb_check **checks;
    size_t n_checks;
    /* resolved: the rule for each operation, NULL = deny */
    const struct sb_rule *read_rule, *create_rule, *update_rule, *delete_rule;
    bool is_users;   /* the auth block's users collection */
    size_t index;    /* position in model->collections */
    struct sb_name_index field_index; /* built by the checker */
};

/* ---- actions ------------------------------------------------------------- */

struct sb_param {
    const char *name;
    size_t offset, length;
    struct sb_type type;
    struct sb_expr *default_expr; /* NULL: required */
};

enum sb_step_kind {
    SB_STEP_REQUIRE, /* require expr else status "message" */
    SB_STEP_CREATE,  /* create coll { assigns } */
    SB_STEP_UPDATE,  /* update coll where expr set assigns [else ...] */
    SB_STEP_DELETE,  /* delete coll where expr [else ...] */
    SB_STEP_GET,     /* get coll where expr [else ...]: one row */
    SB_STEP_LIST,    /* list coll [where expr]: rows */
    SB_STEP_RETURN,  /* return expr */
};

struct sb_assign {
    const char *name;
    size_t offset;
    const struct sb_field *field; /* resolved */
    struct sb_expr *value;
};

struct sb_step {
    enum sb_step_kind kind;
    size_t offset, end;
    const char *bind_name;   /* let NAME = ... (NULL if none) */
    size_t bind_offset;
    const char *coll_name;
    size_t coll_offset;
    const struct sb_collection *coll; /* resolved */
    struct sb_expr *where;   /* UPDATE, DELETE, GET, LIST */
    struct sb_expr *expr;    /* REQUIRE condition, RETURN value */
    struct sb_assign *assigns;
    size_t n_assigns;
    bool has_else;
    int status;              /* else STATUS */
    size_t status_offset;
    const char *message;     /* else "message" */
};

struct sb_action {
    const char *name;
    size_t start;               /* the `action` keyword */
    size_t offset, length, end, body_end; /* name span; end = after '}' */
    struct sb_param *params;
    size_t n_params;
    struct sb_expr *allow;   /* NULL: only the service key may call it */
    size_t allow_offset;
    struct sb_step *steps;
    size_t n_steps;
    bool read_only;          /* derived: no create/update/delete step */
    size_t index;
};

/* ---- the whole spec -------------------------------------------------------- */

struct sb_auth {
    bool present;
    size_t offset, end, body_end; /* `auth` keyword; after '}'; the '}' */
    const char *users_name;
    size_t users_start;           /* the `users` keyword (0 when absent) */
    size_t users_offset;          /* the collection name */
    size_t roles_start;           /* the `roles` keyword (0 when absent) */
    const struct sb_collection *users; /* resolved */
    const char **roles;
    size_t *role_offsets;
    size_t n_roles;
};

/* The security block (docs/spec.md §13): rate limits, the threat policy
 * and who may read the audit trail. Entries are kept in source order (for
 * fmt); the checker validates names and values. */
enum sb_security_kind {
    SB_SEC_LIMIT, /* limit SCOPE: N/UNIT [burst B] */
    SB_SEC_ON,    /* on EVENT: log | throttle [DURATION] | ban [DURATION] */
    SB_SEC_AUDIT, /* audit: ROLE, ... */
};

struct sb_security_entry {
    enum sb_security_kind kind;
    size_t start, end;       /* the entry's first token; after its last */
    const char *name;        /* LIMIT: the scope; ON: the event kind (NULL after an error) */
    size_t name_offset;
    int64_t count;           /* LIMIT: requests per unit */
    int64_t per_s;           /* LIMIT: the unit in seconds (1, 60, 3600, 86400) */
    int64_t burst;           /* LIMIT: 0 when not given */
    size_t burst_offset;
    const char *action;      /* ON: "log", "throttle" or "ban" (as written; checked) */
    size_t action_offset;
    int64_t duration_n;      /* ON: 0 when not given */
    int64_t duration_unit_s; /* ON: 1, 60, 3600 or 86400 */
    size_t duration_offset;
    const char **roles;      /* AUDIT */
    size_t *role_offsets;
    size_t n_roles;
};

struct sb_security {
    bool present;
    size_t offset, end, body_end; /* `security` keyword; after '}'; the '}' */
    struct sb_security_entry *entries;
    size_t n_entries;
};

enum sb_item_kind { SB_ITEM_APP, SB_ITEM_AUTH, SB_ITEM_SECURITY, SB_ITEM_COLLECTION, SB_ITEM_ACTION };

struct sb_item {
    enum sb_item_kind kind;
    void *item; /* NULL for APP, AUTH and SECURITY; the collection or action otherwise */
};

struct sb_comment {
    size_t offset, length; /* from '#' to end of line, excluding the newline */
};

struct sb_model {
    struct sb_arena arena;  /* owns everything below */
    const char *source_name;
    const char *source;     /* borrowed from the caller, kept for fmt */
    size_t source_len;
    const char *app_name;
    size_t app_start;       /* the `app` keyword */
    size_t app_offset;      /* the name */
    struct sb_auth auth;
    struct sb_security security;
    struct sb_collection **collections;
    size_t n_collections;
    struct sb_action **actions;
    size_t n_actions;
    struct sb_item *items;   /* top-level declarations in source order */
    size_t n_items;
    struct sb_comment *comments;
    size_t n_comments;
    struct sb_name_index collection_index; /* built by the checker */
    struct sb_name_index action_index;
};

/* Build index over names[i] -> items[i] (n entries). Returns the item of an
 * earlier entry with the same name when there is one (and does not replace
 * it), else NULL; so building also finds duplicates. */
void *sb_name_index_put(struct sb_arena *arena, struct sb_name_index *index, size_t capacity,
                        const char *name, void *item);
void *sb_name_index_get(const struct sb_name_index *index, const char *name);

/* The security block's limit for scope ("address", "user", "auth"), or
 * NULL. */
const struct sb_security_entry *sb_security_limit(const struct sb_model *model, const char *scope);

/* May role read the audit trail through the API (service always may)? */
bool sb_security_audit_reader(const struct sb_model *model, const char *role);

/* Lookups by name (NULL when absent). */
const struct sb_collection *sb_model_collection(const struct sb_model *model, const char *name);
const struct sb_field *sb_collection_field(const struct sb_collection *coll, const char *name);
const struct sb_action *sb_model_action(const struct sb_model *model, const char *name);

#endif
