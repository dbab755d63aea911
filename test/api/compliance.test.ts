/**
 * Consent records and the caller block list over HTTP, on a real node with calls placed through the FreeSWITCH
 * peer: a consent recorded through the API admits the caller on a campaign that requires consent, revoking it
 * refuses the next call; a caller blocked through the API is refused with blocked_caller until the block is lifted.
 * Also who may do what, and bad input.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const DID_CONSENT = '+18885550470';
const DID_OPEN = '+18885550471';
const DID_OTHER = '+18885550472';
const BUYER = '+15551230071';

beforeAll(async () => {
  infra = await createTestInfra('api_compliance');
  await seedAccount(infra.pool, { id: 'seller-a', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'seller-b', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'consented', sellerId: 'seller-a', dids: [DID_CONSENT], requireConsent: true });
  await seedCampaign(infra.pool, { id: 'open', sellerId: 'seller-a', dids: [DID_OPEN] });
  await seedCampaign(infra.pool, { id: 'theirs', sellerId: 'seller-b', dids: [DID_OTHER], requireConsent: true });
  for (const c of ['consented', 'open', 'theirs']) await seedTarget(infra.pool, { id: `t-${c}`, buyerId: 'buyer', campaignId: c, bidCents: 1500, destination: BUYER });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.sellerA = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-a' })).key;
  keys.sellerB = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-b' })).key;
  keys.buyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' })).key;
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const api = async (method: string, path: string, key?: string, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: (await r.json()) as any };
};

/** Places a call and returns, once it is recorded, its outcome and the screening's block reasons (audit log). */
async function call(ani: string, dnis: string): Promise<{ outcome: string; reasons: string[] }> {
  const before = new Date();
  await harness.placeCall({ ani, dnis, hangupAfterBridgeMs: 20 }).finished;
  return eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query(
      `SELECT c.outcome, a.decision, a.reasons FROM calls c JOIN compliance_audit_log a ON a.call_id = c.id
       WHERE c.ani = $1 AND c.dnis = $2 AND c.started_at >= $3 AND c.ended_at IS NOT NULL`,
      [ani, dnis, before],
    );
    const r = rows[0];
    if (!r) return undefined;
    const reasons = (r.reasons as Array<string | { reason?: string }>).map((x) => (typeof x === 'string' ? x : x.reason ?? '')).filter((x) => x !== '');
    return { outcome: r.outcome as string, reasons: r.decision === 'block' ? reasons : [] };
  }, `the call from ${ani} to be recorded`, 15_000);
}

