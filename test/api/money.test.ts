/**
 * The money routes over real HTTP on a real node: each for success, bad input (the field named), no key (401),
 * the wrong role (403) and another account's data (refused as not found).
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { billingQueue } from '../../app/jobs/queues';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { insertEndedCall } from '../support/billing';

let infra: TestInfra;
let node: ExchangeNode;
const keys: Record<string, string> = {};
let callId = '';
const from = new Date(Date.now() - 86_400_000).toISOString();
const to = new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  infra = await createTestInfra('api_money');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'other-seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer', balanceCents: 50_000, creditLimitCents: 10_000 });
  await seedAccount(infra.pool, { id: 'other-buyer', kind: 'buyer', balanceCents: 50_000 });
  await seedCampaign(infra.pool, { id: 'camp', sellerId: 'seller', dids: ['+18885550450'], payoutCents: 1200 });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'camp', bidCents: 2000, convertOnSeconds: 30 });
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
  keys.buyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' })).key;
  keys.otherBuyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'other-buyer' })).key;
  callId = await insertEndedCall(infra.pool, { campaignId: 'camp', sellerId: 'seller', ani: '+12025550777', billableSec: 45, targetId: 't', buyerId: 'buyer', priceCents: 2000 });
  await billEndedCalls(infra.pool, [callId]);
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const call = async (method: string, path: string, key?: string, body?: unknown) => {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, type: r.headers.get('content-type') ?? '' };
};

describe('balance', () => {
  it('the owner and an admin see it; another account, a missing key and the wrong role do not', async () => {
    const mine = await call('GET', '/v1/accounts/buyer/balance', keys.buyer);
    expect(mine).toMatchObject({ status: 200, json: { accountId: 'buyer', balanceCents: 48_000, creditLimitCents: 10_000, availableCents: 58_000 } });
    expect((await call('GET', '/v1/accounts/buyer/balance', keys.admin)).status).toBe(200);
    expect((await call('GET', '/v1/accounts/buyer/balance', keys.otherBuyer)).json).toEqual({ error: { code: 'not_found', message: 'no such resource' } });
    expect((await call('GET', '/v1/accounts/buyer/balance')).status).toBe(401);
    expect((await call('GET', '/v1/accounts/buyer/balance', keys.agent)).status).toBe(403);
    expect((await call('GET', '/v1/accounts/nobody/balance', keys.admin)).status).toBe(404);
  });
});

describe('ledger', () => {
  it('lists the account entries, newest first, with a cursor', async () => {
    const r = await call('GET', '/v1/accounts/seller/ledger?limit=10', keys.seller);
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([expect.objectContaining({ amountCents: 1200, kind: 'call', callId, campaignId: 'camp' })]);
    expect(r.json.nextCursor).toBeNull();
    expect((await call('GET', '/v1/accounts/seller/ledger?limit=0', keys.seller)).json.error).toMatchObject({ code: 'validation_failed', field: 'limit' });
    expect((await call('GET', '/v1/accounts/seller/ledger', keys.buyer)).status).toBe(404);
    expect((await call('GET', '/v1/accounts/seller/ledger')).status).toBe(401);
  });
});

describe('invoice', () => {
  it('totals by campaign as JSON and as CSV', async () => {
    const json = await call('GET', `/v1/accounts/buyer/invoice?from=${from}&to=${to}`, keys.buyer);
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({ accountId: 'buyer', lines: [{ campaignId: 'camp', kind: 'call', transactions: 1, totalCents: -2000 }], totalCents: -2000 });
    const csv = await call('GET', `/v1/accounts/buyer/invoice?from=${from}&to=${to}&format=csv`, keys.buyer);
    expect(csv.type).toContain('text/csv');
    expect(csv.text).toBe('campaign_id,kind,transactions,total_cents\ncamp,call,1,-2000\nTOTAL,,,-2000\n');
    expect((await call('GET', `/v1/accounts/buyer/invoice?from=${to}&to=${from}`, keys.buyer)).json.error).toMatchObject({ code: 'validation_failed', field: 'to' });
    expect((await call('GET', `/v1/accounts/buyer/invoice?from=${from}&to=${to}&format=pdf`, keys.buyer)).json.error).toMatchObject({ field: 'format' });
    expect((await call('GET', `/v1/accounts/buyer/invoice?from=${from}&to=${to}`, keys.otherBuyer)).status).toBe(404);
  });
});

describe('settlements', () => {
  it('closes a period once: the second run returns the same record; an overlapping period is refused', async () => {
    const body = { accountId: 'seller', from, to };
    const first = await call('POST', '/v1/settlements', keys.admin, body);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ created: true, totalCents: 1200, calls: 1 });
    const again = await call('POST', '/v1/settlements', keys.admin, body);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ created: false, totalCents: 1200, calls: 1, closedAt: first.json.closedAt });
    const overlap = await call('POST', '/v1/settlements', keys.admin, { accountId: 'seller', from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    expect(overlap).toMatchObject({ status: 409, json: { error: { code: 'period_overlap', field: 'from' } } });
    expect((await call('POST', '/v1/settlements', keys.admin, { accountId: 'seller', from })).json.error).toMatchObject({ code: 'validation_failed', field: 'to' });
    expect((await call('POST', '/v1/settlements', keys.seller, body)).status).toBe(403);
    expect((await call('POST', '/v1/settlements', keys.admin, { ...body, accountId: 'nobody' })).status).toBe(404);
  });
});

describe('refunds and adjustments', () => {
  it('a refund reverses the call once; an adjustment must balance and happens once per key', async () => {
    const refund = await call('POST', '/v1/refunds', keys.admin, { callId, reason: 'disputed: wrong number' });
    expect(refund.status).toBe(201);
    expect(refund.json.postings).toEqual(expect.arrayContaining([{ accountId: 'buyer', amountCents: 2000 }, { accountId: 'seller', amountCents: -1200 }, { accountId: 'platform', amountCents: -800 }]));
    expect((await call('POST', '/v1/refunds', keys.admin, { callId, reason: 'again' })).json).toMatchObject({ posted: false, transactionId: refund.json.transactionId });
    expect((await call('GET', '/v1/accounts/buyer/balance', keys.buyer)).json.balanceCents).toBe(50_000);
    expect((await call('POST', '/v1/refunds', keys.admin, { callId: 'no-such-call', reason: 'x' })).status).toBe(404);
    expect((await call('POST', '/v1/refunds', keys.buyer, { callId, reason: 'x' })).status).toBe(403);

    const topUp = { idempotencyKey: 'deposit-0001', memo: 'wire received', postings: [{ accountId: 'other-buyer', amountCents: 25_000 }, { accountId: 'platform', amountCents: -25_000 }] };
    expect((await call('POST', '/v1/adjustments', keys.admin, topUp)).status).toBe(201);
    expect((await call('POST', '/v1/adjustments', keys.admin, topUp)).status).toBe(200);
    expect((await call('GET', '/v1/accounts/other-buyer/balance', keys.otherBuyer)).json.balanceCents).toBe(75_000);
    const unbalanced = await call('POST', '/v1/adjustments', keys.admin, { ...topUp, idempotencyKey: 'deposit-0002', postings: [{ accountId: 'other-buyer', amountCents: 100 }, { accountId: 'platform', amountCents: -99 }] });
    expect(unbalanced.json.error).toMatchObject({ code: 'validation_failed', field: 'postings' });
    const unknown = await call('POST', '/v1/adjustments', keys.admin, { ...topUp, idempotencyKey: 'deposit-0003', postings: [{ accountId: 'ghost', amountCents: 100 }, { accountId: 'platform', amountCents: -100 }] });
    expect(unknown).toMatchObject({ status: 422, json: { error: { code: 'unknown_account' } } });
    expect((await call('POST', '/v1/adjustments', keys.seller, topUp)).status).toBe(403);
  });
});

describe('funds figures after a posting', () => {
  it('an adjustment whose Redis write failed writes the lowered figure when it is repeated, so the fund holds do not go on a figure the buyer no longer has', async () => {
    const before = (await node.fundHolds.funds('other-buyer'))!;
    const chargeback = { idempotencyKey: 'chargeback-0001', memo: 'card chargeback', postings: [{ accountId: 'other-buyer', amountCents: -30_000 }, { accountId: 'platform', amountCents: 30_000 }] };
    const settle = jest.spyOn(node.redis as unknown as { callxFundsSettle: () => Promise<number> }, 'callxFundsSettle').mockRejectedValueOnce(new Error('Connection is closed.'));
    try {
      expect((await call('POST', '/v1/adjustments', keys.admin, chargeback)).status).toBe(500); // posted, but Redis refused the figure
    } finally {
      settle.mockRestore();
    }
    expect((await node.fundHolds.funds('other-buyer'))!.availableCents).toBe(before.availableCents);
    expect((await call('POST', '/v1/adjustments', keys.admin, chargeback)).json).toMatchObject({ posted: false });
    expect((await node.fundHolds.funds('other-buyer'))!.availableCents).toBe(before.availableCents - 30_000);
  });
});

describe('dead-lettered jobs', () => {
  it('lists the failed jobs of a queue and retries one', async () => {
    const queue = billingQueue({ redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
    try {
      // A job for a call that never ended, allowed one attempt: the real worker fails it for good.
      await queue.add('call-ended', { callId: 'gone' }, { jobId: 'gone', attempts: 1 });
      const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
      worker.start();
      try {
        await eventually(async () => (await queue.getJob('gone'))?.isFailed(), 'the job to fail for good');
      } finally {
        await worker.stop();
      }
      const list = await call('GET', '/v1/jobs/billing/failed', keys.agent);
      expect(list.status).toBe(200);
      expect(list.json.failed).toEqual([expect.objectContaining({ id: 'gone', data: { callId: 'gone' }, attempts: 1, reason: 'call gone is not recorded as ended yet' })]);
      expect((await call('GET', '/v1/jobs/nope/failed', keys.admin)).json.error).toMatchObject({ code: 'validation_failed', field: 'queue' });
      expect((await call('POST', '/v1/jobs/billing/gone/retry', keys.agent)).status).toBe(403);
      expect((await call('POST', '/v1/jobs/billing/gone/retry', keys.admin)).status).toBe(202);
      expect(await (await queue.getJob('gone'))!.isFailed()).toBe(false);
      expect((await call('POST', '/v1/jobs/billing/gone/retry', keys.admin)).status).toBe(404);
    } finally {
      await queue.close();
    }
  });
});
