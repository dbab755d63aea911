/**
 * Bid updates over socket.io refuse text Postgres cannot store (a NUL byte, a lone surrogate) as a validation
 * error: before, the batch failed in Postgres, and with it every other buyer's updates committed in the same group.
 */
import type { Socket } from 'socket.io-client';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { connectLive } from '../support/live-client';
import { startTestNode } from '../support/node';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

let infra: TestInfra;
let node: ExchangeNode;
const sockets: Socket[] = [];

beforeAll(async () => {
  infra = await createTestInfra('api_bid_input');
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'ba', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'bb', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550100'] });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'bb', campaignId: 'c', bidCents: 1000 });
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await node?.stop();
  await infra?.cleanup();
});

const live = async (accountId: string): Promise<Socket> => {
  const { socket } = await connectLive(node.httpPort, (await createApiKey(infra.pool, { role: 'buyer', accountId })).key);
  sockets.push(socket);
  return socket;
};
const send = (socket: Socket, payload: unknown) => socket.timeout(5000).emitWithAck('bids:update', payload) as Promise<any>;

it.each([['a NUL byte', 'tb\u0000'], ['a lone surrogate', 'tb\ud800']])('a target id with %s is refused; another buyer\'s update at the same moment is written', async (_what, targetId) => {
  const [hostile, honest] = [await live('ba'), await live('bb')];
  const bid = 1000 + Math.floor(Math.random() * 1000);
  const [refused, written] = await Promise.all([send(hostile, { updates: [{ targetId, bidCents: 1 }] }), send(honest, { targetId: 'tb', bidCents: bid })]);
  expect(refused).toMatchObject({ error: { code: 'validation_failed', field: 'updates.0.targetId' } });
  expect(written).toEqual({ results: [{ targetId: 'tb', ok: true, bidCents: bid }] });
  expect((await infra.pool.query('SELECT bid_cents::int AS bid FROM buyer_targets WHERE id = $1', ['tb'])).rows[0].bid).toBe(bid);
});
