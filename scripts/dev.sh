#!/usr/bin/env bash
# Command 1 of README: install what is missing, start the local stack (PostgreSQL, PostgREST,
# Redis + Upstash endpoint, the Edge Functions behind the gateway on :54321) and print its keys.
# Stop it with: bash scripts/stop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/scripts/tools/node_modules/.bin:$PATH"
exec deno task --quiet stack start
