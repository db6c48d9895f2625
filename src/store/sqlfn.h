/* SQL functions that give SQLite the PostgreSQL operators PostgREST filters
 * need and SQLite lacks. The query compiler (query/sql.c) calls them by name
 * with bound operands:
 *
 *   match / imatch     sb_regexp(pattern, text) / sb_iregexp(pattern, text)
 *   like / ilike       sb_like(pattern, text)   / sb_ilike(pattern, text)
 *   cs (a @> b)        sb_json_contains(a, b)
 *   cd (a <@ b)        sb_json_contains(b, a)
 *   ov (a && b)        sb_json_overlaps(a, b)
 *
 * and two that write rows' JSON text (sb_json_build, sb_json_array, below).
 * Every function but these two takes two arguments, returns 1 or 0 and
 * returns NULL when an argument is NULL; all are registered
 * SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS | SQLITE_UTF8. A bad operand
 * (invalid pattern or JSON, a limit passed) is an SQL error whose message
 * is meant for the client: the caller answers 400 with it.
 *
 * sb_regexp, sb_iregexp: POSIX extended regular expressions (regcomp with
 *   REG_EXTENDED | REG_NOSUB, plus REG_ICASE for the i-variant), matched
 *   anywhere in the text like PostgreSQL's ~ and ~*. They run in the C.UTF-8
 *   locale when the system has it ('.' is one code point, REG_ICASE folds
 *   Unicode letters), otherwise in the C locale (bytes, ASCII folding).
 *   Refused: patterns over SB_SQLFN_REGEX_MAX_PATTERN bytes or containing a
 *   NUL byte, back-references \1..\9, bounded repetitions whose expansion
 *   passes SB_SQLFN_REGEX_MAX_WEIGHT, texts over SB_SQLFN_REGEX_MAX_TEXT bytes
 *   (a text with a NUL byte is matched up to it). The compiled pattern is
 *   cached for the statement (sqlite3_set_auxdata), and the search is one
 *   forward pass over the text rather than one attempt per start position.
 *
 * sb_like, sb_ilike: PostgreSQL LIKE / ILIKE over the whole text: '%' any
 *   run, '_' one code point, '\' makes the next character literal; a pattern
 *   ending with a lone '\' is an error. Greedy matching with one backtrack
 *   point, O(len(text) * len(pattern)) at worst; a match that would take
 *   more than SB_SQLFN_LIKE_MAX_STEPS steps is refused. sb_ilike compares
 *   code points after simple lower-casing of: ASCII, Latin-1, Latin
 *   Extended-A and -B (below U+0250), Greek and Coptic, Cyrillic and its
 *   supplement (U+0370..U+052F), Armenian, Georgian capitals, Latin Extended
 *   Additional (U+1E00..U+1EFF), Greek Extended, Roman numerals, circled
 *   letters, Glagolitic and the fullwidth Latin capitals. Other characters
 *   compare exactly. Bytes that are not valid UTF-8 count as one character
 *   each and equal only themselves.
 *
 * sb_json_contains(a, b): PostgreSQL's jsonb a @> b on JSON texts: an object
 *   contains an object when every key of b is in a with a contained value
 *   (recursively); an array contains an array when every element of b is
 *   contained in some element of a (a scalar equal to a scalar element, a
 *   container in a container element of the same kind); scalars contain an
 *   equal scalar; and at the top level only, an array contains a scalar
 *   equal to one of its elements. Numbers compare by value (1 = 1.0 = 1e0),
 *   exactly between integers and exactly between an integer and a double;
 *   integers beyond 64 bits are read as doubles.
 * sb_json_overlaps(a, b): both JSON arrays; 1 when some element of a equals
 *   some element of b (deep equality, numbers by value). As for PostgreSQL
 *   arrays, null elements equal nothing. A non-array operand is an error.
 *   Both JSON functions refuse texts over SB_SQLFN_JSON_MAX_TEXT bytes,
 *   nesting deeper than SB_SQLFN_JSON_MAX_DEPTH, and comparisons costing
 *   more than SB_SQLFN_JSON_MAX_STEPS steps; a parsed constant operand is
 *   cached for the statement.
 *
 * sb_json_build(kinds, a1, a2, ...): the concatenation of a1, a2, ... as
 *   one text, the way the query compiler writes a row's JSON object in one
 *   call instead of a chain of || (each of which copies the text so far).
 *   kinds has one letter per argument: 'v' writes the argument as
 *   json_quote() would (null, an integer, a real as SQLite prints it, an
 *   escaped string; a BLOB is an error), 'j' writes it as it is (JSON text
 *   or punctuation; NULL is written null). A kinds text of another length
 *   is an error; the result is bounded by SQLITE_LIMIT_LENGTH. Unlike the
 *   other functions it takes any number of arguments, up to SQLite's
 *   SQLITE_MAX_FUNCTION_ARG.
 * sb_json_array(j): an aggregate, the JSON array of its rows' JSON texts in
 *   the order they come ('[' || group_concat(j, ',') || ']' in one buffer;
 *   NULL is written null): [] for no rows, bounded by SQLITE_LIMIT_LENGTH. */
#ifndef SB_STORE_SQLFN_H
#define SB_STORE_SQLFN_H

#include <sqlite3.h>

#define SB_SQLFN_REGEX_MAX_PATTERN 512         /* bytes */
#define SB_SQLFN_REGEX_MAX_WEIGHT  4096        /* pattern atoms after repetition {m,n} */
#define SB_SQLFN_REGEX_MAX_TEXT    (1u << 20)  /* bytes */
#define SB_SQLFN_LIKE_MAX_STEPS    (1u << 27)  /* character comparisons in one match */
#define SB_SQLFN_JSON_MAX_TEXT     (1u << 20)  /* bytes of each operand */
#define SB_SQLFN_JSON_MAX_DEPTH    32          /* nested arrays and objects */
#define SB_SQLFN_JSON_MAX_STEPS    10000000    /* value comparisons in one call */

/* Register the functions on every connection opened after this call (an
 * SQLite auto-extension). Idempotent and thread-safe; call it once at
 * startup before opening databases. Returns 0, or -1 when SQLite refused. */
int sb_sqlfn_install(void);

/* Register the functions on db (borrowed). Returns 0, or -1 with db's error
 * set by SQLite. */
int sb_sqlfn_register(sqlite3 *db);

#endif
