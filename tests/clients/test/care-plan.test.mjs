// fhir-kit-client creates and reads a CarePlan with its Goals and Tasks (issue 12): the plan
// names its goals, each task carries out the plan (focus, basedOn) with an owner and a due time
// (Task.restriction.period.end); the client then searches tasks by owner, status and due date,
// and the plan with _include=CarePlan:goal. Client API: https://github.com/Vermonster/fhir-kit-client.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { Client } from 'fhir-kit-client';
import { fhirBase, practice, token } from './env.mjs';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const client = new Client({ baseUrl: fhirBase, bearerToken: token });

// A valid NHS number in the 999 test range nobody holds yet (as fhir-kit-client.test.mjs).
async function unusedNhsNumber() {
  for (;;) {
    const digits = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
    const check = (11 - (sum % 11)) % 11;
    if (check === 10) continue;
    const candidate = digits + check;
    const found = await client.search({ resourceType: 'Patient', searchParams: { identifier: `${NHS}|${candidate}` } });
    if (found.total === 0) return candidate;
  }
}

test('CarePlan with Goals and Tasks: create, read, search by owner, status and due, _include', async () => {
  const patient = await client.create({
    resourceType: 'Patient',
    body: {
      resourceType: 'Patient',
      identifier: [{ system: NHS, value: await unusedNhsNumber() }],
      name: [{ family: 'Planned', given: ['Ada'] }],
      gender: 'female',
      birthDate: '1938-02-11',
      generalPractitioner: [{ reference: `Organization/${practice}` }],
    },
  });
  const subject = { reference: `Patient/${patient.id}` };
  const goal = (text, dueDate) => ({
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    description: { text },
    subject,
    target: [{ dueDate }],
  });
  const bed = await client.create({ resourceType: 'Goal', body: goal('To get myself to bed on my own', '2026-06-30') });
  const home = await client.create({ resourceType: 'Goal', body: goal('To stay in my own home', '2027') });
  assert.equal(bed.meta.versionId, '1');
  assert.equal(bed.description.text, 'To get myself to bed on my own');

  const midday = "No visit in the middle of the day: I'd soon lose my confidence if someone was doing everything for me";
  const plan = await client.create({
    resourceType: 'CarePlan',
    body: {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      title: 'My care and support plan',
      subject,
      period: { start: '2026-04-20' },
      goal: [{ reference: `Goal/${bed.id}` }, { reference: `Goal/${home.id}` }],
      activity: [
        { detail: { status: 'in-progress', description: 'Carers twice a day to help me get up and get to bed' } },
        { detail: { status: 'cancelled', doNotPerform: true, description: midday } },
      ],
    },
  });
  const task = (description, owner, status, due) => ({
    resourceType: 'Task',
    status,
    intent: 'order',
    description,
    for: subject,
    focus: { reference: `CarePlan/${plan.id}` },
    basedOn: [{ reference: `CarePlan/${plan.id}` }],
    owner: { reference: owner },
    restriction: { period: { end: due } },
  });
  const ot = await client.create({
    resourceType: 'Task',
    body: task('Occupational-therapy home visit', 'Practitioner/ot-kit', 'requested', '2026-05-01T17:00:00+01:00'),
  });
  const review = await client.create({
    resourceType: 'Task',
    body: task('Review the plan at four weeks', 'Practitioner/cm-kit', 'requested', '2026-05-18T12:00:00Z'),
  });
  await client.create({
    resourceType: 'Task',
    body: task('Set up a system for my tablets', 'Practitioner/cm-kit', 'completed', '2026-04-25'),
  });

  const read = await client.read({ resourceType: 'CarePlan', id: plan.id });
  assert.equal(read.subject.reference, `Patient/${patient.id}`);
  assert.deepEqual(read.goal.map((g) => g.reference).sort(), [`Goal/${bed.id}`, `Goal/${home.id}`].sort());
  assert.equal(read.activity[1].detail.description, midday, 'her words, as written');
  const readTask = await client.read({ resourceType: 'Task', id: ot.id });
  assert.equal(readTask.restriction.period.end, '2026-05-01T17:00:00+01:00');

  const ids = (bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource.id).sort();
  const byOwner = await client.search({
    resourceType: 'Task',
    searchParams: { owner: 'Practitioner/cm-kit', status: 'requested', patient: patient.id },
  });
  assert.deepEqual(ids(byOwner), [review.id]);
  const dueBy = await client.search({ resourceType: 'Task', searchParams: { patient: patient.id, due: 'le2026-05-01' } });
  assert.equal(dueBy.total, 2, 'the OT visit (16:00Z on 1 May) and the tablets (25 April)');
  const dueInMay = await client.search({ resourceType: 'Task', searchParams: { focus: `CarePlan/${plan.id}`, due: '2026-05' } });
  assert.deepEqual(ids(dueInMay), [ot.id, review.id].sort());

  const withGoals = await client.search({
    resourceType: 'CarePlan',
    searchParams: { patient: patient.id, _include: 'CarePlan:goal' },
  });
  assert.deepEqual(ids(withGoals), [plan.id]);
  const included = withGoals.entry.filter((e) => e.search.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`);
  assert.deepEqual(included.sort(), [`Goal/${bed.id}`, `Goal/${home.id}`].sort());
});
