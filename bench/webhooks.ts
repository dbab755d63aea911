/**
 * Webhook throughput on the real Redis and Postgres: a backlog of ended, bridged calls is fanned out (one `fanout`
 * job per 100 calls, as the recorder adds them) and delivered by the webhook worker to a receiver in another
 * process on this machine, which verifies every signature. Two endpoints per call: the winning buyer's and the
 * seller's (each its own view, signed with its own secret).
 *
 *   npm run bench:webhooks [-- --calls 5000 --concurrency 20]
 *
 * Prints JSON lines:
 * - webhook_deliveries_per_s: deliveries done (2xx, verified by the receiver) per second, from the worker's start
 *   to the last one delivered (fan-out included);
 * - webhook_postgres_statements_per_delivery: statements the webhook worker sent to Postgres over the run (fan-out
 *   and deliveries, counted on its pool), per delivery: a count, not a time, so it holds on a busy machine;
 * - webhook_enqueue_redis_commands_per_batch: Redis commands the recorder sends to enqueue the webhook fan-out of a
 *   500-entry journal batch (250 bridges and their 250 ends): a count, not a time, so it holds on a busy machine.
 * Uses the schema `bench_webhooks` of DATABASE_URL and the Redis prefix `bench:webhooks:` (both emptied first).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { createPool } from '../app/store/db';
import { migrate } from '../app/store/migrate';
import { createLogger, silentLogger } from '../app/observability/logger';
import { enqueueWebhookEvents, webhookItemsOf, webhookQueue, WEBHOOK_ITEMS_PER_JOB } from '../app/jobs/queues';
import { WebhookWorker } from '../app/jobs/webhook-worker';
import { createEndpoint, rotateSecret } from '../app/store/webhook-repo';
import { SecretBox } from '../app/util/secret-box';
import type { JournalEntry } from '../app/exchange/call-journal';
import { freshBenchState } from './load/bench-state';
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['calls', 'concurrency'],
  usage: `npm run bench:webhooks [-- options]

  --calls <n>        bridged, ended calls in the backlog (default 5000)
  --concurrency <n>  the webhook worker's deliveries at once (default 20, WEBHOOK_CONCURRENCY's default)
  --help             this text`,
});
const CALLS = FLAGS.number('calls', 5000, { min: 1, integer: true });
const CONCURRENCY = FLAGS.number('concurrency', 20, { min: 1, integer: true });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_webhooks';
const PREFIX = 'bench:webhooks:';

async function startReceiver(secrets: string[]): Promise<{ url: string; stop(): Promise<{ verified: number; refused: number }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'load', 'webhook-receiver.ts'), ...secrets], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', () => reject(new Error('the receiver exited')));
  });
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    stop: () =>
      new Promise((resolve) => {
        let out = '';
        child.stderr.on('data', (d: Buffer) => (out += String(d)));
        child.once('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as { verified: number; refused: number }));
        child.kill('SIGTERM');
      }),
  };
}

/** Commands sent on the queue's connection while `fn` runs (ioredis' sendCommand, MULTI's inner commands included). */
async function countCommands(redis: Redis, fn: () => Promise<void>): Promise<number> {
  const client = redis as unknown as { sendCommand(...a: unknown[]): unknown };
  const original = client.sendCommand.bind(client);
  let n = 0;
  client.sendCommand = (...a: unknown[]) => {
    n += 1;
    return original(...a);
  };
  try {
    await fn();
  } finally {
    client.sendCommand = original;
  }
  return n;
}

