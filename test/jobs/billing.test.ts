/**
 * Billing through the real BullMQ queue and worker on the real Redis and Postgres: the postings of an ended
 * call, idempotency, a burst that keeps the ledger balanced, duplicate callers, and the database refusing an
 * unbalanced or edited ledger.
 */
import type { Queue } from 'bullmq';
import { silentLogger } from '../../app/observability/logger';
import { randomUUID } from 'node:crypto';
import { BILLING_INDEX, billingJobOf, billingQueue, enqueueBilling } from '../../app/jobs/queues';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { CapLedger } from '../../app/cache/cap-ledger';
import { FundHolds } from '../../app/cache/fund-holds';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { balances, insertEndedCall } from '../support/billing';

let infra: TestInfra;
let queue: Queue;
let worker: BillingWorker;

beforeAll(async () => {
  infra = await createTestInfra('billing');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer-a', kind: 'buyer', balanceCents: 10_000_000 });
  await seedAccount(infra.pool, { id: 'buyer-b', kind: 'buyer', balanceCents: 10_000_000 });
  await seedCampaign(infra.pool, { id: 'fixed', sellerId: 'seller', dids: ['+18885550100'], payoutCents: 1800, duplicateWindowDays: 30 });
  await seedCampaign(infra.pool, { id: 'share', sellerId: 'seller', dids: ['+18885550101'], payoutPercent: 60, duplicateWindowDays: 0 });
  await seedTarget(infra.pool, { id: 'ta', buyerId: 'buyer-a', campaignId: 'fixed', bidCents: 2500, convertOnSeconds: 60 });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'buyer-b', campaignId: 'share', bidCents: 3000, convertOnSeconds: 30 });
  const settings = { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix };
  queue = billingQueue(settings);
  worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { ...settings, concurrency: 100 });
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await queue?.close();
  await infra?.cleanup();
});

const billed = (ids: string[]) =>
  eventually(async () => {
    const { rows } = await infra.pool.query('SELECT count(*)::int AS n FROM call_billing WHERE call_id = ANY($1)', [ids]);
    return rows[0].n === ids.length;
  }, `${ids.length} calls to be billed`, 20_000);

const entriesOf = async (callId: string) =>
  (await infra.pool.query(
    `SELECT e.account_id, e.amount_cents::int AS amount FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE t.call_id = $1 ORDER BY e.account_id`,
    [callId],
  )).rows.map((r) => [r.account_id, r.amount]);

it('an ended call that converts posts exactly: the buyer pays, the seller and the platform are paid', async () => {
  const before = await balances(infra.pool);
  const id = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani: '+12025550001', billableSec: 75, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
  await enqueueBilling(queue, [id]);
  await billed([id]);
  expect(await entriesOf(id)).toEqual([['buyer-a', -2500], ['platform', 700], ['seller', 1800]]);
  const after = await balances(infra.pool);
  expect(after['buyer-a']! - before['buyer-a']!).toBe(-2500);
  expect(after.seller! - before.seller!).toBe(1800);
  expect(after.platform! - before.platform!).toBe(700);
  const row = (await infra.pool.query('SELECT converted, reason, buyer_charge_cents::int AS charge, seller_payout_cents::int AS payout FROM call_billing WHERE call_id = $1', [id])).rows[0];
  expect(row).toEqual({ converted: true, reason: 'converted', charge: 2500, payout: 1800 });
});

it('a call shorter than the target threshold is recorded as not converted and posts nothing', async () => {
  const id = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani: '+12025550002', billableSec: 59, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
  await enqueueBilling(queue, [id]);
  await billed([id]);
  expect(await entriesOf(id)).toEqual([]);
  expect((await infra.pool.query('SELECT reason FROM call_billing WHERE call_id = $1', [id])).rows[0].reason).toBe('too_short');
});

