/* The spec's actions served at /rest/v1/rpc/<name> (docs/spec.md §12):
 * arguments validated against the parameters' types, the `allow` rule
 * checked for the caller, then every step compiled to SQL and run in one
 * transaction (a writer unit, or a read transaction on the worker's reader
 * connection for read-only actions). Answers in PostgREST's shapes. */
#ifndef SB_API_ACTIONS_H
#define SB_API_ACTIONS_H

#include "api/app.h"
#include "http/server.h"

/* Serve one call of the action called name (borrowed; the path after
 * "rpc/"). Fills resp, or defers it until the writer has committed the
 * call's unit. An unknown name is PostgREST's 404 PGRST202. */
void sb_actions_handle(struct sb_app *app, const char *name, struct sb_http_request *req,
                       struct sb_http_response *resp);

#endif
