/* The accounts endpoints under /auth/v1, the subset of GoTrue's API that
 * @supabase/supabase-js uses (signUp, signInWithPassword, refreshSession,
 * getUser, updateUser, signOut), and the identity of every request from its
 * Authorization / apikey header. See docs/auth.md. */
#ifndef SB_API_AUTH_H
#define SB_API_AUTH_H

#include "http/server.h"
#include "query/sql.h"

struct sb_app;

/* Keys, pools and the sessions schema; called by sb_app_init. Returns 0 or
 * -1 with a message in err. */
int sb_auth_init(struct sb_app *app, struct sb_buf *err);
void sb_auth_free(struct sb_app *app);

/* /auth/v1/<rest>: answers or defers the request. */
void sb_auth_handle(struct sb_app *app, const char *rest, struct sb_http_request *req,
                    struct sb_http_response *resp);

/* Who is calling: anonymous without a token (or with a key that is not a
 * JWT), the service role, or a signed-in account whose session is live.
 * Returns NULL with err set (401, PGRST30x) for a token that fails. */
const struct sb_identity *sb_auth_identity(struct sb_app *app, struct sb_http_request *req,
                                           struct sb_api_error *err);

/* An error in GoTrue's shape, {"code": status, "error_code": code, "msg":
 * msg}, which supabase-js's auth client reads; replaces any body. */
void sb_auth_error(struct sb_http_response *resp, int status, const char *code, const char *msg);

/* The anon and service keys: long-lived JWTs (role anon / service_role)
 * signed with the server's secret; text in out. */
int sb_auth_keys(struct sb_app *app, struct sb_buf *anon, struct sb_buf *service);

#endif
