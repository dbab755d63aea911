import type { CallInfo } from '../../app/switch/port';
import type { ExchangeNode } from '../../app/exchange-node';
import { addDncNumbers } from '../../app/store/compliance-repo';
import { publishConfigChanged } from '../../app/exchange/snapshot-source';
import { traceBuyers } from '../../app/exchange/trace';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { ScriptedLeg, type BuyerBehaviour } from '../support/scripted-leg';
import { startTestNode } from '../support/node';

/**
 * The call setup pipeline end to end through the switch port (a scripted in-test leg), on the real
 * Postgres and Redis: each test places calls and reads the outcome back from the database.
 */
let infra: TestInfra;
let node: ExchangeNode;
const DID = '+18885550100';
let seq = 0;

const inbound = (ani: string, extra: Partial<CallInfo> = {}): CallInfo => ({
  switchCallId: `sw-${++seq}`, switchName: 'test', ani, dnis: DID, direction: 'inbound', ...extra,
});

async function place(info: CallInfo, behaviour?: (uri: string) => BuyerBehaviour): Promise<{ leg: ScriptedLeg; callId: string }> {
  const leg = new ScriptedLeg(info.switchCallId, behaviour);
  await node.flow.run(leg, info);
  await node.recorder!.drain();
  const { rows } = await infra.pool.query('SELECT id FROM calls WHERE switch_call_id = $1', [info.switchCallId]);
  return { leg, callId: rows[0]?.id };
}

const callRow = async (callId: string) => (await infra.pool.query('SELECT * FROM calls WHERE id = $1', [callId])).rows[0];
const traceOf = async (callId: string) => (await infra.pool.query('SELECT trace FROM call_decisions WHERE call_id = $1', [callId])).rows[0]?.trace;

