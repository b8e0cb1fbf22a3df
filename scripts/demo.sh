#!/usr/bin/env bash
# The main job: builds joinedup, generates a synthetic registered population, exports it as
# FHIR R4 Bulk Data NDJSON, imports that into the embedded SQLite store, reports on it,
# stratifies it and prints the case-management worklist.
# Environment: PATIENTS (default 245315), PRACTICES (45), SEED (1), AS_OF (2026-03-31),
# OUT (out/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

out=${OUT:-out/demo}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOINEDUP_TESTS=OFF -DJOINEDUP_BENCH=OFF
cmake --build build/release -j"$(nproc)" --target joinedup
bin=build/release/src/cli/joinedup

rm -rf "$out"
mkdir -p "$out"
echo "== Generating ${PATIENTS:-245315} people in ${PRACTICES:-45} practices as FHIR NDJSON in $out/fhir"
"$bin" generate --out "$out/fhir" --patients "${PATIENTS:-245315}" --practices "${PRACTICES:-45}" \
  --seed "${SEED:-1}" --as-of "${AS_OF:-2026-03-31}"
echo "== Importing into $out/joinedup.db"
"$bin" import --db "$out/joinedup.db" "$out/fhir"
echo "== Report"
"$bin" report --db "$out/joinedup.db" --as-of "${AS_OF:-2026-03-31}"
echo "== Stratify (scores, segments, cost concentration; one row per person in $out/people.csv)"
"$bin" stratify --db "$out/joinedup.db" --as-of "${AS_OF:-2026-03-31}" --out "$out/people.csv"
echo "== Case-management worklist: MCMW Tier 4 and the top 2% by emergency-admission risk"
"$bin" worklist --db "$out/joinedup.db" --model mcmw --top-percent 2 --show 5 \
  --out "$out/worklist.csv"
