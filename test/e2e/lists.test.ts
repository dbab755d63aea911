/**
 * The purchased compliance lists end to end (issue 14, features 3-5), through the real entry points: outbound calls
 * through POST /v1/outbound-calls, inbound calls through the FreeSWITCH peer; the lists imported over the API; the
 * outcomes read from the API, the switch peer and the database. DNC_REGISTRY_REQUIRED is on, as in production.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let node: ExchangeNode;
const harness = new FreeSwitchHarness({ DNC_REGISTRY_REQUIRED: 'true' });
let adminKey: string;
let sellerKey: string;
let clockOffsetMs = 0;
const BUYER = '+15551230001';
const DID_SHIELD = '+18885550500';
const DID_OPEN = '+18885550501';
/** Tuesday 10:00 in Chicago: inside calling hours for the 312 numbers called below. */
const NOW = '2026-11-24T16:00:00Z';

beforeAll(async () => {
  infra = await createTestInfra('e2e_lists');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  // outbound calls need consent (issue 14): 'main' tests the registry copies alone
  await seedCampaign(infra.pool, { id: 'main', sellerId: 'seller', dids: ['+18885550502'], outboundConsentExempt: true });
  await seedCampaign(infra.pool, { id: 'consented', sellerId: 'seller', dids: ['+18885550503'], requireConsent: true });
  await seedCampaign(infra.pool, { id: 'shield', sellerId: 'seller', dids: [DID_SHIELD] });
  await seedCampaign(infra.pool, { id: 'open', sellerId: 'seller', dids: [DID_OPEN] });
  for (const c of ['main', 'consented', 'shield', 'open']) await seedTarget(infra.pool, { id: `t-${c}`, buyerId: 'buyer', campaignId: c, bidCents: 1000, destination: BUYER, answerTimeoutSec: 2 });
  node = await harness.start(infra, { clock: () => new Date(Date.now() + clockOffsetMs) });
  adminKey = (await createApiKey(infra.pool, { role: 'admin' })).key;
  sellerKey = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
  await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 20 });
});

afterAll(async () => {
  await harness.stop();
  await infra?.cleanup();
});

beforeEach(() => {
  clockOffsetMs = new Date(NOW).getTime() - Date.now();
});

