/* Internal to the OpenAPI generator: openapi.c builds the document and its
 * operations, openapi_schema.c the JSON Schemas (2020-12, as OpenAPI 3.1
 * uses them) of fields, rows, bodies, action arguments and results.
 * Every function returns a new jansson reference owned by the caller. */
#ifndef SB_API_OPENAPI_INT_H
#define SB_API_OPENAPI_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "spec/model.h"

/* Where a schema is used: a row as returned, or a create or update body. */
enum sb_openapi_use { SB_OPENAPI_READ, SB_OPENAPI_INSERT, SB_OPENAPI_UPDATE };

/* "#/components/schemas/" + name. */
json_t *sb_openapi_ref(const char *section, const char *name);

/* The schema of a value of type (borrowed): its JSON type, bounds, format,
 * enum values and array items; "null" is allowed when nullable. */
json_t *sb_openapi_type_schema(const struct sb_type *type, bool nullable, enum sb_openapi_use use);

/* The schema of one field of a row or body: the type's schema with the
 * field's description, readOnly / writeOnly, default and the x-pii,
 * x-unique and x-relation extensions. */
json_t *sb_openapi_field_schema(const struct sb_model *model, const struct sb_field *field,
                                enum sb_openapi_use use);

/* The object schema of a collection's rows (READ), create bodies (INSERT,
 * with required) or update bodies (UPDATE, every field optional). */
json_t *sb_openapi_collection_schema(const struct sb_model *model, const struct sb_collection *coll,
                                     enum sb_openapi_use use);

/* The object schema of an action's arguments. */
json_t *sb_openapi_args_schema(const struct sb_action *action);

/* The schema of an action's result: the value of its return expression. */
json_t *sb_openapi_result_schema(const struct sb_expr *expr);

/* The error body {code, message, details, hint, errors[]}. */
json_t *sb_openapi_error_schema(void);

/* The JSON value of a constant default (sb_surface_default_is_const). */
json_t *sb_openapi_const_value(const struct sb_expr *expr);

#endif