beforeAll(async () => {
  infra = await createTestInfra('pipeline');
  await seedAccount(infra.pool, { id: 'seller1', kind: 'seller' });
  for (const b of ['alpha', 'bravo', 'charlie', 'nodest']) await seedAccount(infra.pool, { id: b, kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'broke', kind: 'buyer', balanceCents: 10 });
  await seedCampaign(infra.pool, { id: 'auto', sellerId: 'seller1', dids: [DID], routing: 'second_price', floorCents: 500 });
  await seedTarget(infra.pool, { id: 'alpha-t', buyerId: 'alpha', campaignId: 'auto', bidCents: 3000 });
  await seedTarget(infra.pool, { id: 'bravo-t', buyerId: 'bravo', campaignId: 'auto', bidCents: 2500 });
  await seedTarget(infra.pool, { id: 'charlie-t', buyerId: 'charlie', campaignId: 'auto', bidCents: 2000, targeting: { states: ['TX'] } });
  await seedTarget(infra.pool, { id: 'nodest-t', buyerId: 'nodest', campaignId: 'auto', bidCents: 9000, destination: null });
  await seedTarget(infra.pool, { id: 'broke-t', buyerId: 'broke', campaignId: 'auto', bidCents: 8000 });
  await seedTarget(infra.pool, { id: 'low-t', buyerId: 'charlie', campaignId: 'auto', bidCents: 100 });
  node = await startTestNode(infra);
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

describe('a routed call', () => {
  it('is bridged to the best bid and recorded with its price, trace, durations and audit entry', async () => {
    const { leg, callId } = await place(inbound('+18135551101'), () => ({ kind: 'answer', talkMs: 1100, hungUpBy: 'caller' }));
    expect(leg.bridged).toEqual(['sip:alpha-t@buyers.example']);
    expect(leg.attempts[0]!.opts.callerIdNumber).toBe('+18135551101');

    const call = await callRow(callId);
    expect(call).toMatchObject({ outcome: 'bridged', campaign_id: 'auto', seller_account_id: 'seller1', winner_target_id: 'alpha-t', winner_buyer_id: 'alpha', hung_up_by: 'caller', end_reason: 'caller_hangup', hangup_cause: 'NORMAL_CLEARING' });
    expect(Number(call.price_cents)).toBe(2500); // second price: what bravo bid
    expect(call.billable_sec).toBeGreaterThanOrEqual(1);
    expect(call.bridged_at).not.toBeNull();
    expect(call.ended_at.getTime()).toBeGreaterThanOrEqual(call.bridged_at.getTime());

    const trace = await traceOf(callId);
    const byTarget = Object.fromEntries(traceBuyers(trace).map((b) => [b.targetId, b]));
    expect(byTarget['alpha-t']).toMatchObject({ status: 'won', rank: 1, priceCents: 2500 });
    expect(byTarget['bravo-t']).toMatchObject({ status: 'lost', reason: 'outranked', rank: 2 });
    expect(byTarget['charlie-t']).toMatchObject({ status: 'excluded', reason: 'geo_state' });
    expect(byTarget['nodest-t']).toMatchObject({ status: 'excluded', reason: 'no_destination' });
    expect(byTarget['broke-t']).toMatchObject({ status: 'excluded', reason: 'insufficient_funds' });
    expect(byTarget['low-t']).toMatchObject({ status: 'excluded', reason: 'below_floor' });
    expect(trace.location.states).toEqual(['FL']);

    const audit = (await infra.pool.query('SELECT decision, reasons FROM compliance_audit_log WHERE call_id = $1', [callId])).rows;
    expect(audit).toHaveLength(1);
    expect(audit[0].decision).toBe('pass');
    const attempts = (await infra.pool.query('SELECT attempt_no, target_id, status FROM bridge_attempts WHERE call_id = $1', [callId])).rows;
    expect(attempts).toEqual([{ attempt_no: 1, target_id: 'alpha-t', status: 'bridged' }]);
  });

  it('fails over down the ranking when the first buyer is busy, and records both attempts', async () => {
    const { leg, callId } = await place(inbound('+18135551102'), (uri) => (uri.includes('alpha') ? { kind: 'busy' } : { kind: 'answer', talkMs: 5, hungUpBy: 'buyer' }));
    expect(leg.attempts.map((a) => a.uri)).toEqual(['sip:alpha-t@buyers.example', 'sip:bravo-t@buyers.example']);
    const call = await callRow(callId);
    expect(call).toMatchObject({ outcome: 'bridged', winner_target_id: 'bravo-t', end_reason: 'buyer_hangup' });
    expect(Number(call.price_cents)).toBe(500); // bravo was last in the ranking: pays the floor
    const attempts = (await infra.pool.query('SELECT attempt_no, target_id, status, cause FROM bridge_attempts WHERE call_id = $1 ORDER BY attempt_no', [callId])).rows;
    expect(attempts).toEqual([
      { attempt_no: 1, target_id: 'alpha-t', status: 'busy', cause: 'USER_BUSY' },
      { attempt_no: 2, target_id: 'bravo-t', status: 'bridged', cause: null },
    ]);
  });

  it('plays the no-buyer message and ends with a reason when every buyer fails', async () => {
    const { leg, callId } = await place(inbound('+18135551103'), (uri) => (uri.includes('alpha') ? { kind: 'no_answer' } : { kind: 'fail' }));
    expect(leg.prompt).toEqual({ name: 'no_buyer_available', cause: 'NORMAL_TEMPORARY_FAILURE' });
    expect(await callRow(callId)).toMatchObject({ outcome: 'no_buyer_answered', end_reason: 'all_buyers_failed', winner_target_id: null, price_cents: null });
  });
});

describe('a buyer leg the switch refuses itself (switch_fault)', () => {
  it('is recorded as a switch fault, its slot released, and no further buyer is tried', async () => {
    const { leg, callId } = await place(inbound('+18135551104'), () => ({ kind: 'switch_fault' }));
    expect(leg.attempts.map((a) => a.uri)).toEqual(['sip:alpha-t@buyers.example']);
    expect(leg.prompt).toEqual({ name: 'no_buyer_available', cause: 'NORMAL_TEMPORARY_FAILURE' });
    expect(await callRow(callId)).toMatchObject({ outcome: 'no_buyer_answered', end_reason: 'switch_fault', winner_target_id: null, price_cents: null });
    const attempts = (await infra.pool.query('SELECT attempt_no, target_id, status, cause FROM bridge_attempts WHERE call_id = $1 ORDER BY attempt_no', [callId])).rows;
    expect(attempts).toEqual([{ attempt_no: 1, target_id: 'alpha-t', status: 'switch_fault', cause: 'DESTINATION_OUT_OF_ORDER' }]);
    // The reservation is back: the next call can take alpha again.
    const next = await place(inbound('+18135551105'), () => ({ kind: 'answer', talkMs: 5 }));
    expect(next.leg.bridged).toEqual(['sip:alpha-t@buyers.example']);
  });
});

describe('live events', () => {
  it('a routed call emits started, decided, attempt, bridged and ended, tagged with its seller and buyer', async () => {
    const seen: Array<{ type: string; sellerAccountId?: string; buyerAccountId?: string }> = [];
    const off = node.events.on((e) => seen.push(e as never));
    try {
      await place(inbound('+18135551108'), () => ({ kind: 'answer', talkMs: 5 }));
    } finally {
      off();
    }
    expect(seen.map((e) => e.type)).toEqual(['call.started', 'call.decided', 'call.attempt', 'call.bridged', 'call.ended']);
    expect(seen.slice(1).every((e) => e.sellerAccountId === 'seller1')).toBe(true);
    expect(seen.find((e) => e.type === 'call.ended')).toMatchObject({ outcome: 'bridged', buyerAccountId: 'alpha' });
  });
});

describe('rejected calls', () => {
  it('a DNC caller is blocked at screening, hears a message, and the block is audited with its reason', async () => {
    await addDncNumbers(infra.pool, infra.redis, 'global', ['+18135551199'], 'test');
    const { leg, callId } = await place(inbound('+18135551199'));
    expect(leg.attempts).toHaveLength(0);
    expect(leg.prompt?.cause).toBe('CALL_REJECTED');
    expect(await callRow(callId)).toMatchObject({ outcome: 'rejected', reject_reason: 'screened_out' });
    const audit = (await infra.pool.query('SELECT decision, reasons FROM compliance_audit_log WHERE call_id = $1', [callId])).rows[0];
    expect(audit.decision).toBe('block');
    expect(audit.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ rule: 'dnc', pass: false, reason: 'dnc_global' })]));
  });

  it('a campaign DNC entry blocks only that campaign', async () => {
    await addDncNumbers(infra.pool, infra.redis, 'campaign:auto', ['+18135551198'], 'test');
    const { callId } = await place(inbound('+18135551198'));
    expect((await traceOf(callId)).screening.reasons).toEqual(['dnc_campaign']);
  });

  it.each([
    { name: 'unknown tracking number', info: inbound('+18135551104', { dnis: '+18005550000' }), reject: 'unknown_number', cause: 'UNALLOCATED_NUMBER' },
    { name: 'anonymous caller', info: inbound('anonymous'), reject: 'screened_out', cause: 'CALL_REJECTED', reason: 'anonymous_caller' },
    { name: 'malformed caller', info: inbound('12ab!!'), reject: 'screened_out', cause: 'CALL_REJECTED', reason: 'invalid_caller' },
    { name: 'empty DNIS', info: inbound('+18135551105', { dnis: '' }), reject: 'unknown_number', cause: 'UNALLOCATED_NUMBER' },
  ])('$name gets a clear reason in the trace, never a crash', async ({ info, reject, cause, reason }) => {
    const { leg, callId } = await place(info);
    expect(leg.prompt?.cause).toBe(cause);
    const call = await callRow(callId);
    expect(call).toMatchObject({ outcome: 'rejected', reject_reason: reject });
    const trace = await traceOf(callId);
    expect(trace.rejectReason).toBe(reject);
    if (reason) expect(trace.screening.reasons).toEqual([reason]);
  });
});

