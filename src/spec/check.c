/* Checker: turns a parsed model into a valid one or reports why not. It
 * resolves every name (collections, relation targets, index columns, rule
 * fields, action steps), adds the system fields, derives index names and
 * each collection's rule per operation, enforces the language's semantic
 * rules (reserved names, type constraints, auth requirements) and types
 * every expression through check_expr.c. Runs only on a model that parsed
 * without errors. After it succeeds the model is read-only. */
#include <stdio.h>
#include <string.h>

#include "guard/threat.h"
#include "spec/check_int.h"
#include "spec/spec.h"

/* Words a field may not be named: expression words, PostgREST query-string
 * parameters (a field named `order` could not be filtered), and collection
 * keywords. */
static const char *const reserved_field_words[] = {
    "and", "or", "not", "in", "true", "false", "null", "auth", "new", "old", "anyone",
    "authenticated", "select", "order", "limit", "offset", "on_conflict", "columns",
    "allow", "check", "index", "unique", NULL,
};
static const char *const system_fields[] = {"id", "created_at", "updated_at", NULL};

static bool in_list(const char *word, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(word, list[i]))
            return true;
    return false;
}

static bool reserved_prefix(const char *name)
{
    return strncmp(name, "_sb_", 4) == 0;
}

/* "unknown WHAT 'WORD'" at [offset, offset + length), with the nearest of
 * words (NULL-terminated) as a suggestion. */
