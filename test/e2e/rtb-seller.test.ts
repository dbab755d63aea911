/**
 * Sellers' pings end to end: a seller asks POST /rtb/ping through a real node's API what a call is worth, and the
 * call it then sends comes in through the FreeSWITCH peer. The bid reserves its buyer (a target that takes one
 * call at a time, so while the bid lives other calls go elsewhere); the caller's call before expiry reaches that
 * buyer at the bid's price even after the bids moved, and is billed so (a busy reserved buyer fails over to the rest
 * of the call's auction); another caller's call, or the same caller after expiry, is auctioned anew. Repeated
 * pings get the same bid; pings are rate limited and counted; a seller cannot ping another seller's campaign. The node's clock runs on an offset the test moves to expire bids.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { blockNumber } from '../../app/store/compliance-repo';
import { createRedis } from '../../app/cache/redis';
import { SnapshotSource } from '../../app/exchange/snapshot-source';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const DID = '+18885550520';
const OTHER_DID = '+18885550521';
const HI = '+15551230051';
const LO = '+15551230052';
const TTL_SEC = 60;
let offsetMs = 0;
const key = {} as Record<'admin' | 'seller' | 'otherSeller' | 'buyer', string>;

beforeAll(async () => {
  infra = await createTestInfra('e2e_rtb_seller');
  await seedAccount(infra.pool, { id: 'seller-r', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'seller-o', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer-hi', kind: 'buyer', balanceCents: 1_000_000 });
  await seedAccount(infra.pool, { id: 'buyer-lo', kind: 'buyer', balanceCents: 1_000_000 });
  // second price: the high bidder pays the low one's bid (2000); the seller gets half of the price
  await seedCampaign(infra.pool, { id: 'rtb', sellerId: 'seller-r', dids: [DID], routing: 'second_price', floorCents: 100, payoutPercent: 50 });
  await seedCampaign(infra.pool, { id: 'other', sellerId: 'seller-o', dids: [OTHER_DID], routing: 'second_price', floorCents: 100, payoutCents: 700 });
  await seedTarget(infra.pool, { id: 'hi-t', buyerId: 'buyer-hi', campaignId: 'rtb', bidCents: 3000, destination: HI, capConcurrency: 1, convertOnSeconds: 0 });
  await seedTarget(infra.pool, { id: 'lo-t', buyerId: 'buyer-lo', campaignId: 'rtb', bidCents: 2000, destination: LO, convertOnSeconds: 0 });
  await seedTarget(infra.pool, { id: 'o-t', buyerId: 'buyer-lo', campaignId: 'other', bidCents: 1500, destination: LO, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness({ RTB_SELLER_BID_TTL_SEC: String(TTL_SEC), RTB_SELLER_SWEEP_MS: '100', RTB_SELLER_PINGS_PER_MINUTE: '100000', API_RATE_LIMIT_PER_SECOND: '0', RTB_SELLER_SIP_HOST: 'sip.exchange.example:5060' });
  node = await harness.start(infra, { clock: () => new Date(Date.now() + offsetMs) });
  harness.setBuyer(HI, { kind: 'answer', afterMs: 10 });
  harness.setBuyer(LO, { kind: 'answer', afterMs: 10 });
  key.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  key.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-r' })).key;
  key.otherSeller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-o' })).key;
  key.buyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-hi' })).key;
}, 30_000);

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

interface PingAnswer {
  bidId: string | null;
  bidAmountCents: number;
  phoneNumber?: string;
  expireInSeconds: number;
  reserved?: boolean;
  rejectReason?: string;
}

async function http(method: string, path: string, as: string | undefined, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (as) headers.authorization = `Bearer ${as}`;
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, headers: r.headers, json: (await r.json()) as Record<string, unknown> };
}

async function ping(body: Record<string, unknown>, as = key.seller): Promise<PingAnswer> {
  const r = await http('POST', '/rtb/ping', as, body);
  expect(r.status).toBe(200);
  return r.json as unknown as PingAnswer;
}

/** A call through the switch, once recorded and billed: its row, its trace and its billing. */
async function call(ani: string) {
  const result = await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 50 }).finished;
  const row = await eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query(
      `SELECT c.id, c.winner_target_id, c.price_cents::int AS price_cents, d.trace, b.reason, b.buyer_charge_cents::int AS charge, b.seller_payout_cents::int AS payout
       FROM calls c JOIN call_decisions d ON d.call_id = c.id JOIN call_billing b ON b.call_id = c.id WHERE c.ani = $1 ORDER BY c.started_at DESC`,
      [ani],
    );
    return rows[0] as { id: string; winner_target_id: string; price_cents: number; trace: { sellerBid?: { bidId: string; priceCents: number } }; reason: string; charge: number; payout: number } | undefined;
  }, `the call from ${ani} to be recorded and billed`, 10_000);
  return { result, row };
}

