#!/usr/bin/env bash
# The audit trail's overhead on durable single-row inserts: the same writer
# and insert with and without an audit entry (hash-chained, appended in the
# insert's transaction, as the API writes it), 1 and 64 concurrent writers,
# in one run. HTTP is left out, so the overhead shown is the most a client
# could see; the target is under 15%.
#
# Usage: bench/audit.sh [SECONDS] [WRITERS...]   (default 3 s; 1 64)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
shift || true
if [ $# -eq 0 ]; then
    set -- 1 64
fi
exec bench/writes.sh --audit "$seconds" "$@"
