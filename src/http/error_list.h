/* The errors the HTTP layer answers by itself, one line each:
 *   SB_HTTP_ERROR(id, status, "code", "message", "hint" or NULL)
 * Codes SB0xx are the HTTP layer's group (specbase's own codes, in the
 * style of PostgREST's PGRSTxxx); where PostgREST has a code for the same
 * thing, its code is used. docs/http.md lists them; keep the two in step. */
/* clang-format off */
SB_HTTP_ERROR(BAD_TARGET,     400, "SB001", "Malformed request target",
              "Percent-encode the path: %XX with two hex digits, no %00")
SB_HTTP_ERROR(BAD_HEADER,     400, "SB002", "Malformed request header", NULL)
SB_HTTP_ERROR(BAD_METHOD,     405, "PGRST117", "Unsupported HTTP method",
              "Use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS")
SB_HTTP_ERROR(HEADER_TIMEOUT, 408, "SB003", "Request headers not received in time", NULL)
SB_HTTP_ERROR(BODY_TIMEOUT,   408, "SB004", "Request body not received in time", NULL)
SB_HTTP_ERROR(BODY_TOO_LARGE, 413, "SB005", "Request body too large",
              "Send fewer rows per request")
SB_HTTP_ERROR(URL_TOO_LONG,   414, "SB006", "URL too long",
              "Shorten the query string, e.g. fewer columns in select= or values in in.()")
SB_HTTP_ERROR(HEADERS_TOO_LARGE, 431, "SB007", "Request header fields too large", NULL)
SB_HTTP_ERROR(TOO_MANY_HEADERS,  431, "SB008", "Too many request header fields", NULL)
SB_HTTP_ERROR(TOO_MANY_CONNS,    503, "SB009", "Too many connections",
              "Retry later, or reuse connections (keep-alive)")
SB_HTTP_ERROR(TOO_MANY_CONNS_IP, 503, "SB010", "Too many connections from this address",
              "Retry later, or reuse connections (keep-alive)")
SB_HTTP_ERROR(SHUTTING_DOWN,     503, "SB011", "Server is shutting down", "Retry the request")
/* clang-format on */
