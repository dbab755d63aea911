/**
 * Fraud end to end: calls through the FreeSWITCH peer into a real node whose recorder enqueues a fraud job per
 * screening; a caller over the velocity limit is blocked by the fraud worker, its next call is refused at
 * screening with the reason in the trace and the audit log, and an admin lifts the block over the API.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let adminKey: string;
const DID = '+18885550440';
const BUYER = '+15551230041';
const FAST_CALLER = '+18135554100';

beforeAll(async () => {
  infra = await createTestInfra('e2e_fraud');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'camp', sellerId: 'seller', dids: [DID] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'camp', bidCents: 1500, destination: BUYER });
  // Three calls a minute from one caller is the limit here; the fourth crosses it.
  harness = new FreeSwitchHarness({ FRAUD_VELOCITY_PER_MINUTE: '3' });
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  adminKey = (await createApiKey(infra.pool, { role: 'admin' })).key;
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const scores = async (ani: string) =>
  (await infra.pool.query("SELECT f.call_id, f.score, f.reasons, f.action FROM fraud_scores f JOIN calls c ON c.id = f.call_id WHERE c.ani = $1 AND f.stage = 'screening' ORDER BY c.started_at", [ani])).rows;

it('a caller crossing the velocity limit is blocked on its next call, with the reason in the trace and the audit log; an admin lifts the block', async () => {
  for (let i = 0; i < 4; i++) {
    const r = await harness.placeCall({ ani: FAST_CALLER, dnis: DID, hangupAfterBridgeMs: 20 }).finished;
    expect(r.bridgedTo).toContain(BUYER);
  }
  const scored = await eventually(async () => {
    await node.recorder!.drain();
    const rows = await scores(FAST_CALLER);
    return rows.length === 4 ? rows : undefined;
  }, 'four screenings to be scored', 10_000);
  expect(scored.map((r) => r.action)).toEqual(['none', 'none', 'none', 'block_caller']);
  expect(scored[3].reasons).toEqual(['velocity_minute', 'no_attestation']);
  const action = (await infra.pool.query("SELECT action, subject, call_id, score FROM fraud_actions WHERE subject = $1", [FAST_CALLER])).rows;
  // One block (its screening or its end, whichever job ran first, scored it), one audit row.
  expect(action).toHaveLength(1);
  expect(action[0]).toMatchObject({ action: 'block_caller', subject: FAST_CALLER, call_id: scored[3].call_id });
  expect(action[0].score).toBeGreaterThanOrEqual(80);

  // The next call is refused at screening.
  const refused = await harness.placeCall({ ani: FAST_CALLER, dnis: DID }).finished;
  expect(refused.bridgeTargets).toEqual([]);
  const row = await eventually(async () => {
    await node.recorder!.drain();
    return (await infra.pool.query("SELECT id, outcome, reject_reason FROM calls WHERE ani = $1 AND outcome = 'rejected'", [FAST_CALLER])).rows[0];
  }, 'the refused call to be recorded');
  expect(row.reject_reason).toBe('screened_out');
  const trace = (await infra.pool.query('SELECT trace FROM call_decisions WHERE call_id = $1', [row.id])).rows[0].trace;
  expect(trace.screening.reasons).toContain('blocked_caller');
  const audit = (await infra.pool.query('SELECT decision, reasons FROM compliance_audit_log WHERE call_id = $1', [row.id])).rows[0];
  expect(audit.decision).toBe('block');
  expect(JSON.stringify(audit.reasons)).toContain('blocked_caller');

  // Lifting the block: the block list shows it, DELETE lifts it, and the caller gets through again.
  const api = (method: string, path: string) => fetch(`http://127.0.0.1:${node.httpPort}${path}`, { method, headers: { authorization: `Bearer ${adminKey}` } });
  const listed = (await (await api('GET', '/v1/fraud/blocks')).json()) as { items: Array<{ number: string; reason: string }> };
  expect(listed.items.find((b) => b.number === FAST_CALLER)?.reason).toMatch(/^fraud: velocity_minute/);
  expect((await api('DELETE', `/v1/fraud/blocks/${encodeURIComponent(FAST_CALLER)}`)).status).toBe(200);
  expect((await api('DELETE', `/v1/fraud/blocks/${encodeURIComponent(FAST_CALLER)}`)).status).toBe(404);
  expect((await api('DELETE', '/v1/fraud/blocks/not-a-number')).status).toBe(400);
  const lifted = (await infra.pool.query("SELECT action FROM fraud_actions WHERE subject = $1 ORDER BY id", [FAST_CALLER])).rows.map((r) => r.action);
  expect(lifted).toEqual(['block_caller', 'lift_block']);
}, 30_000);
