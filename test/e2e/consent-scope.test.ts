/**
 * Consent scope and revocation (issue 14, feature 2), end to end on a node with the FreeSWITCH peer:
 * - outbound calls need a live consent record unless an admin exempts the campaign (a seller cannot);
 * - consent records carry their evidence (certificate, text shown, IP) and expire: expired consent is not consent;
 * - a consumer who revokes consent on one campaign is refused on every campaign of that seller: outbound requests
 *   get 422 call_blocked and nothing is dialled, and a call in on a campaign that requires consent is refused; the
 *   number is on the seller's internal DNC list; another seller's consent is untouched. A revocation by number
 *   (POST /v1/consent-revocations, e.g. a "STOP" text) does the same; new consent calls again only once the
 *   seller takes the number off its DNC list.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { COMPLIANCE_LOADED_KEY } from '../../app/cache/compliance-keys';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const DID_IN = '+18885550480';
const BUYER = '+15551230081';
const CONSUMER = '+13125550481'; // Chicago: the node's clock is a Wednesday, 11:00 there
const TEXTER = '+13125550482';
const LAPSED = '+13125550483';
const STRANGER = '+13125550484';
const NOW = new Date('2026-11-18T17:00:00Z');

beforeAll(async () => {
  infra = await createTestInfra('e2e_consent_scope');
  await seedAccount(infra.pool, { id: 'seller-a', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'seller-b', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'in', sellerId: 'seller-a', dids: [DID_IN], requireConsent: true });
  await seedCampaign(infra.pool, { id: 'out1', sellerId: 'seller-a', dids: ['+18885550485'] });
  await seedCampaign(infra.pool, { id: 'out2', sellerId: 'seller-a', dids: ['+18885550486'] });
  await seedCampaign(infra.pool, { id: 'b1', sellerId: 'seller-b', dids: ['+18885550487'] });
  for (const c of ['in', 'out1', 'out2', 'b1']) await seedTarget(infra.pool, { id: `t-${c}`, buyerId: 'buyer', campaignId: c, bidCents: 1500, destination: BUYER });
  harness = new FreeSwitchHarness({ BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  node = await harness.start(infra, { clock: () => NOW });
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  for (const n of [CONSUMER, TEXTER, LAPSED, STRANGER]) harness.setConsumer(n, { kind: 'busy', afterMs: 10 });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.sellerA = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-a' })).key;
  keys.sellerB = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-b' })).key;
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const api = async (method: string, path: string, key: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: (await r.json()) as any };
};

const consent = (key: string, campaignId: string, number: string, extra: object = {}) =>
  api('POST', '/v1/consents', key, {
    campaignId,
    number,
    leadId: `lead-${campaignId}`,
    source: 'web form',
    consentedAt: '2026-11-10T15:04:05Z',
    certificate: { kind: 'trustedform', id: 'https://cert.trustedform.com/0123456789abcdef' },
    text: 'By clicking Submit I agree to receive calls from Acme about insurance.',
    ip: '203.0.113.7',
    ...extra,
  });

/** Asks for an outbound call: 202 while it dials, or 422 with the reasons; `dialled`: whether the switch was asked. */
async function dial(campaignId: string, to: string): Promise<{ status: number; reasons?: string[]; dialled: boolean }> {
  const before = harness.originateCount();
  const r = await api('POST', '/v1/outbound-calls', keys.admin, { campaignId, to, answerTimeoutSec: 5 });
  if (r.status === 202) await eventually(async () => harness.originateCount() > before, 'the switch to be asked to dial');
  return { status: r.status, reasons: r.json.error?.reasons, dialled: harness.originateCount() > before };
}

/** Places a carrier call in; once it is recorded, its outcome and the screening's block reasons. */
async function callIn(ani: string, dnis: string): Promise<{ outcome: string; reasons: string[] }> {
  // The node's clock is pinned, so calls are told apart by id: the one not recorded before.
  await node.recorder!.drain();
  const seen = (await infra.pool.query('SELECT id FROM calls WHERE ani = $1 AND dnis = $2', [ani, dnis])).rows.map((r) => r.id as string);
  await harness.placeCall({ ani, dnis, hangupAfterBridgeMs: 20 }).finished;
  return eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query(
      `SELECT c.outcome, a.decision, a.reasons FROM calls c JOIN compliance_audit_log a ON a.call_id = c.id
       WHERE c.ani = $1 AND c.dnis = $2 AND c.ended_at IS NOT NULL AND NOT (c.id = ANY($3::text[]))`,
      [ani, dnis, seen],
    );
    const r = rows[0];
    if (!r) return undefined;
    const reasons = (r.reasons as Array<{ pass: boolean; reason?: string }>).filter((x) => !x.pass).map((x) => x.reason!);
    return { outcome: r.outcome as string, reasons };
  }, `the call from ${ani} to be recorded`, 15_000);
}

