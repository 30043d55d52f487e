#!/usr/bin/env bash
# Command 1 of README: install what is missing, start the local stack (PostgreSQL, PostgREST,
# Redis + Upstash endpoint, the Edge Functions behind the gateway on :54321) and print its keys.
# Then simulated drones fly and send telemetry in the background (SIMULATE=0 turns them off).
# Stop it with: bash scripts/stop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/scripts/tools/node_modules/.bin:$PATH"
deno task --quiet stack start
if [ "${SIMULATE:-1}" != "0" ]; then
  deno task --quiet simulate:start
fi
