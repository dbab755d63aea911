/**
 * Per-consumer frequency limits on outbound calls (issue 14, feature 1), across two nodes on one schema and Redis
 * prefix, each with its own FreeSWITCH peer (what is dialled is read from the peers): requests for the same consumer sent to either node share one count, so a Florida consumer (Fla. Stat.
 * § 501.616(6)(b)) gets at most 3 calls per 24 hours from a seller however the requests are spread, even when they
 * race; the 4th is refused with 422 call_blocked frequency_limited and recorded as blocked. The count is per seller
 * (every campaign of it), not shared with another seller, and a call 24 hours later is allowed again.
 * Both nodes run with no platform default (OUTBOUND_FREQUENCY_LIMIT=0), so a Texas consumer is not limited.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { FREQUENCY_LOADED_KEY } from '../../app/cache/compliance-keys';
import { createApiKey } from '../../app/store/api-keys';
import { recordConsent } from '../../app/store/compliance-repo';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';

let infra: TestInfra;
let a: ExchangeNode;
let b: ExchangeNode;
const switches = new Map<ExchangeNode, FreeSwitchHarness>();
let admin: string;
// A Wednesday, 12:00 in Florida and 11:00 in Texas: inside every calling-hours window.
let nowMs = Date.parse('2026-11-18T17:00:00Z');
const clock = () => new Date(nowMs);
const env = { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', OUTBOUND_FREQUENCY_LIMIT: '0', API_RATE_LIMIT_PER_SECOND: '100000' };
const FL = ['+18135550601', '+18135550602', '+18135550603', '+18135550604', '+18135550605', '+18135550606'];
const TX = '+12145550601';

beforeAll(async () => {
  infra = await createTestInfra('api_frequency');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'other', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c1', sellerId: 'seller', dids: ['+18885550611'] });
  await seedCampaign(infra.pool, { id: 'c2', sellerId: 'seller', dids: ['+18885550612'] });
  await seedCampaign(infra.pool, { id: 'o1', sellerId: 'other', dids: ['+18885550613'] });
  await seedCampaign(infra.pool, { id: 'nodid', sellerId: 'seller', dids: [] });
  for (const c of ['c1', 'c2', 'o1']) {
    await seedTarget(infra.pool, { id: `t-${c}`, buyerId: 'buyer', campaignId: c, bidCents: 1000 });
    for (const number of [...FL, TX]) await recordConsent(infra.pool, infra.redis, { campaignId: c, number, leadId: 'L', source: 'web form', consentedAt: new Date('2026-11-10T00:00:00Z') });
  }
  for (let i = 0; i < 2; i++) {
    const harness = new FreeSwitchHarness(env);
    const node = await harness.start(infra, { clock });
    for (const n of [...FL, TX]) harness.setConsumer(n, { kind: 'busy', afterMs: 10 });
    switches.set(node, harness);
    if (i === 0) a = node;
    else b = node;
  }
  admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
});

afterAll(async () => {
  await Promise.all([...switches.values()].map((h) => h.stop()));
  await infra?.cleanup();
});

const dialled = (): number => [...switches.values()].reduce((n, h) => n + h.originateCount(), 0);

async function dial(node: ExchangeNode, campaignId: string, to: string): Promise<{ status: number; reasons?: string[]; callId?: string }> {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}/v1/outbound-calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ campaignId, to, answerTimeoutSec: 5 }),
  });
  const body = (await r.json()) as { callId?: string; error?: { reasons: string[]; callId: string } };
  return { status: r.status, reasons: body.error?.reasons, callId: body.callId ?? body.error?.callId };
}

it('3 calls in 24 hours to a Florida consumer, counted across both nodes; the 4th is refused and recorded', async () => {
  const before = dialled();
  expect((await dial(a, 'c1', FL[0]!)).status).toBe(202);
  expect((await dial(b, 'c1', FL[0]!)).status).toBe(202);
  expect((await dial(a, 'c1', FL[0]!)).status).toBe(202);
  await eventually(async () => dialled() === before + 3, 'three calls to be dialled');
  const fourth = await dial(b, 'c1', FL[0]!);
  expect(fourth).toMatchObject({ status: 422, reasons: ['frequency_limited'] });
  await new Promise((r) => setTimeout(r, 100));
  expect(dialled()).toBe(before + 3); // nothing dialled for the fourth
  await b.recorder!.drain();
  const audit = await infra.pool.query('SELECT decision, reasons FROM compliance_audit_log WHERE call_id = $1', [fourth.callId]);
  expect(audit.rows[0].decision).toBe('block');
  expect(JSON.stringify(audit.rows[0].reasons)).toContain('3 calls per 24 h reached (Fla. Stat. § 501.616(6)(b))');
});

it('requests racing on both nodes place exactly 3 calls', async () => {
  const before = dialled();
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => dial(i % 2 ? a : b, 'c1', FL[1]!)));
  expect(results.filter((r) => r.status === 202)).toHaveLength(3);
  await eventually(async () => dialled() === before + 3, 'three calls to be dialled');
  expect(results.filter((r) => r.status === 422).every((r) => r.reasons?.[0] === 'frequency_limited')).toBe(true);
});

it('the subject is the seller: its other campaigns share the count, another seller does not', async () => {
  for (let i = 0; i < 3; i++) expect((await dial(i % 2 ? a : b, 'c1', FL[2]!)).status).toBe(202);
  expect(await dial(a, 'c2', FL[2]!)).toMatchObject({ status: 422, reasons: ['frequency_limited'] });
  expect((await dial(b, 'o1', FL[2]!)).status).toBe(202);
});

it('a request refused for another reason is not counted; a call 24 hours after the first is allowed again', async () => {
  await recordConsent(infra.pool, infra.redis, { campaignId: 'c1', number: FL[3]!, leadId: 'L', source: 'web form', consentedAt: new Date('2026-11-10T00:00:00Z') });
  nowMs = Date.parse('2026-11-19T03:00:00Z'); // 22:00 in Florida: outside calling hours
  expect(await dial(a, 'c1', FL[3]!)).toMatchObject({ status: 422, reasons: ['outside_calling_hours'] });
  nowMs = Date.parse('2026-11-19T17:00:00Z');
  for (let i = 0; i < 3; i++) expect((await dial(i % 2 ? a : b, 'c1', FL[3]!)).status).toBe(202);
  expect((await dial(a, 'c1', FL[3]!)).status).toBe(422);
  nowMs = Date.parse('2026-11-20T17:00:00.001Z'); // just past 24 hours after the first
  expect((await dial(b, 'c1', FL[3]!)).status).toBe(202);
});

it('a request screened in but never dialled (no caller id to present) is not counted', async () => {
  const to = FL[4]!;
  for (const c of ['c1', 'nodid']) await recordConsent(infra.pool, infra.redis, { campaignId: c, number: to, leadId: 'L', source: 'web form', consentedAt: new Date('2026-11-10T00:00:00Z') });
  for (let i = 0; i < 4; i++) expect((await dial(i % 2 ? a : b, 'nodid', to)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 200)); // each fails at once (NO_ROUTE_DESTINATION) and is taken back
  const before = dialled();
  for (let i = 0; i < 3; i++) expect((await dial(i % 2 ? a : b, 'c1', to)).status).toBe(202);
  await eventually(async () => dialled() === before + 3, 'three calls to be dialled');
  expect((await dial(a, 'c1', to)).status).toBe(422);
});

it('the counts outlive a Redis that lost them: they are rebuilt from the recorded calls', async () => {
  const to = FL[5]!;
  await recordConsent(infra.pool, infra.redis, { campaignId: 'c1', number: to, leadId: 'L', source: 'web form', consentedAt: new Date('2026-11-10T00:00:00Z') });
  for (let i = 0; i < 3; i++) expect((await dial(i % 2 ? a : b, 'c1', to)).status).toBe(202);
  await eventually(async () => {
    await Promise.all([a.recorder!.drain(), b.recorder!.drain()]);
    return (await infra.pool.query('SELECT count(*)::int AS n FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [to])).rows[0].n === 3;
  }, 'the three calls to be recorded');
  const raw = infra.redis.duplicate({ keyPrefix: '' });
  try {
    await raw.del(...(await raw.keys(`${infra.prefix}freq*`)));
  } finally {
    raw.disconnect();
  }
  await eventually(async () => (await infra.redis.exists(FREQUENCY_LOADED_KEY)) === 1, 'the counts to be rebuilt', 6_000);
  expect(await dial(a, 'c1', to)).toMatchObject({ status: 422, reasons: ['frequency_limited'] });
});

it('a consumer no state rule covers is not limited when the operator sets no default', async () => {
  for (let i = 0; i < 5; i++) expect((await dial(i % 2 ? a : b, 'c1', TX)).status).toBe(202);
});