describe('the caller hanging up', () => {
  it('during the decision releases the reserved caps and records the call as abandoned', async () => {
    await seedCampaign(infra.pool, { id: 'capped', sellerId: 'seller1', dids: ['+18885550101'] });
    await seedTarget(infra.pool, { id: 'capped-t', buyerId: 'alpha', campaignId: 'capped', bidCents: 1000, capConcurrency: 1, capDaily: 5 });
    await node.snapshots.refreshNow();
    const leg = new ScriptedLeg('gone');
    const run = node.flow.run(leg, inbound('+18135551106', { dnis: '+18885550101', switchCallId: 'gone' }));
    leg.hangupByCaller(); // the decision is still awaiting Redis
    await run;
    await node.recorder!.drain();
    expect(leg.attempts).toHaveLength(0);
    expect(await node.caps.concurrentCalls('capped-t', Date.now())).toBe(0);
    const daily = await infra.redis.keys(`${infra.prefix}cap:capped-t:d:*`); // KEYS patterns are not prefixed by ioredis
    expect(daily).toHaveLength(1);
    expect(await infra.redis.get(daily[0]!.slice(infra.prefix.length))).toBe('0');
    const call = (await infra.pool.query("SELECT outcome, end_reason FROM calls WHERE switch_call_id = 'gone'")).rows[0];
    expect(call).toEqual({ outcome: 'abandoned', end_reason: 'caller_gone' });
  });
});

describe('config changes', () => {
  it('reach the next call through Redis pub/sub', async () => {
    await infra.pool.query("UPDATE buyer_targets SET bid_cents = 4000 WHERE id = 'bravo-t'");
    await publishConfigChanged(infra.redis, infra.prefix, 'test');
    await eventually(async () => node.snapshots.current().targets.get('bravo-t')?.bidCents === 4000, 'snapshot refresh');
    const { leg } = await place(inbound('+18135551107'));
    expect(leg.bridged).toEqual(['sip:bravo-t@buyers.example']);
  });
});
