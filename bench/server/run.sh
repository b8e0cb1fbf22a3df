#!/usr/bin/env bash
# The server benchmark: joinedup serve and a peer (@medplum/fhir-router's in-memory repository
# behind medplum-peer/server.mjs) loaded with the same synthetic population and measured with
# the same wrk scripts over loopback, one after the other, in one run.
#
#   bench/server/run.sh [PATIENTS]        245315 by default; e.g. 1000000
#
# Steps: builds joinedup (Release, build/bench-server); generates PATIENTS people in 45
# practices (seed 1) and imports them into SQLite — kept in $WORK/PATIENTS for the next run,
# with only the Patient, Condition and Organization NDJSON the peer needs; copies the database
# for this run (the write mix changes it) and adds a GP at SYN001 (the benchmark's user may see
# that practice's patients: ids, NHS numbers and Condition subjects are drawn from them,
# inputs.mjs); starts `joinedup serve`, signs in at /auth/token, and runs each wrk script
# (warm-up, then the measured run) at CONNECTIONS connections, one per wrk thread; stops it and
# does the same against the peer; prints a table. A benchmark, not a test: nothing here is
# timed in CI.
#
# Environment: OPERATIONS (a space-separated subset of "read identifier subject walk write"),
# DURATION (30s) and WARMUP (5s) per operation, CONNECTIONS (32), TIMEOUT (wrk's
# per-request timeout, 60s: the peer's searches are linear scans), PEER=0 to skip the peer,
# PEER_HEAP_MB (8192: V8 old space for the peer), PEER_MAX_RESOURCES (all Patients, then
# Conditions, until this many), WORK (build/bench-server/work).
set -euo pipefail

patients=${1:-245315}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/bench/server
build=$root/build/bench-server
work=${WORK:-$build/work}
duration=${DURATION:-30s}
warmup=${WARMUP:-5s}
connections=${CONNECTIONS:-32}
timeout=${TIMEOUT:-60s}
practice=SYN001
read -r -a operations <<< "${OPERATIONS:-read identifier subject walk write}"

"$root/scripts/install-deps.sh"
for tool in wrk node npm curl; do
  command -v "$tool" > /dev/null && continue
  echo "Installing wrk, nodejs, npm and curl (Debian packages)"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    wrk nodejs npm curl
  break
done

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOINEDUP_TESTS=OFF \
  -DJOINEDUP_BENCH=OFF > /dev/null
cmake --build "$build" --target joinedup
bin=$build/src/cli/joinedup

data=$work/$patients
if [[ ! -f $data/complete ]]; then
  rm -rf -- "$data"
  mkdir -p -- "$data"
  echo "== Generating $patients people in 45 practices"
  "$bin" generate --out "$data/fhir" --patients "$patients" --practices 45 --seed 1 \
    --as-of 2026-03-31
  echo "== Importing into $data/joinedup.db"
  # Above 909,090 people the synthetic NHS numbers (the 999 test range) run out.
  "$bin" import --allow-missing-nhs-number --db "$data/joinedup.db" "$data/fhir"
  # The peer reads Patient and Condition; the rest is most of the disk (ChargeItem, Encounter).
  find "$data/fhir" -name '*.ndjson' ! -name 'Patient*' ! -name 'Condition*' \
    ! -name 'Organization*' -delete
  touch "$data/complete"
fi

results=$work/results-$patients-$(date +%Y%m%dT%H%M%S)
mkdir -p -- "$results"
node "$here/inputs.mjs" "$data/fhir" "$results" "$practice" | tee "$results/inputs.txt"

server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -f -- "$results/run.db" "$results/run.db-wal" "$results/run.db-shm"
}
trap cleanup EXIT

peak_rss_mb() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# run_wrk LABEL TOKEN URL: every operation, warm-up first; RESULT lines to $results/LABEL.tsv.
# The peer answers searches by scanning every stored resource (MemoryRepository.search), one
# request at a time (one Node thread): at 245k patients a search takes seconds to tens of
# seconds, so 32 connections would only queue behind it and time out. Its searches are measured
# at ONE connection for PEER_SEARCH_DURATION (120s) instead — requests/s is the same for a
# single-threaded server, latency is per request without queueing — and marked so in the table.
run_wrk() {
  local label=$1 token=$2 url=$3 op conns run_duration
  : > "$results/$label.tsv"
  for op in "${operations[@]}"; do
    conns=$connections run_duration=$duration
    if [[ $label == medplum && $op != read && $op != write ]]; then
      conns=1 run_duration=${PEER_SEARCH_DURATION:-120s}
    fi
    echo "-- $label: $op ($conns connections)"
    BENCH_LUA_DIR=$here BENCH_DATA=$results BENCH_TOKEN=$token BENCH_LABEL=$label \
      wrk -t"$conns" -c"$conns" -d"$warmup" --timeout "$timeout" \
      -s "$here/$op.lua" "$url" > "$results/$label-$op-warmup.txt"
    settle "$url" "$token"
    BENCH_LUA_DIR=$here BENCH_DATA=$results BENCH_TOKEN=$token BENCH_LABEL=$label \
      wrk -t"$conns" -c"$conns" -d"$run_duration" --timeout "$timeout" --latency \
      -s "$here/$op.lua" "$url" > "$results/$label-$op.txt"
    # The table's extra column says when the run was not at $connections connections.
    grep '^RESULT' "$results/$label-$op.txt" |
      awk -F'\t' -v OFS='\t' -v c="$conns" -v all="$connections" \
        'c != all { $10 = (c " connection" (c == 1 ? "" : "s")) ($10 == "" ? "" : "; " $10) } 1' |
      tee -a "$results/$label.tsv"
    settle "$url" "$token"
  done
}

