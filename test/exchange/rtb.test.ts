import { createHash } from 'node:crypto';
import type { CallInfo } from '../../app/switch/port';
import type { ExchangeNode } from '../../app/exchange-node';
import { traceBuyers, type BuyerTraceEntry } from '../../app/exchange/trace';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { ScriptedLeg } from '../support/scripted-leg';
import { startTestNode } from '../support/node';
import { TestRtbBuyers } from '../support/rtb-buyers';

/**
 * Real-time bidding (issue 15): buyer targets with an RTB endpoint are pinged at decision time by real local HTTP
 * buyers (node:http servers started here), and their bids meet the standing bids in one auction. Calls go through
 * the switch port (a scripted leg) and the outcome is read back from the database and the API.
 */
let infra: TestInfra;
let node: ExchangeNode;
let buyers: TestRtbBuyers;
const SALT = 'test-salt';
let seq = 0;
const DID = { main: '+18885550700', beside: '+18885550701', breaker: '+18885550702', busy: '+18885550703', alone: '+18885550704' };

const inbound = (ani: string, dnis: string): CallInfo => ({ switchCallId: `rtb-${++seq}`, switchName: 'test', ani, dnis, direction: 'inbound', zip: '60601' });

async function place(ani: string, dnis: string): Promise<{ leg: ScriptedLeg; call: Record<string, unknown>; buyers: Record<string, BuyerTraceEntry[]> }> {
  const info = inbound(ani, dnis);
  const leg = new ScriptedLeg(info.switchCallId, () => ({ kind: 'answer', talkMs: 5, hungUpBy: 'caller' }));
  await node.flow.run(leg, info);
  await node.recorder!.drain();
  const call = (await infra.pool.query('SELECT * FROM calls WHERE switch_call_id = $1', [info.switchCallId])).rows[0];
  const trace = (await infra.pool.query('SELECT trace FROM call_decisions WHERE call_id = $1', [call.id])).rows[0].trace;
  const byTarget: Record<string, BuyerTraceEntry[]> = {};
  for (const b of traceBuyers(trace)) (byTarget[b.targetId] ??= []).push(b);
  return { leg, call, buyers: byTarget };
}

const api = async (path: string, key: string, init: { method?: string; body?: unknown } = {}) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};

let adminKey: string;
let fastBuyerKey: string;

