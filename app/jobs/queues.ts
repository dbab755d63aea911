/**
 * The BullMQ queues: names, connections and job options in one place. BullMQ namespaces its keys with its own
 * `prefix` option (it does not work with ioredis' keyPrefix), so every queue of a node lives under
 * `<REDIS_PREFIX>bull:<queue>` and each test file or deployment stays apart.
 */
import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { JournalEntry } from '../exchange/call-journal';

export const BILLING_QUEUE = 'billing';
export const FRAUD_QUEUE = 'fraud';
export const WEBHOOK_QUEUE = 'webhooks';

export interface QueueSettings {
  redisUrl: string;
  /** the node's REDIS_PREFIX */
  redisPrefix: string;
}

export function bullPrefix(s: QueueSettings): string {
  return `${s.redisPrefix}bull`;
}

/** A connection for BullMQ: workers block on Redis, so no per-request retry limit (BullMQ requires it). */
export function bullConnection(s: QueueSettings): ConnectionOptions {
  const url = new URL(s.redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Retries with exponential backoff (1 s, 2 s, 4 s... over about four hours in all); a job that still fails stays
 * in the failed set (the dead letters, listed by the API) rather than being dropped.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 14,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: false,
};

export function billingQueue(s: QueueSettings): Queue {
  return new Queue(BILLING_QUEUE, { connection: bullConnection(s), prefix: bullPrefix(s), defaultJobOptions: JOB_OPTIONS });
}

/**
 * Calls per billing job: adding, taking, locking and completing a BullMQ job costs tens of Redis commands (Lua
 * scripts, events-stream entries) whatever it carries, so one job per call made billing most of the queues' Redis
 * work. Billing each call once is Postgres's guarantee (one call_billing row, one posting per call), not the job's.
 */
export const BILLING_CALLS_PER_JOB = 100;

/** Billing job data: many calls; `callId` is the one-call job of earlier versions (and of hand-made jobs), still billed. */
export type BillingJobData = { callIds: string[] } | { callId: string };

export const billingCallsOf = (data: BillingJobData): string[] => ('callIds' in data ? data.callIds : [data.callId]);

/**
 * The billing index: a hash under the billing queue's keys (`<REDIS_PREFIX>bull:billing:calls`), call id to the id
 * of the job that carries it, from its enqueue until the worker has billed it. The sweep asks it which calls still
 * have a job (a job id no longer answers that: it names a batch). Lost with the jobs when Redis loses its data; an
 * emptied queue leaves entries that point at jobs gone, which the sweep reads as lost. A call enqueued again after
 * its job completed (a recorder retry: the same job id, so no new job) gets an entry no worker takes off: the
 * sweep's hourly full read prunes those (pruneBillingIndex).
 */
export const BILLING_INDEX = 'calls';

/**
 * Billing jobs for ended calls, up to BILLING_CALLS_PER_JOB each, and their index entries. The job id is derived
 * from the calls (the first one and how many), so the same calls enqueued again (a recorder retry) make no second
 * job.
 */
export async function enqueueBilling(queue: Queue, callIds: readonly string[]): Promise<void> {
  if (callIds.length === 0) return;
  const jobs = [];
  const index: Record<string, string> = {};
  for (let i = 0; i < callIds.length; i += BILLING_CALLS_PER_JOB) {
    const chunk = callIds.slice(i, i + BILLING_CALLS_PER_JOB);
    const jobId = `${chunk[0]!}-${chunk.length}`;
    for (const id of chunk) index[id] = jobId;
    jobs.push({ name: 'calls-ended', data: { callIds: chunk } satisfies BillingJobData, opts: { jobId } });
  }
  // The jobs first: an entry then always names a job that was added, so one whose job is gone is of no use
  // (pruneBillingIndex). A job billed before its entry lands leaves an entry for a completed job: pruned too.
  await queue.addBulk(jobs);
  const client = await queue.getBackend().client;
  await client.hset(queue.toKey(BILLING_INDEX), index);
}

const scriptsDefined = new WeakSet<object>();

/** Deletes each (call, job) pair's entry only if it still names that job (a call enqueued again meanwhile keeps its new one). */
const UNINDEX_IF_SAME = `local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n`;

/**
 * Takes off the billing index the entries no job will act on: their job completed (a completed job billed its
 * calls; the entry came back with a re-enqueue, or landed after the worker took it off) or is gone (removed after
 * completing, or lost: for the sweep a call without an entry has no job either). Entries of jobs still to run,
 * retrying or failed for good (dead letters) stay. Read with HSCAN, `pageSize` entries a step, one state lookup
 * per job named and one script per page. Answers how many entries went.
 */
export async function pruneBillingIndex(queue: Queue, pageSize = 1000): Promise<number> {
  const client = await queue.getBackend().client;
  // Defined here, at the first full sweep: safe on BullMQ's connection, which does not auto-pipeline (ioredis#1931).
  if (!scriptsDefined.has(client)) {
    client.defineCommand('callxUnindexIfSame', { numberOfKeys: 1, lua: UNINDEX_IF_SAME });
    scriptsDefined.add(client);
  }
  const key = queue.toKey(BILLING_INDEX);
  let cursor = '0';
  let pruned = 0;
  do {
    // BullMQ's client type (IRedisClient) has no hscan; a pipeline of one command reaches it.
    const [err, page] = ((await client.pipeline().hscan(key, cursor, { COUNT: pageSize }).exec()) ?? [])[0] ?? [new Error('no answer to HSCAN')];
    if (err) throw err;
    const [next, flat] = page as [string, string[]];
    cursor = next;
    const jobIds = new Set<string>();
    for (let i = 1; i < flat.length; i += 2) jobIds.add(flat[i]!);
    const states = new Map(await Promise.all([...jobIds].map(async (j) => [j, await queue.getJobState(j)] as const)));
    const stale: string[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const state = states.get(flat[i + 1]!);
      if (state === 'completed' || state === 'unknown') stale.push(flat[i]!, flat[i + 1]!);
    }
    if (stale.length > 0) pruned += (await client.runCommand('callxUnindexIfSame', [key, ...stale])) as number;
  } while (cursor !== '0');
  return pruned;
}

/**
 * The state of each call's billing job ('unknown' when it has none): the job its index entry names, or for a call
 * without one, a one-call job whose id is the call id (enqueued by an earlier version, or by hand).
 */
export async function billingJobStates(queue: Queue, callIds: readonly string[]): Promise<Array<Awaited<ReturnType<Queue['getJobState']>>>> {
  if (callIds.length === 0) return [];
  const client = await queue.getBackend().client;
  const jobIds = (await client.hmget(queue.toKey(BILLING_INDEX), ...callIds)).map((j, i) => j ?? callIds[i]!);
  const states = new Map<string, Promise<Awaited<ReturnType<Queue['getJobState']>>>>();
  for (const j of jobIds) if (!states.has(j)) states.set(j, queue.getJobState(j));
  return Promise.all(jobIds.map((j) => states.get(j)!));
}

/** The billing job that carries a call, if it has one (see billingJobStates). */
export async function billingJobOf(queue: Queue, callId: string): Promise<Job<BillingJobData> | undefined> {
  const client = await queue.getBackend().client;
  return queue.getJob((await client.hget(queue.toKey(BILLING_INDEX), callId)) ?? callId);
}

export function fraudQueue(s: QueueSettings): Queue {
  return new Queue(FRAUD_QUEUE, { connection: bullConnection(s), prefix: bullPrefix(s), defaultJobOptions: JOB_OPTIONS });
}

export type FraudStage = 'screening' | 'ended';

export type FraudItem = { callId: string; stage: FraudStage };

/** Calls per fraud job: scoring is cheap next to adding a job to Redis, which the call path shares. */
export const FRAUD_ITEMS_PER_JOB = 100;

/**
 * Fraud jobs for inbound calls, each carrying up to FRAUD_ITEMS_PER_JOB (call, stage) items: one job per call and
 * stage made Redis add two jobs per call next to the calls themselves. The job id is derived from the items (ids
 * may not hold ':'), so the same entries enqueued again (a recorder retry) make no second job; scoring each
 * (call, stage) once is the worker's guarantee either way.
 */
export async function enqueueFraud(queue: Queue, items: readonly FraudItem[]): Promise<void> {
  if (items.length === 0) return;
  const jobs = [];
  for (let i = 0; i < items.length; i += FRAUD_ITEMS_PER_JOB) {
    const chunk = items.slice(i, i + FRAUD_ITEMS_PER_JOB);
    jobs.push({ name: 'score', data: { items: chunk }, opts: { jobId: `${chunk[0]!.callId}-${chunk[0]!.stage}-${chunk.length}` } });
  }
  await queue.addBulk(jobs);
}

/**
 * The webhook queue carries two kinds of job: `fanout` (a batch of call events: who subscribed, what each receiver
 * sees, one delivery row each; retried like billing) and `deliver` (one signed POST, retried with the webhook
 * backoff, see enqueueDeliveries).
 */
export function webhookQueue(s: QueueSettings): Queue {
  return new Queue(WEBHOOK_QUEUE, { connection: bullConnection(s), prefix: bullPrefix(s), defaultJobOptions: JOB_OPTIONS });
}

/** A call event owed to webhook receivers; a bridge carries its buyer and price (the call's row has them only at its end). */
export type WebhookItem =
  | { callId: string; event: 'call.bridged'; at: string; buyerAccountId: string; targetId: string; priceCents?: number }
  | { callId: string; event: 'call.ended' };

/** Events per fan-out job, as for fraud: one job per event would add a Redis job per call to the recorder's work. */
export const WEBHOOK_ITEMS_PER_JOB = 100;

export async function enqueueWebhookEvents(queue: Queue, items: readonly WebhookItem[]): Promise<void> {
  if (items.length === 0) return;
  const jobs = [];
  for (let i = 0; i < items.length; i += WEBHOOK_ITEMS_PER_JOB) {
    const chunk = items.slice(i, i + WEBHOOK_ITEMS_PER_JOB);
    const first = chunk[0]!;
    jobs.push({ name: 'fanout', data: { items: chunk }, opts: { jobId: `fanout-${first.callId}-${first.event === 'call.bridged' ? 'bridged' : 'ended'}-${chunk.length}` } });
  }
  await queue.addBulk(jobs);
}

/** How webhook deliveries are retried (WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS). */
export interface WebhookRetry {
  attempts: number;
  backoffMs: number;
}

/**
 * One `deliver` job per delivery row. `round` tells rounds of attempts apart (0 the first, then the attempts made
 * before a redelivery), so a repeated fan-out adds no second job and a redelivery is a new one.
 */
export async function enqueueDeliveries(queue: Queue, deliveryIds: readonly string[], retry: WebhookRetry, round = 0): Promise<void> {
  if (deliveryIds.length === 0) return;
  await queue.addBulk(deliveryIds.map((id) => ({
    name: 'deliver',
    data: { deliveryId: id },
    opts: {
      jobId: `deliver-${id}-${round}`,
      attempts: retry.attempts,
      backoff: { type: 'exponential', delay: retry.backoffMs },
      removeOnComplete: { age: 3600, count: 50_000 },
      // The delivery row in Postgres is the dead letter (listed and redelivered through the API), not this job.
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  })));
}

/** The webhook events in journal entries: a bridge (the bridged attempt) and the end of a call that was bridged. */
export function webhookItemsOf(entries: readonly JournalEntry[]): WebhookItem[] {
  const items: WebhookItem[] = [];
  for (const e of entries) {
    if (e.type === 'attempt' && e.status === 'bridged') {
      items.push({ callId: e.callId, event: 'call.bridged', at: e.attemptEndedAt, buyerAccountId: e.buyerAccountId, targetId: e.targetId, ...(e.priceCents !== undefined ? { priceCents: e.priceCents } : {}) });
    } else if (e.type === 'ended' && e.bridgedAt) items.push({ callId: e.callId, event: 'call.ended' });
  }
  return items;
}

/**
 * The jobs owed for journal entries just committed to Postgres: billing for every ended call, fraud scoring for
 * every inbound call screened and ended, webhook fan-out for bridges and their ends. The recorder calls this
 * before it acknowledges the entries (so webhooks cost the call path nothing: they start from the record).
 */
export async function enqueueForCommitted(queues: { billing: Queue; fraud: Queue; webhooks?: Queue }, entries: readonly JournalEntry[]): Promise<void> {
  const ended: string[] = [];
  const fraud: FraudItem[] = [];
  for (const e of entries) {
    if (e.type === 'ended') ended.push(e.callId);
    if (e.direction !== 'inbound') continue;
    if (e.type === 'decided' && e.audit) fraud.push({ callId: e.callId, stage: 'screening' });
    else if (e.type === 'ended') fraud.push({ callId: e.callId, stage: 'ended' });
  }
  await Promise.all([
    enqueueBilling(queues.billing, ended),
    enqueueFraud(queues.fraud, fraud),
    queues.webhooks ? enqueueWebhookEvents(queues.webhooks, webhookItemsOf(entries)) : undefined,
  ]);
}
