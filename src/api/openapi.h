/* The API's description of itself: an OpenAPI 3.1 document generated from
 * a checked model, served at GET /rest/v1/ and printed by `specbase
 * openapi`. The same model always gives the same bytes (keys in a fixed
 * order, 2-space indent, one trailing newline).
 *
 * Shape: for each collection the path
 * /<collection> with get, head, post, patch and delete and PostgREST's query
 * parameters; for each action /rpc/<action> with post (and get when the
 * action is read-only); components.schemas holds <collection> (a row as
 * returned), <collection>Insert and <collection>Update (request bodies),
 * <action>Args and Error; the security schemes apikey and bearer apply to
 * every operation. */
#ifndef SB_API_OPENAPI_H
#define SB_API_OPENAPI_H

#include "spec/model.h"
#include "util/buf.h"

/* The server URL written in the document's servers list. */
#define SB_OPENAPI_SERVER_URL "/rest/v1"

struct sb_openapi_opts {
    /* servers[0].url (borrowed); NULL: SB_OPENAPI_SERVER_URL */
    const char *server_url;
    /* info.version (borrowed); NULL: "spec-" and 16 hex digits of a hash of
     * the canonical spec text, so the version changes exactly when the spec
     * (comments included, which become descriptions) does */
    const char *version;
};

/* Append the OpenAPI document of model (borrowed, checked) to out. opts may
 * be NULL (the defaults above). */
void sb_openapi_document(const struct sb_model *model, const struct sb_openapi_opts *opts,
                         struct sb_buf *out);

/* The document as GET /rest/v1/ serves it, with server_url (borrowed; NULL:
 * SB_OPENAPI_SERVER_URL) and the default version. Served as
 * application/openapi+json (PostgREST's media type). Returns 0. */
int sb_openapi_render(const struct sb_model *model, const char *server_url, struct sb_buf *out);

#endif
