/**
 * Issue 12 through the Asterisk peer and a real exchange node: what the carrier's caller hears (180 while buyers
 * are tried, answered only by a buyer's answer; a call the exchange does not bridge never answered and rejected
 * with the SIP response of the cause the exchange recorded), and a bridged call that the node's stop or the events
 * socket's death leaves untouched.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { complianceKeys } from '../../app/cache/compliance-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { AsteriskHarness } from './asterisk-harness';

const DID = '+18885550420';
const BUYER_A = '+15551230021';
const BUYER_B = '+15551230022';
let n = 0;
const nextAni = (): string => `+1813555${String(4000 + ++n)}`;

async function seed(infra: TestInfra): Promise<void> {
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer-a', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'buyer-b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'carrier', sellerId: 'seller', dids: [DID] });
  await seedTarget(infra.pool, { id: 'a', buyerId: 'buyer-a', campaignId: 'carrier', bidCents: 3000, destination: BUYER_A, answerTimeoutSec: 3 });
  await seedTarget(infra.pool, { id: 'b', buyerId: 'buyer-b', campaignId: 'carrier', bidCents: 2000, destination: BUYER_B, answerTimeoutSec: 3 });
}

describe('asterisk: ring and reject like a carrier expects', () => {
  let infra: TestInfra;
  let harness: AsteriskHarness;
  let node: ExchangeNode;

  const endedRow = (ani: string) =>
    eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT * FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani])).rows[0];
    }, `the call from ${ani} to be recorded as ended`, 8_000);

  beforeAll(async () => {
    infra = await createTestInfra('e2e_asterisk_carrier');
    await seed(infra);
    harness = new AsteriskHarness();
    node = await harness.start(infra);
    await eventually(async () => node.switches.every((s) => s.isConnected()), 'the ARI connection');
  });

  afterAll(async () => {
    await harness?.stop();
    await infra?.cleanup();
  });

  const requestsOf = (channelId: string) => harness.peer.requests.filter((r) => r.path.includes(channelId)).map((r) => `${r.method} ${r.path.split('?')[0]}`);

  it('the caller hears 180 while the buyers ring, and is answered only when one answers', async () => {
    harness.peer.buyers.set(BUYER_A, { kind: 'busy', afterMs: 300, ring: true });
    harness.peer.buyers.set(BUYER_B, { kind: 'answer', afterMs: 300 });
    const ani = nextAni();
    const call = harness.peer.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 200 });
    await eventually(async () => harness.peer.originated.some((o) => o.appArgs[1] === call.channelId), 'the first buyer to be dialled');
    expect(call.record.sip).toEqual([180]); // ringing while the first buyer is tried, not answered
    const record = await call.finished;
    expect(record.sip).toEqual([180, 200]);
    const seq = harness.peer.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    const answerAt = seq.indexOf(`POST /ari/channels/${call.channelId}/answer`);
    const ringAt = seq.indexOf(`POST /ari/channels/${call.channelId}/ring`);
    const dials = harness.peer.originated.filter((o) => o.appArgs[1] === call.channelId);
    expect(dials.map((o) => o.target.resource)).toEqual([`${BUYER_A}@buyers`, `${BUYER_B}@buyers`]);
    expect(ringAt).toBeGreaterThanOrEqual(0);
    expect(ringAt).toBeLessThan(answerAt);
    // Every leg carries the call id the exchange recorded.
    const row = await endedRow(ani);
    expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'b' });
    expect(dials.map((o) => o.channel.vars.get('CALLX_CALL_ID'))).toEqual([row.id, row.id]);
    expect(harness.peer.requests.some((r) => r.path === `/ari/channels/${call.channelId}/variable?variable=CALLX_CALL_ID&value=${row.id}`)).toBe(true);
  });

  it('a DNC-blocked call is never answered: its prompt goes as early media and the carrier gets 403 (Q.850 21, as recorded)', async () => {
    const ani = nextAni();
    await infra.pool.query("INSERT INTO dnc_entries (list_id, number, source) VALUES ('global', $1, 'test')", [ani]);
    await infra.redis.sadd(complianceKeys.dncGlobal, ani);
    const dialled = harness.originateCount();
    const call = harness.peer.placeCall({ ani, dnis: DID });
    const record = await call.finished;
    expect(record.answered).toBe(false);
    expect(record.sip).toEqual([183, 403]);
    expect(record.cause).toBe(21);
    expect(harness.originateCount()).toBe(dialled);
    expect(requestsOf(call.channelId).filter((r) => r.includes('/answer'))).toEqual([]);
    const row = await endedRow(ani);
    expect(row).toMatchObject({ outcome: 'rejected', hangup_cause: 'CALL_REJECTED' });
  });

  it('a call no buyer takes is never answered: rings, early-media prompt, and 603 (Q.850 41, as recorded)', async () => {
    harness.peer.buyers.set(BUYER_A, { kind: 'busy', afterMs: 20 });
    harness.peer.buyers.set(BUYER_B, { kind: 'busy', afterMs: 20 });
    const ani = nextAni();
    const call = harness.peer.placeCall({ ani, dnis: DID });
    const record = await call.finished;
    expect(record.answered).toBe(false);
    expect(record.sip).toEqual([180, 183, 603]);
    expect(record.cause).toBe(41);
    const row = await endedRow(ani);
    expect(row).toMatchObject({ outcome: 'no_buyer_answered', hangup_cause: 'NORMAL_TEMPORARY_FAILURE' });
  });

  it("a bridged call survives the events socket's death untouched, and is recorded when it really ends", async () => {
    harness.peer.buyers.set(BUYER_A, { kind: 'answer', afterMs: 20 });
    const ani = nextAni();
    const call = harness.peer.placeCall({ ani, dnis: DID });
    await eventually(async () => call.record.bridgedWith.length > 0, 'the call to be bridged');
    const buyerId = call.record.bridgedWith[0] as string;
    const bridgedAt = Date.now();
    const from = harness.peer.requests.length;
    harness.peer.dropEventSockets();
    await eventually(async () => harness.peer.eventConnections === 1 && node.switches[0]!.isConnected(), 'the adapter to reconnect', 5_000);
    await new Promise((r) => setTimeout(r, 300)); // its reconcile ran meanwhile
    const touching = harness.peer.requests.slice(from).filter((r) => r.method !== 'GET' && (r.path.includes(call.channelId) || r.path.includes(buyerId) || r.path.startsWith('/ari/bridges/')));
    expect(touching).toEqual([]);
    expect(harness.peer.bridges()).toEqual([expect.objectContaining({ channels: [call.channelId, buyerId] })]);
    harness.peer.hangupFarEnd(call.channelId);
    const row = await endedRow(ani);
    expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'a' });
    expect(new Date(row.ended_at).getTime() - bridgedAt).toBeGreaterThanOrEqual(250);
    await eventually(async () => harness.nothingLeft(), 'buyer cleaned up after the end, the bridge emptied (kept for the next call)');
  });
});

describe('asterisk: a graceful stop leaves a bridged call on the switch', () => {
  it('the node stops with the call bridged: caller, buyer and bridge untouched, and the call goes on', async () => {
    const infra = await createTestInfra('e2e_asterisk_stop');
    const harness = new AsteriskHarness({}, 'http', { stopDrainMs: 200 });
    try {
      await seed(infra);
      const node = await harness.start(infra);
      await eventually(async () => node.switches.every((s) => s.isConnected()), 'the ARI connection');
      harness.peer.buyers.set(BUYER_A, { kind: 'answer', afterMs: 20 });
      const call = harness.peer.placeCall({ ani: nextAni(), dnis: DID });
      await eventually(async () => call.record.bridgedWith.length > 0, 'the call to be bridged');
      const buyerId = call.record.bridgedWith[0] as string;
      const from = harness.peer.requests.length;
      await node.stop();
      const changes = harness.peer.requests.slice(from).filter((r) => r.method !== 'GET');
      expect(changes).toEqual([]);
      expect(harness.peer.bridges()).toEqual([expect.objectContaining({ channels: [call.channelId, buyerId] })]);
      expect(harness.peer.channel(call.channelId)?.inStasis).toBe(true);
      // adopted and recorded by the next node: test/e2e/graceful-stop.test.ts
    } finally {
      await harness.stop();
      await infra.cleanup();
    }
  });
});
