#!/usr/bin/env bash
# The main job: builds joinedup, generates a synthetic registered population, exports it as
# FHIR R4 Bulk Data NDJSON, imports that into the embedded SQLite store, reports on it,
# stratifies it (twice, six months apart), prints the case-management worklist, adds demo
# accounts and serves the web application and the FHIR API.
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
# Two runs six months apart, as a system stratifying regularly would have: the worklist's
# "risers since the last run" and the population page's movement compare them.
earlier=$(date -u -d "${AS_OF:-2026-03-31} -6 months" +%F)
echo "== Stratify as of $earlier (the run before)"
"$bin" stratify --db "$out/joinedup.db" --as-of "$earlier" >/dev/null
echo "== Stratify (scores, segments, cost concentration; one row per person in $out/people.csv)"
"$bin" stratify --db "$out/joinedup.db" --as-of "${AS_OF:-2026-03-31}" --out "$out/people.csv"
echo "== Case-management worklist: MCMW Tier 4 and the top 2% by emergency-admission risk"
"$bin" worklist --db "$out/joinedup.db" --model mcmw --top-percent 2 --show 5 \
  --out "$out/worklist.csv"

# ---- The server -------------------------------------------------------------------------------
# Demo accounts exist in this demo database only, each with a random password made now and
# printed once (also kept in $out/demo-accounts.txt, readable by you alone). joinedup has no
# built-in account or password anywhere else.
port=${PORT:-8080}
base="http://127.0.0.1:$port"
first_patient=$(head -n 1 "$out/fhir/Patient.ndjson")
nhs_number=$(grep -o '"https://fhir.nhs.uk/Id/nhs-number","value":"[0-9]*"' <<<"$first_patient" |
  grep -o '[0-9]\{10\}' | head -n 1)
practice=$(grep -o '"Organization/[^"]*"' <<<"$first_patient" | head -n 1 | tr -d '"' |
  sed 's|Organization/||')
accounts="$out/demo-accounts.txt"
(umask 077 && : >"$accounts")
add_account() {  # username role organisation display-name [extra user-add options…]
  local username=$1 role=$2 organisation=$3 display=$4
  shift 4
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  printf '%s\n' "$password" | "$bin" user add --db "$out/joinedup.db" --username "$username" \
    --role "$role" --organisation "$organisation" --display-name "$display" "$@" >/dev/null
  printf '  %-18s %-16s %-8s %s\n' "$username" "$role" "$organisation" "$password" | tee -a "$accounts"
}
echo "== Demo accounts (this database only; passwords are random, made now)"
printf '  %-18s %-16s %-8s %s\n' username role org password
add_account demo-gp gp "$practice" "Dr Demo GP"
add_account demo-case-manager case-manager RYG "Demo Case Manager" \
  --organisation-kind community_trust --organisation-name "Demo Community Trust"
add_account demo-commissioner commissioner QHM "Demo Commissioner" \
  --organisation-kind commissioner --organisation-name "Demo Integrated Care Board"
add_account demo-privacy privacy-officer QHM "Demo Privacy Officer"
add_account demo-patient patient "$practice" "Demo Patient" --patient-nhs-number "$nhs_number"
add_account demo-admin administrator QHM "Demo Administrator"
gp_password=$(awk '$1 == "demo-gp" { print $4 }' "$accounts")
# The case manager's caseload: a care team at the community trust holding the first 20 people.
team_patients=()
while read -r number; do team_patients+=(--patient "$number"); done < <(
  head -n 20 "$out/fhir/Patient.ndjson" |
    grep -o '"https://fhir.nhs.uk/Id/nhs-number","value":"[0-9]*"' | grep -o '[0-9]\{10\}')
"$bin" careteam add --db "$out/joinedup.db" --name "Demo community team" --organisation RYG \
  --member demo-case-manager "${team_patients[@]}"
team_size=$((${#team_patients[@]} / 2))
# Case management (issue 12): two teams near and at capacity, filled from the latest run's
# highest-risk people (seed 001: "an active caseload of about 120 patients").
add_account demo-case-manager-2 case-manager RYG "Demo Case Manager Two"
add_account demo-hsca care-assistant RYG "Demo Care Assistant"
case_team() {  # name capacity fill waiting members…
  local name=$1 capacity=$2 fill=$3 waiting=$4
  shift 4
  local members=() id
  for m in "$@"; do members+=(--member "$m"); done
  id=$("$bin" careteam add --db "$out/joinedup.db" --name "$name" --organisation RYG "${members[@]}" |
    sed -n 's/^added care team \([0-9]*\).*/\1/p')
  "$bin" caseload capacity --db "$out/joinedup.db" --team "$id" --capacity "$capacity" >/dev/null
  "$bin" caseload seed --db "$out/joinedup.db" --team "$id" --fill "$fill" --waiting "$waiting"
  # Their plans, goals and open tasks, written as the coordinators would write them.
  "$bin" caseload care-work --db "$out/joinedup.db" --team "$id"
}
echo "== Caseloads"
case_team "Case management North" 120 0.93 4 demo-case-manager demo-case-manager-2 demo-hsca
case_team "Case management South" 30 1.0 6 demo-case-manager
# Early escalation over the caseloads: admissions, A&E attendances and falls in the fortnight
# before the data's as-of date, frailty and segment rises between the two runs, this morning's
# missed visits — each a flag on the person and a task for their coordinator.
"$bin" escalate --db "$out/joinedup.db" --as-of "${AS_OF:-2026-03-31}"

cat <<HOW
== Serving $base (FHIR base $base/fhir) on the synthetic population; Ctrl-C stops it

  The web application: open $base/ in a browser and sign in with an account above.

Sign in as the GP at $practice and read a registered patient (NHS number $nhs_number):

  token=\$(curl -s $base/auth/token -d grant_type=password -d username=demo-gp \\
      --data-urlencode 'password=$gp_password' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s -H "Authorization: Bearer \$token" \\
      '$base/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs_number'

Also: $base/fhir/metadata, $base/.well-known/smart-configuration, $base/metrics, and Bulk Data
export (curl -H 'Prefer: respond-async' "$base/fhir/Patient/\$export" with the token; files go
to $out/exports).
The case manager sees the $team_size people on their care team ("Demo community team");
the commissioner sees Groups (segments), never a person; the privacy officer reads AuditEvent;
the administrator manages accounts, organisations and care teams (and sees no one's record).
HOW
exec "$bin" serve --db "$out/joinedup.db" --port "$port" --export-dir "$out/exports"