beforeAll(async () => {
  infra = await createTestInfra('rtb_ping');
  buyers = await new TestRtbBuyers().start();
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  for (const b of ['standing', 'fast', 'slow', 'err', 'bad', 'over', 'baddest', 'both', 'flaky', 'multi', 'alone']) await seedAccount(infra.pool, { id: b, kind: 'buyer' });
  const share = ['areaCode', 'callerHash', 'state', 'zip', 'localTime', 'repeatCaller'];
  await seedCampaign(infra.pool, { id: 'main', sellerId: 'seller', dids: [DID.main], routing: 'second_price', floorCents: 500, bidDeadlineMs: 150, rtbShare: share });
  await seedTarget(infra.pool, { id: 'standing-t', buyerId: 'standing', campaignId: 'main', bidCents: 1000 });
  // RTB only (no standing bid, no destination of its own for some): each answers as its script says below
  for (const [id, buyer] of [['fast-t', 'fast'], ['slow-t', 'slow'], ['err-t', 'err'], ['bad-t', 'bad'], ['baddest-t', 'baddest']]) {
    await seedTarget(infra.pool, { id: id!, buyerId: buyer!, campaignId: 'main', bidCents: 0, destination: null, rtbUrl: buyers.url(id!) });
  }
  await seedAccount(infra.pool, { id: 'broke', kind: 'buyer', balanceCents: 100 });
  await seedTarget(infra.pool, { id: 'broke-t', buyerId: 'broke', campaignId: 'main', bidCents: 0, rtbUrl: buyers.url('broke-t') });
  await seedTarget(infra.pool, { id: 'over-t', buyerId: 'over', campaignId: 'main', bidCents: 0, rtbUrl: buyers.url('over-t'), rtbMaxBidCents: 5000 });

  await seedCampaign(infra.pool, { id: 'beside', sellerId: 'seller', dids: [DID.beside], routing: 'second_price', floorCents: 100, bidDeadlineMs: 150 });
  await seedTarget(infra.pool, { id: 'both-t', buyerId: 'both', campaignId: 'beside', bidCents: 1500, rtbUrl: buyers.url('both-t') });
  await seedTarget(infra.pool, { id: 'standing-b', buyerId: 'standing', campaignId: 'beside', bidCents: 1200 });

  await seedCampaign(infra.pool, { id: 'breaker', sellerId: 'seller', dids: [DID.breaker], routing: 'first_price', floorCents: 100, bidDeadlineMs: 150 });
  await seedTarget(infra.pool, { id: 'flaky-t', buyerId: 'flaky', campaignId: 'breaker', bidCents: 0, rtbUrl: buyers.url('flaky-t') });
  await seedTarget(infra.pool, { id: 'standing-k', buyerId: 'standing', campaignId: 'breaker', bidCents: 300 });

  await seedCampaign(infra.pool, { id: 'busy', sellerId: 'seller', dids: [DID.busy], routing: 'first_price', floorCents: 100, bidDeadlineMs: 300 });
  for (const id of ['multi-1', 'multi-2', 'multi-3']) await seedTarget(infra.pool, { id, buyerId: 'multi', campaignId: 'busy', bidCents: 0, rtbUrl: buyers.url(id) });

  await seedCampaign(infra.pool, { id: 'alone', sellerId: 'seller', dids: [DID.alone], routing: 'second_price', floorCents: 200, bidDeadlineMs: 150 });
  await seedTarget(infra.pool, { id: 'alone-t', buyerId: 'alone', campaignId: 'alone', bidCents: 0, destination: null, rtbUrl: buyers.url('alone-t'), rtbMinBidCents: 300 });

  node = await startTestNode(infra, { RTB_ALLOW_PRIVATE_ADDRESSES: 'true', RTB_CALLER_HASH_SALT: SALT, RTB_BREAKER_FAILURES: '3', RTB_BREAKER_COOL_OFF_MS: '1000', RTB_MAX_IN_FLIGHT_PER_BUYER: '2', RTB_LATE_GRACE_MS: '2000' });
  adminKey = (await createApiKey(infra.pool, { role: 'admin' })).key;
  fastBuyerKey = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'fast' })).key;
});

afterAll(async () => {
  await node?.stop();
  await buyers?.stop();
  await infra?.cleanup();
});

