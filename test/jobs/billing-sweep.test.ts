/**
 * The billing sweep: calls through the FreeSWITCH peer into a node whose recorder enqueues their billing jobs, the
 * jobs lost as a Redis restart would lose them (the queue obliterated), then the sweep enqueues the calls past their
 * grace age again and the billing worker settles each exactly once; a call still within its grace age is left to
 * its own job; a second sweep adds nothing; only one process sweeps at a time. Then a node that runs the billing
 * worker sweeps by itself and shows the count in /metrics.
 */
import type { Queue } from 'bullmq';
import type { ExchangeNode } from '../../app/exchange-node';
import { BILLING_INDEX, billingJobOf, billingJobStates, billingQueue, enqueueBilling } from '../../app/jobs/queues';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { BillingSweep, readBillingBacklog, SWEEP_LOCK_KEY, SWEEP_STATE_KEY, UNBILLED_KEY } from '../../app/jobs/billing-sweep';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { balances, insertEndedCall } from '../support/billing';
import { startTestNode } from '../support/node';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let queue: Queue;
const DID = '+18885550460';
const BUYER = '+15551230461';
const GRACE_MS = 120_000;

beforeAll(async () => {
  infra = await createTestInfra('billing_sweep');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer', balanceCents: 1_000_000 });
  await seedCampaign(infra.pool, { id: 'swept', sellerId: 'seller', dids: [DID], routing: 'first_price', floorCents: 100, payoutCents: 1200 });
  await seedTarget(infra.pool, { id: 'buyer-t', buyerId: 'buyer', campaignId: 'swept', bidCents: 2000, destination: BUYER, convertOnSeconds: 0 });
  // The node records calls and enqueues their jobs; nothing bills them until the test says so.
  harness = new FreeSwitchHarness({ BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', WEBHOOK_WORKER_ENABLED: 'false' });
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  queue = billingQueue({ redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
});

afterAll(async () => {
  await harness?.stop();
  await queue?.close();
  await infra?.cleanup();
});

/** The state of the billing job that carries a call ('unknown': it has none). */
const jobState = async (callId: string) => (await billingJobStates(queue, [callId]))[0];

const count = async (sql: string, params: unknown[]): Promise<number> => (await infra.pool.query(sql, params)).rows[0].n;

async function recordedCall(ani: string): Promise<{ id: string; endedAt: Date }> {
  await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 50 }).finished;
  return eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query('SELECT id, ended_at FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani]);
    return rows[0] ? { id: rows[0].id as string, endedAt: rows[0].ended_at as Date } : undefined;
  }, `the call from ${ani} to be recorded as ended`);
}

it('a call whose billing job Redis lost is enqueued again by the sweep and billed exactly once; one within its grace age is left alone', async () => {
  const before = await balances(infra.pool);
  const old = await recordedCall('+18135554601');
  await new Promise((r) => setTimeout(r, 50));
  const recent = await recordedCall('+18135554602');
  expect(recent.endedAt.getTime()).toBeGreaterThan(old.endedAt.getTime());
  // The recorder enqueued both; Redis then loses them.
  expect(await jobState(old.id)).toBe('waiting');
  expect(await jobState(recent.id)).toBe('waiting');
  await queue.obliterate({ force: true });
  expect(await jobState(old.id)).toBe('unknown');

  // The sweep's clock: the older call ended more than the grace age ago, the recent one less.
  const now = new Date(old.endedAt.getTime() + GRACE_MS + (recent.endedAt.getTime() - old.endedAt.getTime()) / 2);
  let swept = 0;
  const sweep = new BillingSweep(infra.pool, infra.redis, queue, silentLogger(), { intervalMs: 60_000, graceMs: GRACE_MS, maxAgeDays: 7, onSwept: (n) => (swept += n) });

  // Another process sweeping holds the lock: this one does nothing.
  await infra.redis.set(SWEEP_LOCK_KEY, 'another-process', 'PX', 60_000);
  expect(await sweep.sweep(now)).toBeUndefined();
  expect(await jobState(old.id)).toBe('unknown');
  await infra.redis.del(SWEEP_LOCK_KEY);

  const first = await sweep.sweep(now);
  expect(first).toMatchObject({ full: true, found: 1, swept: 1, unbilled: 1, oldestEndedAt: old.endedAt });
  expect(swept).toBe(1);
  expect(await jobState(old.id)).toBe('waiting');
  expect(await jobState(recent.id)).toBe('unknown');
  expect(await readBillingBacklog(infra.redis)).toEqual({ unbilled: 1, oldestEndedAt: old.endedAt, sweptAt: now });

  const sweptJob = await billingJobOf(queue, old.id);
  const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
  worker.start();
  try {
    await eventually(async () => (await queue.getJob(sweptJob!.id!))?.isCompleted(), 'the swept job to complete', 15_000);
  } finally {
    await worker.stop();
  }
  expect(await count('SELECT count(*)::int AS n FROM call_billing WHERE call_id = $1', [old.id])).toBe(1);
  expect(await count('SELECT count(*)::int AS n FROM ledger_transactions WHERE idempotency_key = $1', [`${old.id}:call`])).toBe(1);
  expect(await count('SELECT count(*)::int AS n FROM call_billing WHERE call_id = $1', [recent.id])).toBe(0);
  const billedOnce = await balances(infra.pool);
  expect(billedOnce.buyer! - before.buyer!).toBe(-2000);
  expect(billedOnce.seller! - before.seller!).toBe(1200);
  expect(billedOnce.platform! - before.platform!).toBe(800);

  // The next sweep (the recent call still within its grace age): the billed call leaves the backlog, nothing is
  // enqueued, nothing posts again.
  const second = await sweep.sweep(new Date(now.getTime() + 1));
  expect(second).toMatchObject({ full: false, found: 0, swept: 0, unbilled: 0, oldestEndedAt: null });
  expect(swept).toBe(1);
  expect(await jobState(recent.id)).toBe('unknown');
  expect(await count('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = $1', [old.id])).toBe(1);
  expect(await balances(infra.pool)).toEqual(billedOnce);
});

it('an unbilled call whose job is still in Redis (waiting or retrying) is counted in the backlog, not swept; once its job is lost it is, even after the sweeps moved past its end', async () => {
  const call = await recordedCall('+18135554603');
  expect(await jobState(call.id)).toBe('waiting');
  let swept = 0;
  const sweep = new BillingSweep(infra.pool, infra.redis, queue, silentLogger(), { intervalMs: 60_000, graceMs: GRACE_MS, maxAgeDays: 7, onSwept: (n) => (swept += n) });
  await infra.redis.del(SWEEP_STATE_KEY); // a full read, as after Redis lost the sweep's state
  const now = call.endedAt.getTime() + GRACE_MS + 1000;
  const r = await sweep.sweep(new Date(now));
  // the recent call of the first test is past its grace age now too, and its job is still gone
  expect(r).toMatchObject({ full: true, found: 2, swept: 1, unbilled: 2 });
  expect(await infra.redis.zscore(UNBILLED_KEY, call.id)).toBe(String(call.endedAt.getTime()));
  expect((await billingJobOf(queue, call.id))!.attemptsMade).toBe(0);

  // Twenty minutes on, a sweep reads what ended since the last one's window less its 15 minutes' look-back (both
  // calls still, with their jobs); the next reads only what ended after that, neither call. Then the queue is
  // emptied while Redis keeps the sweep's state: the backlog's calls get their jobs again.
  expect(await sweep.sweep(new Date(now + 20 * 60_000))).toMatchObject({ full: false, found: 2, swept: 0, unbilled: 2 });
  await queue.obliterate({ force: true });
  expect(await sweep.sweep(new Date(now + 20 * 60_000 + 1000))).toMatchObject({ full: false, found: 0, swept: 2, unbilled: 2 });
  expect(swept).toBe(3);
  expect(await jobState(call.id)).toBe('waiting');
});

it('a node that runs the billing worker sweeps by itself and counts what it swept in /metrics', async () => {
  // A call whose job never reached Redis, ended ten minutes ago.
  const lost = await insertEndedCall(infra.pool, { campaignId: 'swept', sellerId: 'seller', ani: '+18135554604', startedAt: new Date(Date.now() - 600_000), billableSec: 30, targetId: 'buyer-t', buyerId: 'buyer', priceCents: 2000 });
  await queue.obliterate({ force: true }); // the earlier calls' jobs too: the node's sweep enqueues them again
  await infra.redis.del(SWEEP_STATE_KEY);
  const worker = await startTestNode(infra, { RECORDER_ENABLED: 'false', BILLING_SWEEP_INTERVAL_MS: '200', BILLING_SWEEP_GRACE_MS: '1000' });
  try {
    const unbilled = async () => count('SELECT count(*)::int AS n FROM calls c WHERE NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = c.id)', []);
    await eventually(async () => (await unbilled()) === 0, 'every ended call to be billed', 15_000);
    expect(await count('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = $1', [lost])).toBe(1);
    const metrics = await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
      return /callx_billing_unbilled_calls 0/.test(text) ? text : undefined;
    }, 'the backlog gauge to reach 0', 10_000);
    // the lost call, and the first test's recent call and the second test's, whose jobs were obliterated above
    expect(metrics).toMatch(/callx_billing_swept_calls_total 3\n/);
  } finally {
    await worker.stop();
  }
});

