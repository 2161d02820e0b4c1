// k6 load test of meridian-node's HTTP/JSON gateway (docs/api.md): a bounded mix of upserts and
// searches, checking read-your-writes on the way.
//
//   k6 run k6/upsert_search.js
//   MERIDIAN_URL=http://127.0.0.1:8001 VUS=16 DURATION=2m k6 run k6/upsert_search.js
//
// Each virtual user (VU) is one client session: it upserts vectors with random embeddings under
// ids drawn from a fixed id space, keeps the session token the gateway returns, and searches
// with it. After each of its upserts a VU may search for that very embedding (k=1, session
// consistency): the hit must be the id it just wrote (read-your-writes; metric
// `read_your_writes`; l2 and cosine collections only). Random float32 embeddings make exact
// duplicates practically impossible, and each VU writes its own ids.
//
// Environment variables (all optional):
//   MERIDIAN_URL       gateway base URL                      default http://127.0.0.1:8001
//   COLLECTION         collection name                       default docs
//   DIMENSION          its dimension (checked via /v1/status) default: read from /v1/status
//   VUS                virtual users, 1..64                  default 8
//   DURATION           run time in seconds, 1..600 (or "30s", "2m")   default 30s
//   IDS                ids per VU ("k6-<vu>-0".."k6-<vu>-<IDS-1>")  default 10000
//   SEARCH_RATIO       share of iterations that search, 0..1  default 0.5
//   RYW_RATIO          share of upserts followed by a read-your-writes check, 0..1  default 0.2
//   CONSISTENCY        eventual | session | bounded for the searches  default session
//   MAX_STALENESS_MS   bound for CONSISTENCY=bounded          default 1000
//   K                  hits per search, 1..10000              default 10
//
// The run is bounded (VUs and duration are clamped) and fails its thresholds when more than 1%
// of requests fail, read-your-writes holds for less than 99.9% of checks, or p99 latency
// exceeds 500 ms (upsert) / 250 ms (search). Only 127.0.0.1 is expected here; point
// MERIDIAN_URL elsewhere deliberately.
import http from 'k6/http';
import { check, fail, sleep } from 'k6';
import { Rate, Trend, Counter } from 'k6/metrics';

function envNumber(name, fallback, lo, hi) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) fail(`${name}=${raw} is not a number`);
  return Math.min(hi, Math.max(lo, v));
}

function envDurationSeconds(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(raw.trim());
  if (!m) fail(`${name}=${raw}: use seconds, "45s" or "2m"`);
  const seconds = Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  return Math.min(600, Math.max(1, seconds));
}

const BASE = (__ENV.MERIDIAN_URL || 'http://127.0.0.1:8001').replace(/\/$/, '');
const COLLECTION = __ENV.COLLECTION || 'docs';
const VUS = Math.round(envNumber('VUS', 8, 1, 64));
const DURATION_S = envDurationSeconds('DURATION', 30);
const IDS = Math.round(envNumber('IDS', 10000, 1, 1e9));
const SEARCH_RATIO = envNumber('SEARCH_RATIO', 0.5, 0, 1);
const RYW_RATIO = envNumber('RYW_RATIO', 0.2, 0, 1);
const K = Math.round(envNumber('K', 10, 1, 10000));
const CONSISTENCY = __ENV.CONSISTENCY || 'session';
const MAX_STALENESS_MS = Math.round(envNumber('MAX_STALENESS_MS', 1000, 1, 86400000));
if (!['eventual', 'session', 'bounded'].includes(CONSISTENCY)) {
  fail(`CONSISTENCY=${CONSISTENCY}: use eventual, session or bounded`);
}

