/* The field types of the spec language, one line each:
 *   X(ENUM_NAME, "spec keyword", "SQLite column type", "PostgreSQL column type")
 * The SQL types are the storage mapping documented in docs/spec.md; the DDL
 * generator and the docs both read them from here. */
SB_TYPE(TEXT,      "text",      "TEXT",    "text")
SB_TYPE(INT,       "int",       "INTEGER", "bigint")
SB_TYPE(FLOAT,     "float",     "REAL",    "double precision")
SB_TYPE(DECIMAL,   "decimal",   "TEXT",    "numeric")
SB_TYPE(BOOL,      "bool",      "INTEGER", "boolean")
SB_TYPE(TIMESTAMP, "timestamp", "TEXT",    "timestamptz")
SB_TYPE(DATE,      "date",      "TEXT",    "date")
SB_TYPE(UUID,      "uuid",      "TEXT",    "uuid")
SB_TYPE(EMAIL,     "email",     "TEXT",    "text")
SB_TYPE(URL,       "url",       "TEXT",    "text")
SB_TYPE(ENUM,      "enum",      "TEXT",    "text")
SB_TYPE(JSON,      "json",      "TEXT",    "jsonb")
SB_TYPE(PASSWORD,  "password",  "TEXT",    "text")
SB_TYPE(REF,       "->",        "INTEGER", "bigint")