describe('consent records', () => {
  const ANI = '+18135557001';

  it('a consent recorded through the API admits the caller; revoking it refuses the next call', async () => {
    expect(await call(ANI, DID_CONSENT)).toEqual({ outcome: 'rejected', reasons: ['no_consent'] });

    const created = await api('POST', '/v1/consents', keys.sellerA, { campaignId: 'consented', number: '(813) 555-7001', leadId: 'lead-9', source: 'web form', consentedAt: '2026-11-20T10:00:00Z' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ campaignId: 'consented', number: ANI, leadId: 'lead-9', source: 'web form', revokedAt: null });
    expect(created.json.consentedAt).toMatch(/^2026-11-20T10:00:00(\.0+)?\+00:00$/);
    expect(await call(ANI, DID_CONSENT)).toEqual({ outcome: 'bridged', reasons: [] });

    const revoked = await api('DELETE', `/v1/consents/${created.json.id}`, keys.sellerA);
    expect(revoked).toMatchObject({ status: 200, json: { id: created.json.id, campaignId: 'consented', number: ANI, status: 'revoked', campaignIds: ['consented'], recordsRevoked: 1 } });
    expect((await api('DELETE', `/v1/consents/${created.json.id}`, keys.sellerA)).json.error.code).toBe('already_revoked');
    expect(await call(ANI, DID_CONSENT)).toEqual({ outcome: 'rejected', reasons: ['no_consent'] });
  });

  it('a second, unexpired record keeps the caller admitted when the first has expired; revoking either revokes both', async () => {
    const ani = '+18135557002';
    const first = await api('POST', '/v1/consents', keys.admin, { campaignId: 'consented', number: ani, leadId: 'a', source: 'form', consentedAt: '2026-11-01T00:00:00Z', expiresAt: '2026-11-05T00:00:00Z' });
    const second = await api('POST', '/v1/consents', keys.admin, { campaignId: 'consented', number: ani, leadId: 'b', source: 'call', consentedAt: '2026-11-02T00:00:00Z' });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(await call(ani, DID_CONSENT)).toEqual({ outcome: 'bridged', reasons: [] });
    // the consumer's revocation is of consent to be called, not of one record
    expect((await api('DELETE', `/v1/consents/${first.json.id}`, keys.admin)).json).toMatchObject({ status: 'revoked', recordsRevoked: 2 });
    expect(await call(ani, DID_CONSENT)).toEqual({ outcome: 'rejected', reasons: ['no_consent'] });
  });

  it('lists records newest first a page at a time; a seller sees only its campaigns', async () => {
    await api('POST', '/v1/consents', keys.sellerB, { campaignId: 'theirs', number: '+18135557003', leadId: 'x', source: 'form', consentedAt: '2026-11-03T00:00:00Z' });
    const all = await api('GET', '/v1/consents?includeRevoked=true', keys.admin);
    expect(all.status).toBe(200);
    const ids = all.json.items.map((c: { id: string }) => Number(c.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(all.json.items.map((c: { campaignId: string }) => c.campaignId)).toContain('theirs');

    const page1 = await api('GET', '/v1/consents?includeRevoked=true&limit=2', keys.admin);
    expect(page1.json.items).toHaveLength(2);
    const page2 = await api('GET', `/v1/consents?includeRevoked=true&limit=2&cursor=${page1.json.nextCursor}`, keys.admin);
    expect(page2.json.items[0].id).toBe(all.json.items[2].id);

    const mine = await api('GET', '/v1/consents?includeRevoked=true', keys.sellerA);
    expect(mine.json.items.length).toBeGreaterThan(0);
    expect(mine.json.items.every((c: { campaignId: string }) => c.campaignId !== 'theirs')).toBe(true);
    const live = await api('GET', `/v1/consents?number=${encodeURIComponent('+18135557001')}`, keys.agent);
    expect(live.json.items).toEqual([]); // revoked above, and revoked records are left out by default
    // Agents read any campaign's records, filtered by campaign too (they own no account, so no 404 for them).
    const agentView = await api('GET', '/v1/consents?campaignId=theirs', keys.agent);
    expect(agentView.status).toBe(200);
    expect(agentView.json.items.map((c: { number: string }) => c.number)).toEqual(['+18135557003']);
  });

  it('refuses another account\'s campaign, the wrong roles, no key and bad input', async () => {
    const body = { campaignId: 'theirs', number: '+18135557004', leadId: 'x', source: 'form', consentedAt: '2026-11-03T00:00:00Z' };
    expect((await api('POST', '/v1/consents', keys.sellerA, body)).status).toBe(404);
    expect((await api('GET', '/v1/consents?campaignId=theirs', keys.sellerA)).status).toBe(404);
    const theirs = (await api('GET', '/v1/consents?campaignId=theirs', keys.sellerB)).json.items[0];
    expect((await api('DELETE', `/v1/consents/${theirs.id}`, keys.sellerA)).status).toBe(404);
    expect((await api('POST', '/v1/consents', keys.buyer, body)).status).toBe(403);
    expect((await api('POST', '/v1/consents', keys.agent, body)).status).toBe(403);
    expect((await api('GET', '/v1/consents', keys.buyer)).status).toBe(403);
    expect((await api('GET', '/v1/consents')).status).toBe(401);

    const bad = await api('POST', '/v1/consents', keys.admin, { ...body, number: '12' });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'validation_failed', field: 'number' } } });
    expect((await api('POST', '/v1/consents', keys.admin, { ...body, consentedAt: 'yesterday' })).json.error.field).toBe('consentedAt');
    expect((await api('POST', '/v1/consents', keys.admin, { ...body, consentedAt: '2099-01-01T00:00:00Z' })).json.error).toMatchObject({ code: 'validation_failed', field: 'consentedAt' });
    expect((await api('POST', '/v1/consents', keys.admin, { ...body, extra: 1 })).status).toBe(400);
    expect((await api('POST', '/v1/consents', keys.admin, { ...body, campaignId: 'nope' })).json.error).toMatchObject({ code: 'not_found', field: 'campaignId' });
    expect((await api('DELETE', '/v1/consents/abc', keys.admin)).json.error).toMatchObject({ code: 'validation_failed', field: 'id' });
    expect((await api('GET', '/v1/consents?cursor=x', keys.admin)).json.error.field).toBe('cursor');
    // Nothing was written by the refused requests.
    expect((await infra.pool.query("SELECT count(*)::int AS n FROM consent_records WHERE number = '+18135557004'")).rows[0].n).toBe(0);
  });
});