static void unknown_word_at(struct checker *c, size_t offset, size_t length, const char *word,
                            const char *what, const char *const *words)
{
    const char *hint = sb_suggest(word, strlen(word), words);
    sb_diag_error(c->diags, offset, length, "unknown %s '%s'%s%s%s", what, word,
                  hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
}

static void unknown_word(struct checker *c, size_t offset, const char *word, const char *what,
                         const char *const *words)
{
    unknown_word_at(c, offset, strlen(word), word, what, words);
}

/* A reference to a collection the spec does not declare. */
static void unknown_collection(struct checker *c, size_t offset, size_t length, const char *name)
{
    const char **names = sb_arena_alloc(c->arena, (c->model->n_collections + 1) * sizeof(*names));
    for (size_t i = 0; i < c->model->n_collections; i++)
        names[i] = c->model->collections[i]->name;
    names[c->model->n_collections] = NULL;
    unknown_word_at(c, offset, length, name, "collection", names);
}

/* ---- types -------------------------------------------------------------- */

static void check_type(struct checker *c, struct sb_type *type, const char *owner_name, bool is_param)
{
    struct sb_diags *d = c->diags;
    if (type->kind == SB_TYPE_REF) {
        type->ref = sb_model_collection(c->model, type->ref_name);
        if (!type->ref)
            unknown_collection(c, type->offset, type->length, type->ref_name);
    }
    if (type->has_min && type->has_max) {
        bool bad = type->kind == SB_TYPE_FLOAT ? type->fmin > type->fmax : type->min > type->max;
        if (bad)
            sb_diag_error(d, type->offset, type->length, "the range's minimum is larger than its maximum");
    }
    if (type->kind == SB_TYPE_TEXT && type->has_min && type->min < 0)
        sb_diag_error(d, type->offset, type->length, "a text length cannot be negative");
    if (type->kind == SB_TYPE_ENUM) {
        for (size_t i = 0; i < type->n_enum_values; i++)
            for (size_t j = 0; j < i; j++)
                if (!strcmp(type->enum_values[i], type->enum_values[j]))
                    sb_diag_error(d, type->offset, type->length, "enum value '%s' is listed twice",
                                  type->enum_values[i]);
    }
    if (type->is_array) {
        if (type->kind == SB_TYPE_JSON || type->kind == SB_TYPE_PASSWORD || type->kind == SB_TYPE_REF) {
            sb_diag_error(d, type->offset, type->length,
                          "%s cannot be an array%s", type->kind == SB_TYPE_REF ? "a relation" : sb_type_keyword(type->kind),
                          type->kind == SB_TYPE_REF ? ": use a junction collection for many-to-many" :
                          type->kind == SB_TYPE_JSON ? ": a json value can already hold an array" : "");
        }
        if (type->arr_has_min && type->arr_min < 0)
            sb_diag_error(d, type->offset, type->length, "an array length cannot be negative");
        if (type->arr_has_min && type->arr_has_max && type->arr_min > type->arr_max)
            sb_diag_error(d, type->offset, type->length, "the array's minimum length is larger than its maximum");
    }
    if (is_param && type->kind == SB_TYPE_PASSWORD)
        sb_diag_error(d, type->offset, type->length, "parameter '%s' cannot be a password", owner_name);
}

/* ---- collections ---------------------------------------------------------- */

static struct sb_field *system_field(struct checker *c, const char *name, enum sb_type_kind kind,
                                     const struct sb_collection *coll)
{
    struct sb_field *f = sb_arena_alloc(c->arena, sizeof(*f));
    f->name = name;
    f->offset = coll->offset;
    f->type.kind = kind;
    f->flags = SB_FIELD_SYSTEM | SB_FIELD_REQUIRED | SB_FIELD_READONLY;
    if (!strcmp(name, "id"))
        f->flags |= SB_FIELD_UNIQUE;
    return f;
}

static void check_name(struct checker *c, const char *name, size_t offset, const char *what)
{
    if (reserved_prefix(name))
        sb_diag_error(c->diags, offset, strlen(name), "%s names starting with '_sb_' are reserved", what);
}

/* Add system fields and check field names; runs for all collections before
 * any expression is typed, so that relations and rules can see every field. */
static void layout_fields(struct checker *c, struct sb_collection *coll)
{
    size_t n_user = coll->n_fields;
    struct sb_field **user = coll->fields;
    if (n_user > SB_SPEC_MAX_FIELDS)
        sb_diag_error(c->diags, coll->offset, coll->length, "collection '%s' has %zu fields; the limit is %d",
                      coll->name, n_user, SB_SPEC_MAX_FIELDS);
    struct sb_field **all = sb_arena_alloc(c->arena, (n_user + 3) * sizeof(*all));
    size_t n = 0;
    all[n++] = system_field(c, "id", SB_TYPE_INT, coll);
    for (size_t i = 0; i < n_user; i++) {
        struct sb_field *f = user[i];
        if (in_list(f->name, system_fields)) {
            sb_diag_error(c->diags, f->offset, f->length,
                          "'%s' is a system field: every collection has id, created_at and updated_at",
                          f->name);
            continue;
        }
        if (in_list(f->name, reserved_field_words)) {
            sb_diag_error(c->diags, f->offset, f->length,
                          "'%s' is a reserved word and cannot name a field", f->name);
            continue;
        }
        check_name(c, f->name, f->offset, "field");
        bool dup = false;
        for (size_t j = 1; j < n; j++)
            if (!strcmp(all[j]->name, f->name)) {
                size_t line, col;
                sb_source_position(c->diags->source, all[j]->offset, &line, &col);
                sb_diag_error(c->diags, f->offset, f->length,
                              "field '%s' is declared twice in '%s' (first on line %zu)", f->name,
                              coll->name, line);
                dup = true;
            }
        if (!dup)
            all[n++] = f;
    }
    all[n++] = system_field(c, "created_at", SB_TYPE_TIMESTAMP, coll);
    all[n++] = system_field(c, "updated_at", SB_TYPE_TIMESTAMP, coll);
    for (size_t i = 0; i < n; i++) {
        all[i]->owner = coll;
        all[i]->index = i;
        sb_name_index_put(c->arena, &coll->field_index, n, all[i]->name, all[i]);
    }
    coll->fields = all;
    coll->n_fields = n;
}

static void check_field(struct checker *c, struct sb_collection *coll, struct sb_field *f)
{
    struct sb_diags *d = c->diags;
    if (f->flags & SB_FIELD_SYSTEM)
        return;
    check_type(c, &f->type, f->name, false);
    const char *tname = sb_type_keyword(f->type.kind);
    if (f->on_delete_written && f->type.kind != SB_TYPE_REF)
        sb_diag_error(d, f->offset, f->length, "'on delete' is only for relations (-> collection)");
    if (f->on_delete == SB_ON_DELETE_SET_NULL && (f->flags & SB_FIELD_REQUIRED))
        sb_diag_error(d, f->offset, f->length,
                      "'%s' is required, so deleting its target cannot set it to null; use cascade or restrict",
                      f->name);
    if ((f->flags & SB_FIELD_SEARCHABLE) && (f->type.kind != SB_TYPE_TEXT || f->type.is_array))
        sb_diag_error(d, f->offset, f->length, "only text fields can be searchable (this is %s%s)", tname,
                      f->type.is_array ? "[]" : "");
    if ((f->flags & SB_FIELD_UNIQUE) &&
        (f->type.kind == SB_TYPE_PASSWORD || f->type.kind == SB_TYPE_JSON || f->type.is_array))
        sb_diag_error(d, f->offset, f->length, "%s field cannot be unique",
                      f->type.is_array ? "an array" : f->type.kind == SB_TYPE_JSON ? "a json" : "a password");
    if (f->type.kind == SB_TYPE_PASSWORD && (f->flags & SB_FIELD_HIDDEN))
        sb_diag_error(d, f->offset, f->length, "password fields are never returned; 'hidden' is implied");
    if (f->default_expr && f->default_expr->kind == SB_EXPR_NAME && f->type.kind == SB_TYPE_ENUM) {
        sb_diag_error(d, f->default_expr->offset, f->default_expr->length,
                      "enum values are written as strings here: default \"%s\"", f->default_expr->name);
    } else if (f->default_expr) {
        struct scope s = {.kind = SCOPE_DEFAULT, .what = "a default"};
        sb_check_expr(c, f->default_expr, &s);
        if (f->type.kind == SB_TYPE_PASSWORD)
            sb_diag_error(d, f->default_expr->offset, f->default_expr->length,
                          "a password cannot have a default");
        else
            sb_check_assignable(c, &f->type, f->flags & SB_FIELD_REQUIRED, f->default_expr,
                                sb_arena_printf(c->arena, "field '%s'", f->name));
    }
    if (f->check) {
        struct scope s = {.kind = SCOPE_CHECK, .what = "a check", .coll = coll};
        sb_check_condition(c, f->check, &s, "a check");
    }
}

static const char *index_name(struct checker *c, const struct sb_collection *coll, const struct sb_index *index)
{
    struct sb_buf b;
    sb_buf_init(&b);
    sb_buf_puts(&b, coll->name);
    for (size_t i = 0; i < index->n_columns; i++)
        sb_buf_printf(&b, "_%s", index->column_names[i]);
    sb_buf_puts(&b, index->unique ? "_key" : "_idx");
    const char *name;
    if (b.len > SB_SPEC_MAX_NAME) {
        /* keep names within PostgreSQL's limit, unique by a hash of the full name */
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < b.len; i++)
            h = (h ^ (unsigned char)b.data[i]) * 16777619u;
        name = sb_arena_printf(c->arena, "%.*s_%08x%s", SB_SPEC_MAX_NAME - 13, b.data, h,
                               index->unique ? "_key" : "_idx");
    } else {
        name = sb_arena_strdup(c->arena, sb_buf_str(&b));
    }
    sb_buf_free(&b);
    return name;
}

