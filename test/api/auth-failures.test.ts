/**
 * Unknown keys are rate limited per source address (issue 13, finding 8): after API_AUTH_FAILURES_PER_MINUTE
 * failed authentications an address gets 429 with Retry-After, on every node, before any key is looked up in
 * Postgres (even a valid key from that address waits out the minute). Requests with no key do not count.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';

let infra: TestInfra;
let nodes: ExchangeNode[] = [];
let valid: string;

beforeAll(async () => {
  infra = await createTestInfra('api_auth_failures');
  const env = { API_AUTH_FAILURES_PER_MINUTE: '10', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' };
  nodes = [await startTestNode(infra, env), await startTestNode(infra, { ...env, RECORDER_ENABLED: 'false' })];
  valid = (await createApiKey(infra.pool, { role: 'admin' })).key;
});

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await infra?.cleanup();
});

const get = (node: ExchangeNode, key?: string) =>
  fetch(`http://127.0.0.1:${node.httpPort}/v1/calls`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

it('an address guessing keys is refused with 429 on every node, before any key lookup, for the rest of the minute', async () => {
  // The window is a calendar minute: start well inside one so the burst does not straddle two.
  if (Date.now() % 60_000 > 45_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
  // Requests without a key cost no lookup and do not count.
  for (let i = 0; i < 15; i++) expect((await get(nodes[0]!)).status).toBe(401);
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await get(nodes[i % 2]!, `cx_guess${i}`)).status);
  expect(statuses).toEqual(Array(10).fill(401));

  const lookups = nodes.map((n) => jest.spyOn(n.pool, 'query'));
  for (const node of nodes) {
    const refused = await get(node, 'cx_guess-more');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Refused before the lookup: a valid key from this address waits too.
    expect((await get(node, valid)).status).toBe(429);
  }
  for (const spy of lookups) {
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  }
});

it('is off with API_AUTH_FAILURES_PER_MINUTE=0', async () => {
  const other = await createTestInfra('api_auth_failures_off');
  const node = await startTestNode(other, { API_AUTH_FAILURES_PER_MINUTE: '0', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', RECORDER_ENABLED: 'false' });
  try {
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => get(node, `cx_guess${i}`).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([401]));
  } finally {
    await node.stop();
    await other.cleanup();
  }
});

it('an address under the limit is not looked up in Redis on every request', async () => {
  const other = await createTestInfra('api_auth_failures_cached');
  const node = await startTestNode(other, { API_AUTH_FAILURES_PER_MINUTE: '10', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', RECORDER_ENABLED: 'false' });
  try {
    const key = (await createApiKey(other.pool, { role: 'admin' })).key;
    if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
    const reads = jest.spyOn(node.redis, 'get');
    const started = Date.now();
    for (let i = 0; i < 20; i++) expect((await get(node, key)).status).toBe(200);
    const authReads = reads.mock.calls.filter(([k]) => String(k).startsWith('authfail:')).length;
    // One read per second of requests at most (ALLOWED_TTL_MS), not one per request.
    expect(authReads).toBeGreaterThanOrEqual(1);
    expect(authReads).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 1000));
    reads.mockRestore();
  } finally {
    await node.stop();
    await other.cleanup();
  }
});
