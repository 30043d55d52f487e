#!/usr/bin/env bash
# Stops every process of the local stack; the database and keys stay in .stack/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/scripts/tools/node_modules/.bin:$PATH"
exec deno task --quiet stack stop
