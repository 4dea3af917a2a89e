#!/usr/bin/env bash
# Runs every test. Installs missing packages first (via setup.sh), so it works on a fresh clone.
# Extra arguments go to `dotnet test`. Without any, measurements (Category=Benchmark: gigabytes, tens of seconds)
# are left out; `tools/test.sh --filter Category=Benchmark` runs just them and prints their figures.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
if [[ $# -eq 0 ]]; then
  set -- --filter "Category!=Benchmark"
fi
dotnet test Migration.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?

# One closing line over all test assemblies.
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:")  failed  += $(i+1) + 0
         if ($i == "Passed:")  passed  += $(i+1) + 0
         if ($i == "Skipped:") skipped += $(i+1) + 0
       }
     }
     END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
if [[ "$status" -ne 0 ]] && ! grep -q '^Failed!' "$log"; then
  # A test host that crashed reports no counts at all; the line above would then look clean.
  echo "test run failed (exit $status) without a failing test: a test host aborted or the run could not start" >&2
fi
exit "$status"