/** What the seller was credited in the ledger for a call. */
async function sellerCredit(callId: string): Promise<number> {
  const { rows } = await infra.pool.query(
    "SELECT coalesce(sum(e.amount_cents), 0)::int AS n FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.call_id = $1 AND e.account_id = 'seller-r'",
    [callId],
  );
  return rows[0].n;
}

const concurrent = (targetId: string) => node.caps.concurrentCalls(targetId, Date.now() + offsetMs);

it('answers a ping with a bid that reserves its buyer, and the caller\'s call reaches that buyer at the bid\'s price', async () => {
  const bid = await ping({ campaignId: 'rtb', callerId: '+13125550101', zip: '60601', tags: { vertical: 'medicare' } });
  // the seller is quoted its payout at the price: half of the second price, 2000
  expect(bid).toEqual({ bidId: expect.any(String), bidAmountCents: 1000, phoneNumber: DID, sipAddress: `sip:${DID}@sip.exchange.example:5060`, expireInSeconds: TTL_SEC, reserved: true });
  const stored = (await infra.pool.query('SELECT target_id, price_cents::int AS price, payout_cents::int AS payout, reserved, caller_e164 FROM rtb_seller_bids WHERE id = $1', [bid.bidId])).rows[0];
  expect(stored).toEqual({ target_id: 'hi-t', price: 2000, payout: 1000, reserved: true, caller_e164: '+13125550101' });
  // the buyer's one line is held for the bid
  expect(await concurrent('hi-t')).toBe(1);

  // the bids move after the ping: a fresh auction would now price the call at 2900
  expect((await http('PATCH', '/v1/targets/lo-t/bid', key.admin, { bidCents: 2900 })).status).toBe(200);
  try {
    const { result, row } = await call('+13125550101');
    expect(result.bridgedTo).toContain(HI);
    expect(row.winner_target_id).toBe('hi-t');
    expect(row.price_cents).toBe(2000);
    expect(row.trace.sellerBid).toEqual({ bidId: bid.bidId, priceCents: 2000 });
    expect([row.reason, row.charge, row.payout]).toEqual(['converted', 2000, 1000]);
    expect(await sellerCredit(row.id)).toBe(1000);
    const claimed = (await infra.pool.query('SELECT claimed_call_id FROM rtb_seller_bids WHERE id = $1', [bid.bidId])).rows[0];
    expect(claimed.claimed_call_id).toBe(row.id);
    // the reservation became the call's slot, and the call gave it back when it ended: not a second slot
    await eventually(async () => (await concurrent('hi-t')) === 0, 'the slot to be free after the call');
  } finally {
    await http('PATCH', '/v1/targets/lo-t/bid', key.admin, { bidCents: 2000 });
  }
});

