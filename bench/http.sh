#!/usr/bin/env bash
# The HTTP layer alone: wrk against the echo server's fixed 200-byte JSON
# answer (BUILD_DIR/tests/http_echo, `make tests`) on loopback, 32
# connections for DURATION seconds (default 10), once without and once with
# the access log (to /dev/null). Prints requests/s, latency p50/p99, and the
# server's CPU time per request (utime+stime from /proc/PID/stat before and
# after). When nginx is installed, the same for nginx serving the same bytes
# as a static file, as the ceiling. wrk is installed (Debian package) when
# missing. Client and server share the machine's cores.
# Usage: bench/http.sh [BUILD_DIR] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
duration=${2:-10}
echo_bin=$build/tests/http_echo
connections=32
wrk_threads=2

if ! command -v wrk >/dev/null; then
    sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk >/dev/null
fi
[[ -x $echo_bin ]] || { echo "bench/http.sh: no $echo_bin (run make tests)" >&2; exit 1; }

tick=$(getconf CLK_TCK)
work=$(mktemp -d)
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# CPU ticks (utime + stime) of a process, all threads
proc_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
cpu_ticks() { proc_ticks "$1"; }

# run NAME PID URL: wrk, then one result line
run() {
    local name=$1 pid=$2 url=$3 before after out rps reqs p50 p99 us
    wrk -t"$wrk_threads" -c"$connections" -d1s "$url" >/dev/null # warm up
    before=$(cpu_ticks "$pid")
    out=$(wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency "$url")
    after=$(cpu_ticks "$pid")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "bench/http.sh: $name answered errors:" >&2
        echo "$out" >&2
    fi
    us=$(awk -v t="$((after - before))" -v hz="$tick" -v n="$reqs" \
        'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
    printf '%-26s %9s req/s   p50 %-8s p99 %-8s server CPU %5s us/request\n' \
        "$name" "$rps" "$p50" "$p99" "$us"
}

# start_echo [FLAGS...]: sets server_pid and port
start_echo() {
    "$echo_bin" --port 0 "$@" >"$work/port" 2>/dev/null &
    server_pid=$!
    for _ in $(seq 100); do
        [[ -s $work/port ]] && break
        sleep 0.05
    done
    port=$(head -n 1 "$work/port")
    : >"$work/port"
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

echo "http_echo GET /bench (200-byte JSON), $connections connections, ${duration}s, $(nproc) cores"
start_echo
run "specbase http" "$server_pid" "http://127.0.0.1:$port/bench"
stop_server
start_echo --access-log
run "specbase http + access log" "$server_pid" "http://127.0.0.1:$port/bench"
stop_server

if command -v nginx >/dev/null; then
    mkdir -p "$work/www" "$work/nginx"
    start_echo
    curl -s "http://127.0.0.1:$port/bench" >"$work/www/bench.json"
    stop_server
    nginx_port=$((20000 + RANDOM % 20000))
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log /dev/null;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/json;
    keepalive_requests 100000;
    server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
EOF
    nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
    server_pid=$!
    sleep 0.5
    # CPU of the master and its workers
    nginx_cpu_pid=$server_pid
    total_ticks() {
        local sum=0 p
        for p in $nginx_cpu_pid $(pgrep -P "$nginx_cpu_pid"); do
            sum=$((sum + $(proc_ticks "$p")))
        done
        echo "$sum"
    }
    cpu_ticks() { total_ticks; }
    run "nginx static file" "$server_pid" "http://127.0.0.1:$nginx_port/bench.json"
    stop_server
fi
