/**
 * Reports over HTTP from recorded and billed calls: counts and money per campaign and bucket, scoped per key.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { insertEndedCall } from '../support/billing';

let infra: TestInfra;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const day = '2026-11-20';

beforeAll(async () => {
  infra = await createTestInfra('api_reports');
  await seedAccount(infra.pool, { id: 's1', kind: 'seller' });
  await seedAccount(infra.pool, { id: 's2', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b1', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c1', sellerId: 's1', dids: ['+18885550500'], payoutCents: 1000 });
  await seedCampaign(infra.pool, { id: 'c2', sellerId: 's2', dids: ['+18885550501'], payoutCents: 500, duplicateWindowDays: 0 });
  await seedTarget(infra.pool, { id: 't1', buyerId: 'b1', campaignId: 'c1', bidCents: 2000, convertOnSeconds: 30 });
  await seedTarget(infra.pool, { id: 't2', buyerId: 'b1', campaignId: 'c2', bidCents: 1500, convertOnSeconds: 30 });
  const ids: string[] = [];
  // c1: two converted calls at 10:xx, one short at 11:xx, one not bridged; c2: one converted at 10:xx.
  ids.push(await insertEndedCall(infra.pool, { campaignId: 'c1', sellerId: 's1', ani: '+13035550001', startedAt: new Date(`${day}T10:05:00Z`), billableSec: 60, targetId: 't1', buyerId: 'b1', priceCents: 2000 }));
  ids.push(await insertEndedCall(infra.pool, { campaignId: 'c1', sellerId: 's1', ani: '+13035550002', startedAt: new Date(`${day}T10:45:00Z`), billableSec: 90, targetId: 't1', buyerId: 'b1', priceCents: 2000 }));
  ids.push(await insertEndedCall(infra.pool, { campaignId: 'c1', sellerId: 's1', ani: '+13035550003', startedAt: new Date(`${day}T11:15:00Z`), billableSec: 10, targetId: 't1', buyerId: 'b1', priceCents: 2000 }));
  ids.push(await insertEndedCall(infra.pool, { campaignId: 'c1', sellerId: 's1', ani: '+13035550004', startedAt: new Date(`${day}T11:20:00Z`), billableSec: 0, bridged: false }));
  ids.push(await insertEndedCall(infra.pool, { campaignId: 'c2', sellerId: 's2', ani: '+13035550005', startedAt: new Date(`${day}T10:30:00Z`), billableSec: 40, targetId: 't2', buyerId: 'b1', priceCents: 1500 }));
  await billEndedCalls(infra.pool, ids);
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.s1 = (await createApiKey(infra.pool, { role: 'seller', accountId: 's1' })).key;
  keys.b1 = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'b1' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const report = async (qs: string, key?: string) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}/v1/reports/calls?${qs}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: r.status, json: (await r.json()) as any };
};
const range = `from=${day}T00:00:00Z&to=2026-11-21T00:00:00Z`;

it('per campaign and hour: calls, bridged, conversions, revenue, payout and margin', async () => {
  const r = await report(`groupBy=campaign&bucket=hour&${range}`, keys.admin);
  expect(r.status).toBe(200);
  expect(r.json.rows).toEqual([
    { bucket: `${day}T10:00:00.000Z`, campaign: 'c1', calls: 2, bridged: 2, conversions: 2, revenueCents: 4000, payoutCents: 2000, marginCents: 2000 },
    { bucket: `${day}T10:00:00.000Z`, campaign: 'c2', calls: 1, bridged: 1, conversions: 1, revenueCents: 1500, payoutCents: 500, marginCents: 1000 },
    { bucket: `${day}T11:00:00.000Z`, campaign: 'c1', calls: 2, bridged: 1, conversions: 0, revenueCents: 0, payoutCents: 0, marginCents: 0 },
  ]);
});

it('per day, scoped: a seller sees its campaigns and payout, a buyer its spend, neither the margin nor the other side\'s money', async () => {
  const seller = await report(`groupBy=seller&bucket=day&${range}`, keys.s1);
  expect(seller.json.rows).toEqual([{ bucket: `${day}T00:00:00.000Z`, seller: 's1', calls: 4, bridged: 3, conversions: 2, payoutCents: 2000 }]);
  const buyer = await report(`groupBy=buyer&bucket=day&${range}`, keys.b1);
  expect(buyer.json.rows).toEqual([{ bucket: `${day}T00:00:00.000Z`, buyer: 'b1', calls: 4, bridged: 4, conversions: 3, revenueCents: 5500 }]);
  // Grouping by buyer would name the buyers: refused to a seller, unless the platform lets it see buyer details.
  const byBuyer = await report(`groupBy=buyer&bucket=day&${range}`, keys.s1);
  expect(byBuyer.status).toBe(403);
  await infra.pool.query("UPDATE accounts SET sees_buyer_details = true WHERE id = 's1'");
  try {
    expect((await report(`groupBy=seller&bucket=day&${range}`, keys.s1)).json.rows).toEqual([{ bucket: `${day}T00:00:00.000Z`, seller: 's1', calls: 4, bridged: 3, conversions: 2, payoutCents: 2000, revenueCents: 4000 }]);
    expect((await report(`groupBy=buyer&bucket=day&${range}`, keys.s1)).json.rows.map((r: { buyer: string | null }) => r.buyer)).toContain('b1');
  } finally {
    await infra.pool.query("UPDATE accounts SET sees_buyer_details = false WHERE id = 's1'");
  }
});

it('per minute, for the live view: each call in its minute', async () => {
  const r = await report(`groupBy=campaign&bucket=minute&from=${day}T10:00:00Z&to=${day}T11:00:00Z`, keys.admin);
  expect(r.json.rows.map((x: { bucket: string; campaign: string; calls: number; revenueCents: number }) => [x.bucket, x.campaign, x.calls, x.revenueCents])).toEqual([
    [`${day}T10:05:00.000Z`, 'c1', 1, 2000],
    [`${day}T10:30:00.000Z`, 'c2', 1, 1500],
    [`${day}T10:45:00.000Z`, 'c1', 1, 2000],
  ]);
  expect((await report(`bucket=minute&${range.replace('2026-11-21', '2026-11-22')}`, keys.admin)).json.error).toMatchObject({ code: 'validation_failed', field: 'to' });
});

it('bad ranges and fields are named; a key is required', async () => {
  expect((await report(`from=${day}T00:00:00Z&to=${day}T00:00:00Z`, keys.admin)).json.error).toMatchObject({ code: 'validation_failed', field: 'to' });
  expect((await report(`bucket=week&${range}`, keys.admin)).json.error).toMatchObject({ field: 'bucket' });
  expect((await report('groupBy=campaign', keys.admin)).json.error).toMatchObject({ field: 'from' });
  expect((await report(range)).status).toBe(401);
});