it('fails a claimed call over to the rest of its auction when the reserved buyer is busy, and gives the slot back', async () => {
  const bid = await ping({ campaignId: 'rtb', callerId: '+13125550112', zip: '60601' });
  expect(bid.reserved).toBe(true);
  harness.setBuyer(HI, { kind: 'busy', afterMs: 10 });
  try {
    const { result, row } = await call('+13125550112');
    expect(result.bridgeTargets).toEqual([expect.stringContaining(HI), expect.stringContaining(LO)]);
    expect(row.trace.sellerBid).toEqual({ bidId: bid.bidId, priceCents: 2000 });
    expect(row.winner_target_id).toBe('lo-t');
    expect(await concurrent('hi-t')).toBe(0);
  } finally {
    harness.setBuyer(HI, { kind: 'answer', afterMs: 10 });
  }
});

it('gives a repeated ping the same bid and holds one reservation; another caller\'s call is auctioned anew around it', async () => {
  const body = { campaignId: 'rtb', callerId: '+13125550102', state: 'IL', tags: { a: '1', b: '2' } };
  const first = await ping(body);
  const again = await ping({ ...body, tags: { b: '2', a: '1' } });
  expect(again.bidId).toBe(first.bidId);
  expect(again.bidAmountCents).toBe(first.bidAmountCents);
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM rtb_seller_bids WHERE caller_e164 = '+13125550102'")).rows[0].n).toBe(1);
  expect(await concurrent('hi-t')).toBe(1);
  // different tags are another ping: the only line is held, so nobody else is bid
  const otherTags = await ping({ ...body, tags: { a: '1' } });
  expect(otherTags.bidId).not.toBe(first.bidId);

  // a call from another caller is auctioned anew: the high buyer's line is held for the bid, so the low one wins
  const { result, row } = await call('+13125550103');
  expect(result.bridgedTo).toContain(LO);
  expect(row.trace.sellerBid).toBeUndefined();
  expect(row.winner_target_id).toBe('lo-t');
});

it('auctions a call anew once its bid expired, and gives the bid\'s capacity back', async () => {
  const bid = await ping({ campaignId: 'rtb', callerId: '+13125550104', zip: '60601' });
  expect(bid.reserved).toBe(true);
  offsetMs += (TTL_SEC + 5) * 1000;
  // the sweep gives the held line back, so the high buyer is free again
  await eventually(async () => (await concurrent('hi-t')) === 0, 'the expired bid\'s slot to come back');
  const { result, row } = await call('+13125550104');
  expect(result.bridgedTo).toContain(HI);
  expect(row.trace.sellerBid).toBeUndefined();
  expect((await infra.pool.query('SELECT claimed_call_id FROM rtb_seller_bids WHERE id = $1', [bid.bidId])).rows[0].claimed_call_id).toBeNull();
});

it('quotes a ping without a caller id for information only: nothing is held and the call is auctioned anew', async () => {
  const bid = await ping({ campaignId: 'rtb', zip: '60601' });
  expect(bid).toEqual({ bidId: expect.any(String), bidAmountCents: 1000, phoneNumber: DID, sipAddress: `sip:${DID}@sip.exchange.example:5060`, expireInSeconds: TTL_SEC, reserved: false });
  expect(await concurrent('hi-t')).toBe(0);
  const { row } = await call('+13125550105');
  expect(row.trace.sellerBid).toBeUndefined();
});

it('refuses a call whose caller was blocked since the ping, and gives the bid\'s capacity back at once', async () => {
  const bid = await ping({ campaignId: 'rtb', callerId: '+13125550113', zip: '60601' });
  expect(bid.reserved).toBe(true);
  expect(await concurrent('hi-t')).toBe(1);
  await blockNumber(infra.pool, infra.redis, '+13125550113', 'test');
  const result = await harness.placeCall({ ani: '+13125550113', dnis: DID }).finished;
  expect(result.bridgeTargets).toEqual([]);
  await eventually(async () => (await concurrent('hi-t')) === 0, 'the refused caller\'s bid to give its slot back');
});

