// fhirclient (SMART on FHIR's JavaScript client, npm "fhirclient") walks large searches to
// their end through the server's `next` links: what it collects must be exactly the result set
// the searchset's `total` announces, with no resource twice and none missing.
// Client API: http://docs.smarthealthit.org/client-js/client.html (request with pageLimit: 0
// follows every `next` link; flat: true returns the resources instead of the Bundles).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fhirBase, readNdjson, token } from './env.mjs';

const require = createRequire(import.meta.url);
const smart = require('fhirclient');

// The Node adapter wants a request/response pair only for SMART launches; a client built from
// a server URL and a token response never touches them.
function makeClient() {
  return smart({}, {}).client({ serverUrl: fhirBase, tokenResponse: { access_token: token } });
}

const patients = readNdjson('Patient');

async function walk(client, query) {
  const first = await client.request(query);
  assert.equal(first.resourceType, 'Bundle');
  assert.equal(first.type, 'searchset');
  const resources = await client.request(query, { pageLimit: 0, flat: true });
  return { total: first.total, resources };
}

function assertWholeResultSet({ total, resources }, expected, type) {
  assert.equal(typeof total, 'number', 'searchset has a total');
  assert.equal(total, expected, 'total is the number of matching resources');
  assert.equal(resources.length, total, 'the walk collected exactly total resources');
  const ids = new Set(resources.map((r) => r.id));
  assert.equal(ids.size, resources.length, 'no resource appears twice');
  for (const r of resources) assert.equal(r.resourceType, type);
}

test('fhirclient walks every Patient (_count=50) to the end', async () => {
  const client = makeClient();
  const result = await walk(client, 'Patient?_count=50');
  assert.ok(patients.length >= 1000, 'a search large enough to need many pages');
  assertWholeResultSet(result, patients.length, 'Patient');
  const expectedIds = new Set(patients.map((p) => p.id));
  for (const r of result.resources) assert.ok(expectedIds.has(r.id), `Patient/${r.id} was imported`);
});

test('fhirclient walks Patient?birthdate=le1950-01-01 (_count=50)', async () => {
  const client = makeClient();
  const expected = patients.filter((p) => p.birthDate <= '1950-01-01');
  assert.ok(expected.length > 100, 'the filter matches many pages');
  const result = await walk(client, 'Patient?birthdate=le1950-01-01&_count=50');
  assertWholeResultSet(result, expected.length, 'Patient');
  for (const r of result.resources) assert.ok(r.birthDate <= '1950-01-01', `Patient/${r.id} born ${r.birthDate}`);
});

test('fhirclient walks Patient?_sort=birthdate in order across pages with ties', async () => {
  const client = makeClient();
  const result = await walk(client, 'Patient?_sort=birthdate&_count=50');
  assertWholeResultSet(result, patients.length, 'Patient');
  const dates = result.resources.map((r) => r.birthDate);
  const ties = dates.length - new Set(dates).size;
  assert.ok(ties > 0, 'the population has shared birth dates, so page boundaries fall inside ties');
  for (let i = 1; i < dates.length; i++) assert.ok(dates[i - 1] <= dates[i], `sorted at ${i}: ${dates[i - 1]} then ${dates[i]}`);
});

test('every page but the last is full, and the last is never empty', async () => {
  const client = makeClient();
  const sizes = [];
  await client.request('Patient?birthdate=le1950-01-01&_count=50', {
    pageLimit: 0,
    onPage: (bundle) => sizes.push((bundle.entry ?? []).length),
  });
  assert.ok(sizes.length > 1);
  for (const size of sizes.slice(0, -1)) assert.equal(size, 50);
  assert.ok(sizes.at(-1) > 0 && sizes.at(-1) <= 50, `last page has ${sizes.at(-1)} entries`);
});

test('fhirclient walks one person\'s Conditions (Condition?subject=)', async () => {
  const conditions = readNdjson('Condition');
  const bySubject = new Map();
  for (const c of conditions) {
    const subject = c.subject.reference;
    bySubject.set(subject, (bySubject.get(subject) ?? 0) + 1);
  }
  // The person with the most Conditions, walked 5 to a page.
  const [subject, count] = [...bySubject].sort((a, b) => b[1] - a[1])[0];
  assert.ok(count > 5, `${subject} has ${count} Conditions: more than one page`);
  const client = makeClient();
  const result = await walk(client, `Condition?subject=${subject}&_count=5`);
  assertWholeResultSet(result, count, 'Condition');
  for (const r of result.resources) assert.equal(r.subject.reference, subject);
});