describe('the caller block list', () => {
  const ANI = '+18135557101';

  it('a caller blocked through the API is refused from the next call, audited, and admitted again once lifted', async () => {
    expect(await call(ANI, DID_OPEN)).toEqual({ outcome: 'bridged', reasons: [] });
    const blocked = await api('POST', '/v1/fraud/blocks', keys.admin, { number: '813-555-7101', reason: 'abuse report #7' });
    expect(blocked).toEqual({ status: 201, json: { number: ANI, reason: 'abuse report #7', status: 'blocked' } });
    expect((await api('GET', '/v1/fraud/blocks', keys.agent)).json.items).toEqual([expect.objectContaining({ number: ANI, reason: 'abuse report #7' })]);
    expect(await call(ANI, DID_OPEN)).toEqual({ outcome: 'rejected', reasons: ['blocked_caller'] });
    const audit = (await infra.pool.query("SELECT action, subject, actor FROM fraud_actions WHERE subject = $1 ORDER BY id", [ANI])).rows;
    expect(audit).toEqual([{ action: 'block_caller', subject: ANI, actor: expect.any(String) }]);
    expect(audit[0].actor).not.toBe('fraud');

    expect((await api('DELETE', `/v1/fraud/blocks/${encodeURIComponent(ANI)}`, keys.admin)).status).toBe(200);
    expect(await call(ANI, DID_OPEN)).toEqual({ outcome: 'bridged', reasons: [] });
  });

  it('looks one block up, and lists them newest first a page at a time', async () => {
    const numbers = ['+18135557201', '+18135557202', '+18135557203'];
    for (const n of numbers) expect((await api('POST', '/v1/fraud/blocks', keys.admin, { number: n, reason: `report ${n}` })).status).toBe(201);
    const one = await api('GET', `/v1/fraud/blocks/${encodeURIComponent('(813) 555-7202')}`, keys.agent);
    expect(one).toMatchObject({ status: 200, json: { number: '+18135557202', reason: 'report +18135557202', addedAt: expect.any(String) } });
    expect((await api('GET', `/v1/fraud/blocks/${encodeURIComponent('+18135557299')}`, keys.agent)).json.error).toMatchObject({ code: 'not_found', field: 'number' });
    expect((await api('GET', '/v1/fraud/blocks/abc', keys.agent)).json.error).toMatchObject({ code: 'validation_failed', field: 'number' });
    expect((await api('GET', `/v1/fraud/blocks/${encodeURIComponent('+18135557202')}`, keys.sellerA)).status).toBe(403);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; json: { items: Array<{ number: string }>; nextCursor: string | null } } = await api('GET', `/v1/fraud/blocks?limit=2${cursor ? `&cursor=${cursor}` : ''}`, keys.agent);
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((b) => b.number));
      cursor = page.json.nextCursor;
    } while (cursor);
    const all = (await infra.pool.query('SELECT number FROM blocked_numbers ORDER BY added_at DESC, number DESC')).rows.map((r) => r.number);
    expect(seen).toEqual(all);
    expect(seen).toEqual(expect.arrayContaining(numbers));
    expect((await api('GET', '/v1/fraud/blocks?cursor=nonsense', keys.agent)).json.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
    expect((await api('GET', '/v1/fraud/blocks?limit=0', keys.agent)).json.error).toMatchObject({ code: 'validation_failed', field: 'limit' });
    for (const n of numbers) expect((await api('DELETE', `/v1/fraud/blocks/${encodeURIComponent(n)}`, keys.admin)).status).toBe(200);
  });

  it('only admins block; bad input is refused and nothing is blocked', async () => {
    const body = { number: '+18135557102', reason: 'x' };
    expect((await api('POST', '/v1/fraud/blocks', keys.sellerA, body)).status).toBe(403);
    expect((await api('POST', '/v1/fraud/blocks', keys.agent, body)).status).toBe(403);
    expect((await api('POST', '/v1/fraud/blocks', undefined, body)).status).toBe(401);
    expect((await api('POST', '/v1/fraud/blocks', keys.admin, { number: 'anonymous', reason: 'x' })).json.error).toMatchObject({ code: 'validation_failed', field: 'number' });
    expect((await api('POST', '/v1/fraud/blocks', keys.admin, { number: '+18135557102', reason: '  ' })).json.error).toMatchObject({ code: 'validation_failed', field: 'reason' });
    expect((await infra.pool.query("SELECT count(*)::int AS n FROM blocked_numbers WHERE number = '+18135557102'")).rows[0].n).toBe(0);
  });
});