static const struct sb_field *resolve_field(struct checker *c, const struct sb_collection *coll,
                                            const char *name, size_t offset)
{
    const struct sb_field *f = sb_collection_field(coll, name);
    if (!f) {
        const char *hint = sb_suggest(name, strlen(name), sb_check_field_names(c, coll));
        if (hint)
            sb_diag_error(c->diags, offset, strlen(name), "unknown field '%s'; did you mean '%s'?", name, hint);
        else
            sb_diag_error(c->diags, offset, strlen(name), "'%s' has no field '%s'", coll->name, name);
    }
    return f;
}

static void check_index(struct checker *c, struct sb_collection *coll, struct sb_index *index, size_t pos)
{
    index->columns = sb_arena_alloc(c->arena, index->n_columns * sizeof(*index->columns));
    bool ok = true;
    for (size_t i = 0; i < index->n_columns; i++) {
        const struct sb_field *f = resolve_field(c, coll, index->column_names[i], index->column_offsets[i]);
        index->columns[i] = f;
        if (!f) {
            ok = false;
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (index->columns[j] == f) {
                sb_diag_error(c->diags, index->column_offsets[i], strlen(f->name),
                              "field '%s' is listed twice in the index", f->name);
                ok = false;
            }
        if (f->type.kind == SB_TYPE_PASSWORD || f->type.kind == SB_TYPE_JSON || f->type.is_array) {
            sb_diag_error(c->diags, index->column_offsets[i], strlen(f->name),
                          "%s field cannot be indexed",
                          f->type.is_array ? "an array" : f->type.kind == SB_TYPE_JSON ? "a json" : "a password");
            ok = false;
        }
    }
    if (!ok)
        return;
    index->name = index_name(c, coll, index);
    for (size_t k = 0; k < pos; k++) {
        const struct sb_index *other = coll->indexes[k];
        if (other->name && other->unique == index->unique && other->n_columns == index->n_columns &&
            !memcmp(other->columns, index->columns, index->n_columns * sizeof(*index->columns)))
            sb_diag_error(c->diags, index->offset, index->end - index->offset, "this index is declared twice");
    }
}

static const char *op_name(unsigned op)
{
    switch (op) {
    case SB_RULE_READ: return "read";
    case SB_RULE_CREATE: return "create";
    case SB_RULE_UPDATE: return "update";
    case SB_RULE_DELETE: return "delete";
    default: return "write";
    }
}

static void check_rule(struct checker *c, struct sb_collection *coll, struct sb_rule *rule)
{
    struct scope s = {.kind = SCOPE_RULE, .what = "a rule", .coll = coll};
    if (rule->n_fields) {
        rule->fields = sb_arena_alloc(c->arena, rule->n_fields * sizeof(*rule->fields));
        for (size_t i = 0; i < rule->n_fields; i++) {
            struct sb_field *f = (struct sb_field *)resolve_field(c, coll, rule->field_names[i], rule->field_offsets[i]);
            rule->fields[i] = f;
            if (!f)
                continue;
            size_t len = strlen(f->name);
            if (rule->ops == SB_RULE_READ) {
                if (f->type.kind == SB_TYPE_PASSWORD)
                    sb_diag_error(c->diags, rule->field_offsets[i], len, "password fields are never readable");
                else if (f->flags & SB_FIELD_HIDDEN)
                    sb_diag_error(c->diags, rule->field_offsets[i], len, "'%s' is hidden: it is never returned", f->name);
                else if (f->read_rule)
                    sb_diag_error(c->diags, rule->field_offsets[i], len, "'%s' already has a read rule; combine them with 'or'", f->name);
                else
                    f->read_rule = rule;
            } else {
                if (f->flags & SB_FIELD_SYSTEM)
                    sb_diag_error(c->diags, rule->field_offsets[i], len, "system field '%s' is never written by clients", f->name);
                else if (f->flags & SB_FIELD_READONLY)
                    sb_diag_error(c->diags, rule->field_offsets[i], len, "'%s' is readonly: clients never write it", f->name);
                else if (f->write_rule)
                    sb_diag_error(c->diags, rule->field_offsets[i], len, "'%s' already has a write rule; combine them with 'or'", f->name);
                else
                    f->write_rule = rule;
            }
        }
        s.allow_new = rule->ops == SB_RULE_WRITE;
    } else {
        static const unsigned ops[] = {SB_RULE_READ, SB_RULE_CREATE, SB_RULE_UPDATE, SB_RULE_DELETE};
        const struct sb_rule **slots[] = {&coll->read_rule, &coll->create_rule, &coll->update_rule, &coll->delete_rule};
        for (size_t i = 0; i < 4; i++) {
            if (!(rule->ops & ops[i]))
                continue;
            if (*slots[i]) {
                size_t line, col;
                sb_source_position(c->diags->source, (*slots[i])->offset, &line, &col);
                sb_diag_error(c->diags, rule->offset, 5,
                              "'%s' of '%s' already has a rule (line %zu); combine the conditions with 'or'",
                              op_name(ops[i]), coll->name, line);
            } else {
                *slots[i] = rule;
            }
        }
        s.allow_new = !(rule->ops & (SB_RULE_READ | SB_RULE_DELETE));
        s.allow_old = rule->ops == SB_RULE_UPDATE;
    }
    sb_check_condition(c, rule->expr, &s, "a rule");
}

static void check_collection(struct checker *c, struct sb_collection *coll)
{
    for (size_t i = 0; i < coll->n_fields; i++)
        check_field(c, coll, coll->fields[i]);
    for (size_t i = 0; i < coll->n_indexes; i++)
        check_index(c, coll, coll->indexes[i], i);
    for (size_t i = 0; i < coll->n_checks; i++) {
        struct scope s = {.kind = SCOPE_CHECK, .what = "a check", .coll = coll};
        sb_check_condition(c, coll->checks[i]->expr, &s, "a check");
    }
    for (size_t i = 0; i < coll->n_rules; i++)
        check_rule(c, coll, coll->rules[i]);
}

/* ---- auth ----------------------------------------------------------------- */

static void check_auth(struct checker *c)
{
    struct sb_auth *auth = &c->model->auth;
    struct sb_ptrvec roles = {0};
    for (size_t i = 0; i < auth->n_roles; i++) {
        const char *role = auth->roles[i];
        if (!strcmp(role, "anon") || !strcmp(role, "authenticated") || !strcmp(role, "service"))
            sb_diag_error(c->diags, auth->role_offsets[i], strlen(role),
                          "'%s' is a built-in role; declare only your own roles", role);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(role, auth->roles[j]))
                sb_diag_error(c->diags, auth->role_offsets[i], strlen(role), "role '%s' is listed twice", role);
        sb_ptrvec_push(c->arena, &roles, (void *)role);
    }
    sb_ptrvec_push(c->arena, &roles, "anon");
    sb_ptrvec_push(c->arena, &roles, "authenticated");
    sb_ptrvec_push(c->arena, &roles, NULL);
    c->role_names = (const char **)roles.items;
    if (!auth->present)
        return;
    if (!auth->users_name) {
        sb_diag_error(c->diags, auth->offset, 4, "the auth block needs 'users: COLLECTION', the collection of accounts");
        return;
    }
    struct sb_collection *users = (struct sb_collection *)sb_model_collection(c->model, auth->users_name);
    if (!users) {
        unknown_collection(c, auth->users_offset, strlen(auth->users_name), auth->users_name);
        return;
    }
    auth->users = users;
    users->is_users = true;
    c->users = users;
}

