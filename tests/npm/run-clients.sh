#!/usr/bin/env bash
# Runs the official npm clients (clients.test.mjs) against a real `locara serve` on a free
# loopback port. Usage: run-clients.sh install WORKDIR | run-clients.sh test WORKDIR LOCARA MODEL
# `install` copies package.json and the lock into WORKDIR and runs `npm ci` there unless
# node_modules already matches the lock (so it works offline once installed).
# Exits 77 (skipped) when node or npm is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode=$1 work=$2

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo "SKIPPED: node and npm are not installed (scripts/install-deps installs them)"
  exit 77
fi

if [ "$mode" = install ]; then
  mkdir -p "$work"
  cp "$here/package.json" "$here/package-lock.json" "$here/clients.test.mjs" "$work/"
  if [ -d "$work/node_modules" ] && cmp -s "$work/package-lock.json" "$work/.installed-lock"; then
    echo "npm packages already installed in $work"
    exit 0
  fi
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline)
  cp "$work/package-lock.json" "$work/.installed-lock"
  exit 0
fi

locara=$3 model_file=$4
if [ ! -d "$work/node_modules" ]; then
  echo "SKIPPED: npm packages are not installed in $work (the npm_install test sets them up)"
  exit 77
fi
cp "$here/clients.test.mjs" "$work/"
store=$(mktemp -d)
log="$store/serve.log"
cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2> /dev/null && wait "$daemon" 2> /dev/null
  rm -rf "$store"
}
trap cleanup EXIT
ln -s "$model_file" "$store/$(basename "$model_file")"
"$locara" serve --port 0 --models-dir "$store" --parallel 2 > "$log" 2>&1 &
daemon=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$log")
  [ -n "$port" ] && break
  kill -0 "$daemon" 2> /dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "the daemon did not start"; cat "$log"; exit 1; }
model=$(basename "$model_file" .gguf)
cd "$work"
LOCARA_URL="http://127.0.0.1:$port" LOCARA_MODEL="$model" node --test clients.test.mjs