it('the same call billed twice (a repeated job, another worker) posts once', async () => {
  const id = await insertEndedCall(infra.pool, { campaignId: 'share', sellerId: 'seller', ani: '+12025550003', billableSec: 40, targetId: 'tb', buyerId: 'buyer-b', priceCents: 3000 });
  const before = await balances(infra.pool);
  await enqueueBilling(queue, [id]);
  await enqueueBilling(queue, [id]); // same job id: one job
  await billed([id]);
  const again = await billEndedCalls(infra.pool, [id]);
  expect(again.alreadyBilled).toEqual([id]);
  const both = await Promise.all([billEndedCalls(infra.pool, [id]), billEndedCalls(infra.pool, [id])]);
  expect(both.map((r) => r.billed)).toEqual([[], []]);
  expect(await entriesOf(id)).toEqual([['buyer-b', -3000], ['platform', 1200], ['seller', 1800]]);
  const after = await balances(infra.pool);
  expect(after['buyer-b']! - before['buyer-b']!).toBe(-3000);
});

it('a caller who already converted on the campaign within the window is routed but not billed; another campaign bills', async () => {
  const ani = '+12025550004';
  const t0 = new Date(Date.now() - 5 * 86_400_000);
  const first = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani, startedAt: t0, billableSec: 90, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
  const repeat = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani, billableSec: 90, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
  const elsewhere = await insertEndedCall(infra.pool, { campaignId: 'share', sellerId: 'seller', ani, billableSec: 90, targetId: 'tb', buyerId: 'buyer-b', priceCents: 3000 });
  // One batch holding both, the later one first: a batch bills in call order.
  await billEndedCalls(infra.pool, [repeat, first]);
  await enqueueBilling(queue, [elsewhere]);
  await billed([repeat, first, elsewhere]);
  const reasons = (await infra.pool.query('SELECT call_id, reason, duplicate FROM call_billing WHERE call_id = ANY($1)', [[first, repeat, elsewhere]])).rows;
  expect(Object.fromEntries(reasons.map((r) => [r.call_id, [r.reason, r.duplicate]]))).toEqual({
    [first]: ['converted', false],
    [repeat]: ['duplicate_caller', true],
    [elsewhere]: ['converted', false],
  });
  expect(await entriesOf(repeat)).toEqual([]);

  // Through the queue, one after the other as calls end: the third call within the window is a duplicate too.
  const third = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani, billableSec: 90, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
  await enqueueBilling(queue, [third]);
  await billed([third]);
  expect((await infra.pool.query('SELECT reason FROM call_billing WHERE call_id = $1', [third])).rows[0].reason).toBe('duplicate_caller');
});

it('after a burst of 1,000 calls with random durations the ledger sums to zero, per transaction and overall', async () => {
  const ids: string[] = [];
  let expectedConverted = 0;
  for (let i = 0; i < 1000; i++) {
    const billable = Math.floor(Math.random() * 180);
    const onShare = i % 2 === 0;
    if (billable >= (onShare ? 30 : 60)) expectedConverted++;
    ids.push(await insertEndedCall(infra.pool, onShare
      ? { campaignId: 'share', sellerId: 'seller', ani: `+1303555${String(1000 + i)}`, billableSec: billable, targetId: 'tb', buyerId: 'buyer-b', priceCents: 1000 + (i % 7) * 333 }
      : { campaignId: 'fixed', sellerId: 'seller', ani: `+1303555${String(1000 + i)}`, billableSec: billable, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 }));
  }
  const before = await balances(infra.pool);
  await enqueueBilling(queue, ids);
  await billed(ids);
  const converted = (await infra.pool.query('SELECT count(*)::int AS n FROM call_billing WHERE converted AND call_id = ANY($1)', [ids])).rows[0].n;
  expect(converted).toBe(expectedConverted);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = ANY($1)', [ids])).rows[0].n).toBe(expectedConverted);
  expect((await infra.pool.query('SELECT coalesce(sum(amount_cents), 0)::int AS s FROM ledger_entries')).rows[0].s).toBe(0);
  const unbalanced = await infra.pool.query('SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount_cents) <> 0');
  expect(unbalanced.rows).toEqual([]);
  const after = await balances(infra.pool);
  const moved = Object.keys(after).reduce((sum, id) => sum + (after[id]! - (before[id] ?? 0)), 0);
  expect(moved).toBe(0);
  // Balances are the ledger: what each account moved equals its entries for these calls.
  const perAccount = await infra.pool.query(
    `SELECT e.account_id, sum(e.amount_cents)::int AS s FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE t.call_id = ANY($1) GROUP BY e.account_id`,
    [ids],
  );
  for (const r of perAccount.rows) expect(after[r.account_id]! - before[r.account_id]!).toBe(r.s);
}, 60_000);

