/**
 * A billing worker killed in the middle of a job loses nothing and posts nothing twice: its transaction never
 * commits, BullMQ takes the job back once its lock lapses, and the next worker bills the call exactly once.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { silentLogger } from '../../app/observability/logger';
import { billingJobOf, billingQueue, enqueueBilling } from '../../app/jobs/queues';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { balances, insertEndedCall } from '../support/billing';

let infra: TestInfra;
let queue: Queue;

beforeAll(async () => {
  infra = await createTestInfra('billing_crash');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer', balanceCents: 100_000 });
  await seedCampaign(infra.pool, { id: 'camp', sellerId: 'seller', dids: ['+18885550430'], payoutCents: 1000 });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'camp', bidCents: 1500, convertOnSeconds: 10 });
  queue = billingQueue({ redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
});

afterAll(async () => {
  await queue?.close();
  await infra?.cleanup();
});

it('a worker killed mid-job is replaced and the call is billed exactly once', async () => {
  const before = await balances(infra.pool);
  const id = await insertEndedCall(infra.pool, { campaignId: 'camp', sellerId: 'seller', ani: '+12025550099', billableSec: 30, targetId: 't', buyerId: 'buyer', priceCents: 1500 });
  await enqueueBilling(queue, [id]);
  const jobId = (await billingJobOf(queue, id))!.id!;

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'billing-crash-worker.ts'), infra.schema, infra.prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  expect(signal).toBe('SIGKILL');
  expect(out).toContain('DYING');

  // Nothing of the dead worker's transaction is in the database; the job is still owed.
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM call_billing')).rows[0].n).toBe(0);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n).toBe(0);
  expect(await (await queue.getJob(jobId))!.isCompleted()).toBe(false);

  const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix, lockDurationMs: 1000, stalledIntervalMs: 500 });
  worker.start();
  try {
    await eventually(async () => (await queue.getJob(jobId))?.isCompleted(), 'the job to complete on the new worker', 15_000);
  } finally {
    await worker.stop();
  }
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = $1', [id])).rows[0].n).toBe(1);
  const after = await balances(infra.pool);
  expect(after.buyer! - before.buyer!).toBe(-1500);
  expect(after.seller! - before.seller!).toBe(1000);
  expect(after.platform! - before.platform!).toBe(500);
});