const api = (method: string, path: string, p: { key?: string; json?: unknown; text?: string | ReadableStream<Uint8Array> } = {}) =>
  fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${p.key ?? adminKey}`,
      ...(p.json !== undefined ? { 'content-type': 'application/json' } : p.text !== undefined ? { 'content-type': 'text/plain' } : {}),
    },
    body: p.json !== undefined ? JSON.stringify(p.json) : p.text,
    ...(p.text instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);

const importCopy = async (registryDate: string, numbers: string[], kind = 'us') => {
  const r = await api('POST', `/v1/dnc/registry-copies?kind=${kind}&registryDate=${registryDate}&source=ftc`, { text: numbers.join('\n') + '\n' });
  expect(r.status).toBe(201);
  return (await r.json()) as { copy: { id: string; generation: number; status: string; numbers: number }; replaced?: string };
};

const callOut = async (campaignId: string, to: string) => {
  const r = await api('POST', '/v1/outbound-calls', { json: { campaignId, to, answerTimeoutSec: 5 } });
  const body = (await r.json()) as { callId?: string; error?: { code: string; reasons: string[]; callId: string } };
  return { status: r.status, reasons: body.error?.reasons ?? [], callId: body.callId ?? body.error?.callId };
};

const auditOf = async (callId: string) =>
  eventually(async () => {
    await node.recorder!.drain();
    return (await infra.pool.query<{ decision: string; reasons: Array<{ rule: string; pass: boolean; reason?: string; detail?: string }> }>('SELECT decision, reasons FROM compliance_audit_log WHERE call_id = $1', [callId])).rows[0];
  }, `the screening of ${callId} to be audited`);

describe('national DNC registry copies', () => {
  it('refuses an outbound call screened against no copy, then against a 32-day-old copy, and places it against a fresh one', async () => {
    const consumer = '+13125550301';
    harness.setConsumer(consumer, { kind: 'answer', afterMs: 20, hangupAfterMs: 300 });
    const before = harness.originateCount();

    const none = await callOut('main', consumer);
    expect(none).toMatchObject({ status: 422, reasons: ['dnc_registry_stale'] });

    const old = await importCopy('2026-10-23', ['+13125550399']); // 32 days before NOW
    expect(old.copy).toMatchObject({ status: 'current', numbers: 1 });
    const stale = await callOut('main', consumer);
    expect(stale).toMatchObject({ status: 422, reasons: ['dnc_registry_stale'] });
    expect(harness.originateCount()).toBe(before); // nothing was dialled
    const audit = await auditOf(stale.callId!);
    expect(audit.decision).toBe('block');
    expect(audit.reasons).toContainEqual({ rule: 'registry_freshness', pass: false, reason: 'dnc_registry_stale', detail: 'national DNC registry copy of 2026-10-23 is 32 days old (at most 31)' });

    const fresh = await importCopy('2026-10-24', ['+13125550399']); // 31 days before NOW: the last day it may be used
    expect(fresh.replaced).toBe(old.copy.id);
    const placed = await callOut('main', consumer);
    expect(placed.status).toBe(202);
    const row = await eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT outcome FROM calls WHERE id = $1 AND ended_at IS NOT NULL', [placed.callId])).rows[0];
    }, 'the consumer call to be recorded', 8_000);
    expect(row.outcome).toBe('bridged');
    const copies = (await infra.pool.query('SELECT id::text, status FROM dnc_registry_imports ORDER BY registry_date')).rows;
    expect(copies).toEqual([{ id: old.copy.id, status: 'replaced' }, { id: fresh.copy.id, status: 'current' }]);
  });

  it('a new copy replaces the old whole, and the old one blocks until the new one is complete', async () => {
    const [x, y, z] = ['+13125550311', '+13125550312', '+13125550313'];
    for (const n of [x, y, z]) harness.setConsumer(n, { kind: 'no_answer' });
    const first = await importCopy('2026-11-20', [x, y]);

    // The next copy (y and z; x left the registry) uploads slowly: while it does, the current copy still screens.
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => { push = c; } });
    push.enqueue(new TextEncoder().encode(`${y}\n${z}\n`));
    const upload = api('POST', '/v1/dnc/registry-copies?kind=us&registryDate=2026-11-22&source=ftc', { text: body });
    await eventually(async () => (await infra.pool.query("SELECT 1 FROM dnc_registry_imports WHERE status = 'loading'")).rowCount === 1, 'the new copy to be loading');
    expect(await callOut('main', x)).toMatchObject({ status: 422, reasons: ['dnc_registry'] });
    expect(await callOut('main', y)).toMatchObject({ status: 422, reasons: ['dnc_registry'] });
    push.close();
    const done = await upload;
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ copy: { status: 'current', numbers: 2 }, replaced: first.copy.id });

    expect((await callOut('main', x)).status).toBe(202); // left the registry: callable
    expect(await callOut('main', y)).toMatchObject({ status: 422, reasons: ['dnc_registry'] });
    expect(await callOut('main', z)).toMatchObject({ status: 422, reasons: ['dnc_registry'] });
    // The replaced copy's rows go too (in the background).
    await eventually(async () => (await infra.pool.query('SELECT 1 FROM dnc_entries WHERE list_id = $1', [`registry-copy:us:${first.copy.generation}`])).rowCount === 0, 'the replaced copy to be deleted');
  });

  it('shows each registry copy\'s age on /ready (a detail: it does not make the node unready) and in the metrics', async () => {
    const ready = await fetch(`http://127.0.0.1:${node.httpPort}/ready`);
    expect(ready.status).toBe(200);
    const { details } = (await ready.json()) as { details: { dncRegistry: Record<string, unknown> } };
    const ageDays = Math.floor((Date.now() - Date.parse('2026-11-22T00:00:00Z')) / 86_400_000);
    expect(details.dncRegistry).toEqual({ us: { registryDate: '2026-11-22', ageDays, stale: ageDays > 31 }, ca: null });
    const metrics = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    expect(metrics).toContain(`callx_dnc_registry_age_days{registry="us"} ${ageDays}`);
    expect(metrics).not.toContain('callx_dnc_registry_age_days{registry="ca"}');
  });

  it('screens Canadian numbers against the National DNCL copy, not the US one', async () => {
    const toronto = '+14165550321';
    harness.setConsumer(toronto, { kind: 'no_answer' });
    const noCopy = await callOut('main', toronto);
    expect(noCopy.reasons).toContain('dnc_registry_stale');
    await importCopy('2026-11-20', [toronto], 'ca');
    const listed = await callOut('main', toronto);
    expect(listed.reasons).toContain('dnc_registry');
    expect(listed.reasons).not.toContain('dnc_registry_stale');
  });

  it('refuses an import dated in the future or of an unknown registry', async () => {
    const future = await api('POST', '/v1/dnc/registry-copies?kind=us&registryDate=2099-01-01', { text: '+13125550300\n' });
    expect(future.status).toBe(400);
    expect(await future.json()).toMatchObject({ error: { code: 'validation_failed', field: 'registryDate' } });
  });
});

