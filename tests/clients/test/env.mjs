// What run_client_tests.sh hands the tests: the server, a GP's bearer token, and the NDJSON the
// database was imported from (the independent source of expected counts).
import { readFileSync } from 'node:fs';
import path from 'node:path';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/clients/run_client_tests.sh`);
  return value;
}

export const fhirBase = required('JOINEDUP_FHIR_BASE');
export const token = required('JOINEDUP_TOKEN');
export const ndjsonDir = required('JOINEDUP_NDJSON_DIR');
export const workDir = required('JOINEDUP_WORK_DIR');
export const joinedupBin = required('JOINEDUP_BIN');
export const practice = required('JOINEDUP_PRACTICE');

// The resources of one type in the imported NDJSON.
export function readNdjson(type) {
  return readFileSync(path.join(ndjsonDir, `${type}.ndjson`), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

// A plain fetch against the FHIR base with the bearer token.
export function fhirFetch(relative, init = {}) {
  const url = relative.startsWith('http') ? relative : `${fhirBase}/${relative}`;
  return fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...init.headers },
  });
}
