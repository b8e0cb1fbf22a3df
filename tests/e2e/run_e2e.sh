#!/usr/bin/env bash
# Browser tests of the web UI (web/) served by `joinedup serve`:
#   run_e2e.sh JOINEDUP_BINARY [node --test arguments…]
# Builds its own world in a temporary directory: a small synthetic population in two practices,
# imported into a fresh SQLite file and stratified twice (two runs, so the person page's score
# history chart has two points); demo accounts with random passwords (a GP at the first person's
# practice, two case managers at a community trust with a care team of five people and an empty
# second team, a commissioner,
# a privacy officer, an administrator and a patient); starts the server on a free loopback port (--port 0); then
# runs the node:test files in tests/e2e/test/ with playwright-core driving Debian's chromium
# (/usr/bin/chromium; no Playwright browser download), axe-core on every page. Registered in
# ctest as `web_e2e` (tests/e2e/CMakeLists.txt).
#
# The binary must embed the built UI (web/ → JOINEDUP_WEB_OUT at CMake time) and answer
# /app/api (docs/app-api.md).
#
# Exit status: the tests' (non-zero if a test or the setup fails), or 77 — ctest's
# SKIP_RETURN_CODE — only when node or /usr/bin/chromium is not installed.
# Environment: E2E_ARTIFACTS (screenshots; default $work/screenshots, kept), E2E_KEEP=1 keeps
# the whole work directory, E2E_CHROMIUM (default /usr/bin/chromium).
set -euo pipefail

bin=${1:?usage: run_e2e.sh JOINEDUP_BINARY [node --test args…]}
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
chromium=${E2E_CHROMIUM:-/usr/bin/chromium}

if ! command -v node > /dev/null; then
  echo "SKIP: node is not installed (apt-get install -y nodejs npm); the browser tests need it"
  exit 77
fi
if [[ ! -x $chromium ]]; then
  echo "SKIP: $chromium is not installed (apt-get install -y chromium); the browser tests need it"
  exit 77
fi
if [[ ! -f $here/node_modules/.package-lock.json ]]; then
  # scripts/test.sh runs `npm ci --prefix tests/e2e`; a bare ctest run does it here once.
  echo "== npm ci --prefix $here (node_modules missing)"
  npm ci --prefix "$here" --no-audit --no-fund
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/joinedup-e2e.XXXXXX")
artifacts=${E2E_ARTIFACTS:-$work/screenshots}
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
# This run's screenshots only: the previous run's (same names) go first.
find "$artifacts" -maxdepth 1 -type f \( -name '[0-9][0-9]-*.png' -o -name '*-[0-9][0-9]-*.png' \
  -o -name 'session-warning.png' \) -delete
