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
//
// A GET that fails because the server closed an idle keep-alive connection just as the request
// went out (undici: UND_ERR_SOCKET "other side closed", no response) is sent once more on a new
// connection, as browsers do: RFC 9110 §9.2.2 lets a client retry an idempotent request
// automatically. The race is the client's: the server announces `Keep-Alive: timeout=5`, but
// undici's idle timer cannot fire while the test parses a 58 MB export file synchronously, so the
// next request can go out on a connection the server has just closed.
export async function fhirFetch(relative, init = {}) {
  const url = relative.startsWith('http') ? relative : `${fhirBase}/${relative}`;
  const request = () =>
    fetch(url, {
      ...init,
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...init.headers },
    });
  const method = (init.method ?? 'GET').toUpperCase();
  try {
    return await request();
  } catch (error) {
    const idempotent = method === 'GET' || method === 'HEAD';
    if (!idempotent || error?.cause?.code !== 'UND_ERR_SOCKET') throw error;
    return request();
  }
}
