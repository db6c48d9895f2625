#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing specbase need,
# and only those that are missing: each is checked with dpkg-query, then one
# `apt-get update` and one `apt-get install` for the rest. Safe to run again.
set -euo pipefail

packages=(
    gcc make pkg-config        # the build
    libsqlite3-dev             # storage
    libjansson-dev             # JSON
    libmicrohttpd-dev          # the HTTP server
    libsodium-dev              # SHA-256 of applied specs; password hashing
    libssl-dev                 # RS256/ES256 verification of outside JWTs (libcrypto)
    clang libclang-rt-14-dev   # make fuzz: clang and its libFuzzer runtime
    sqlite3                    # inspecting databases in tests
)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ $status != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
# Node.js and npm (the API tests use real JavaScript clients). Any install
# will do: a Node.js distribution that bundles npm must not be replaced.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

# The npm packages of the black-box tests, exactly as the committed lock file
# says, when node_modules is missing or older than the lock file.
npm_packages() {
    local root
    root=$(cd "$(dirname "$0")/.." && pwd)
    if [[ -f $root/package-lock.json ]] &&
        [[ ! -f $root/node_modules/.package-lock.json || $root/package-lock.json -nt $root/node_modules/.package-lock.json ]]; then
        echo "install-deps: npm ci"
        (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

if ((${#missing[@]} == 0)); then
    npm_packages
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_packages