/* ---- security ------------------------------------------------------------- */

#define SECURITY_MAX_RATE 1000000      /* requests per unit */
#define SECURITY_MAX_BURST 10000000
#define SECURITY_MAX_DURATION (30 * 86400)

/* Whether an entry before e sets the same thing (the same limit, the same
 * event kind, or the audit readers). */
static bool given_before(const struct checker *c, const struct sb_security_entry *e)
{
    for (const struct sb_security_entry *o = c->model->security.entries; o < e; o++)
        if (o->kind == e->kind && (e->kind == SB_SEC_AUDIT || !strcmp(o->name, e->name)))
            return true;
    return false;
}

static void check_limit(struct checker *c, const struct sb_security_entry *e)
{
    static const char *const scopes[] = {"address", "user", "auth", NULL};
    if (!in_list(e->name, scopes)) {
        unknown_word(c, e->name_offset, e->name, "limit", scopes);
        return;
    }
    if (given_before(c, e)) {
        sb_diag_error(c->diags, e->name_offset, strlen(e->name), "limit '%s' is given twice", e->name);
        return;
    }
    if (e->count < 1 || e->count > SECURITY_MAX_RATE)
        sb_diag_error(c->diags, e->name_offset, e->end - e->name_offset,
                      "a rate is 1 to %d requests per unit; got %lld", SECURITY_MAX_RATE, (long long)e->count);
    if (e->burst_offset && (e->burst < 1 || e->burst > SECURITY_MAX_BURST))
        sb_diag_error(c->diags, e->burst_offset, e->end - e->burst_offset,
                      "a burst is 1 to %d requests; got %lld", SECURITY_MAX_BURST, (long long)e->burst);
}

