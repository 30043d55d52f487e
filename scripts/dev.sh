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
gateway_port=$((54321 + ${STACK_PORT_OFFSET:-0}))
echo
echo "Dashboard: http://127.0.0.1:${gateway_port}/dashboard/"
if [ "${SIMULATE:-1}" != "0" ]; then
  echo "  Sign in with \"Use the local simulator's token\" to watch the simulated drones fly."
else
  echo "  Sign in with a token from: deno task jwt:mint (the owner of the devices deno task device:create makes)."
fi