# Requests wrk abandoned at the end of a run may still be running in the server: wait until a
# read is answered (behind them, for the single-threaded peer) before the next measurement.
settle() {
  curl -s -o /dev/null --max-time 900 -H "Authorization: Bearer $2" \
    "$1/fhir/Patient/$(head -n1 "$results/patient_ids.txt")" || true
}

# ---- joinedup serve
cp -- "$data/joinedup.db" "$results/run.db"
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" | "$bin" user add --db "$results/run.db" --username bench-gp \
  --role gp --organisation "$practice" > /dev/null
echo "== joinedup serve on $patients patients"
# One worker thread per connection: cpp-httplib gives a keep-alive connection its worker thread
# until it closes, so with fewer threads than wrk's connections the rest wait in the queue for
# seconds (measured: p50 49 ms, p99 25 s at the default 4 threads while the handler's own p99
# was 17 ms). SERVER_THREADS overrides.
"$bin" serve --db "$results/run.db" --bind 127.0.0.1 --port 0 \
  --threads "${SERVER_THREADS:-$connections}" 2> "$results/serve.log" &
server_pid=$!
base=
for _ in $(seq 1 600); do
  base=$(sed -n 's/^joinedup serve: listening on \(http:[^ ]*\) .*/\1/p' "$results/serve.log")
  [[ -n $base ]] && break
  kill -0 "$server_pid" 2> /dev/null || { cat "$results/serve.log"; exit 1; }
  sleep 0.1
done
[[ -n $base ]] || { echo "joinedup serve did not start"; exit 1; }
token=$(curl -fsS -X POST "$base/auth/token" --data-urlencode grant_type=password \
  --data-urlencode username=bench-gp --data-urlencode "password=$password" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).access_token))')
run_wrk joinedup "$token" "$base"
joinedup_rss=$(peak_rss_mb "$server_pid")
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=

# ---- the peer
peer_rss= peer_loaded= peer_load_s=
if [[ ${PEER:-1} == 1 ]]; then
  peer=$here/medplum-peer
  [[ -f $peer/node_modules/.package-lock.json ]] || npm ci --prefix "$peer" --no-audit --no-fund
  echo "== medplum peer: loading Patient and Condition NDJSON"
  port=$((20000 + RANDOM % 20000))
  start=$(date +%s)
  node --experimental-websocket --max-old-space-size="${PEER_HEAP_MB:-8192}" "$peer/server.mjs" \
    --port "$port" --ndjson "$data/fhir" --types Patient,Condition \
    ${PEER_MAX_RESOURCES:+--max-resources "$PEER_MAX_RESOURCES"} > "$results/peer.log" 2>&1 &
  server_pid=$!
  until grep -q '^ready' "$results/peer.log"; do
    kill -0 "$server_pid" 2> /dev/null || { cat "$results/peer.log"; exit 1; }
    sleep 1
  done
  peer_load_s=$(($(date +%s) - start))
  peer_loaded=$(sed -n 's/^ready [0-9]* //p' "$results/peer.log")
  echo "   loaded $peer_loaded in ${peer_load_s}s"
  run_wrk medplum "" "http://127.0.0.1:$port"
  peer_rss=$(peak_rss_mb "$server_pid")
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=
fi

# ---- the table
echo
echo "== $patients patients; $connections connections over loopback, $duration per operation" \
  "after a $warmup warm-up; $(nproc) cores; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$results/inputs.txt"
echo "joinedup: SQLite, ${SERVER_THREADS:-$connections} worker threads, peak RSS ${joinedup_rss} MB"
[[ -n $peer_loaded ]] &&
  echo "medplum peer: @medplum/fhir-router 4.5.2 MemoryRepository, loaded $peer_loaded in ${peer_load_s}s, peak RSS ${peer_rss} MB"
node -e '
const fs = require("fs");
const [dir, ...labels] = process.argv.slice(1);
const rows = new Map();
for (const label of labels) {
  const file = `${dir}/${label}.tsv`;
  if (!fs.existsSync(file)) continue;
  for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const [, , op, rps, p50, p99, n, non2xx, sock, extra] = line.split("\t");
    if (!rows.has(op)) rows.set(op, {});
    rows.get(op)[label] = { rps, p50, p99, n, non2xx, sock, extra };
  }
}
const pad = (s, n) => String(s).padStart(n);
let head = "operation".padEnd(24);
for (const l of labels) head += `| ${l.padEnd(8)} ${pad("req/s", 7)} ${pad("p50 ms", 9)} ${pad("p99 ms", 9)} `;
console.log(head);
for (const [op, byLabel] of rows) {
  let line = op.padEnd(24);
  for (const l of labels) {
    const r = byLabel[l];
    const mark = r && /^1 connection/.test(r.extra) ? "(1 conn)" : "";
    line += r ? `| ${mark.padEnd(8)} ${pad(r.rps, 7)} ${pad(r.p50, 9)} ${pad(r.p99, 9)} ` : `| ${"-".padEnd(36)} `;
  }
  console.log(line);
}
console.log();
for (const [op, byLabel] of rows)
  for (const l of labels) {
    const r = byLabel[l];
    if (r) console.log(`${l} ${op}: ${r.n} requests, ${r.non2xx} non-2xx, ${r.sock} socket errors/timeouts${r.extra ? "; " + r.extra : ""}`);
  }
' "$results" joinedup medplum | tee "$results/table.txt"
echo "(wrk output and logs in $results)"
