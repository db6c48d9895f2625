#!/usr/bin/env bash
# Rejects calls to banned C functions in src/ and tests/ (STYLE.md): those
# that write without a bound (strcpy, strcat, sprintf, vsprintf, gets), those
# that hide errors (atoi, atol, atoll, atof: use strtol/strtod and check) and
# those with surprising semantics (strncpy, strncat, strtok, strtok_r: hidden
# state or missing terminators). Prints file:line of each offender and exits
# 1 when there is any. A call is the name followed by '(' as a whole word, so
# snprintf, vsnprintf and sb_buf_printf pass.
set -euo pipefail
cd "$(dirname "$0")/.."

banned='strcpy|stpcpy|strcat|strncat|strncpy|sprintf|vsprintf|gets|strtok|strtok_r|atoi|atol|atoll|atof'
status=0
files=$(find src tests -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
if [[ -n $files ]]; then
    # shellcheck disable=SC2086 # file names from find, no spaces by convention
    if grep -nHE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" $files; then
        echo "lint: banned function(s) above; see STYLE.md" >&2
        status=1
    fi
fi
exit $status
