#!/usr/bin/env bash
# Installs everything Glacis needs on a Debian or Ubuntu machine, then builds it.
# Safe to run again. Needs root (or sudo) for the system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(rclone redis-server openssh-server ca-certificates)
missing=()
for bin in rclone redis-server; do command -v "$bin" >/dev/null 2>&1 || missing+=("$bin"); done
if [ ${#missing[@]} -gt 0 ] || [ "${GLACIS_SETUP_APT:-}" = always ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# rclone.js's install script would download its own rclone; Glacis uses the system one
# (RCLONE_EXECUTABLE), so install scripts are skipped and the one native module that
# needs its script (better-sqlite3) is built explicitly.
npm ci --ignore-scripts --no-audit --no-fund
npm rebuild better-sqlite3 --build-from-source
npm run build
bash scripts/install-command.sh
echo "Glacis is set up. Run it with: npm run demo"