describe('an auction with RTB buyers', () => {
  beforeAll(() => {
    buyers.script('fast-t', { delayMs: 20, body: { bidCents: 2000, destination: 'sip:fastcall@rtb.example', expiresInSeconds: 30 } });
    buyers.script('slow-t', { delayMs: 250, body: { bidCents: 9000, destination: 'sip:slow@rtb.example' } }); // past tmax (150 ms)
    buyers.script('err-t', { status: 500, body: { error: 'oops' } });
    buyers.script('bad-t', { body: '{"bidCents": 8000,' });
    buyers.script('over-t', { body: { bidCents: 7000 } }); // over its target's rtbMaxBidCents 5000
    buyers.script('baddest-t', { body: { bidCents: 6000, destination: 'sip:x@rtb.example;transport=tcp' } });
  });

  it('the fast valid bid wins at the second price; late, erroring, malformed, over-limit and bad-destination bids are dropped with their reasons; a broke buyer is not pinged', async () => {
    const { leg, call, buyers: seen } = await place('+13125550101', DID.main);
    expect(leg.bridged).toEqual(['sip:fastcall@rtb.example']); // the bid's destination overrides the target's (none)
    expect(call).toMatchObject({ outcome: 'bridged', winner_target_id: 'fast-t', winner_buyer_id: 'fast' });
    expect(Number(call.price_cents)).toBe(1000); // second price: the standing bid of 1000 under it
    expect(seen['fast-t']).toEqual([expect.objectContaining({ status: 'won', source: 'rtb', bidCents: 2000, priceCents: 1000 })]);
    expect(seen['standing-t']).toEqual([expect.objectContaining({ status: 'lost', source: 'standing' })]);
    expect(seen['slow-t']).toEqual([expect.objectContaining({ status: 'excluded', reason: 'bid_timeout', source: 'rtb' })]);
    expect(seen['err-t']).toEqual([expect.objectContaining({ status: 'excluded', reason: 'bid_error', detail: 'HTTP 500' })]);
    expect(seen['bad-t']).toEqual([expect.objectContaining({ status: 'excluded', reason: 'bid_error', detail: 'answer is not JSON' })]);
    expect(seen['over-t']).toEqual([expect.objectContaining({ status: 'excluded', reason: 'bid_invalid', detail: expect.stringContaining('over the target\'s maximum 5000') })]);
    expect(seen['baddest-t']).toEqual([expect.objectContaining({ status: 'excluded', reason: 'bid_invalid', detail: expect.stringContaining('destination') })]);
    // A buyer whose funds cannot cover the floor is not even asked.
    expect(seen['broke-t']).toEqual([expect.objectContaining({ status: 'excluded', reason: 'insufficient_funds' })]);
    expect(buyers.pings('broke-t')).toHaveLength(0);
  });

  it('each buyer was pinged once with the facts the campaign shares, the hashed caller, and tmax', async () => {
    const ping = buyers.pings('fast-t').at(-1)!;
    expect(ping).toEqual({
      callId: expect.any(String),
      campaignId: 'main',
      targetId: 'fast-t',
      tmax: 150,
      call: {
        areaCode: '312',
        callerHash: createHash('sha256').update(`${SALT}:+13125550101`).digest('hex'),
        states: ['IL'],
        zip: '60601',
        localTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/),
        timeZone: 'America/Chicago',
        repeatCaller: false,
      },
    });
    expect(JSON.stringify(ping)).not.toContain('5550101'); // never the number itself
    for (const t of ['slow-t', 'err-t', 'bad-t', 'over-t', 'baddest-t']) expect(buyers.pings(t).length).toBe(1);
  });

  it('a late bidder never wins, whatever it bids, and its late answer is counted in the metrics and the API; a caller who called before is a repeat caller', async () => {
    for (const ani of ['+13125550101', '+13125550103']) {
      const { call, buyers: seen } = await place(ani, DID.main);
      expect(call.winner_target_id).toBe('fast-t');
      expect(seen['slow-t']![0]).toMatchObject({ reason: 'bid_timeout' });
    }
    expect(buyers.pings('fast-t').map((p) => (p.call as { repeatCaller: boolean }).repeatCaller)).toEqual([false, true, false]); // +13125550101 called before
    const stats = await eventually(async () => {
      const r = await api('/v1/targets/slow-t/rtb-stats', adminKey);
      return r.body.late >= 3 ? r.body : undefined;
    }, 'the late answers to be counted');
    expect(stats).toMatchObject({ targetId: 'slow-t', buyerAccountId: 'slow', pings: 3, bids: 0, late: 3, timeoutRate: 1 });
    const metrics = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/callx_rtb_pings_total\{buyer="slow",outcome="late"\} 3/);
    expect(metrics).toMatch(/callx_rtb_pings_total\{buyer="fast",outcome="bid"\} 3/);
    expect(metrics).toMatch(/callx_rtb_response_seconds_count\{buyer="fast"\} 3/);
  });
});

describe('standing and RTB bids of one target', () => {
  it('with no RTB bid the standing bid stands; with one, the RTB bid replaces it (one entry per target)', async () => {
    buyers.script('both-t', { status: 204 });
    let r = await place('+13125550111', DID.beside);
    expect(r.call).toMatchObject({ winner_target_id: 'both-t' });
    expect(Number(r.call.price_cents)).toBe(1200);
    expect(r.buyers['both-t']).toEqual([expect.objectContaining({ status: 'won', source: 'standing', bidCents: 1500 })]);

    buyers.script('both-t', { delayMs: 5, body: { bidCents: 1100 } });
    r = await place('+13125550112', DID.beside);
    expect(r.call).toMatchObject({ winner_target_id: 'standing-b' });
    expect(Number(r.call.price_cents)).toBe(1100); // second price: the RTB bid of 1100 under it
    expect(r.buyers['both-t']).toEqual([expect.objectContaining({ status: 'lost', source: 'rtb', bidCents: 1100 })]);
    expect(r.leg.bridged).toEqual(['sip:standing-b@buyers.example']);
  });

  it('an RTB bid under the target\'s minimum is dropped; a lone valid RTB bid pays the floor', async () => {
    buyers.script('alone-t', { body: { bidCents: 250, destination: '+15551230001' } });
    let r = await place('+13125550113', DID.alone);
    expect(r.call).toMatchObject({ outcome: 'rejected', reject_reason: 'no_eligible_buyer' });
    expect(r.buyers['alone-t']).toEqual([expect.objectContaining({ reason: 'bid_invalid', detail: expect.stringContaining('under the target\'s minimum 300') })]);

    buyers.script('alone-t', { body: { bidCents: 900, destination: '+15551230001' } });
    r = await place('+13125550114', DID.alone);
    expect(r.call).toMatchObject({ outcome: 'bridged', winner_target_id: 'alone-t' });
    expect(Number(r.call.price_cents)).toBe(200);
    expect(r.leg.bridged).toEqual(['+15551230001']);
  });
});