static void check_on(struct checker *c, const struct sb_security_entry *e)
{
    const char *kinds[SB_THREAT_N_KINDS + 1];
    for (int k = 0; k < SB_THREAT_N_KINDS; k++)
        kinds[k] = sb_threat_kind_name(k);
    kinds[SB_THREAT_N_KINDS] = NULL;
    static const char *const actions[] = {"log", "throttle", "ban", NULL};
    if (sb_threat_kind_parse(e->name) < 0) {
        unknown_word(c, e->name_offset, e->name, "event kind", kinds);
        return;
    }
    if (given_before(c, e)) {
        sb_diag_error(c->diags, e->name_offset, strlen(e->name), "'on %s' is given twice", e->name);
        return;
    }
    if (!in_list(e->action, actions)) {
        sb_diag_error(c->diags, e->action_offset, strlen(e->action),
                      "unknown action '%s': log, throttle or ban", e->action);
        return;
    }
    if (!e->duration_offset)
        return;
    if (!strcmp(e->action, "log"))
        sb_diag_error(c->diags, e->duration_offset, e->end - e->duration_offset,
                      "'log' takes no duration; 'throttle' and 'ban' do");
    else if (e->duration_n < 1 || e->duration_n > SECURITY_MAX_DURATION / e->duration_unit_s)
        sb_diag_error(c->diags, e->duration_offset, e->end - e->duration_offset,
                      "a %s lasts 1 second to 30 days", e->action);
}