it('the database refuses a transaction that does not balance, and any edit of the ledger', async () => {
  const c = await infra.pool.connect();
  try {
    await c.query('BEGIN');
    const t = await c.query("INSERT INTO ledger_transactions (idempotency_key, kind, memo) VALUES ('bad-1', 'adjustment', 'test') RETURNING id");
    await c.query("INSERT INTO ledger_entries (transaction_id, account_id, amount_cents) VALUES ($1, 'buyer-a', -100), ($1, 'seller', 99)", [t.rows[0].id]);
    await expect(c.query('COMMIT')).rejects.toThrow(/does not balance/);
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
  await expect(infra.pool.query('UPDATE ledger_entries SET amount_cents = amount_cents + 1')).rejects.toThrow(/append-only/);
  await expect(infra.pool.query('DELETE FROM ledger_transactions')).rejects.toThrow(/append-only/);
});

it('a job for a call not recorded as ended fails with a reason and is retried, never marked done', async () => {
  await enqueueBilling(queue, ['no-such-call']);
  const job = await eventually(async () => {
    const j = await billingJobOf(queue, 'no-such-call');
    return j && j.attemptsMade >= 1 ? j : undefined;
  }, 'the job to fail once');
  expect(job.failedReason).toMatch(/not recorded as ended/);
  expect(await job.isCompleted()).toBe(false);
  await job.remove();
});

it('calls enqueued together ride in shared jobs of up to 100 calls, each billed once; billed calls leave the billing index', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 250; i++) ids.push(await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani: `+1404555${String(1000 + i)}`, billableSec: 90, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 }));
  const before = await balances(infra.pool);
  await enqueueBilling(queue, ids);
  const jobs = new Set(await Promise.all(ids.map(async (id) => (await billingJobOf(queue, id))?.id)));
  expect(jobs.size).toBe(3);
  await billed(ids);
  for (const jobId of jobs) await eventually(async () => (await queue.getJob(jobId!))?.isCompleted(), `job ${jobId} to complete`);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = ANY($1)', [ids])).rows[0].n).toBe(250);
  expect((await balances(infra.pool))['buyer-a']! - before['buyer-a']!).toBe(-250 * 2500);
  expect(await infra.redis.hmget(`bull:billing:${BILLING_INDEX}`, ...ids)).toEqual(ids.map(() => null));
});

it('a job whose calls are not all recorded yet bills the others once, fails, and its retry bills the late one', async () => {
  const early = await insertEndedCall(infra.pool, { campaignId: 'share', sellerId: 'seller', ani: '+12025550011', billableSec: 40, targetId: 'tb', buyerId: 'buyer-b', priceCents: 3000 });
  const late = randomUUID();
  const before = await balances(infra.pool);
  await enqueueBilling(queue, [early, late]);
  const job = await eventually(async () => {
    const j = await billingJobOf(queue, late);
    return j && j.attemptsMade >= 1 ? j : undefined;
  }, 'the job to fail once');
  expect(job.failedReason).toBe(`call ${late} is not recorded as ended yet`);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM call_billing WHERE call_id = $1', [early])).rows[0].n).toBe(1);
  expect(await billingJobOf(queue, late)).toBeDefined(); // the late call keeps its job for the sweep to see
  await insertEndedCall(infra.pool, { id: late, campaignId: 'share', sellerId: 'seller', ani: '+12025550012', billableSec: 40, targetId: 'tb', buyerId: 'buyer-b', priceCents: 3000 });
  await billed([early, late]);
  await eventually(async () => (await queue.getJob(job.id!))?.isCompleted(), 'the retried job to complete', 20_000);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = ANY($1)', [[early, late]])).rows[0].n).toBe(2);
  expect((await balances(infra.pool))['buyer-b']! - before['buyer-b']!).toBe(-6000);
}, 30_000);

