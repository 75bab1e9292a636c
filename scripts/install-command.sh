#!/usr/bin/env bash
# Puts the `glacis` command on PATH: a link, in npm's global bin directory, to this clone's
# bin/glacis.js (so a rebuilt clone needs no reinstall). Run by scripts/setup.sh.
# Install scripts are skipped as in setup.sh: the dependencies are already built here.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="$(npm prefix -g)"
if [ -w "$prefix/bin" ] || { [ ! -e "$prefix/bin" ] && [ -w "$prefix" ]; }; then
  npm link --ignore-scripts --no-audit --no-fund >/dev/null
  echo "The glacis command is installed: $prefix/bin/glacis"
  case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Add $prefix/bin to PATH to run it as glacis" ;;
  esac
else
  echo "Cannot write to $prefix/bin: to put the glacis command on PATH, run: sudo npm link --ignore-scripts (or: npm link --ignore-scripts --prefix ~/.local)"
fi