it('a call billed while the sweep looks (its job done, its index entry gone) is not enqueued again nor counted as swept', async () => {
  const id = await insertEndedCall(infra.pool, { campaignId: 'swept', sellerId: 'seller', ani: '+18135554605', startedAt: new Date(Date.now() - 600_000), billableSec: 30, targetId: 'buyer-t', buyerId: 'buyer', priceCents: 2000 });
  // The worker commits the call's billing and takes it off the index between the sweep's read of unbilled calls and
  // its look for their jobs: the look finds none.
  const look = jest.spyOn(queue, 'getJobState').mockImplementation(async () => {
    await billEndedCalls(infra.pool, [id]);
    return 'unknown';
  });
  let swept = 0;
  try {
    const sweep = new BillingSweep(infra.pool, infra.redis, queue, silentLogger(), { intervalMs: 60_000, graceMs: GRACE_MS, maxAgeDays: 7, onSwept: (n) => (swept += n) });
    await infra.redis.del(SWEEP_STATE_KEY);
    expect(await sweep.sweep()).toMatchObject({ found: 1, swept: 0 });
    expect(look).toHaveBeenCalled();
  } finally {
    look.mockRestore();
  }
  expect(swept).toBe(0);
  expect(await jobState(id)).toBe('unknown');
  expect(await count('SELECT count(*)::int AS n FROM call_billing WHERE call_id = $1', [id])).toBe(1);
});