it('an outbound call needs a consent record; the record keeps its evidence', async () => {
  expect(await dial('out1', STRANGER)).toEqual({ status: 422, reasons: ['no_consent'], dialled: false });
  const created = await consent(keys.sellerA, 'out1', STRANGER);
  expect(created.status).toBe(201);
  expect(created.json).toMatchObject({
    certificate: { kind: 'trustedform', id: 'https://cert.trustedform.com/0123456789abcdef' },
    text: 'By clicking Submit I agree to receive calls from Acme about insurance.',
    ip: '203.0.113.7',
  });
  expect(new Date(created.json.expiresAt).toISOString()).toBe('2027-02-08T15:04:05.000Z'); // 90 days by default
  expect(await dial('out1', STRANGER)).toEqual({ status: 202, reasons: undefined, dialled: true });
});

it('expired consent is not consent', async () => {
  expect((await consent(keys.sellerA, 'out1', LAPSED, { consentedAt: '2026-09-01T00:00:00Z', expiresAt: '2026-11-01T00:00:00Z' })).status).toBe(201);
  expect(await dial('out1', LAPSED)).toEqual({ status: 422, reasons: ['no_consent'], dialled: false });
  expect((await consent(keys.sellerA, 'out1', LAPSED, { expiresAt: '2026-11-09T00:00:00Z' })).json.error).toMatchObject({ code: 'validation_failed', field: 'expiresAt' });
});

it('a consumer who revokes consent on one campaign is refused on every campaign of that seller', async () => {
  const records: Record<string, string> = {};
  for (const c of ['in', 'out1', 'out2']) records[c] = (await consent(keys.sellerA, c, CONSUMER)).json.id;
  expect((await consent(keys.sellerB, 'b1', CONSUMER)).status).toBe(201);
  expect(await callIn(CONSUMER, DID_IN)).toEqual({ outcome: 'bridged', reasons: [] });
  expect((await dial('out2', CONSUMER)).status).toBe(202);

  // "Stop calling me", received on the inbound campaign
  const revoked = await api('DELETE', `/v1/consents/${records.in}`, keys.sellerA);
  expect(revoked.status).toBe(200);
  expect(revoked.json).toMatchObject({ id: records.in, status: 'revoked', campaignIds: ['in', 'out1', 'out2'], recordsRevoked: 3 });

  expect(await dial('out1', CONSUMER)).toEqual({ status: 422, reasons: ['dnc_seller', 'no_consent'], dialled: false });
  expect(await dial('out2', CONSUMER)).toEqual({ status: 422, reasons: ['dnc_seller', 'no_consent'], dialled: false });
  expect(await callIn(CONSUMER, DID_IN)).toEqual({ outcome: 'rejected', reasons: ['no_consent'] });
  // another seller's consent is the consumer's business with that seller
  expect((await dial('b1', CONSUMER)).status).toBe(202);

  const rows = (await infra.pool.query("SELECT campaign_id, revoked_at IS NOT NULL AS revoked, revocation_id::text AS rev FROM consent_records WHERE number = $1 ORDER BY campaign_id", [CONSUMER])).rows;
  expect(rows).toEqual([
    { campaign_id: 'b1', revoked: false, rev: null },
    { campaign_id: 'in', revoked: true, rev: revoked.json.revocationId },
    { campaign_id: 'out1', revoked: true, rev: revoked.json.revocationId },
    { campaign_id: 'out2', revoked: true, rev: revoked.json.revocationId },
  ]);
  expect((await api('GET', `/v1/dnc/seller:seller-a/${encodeURIComponent(CONSUMER)}`, keys.sellerA)).json).toMatchObject({ listed: true });
  expect((await api('GET', `/v1/dnc/seller:seller-a/${encodeURIComponent(CONSUMER)}`, keys.sellerB)).status).toBe(404);
  expect((await api('DELETE', `/v1/consents/${records.out1}`, keys.sellerA)).json.error.code).toBe('already_revoked');
});

