/**
 * GET /v1/calls/export.csv through a real node: the same calls as the list (filters, order, role scope and
 * projection), every one of them past the export's page size, and spreadsheet-safe fields. And the report's money
 * follows the ledger: a refunded call leaves the report's revenue and payout as the ledger leaves the balances.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { csvField } from '../../app/api/calls-export-routes';
import { createApiKey } from '../../app/store/api-keys';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { insertEndedCall } from '../support/billing';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

let infra: TestInfra;
let node: ExchangeNode;
const keys = {} as Record<'admin' | 's1' | 'b1', string>;
const DAY = '2026-11-20';
/** calls beyond the export's page of 1,000 rows */
const BULK = 1_005;
let billed: string[] = [];

beforeAll(async () => {
  infra = await createTestInfra('api_calls_export');
  await seedAccount(infra.pool, { id: 's1', kind: 'seller' });
  await seedAccount(infra.pool, { id: 's2', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b1', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c1', sellerId: 's1', dids: ['+18885550700'], payoutCents: 1000 });
  await seedCampaign(infra.pool, { id: 'c2', sellerId: 's2', dids: ['+18885550701'], payoutCents: 500 });
  await seedTarget(infra.pool, { id: 't1', buyerId: 'b1', campaignId: 'c1', bidCents: 2000, convertOnSeconds: 30 });
  billed = [
    await insertEndedCall(infra.pool, { campaignId: 'c1', sellerId: 's1', ani: '+13035550001', startedAt: new Date(`${DAY}T10:00:00Z`), billableSec: 60, targetId: 't1', buyerId: 'b1', priceCents: 2000 }),
    await insertEndedCall(infra.pool, { campaignId: 'c1', sellerId: 's1', ani: '+13035550002', startedAt: new Date(`${DAY}T10:10:00Z`), billableSec: 60, targetId: 't1', buyerId: 'b1', priceCents: 2000 }),
  ];
  await billEndedCalls(infra.pool, billed);
  // Seller s2's many unbridged calls, one a minute before the others (a spreadsheet formula as its id).
  await infra.pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, started_at, campaign_id, seller_account_id, outcome, ended_at, duration_sec, billable_sec, end_reason, reject_reason)
     SELECT 'bulk-' || lpad(n::text, 5, '0'), 'inbound', '+1720555' || lpad(n::text, 4, '0'), '+18885550701', $1::timestamptz + n * interval '1 second', 'c2', 's2',
            'rejected', $1::timestamptz + n * interval '1 second', 0, 0, 'rejected', 'dnc_global'
     FROM generate_series(1, $2) n`,
    [`${DAY}T12:00:00Z`, BULK],
  );
  await infra.pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, started_at, campaign_id, seller_account_id, outcome, ended_at, duration_sec, billable_sec, end_reason, reject_reason)
     VALUES ('=HYPERLINK("x")', 'inbound', '+17205559999', '+18885550701', $1, 'c2', 's2', 'rejected', $1, 0, 0, 'rejected', 'blocked_caller')`,
    [`${DAY}T11:59:00Z`],
  );
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.s1 = (await createApiKey(infra.pool, { role: 'seller', accountId: 's1' })).key;
  keys.b1 = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'b1' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

async function get(path: string, key: string): Promise<{ status: number; type: string; text: string }> {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

/** The CSV's rows as objects keyed by its header (fields here hold no commas or quotes but the formula row). */
function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...lines] = text.trimEnd().split('\r\n');
  const names = head!.split(',');
  return lines.map((l) => {
    const cells = l.startsWith('"') ? [l.slice(0, l.indexOf('",') + 1), ...l.slice(l.indexOf('",') + 2).split(',')] : l.split(',');
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
  });
}

/** Every id the list returns for a query, following its cursor. */
async function listIds(query: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const r = await get(`/v1/calls?${query}&limit=500${cursor ? `&cursor=${cursor}` : ''}`, key);
    const body = JSON.parse(r.text) as { items: Array<{ id: string }>; nextCursor: string | null };
    ids.push(...body.items.map((c) => c.id));
    cursor = body.nextCursor;
  } while (cursor);
  return ids;
}