it('index entries no job will act on (a call enqueued again after its job completed, a job since removed) are pruned by the full sweep, page by page; entries of jobs still to run stay', async () => {
  const indexed = (callId: string) => infra.redis.hget(`bull:billing:${BILLING_INDEX}`, callId);
  const done = await recordedCall('+18135554606');
  const gone = await recordedCall('+18135554607');
  const doneJob = (await billingJobOf(queue, done.id))!.id!;
  const goneJob = (await billingJobOf(queue, gone.id))!.id!;
  const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
  worker.start();
  try {
    for (const j of [doneJob, goneJob]) await eventually(async () => (await queue.getJob(j))?.isCompleted(), `job ${j} to complete`, 15_000);
  } finally {
    await worker.stop();
  }
  expect(await indexed(done.id)).toBeNull(); // billed: the worker took it off

  // The recorder enqueues both again (its acknowledgement was lost): the same jobs, already done, so no worker will
  // take the entries off. One job is then removed, as removeOnComplete does an hour on.
  await enqueueBilling(queue, [done.id]);
  await enqueueBilling(queue, [gone.id]);
  expect(await indexed(done.id)).toBe(doneJob);
  expect(await indexed(gone.id)).toBe(goneJob);
  expect(await jobState(done.id)).toBe('completed');
  await (await queue.getJob(goneJob))!.remove();
  expect(await jobState(gone.id)).toBe('unknown');
  // A call whose job is still to run (no worker now) keeps its entry.
  const waiting = await recordedCall('+18135554608');
  const waitingJob = (await billingJobOf(queue, waiting.id))!.id!;
  expect(await jobState(waiting.id)).toBe('waiting');

  const sweep = new BillingSweep(infra.pool, infra.redis, queue, silentLogger(), { intervalMs: 60_000, graceMs: GRACE_MS, maxAgeDays: 7, pageSize: 1 });
  await infra.redis.del(SWEEP_STATE_KEY); // the next sweep is a full one
  const full = await sweep.sweep();
  expect(full).toMatchObject({ full: true });
  expect(await indexed(done.id)).toBeNull();
  expect(await indexed(gone.id)).toBeNull();
  expect(full!.indexPruned).toBeGreaterThanOrEqual(2);
  expect(await indexed(waiting.id)).toBe(waitingJob);
  expect(await jobState(waiting.id)).toBe('waiting');
  // The calls stay billed once; the pruned ones are not taken for lost.
  expect(await count('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = ANY($1)', [[done.id, gone.id]])).toBe(2);
  expect(full!.swept).toBe(0);
  // What is left is only entries of jobs still to run.
  const left = await infra.redis.hgetall(`bull:billing:${BILLING_INDEX}`);
  for (const callId of Object.keys(left)) expect(['completed', 'unknown']).not.toContain(await jobState(callId));
  // Between full reads the index is not scanned.
  expect(await sweep.sweep(new Date(Date.now() + 1000))).toMatchObject({ full: false, indexPruned: 0 });
});