async function main(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
  const logger = process.env.BENCH_LOG ? createLogger(process.env.BENCH_LOG) : silentLogger();
  const pool = createPool({ url: DATABASE_URL, schema: SCHEMA, max: 10 }, logger);
  await migrate(pool, logger);
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Seller'), ('buyer', 'buyer', 'Buyer')");
  await pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, started_at, campaign_id, seller_account_id, outcome, end_reason, winner_target_id, winner_buyer_id,
       price_cents, bridged_at, ended_at, duration_sec, billable_sec, hangup_cause, hung_up_by)
     SELECT 'call-' || g, 'inbound', '+1303' || lpad(g::text, 7, '0'), '+18885550100', now() - interval '2 minutes', 'c', 'seller', 'bridged',
       'caller_hangup', 't1', 'buyer', 1500, now() - interval '100 seconds', now(), 120, 100, 'NORMAL_CLEARING', 'caller'
     FROM generate_series(1, $1) g`,
    [CALLS],
  );
  const box = SecretBox.fromKey(undefined);
  const secrets = [(await rotateSecret(pool, box, 'buyer')).secret, (await rotateSecret(pool, box, 'seller')).secret];
  const receiver = await startReceiver(secrets);
  for (const accountId of ['buyer', 'seller']) await createEndpoint(pool, { accountId, url: receiver.url, events: ['call.ended'] });

  const settings = { redisUrl: REDIS_URL, redisPrefix: PREFIX };
  const queue = webhookQueue(settings);
  // What the recorder adds for one 500-entry batch: the bridged attempt and the end of 250 calls.
  const batch: JournalEntry[] = [];
  for (let i = 0; i < 250; i++) {
    const identity = { callId: `probe-${i}`, direction: 'inbound' as const, ani: '+13035550100', dnis: '+18885550100', startedAt: new Date().toISOString(), switchName: 'freeswitch', switchCallId: `u${i}` };
    const at = new Date().toISOString();
    batch.push({ ...identity, type: 'attempt', attemptNo: 1, targetId: 't1', buyerAccountId: 'buyer', destination: 'sip:b@x', attemptStartedAt: at, attemptEndedAt: at, status: 'bridged', priceCents: 1500 });
    batch.push({ ...identity, type: 'ended', outcome: 'bridged', endReason: 'caller_hangup', endedAt: at, bridgedAt: at, hangupCause: 'NORMAL_CLEARING', hungUpBy: 'caller', durationSec: 1, billableSec: 1 });
  }
  const queueClient = await queue.getBackend().client;
  const commands = await countCommands(queueClient as unknown as Redis, () => enqueueWebhookEvents(queue, webhookItemsOf(batch)));
  await queue.obliterate({ force: true });
  process.stdout.write(`${JSON.stringify({ name: 'webhook_enqueue_redis_commands_per_batch', value: commands, unit: 'commands', journal_entries: batch.length, events: 500, events_per_job: WEBHOOK_ITEMS_PER_JOB })}\n`);

  const items = Array.from({ length: CALLS }, (_, i) => ({ callId: `call-${i + 1}`, event: 'call.ended' as const }));
  for (let i = 0; i < items.length; i += 1000) await enqueueWebhookEvents(queue, items.slice(i, i + 1000));
  const expected = CALLS * 2;
  process.stderr.write(`enqueued ${CALLS} call ends (${expected} deliveries); delivering...\n`);
  // The worker gets a pool of its own, so its statements are counted apart from this script's polling.
  const workerPool = createPool({ url: DATABASE_URL, schema: SCHEMA, max: 10 }, logger);
  let statements = 0;
  const query = workerPool.query.bind(workerPool) as (...a: unknown[]) => unknown;
  (workerPool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    statements += 1;
    return query(...a);
  };
  const worker = new WebhookWorker(workerPool, logger, { ...settings, retry: { attempts: 3, backoffMs: 1000 }, timeoutMs: 10_000, allowPrivate: true, concurrency: CONCURRENCY, box });
  const started = Date.now();
  worker.start();
  let delivered = 0;
  while (delivered < expected) {
    if (Date.now() - started > 300_000) throw new Error(`only ${delivered} of ${expected} delivered in 5 minutes`);
    await new Promise((r) => setTimeout(r, 100));
    delivered = (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'")).rows[0]!.n;
    process.stderr.write(`\r  ${delivered}/${expected} delivered`);
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write('\n');
  await worker.stop();
  const counts = await receiver.stop();
  if (counts.refused > 0 || counts.verified < expected) throw new Error(`receiver check failed: ${JSON.stringify(counts)}`);
  process.stdout.write(`${JSON.stringify({ name: 'webhook_deliveries_per_s', value: Math.round(expected / seconds), unit: 'deliveries/s', calls: CALLS, deliveries: expected, concurrency: CONCURRENCY, receiver: 'another process, verifying signatures', cores: os.cpus().length, load_avg_1m: Number(os.loadavg()[0]!.toFixed(1)) })}\n`);
  process.stdout.write(`${JSON.stringify({ name: 'webhook_postgres_statements_per_delivery', value: Number((statements / expected).toFixed(2)), unit: 'statements', statements, deliveries: expected, fanout_jobs: Math.ceil(CALLS / WEBHOOK_ITEMS_PER_JOB) })}\n`);
  await queue.obliterate({ force: true });
  await queue.close();
  await workerPool.end();
  await pool.end();
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
