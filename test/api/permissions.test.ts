/**
 * Who may set a price (issue 13, finding 1), on a real node with calls through the FreeSWITCH peer: a seller cannot
 * change its payout, floor or routing; a buyer bids within the max bid the platform set for it, over REST and
 * socket.io; a payout above what the buyer paid is capped at billing unless an admin allowed a negative margin; and
 * every change of a money setting is in the audit trail, read by admins at GET /v1/audit.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { connectLive } from '../support/live-client';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const keyIds: Record<string, string> = {};
const DID = '+18885550480';
const BUYER = '+15551230081';

beforeAll(async () => {
  infra = await createTestInfra('api_permissions');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: [DID], routing: 'first_price', payoutCents: 1500 });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'c', bidCents: 2000, destination: BUYER, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  for (const [name, role, accountId] of [['admin', 'admin', undefined], ['seller', 'seller', 'seller'], ['buyer', 'buyer', 'buyer']] as const) {
    const k = await createApiKey(infra.pool, { role, ...(accountId ? { accountId } : {}) });
    keys[name] = k.key;
    keyIds[name] = k.id;
  }
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const api = async (method: string, path: string, key: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as any };
};
const row = async (sql: string) => (await infra.pool.query(sql)).rows[0];
const audit = async (query: string) => (await api('GET', `/v1/audit?${query}`, keys.admin)).json.items as any[];

/** A $20 call through the peer, billed: what it posted to each account. */
async function billedCall(ani: string): Promise<Record<string, number>> {
  const call = await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 30 }).finished;
  expect(call.bridgedTo).toContain(BUYER);
  const billed = await eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query('SELECT c.id FROM calls c JOIN call_billing b ON b.call_id = c.id WHERE c.ani = $1', [ani]);
    return rows[0] as { id: string } | undefined;
  }, `the call from ${ani} to be billed`, 10_000);
  const { rows } = await infra.pool.query(
    `SELECT e.account_id, e.amount_cents::int AS amount FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.call_id = $1`,
    [billed.id],
  );
  return Object.fromEntries(rows.map((r) => [r.account_id, r.amount]));
}

it('a seller cannot set its own payout, floor or routing (nor create a campaign with them): 403 naming the fields', async () => {
  const minted = await api('PATCH', '/v1/campaigns/c', keys.seller, { payoutCents: 100_000_000, payoutPercent: null });
  expect(minted.status).toBe(403);
  expect(minted.json.error).toMatchObject({ code: 'forbidden_field' });
  expect(minted.json.error.message).toContain('payoutCents, payoutPercent');
  expect((await api('PATCH', '/v1/campaigns/c', keys.seller, { floorCents: 0, name: 'cheaper' })).json.error.message).toContain('floorCents');
  expect((await api('PATCH', '/v1/campaigns/c', keys.seller, { routing: 'priority_weight' })).status).toBe(403);
  expect((await api('PATCH', '/v1/campaigns/c', keys.seller, { allowNegativeMargin: true })).status).toBe(403);
  const created = await api('POST', '/v1/campaigns', keys.seller, { id: 'c2', sellerAccountId: 'seller', name: 'mine', payoutPercent: 100 });
  expect([created.status, created.json.error.code]).toEqual([403, 'forbidden_field']);
  expect(await row("SELECT count(*)::int AS n FROM campaigns WHERE id = 'c2'")).toEqual({ n: 0 });
  expect(await row("SELECT payout_cents::int AS p, payout_percent, name FROM campaigns WHERE id = 'c'")).toEqual({ p: 1500, payout_percent: null, name: 'campaign c' });
  // What is the seller's own to change still is; and none of the refused attempts left an audit row.
  expect((await api('PATCH', '/v1/campaigns/c', keys.seller, { name: 'Solar' })).status).toBe(200);
  expect(await audit('entity=campaign&entityId=c')).toEqual([]);
});

it('a payout above the price posts no more than the price to the seller, unless an admin allowed a negative margin', async () => {
  // The finding: a $1,000,000 payout on a $20 call. Only an admin can set it now, and even then billing caps it.
  expect((await api('PATCH', '/v1/campaigns/c', keys.admin, { payoutCents: 100_000_000 })).status).toBe(200);
  expect(await billedCall('+18135558001')).toEqual({ buyer: -2000, seller: 2000 });

  expect((await api('PATCH', '/v1/campaigns/c', keys.admin, { payoutCents: 2500, allowNegativeMargin: true })).status).toBe(200);
  expect(await billedCall('+18135558002')).toEqual({ buyer: -2000, seller: 2500, platform: -500 });

  const trail = await audit('entity=campaign&entityId=c');
  expect(trail.map((e) => [e.field, e.oldValue, e.newValue, e.keyId, e.role])).toEqual([
    // newest first; one row per changed field
    ['allowNegativeMargin', false, true, keyIds.admin, 'admin'],
    ['payoutCents', 100_000_000, 2500, keyIds.admin, 'admin'],
    ['payoutCents', 1500, 100_000_000, keyIds.admin, 'admin'],
  ]);
  expect(new Date(trail[0].at).getTime()).toBeGreaterThan(Date.now() - 60_000);
});

