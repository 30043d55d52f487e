#!/usr/bin/env bash
# Command 2 of README: install what is missing, then run every suite (static checks, unit tests,
# pgTAP, end-to-end through the gateway) on the local stack. Uses this checkout's running stack
# as it is (another checkout's stack on the same ports stops it with a message naming that
# checkout); otherwise starts one and stops it at the end. The last line is "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/scripts/tools/node_modules/.bin:$PATH"
exec deno task --quiet test:all
