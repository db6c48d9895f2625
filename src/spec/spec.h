/* The spec front end's entry points: source text -> parsed model -> checked
 * model. The stages live in lexer.c, parser.c and check.c; fmt.c and json.c
 * print a model back as canonical spec text or canonical JSON. */
#ifndef SB_SPEC_H
#define SB_SPEC_H

#include <stddef.h>

#include "spec/model.h"
#include "util/buf.h"
#include "util/diag.h"

/* Parse source (borrowed; must outlive the model) into a new model, owned by
 * the caller (sb_model_free). Never returns NULL: on syntax errors the model
 * holds what could be parsed and diags has the errors. Checks the source's
 * size, NUL bytes and UTF-8 validity first. */
struct sb_model *sb_spec_parse(const char *name, const char *text, size_t len,
                               struct sb_diags *diags);

/* Resolve names and types of a parsed model in place, adding the system
 * fields. Returns 0 when the model is valid, -1 when diags has errors. */
int sb_spec_check(struct sb_model *model, struct sb_diags *diags);

void sb_model_free(struct sb_model *model);

/* Read a whole file into *text (owned, NUL-terminated, caller frees), refusing
 * files over SB_SPEC_MAX_BYTES. On failure returns -1 with a one-line message
 * in err. path "-" reads standard input. */
int sb_spec_read_file(const char *path, char **text, size_t *len, struct sb_buf *err);

/* Read, parse and check a file. On success returns 0 and *out (owned) with
 * *text_out holding the source (owned; free after the model). On failure
 * returns -1 with the rendered diagnostics (or the read error) in err. */
int sb_spec_load(const char *path, struct sb_model **out, char **text_out, struct sb_buf *err);

/* Canonical spec text of a parsed model (comments kept). */
void sb_spec_format(const struct sb_model *model, struct sb_buf *out);

/* Canonical JSON of a checked model: stable key order, 2-space indent,
 * trailing newline. */
void sb_spec_to_json(const struct sb_model *model, struct sb_buf *out);

#endif