it('a revocation by number (a STOP text) reaches every campaign of the seller too', async () => {
  for (const c of ['out1', 'out2']) await consent(keys.sellerA, c, TEXTER);
  const r = await api('POST', '/v1/consent-revocations', keys.sellerA, { number: '(312) 555-0482', channel: 'sms', receivedAt: '2026-11-18T16:55:00Z', detail: 'STOP' });
  expect(r.status).toBe(201);
  expect(r.json).toMatchObject({ sellerAccountId: 'seller-a', number: TEXTER, channel: 'sms', campaignIds: ['out1', 'out2'], recordsRevoked: 2, dncList: 'seller:seller-a' });
  expect(await dial('out1', TEXTER)).toEqual({ status: 422, reasons: ['dnc_seller', 'no_consent'], dialled: false });
  expect(await dial('out2', TEXTER)).toEqual({ status: 422, reasons: ['dnc_seller', 'no_consent'], dialled: false });
  const kept = (await infra.pool.query('SELECT channel, detail, received_at FROM consent_revocations WHERE id = $1', [r.json.id])).rows[0];
  expect(kept).toEqual({ channel: 'sms', detail: 'STOP', received_at: new Date('2026-11-18T16:55:00Z') });
  // a seller names only itself; another seller's campaign is not found
  expect((await api('POST', '/v1/consent-revocations', keys.sellerB, { number: TEXTER, campaignId: 'out1' })).status).toBe(404);
  expect((await api('POST', '/v1/consent-revocations', keys.admin, { number: TEXTER })).json.error).toMatchObject({ code: 'validation_failed', field: 'campaignId' });
  expect((await api('POST', '/v1/consent-revocations', keys.sellerA, { number: TEXTER, channel: 'carrier pigeon' })).json.error.field).toBe('channel');
});

it('new consent after a revocation calls again only once the seller takes the number off its DNC list', async () => {
  // a consent given before the revocation (a stale lead posted again) is refused
  expect((await consent(keys.sellerA, 'out1', TEXTER)).json.error).toMatchObject({ code: 'revoked_since', field: 'consentedAt' });
  expect((await consent(keys.sellerA, 'out1', TEXTER, { consentedAt: '2026-11-18T16:58:00Z' })).status).toBe(201);
  expect(await dial('out1', TEXTER)).toEqual({ status: 422, reasons: ['dnc_seller'], dialled: false });
  expect((await api('DELETE', `/v1/dnc/seller:seller-a/${encodeURIComponent(TEXTER)}`, keys.sellerB)).status).toBe(404);
  expect((await api('DELETE', `/v1/dnc/seller:seller-a/${encodeURIComponent(TEXTER)}`, keys.sellerA)).status).toBe(200);
  expect(await dial('out1', TEXTER)).toMatchObject({ status: 202, dialled: true });
});

it('a Redis that lost its copy gets consent (with expiries) and the seller DNC list back from Postgres', async () => {
  const raw = infra.redis.duplicate({ keyPrefix: '' });
  try {
    const lost = [...(await raw.keys(`${infra.prefix}consent-until:*`)), ...(await raw.keys(`${infra.prefix}dnc:*`)), `${infra.prefix}${COMPLIANCE_LOADED_KEY}`];
    await raw.sadd(`${infra.prefix}consent:out1`, LAPSED); // a v1 consent set, as an older version left it
    await raw.del(...lost);
  } finally {
    raw.disconnect();
  }
  await eventually(async () => (await infra.redis.exists(COMPLIANCE_LOADED_KEY)) === 1, 'the compliance lists to be reloaded', 6_000);
  expect(await infra.redis.exists('consent:out1')).toBe(0);
  expect(await dial('out1', STRANGER)).toMatchObject({ status: 202, dialled: true });
  expect(await dial('out1', LAPSED)).toEqual({ status: 422, reasons: ['no_consent'], dialled: false });
  expect(await dial('out2', CONSUMER)).toEqual({ status: 422, reasons: ['dnc_seller', 'no_consent'], dialled: false });
  expect((await dial('b1', CONSUMER)).status).toBe(202);
});

it('only an admin may exempt a campaign\'s outbound calls from consent', async () => {
  const to = '+13125550489';
  expect(await dial('out2', to)).toEqual({ status: 422, reasons: ['no_consent'], dialled: false });
  expect((await api('PATCH', '/v1/campaigns/out2', keys.sellerA, { outboundConsentExempt: true })).status).toBe(403);
  expect((await api('PATCH', '/v1/campaigns/out2', keys.admin, { outboundConsentExempt: true })).status).toBe(200);
  await eventually(async () => (await dial('out2', to)).status === 202, 'the exemption to reach the snapshot');
});