it('exports every call the list holds, in its order, past the export\'s page size', async () => {
  const r = await get('/v1/calls/export.csv', keys.admin);
  expect([r.status, r.type]).toEqual([200, 'text/csv; charset=utf-8']);
  const rows = parseCsv(r.text);
  expect(rows).toHaveLength(BULK + 3);
  expect(rows.map((x) => (x.id!.startsWith('"') ? '=HYPERLINK("x")' : x.id))).toEqual(await listIds('', keys.admin));
  expect(rows[BULK]!.id).toBe('"\'=HYPERLINK(""x"")"'); // a formula is written as text
});

it('takes the list\'s filters and selects the same calls', async () => {
  for (const q of ['campaignId=c1', 'number=%2B1720555000*', 'reason=blocked_caller', `from=${DAY}T10:05:00Z&to=${DAY}T12:00:03Z`]) {
    const csv = parseCsv((await get(`/v1/calls/export.csv?${q}`, keys.admin)).text).map((x) => x.id);
    expect({ q, ids: csv.map((id) => (id!.startsWith('"') ? '=HYPERLINK("x")' : id)) }).toEqual({ q, ids: await listIds(q, keys.admin) });
  }
  const bad = await get('/v1/calls/export.csv?outcome=planet', keys.admin);
  expect([bad.status, JSON.parse(bad.text).error.field]).toEqual([400, 'outcome']);
});

it('shows a seller its calls without the buyer side, and refuses it a search by buyer', async () => {
  const rows = parseCsv((await get('/v1/calls/export.csv', keys.s1)).text);
  expect(rows.map((x) => [x.id, x.sellerAccountId, x.winnerBuyerId, x.priceCents])).toEqual([[billed[1], 's1', '', ''], [billed[0], 's1', '', '']]);
  expect((await get('/v1/calls/export.csv?buyerId=b1', keys.s1)).status).toBe(403);
  const buyer = parseCsv((await get('/v1/calls/export.csv', keys.b1)).text);
  expect(buyer.map((x) => [x.id, x.winnerBuyerId, x.priceCents])).toEqual([[billed[1], 'b1', '2000'], [billed[0], 'b1', '2000']]);
});

it.each([
  ['+18135551234', '+18135551234'], ['=SUM(A1)', "'=SUM(A1)"], ['@x', "'@x"], ['-x', "'-x"], ['-5', '-5'], ['a,b', '"a,b"'], ['say "hi"', '"say ""hi"""'], [null, ''], [42, '42'],
])('writes %p as the field %p', (value, field) => expect(csvField(value)).toBe(field));

it('reports the ledger\'s money: a refunded call no longer counts as revenue or payout', async () => {
  const report = async () => {
    const r = await get(`/v1/reports/calls?groupBy=campaign&bucket=day&from=${DAY}T00:00:00Z&to=2026-11-21T00:00:00Z`, keys.admin);
    return (JSON.parse(r.text) as { rows: Array<{ campaign: string; revenueCents: number; payoutCents: number; marginCents: number }> }).rows.find((x) => x.campaign === 'c1');
  };
  expect(await report()).toMatchObject({ revenueCents: 4000, payoutCents: 2000, marginCents: 2000 });
  const refund = await fetch(`http://127.0.0.1:${node.httpPort}/v1/refunds`, { method: 'POST', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ callId: billed[0], reason: 'caller complaint' }) });
  expect(refund.status).toBe(201);
  const { rows } = await infra.pool.query("SELECT account_id, sum(amount_cents)::int AS c FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.call_id = ANY($1) AND account_id IN ('b1', 's1') GROUP BY 1 ORDER BY 1", [billed]);
  expect(rows).toEqual([{ account_id: 'b1', c: -2000 }, { account_id: 's1', c: 1000 }]);
  expect(await report()).toMatchObject({ revenueCents: 2000, payoutCents: 1000, marginCents: 1000 });
});