describe('per-buyer limits', () => {
  it('pings over the buyer\'s in-flight limit are skipped and counted', async () => {
    for (const id of ['multi-1', 'multi-2', 'multi-3']) buyers.script(id, { delayMs: 30, body: { bidCents: 700, destination: `sip:${id}@rtb.example` } });
    const { call, buyers: seen } = await place('+13125550121', DID.busy);
    expect(call.outcome).toBe('bridged');
    const statuses = ['multi-1', 'multi-2', 'multi-3'].map((id) => seen[id]![0]!);
    expect(statuses.filter((s) => s.status === 'excluded')).toEqual([expect.objectContaining({ reason: 'bid_skipped', detail: expect.stringContaining('limit 2') })]);
    expect(statuses.filter((s) => s.status !== 'excluded')).toHaveLength(2);
    const pinged = ['multi-1', 'multi-2', 'multi-3'].reduce((n, id) => n + buyers.pings(id).length, 0);
    expect(pinged).toBe(2);
  });

  it('the circuit breaker opens after 3 failures in a row, skips the buyer, then lets a trial through after the cool-off', async () => {
    const buyerKey = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'flaky' })).key;
    buyers.script('flaky-t', { status: 503 });
    for (const ani of ['+13125550131', '+13125550132', '+13125550133']) {
      const r = await place(ani, DID.breaker);
      expect(r.call.winner_target_id).toBe('standing-k');
      expect(r.buyers['flaky-t']![0]).toMatchObject({ reason: 'bid_error', detail: 'HTTP 503' });
    }
    expect((await api('/v1/targets/flaky-t/rtb-stats', buyerKey)).body).toMatchObject({ breaker: 'open', errors: 3 });

    buyers.script('flaky-t', { body: { bidCents: 800, destination: 'sip:flaky@rtb.example' } });
    let r = await place('+13125550134', DID.breaker);
    expect(r.call.winner_target_id).toBe('standing-k');
    expect(r.buyers['flaky-t']![0]).toMatchObject({ reason: 'bid_skipped', detail: expect.stringContaining('circuit open') });
    expect(buyers.pings('flaky-t')).toHaveLength(3); // not pinged while open

    await new Promise((resolve) => setTimeout(resolve, 1100)); // the cool-off (RTB_BREAKER_COOL_OFF_MS=1000)
    expect((await api('/v1/targets/flaky-t/rtb-stats', buyerKey)).body.breaker).toBe('half_open');
    r = await place('+13125550135', DID.breaker);
    expect(r.call).toMatchObject({ winner_target_id: 'flaky-t', winner_buyer_id: 'flaky' });
    expect(Number(r.call.price_cents)).toBe(800);
    expect((await api('/v1/targets/flaky-t/rtb-stats', buyerKey)).body).toMatchObject({ breaker: 'closed', bids: 1, skipped: 1 });
  });
});

