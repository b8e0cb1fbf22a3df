// Writes the request inputs the wrk scripts draw from, from the generated NDJSON:
//   node inputs.mjs NDJSON_DIR OUT_DIR PRACTICE
// patient_ids.txt and nhs_numbers.txt: the Patients registered with PRACTICE (the benchmark's
// GP may see only those: a legitimate relationship, security/policy.h); condition_subjects.txt:
// those of them with at least one Condition. Prints how many of each.
import { createReadStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [dir, out, practice] = process.argv.slice(2);
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

async function* resources(type) {
  const lines = readline.createInterface({ input: createReadStream(path.join(dir, `${type}.ndjson`)) });
  for await (const line of lines) if (line) yield JSON.parse(line);
}

const ids = [];
const numbers = [];
for await (const p of resources('Patient')) {
  if (!(p.generalPractitioner ?? []).some((gp) => gp.reference === `Organization/${practice}`)) continue;
  ids.push(p.id);
  // Beyond 909,090 people the synthetic population has no NHS numbers left (the 999 range).
  const nhs = (p.identifier ?? []).find((i) => i.system === NHS);
  if (nhs) numbers.push(nhs.value);
}
const mine = new Set(ids);
const subjects = new Set();
for await (const c of resources('Condition')) {
  const id = c.subject.reference.replace(/^Patient\//, '');
  if (mine.has(id)) subjects.add(id);
}
writeFileSync(path.join(out, 'patient_ids.txt'), ids.join('\n') + '\n');
writeFileSync(path.join(out, 'nhs_numbers.txt'), numbers.join('\n') + '\n');
writeFileSync(path.join(out, 'condition_subjects.txt'), [...subjects].join('\n') + '\n');
console.log(`${ids.length} patients of ${practice}, ${subjects.size} with Conditions`);
