import { FraudWorker } from '../../app/jobs/fraud-worker';
import { DEFAULT_FRAUD_RULES } from '../../app/domain/fraud';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign } from '../support/seed';
import { insertEndedCall } from '../support/billing';

/**
 * The fraud worker's seller rule through its job handler: a seller whose ended calls of the last hour are mostly
 * short has its tracking number paused; one with long calls, or with too few calls to judge, does not. The seller's
 * hour is counted in Redis by the worker (each ended call adds itself), not by walking the seller's calls in Postgres.
 */
let infra: TestInfra;
let worker: FraudWorker;
const DID = '+18885550100'; // the number insertEndedCall's calls were made to

beforeAll(async () => {
  infra = await createTestInfra('fraud_seller');
  for (const id of ['steady', 'shorty', 'buyer']) await seedAccount(infra.pool, { id, kind: id === 'buyer' ? 'buyer' : 'seller' });
  await seedCampaign(infra.pool, { id: 'camp', sellerId: 'shorty', dids: [DID] });
  worker = new FraudWorker(infra.pool, infra.redis, silentLogger(), { rules: DEFAULT_FRAUD_RULES, redisUrl: 'redis://127.0.0.1:6379', redisPrefix: infra.prefix });
});
afterAll(async () => infra?.cleanup());

/** Ended calls of one seller, 30 s apart from `fromMinute` of the last 50 minutes, each from its own caller. */
async function calls(sellerId: string, billable: number[], base: number, fromMinute: number): Promise<string[]> {
  const ids: string[] = [];
  const start = Date.now() - (50 - fromMinute) * 60_000;
  for (const [i, sec] of billable.entries()) {
    ids.push(await insertEndedCall(infra.pool, { campaignId: 'camp', sellerId, ani: `+1303555${String(base + i).padStart(4, '0')}`, startedAt: new Date(start + i * 30_000), billableSec: sec, targetId: 't', buyerId: 'buyer', priceCents: 1000 }));
  }
  return ids;
}

const numberActive = async () => (await infra.pool.query('SELECT active FROM tracking_numbers WHERE did = $1', [DID])).rows[0].active as boolean;
const reasonsOf = async (id: string) => ((await infra.pool.query("SELECT reasons FROM fraud_scores WHERE call_id = $1 AND stage = 'ended'", [id])).rows[0]?.reasons ?? null) as string[] | null;

it('leaves a seller with long calls alone, and one with short calls but too few of them to judge', async () => {
  const long = await calls('steady', Array.from({ length: 24 }, () => 60), 0, 0);
  await worker.scoreAll(long.map((callId) => ({ callId, stage: 'ended' as const })));
  const few = await calls('shorty', Array.from({ length: DEFAULT_FRAUD_RULES.sellerMinCalls - 1 }, () => 2), 100, 0);
  await worker.scoreAll(few.map((callId) => ({ callId, stage: 'ended' as const })));
  expect(await numberActive()).toBe(true);
  for (const id of [...long, ...few]) expect(await reasonsOf(id)).not.toContain('seller_short_calls');
});

it('pauses the number of a seller whose hour turns mostly short, and counts a repeated job once', async () => {
  // The same seller's 19 short calls above, then long ones: the 20th ended call brings it to the minimum, still mostly short.
  const more = await calls('shorty', [60, 60, 60], 200, 20);
  await worker.scoreAll(more.map((callId) => ({ callId, stage: 'ended' as const })));
  expect(await reasonsOf(more[0]!)).toContain('seller_short_calls');
  expect(await numberActive()).toBe(false);
  const action = await infra.pool.query("SELECT count(*)::int AS n FROM fraud_actions WHERE action = 'pause_number' AND subject = $1", [DID]);
  expect(action.rows[0].n).toBeGreaterThanOrEqual(1);
  // A repeated job adds nothing to the seller's hour: 22 calls counted, 19 short.
  await worker.scoreAll(more.map((callId) => ({ callId, stage: 'ended' as const })));
  const hourKey = `fraud:seller-ended:shorty`;
  expect(await infra.redis.zcard(hourKey)).toBe(22);
  expect(await infra.redis.zcard('fraud:seller-short:shorty')).toBe(DEFAULT_FRAUD_RULES.sellerMinCalls - 1);
});