export const options = {
  scenarios: {
    mixed: {
      executor: 'constant-vus',
      vus: VUS,
      duration: `${DURATION_S}s`,
      gracefulStop: '10s',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    read_your_writes: ['rate>0.999'],
    'http_req_duration{op:upsert}': ['p(99)<500'],
    'http_req_duration{op:search}': ['p(99)<250'],
  },
};

const readYourWrites = new Rate('read_your_writes');
const staleAnswers = new Rate('search_stale');
const stalenessMs = new Trend('search_staleness_ms');
const forwarded = new Counter('searches_forwarded');

const JSON_HEADERS = { headers: { 'Content-Type': 'application/json' } };

// Per VU (module state is per VU in k6): the session token of this client.
let sessionToken = '';

export function setup() {
  const health = http.get(`${BASE}/healthz`);
  if (health.status !== 200) fail(`${BASE}/healthz answered ${health.status}: ${health.body}`);
  // A node serves /v1/status before it takes writes (recovered: false while it reads its own
  // log and waits for its consumer): wait for it, up to 60 s, instead of counting its 503s.
  let status = http.get(`${BASE}/v1/status`);
  for (let i = 0; i < 600 && status.status === 200 && !status.json('recovered'); i++) {
    sleep(0.1);
    status = http.get(`${BASE}/v1/status`);
  }
  if (status.status !== 200) fail(`${BASE}/v1/status answered ${status.status}`);
  if (!status.json('recovered')) fail(`${BASE} still recovering after 60 s`);
  const collection = status.json('collections').find((c) => c.name === COLLECTION);
  if (!collection) fail(`no collection '${COLLECTION}' on ${BASE}`);
  const dimension = Math.round(envNumber('DIMENSION', collection.dimension, 1, 4096));
  if (dimension !== collection.dimension) {
    fail(`DIMENSION=${dimension} but '${COLLECTION}' has ${collection.dimension}`);
  }
  // With inner product a vector's best match need not be itself: no read-your-writes probe then.
  return { dimension, probe: collection.metric !== 'ip' };
}

function randomEmbedding(dimension) {
  const v = new Array(dimension);
  for (let i = 0; i < dimension; i++) v[i] = Math.random() * 2 - 1;
  return v;
}

function search(query, k, tag) {
  const body = { query, k, consistency: CONSISTENCY };
  if (CONSISTENCY === 'session') body.session_token = sessionToken;
  if (CONSISTENCY === 'bounded') body.max_staleness_ms = MAX_STALENESS_MS;
  if (tag) body.tag = tag;
  const res = http.post(`${BASE}/v1/collections/${COLLECTION}/search`, JSON.stringify(body),
    Object.assign({ tags: { op: 'search' } }, JSON_HEADERS));
  if (res.status === 200) {
    staleAnswers.add(res.json('stale') === true);
    stalenessMs.add(res.json('staleness_ms'));
    if (res.json('forwarded') === true) forwarded.add(1);
  }
  return res;
}

export default function (data) {
  if (Math.random() < SEARCH_RATIO) {
    const res = search(randomEmbedding(data.dimension), K, null);
    check(res, { 'search 200': (r) => r.status === 200 });
    return;
  }
  // Each VU has its own ids, so no other session overwrites what this one checks.
  const id = `k6-${__VU}-${Math.floor(Math.random() * IDS)}`;
  const embedding = randomEmbedding(data.dimension);
  const body = {
    id,
    embedding,
    payload: { fields: { vu: String(__VU) }, tags: ['k6'] },
    session_token: sessionToken,
  };
  const res = http.post(`${BASE}/v1/collections/${COLLECTION}/vectors`, JSON.stringify(body),
    Object.assign({ tags: { op: 'upsert' } }, JSON_HEADERS));
  if (!check(res, { 'upsert 200': (r) => r.status === 200 })) return;
  sessionToken = res.json('session_token');

  if (data.probe && Math.random() < RYW_RATIO) {
    // Our own write must be visible to our session: its embedding's nearest neighbour is itself.
    const r = http.post(`${BASE}/v1/collections/${COLLECTION}/search`,
      JSON.stringify({ query: embedding, k: 1, consistency: 'session', session_token: sessionToken }),
      Object.assign({ tags: { op: 'search' } }, JSON_HEADERS));
    const ok = r.status === 200 && r.json('hits').length === 1 && r.json('hits')[0].id === id;
    readYourWrites.add(ok);
  }
}
