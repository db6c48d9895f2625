#!/usr/bin/env bash
# Durable single-row inserts per second through the writer, with 1, 8 and 64
# concurrent writers: group commit against one transaction per insert, in the
# same run (bench/writes.c). Builds the library first if needed.
#
# Usage: bench/writes.sh [--audit [--rounds N]] [SECONDS] [WRITERS...]   (default 2 s; 1 8 64)
# --audit: group commit without and with an audit entry per insert instead
# (the audit trail's overhead on the write path; bench/audit.sh), N rounds
# in alternating order with medians. --audit-cpu [ROUNDS] [UNITS]: the
# entry's CPU cost on the writer alone (bench/writes.c).
# The databases go in a scratch directory under build/ (on the project's
# disk, so fsync costs what it costs there; tmpfs would make it free).
set -euo pipefail
cd "$(dirname "$0")/.."
audit=()
cpu=
if [ "${1:-}" = --audit-cpu ]; then
    cpu=1
    shift
elif [ "${1:-}" = --audit ]; then
    audit=(--audit)
    shift
    if [ "${1:-}" = --rounds ]; then
        audit+=(--rounds "$2")
        shift 2
    fi
fi
if [ -z "$cpu" ]; then
    seconds=${1:-2}
    shift || true
fi

make -s build/libspecbase.a
mkdir -p build/bench
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Isrc \
    $(pkg-config --cflags sqlite3 libsodium) bench/writes.c build/libspecbase.a \
    $(pkg-config --libs sqlite3 libsodium jansson libcrypto) -lpthread -o build/bench/writes
dir=$(mktemp -d build/bench/writes.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores; database directory on $(df -T "$dir" | awk 'NR==2 {print $2}')"
if [ -n "$cpu" ]; then
    exec build/bench/writes --audit-cpu "$dir" "$@"
fi
build/bench/writes "${audit[@]}" "$dir" "$seconds" "$@"