it('a buyer bids within the max bid the platform set for its account, over REST and socket.io alike', async () => {
  expect((await api('PATCH', '/v1/accounts/buyer', keys.buyer, { maxBidCents: 1_000_000 })).status).toBe(403);
  expect((await api('PATCH', '/v1/accounts/buyer', keys.admin, { maxBidCents: 3000 })).json.maxBidCents).toBe(3000);

  const over = await api('PATCH', '/v1/targets/t', keys.buyer, { bidCents: 3001 });
  expect([over.status, over.json.error.code, over.json.error.field]).toEqual([422, 'bid_over_limit', 'bidCents']);
  expect((await api('PATCH', '/v1/targets/t/bid', keys.buyer, { bidCents: 4000 })).json.error).toMatchObject({ code: 'bid_over_limit' });
  expect((await api('POST', '/v1/targets', keys.buyer, { id: 't2', buyerAccountId: 'buyer', campaignId: 'c', name: 'x', bidCents: 5000, destination: 'sip:t2@buyer.example' })).json.error).toMatchObject({ code: 'bid_over_limit' });
  const { socket } = await connectLive(node.httpPort, keys.buyer);
  try {
    const reply = await socket.timeout(5000).emitWithAck('bids:update', { updates: [{ targetId: 't', bidCents: 3500 }] });
    expect(reply).toEqual({ results: [{ targetId: 't', ok: false, error: 'over_max_bid' }] });
    expect(await row("SELECT bid_cents::int AS b FROM buyer_targets WHERE id = 't'")).toEqual({ b: 2000 });
    expect(node.snapshots.current().targets.get('t')?.bidCents).toBe(2000);

    // At the limit is fine, on every path; the batch leaves one audit row naming the buyer's key.
    expect(await socket.timeout(5000).emitWithAck('bids:update', { targetId: 't', bidCents: 2900 })).toEqual({ results: [{ targetId: 't', ok: true, bidCents: 2900 }] });
    expect((await api('PATCH', '/v1/targets/t', keys.buyer, { bidCents: 3000 })).status).toBe(200);
  } finally {
    socket.disconnect();
  }
  // Ranking and billing fields of a target are the platform's.
  const ranked = await api('PATCH', '/v1/targets/t', keys.buyer, { qualityScore: 1, priority: 9, convertOnSeconds: 0 });
  expect([ranked.status, ranked.json.error.message]).toEqual([403, expect.stringContaining('qualityScore, priority, convertOnSeconds')]);
  // An admin is not held to the limit.
  expect((await api('PATCH', '/v1/targets/t/bid', keys.admin, { bidCents: 5000 })).status).toBe(200);

  const trail = await audit('entityId=t');
  expect(trail.map((e) => [e.entity, e.field, e.oldValue, e.newValue, e.keyId])).toEqual([
    ['target_bids', 'bid_cents', { t: 3000 }, { t: 5000 }, keyIds.admin],
    ['target', 'bidCents', 2900, 3000, keyIds.buyer],
    ['target_bids', 'bid_cents', { t: 2000 }, { t: 2900 }, keyIds.buyer],
  ]);
  expect((await audit('entity=account&entityId=buyer')).map((e) => [e.field, e.oldValue, e.newValue])).toEqual([['maxBidCents', null, 3000]]);
});

it('a balance top-up (an adjustment) is in the audit trail once, with each account\'s balance before and after', async () => {
  const before = (await row("SELECT balance_cents::int AS b FROM accounts WHERE id = 'buyer'")).b as number;
  const topUp = { idempotencyKey: 'wire-000001', memo: 'wire received', postings: [{ accountId: 'buyer', amountCents: 5000 }, { accountId: 'platform', amountCents: -5000 }] };
  expect((await api('POST', '/v1/adjustments', keys.admin, topUp)).status).toBe(201);
  expect((await api('POST', '/v1/adjustments', keys.admin, topUp)).status).toBe(200); // the same one again: not posted, not audited
  expect((await audit('entity=account&entityId=buyer')).filter((e) => e.field === 'balanceCents').map((e) => [e.oldValue, e.newValue, e.keyId]))
    .toEqual([[before, before + 5000, keyIds.admin]]);
});

it('the audit trail pages newest first and is for admins only', async () => {
  const all = await audit('limit=1000');
  expect(all.length).toBeGreaterThanOrEqual(7);
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const r = await api('GET', `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`, keys.admin);
    seen.push(...r.json.items.map((e: { id: number }) => e.id));
    cursor = r.json.nextCursor;
  } while (cursor);
  expect(seen).toEqual(all.map((e) => e.id));
  expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  expect((await api('GET', '/v1/audit', keys.seller)).status).toBe(403);
  expect((await api('GET', '/v1/audit', keys.buyer)).status).toBe(403);
});
