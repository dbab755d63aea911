/**
 * Revocation and pausing take effect on every node within a second (issue 13, findings 4, 5 and 6). Two nodes on one
 * schema and Redis prefix: a key revoked (or an account paused) through node A is refused by node B, which had it
 * cached, within a second; B's open /live sockets of that key or account are told why and closed; a bid batch sent
 * after the revocation is not applied. DELETE /v1/api-keys/:keyId revokes admin and agent keys too.
 */
import type { Socket } from 'socket.io-client';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { connectLive } from '../support/live-client';
import { startTestNode } from '../support/node';

let infra: TestInfra;
let a: ExchangeNode;
let b: ExchangeNode;
let admin: string;
const sockets: Socket[] = [];
const env = { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', RECORDER_ENABLED: 'false' };

beforeAll(async () => {
  infra = await createTestInfra('api_revocation');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'paused', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: ['+18885550490'] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'c', bidCents: 1000 });
  await seedTarget(infra.pool, { id: 'tp', buyerId: 'paused', campaignId: 'c', bidCents: 1000 });
  a = await startTestNode(infra, env);
  b = await startTestNode(infra, env);
  admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await a?.stop();
  await b?.stop();
  await infra?.cleanup();
});

const api = async (node: ExchangeNode, method: string, path: string, key: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as any };
};
async function live(node: ExchangeNode, key: string) {
  const c = await connectLive(node.httpPort, key);
  sockets.push(c.socket);
  const closed = new Promise<{ at: number; revoked?: { code: string; message: string } }>((resolve) => {
    let revoked: { code: string; message: string } | undefined;
    c.socket.on('access_revoked', (r) => { revoked = r; });
    c.socket.on('disconnect', () => resolve({ at: Date.now(), revoked }));
  });
  return { socket: c.socket, closed };
}
/** Polls a request on a node until it answers `status`; how long that took. */
async function msUntil(status: number, request: () => Promise<{ status: number }>, since: number): Promise<number> {
  for (;;) {
    if ((await request()).status === status) return Date.now() - since;
    if (Date.now() - since > 5_000) throw new Error(`still no ${status} after 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const bidOf = async (id: string) => (await infra.pool.query('SELECT bid_cents::int AS b FROM buyer_targets WHERE id = $1', [id])).rows[0].b as number;

it('a key revoked on node A is refused by node B within a second, and B closes its open socket', async () => {
  const k = await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' });
  expect((await api(b, 'GET', '/v1/targets/t', k.key)).status).toBe(200); // cached on B now
  const { socket, closed } = await live(b, k.key);

  const revokedAt = Date.now();
  expect((await api(a, 'DELETE', `/v1/api-keys/${k.id}`, admin)).json).toMatchObject({ id: k.id, revokedAt: expect.any(String) });
  // Sent right after the revocation, before or after B hears of it: either way it is not applied.
  const late = socket.timeout(1_500).emitWithAck('bids:update', { targetId: 't', bidCents: 4242 }).catch((err: Error) => ({ notAnswered: err.message }));
  const refusedAfter = await msUntil(401, () => api(b, 'GET', '/v1/targets/t', k.key), revokedAt);
  expect(refusedAfter).toBeLessThan(1_000);
  const close = await closed;
  expect(close.at - revokedAt).toBeLessThan(1_000);
  expect(close.revoked).toEqual({ code: 'unauthenticated', message: 'unknown or revoked API key' });
  const reply = await late;
  expect(reply).not.toEqual({ results: [expect.objectContaining({ ok: true })] });
  expect(await bidOf('t')).toBe(1000);
  // A new socket with the key is refused too.
  await expect(connectLive(b.httpPort, k.key)).rejects.toThrow(/unknown or revoked/);
});

it('a bid batch on a socket whose key was revoked in the meantime is refused by the write itself', async () => {
  const k = await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' });
  const { socket } = await live(b, k.key);
  // Revoked behind the nodes' backs (no message): the socket is still open, the write still refuses the batch.
  await infra.pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [k.id]);
  expect(await socket.timeout(5_000).emitWithAck('bids:update', { targetId: 't', bidCents: 4343 })).toEqual({ results: [{ targetId: 't', ok: false, error: 'key_refused' }] });
  expect(await bidOf('t')).toBe(1000);
});

it('admin and agent keys can be revoked (DELETE /v1/api-keys/:keyId), on every node', async () => {
  const agent = await createApiKey(infra.pool, { role: 'agent' });
  const otherAdmin = await createApiKey(infra.pool, { role: 'admin' });
  for (const k of [agent, otherAdmin]) expect((await api(b, 'GET', '/v1/campaigns/c', k.key)).status).toBe(200);
  const { closed } = await live(b, agent.key);
  const at = Date.now();
  expect((await api(a, 'DELETE', `/v1/api-keys/${agent.id}`, admin)).status).toBe(200);
  expect((await api(a, 'DELETE', `/v1/api-keys/${otherAdmin.id}`, admin)).status).toBe(200);
  for (const k of [agent, otherAdmin]) expect(await msUntil(401, () => api(b, 'GET', '/v1/campaigns/c', k.key), at)).toBeLessThan(1_000);
  expect((await closed).at - at).toBeLessThan(1_000);
  expect((await api(a, 'DELETE', `/v1/api-keys/${agent.id}`, admin)).status).toBe(404); // already revoked
  expect((await api(a, 'DELETE', '/v1/api-keys/key_000000000000', admin)).status).toBe(404);
});

it("a paused account's keys are refused on every node, REST and socket.io, until it is reactivated; platform keys are unaffected", async () => {
  const k = await createApiKey(infra.pool, { role: 'buyer', accountId: 'paused' });
  expect((await api(b, 'GET', '/v1/targets/tp', k.key)).status).toBe(200);
  const { socket, closed } = await live(b, k.key);
  const at = Date.now();
  expect((await api(a, 'PATCH', '/v1/accounts/paused', admin, { active: false })).status).toBe(200);
  expect(await msUntil(403, () => api(b, 'GET', '/v1/targets/tp', k.key), at)).toBeLessThan(1_000);
  const refused = await api(b, 'POST', '/v1/targets', k.key, { id: 'tp2', buyerAccountId: 'paused', campaignId: 'c', name: 'x', bidCents: 1, destination: 'sip:x@buyer.example' });
  expect(refused).toEqual({ status: 403, json: { error: { code: 'account_paused', message: 'account paused is paused: its keys are refused until the platform reactivates it' } } });
  const close = await closed;
  expect(close.at - at).toBeLessThan(1_000);
  expect(close.revoked?.code).toBe('account_paused');
  expect(socket.connected).toBe(false);
  await expect(connectLive(b.httpPort, k.key)).rejects.toThrow(/account_paused/);
  expect((await api(b, 'GET', '/v1/targets/tp', admin)).status).toBe(200);

  const back = Date.now();
  expect((await api(a, 'PATCH', '/v1/accounts/paused', admin, { active: true })).status).toBe(200);
  expect(await msUntil(200, () => api(b, 'GET', '/v1/targets/tp', k.key), back)).toBeLessThan(1_000);
  const again = await live(b, k.key);
  expect(again.socket.connected).toBe(true);
});
