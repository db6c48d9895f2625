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

const struct sb_collection *sb_model_collection(const struct sb_model *model, const char *name)
{
    for (size_t i = 0; i < model->n_collections; i++)
        if (strcmp(model->collections[i]->name, name) == 0)
            return model->collections[i];
    return NULL;
}

const struct sb_field *sb_collection_field(const struct sb_collection *coll, const char *name)
{
    for (size_t i = 0; i < coll->n_fields; i++)
        if (strcmp(coll->fields[i]->name, name) == 0)
            return coll->fields[i];
    return NULL;
}

const struct sb_action *sb_model_action(const struct sb_model *model, const char *name)
{
    for (size_t i = 0; i < model->n_actions; i++)
        if (strcmp(model->actions[i]->name, name) == 0)
            return model->actions[i];
    return NULL;
}
