/**
 * GDPR through the API on a real node, with a call placed through the FreeSWITCH peer and billed: the export
 * holds everything about the number; after erasure no record names it, money and counts are unchanged, consent
 * is gone (from Postgres and from what screening reads), and its DNC entry stays.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { addDncNumbers, recordConsent } from '../../app/store/compliance-repo';
import { complianceKeys } from '../../app/cache/compliance-keys';
import { createEndpoint, rotateSecret } from '../../app/store/webhook-repo';
import { SecretBox } from '../../app/util/secret-box';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let admin: string;
let seller: string;
const ANI = '+18135558001';
const DID = '+18885550490';
const BUYER = '+15551230091';

beforeAll(async () => {
  infra = await createTestInfra('api_privacy');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: [DID], floorCents: 1000, payoutCents: 600 });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'c', bidCents: 1500, destination: BUYER, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
  await recordConsent(infra.pool, infra.redis, { campaignId: 'c', number: ANI, leadId: 'L-1', source: 'web form', consentedAt: new Date() });
  // The buyer takes webhooks of ends: their bodies carry the caller's number too (the delivery itself fails here).
  await createEndpoint(infra.pool, { accountId: 'buyer', url: 'http://127.0.0.1:9/hook', events: ['call.ended'] });
  await rotateSecret(infra.pool, SecretBox.fromKey(undefined), 'buyer');
  await harness.placeCall({ ani: ANI, dnis: DID, hangupAfterBridgeMs: 20 }).finished;
  await eventually(async () => {
    await node.recorder!.drain();
    return (await infra.pool.query('SELECT 1 FROM call_billing b JOIN calls c ON c.id = b.call_id WHERE c.ani = $1', [ANI])).rowCount === 1;
  }, 'the call to be recorded and billed');
  await eventually(async () => (await infra.pool.query('SELECT 1 FROM webhook_deliveries WHERE body LIKE $1', [`%${ANI}%`])).rowCount === 1, 'the webhook of its end');
  await addDncNumbers(infra.pool, infra.redis, 'global', [ANI], 'consumer request');
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const api = async (method: string, path: string, key?: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: (await r.json()) as any };
};
const enc = encodeURIComponent(ANI);

it('exports everything held about a number', async () => {
  const r = await api('GET', `/v1/privacy/numbers/${enc}`, admin);
  expect(r.status).toBe(200);
  expect(r.json.calls).toHaveLength(1);
  expect(r.json.calls[0]).toMatchObject({ ani: ANI, outcome: 'bridged' });
  expect(r.json.decisions[0].trace.ani).toBe(ANI);
  expect(r.json.complianceAudit).toHaveLength(1);
  expect(r.json.consentRecords).toEqual([expect.objectContaining({ leadId: 'L-1', source: 'web form' })]);
  expect(r.json.dncEntries).toEqual([expect.objectContaining({ listId: 'global' })]);
  expect(r.json.billing).toHaveLength(1);
  expect(r.json.webhookDeliveries).toEqual([expect.objectContaining({ eventType: 'call.ended', accountId: 'buyer', body: expect.stringContaining(ANI) })]);
});

it('erases it: no record names it, money and counts stay, consent goes, the DNC entry stays', async () => {
  const ledgerBefore = (await infra.pool.query('SELECT account_id, sum(amount_cents)::int AS s FROM ledger_entries GROUP BY account_id ORDER BY account_id')).rows;
  const r = await api('POST', `/v1/privacy/numbers/${enc}/erase`, admin, { reason: 'data subject request #42' });
  expect(r.status).toBe(200);
  expect(r.json.counts).toMatchObject({ calls: 1, decisions: 1, complianceAudit: 1, billing: 1, consentRecords: 1, webhookDeliveries: 1 });
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE body LIKE '%' || $1 || '%'", [ANI.slice(1)])).rows[0].n).toBe(0);
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE body LIKE '%erased:%'")).rows[0].n).toBe(1);
  for (const [table, column] of [['calls', 'ani'], ['compliance_audit_log', 'ani'], ['call_billing', 'ani'], ['fraud_scores', 'ani'], ['consent_records', 'number']]) {
    expect([table, (await infra.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [ANI])).rows[0].n]).toEqual([table, 0]);
  }
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM call_decisions WHERE trace::text LIKE '%' || $1 || '%'", [ANI.slice(1)])).rows[0].n).toBe(0);
  const erased = (await infra.pool.query("SELECT ani, outcome FROM calls WHERE ani LIKE 'erased:%'")).rows;
  expect(erased).toEqual([{ ani: expect.stringMatching(/^erased:[0-9a-f]{24}$/), outcome: 'bridged' }]);
  expect((await infra.pool.query('SELECT account_id, sum(amount_cents)::int AS s FROM ledger_entries GROUP BY account_id ORDER BY account_id')).rows).toEqual(ledgerBefore);
  expect(await infra.redis.zscore(complianceKeys.consent('c'), ANI)).toBeNull();
  expect(await infra.redis.sismember(complianceKeys.dncGlobal, ANI)).toBe(1);
  expect((await api('GET', `/v1/privacy/numbers/${enc}`, admin)).json.calls).toEqual([]);
  expect((await infra.pool.query('SELECT number_hash, reason FROM privacy_erasures')).rows).toEqual([{ number_hash: erased[0].ani, reason: 'data subject request #42' }]);
});

it('admins only, valid numbers, a reason', async () => {
  expect((await api('GET', `/v1/privacy/numbers/${enc}`, seller)).status).toBe(403);
  expect((await api('GET', `/v1/privacy/numbers/${enc}`)).status).toBe(401);
  expect((await api('GET', '/v1/privacy/numbers/12', admin)).json.error).toMatchObject({ code: 'validation_failed', field: 'number' });
  expect((await api('POST', `/v1/privacy/numbers/${enc}/erase`, admin, { reason: '' })).json.error).toMatchObject({ field: 'reason' });
});
