#!/usr/bin/env bash
# Front-end benchmark (`make bench`): generates specs of 10, 100, 1000 and
# 5000 collections (bench/gen-spec.sh) into build/bench/ and times
# `specbase check` on each, best of RUNS runs (default 15), whole process
# included. Prints collections, bytes, ms and µs per collection, then checks
# the targets: the 1000-collection spec parses and checks in under 50 ms, and
# the cost per added collection does not grow with the size of the spec
# (from 1000 to 5000 at most twice what it is from 100 to 1000). Exits 1 when
# a target is missed. Usage: bench/spec.sh [BINARY]   (default build/specbase)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/specbase}
runs=${RUNS:-15}
sizes=(10 100 1000 5000)
out=build/bench
mkdir -p "$out"

# microseconds now; bash's clock needs no fork, which would add noise
now_us() {
    local t=${EPOCHREALTIME:-}
    if [[ -n $t ]]; then echo "${t/[.,]/}"; else echo $(($(date +%s%N) / 1000)); fi
}

declare -A best
printf '%11s %10s %9s %13s\n' collections bytes ms "µs/coll"
for n in "${sizes[@]}"; do
    spec=$out/spec-$n.spec
    bench/gen-spec.sh "$n" >"$spec"
    if ! "$bin" check "$spec" >/dev/null 2>"$out/check-$n.err"; then
        echo "bench: $bin check $spec failed:" >&2
        head -n 20 "$out/check-$n.err" >&2
        exit 1
    fi
    min=
    for ((i = 0; i < runs; i++)); do
        start=$(now_us)
        "$bin" check "$spec" >/dev/null 2>&1
        end=$(now_us)
        elapsed=$((end - start))
        if [[ -z $min ]] || ((elapsed < min)); then min=$elapsed; fi
    done
    best[$n]=$min
    awk -v n="$n" -v b="$(wc -c <"$spec")" -v us="$min" \
        'BEGIN { printf "%11d %10d %9.2f %12.1f\n", n, b, us / 1000, us / n }'
done

status=0
t1000=${best[1000]}
if ((t1000 < 50000)); then
    echo "ok   1000 collections in $(awk -v u="$t1000" 'BEGIN { printf "%.2f", u / 1000 }') ms (target < 50 ms)"
else
    echo "FAIL 1000 collections in $(awk -v u="$t1000" 'BEGIN { printf "%.2f", u / 1000 }') ms (target < 50 ms)"
    status=1
fi
# marginal cost per collection, small range versus large range
read -r small large ratio < <(awk -v a="${best[100]}" -v b="${best[1000]}" -v c="${best[5000]}" \
    'BEGIN { s = (b - a) / 900; l = (c - b) / 4000; if (s <= 0) s = 0.001;
             printf "%.2f %.2f %.2f\n", s, l, l / s }')
if awk -v r="$ratio" 'BEGIN { exit !(r <= 2.0) }'; then
    echo "ok   linear: $small µs per collection from 100 to 1000, $large from 1000 to 5000"
else
    echo "FAIL not linear: $small µs per collection from 100 to 1000, $large from 1000 to 5000"
    status=1
fi
exit $status
