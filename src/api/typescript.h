/* TypeScript types of a spec's REST API, printed by `specbase gen ts`: the
 * `Database` type that @supabase/supabase-js and @supabase/postgrest-js take
 * as their generic (createClient<Database>(url, key)), in the shape of
 * `supabase gen types typescript`, with its helper types (Tables,
 * TablesInsert, TablesUpdate, Enums) and Constants. */
#ifndef SB_API_TYPESCRIPT_H
#define SB_API_TYPESCRIPT_H

#include "spec/model.h"
#include "util/buf.h"

/* Append the TypeScript module of model (borrowed, checked) to out.
 *
 * public.Tables has one entry per collection: Row (the fields a row
 * returns; hidden and password fields are not there), Insert and Update
 * (the fields a body may set, passwords and hidden fields included; system
 * and readonly fields are not) and Relationships (one per relation field,
 * named <collection>_<field>_fkey). int, float, decimal and relations are
 * number; text, email, url, uuid, date and timestamp string; bool boolean;
 * json Json; an enum field refers to public.Enums["<collection>_<field>"];
 * arrays are T[]. A field that is not required is `| null`; an Insert key is
 * optional (`?:`) when the field is not required or has a default.
 * public.Functions has one entry per action: Args and the type of its
 * return value (undefined when it returns nothing). */
void sb_typescript_database(const struct sb_model *model, struct sb_buf *out);

#endif
