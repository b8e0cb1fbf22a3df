// Bulk Data $export round trip (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off with
// Prefer: respond-async, poll the status URL until the manifest, download every NDJSON file
// with the bearer token, `joinedup import` them into a fresh SQLite file, and compare: the
// import takes every exported line, the counts equal the population the server was loaded
// from, and `joinedup report` says the same about both databases' people and conditions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fhirFetch, joinedupBin, readNdjson, workDir } from './env.mjs';

const AS_OF = '2026-03-31';

// The counts table `joinedup import` prints: type → imported.
function importedCounts(output) {
  const counts = {};
  for (const line of output.split('\n')) {
    const m = /^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line.trim());
    if (m && m[1] !== 'total') counts[m[1]] = Number(m[3]);
  }
  return counts;
}

// The sections of `joinedup report` that depend only on Patient and Condition records.
function peopleAndConditions(report) {
  const start = report.indexOf('Registered people by age band');
  assert.ok(start >= 0, 'report has an age-band section');
  const end = report.indexOf('\n\n', report.indexOf('Top 15 recorded conditions'));
  return report.slice(start, end < 0 ? undefined : end);
}

async function runExport(kickoffUrl) {
  const kickoff = await fhirFetch(kickoffUrl, { headers: { prefer: 'respond-async' } });
  assert.equal(kickoff.status, 202, `kick-off: ${await kickoff.clone().text()}`);
  const status = kickoff.headers.get('content-location');
  assert.ok(status, 'kick-off answers with Content-Location');

  const deadline = Date.now() + 300_000;
  for (;;) {
    const poll = await fhirFetch(status);
    if (poll.status === 200) return { status, manifest: await poll.json() };
    assert.equal(poll.status, 202, `poll: ${await poll.clone().text()}`);
    assert.ok(poll.headers.has('x-progress') || poll.headers.has('retry-after'), 'a 202 poll says how it is going');
    assert.ok(Date.now() < deadline, 'export finished within 5 minutes');
    await sleep(Math.min(Number(poll.headers.get('retry-after') ?? 1), 1) * 1000);
  }
}

test('system $export re-imports into a fresh SQLite file with the same counts', { timeout: 600_000 }, async () => {
  const { manifest } = await runExport('$export');
  assert.ok(Array.isArray(manifest.output) && manifest.output.length > 0, 'manifest lists output files');
  assert.ok(manifest.transactionTime, 'manifest has transactionTime');
  assert.deepEqual(manifest.error ?? [], []);

  const outDir = path.join(workDir, 'exported');
  mkdirSync(outDir, { recursive: true });
  const exported = {};
  for (const [i, file] of manifest.output.entries()) {
    const response = await fhirFetch(file.url, { headers: { accept: 'application/fhir+ndjson' } });
    assert.equal(response.status, 200, `download ${file.url}`);
    const text = await response.text();
    const lines = text.split('\n').filter((l) => l.length > 0);
    for (const line of lines) assert.equal(JSON.parse(line).resourceType, file.type);
    if (file.count !== undefined) assert.equal(file.count, lines.length, `manifest count of ${file.url}`);
    exported[file.type] = (exported[file.type] ?? 0) + lines.length;
    writeFileSync(path.join(outDir, `${String(i).padStart(3, '0')}.${file.type}.ndjson`), text);
  }

  // Everyone this GP's practice holds, and their Conditions, went out.
  assert.equal(exported.Patient, readNdjson('Patient').length, 'every Patient exported');
  assert.equal(exported.Condition, readNdjson('Condition').length, 'every Condition exported');

  // The export carries the practices its people are registered with (docs/export.md), so the
  // files alone import into an empty store.
  assert.ok(exported.Organization > 0, 'the practices go out with their people');
  const freshDb = path.join(workDir, 'reimported.db');
  const output = execFileSync(joinedupBin, ['import', '--db', freshDb, outDir], { encoding: 'utf8' });
  const imported = importedCounts(output);
  for (const [type, count] of Object.entries(exported)) {
    assert.equal(imported[type], count, `${type}: every exported line imported\n${output}`);
  }

  const original = execFileSync(joinedupBin, ['report', '--db', path.join(workDir, 'joinedup.db'), '--as-of', AS_OF], { encoding: 'utf8' });
  const again = execFileSync(joinedupBin, ['report', '--db', freshDb, '--as-of', AS_OF], { encoding: 'utf8' });
  assert.equal(peopleAndConditions(again), peopleAndConditions(original));
});