server_pid=
short_pid=
cleanup() {
  for pid in $server_pid $short_pid; do
    if kill -0 "$pid" 2> /dev/null; then
      kill -TERM "$pid"
      wait "$pid" || true
    fi
  done
  if [[ ${E2E_KEEP:-0} == 1 ]]; then
    echo "kept $work"
  elif [[ $artifacts == "$work"/* ]]; then
    # Keep the screenshots (test artifacts); remove the rest (database, passwords, logs).
    find "$work" -mindepth 1 -maxdepth 1 ! -path "$work/screenshots" -exec rm -rf {} +
  else
    rm -rf "$work"
  fi
  echo "== screenshots in $artifacts"
}
trap cleanup EXIT

db=$work/joinedup.db
echo "== Generating 400 people in 2 practices"
"$bin" generate --out "$work/fhir" --patients 400 --practices 2 --seed 11 --as-of 2026-03-31 \
  > "$work/generate.log"
echo "== Importing into $db"
"$bin" import --db "$db" "$work/fhir" > "$work/import.log"
echo "== Stratifying (two runs: 2025-09-30 and 2026-03-31)"
"$bin" stratify --db "$db" --as-of 2025-09-30 > "$work/stratify-1.log"
"$bin" stratify --db "$db" --as-of 2026-03-31 > "$work/stratify-2.log"

# Who is who, from the generated people: the GP's practice is the first person's; the care team
# holds the first five people; "person" is the oldest person at the GP's practice who is not on
# the team (the GP sees them, the case manager does not); "patient" is another person there.
node - "$work/fhir/Patient.ndjson" > "$work/people.json" << 'JS'
const fs = require("node:fs");
const lines = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const nhs = (p) => p.identifier.find((i) => i.system === "https://fhir.nhs.uk/Id/nhs-number").value;
const practice = (p) => p.generalPractitioner[0].reference.replace("Organization/", "");
const gpPractice = practice(lines[0]);
const team = lines.slice(0, 5);
const rest = lines.slice(5).filter((p) => practice(p) === gpPractice && p.birthDate);
rest.sort((a, b) => a.birthDate.localeCompare(b.birthDate));
const person = rest[0];
const patient = rest.find((p) => p !== person && p.birthDate < "2000-01-01") ?? rest[1];
const out = (p) => ({ id: p.id, nhs_number: nhs(p), family: p.name[0].family, given: (p.name[0].given ?? []).join(" "), birth_date: p.birthDate, practice: practice(p) });
process.stdout.write(JSON.stringify({ practice: gpPractice, team: team.map(out), person: out(person), patient: out(patient) }));
JS
practice=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).practice)' "$work/people.json")
patient_nhs=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).patient.nhs_number)' "$work/people.json")

accounts=$work/accounts.json
(umask 077 && echo '{}' > "$accounts")
add_account() {  # key username role organisation display-name [extra user-add options…]
  local key=$1 username=$2 role=$3 organisation=$4 display=$5
  shift 5
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  printf '%s\n' "$password" | "$bin" user add --db "$db" --username "$username" --role "$role" \
    --organisation "$organisation" --display-name "$display" "$@" > /dev/null
  node -e 'const fs=require("fs");const [f,k,u,p,r,d]=process.argv.slice(1);const a=JSON.parse(fs.readFileSync(f,"utf8"));a[k]={username:u,password:p,role:r,display_name:d};fs.writeFileSync(f,JSON.stringify(a))' \
    "$accounts" "$key" "$username" "$password" "$role" "$display"
}
echo "== Accounts (random passwords, this database only)"
add_account gp e2e-gp gp "$practice" "Dr E2E GP"
add_account case_manager e2e-case-manager case-manager RYG "E2E Case Manager" \
  --organisation-kind community_trust --organisation-name "E2E Community Trust"
add_account commissioner e2e-commissioner commissioner QHM "E2E Commissioner" \
  --organisation-kind commissioner --organisation-name "E2E Integrated Care Board"
add_account privacy_officer e2e-privacy privacy-officer QHM "E2E Privacy Officer"
add_account patient e2e-patient patient "$practice" "E2E Patient" --patient-nhs-number "$patient_nhs"
# The directory's administrator (users, organisations, care teams; sees no one's record).
add_account administrator e2e-admin administrator QHM "E2E Administrator"
# A spare GP for the wrong-password test, so that its failed sign-in never throttles an account
# another test signs in with.
add_account spare e2e-spare gp "$practice" "Dr Spare"
team_args=()
while read -r number; do team_args+=(--patient "$number"); done < <(
  node -e 'for (const p of JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).team) console.log(p.nhs_number)' "$work/people.json")
# The care-plan journey's person (test/care-plan.test.mjs): the last of the team's five people,
# with an account of their own, so the case managers already care for them and no other
# journey's caseload changes.
plan_nhs=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).team[4].nhs_number)' "$work/people.json")
plan_practice=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).team[4].practice)' "$work/people.json")
add_account plan_patient e2e-plan-patient patient "$plan_practice" "E2E Plan Patient" --patient-nhs-number "$plan_nhs"
# A second case manager on the team: another care coordinator to take people on or transfer to.
add_account case_manager_2 e2e-case-manager-2 case-manager RYG "E2E Second Case Manager"
"$bin" careteam add --db "$db" --name "E2E community team" --organisation RYG \
  --member e2e-case-manager --member e2e-case-manager-2 "${team_args[@]}" > /dev/null
# A second team of both case managers with no one on it yet: the caseload journeys
# (test/caseload.test.mjs) have the administrator give it a capacity of 1 (the CLI sets none),
# so that it fills and keeps a waiting list.
"$bin" careteam add --db "$db" --name "E2E full team" --organisation RYG \
  --member e2e-case-manager --member e2e-case-manager-2 > /dev/null

echo "== Starting joinedup serve"
"$bin" serve --db "$db" --bind 127.0.0.1 --port 0 2> "$work/serve.log" &
server_pid=$!
base=
for _ in $(seq 1 600); do
  base=$(sed -n 's/^joinedup serve: listening on \(http:[^ ]*\) .*/\1/p' "$work/serve.log")
  [[ -n $base ]] && break
  if ! kill -0 "$server_pid" 2> /dev/null; then
    echo "joinedup serve exited before listening:"
    cat "$work/serve.log"
    exit 1
  fi
  sleep 0.1
done
[[ -n $base ]] || { echo "joinedup serve did not start within 60 s"; cat "$work/serve.log"; exit 1; }
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" > /dev/null 2>&1 && break
  sleep 0.1
done
echo "   $base"

# A second server on the same database whose web sessions end after 30 s without use, for the
# session-expiry journey in real time (the first one also tests it on the page's own clock).
short_base=
if "$bin" serve --help 2>&1 | grep -q -- '--session-idle-minutes'; then
  echo "== Starting a second joinedup serve with --session-idle-minutes 0.5"
  "$bin" serve --db "$db" --bind 127.0.0.1 --port 0 --session-idle-minutes 0.5 \
    2> "$work/serve-short.log" &
  short_pid=$!
  for _ in $(seq 1 600); do
    short_base=$(sed -n 's/^joinedup serve: listening on \(http:[^ ]*\) .*/\1/p' "$work/serve-short.log")
    [[ -n $short_base ]] && break
    kill -0 "$short_pid" 2> /dev/null || { cat "$work/serve-short.log"; exit 1; }
    sleep 0.1
  done
  [[ -n $short_base ]] || { echo "the second joinedup serve did not start"; exit 1; }
  echo "   $short_base"
else
  echo "== joinedup serve has no --session-idle-minutes: the real-time expiry journey is skipped"
fi
echo "== screenshots go to $artifacts"

export E2E_BASE=$base E2E_SHORT_IDLE_BASE=$short_base E2E_ACCOUNTS=$accounts E2E_PEOPLE=$work/people.json E2E_ARTIFACTS=$artifacts \
  E2E_CHROMIUM=$chromium
status=0
# E2E_FILES (e.g. "care-plan") runs only those test files while iterating; by default all.
files=()
for f in ${E2E_FILES:-ui admin caseload assessment care-plan}; do files+=("$here/test/$f.test.mjs"); done
echo "== node --test ${files[*]##*/}"
node --test --test-reporter=spec --test-concurrency=1 "$@" "${files[@]}" || status=1
if [[ $status -ne 0 ]]; then
  echo "== joinedup serve log (last 40 lines)"
  tail -n 40 "$work/serve.log"
fi
exit "$status"