describe('Reassigned Numbers Database', () => {
  it('refuses a call relying on a consent given before the number was permanently disconnected, and places one given after', async () => {
    await importCopy('2026-11-20', []);
    const [reassigned, reconsented] = ['+13125550331', '+13125550332'];
    for (const n of [reassigned, reconsented]) harness.setConsumer(n, { kind: 'no_answer' });
    for (const [number, consentedAt] of [[reassigned, '2026-06-01T15:00:00Z'], [reconsented, '2026-09-01T15:00:00Z']]) {
      const r = await api('POST', '/v1/consents', { json: { campaignId: 'consented', number, leadId: `lead-${number}`, source: 'web form', consentedAt, expiresAt: '2027-06-01T00:00:00Z' } });
      expect(r.status).toBe(201);
    }
    const rnd = await api('POST', '/v1/rnd/results', { json: { source: 'rnd-query-2026-11', results: [{ number: reassigned, disconnectedOn: '2026-08-01' }, { number: reconsented, disconnectedOn: '2026-08-01' }] } });
    expect(rnd.status).toBe(201);

    const refused = await callOut('consented', reassigned);
    expect(refused).toMatchObject({ status: 422, reasons: ['number_reassigned'] });
    expect((await auditOf(refused.callId!)).reasons).toContainEqual({ rule: 'reassigned', pass: false, reason: 'number_reassigned', detail: 'consent of 2026-06-01, number disconnected 2026-08-01 (RND)' });
    expect((await callOut('consented', reconsented)).status).toBe(202);
    // An older RND result imported later does not undo the newer disconnection (a number twice in one request too).
    const older = await api('POST', '/v1/rnd/results', { json: { results: [{ number: reassigned, disconnectedOn: '2026-01-01' }, { number: '+13125550339', disconnectedOn: '2026-01-01' }, { number: '+13125550339', disconnectedOn: '2026-02-01' }] } });
    expect(await older.json()).toEqual({ received: 3, updated: 1 });
    expect((await callOut('consented', reassigned)).reasons).toEqual(['number_reassigned']);
  });
});

