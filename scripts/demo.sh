#!/usr/bin/env bash
# Runs Glacis (API + worker + its own redis-server) on the demo repository:
# demo/local is the local tree, demo/remote plays the remote.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/src/cli/main.js ] || npm run build
export GLACIS_CONFIG="${GLACIS_CONFIG:-local.example.cfg}"
cat <<MSG
Glacis demo: the repository $PWD/demo/local is backed by $PWD/demo/remote.
In another terminal, pull a directory back and look at the task:
  curl -s -X POST http://127.0.0.1:9100/pull -H 'Content-Type: application/json' -d '{"path": "$PWD/demo/local/results"}'
  curl -s http://127.0.0.1:9100/tasks
MSG
exec node bin/glacis.js up