it('answers a zero bid with the reason: a blocked caller, a paused campaign', async () => {
  await blockNumber(infra.pool, infra.redis, '+13125550106', 'test');
  expect(await ping({ campaignId: 'rtb', callerId: '+13125550106', zip: '60601' })).toEqual({ bidId: null, bidAmountCents: 0, expireInSeconds: 0, rejectReason: 'caller_blocked' });
  expect(await concurrent('hi-t')).toBe(0);
  // A bid made before the pause: its repeat must not outlive the pause.
  expect((await ping({ campaignId: 'other', callerId: '+13125550107', zip: '60601' }, key.otherSeller)).bidId).not.toBeNull();
  expect((await http('PATCH', '/v1/campaigns/other', key.admin, { active: false })).status).toBe(200);
  try {
    await eventually(async () => (await ping({ campaignId: 'other', callerId: '+13125550107', zip: '60601' }, key.otherSeller)).rejectReason === 'disabled', 'the paused campaign to answer disabled');
  } finally {
    await http('PATCH', '/v1/campaigns/other', key.admin, { active: true });
  }
});

it('quotes pings on the payout and the limits changed through the API, on this node and on another', async () => {
  // Another node's snapshot on the same Postgres and Redis: it hears the changes the way a second node does.
  const subscriber = createRedis(TEST_REDIS_URL, infra.prefix, silentLogger(), 'other-node');
  const other = new SnapshotSource(infra.pool, subscriber, infra.prefix, silentLogger());
  await other.start();
  try {
    expect(other.current().payoutRule('rtb')).toEqual({ payoutCents: null, payoutPercent: 50, allowNegativeMargin: false });
    expect((await http('PATCH', '/v1/campaigns/rtb', key.admin, { payoutPercent: 40 })).status).toBe(200);
    // the campaign's payout moves with the rest of its config (the reload its change publishes), on every node
    await eventually(async () => (await ping({ campaignId: 'rtb', zip: '60601' })).bidAmountCents === 800, 'the new payout to be quoted: 40% of 2000');
    await eventually(async () => other.current().payoutRule('rtb')?.payoutPercent === 40, 'the other node to have the new payout');

    // the seller's limits (it has pinged more than once today): held to at once by the node that saved them, and
    // heard by the other
    expect((await http('PATCH', '/v1/accounts/seller-r/rtb-ping-limits', key.admin, { perDay: 1 })).status).toBe(200);
    expect(await ping({ campaignId: 'rtb', zip: '60601' })).toMatchObject({ bidId: null, rejectReason: 'rate_limited' });
    await eventually(async () => other.current().pingLimitOverrides('seller-r').perDay === 1, 'the other node to have the new limits');
    expect(other.current().pingLimitOverrides('seller-r')).toEqual({ perMinute: null, perHour: null, perDay: 1 });
  } finally {
    await http('PATCH', '/v1/accounts/seller-r/rtb-ping-limits', key.admin, { perMinute: null, perHour: null, perDay: null });
    await http('PATCH', '/v1/campaigns/rtb', key.admin, { payoutPercent: 50 });
    await other.stop();
    subscriber.disconnect();
  }
  expect((await ping({ campaignId: 'rtb', zip: '60601' })).bidId).not.toBeNull();
  await eventually(async () => (await ping({ campaignId: 'rtb', zip: '60601' })).bidAmountCents === 1000, 'the payout to be back at 50%');
});

