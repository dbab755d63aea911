import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { AsteriskHarness } from './asterisk-harness';
import { FreeSwitchHarness } from './freeswitch-harness';
import type { SwitchHarness } from './harness';

/**
 * A consumer we call and who answers is not judged again by area code alone at the answer time (issue 14,
 * feature 6): the request's zip comes back with the answered leg and the calling-hours verdict reached before
 * dialling stands. Driven through POST /v1/outbound-calls on a node, with each switch peer.
 */
describe.each([
  ['freeswitch', () => new FreeSwitchHarness()],
  ['asterisk', () => new AsteriskHarness()],
] as const)('%s: an answered consumer call keeps its pre-dial decision', (name, makeHarness) => {
  let infra: TestInfra;
  let harness: SwitchHarness;
  let node: ExchangeNode;
  let adminKey: string;
  let clockOffsetMs = 0;
  const BUYER = '+15551230011';
  const ZIP_BUYER = '+15551230012';
  let n = 0;
  const nextConsumer = () => `+1312555${String(3000 + ++n)}`; // Chicago: Illinois has no state window, the federal 8-21 applies

  const post = (body: object) =>
    fetch(`http://127.0.0.1:${node.httpPort}/v1/outbound-calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const pinClock = (iso: string) => {
    clockOffsetMs = new Date(iso).getTime() - Date.now();
  };
  const ended = async (callId: string) =>
    eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT * FROM calls WHERE id = $1 AND ended_at IS NOT NULL', [callId])).rows[0];
    }, 'the consumer call to be recorded', 8_000);
  const trace = async (callId: string) =>
    (await infra.pool.query("SELECT trace FROM call_decisions WHERE call_id = $1 AND trace->>'direction' = 'outbound' ORDER BY decided_at DESC LIMIT 1", [callId])).rows[0]?.trace;

  beforeAll(async () => {
    infra = await createTestInfra(`e2e_outbound_answer_${name}`);
    await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
    await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
    await seedAccount(infra.pool, { id: 'zip-buyer', kind: 'buyer' });
    // exempt from outbound consent (issue 14): these cases are about calling hours and the answered call
    await seedCampaign(infra.pool, { id: 'callbacks', sellerId: 'seller', dids: ['+18885550500'], floorCents: 100, outboundConsentExempt: true });
    await seedTarget(infra.pool, { id: 'any', buyerId: 'buyer', campaignId: 'callbacks', bidCents: 2000, destination: BUYER, answerTimeoutSec: 2 });
    // Only buys consumers in one zip: it can win only if the request's zip reaches the auction after the answer.
    await seedCampaign(infra.pool, { id: 'local', sellerId: 'seller', dids: ['+18885550501'], floorCents: 100, outboundConsentExempt: true });
    await seedTarget(infra.pool, { id: 'loop', buyerId: 'zip-buyer', campaignId: 'local', bidCents: 2500, destination: ZIP_BUYER, answerTimeoutSec: 2, targeting: { zips: ['60601'] } });
    harness = makeHarness();
    node = await harness.start(infra, { clock: () => new Date(Date.now() + clockOffsetMs) });
    adminKey = (await createApiKey(infra.pool, { role: 'admin' })).key;
    await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
    harness.setBuyer(BUYER, { kind: 'answer', afterMs: 20 });
    harness.setBuyer(ZIP_BUYER, { kind: 'answer', afterMs: 20 });
  });

  afterAll(async () => {
    await harness?.stop();
    await infra?.cleanup();
  });

  it('dialled at 20:58 Chicago time and answered after 21:00: bridged, judged on the pre-dial verdict', async () => {
    const consumer = nextConsumer();
    const dialledAt = '2026-11-24T02:58:00Z'; // 20:58 CST on Monday 23 November
    pinClock(dialledAt);
    harness.setConsumer(consumer, { kind: 'answer', afterMs: 400, hangupAfterMs: 600 });
    const r = await post({ campaignId: 'callbacks', to: consumer, zip: '60601', answerTimeoutSec: 10 });
    expect(r.status).toBe(202);
    const { callId } = (await r.json()) as { callId: string };
    clockOffsetMs += 3 * 60_000; // the phone rings on; it is 21:01 when the consumer picks up
    const row = await ended(callId);
    expect(row).toMatchObject({ direction: 'outbound', ani: consumer, outcome: 'bridged', winner_target_id: 'any', zip: '60601' });
    const t = await trace(callId);
    expect(t.screening.pass).toBe(true);
    expect(Date.parse(t.callingHoursCheckedAt)).toBeLessThan(Date.parse('2026-11-24T03:00:00Z'));
    expect(Date.parse(t.decidedAt)).toBeGreaterThanOrEqual(Date.parse('2026-11-24T03:01:00Z'));
  });

  it('the request\'s zip reaches the auction of the answered call (a buyer targeting that zip wins)', async () => {
    pinClock('2026-11-24T16:00:00Z'); // 10:00 in Chicago
    const consumer = nextConsumer();
    harness.setConsumer(consumer, { kind: 'answer', afterMs: 20, hangupAfterMs: 400 });
    const r = await post({ campaignId: 'local', to: consumer, zip: '60601', answerTimeoutSec: 10 });
    expect(r.status).toBe(202);
    const { callId } = (await r.json()) as { callId: string };
    expect(await ended(callId)).toMatchObject({ outcome: 'bridged', winner_target_id: 'loop', zip: '60601' });
    expect((await trace(callId)).location).toMatchObject({ source: 'zip', zip: '60601' });
  });

  it('a Florida number with a New York zip is refused at 20:30 ET: the area code\'s state counts with the zip\'s', async () => {
    pinClock('2026-11-24T01:30:00Z'); // 20:30 ET on Monday 23 November: New York allows it, Florida does not
    const before = harness.originateCount();
    const r = await post({ campaignId: 'callbacks', to: `+1813555${String(4000 + ++n)}`, zip: '10001' });
    expect(r.status).toBe(422);
    expect(((await r.json()) as { error: { reasons: string[] } }).error.reasons).toEqual(['outside_calling_hours']);
    expect(harness.originateCount()).toBe(before);
  });

  it('a number of a country without rules is refused unless its campaign allows that country', async () => {
    pinClock('2026-11-24T16:00:00Z');
    const UK = '+442079460123';
    const refused = await post({ campaignId: 'callbacks', to: UK });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { reasons: string[] } }).error.reasons).toEqual(['country_not_covered']);

    const patch = async (body: object) =>
      fetch(`http://127.0.0.1:${node.httpPort}/v1/campaigns/callbacks`, { method: 'PATCH', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await patch({ allowedCountries: ['us'] })).status).toBe(400);
    expect((await patch({ allowedCountries: ['GB'] })).status).toBe(200);
    harness.setConsumer(UK, { kind: 'answer', afterMs: 20, hangupAfterMs: 300 });
    const allowed = await eventually(async () => {
      const r = await post({ campaignId: 'callbacks', to: UK, answerTimeoutSec: 5 });
      return r.status === 202 ? r : undefined; // the config change reaches the node's snapshot over pub/sub
    }, 'the campaign to allow GB');
    const { callId } = (await allowed.json()) as { callId: string };
    await ended(callId);
    expect((await trace(callId)).screening.reasons).toEqual([]);
    expect((await patch({ allowedCountries: [] })).status).toBe(200);
  });
});