static void check_audit_readers(struct checker *c, const struct sb_security_entry *e)
{
    if (given_before(c, e)) {
        sb_diag_error(c->diags, e->start, 5, "'audit' is given twice; list every role on one line");
        return;
    }
    for (size_t i = 0; i < e->n_roles; i++) {
        const char *role = e->roles[i];
        size_t off = e->role_offsets[i];
        if (!strcmp(role, "anon"))
            sb_diag_error(c->diags, off, strlen(role), "anonymous callers may not read the audit trail");
        else if (!strcmp(role, "service"))
            sb_diag_error(c->diags, off, strlen(role), "the service key may always read the audit trail; "
                                                      "list only the other roles that may");
        else if (!in_list(role, c->role_names))
            sb_diag_error(c->diags, off, strlen(role), "role '%s' is not declared in the auth block's roles",
                          role);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(role, e->roles[j]))
                sb_diag_error(c->diags, off, strlen(role), "role '%s' is listed twice", role);
    }
}

/* Names, ranges and repeats of the security block; after check_auth (the
 * roles). */
static void check_security(struct checker *c)
{
    const struct sb_security *sec = &c->model->security;
    for (size_t i = 0; i < sec->n_entries; i++) {
        const struct sb_security_entry *e = &sec->entries[i];
        switch (e->kind) {
        case SB_SEC_LIMIT: check_limit(c, e); break;
        case SB_SEC_ON: check_on(c, e); break;
        case SB_SEC_AUDIT: check_audit_readers(c, e); break;
        }
    }
}

/* The users collection's required fields; run after fields are laid out. */
static void check_users_fields(struct checker *c)
{
    const struct sb_collection *users = c->users;
    if (!users)
        return;
    const struct sb_field *email = sb_collection_field(users, "email");
    const struct sb_field *password = sb_collection_field(users, "password");
    const struct sb_field *role = sb_collection_field(users, "role");
    if (!email || email->type.kind != SB_TYPE_EMAIL || email->type.is_array)
        sb_diag_error(c->diags, users->offset, users->length,
                      "'%s' holds accounts, so it needs a field 'email email required unique'", users->name);
    else if ((email->flags & (SB_FIELD_REQUIRED | SB_FIELD_UNIQUE)) != (SB_FIELD_REQUIRED | SB_FIELD_UNIQUE))
        sb_diag_error(c->diags, email->offset, email->length,
                      "the accounts' email must be 'required unique'");
    if (!password || password->type.kind != SB_TYPE_PASSWORD)
        sb_diag_error(c->diags, users->offset, users->length,
                      "'%s' holds accounts, so it needs a field 'password password'", users->name);
    if (role) {
        if (role->type.kind != SB_TYPE_ENUM || role->type.is_array) {
            sb_diag_error(c->diags, role->offset, role->length,
                          "the accounts' role must be an enum of the declared roles");
        } else {
            for (size_t i = 0; i < role->type.n_enum_values; i++) {
                const char *v = role->type.enum_values[i];
                bool found = false;
                for (size_t j = 0; j < c->model->auth.n_roles; j++)
                    found |= !strcmp(v, c->model->auth.roles[j]);
                if (!found)
                    sb_diag_error(c->diags, role->type.offset, role->type.length,
                                  "role '%s' is not declared in the auth block's roles", v);
            }
        }
    }
}

