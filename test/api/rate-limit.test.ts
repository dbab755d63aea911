/**
 * Requests per API key per second, shared by every node through Redis: over the limit a key gets 429 with
 * Retry-After; other keys are unaffected; the next second the key may call again.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount } from '../support/seed';

let infra: TestInfra;
let nodes: ExchangeNode[] = [];
let busy: string;
let quiet: string;
let leasing: ExchangeNode[] = [];

beforeAll(async () => {
  infra = await createTestInfra('api_rate');
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  const env = { API_RATE_LIMIT_PER_SECOND: '5', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' };
  nodes = [await startTestNode(infra, env), await startTestNode(infra, { ...env, RECORDER_ENABLED: 'false' })];
  // A limit of 100 leases in chunks of 2 (a fiftieth): the budget is leased from Redis, not counted per request.
  const wide = { ...env, API_RATE_LIMIT_PER_SECOND: '100', RECORDER_ENABLED: 'false' };
  leasing = [await startTestNode(infra, wide), await startTestNode(infra, wide)];
  busy = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' })).key;
  quiet = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' })).key;
});

afterAll(async () => {
  for (const n of [...nodes, ...leasing]) await n.stop();
  await infra?.cleanup();
});

const balance = (node: ExchangeNode, key: string) =>
  fetch(`http://127.0.0.1:${node.httpPort}/v1/accounts/buyer/balance`, { headers: { authorization: `Bearer ${key}` } });

it('a key over its limit gets 429 with Retry-After on any node; another key is not affected', async () => {
  // Start at the beginning of a second so the burst falls in one window.
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await balance(nodes[i % 2]!, busy)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  const refused = await balance(nodes[1]!, busy);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
  expect((await balance(nodes[0]!, quiet)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  expect((await balance(nodes[0]!, busy)).status).toBe(200);
});

it('with a larger limit each node leases a share of the second in chunks; together they still let exactly the limit through', async () => {
  const { key, id } = await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' });
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const second = Math.floor(Date.now() / 1000);
  const first = await balance(leasing[0]!, key);
  expect(first.status).toBe(200);
  expect(first.headers.get('ratelimit-limit')).toBe('100');
  expect(first.headers.get('ratelimit-remaining')).toBe('99');
  // One request took a chunk of 2 from Redis: the second is served from the lease, without a round trip.
  expect(await infra.redis.get(`ratelimit:${id}:${second}`)).toBe('2');
  // The rest of the burst at once, half to each node. A node may be left holding part of its last chunk unused,
  // so up to (nodes - 1) x (chunk - 1) = 1 request can be refused early; never more than the limit goes through.
  const rest = await Promise.all(Array.from({ length: 109 }, (_, i) => balance(leasing[i % 2]!, key)));
  expect(Math.floor(Date.now() / 1000)).toBe(second); // the burst stayed in one window
  const ok = [first, ...rest].filter((r) => r.status === 200).length;
  expect(ok).toBeGreaterThanOrEqual(99);
  expect(ok).toBeLessThanOrEqual(100);
  expect(rest.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
  const refused = await balance(leasing[0]!, key);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(refused.headers.get('ratelimit-remaining')).toBe('0');
});