it('a call rejected before any campaign was known (unknown number) is settled as not billable, not retried forever', async () => {
  const id = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani: '+12025550005', bridged: false, billableSec: 0 });
  await infra.pool.query("UPDATE calls SET campaign_id = NULL, seller_account_id = NULL, outcome = 'rejected', reject_reason = 'unknown_number' WHERE id = $1", [id]);
  await enqueueBilling(queue, [id]);
  await billed([id]);
  expect((await infra.pool.query('SELECT reason, campaign_id FROM call_billing WHERE call_id = $1', [id])).rows[0]).toEqual({ reason: 'not_bridged', campaign_id: null });
  expect(await entriesOf(id)).toEqual([]);
});

describe('fund holds', () => {
  const holds = () => new FundHolds(infra.redis);
  const figureOf = async (buyerId: string) => {
    const { rows } = await infra.pool.query('SELECT balance_cents + credit_limit_cents AS available, funds_version FROM accounts WHERE id = $1', [buyerId]);
    return { cents: Number(rows[0].available), version: Number(rows[0].funds_version) };
  };
  /** A call's hold as the router takes it, against the buyer's current figure. */
  const hold = async (callId: string, buyerId: string, cents: number) => {
    await holds().settle(new Map([[buyerId, await figureOf(buyerId)]]));
    expect((await new CapLedger(infra.redis).reserve(callId, [], Date.now(), { buyerId, cents })).ok).toBe(true);
  };
  const settled = (callId: string, buyerId: string) =>
    eventually(async () => (await infra.redis.hexists(`funds:${buyerId}`, `h:${callId}`)) === 0, `the hold of ${callId} to be settled`, 20_000);

  it('a converted call\'s hold is released with the figure its charge lowered', async () => {
    const id = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani: '+12025550301', billableSec: 90, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
    await hold(id, 'buyer-a', 2500);
    const held = await holds().heldFor('buyer-a');
    await enqueueBilling(queue, [id]);
    await settled(id, 'buyer-a');
    const after = await figureOf('buyer-a');
    expect(await holds().funds('buyer-a')).toEqual({ availableCents: after.cents, version: after.version, heldCents: held - 2500 });
  });

  it('a call that ends without a charge (too short) has its hold released by billing too', async () => {
    const id = await insertEndedCall(infra.pool, { campaignId: 'fixed', sellerId: 'seller', ani: '+12025550302', billableSec: 5, targetId: 'ta', buyerId: 'buyer-a', priceCents: 2500 });
    await hold(id, 'buyer-a', 2500);
    const held = await holds().heldFor('buyer-a');
    await enqueueBilling(queue, [id]);
    await settled(id, 'buyer-a');
    expect((await infra.pool.query('SELECT reason FROM call_billing WHERE call_id = $1', [id])).rows[0].reason).toBe('too_short');
    expect(await holds().heldFor('buyer-a')).toBe(held - 2500);
  });

  it('a call charged by a worker that died before settling its hold is settled by the job\'s retry', async () => {
    const id = await insertEndedCall(infra.pool, { campaignId: 'share', sellerId: 'seller', ani: '+12025550303', billableSec: 45, targetId: 'tb', buyerId: 'buyer-b', priceCents: 3000 });
    await hold(id, 'buyer-b', 3000);
    const before = (await holds().funds('buyer-b'))!;
    await billEndedCalls(infra.pool, [id]); // committed; the worker "died" before its Redis write
    expect(await holds().funds('buyer-b')).toEqual(before); // the hold still counts, the charge not yet in Redis
    await enqueueBilling(queue, [id]);
    await settled(id, 'buyer-b');
    const after = await figureOf('buyer-b');
    expect(after.cents).toBe(before.availableCents - 3000);
    expect(await holds().funds('buyer-b')).toEqual({ availableCents: after.cents, version: after.version, heldCents: before.heldCents - 3000 });
  });
});
