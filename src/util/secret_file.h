/* A private file holding one secret line (the JWT secret, the audit trail's
 * pii key): read it when it exists, else create it with a fresh random
 * secret, mode 0600, O_EXCL (two processes starting at once agree on one
 * file), synced with its directory. A file that group or others may access
 * is refused, the secret possibly leaked. Buffers that held secret text are
 * wiped. */
#ifndef SB_UTIL_SECRET_FILE_H
#define SB_UTIL_SECRET_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Fill text[0..cap) with a new secret's text (printable, no white space)
 * and return its length (<= cap). */
typedef size_t (*sb_secret_make_fn)(char *text, size_t cap);

/* The secret text of path, trailing white space removed, into
 * text[0..cap); *len is its length. A file longer than cap bytes gives
 * cap bytes (the caller's length check refuses it: pass a cap above the
 * longest valid secret). When the file is missing, make writes a new
 * secret, which is stored and returned, with *created true (created may
 * be NULL). what names the file in messages ("JWT secret file").
 * nofollow: refuse a symbolic link. Returns 0, or -1 with a message in
 * err. */
int sb_secret_file(const char *what, const char *path, bool nofollow, sb_secret_make_fn make,
                   char *text, size_t cap, size_t *len, bool *created, struct sb_buf *err);

#endif