/* ---- actions --------------------------------------------------------------- */

static void check_step(struct checker *c, struct sb_action *action, size_t index)
{
    struct sb_step *step = &action->steps[index];
    struct scope s = {.kind = SCOPE_ACTION, .what = "an action", .action = action, .n_steps_visible = index};
    if (step->bind_name) {
        for (size_t i = 0; i < action->n_params; i++)
            if (!strcmp(action->params[i].name, step->bind_name))
                sb_diag_error(c->diags, step->bind_offset, strlen(step->bind_name),
                              "'%s' is already a parameter", step->bind_name);
        for (size_t i = 0; i < index; i++)
            if (action->steps[i].bind_name && !strcmp(action->steps[i].bind_name, step->bind_name))
                sb_diag_error(c->diags, step->bind_offset, strlen(step->bind_name),
                              "'%s' is already bound by an earlier step", step->bind_name);
    }
    if (step->kind == SB_STEP_REQUIRE) {
        sb_check_condition(c, step->expr, &s, "'require'");
        return;
    }
    if (step->kind == SB_STEP_RETURN) {
        sb_check_expr(c, step->expr, &s);
        if (index + 1 < action->n_steps)
            sb_diag_error(c->diags, action->steps[index + 1].offset, 1, "this step comes after 'return' and never runs");
        return;
    }
    const struct sb_collection *coll = sb_model_collection(c->model, step->coll_name);
    if (!coll) {
        unknown_collection(c, step->coll_offset, strlen(step->coll_name), step->coll_name);
        return;
    }
    step->coll = coll;
    if (step->kind == SB_STEP_CREATE) {
        /* values are computed before the row exists: no bare fields */
        for (size_t i = 0; i < step->n_assigns; i++)
            sb_check_expr(c, step->assigns[i].value, &s);
    } else {
        s.coll = coll;
        if (step->where)
            sb_check_condition(c, step->where, &s, "'where'");
        for (size_t i = 0; i < step->n_assigns; i++)
            sb_check_expr(c, step->assigns[i].value, &s);
    }
    for (size_t i = 0; i < step->n_assigns; i++) {
        struct sb_assign *a = &step->assigns[i];
        const struct sb_field *f = resolve_field(c, coll, a->name, a->offset);
        a->field = f;
        if (!f)
            continue;
        for (size_t j = 0; j < i; j++)
            if (step->assigns[j].field == f)
                sb_diag_error(c->diags, a->offset, strlen(a->name), "'%s' is set twice", a->name);
        if (f->flags & SB_FIELD_SYSTEM) {
            sb_diag_error(c->diags, a->offset, strlen(a->name), "system field '%s' is set by the server", a->name);
            continue;
        }
        if (f->type.kind == SB_TYPE_PASSWORD) {
            sb_diag_error(c->diags, a->offset, strlen(a->name),
                          "password field '%s' is set through the accounts API (/auth/v1), not by an action",
                          a->name);
            continue;
        }
        sb_check_assignable(c, &f->type, f->flags & SB_FIELD_REQUIRED, a->value,
                            sb_arena_printf(c->arena, "field '%s'", f->name));
    }
    if (step->kind == SB_STEP_CREATE) {
        for (size_t i = 0; i < coll->n_fields; i++) {
            const struct sb_field *f = coll->fields[i];
            if (!(f->flags & SB_FIELD_REQUIRED) || (f->flags & SB_FIELD_SYSTEM) || f->default_expr)
                continue;
            bool given = false;
            for (size_t j = 0; j < step->n_assigns; j++)
                given |= step->assigns[j].field == f;
            if (!given)
                sb_diag_error(c->diags, step->coll_offset, strlen(step->coll_name),
                              "create %s: required field '%s' has no value", coll->name, f->name);
        }
    }
}

