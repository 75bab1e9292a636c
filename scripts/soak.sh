#!/usr/bin/env bash
# The long (soak) variants of the reliability suites in test/safety: crash, freeze faults,
# Redis outages and load, run one after the other with GLACIS_SOAK=1. `npm test` (CI) runs
# the same code with short sizes. Each suite prints one line of figures; they are repeated
# at the end, and the whole output is kept in test-artifacts/.
#
#   bash scripts/soak.sh                  # all four, about half an hour on 2 cores
#   bash scripts/soak.sh crash redis      # some of them
#   GLACIS_SEED=1234 bash scripts/soak.sh freeze-faults   # replay a run's random choices
#
# Builds dist/ first (the suites start `glacis serve` and `glacis worker` from it), as
# `npm test` does; SOAK_SKIP_BUILD=1 uses the dist/ that is there.
set -euo pipefail
cd "$(dirname "$0")/.."

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then suites=(crash freeze-faults redis load); fi
for suite in "${suites[@]}"; do
  if [ ! -f "test/safety/$suite.test.ts" ]; then
    echo "soak.sh: unknown suite \"$suite\" (crash, freeze-faults, redis, load)" >&2
    exit 2
  fi
done

if [ "${SOAK_SKIP_BUILD:-}" != 1 ]; then npm run build --silent; fi
mkdir -p test-artifacts
log="test-artifacts/soak-$(date -u +%Y%m%dT%H%M%SZ).log"
status=0
for suite in "${suites[@]}"; do
  echo "== $suite ($(date -u +%H:%M:%S) UTC)" | tee -a "$log"
  from=$(wc -l <"$log")
  if ! GLACIS_SOAK=1 npx vitest run "test/safety/$suite.test.ts" >>"$log" 2>&1; then
    echo "   FAILED (see $log)"
    status=1
  fi
  # The suite's figures line (vitest may colour the output around it).
  tail -n +"$((from + 1))" "$log" | sed 's/\x1b\[[0-9;]*m//g' | grep -E '^(crash|freeze faults|redis|load): ' | sed 's/^/   /' || true
done
echo "full output: $log"
exit "$status"
