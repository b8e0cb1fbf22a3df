#!/usr/bin/env bash
# Stratification at population scale (issue 3's figures): generates a synthetic population
# straight into a SQLite store, then times `joinedup stratify` over it (its own per-phase
# times: load, features and scores, segmentation, write-back) and its peak memory, and
# `joinedup score charlson` whole-process on the reference 1,000,000-row file of
# ../shared/reference (when present).
#
#   bench/stratify.sh                 1,000,000 patients
#   PATIENTS=245315 bench/stratify.sh
#
# Scratch files go to $JOINEDUP_BENCH_WORK (default build/bench/stratify-work; ~4 GB at 1M)
# and are removed afterwards.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/bench"
work=${JOINEDUP_BENCH_WORK:-$build/stratify-work}
patients=${PATIENTS:-1000000}
as_of=2026-03-31

"$root/scripts/install-deps.sh"
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOINEDUP_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target joinedup
bin="$build/src/cli/joinedup"

trap 'rm -rf -- "$work"' EXIT
rm -rf -- "$work"
mkdir -p -- "$work"

echo "== generate $patients patients into SQLite"
"$bin" generate --db "$work/pop.db" --patients "$patients" --as-of "$as_of"

for run in 1 2; do
  echo "== stratify, run $run (2 models, all scores; the second run is what a nightly job sees)"
  /usr/bin/time -f "   peak memory %M KB, wall %e s, user %U s, system %S s" \
    "$bin" stratify --db "$work/pop.db" --as-of "$as_of" | tail -1
done
echo "== stratify with the per-person CSV and its reasons"
/usr/bin/time -f "   peak memory %M KB, wall %e s" \
  "$bin" stratify --db "$work/pop.db" --as-of "$as_of" --no-save --out "$work/people.csv" | tail -2

script="$root/../shared/reference/gen_synthetic_diagnoses.py"
if [[ -f $script ]] && command -v python3 >/dev/null; then
  echo "== score charlson on the reference 1,000,000-row file (R comorbidity: ~4 s whole-process)"
  python3 "$script" "$work/diag_1m.csv" 1000000 100000 20240601 >/dev/null
  for run in 1 2 3; do
    /usr/bin/time -f "   whole process: wall %e s, user %U s, peak memory %M KB" \
      "$bin" score charlson --input "$work/diag_1m.csv" --out "$work/charlson.csv"
  done
else
  echo "== score charlson skipped: $script (or python3) is absent"
fi