describe('a node that does not allow private addresses (the default)', () => {
  it('refuses an rtbUrl on a private address, and pings none', async () => {
    const strict = await startTestNode(infra);
    try {
      const post = async (id: string, rtbUrl: string) => {
        const r = await fetch(`http://127.0.0.1:${strict.httpPort}/v1/targets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${fastBuyerKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id, buyerAccountId: 'fast', campaignId: 'main', name: id, bidCents: 0, rtbUrl }),
        });
        return { status: r.status, body: (await r.json()) as Record<string, any> };
      };
      for (const url of ['http://10.1.2.3/bid', 'http://[::1]:8080/bid', 'http://localhost/bid', 'https://169.254.169.254/latest']) {
        expect(await post('private-t', url)).toMatchObject({ status: 400, body: { error: { field: 'rtbUrl' } } });
      }
      // Targets already stored with a loopback URL (seeded here) are not pinged by this node.
      buyers.script('alone-t', { body: { bidCents: 900, destination: '+15551230001' } });
      const before = buyers.pings('alone-t').length;
      const info = inbound('+13125550141', DID.alone);
      const leg = new ScriptedLeg(info.switchCallId, () => ({ kind: 'answer', talkMs: 5 }));
      await strict.flow.run(leg, info);
      await strict.recorder!.drain();
      const call = (await infra.pool.query('SELECT c.outcome, d.trace FROM calls c JOIN call_decisions d ON d.call_id = c.id WHERE c.switch_call_id = $1', [info.switchCallId])).rows[0];
      expect(call.outcome).toBe('rejected');
      expect(traceBuyers(call.trace).find((b) => b.targetId === 'alone-t')).toMatchObject({ reason: 'bid_error', detail: expect.stringContaining('private address') });
      expect(buyers.pings('alone-t')).toHaveLength(before);
    } finally {
      await strict.stop();
    }
  });
});

describe('the API', () => {
  it('a buyer sees its own RTB targets\' figures, not another buyer\'s; admins see all', async () => {
    const own = await api('/v1/targets/fast-t/rtb-stats', fastBuyerKey);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ targetId: 'fast-t', bids: 3, timeoutRate: 0, breaker: 'closed', rtbEndpoint: true });
    expect(own.body.responseMs).toMatchObject({ samples: 3 });
    expect((await api('/v1/targets/slow-t/rtb-stats', fastBuyerKey)).status).toBe(404);
    const mine = await api('/v1/rtb-stats', fastBuyerKey);
    expect(mine.body.items.map((s: { targetId: string }) => s.targetId)).toEqual(['fast-t']);
    const all = await api('/v1/rtb-stats', adminKey);
    expect(all.body.items.map((s: { targetId: string }) => s.targetId)).toEqual(expect.arrayContaining(['fast-t', 'slow-t', 'flaky-t', 'multi-3', 'alone-t']));
  });

  it('/openapi.json documents the outbound ping and the answers it accepts, with an example', async () => {
    const doc = (await (await fetch(`http://127.0.0.1:${node.httpPort}/openapi.json`)).json()) as any;
    const ping = doc.webhooks.rtbPing.post;
    expect(Object.keys(ping.requestBody.content['application/json'].schema.properties).sort()).toEqual(['call', 'callId', 'campaignId', 'targetId', 'tmax']);
    expect(ping.requestBody.content['application/json'].example).toMatchObject({ tmax: 150 });
    expect(Object.keys(ping.responses['200'].content['application/json'].schema.properties).sort()).toEqual(['bidCents', 'destination', 'expiresInSeconds']);
    expect(ping.responses).toHaveProperty('204');
  });

  it('a target\'s RTB endpoint must be http or https; an RTB target needs no destination of its own', async () => {
    const base = { buyerAccountId: 'fast', campaignId: 'main', name: 'n', bidCents: 0 };
    const bad = await api('/v1/targets', fastBuyerKey, { method: 'POST', body: { ...base, id: 'ftp-t', rtbUrl: 'ftp://buyer.example/bid' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', field: 'rtbUrl' } } });
    const none = await api('/v1/targets', fastBuyerKey, { method: 'POST', body: { ...base, id: 'none-t' } });
    expect(none).toMatchObject({ status: 400, body: { error: { field: 'destination' } } });
    const ok = await api('/v1/targets', fastBuyerKey, { method: 'POST', body: { ...base, id: 'rtb-new', rtbUrl: 'https://buyer.example/bid', rtbMaxBidCents: 4000 } });
    expect(ok.status).toBe(201);
    const bounds = await api('/v1/targets/rtb-new', fastBuyerKey, { method: 'PATCH', body: { rtbMinBidCents: 5000, rtbMaxBidCents: 4000 } });
    expect(bounds.status).toBe(422);
    const share = await api('/v1/campaigns/main', adminKey, { method: 'PATCH', body: { rtbShare: ['zip', 'phone'] } });
    expect(share).toMatchObject({ status: 400, body: { error: { field: 'rtbShare.1' } } });
  });
});