describe('litigator lists ("TCPA Shield")', () => {
  const LITIGATOR = '+18135550341';

  it('only the platform sets a campaign to block litigators', async () => {
    const bySeller = await api('PATCH', '/v1/campaigns/shield', { key: sellerKey, json: { blockLitigators: true } });
    expect(bySeller.status).toBe(403);
    expect(await bySeller.json()).toMatchObject({ error: { code: 'forbidden_field', field: 'blockLitigators' } });
    const byAdmin = await api('PATCH', '/v1/campaigns/shield', { json: { blockLitigators: true } });
    expect(byAdmin.status).toBe(200);
    await eventually(async () => node.snapshots.current().campaigns.get('shield')?.blockLitigators === true, 'the snapshot to have the setting');
  });

  it('refuses a litigator\'s call on a campaign that blocks them and routes it on one that does not', async () => {
    const imported = await api('POST', '/v1/litigators/imports?source=vendor-x&listedOn=2026-11-30', { text: `number\n${LITIGATOR}\n` });
    expect(imported.status).toBe(201);
    expect(await imported.json()).toMatchObject({ status: 'done', accepted: 1 });
    expect(await (await api('GET', `/v1/litigators/${encodeURIComponent(LITIGATOR)}`)).json()).toEqual({ number: LITIGATOR, listed: true, entries: [{ source: 'vendor-x', listedOn: '2026-11-30' }] });

    const shielded = await harness.placeCall({ ani: LITIGATOR, dnis: DID_SHIELD, hangupAfterBridgeMs: 200 }).finished;
    expect(shielded.bridgedTo).toBeUndefined();
    const open = await harness.placeCall({ ani: LITIGATOR, dnis: DID_OPEN, hangupAfterBridgeMs: 200 }).finished;
    expect(open.bridgedTo).toContain(BUYER);

    const rows = await eventually(async () => {
      await node.recorder!.drain();
      const { rows } = await infra.pool.query<{ id: string; campaign_id: string; outcome: string }>('SELECT id, campaign_id, outcome FROM calls WHERE ani = $1 AND ended_at IS NOT NULL ORDER BY campaign_id', [LITIGATOR]);
      return rows.length === 2 && rows;
    }, 'both calls to be recorded');
    expect(rows.map((r) => [r.campaign_id, r.outcome])).toEqual([['open', 'bridged'], ['shield', 'rejected']]);
    const audit = await auditOf(rows[1]!.id);
    expect(audit.decision).toBe('block');
    expect(audit.reasons).toContainEqual({ rule: 'litigator', pass: false, reason: 'litigator', detail: 'number is on a TCPA litigator list' });

    // Off the list, the shielded campaign takes the call.
    expect(await (await api('DELETE', `/v1/litigators/${encodeURIComponent(LITIGATOR)}?source=vendor-x`)).json()).toEqual({ number: LITIGATOR, listed: false, sources: [] });
    const after = await harness.placeCall({ ani: LITIGATOR, dnis: DID_SHIELD, hangupAfterBridgeMs: 200 }).finished;
    expect(after.bridgedTo).toContain(BUYER);
  });
});

describe('a Redis that lost the lists', () => {
  it('gets the current registry copies, the RND results, the consent times and the litigators back from Postgres', async () => {
    const listed = '+13125550312';
    const reassigned = '+13125550331'; // consent before its disconnection (the RND test)
    await importCopy('2026-11-21', [listed, '+13125550313']);
    await api('POST', '/v1/litigators/imports?source=vendor-y&listedOn=2026-11-30', { text: '+18135550351\n' });
    await infra.redis.del('compliance:loaded:v2', 'dnc:national:us', 'dnc:national:ca', 'dnc:national:meta', 'rnd:disconnected', 'consent-since:consented', 'litigators');
    await eventually(async () => (await infra.redis.exists('compliance:loaded:v2')) === 1, 'the lists to be loaded again', 10_000);
    expect(await callOut('main', listed)).toMatchObject({ status: 422, reasons: ['dnc_registry'] });
    expect(await callOut('consented', reassigned)).toMatchObject({ status: 422, reasons: ['number_reassigned'] });
    expect(await infra.redis.sismember('litigators', '+18135550351')).toBe(1);
    expect(await infra.redis.smembers('dnc:national:us')).toEqual(expect.arrayContaining(['+13125550312', '+13125550313']));
    expect((await infra.redis.smembers('dnc:national:us')).length).toBe(2); // the current copy only, not the replaced ones
  });
});
