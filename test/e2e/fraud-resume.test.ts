/**
 * A tracking number paused by fraud is resumed over HTTP: the pause is written by the fraud worker's own repo
 * function and announced as the worker announces it; calls to the number stop routing. An admin resumes it with a
 * reason: the audit row names the key and the reason, every node (this one and another, both reloading only on
 * the config-changed message within the test's time) routes the number again, and the next call is bridged.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { pauseNumber } from '../../app/store/fraud-repo';
import { publishConfigChanged } from '../../app/exchange/snapshot-source';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { startTestNode } from '../support/node';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let other: ExchangeNode;
let admin: { id: string; key: string };
let sellerKey: string;
const DID = '+18885550450';
const BUYER = '+15551230045';

beforeAll(async () => {
  infra = await createTestInfra('e2e_fraud_resume');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'camp', sellerId: 'seller', dids: [DID] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'camp', bidCents: 1500, destination: BUYER });
  harness = new FreeSwitchHarness({ FRAUD_WORKER_ENABLED: 'false' });
  node = await harness.start(infra);
  other = await startTestNode(infra, { RECORDER_ENABLED: 'false', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  admin = await createApiKey(infra.pool, { role: 'admin' });
  sellerKey = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
});

afterAll(async () => {
  await other?.stop();
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
const resumePath = `/v1/fraud/paused-numbers/${encodeURIComponent(DID)}/resume`;
const routes = (n: ExchangeNode) => n.snapshots.current().trackingNumbers.has(DID);

it('a number paused by fraud routes again once an admin resumes it, with the resume audited', async () => {
  expect((await harness.placeCall({ ani: '+18135554501', dnis: DID, hangupAfterBridgeMs: 20 }).finished).bridgedTo).toContain(BUYER);

  // The fraud worker's pause: the repo function it calls, then the config change it publishes.
  const paused = await pauseNumber(
    infra.pool,
    { callId: 'call-that-tripped-it', dnis: DID, sellerAccountId: 'seller', facts: { stage: 'ended', ani: '+18135554501', dnis: DID, aniValid: true, callsLastMinute: 1, callsLastHour: 1, callsLastDay: 1, sellersLastDay: 1 } },
    { score: 85, reasons: ['seller_short_calls'], action: 'pause_number' },
  );
  expect(paused).toBe(true);
  await publishConfigChanged(node.redis, infra.prefix, `fraud paused ${DID}`);
  await eventually(async () => !routes(node) && !routes(other), 'both nodes to stop routing the paused number');
  expect((await harness.placeCall({ ani: '+18135554502', dnis: DID }).finished).bridgeTargets).toEqual([]);

  const listed = await api('GET', '/v1/fraud/paused-numbers', admin.key);
  expect(listed.json.items).toEqual([expect.objectContaining({ did: DID, campaignId: 'camp', sellerAccountId: 'seller', callId: 'call-that-tripped-it', reasons: ['seller_short_calls'] })]);

  // Only an admin resumes, and says why.
  expect((await api('POST', resumePath, sellerKey, { reason: 'it was us' })).status).toBe(403);
  expect((await api('POST', resumePath, admin.key, {})).json.error).toMatchObject({ code: 'validation_failed', field: 'reason' });
  expect((await api('POST', resumePath, admin.key, { reason: 'seller explained the spike: a TV spot' })).json).toEqual({ did: DID, status: 'resumed', reason: 'seller explained the spike: a TV spot' });

  const audit = (await infra.pool.query('SELECT action, actor, call_id, reasons, created_at FROM fraud_actions WHERE subject = $1 ORDER BY id', [DID])).rows;
  expect(audit.map((a) => [a.action, a.actor])).toEqual([['pause_number', 'fraud'], ['resume_number', admin.id]]);
  expect(audit[1].reasons).toEqual(['seller explained the spike: a TV spot']);
  expect(audit[1].created_at).toBeInstanceOf(Date);

  // Every node routes it again from the config-changed message (their timed reload is a minute away).
  await eventually(async () => routes(node) && routes(other), 'both nodes to route the resumed number', 3_000);
  expect((await harness.placeCall({ ani: '+18135554503', dnis: DID, hangupAfterBridgeMs: 20 }).finished).bridgedTo).toContain(BUYER);
  expect((await api('GET', '/v1/fraud/paused-numbers', admin.key)).json.items).toEqual([]);

  // A number not paused by fraud (any more, or ever) is not "resumed": 404, and no audit row.
  expect((await api('POST', resumePath, admin.key, { reason: 'again' })).status).toBe(404);
  expect((await api('POST', `/v1/fraud/paused-numbers/${encodeURIComponent('+18885550459')}/resume`, admin.key, { reason: 'unknown number' })).status).toBe(404);
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM fraud_actions WHERE action = 'resume_number'")).rows[0].n).toBe(1);
}, 30_000);
