/**
 * Every route under /v1, taken from the app itself and from the route table that /openapi.json documents: each
 * served route is documented and each documented route is served; none answers without a key; each refuses the
 * roles it does not list; each with a JSON body refuses a body of the wrong shape with a stable error code. (Each
 * resource's own test file checks success and cross-account refusals with real data.)
 */
import { apiRouteDocs, type ExchangeNode } from '../../app/exchange-node';
import { createApiKey, type Role } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount } from '../support/seed';
import { startTestNode } from '../support/node';

let infra: TestInfra;
let node: ExchangeNode;
const keys = {} as Record<Role, string>;
const ROLES: Role[] = ['admin', 'agent', 'seller', 'buyer'];

beforeAll(async () => {
  infra = await createTestInfra('api_route_guards');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  // Hundreds of requests per key within a second: the rate limit is not what this file tests.
  node = await startTestNode(infra, { API_RATE_LIMIT_PER_SECOND: '100000' });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
  keys.buyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** The (method, path) of every route the app serves, found by walking its routers. */
function servedRoutes(stack: Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const [m, on] of Object.entries(layer.route.methods)) if (on) out.push(`${m} ${layer.route.path}`);
    } else if (layer.handle?.stack) {
      out.push(...servedRoutes(layer.handle.stack));
    }
  }
  return out;
}

/** A concrete URL for a documented path: each parameter becomes a value that names nothing. */
const urlOf = (path: string): string => path.replace(/:[A-Za-z]+/g, 'nothing-here');

async function send(method: string, path: string, key: string | undefined, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method: method.toUpperCase(),
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: (await r.json()) as { error?: { code: string; message: string; field?: string } } };
}

const v1Docs = apiRouteDocs.filter((d) => d.path.startsWith('/v1/'));

it('serves exactly the documented /v1 routes', () => {
  const served = servedRoutes((node.api as unknown as { router: { stack: Layer[] } }).router.stack).filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
  const documented = v1Docs.map((d) => `${d.method} ${d.path}`);
  expect([...new Set(served)].sort()).toEqual([...new Set(documented)].sort());
  expect(v1Docs.length).toBeGreaterThan(40);
});

it('answers 401 with the error shape to a request without a key, or with an unknown key, on every route', async () => {
  for (const d of v1Docs) {
    for (const key of [undefined, 'not-a-key']) {
      const r = await send(d.method, urlOf(d.path), key);
      expect([`${d.method} ${d.path}`, r.status, r.json.error?.code]).toEqual([`${d.method} ${d.path}`, 401, 'unauthenticated']);
      expect(typeof r.json.error?.message).toBe('string');
    }
  }
});

it('refuses every role a route does not list with 403 forbidden', async () => {
  let refusals = 0;
  for (const d of v1Docs) {
    expect(d.roles.length).toBeGreaterThan(0);
    for (const role of ROLES.filter((r) => !d.roles.includes(r))) {
      const r = await send(d.method, urlOf(d.path), keys[role], d.method === 'get' || d.method === 'delete' ? undefined : {});
      expect([`${role} ${d.method} ${d.path}`, r.status, r.json.error?.code]).toEqual([`${role} ${d.method} ${d.path}`, 403, 'forbidden']);
      refusals += 1;
    }
  }
  expect(refusals).toBeGreaterThan(50);
});

it('refuses a JSON body of the wrong shape on every route that takes one, and the route exists for a role it lists', async () => {
  for (const d of v1Docs) {
    const role = d.roles[0]!;
    if (d.body && !d.textBody) {
      const r = await send(d.method, urlOf(d.path), keys[role], ['not', 'an', 'object']);
      expect([`${d.method} ${d.path}`, r.status]).toEqual([`${d.method} ${d.path}`, expect.any(Number)]);
      // The parameters name nothing, so a route may answer 404 for them before it reads the body; otherwise 400.
      if (r.status !== 404) expect([`${d.method} ${d.path}`, r.status, r.json.error?.code]).toEqual([`${d.method} ${d.path}`, 400, 'validation_failed']);
      else expect(r.json.error?.message).not.toBe('no such route');
    } else if (d.method === 'get') {
      const r = await send(d.method, urlOf(d.path), keys[role]);
      expect([`${d.method} ${d.path}`, r.json.error?.message]).not.toEqual([`${d.method} ${d.path}`, 'no such route']);
      expect(r.status).toBeLessThan(500);
    }
  }
});
