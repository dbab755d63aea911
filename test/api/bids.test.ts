/**
 * Standing bids changed over socket.io (single and batched, acknowledged per update) and REST; the next call
 * through the FreeSWITCH peer is auctioned on the new bid, on a node that did not reload its config.
 */
import { io as connect, type Socket } from 'socket.io-client';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const sockets: Socket[] = [];
const DID = '+18885550470';
const A = '+15551230071';
const B = '+15551230072';

beforeAll(async () => {
  infra = await createTestInfra('api_bids');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer-a', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'buyer-b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: [DID], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 'ta', buyerId: 'buyer-a', campaignId: 'c', bidCents: 1500, destination: A });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'buyer-b', campaignId: 'c', bidCents: 1000, destination: B });
  await seedTarget(infra.pool, { id: 'tb2', buyerId: 'buyer-b', campaignId: 'c', bidCents: 900, destination: B });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(A, { kind: 'answer', afterMs: 10 });
  harness.setBuyer(B, { kind: 'answer', afterMs: 10 });
  keys.buyerB = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-b' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await harness?.stop();
  await infra?.cleanup();
});

async function client(key: string): Promise<Socket> {
  const socket = connect(`http://127.0.0.1:${node.httpPort}`, { path: '/live', auth: { token: key }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('ready', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

const send = (socket: Socket, payload: unknown) => socket.timeout(5000).emitWithAck('bids:update', payload) as Promise<any>;
const bidOf = (id: string) => node.snapshots.current().targets.get(id)?.bidCents;

it('a buyer raises its bid over socket.io and wins the next call', async () => {
  const before = await harness.placeCall({ ani: '+18135557001', dnis: DID, hangupAfterBridgeMs: 20 }).finished;
  expect(before.bridgedTo).toContain(A);
  const socket = await client(keys.buyerB);
  expect(await send(socket, { targetId: 'tb', bidCents: 2000 })).toEqual({ results: [{ targetId: 'tb', ok: true, bidCents: 2000 }] });
  await eventually(async () => bidOf('tb') === 2000, 'the node to take the new bid');
  const after = await harness.placeCall({ ani: '+18135557002', dnis: DID, hangupAfterBridgeMs: 20 }).finished;
  expect(after.bridgedTo).toContain(B);
  expect((await infra.pool.query("SELECT bid_cents::int AS b FROM buyer_targets WHERE id = 'tb'")).rows[0].b).toBe(2000);
});

it('a batch is acknowledged per update: foreign targets and repeats are refused, the rest applied', async () => {
  const socket = await client(keys.buyerB);
  const reply = await send(socket, { updates: [{ targetId: 'tb', bidCents: 2100 }, { targetId: 'ta', bidCents: 1 }, { targetId: 'tb2', bidCents: 950 }, { targetId: 'tb', bidCents: 5 }] });
  expect(reply.results).toEqual([
    { targetId: 'tb', ok: true, bidCents: 2100 },
    { targetId: 'ta', ok: false, error: 'not_found' },
    { targetId: 'tb2', ok: true, bidCents: 950 },
    { targetId: 'tb', ok: false, error: 'duplicate_in_batch' },
  ]);
  await eventually(async () => bidOf('tb') === 2100 && bidOf('tb2') === 950, 'the node to take the batch');
  expect(bidOf('ta')).toBe(1500);
});

it('bad messages get a clear error naming the field, and sellers may not bid', async () => {
  const socket = await client(keys.buyerB);
  expect((await send(socket, { targetId: 'tb', bidCents: -5 })).error).toMatchObject({ code: 'validation_failed', field: 'bidCents' });
  expect((await send(socket, { updates: [] })).error).toMatchObject({ code: 'validation_failed' });
  expect((await send(socket, 'nonsense')).error).toMatchObject({ code: 'validation_failed' });
  const seller = await client(keys.seller);
  expect((await send(seller, { targetId: 'tb', bidCents: 1 })).error).toMatchObject({ code: 'forbidden' });
  expect(bidOf('tb')).toBe(2100);
});

it('PATCH /v1/targets/:id/bid: own target only, validated, authenticated', async () => {
  const patch = async (id: string, body: unknown, key?: string) => {
    const r = await fetch(`http://127.0.0.1:${node.httpPort}/v1/targets/${id}/bid`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  expect(await patch('tb', { bidCents: 2200 }, keys.buyerB)).toEqual({ status: 200, json: { targetId: 'tb', bidCents: 2200 } });
  await eventually(async () => bidOf('tb') === 2200, 'the node to take the REST bid');
  expect(await patch('ta', { bidCents: 1 }, keys.buyerB)).toMatchObject({ status: 404 });
  expect((await patch('tb', { bidCents: 'lots' }, keys.buyerB)).json.error).toMatchObject({ code: 'validation_failed', field: 'bidCents' });
  expect((await patch('tb', { bidCents: 1 }, keys.seller)).status).toBe(403);
  expect((await patch('tb', { bidCents: 1 })).status).toBe(401);
});
