/* Model lookups and the type tables' names (see model.h, type_list.h). */
#include "spec/model.h"

#include <string.h>

static const char *const keywords[] = {
#define SB_TYPE(name, kw, sqlite, pg) kw,
#include "spec/type_list.h"
#undef SB_TYPE
};
static const char *const sqlite_types[] = {
#define SB_TYPE(name, kw, sqlite, pg) sqlite,
#include "spec/type_list.h"
#undef SB_TYPE
};
static const char *const pg_types[] = {
#define SB_TYPE(name, kw, sqlite, pg) pg,
#include "spec/type_list.h"
#undef SB_TYPE
};

const char *sb_type_keyword(enum sb_type_kind kind)
{
    return kind < SB_TYPE__COUNT ? keywords[kind] : "?";
}

const char *sb_type_sqlite(enum sb_type_kind kind)
{
    return kind < SB_TYPE__COUNT ? sqlite_types[kind] : "?";
}

const char *sb_type_pg(enum sb_type_kind kind)
{
    return kind < SB_TYPE__COUNT ? pg_types[kind] : "?";
}

static size_t hash_name(const char *name)
{
    size_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

void *sb_name_index_put(struct sb_arena *arena, struct sb_name_index *index, size_t capacity,
                        const char *name, void *item)
{
    if (index->mask == 0) {
        size_t slots = 8;
        while (slots < capacity * 2)
            slots *= 2;
        index->names = sb_arena_alloc(arena, slots * sizeof(*index->names));
        index->items = sb_arena_alloc(arena, slots * sizeof(*index->items));
        index->mask = slots - 1;
    }
    for (size_t i = hash_name(name) & index->mask;; i = (i + 1) & index->mask) {
        if (!index->names[i]) {
            index->names[i] = name;
            index->items[i] = item;
            return NULL;
        }
        if (strcmp(index->names[i], name) == 0)
            return index->items[i];
    }
}

void *sb_name_index_get(const struct sb_name_index *index, const char *name)
{
    if (index->mask == 0)
        return NULL;
    for (size_t i = hash_name(name) & index->mask; index->names[i]; i = (i + 1) & index->mask)
        if (strcmp(index->names[i], name) == 0)
            return index->items[i];
    return NULL;
}

const struct sb_collection *sb_model_collection(const struct sb_model *model, const char *name)
{
    if (model->collection_index.mask)
        return sb_name_index_get(&model->collection_index, name);
    for (size_t i = 0; i < model->n_collections; i++)
        if (strcmp(model->collections[i]->name, name) == 0)
            return model->collections[i];
    return NULL;
}

const struct sb_field *sb_collection_field(const struct sb_collection *coll, const char *name)
{
    if (coll->field_index.mask)
        return sb_name_index_get(&coll->field_index, name);
    for (size_t i = 0; i < coll->n_fields; i++)
        if (strcmp(coll->fields[i]->name, name) == 0)
            return coll->fields[i];
    return NULL;
}

const struct sb_action *sb_model_action(const struct sb_model *model, const char *name)
{
    if (model->action_index.mask)
        return sb_name_index_get(&model->action_index, name);
    for (size_t i = 0; i < model->n_actions; i++)
        if (strcmp(model->actions[i]->name, name) == 0)
            return model->actions[i];
    return NULL;
}

const struct sb_security_entry *sb_security_limit(const struct sb_model *model, const char *scope)
{
    const struct sb_security *sec = &model->security;
    for (size_t i = 0; i < sec->n_entries; i++)
        if (sec->entries[i].kind == SB_SEC_LIMIT && sec->entries[i].name &&
            strcmp(sec->entries[i].name, scope) == 0)
            return &sec->entries[i];
    return NULL;
}

bool sb_security_audit_reader(const struct sb_model *model, const char *role)
{
    if (!role)
        return false;
    if (strcmp(role, "service") == 0)
        return true;
    const struct sb_security *sec = &model->security;
    for (size_t i = 0; i < sec->n_entries; i++)
        if (sec->entries[i].kind == SB_SEC_AUDIT)
            for (size_t j = 0; j < sec->entries[i].n_roles; j++)
                if (strcmp(sec->entries[i].roles[j], role) == 0 ||
                    (strcmp(sec->entries[i].roles[j], "authenticated") == 0 && strcmp(role, "anon") != 0))
                    return true;
    return false;
}
