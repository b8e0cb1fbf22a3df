// fhir-kit-client (npm "fhir-kit-client") does create, read, update with If-Match from the ETag,
// and search on Patient and Condition; a stale If-Match gets 412 and changes nothing.
// Client API: https://github.com/Vermonster/fhir-kit-client (create/read/update/search;
// Client.httpFor(resource).response is the fetch Response, for the ETag header).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { Client } from 'fhir-kit-client';
import { fhirBase, practice, token } from './env.mjs';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const client = new Client({ baseUrl: fhirBase, bearerToken: token });

function etagOf(resource) {
  return Client.httpFor(resource).response.headers.get('etag');
}

// A valid NHS number (modulus 11 check digit, NHS Data Dictionary "NHS Number") in the 999
// range the synthetic population also uses; the caller checks nobody has it.
function randomNhsNumber() {
  for (;;) {
    const digits = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return digits + check;
  }
}

async function expectStatus(promise, status) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.response?.status, status, err.message);
    return true;
  });
}

async function unusedNhsNumber() {
  for (;;) {
    const candidate = randomNhsNumber();
    const found = await client.search({ resourceType: 'Patient', searchParams: { identifier: `${NHS}|${candidate}` } });
    if (found.total === 0) return candidate;
  }
}

test('Patient: create, read, update with If-Match, stale If-Match is 412, search', async () => {
  const nhsNumber = await unusedNhsNumber();
  const created = await client.create({
    resourceType: 'Patient',
    body: {
      resourceType: 'Patient',
      identifier: [{ system: NHS, value: nhsNumber }],
      name: [{ use: 'official', family: 'Kit-Client', given: ['Ada'] }],
      gender: 'female',
      birthDate: '1946-05-17',
      generalPractitioner: [{ reference: `Organization/${practice}` }],
      meta: { versionId: '77', lastUpdated: '2001-01-01T00:00:00Z' },
    },
  });
  assert.equal(created.resourceType, 'Patient');
  assert.ok(created.id, 'the server assigned an id');
  assert.equal(created.meta.versionId, '1', "versionId is the server's, not the client's");
  assert.notEqual(created.meta.lastUpdated, '2001-01-01T00:00:00Z');
  assert.equal(etagOf(created), 'W/"1"');

  const read = await client.read({ resourceType: 'Patient', id: created.id });
  assert.equal(read.id, created.id);
  assert.deepEqual(read.identifier.find((i) => i.system === NHS)?.value, nhsNumber);
  assert.equal(read.name[0].family, 'Kit-Client');
  assert.equal(read.birthDate, '1946-05-17');
  const etag = etagOf(read);
  assert.equal(etag, 'W/"1"');

  // One given name: joinedup stores given names joined by a space (docs/fhir-mapping.md).
  const changed = { ...read, name: [{ use: 'official', family: 'Kit-Client-Updated', given: ['Adaline'] }] };
  const updated = await client.update({
    resourceType: 'Patient',
    id: created.id,
    body: changed,
    options: { headers: { 'If-Match': etag } },
  });
  assert.equal(updated.meta.versionId, '2');
  assert.equal(etagOf(updated), 'W/"2"');
  assert.equal(updated.name[0].family, 'Kit-Client-Updated');
  assert.deepEqual(updated.name[0].given, ['Adaline']);

  // The same stale ETag again: 412, and the stored version is still 2 with the second name.
  await expectStatus(
    client.update({
      resourceType: 'Patient',
      id: created.id,
      body: { ...read, gender: 'male' },
      options: { headers: { 'If-Match': etag } },
    }),
    412,
  );
  const after = await client.read({ resourceType: 'Patient', id: created.id });
  assert.equal(after.meta.versionId, '2');
  assert.equal(after.gender, 'female');
  assert.equal(after.name[0].family, 'Kit-Client-Updated');
  assert.deepEqual(after.name[0].given, ['Adaline']);

  const byIdentifier = await client.search({ resourceType: 'Patient', searchParams: { identifier: `${NHS}|${nhsNumber}` } });
  assert.equal(byIdentifier.type, 'searchset');
  assert.equal(byIdentifier.total, 1);
  assert.equal(byIdentifier.entry.length, 1);
  assert.equal(byIdentifier.entry[0].resource.id, created.id);

  const byName = await client.search({
    resourceType: 'Patient',
    searchParams: { family: 'kit-client-upd', given: 'adal', birthdate: '1946-05-17' },
  });
  assert.deepEqual(
    byName.entry.map((e) => e.resource.id),
    [created.id],
  );

  await expectStatus(client.read({ resourceType: 'Patient', id: `${created.id}-no-such` }), 404);
});

test('Condition: create for a new Patient, read, update with If-Match, search by subject and code', async () => {
  const patient = await client.create({
    resourceType: 'Patient',
    body: {
      resourceType: 'Patient',
      identifier: [{ system: NHS, value: await unusedNhsNumber() }],
      name: [{ family: 'Conditional', given: ['Ben'] }],
      gender: 'male',
      birthDate: '1939-11-02',
      generalPractitioner: [{ reference: `Organization/${practice}` }],
    },
  });
  const subject = `Patient/${patient.id}`;
  const snomed = 'http://snomed.info/sct';
  const created = await client.create({
    resourceType: 'Condition',
    body: {
      resourceType: 'Condition',
      subject: { reference: subject },
      code: { coding: [{ system: snomed, code: '44054006', display: 'Diabetes mellitus type 2' }] },
      onsetDateTime: '2019-04-01',
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
    },
  });
  assert.ok(created.id);
  assert.equal(created.meta.versionId, '1');
  assert.equal(created.subject.reference, subject);

  const read = await client.read({ resourceType: 'Condition', id: created.id });
  assert.equal(read.code.coding[0].code, '44054006');
  assert.equal(etagOf(read), 'W/"1"');

  const updated = await client.update({
    resourceType: 'Condition',
    id: created.id,
    body: { ...read, onsetDateTime: '2018-09-12' },
    options: { headers: { 'If-Match': etagOf(read) } },
  });
  assert.equal(updated.meta.versionId, '2');
  assert.equal(etagOf(updated), 'W/"2"');
  await expectStatus(
    client.update({
      resourceType: 'Condition',
      id: created.id,
      body: { ...read, onsetDateTime: '2017-01-01' },
      options: { headers: { 'If-Match': 'W/"1"' } },
    }),
    412,
  );
  const after = await client.read({ resourceType: 'Condition', id: created.id });
  assert.equal(after.meta.versionId, '2');
  assert.ok(after.onsetDateTime.startsWith('2018-09-12'), after.onsetDateTime);

  const bySubject = await client.search({ resourceType: 'Condition', searchParams: { subject } });
  assert.equal(bySubject.total, 1);
  assert.equal(bySubject.entry[0].resource.id, created.id);
  const byCode = await client.search({
    resourceType: 'Condition',
    searchParams: { patient: subject, code: `${snomed}|44054006` },
  });
  assert.deepEqual(
    byCode.entry.map((e) => e.resource.id),
    [created.id],
  );
  const otherCode = await client.search({
    resourceType: 'Condition',
    searchParams: { subject, code: `${snomed}|73211009` },
  });
  assert.equal(otherCode.total, 0);
  assert.equal(otherCode.entry, undefined);
});
