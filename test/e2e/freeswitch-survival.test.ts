/**
 * Issue 12 through the FreeSWITCH peer with the shipped dialplan's variables: an exchange that accepts and then
 * closes leaves no caller parked (the fallback runs), a buyer leg the switch throttles is recorded as a switch
 * fault and not walked down the ladder, and a node that stops hands a call still in setup to the fallback.
 * Real sockets, a real node, real Postgres and Redis.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { ExchangeNode } from '../../app/exchange-node';
import { FreeSwitchPeer } from '../peers/freeswitch';
import { callxDialplanVariables } from '../peers/freeswitch/dialplan';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

const DID = '+18885550600';
const BUYER_A = '+15551230061';
const BUYER_B = '+15551230062';

describe('freeswitch: an exchange that accepts and then closes', () => {
  let peer: FreeSwitchPeer;
  let server: Server;
  let port: number;

  beforeEach(async () => {
    peer = new FreeSwitchPeer({ playbackMs: 20 });
    // Stands in for an exchange that takes the connection and drops it (a crash right after accept, a bad deploy).
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await peer.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('with the shipped dialplan the fallback runs at once and the carrier gets 503', async () => {
    const started = Date.now();
    const record = await peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12125550123', dnis: DID, variables: callxDialplanVariables() }).finished;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(record).toEqual(expect.objectContaining({ stuckInPark: false, releasedToDialplan: true, hangupBy: 'dialplan', hangupCause: 'NORMAL_TEMPORARY_FAILURE', carrierResponse: 503 }));
  });

  it('without socket_resume (the old dialplan) the caller stays parked until park_timeout, if any', async () => {
    const { socket_resume: _dropped, ...old } = callxDialplanVariables();
    const session = peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12125550124', dnis: DID, variables: { ...old, park_timeout: '1' } });
    const record = await session.finished;
    expect(record).toEqual(expect.objectContaining({ stuckInPark: true, releasedToDialplan: false, hangupBy: 'park_timeout' }));
  });
});

describe('freeswitch: the switch throttles buyer legs, and the node stops', () => {
  let infra: TestInfra;
  let harness: FreeSwitchHarness;
  let node: ExchangeNode;
  let n = 0;
  const nextAni = () => `+1813555${String(6000 + ++n)}`;

  const callRow = async (ani: string) =>
    eventually(async () => {
      await node.recorder!.drain();
      const { rows } = await infra.pool.query('SELECT * FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani]);
      return rows[0];
    }, `the call from ${ani} to be recorded`);

  beforeAll(async () => {
    infra = await createTestInfra('e2e_fs_survival');
    await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
    await seedAccount(infra.pool, { id: 'buyer-a', kind: 'buyer' });
    await seedAccount(infra.pool, { id: 'buyer-b', kind: 'buyer' });
    await seedCampaign(infra.pool, { id: 'main', sellerId: 'seller', dids: [DID], floorCents: 100 });
    await seedTarget(infra.pool, { id: 'a', buyerId: 'buyer-a', campaignId: 'main', bidCents: 3000, destination: BUYER_A, answerTimeoutSec: 5 });
    await seedTarget(infra.pool, { id: 'b', buyerId: 'buyer-b', campaignId: 'main', bidCents: 2000, destination: BUYER_B, answerTimeoutSec: 5 });
    harness = new FreeSwitchHarness({}, { stopDrainMs: 300 });
    node = await harness.start(infra);
    await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
  });

  afterAll(async () => {
    await harness?.stop();
    await infra?.cleanup();
  });

  it('a throttled buyer leg is recorded as a switch fault; no other buyer is rung and the carrier gets 503', async () => {
    const ani = nextAni();
    const session = harness.peer.placeCall({ app: { host: '127.0.0.1', port: harness.adapter!.port }, ani, dnis: DID, variables: harness.dialplanVariables });
    harness.peer.core.setSessionsPerSecond(1, true); // the caller got in; every leg from now on is refused
    try {
      const record = await session.finished;
      expect(record.bridges.map((b) => b.result)).toEqual(['DESTINATION_OUT_OF_ORDER']);
      expect(harness.peer.core.invitesSent).toEqual([]);
      expect(record.carrierResponse).toBe(503);
    } finally {
      harness.peer.core.setSessionsPerSecond(undefined, true);
    }
    expect(await callRow(ani)).toMatchObject({ outcome: 'no_buyer_answered', end_reason: 'switch_fault', winner_target_id: null, price_cents: null });
    const attempts = (await infra.pool.query('SELECT a.status, a.cause, a.target_id FROM bridge_attempts a JOIN calls c ON c.id = a.call_id WHERE c.ani = $1', [ani])).rows;
    expect(attempts).toEqual([{ status: 'switch_fault', cause: 'DESTINATION_OUT_OF_ORDER', target_id: 'a' }]);
  });

  it('a node that stops hands a call still in setup (its buyer ringing) to the fallback, and records it', async () => {
    harness.peer.buyers.set(BUYER_A, { kind: 'no_answer' });
    const ani = nextAni();
    const session = harness.peer.placeCall({ app: { host: '127.0.0.1', port: harness.adapter!.port }, ani, dnis: DID, variables: harness.dialplanVariables });
    await eventually(async () => (session.record.bridges.length > 0 ? true : undefined), 'the first buyer to ring');
    await harness.adapter!.stop();
    const record = await session.finished;
    expect(record).toEqual(expect.objectContaining({ releasedToDialplan: true, hangupBy: 'dialplan' }));
    // The refused new call falls back too: the listener is closed.
    const late = await harness.peer.placeCall({ app: { host: '127.0.0.1', port: harness.adapter!.port }, ani: nextAni(), dnis: DID, variables: harness.dialplanVariables }).finished;
    expect(late).toEqual(expect.objectContaining({ connectFailed: true, releasedToDialplan: true }));
    const row = await callRow(ani);
    expect(row.ended_at).not.toBeNull();
  });
});