it('rate limits a seller\'s pings with its own limits, and counts them for the seller to read', async () => {
  await eventually(async () => (await ping({ campaignId: 'other', callerId: '+13125550108', zip: '60601' }, key.otherSeller)).bidId !== null, 'the campaign to bid again');
  const limits = await http('PATCH', '/v1/accounts/seller-o/rtb-ping-limits', key.admin, { perMinute: 0, perHour: 0, perDay: 0 });
  expect(limits.status).toBe(200);
  const before = (await http('GET', '/v1/rtb/pings/stats', key.otherSeller)).json as { used: { day: number }; pings: { rejected: Record<string, number> } };
  expect((await http('PATCH', '/v1/accounts/seller-o/rtb-ping-limits', key.admin, { perDay: before.used.day + 1 })).status).toBe(200);
  const ok = await ping({ campaignId: 'other', callerId: '+13125550109', zip: '60601' }, key.otherSeller);
  expect(ok.bidId).not.toBeNull();
  const r = await http('POST', '/rtb/ping', key.otherSeller, { campaignId: 'other', callerId: '+13125550110', zip: '60601' });
  expect(r.json).toEqual({ bidId: null, bidAmountCents: 0, expireInSeconds: 0, rejectReason: 'rate_limited', retryAfterSeconds: expect.any(Number) });
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);

  const stats = await http('GET', '/v1/rtb/pings/stats', key.otherSeller);
  expect(stats.status).toBe(200);
  const s = stats.json as { sellerAccountId: string; pings: { bids: number; rejected: Record<string, number> }; limits: { perDay: number }; used: { day: number } };
  expect(s.sellerAccountId).toBe('seller-o');
  expect(s.pings.rejected.rate_limited).toBe((before.pings.rejected.rate_limited ?? 0) + 1);
  expect(s.limits.perDay).toBe(before.used.day + 1);
  expect(s.used.day).toBe(before.used.day + 1); // the refused ping used nothing
  // the admin reads any seller's; a seller never another's
  expect((await http('GET', '/v1/rtb/pings/stats?sellerAccountId=seller-o', key.admin)).status).toBe(200);
  expect((await http('GET', '/v1/rtb/pings/stats?sellerAccountId=seller-o', key.seller)).status).toBe(404);
  expect((await http('GET', '/v1/rtb/pings/stats', key.buyer)).status).toBe(403);
});

it('refuses a ping for another seller\'s campaign, by a buyer, without a key, or with bad input', async () => {
  const theirs = await http('POST', '/rtb/ping', key.seller, { campaignId: 'other', callerId: '+13125550111', zip: '60601' });
  expect([theirs.status, (theirs.json.error as { code: string }).code]).toEqual([404, 'not_found']);
  expect((await http('POST', '/rtb/ping', key.buyer, { campaignId: 'rtb', zip: '60601' })).status).toBe(403);
  expect((await http('POST', '/rtb/ping', undefined, { campaignId: 'rtb', zip: '60601' })).status).toBe(401);
  const bad = await http('POST', '/rtb/ping', key.seller, { campaignId: 'rtb', callerId: '12', zip: '60601' });
  expect([bad.status, (bad.json.error as { field: string }).field]).toEqual([400, 'callerId']);
  const noPlace = await http('POST', '/rtb/ping', key.seller, { campaignId: 'rtb' });
  expect([noPlace.status, (noPlace.json.error as { field: string }).field]).toEqual([400, 'zip']);
  // nothing was issued for any of them
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM rtb_seller_bids WHERE caller_e164 = '+13125550111'")).rows[0].n).toBe(0);
});

it('documents the ping and its answer in /openapi.json', async () => {
  const doc = (await (await fetch(`http://127.0.0.1:${node.httpPort}/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
  const op = doc.paths['/rtb/ping']!.post;
  expect(Object.keys(op.requestBody.content['application/json'].schema.properties).sort()).toEqual(['callerId', 'campaignId', 'state', 'tags', 'zip']);
  const answers = op.responses['200'].content['application/json'].schema.anyOf as Array<{ properties: Record<string, unknown> }>;
  expect(answers.map((a) => Object.keys(a.properties).sort())).toEqual([
    ['bidAmountCents', 'bidId', 'expireInSeconds', 'phoneNumber', 'reserved', 'sipAddress'],
    ['bidAmountCents', 'bidId', 'expireInSeconds', 'rejectReason', 'retryAfterSeconds'],
  ]);
});