it("scores a job's calls on their caller's windows, fails the job for a call not recorded yet, and a retry stores and acts nothing twice", async () => {
  await seedAccount(infra.pool, { id: 'third', kind: 'seller' });
  // One caller, six calls in the last minute, to three sellers in turn.
  const ani = '+13035559100';
  const sellers = ['steady', 'shorty', 'third'];
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(await insertEndedCall(infra.pool, { campaignId: 'camp', sellerId: sellers[i % 3]!, ani, startedAt: new Date(Date.now() - 55_000 + i * 10_000), billableSec: 3 }));
  }
  const items = [...ids, 'not-yet'].map((callId) => ({ callId, stage: 'screening' as const }));
  await expect(worker.scoreAll(items)).rejects.toThrow('1 of 7 calls not scored: not-yet/screening: call not-yet is not recorded (screening) yet');
  const stored = async () => (await infra.pool.query("SELECT call_id, reasons, action, scored_at FROM fraud_scores WHERE ani = $1 AND stage = 'screening'", [ani])).rows;
  const byCall = new Map((await stored()).map((r) => [r.call_id, r]));
  expect(ids.map((id) => byCall.get(id)?.reasons)).toEqual([
    ['no_attestation'],
    ['no_attestation'],
    ['repeat_across_sellers', 'no_attestation'],
    ['repeat_across_sellers', 'no_attestation'],
    ['repeat_across_sellers', 'no_attestation'],
    ['velocity_minute', 'repeat_across_sellers', 'no_attestation'],
  ]);
  expect(byCall.get(ids[5]!)?.action).toBe('block_caller');
  // The retry fails again for the missing call; the scored ones keep their rows, and the caller has one block.
  await expect(worker.scoreAll(items)).rejects.toThrow(/not-yet\/screening/);
  expect((await stored()).map((r) => [r.call_id, r.scored_at.getTime()]).sort()).toEqual([...byCall.values()].map((r) => [r.call_id, r.scored_at.getTime()]).sort());
  const blocks = await infra.pool.query("SELECT call_id FROM fraud_actions WHERE action = 'block_caller' AND subject = $1", [ani]);
  expect(blocks.rows).toEqual([{ call_id: ids[5] }]);
});

it("fails a call's end stage until its end is recorded, then scores it once, counted in its seller's hour at its start", async () => {
  await seedAccount(infra.pool, { id: 'later', kind: 'seller' });
  const started = new Date(Date.now() - 90_000);
  const id = await insertEndedCall(infra.pool, { campaignId: 'camp', sellerId: 'later', ani: '+13035559200', startedAt: started, billableSec: 40 });
  const ended = (await infra.pool.query('SELECT ended_at FROM calls WHERE id = $1', [id])).rows[0].ended_at as Date;
  await infra.pool.query('UPDATE calls SET ended_at = NULL WHERE id = $1', [id]);
  const items = [{ callId: id, stage: 'screening' as const }, { callId: id, stage: 'ended' as const }];
  // Recorded but not ended: the screening stage is scored, the end stage waits for its retry.
  await expect(worker.scoreAll(items)).rejects.toThrow(`1 of 2 calls not scored: ${id}/ended: call ${id} is not recorded (ended) yet`);
  const stages = async () => (await infra.pool.query('SELECT stage FROM fraud_scores WHERE call_id = $1 ORDER BY stage', [id])).rows.map((r) => r.stage);
  expect(await stages()).toEqual(['screening']);
  expect(await infra.redis.zscore('fraud:seller-ended:later', id)).toBeNull();

  await infra.pool.query('UPDATE calls SET ended_at = $2 WHERE id = $1', [id, ended]);
  await worker.scoreAll(items);
  expect(await stages()).toEqual(['ended', 'screening']);
  expect(await reasonsOf(id)).not.toContain('seller_short_calls');
  // The seller's hour holds the call at its start, to the millisecond.
  expect(Number(await infra.redis.zscore('fraud:seller-ended:later', id))).toBe(started.getTime());
});