static void check_action(struct checker *c, struct sb_action *action)
{
    check_name(c, action->name, action->offset, "action");
    for (size_t i = 0; i < action->n_params; i++) {
        struct sb_param *param = &action->params[i];
        check_type(c, &param->type, param->name, true);
        /* the same words as fields: read-only actions take their parameters
         * from the query string, beside select, order, limit and offset */
        if (in_list(param->name, reserved_field_words))
            sb_diag_error(c->diags, param->offset, param->length, "'%s' is a reserved word and cannot name a parameter",
                          param->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(action->params[j].name, param->name))
                sb_diag_error(c->diags, param->offset, param->length, "parameter '%s' is declared twice", param->name);
        if (param->default_expr) {
            struct scope s = {.kind = SCOPE_DEFAULT, .what = "a default"};
            sb_check_expr(c, param->default_expr, &s);
            sb_check_assignable(c, &param->type, true, param->default_expr,
                                sb_arena_printf(c->arena, "parameter '%s'", param->name));
        }
    }
    if (action->allow) {
        struct scope s = {.kind = SCOPE_ACTION, .what = "an action's allow rule", .action = action};
        sb_check_condition(c, action->allow, &s, "'allow'");
    }
    action->read_only = true;
    for (size_t i = 0; i < action->n_steps; i++) {
        check_step(c, action, i);
        enum sb_step_kind k = action->steps[i].kind;
        if (k == SB_STEP_CREATE || k == SB_STEP_UPDATE || k == SB_STEP_DELETE)
            action->read_only = false;
    }
    if (action->n_steps == 0)
        sb_diag_error(c->diags, action->offset, action->length, "action '%s' has no steps", action->name);
}

/* ---- the whole spec ---------------------------------------------------------- */

int sb_spec_check(struct sb_model *model, struct sb_diags *diags)
{
    size_t errors_before = diags->n_errors;
    struct checker c = {.model = model, .arena = &model->arena, .diags = diags};
    if (model->app_name)
        check_name(&c, model->app_name, model->app_offset, "app");
    if (model->n_collections > SB_SPEC_MAX_COLLECTIONS)
        sb_diag_error(diags, model->collections[SB_SPEC_MAX_COLLECTIONS]->offset, 1,
                      "the spec has %zu collections; the limit is %d", model->n_collections,
                      SB_SPEC_MAX_COLLECTIONS);
    /* names first: duplicates and reserved words */
    for (size_t i = 0; i < model->n_collections; i++) {
        struct sb_collection *coll = model->collections[i];
        coll->index = i;
        check_name(&c, coll->name, coll->offset, "collection");
        if (!strcmp(coll->name, "rpc"))
            sb_diag_error(diags, coll->offset, coll->length,
                          "'rpc' cannot name a collection: /rest/v1/rpc/ is where actions are served");
        const struct sb_collection *first =
            sb_name_index_put(c.arena, &model->collection_index, model->n_collections, coll->name, coll);
        if (first) {
            size_t line, col;
            sb_source_position(diags->source, first->offset, &line, &col);
            sb_diag_error(diags, coll->offset, coll->length,
                          "collection '%s' is declared twice (first on line %zu)", coll->name, line);
        }
    }
    for (size_t i = 0; i < model->n_actions; i++) {
        struct sb_action *action = model->actions[i];
        action->index = i;
        if (sb_name_index_put(c.arena, &model->action_index, model->n_actions, action->name, action))
            sb_diag_error(diags, action->offset, action->length, "action '%s' is declared twice",
                          action->name);
    }
    for (size_t i = 0; i < model->n_collections; i++)
        layout_fields(&c, model->collections[i]);
    check_auth(&c);
    check_security(&c);
    check_users_fields(&c);
    for (size_t i = 0; i < model->n_collections; i++)
        check_collection(&c, model->collections[i]);
    for (size_t i = 0; i < model->n_actions; i++)
        check_action(&c, model->actions[i]);
    return diags->n_errors > errors_before ? -1 : 0;
}
