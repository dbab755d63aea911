/**
 * The BullMQ queues: names, connections and job options in one place. BullMQ namespaces its keys with its own
 * `prefix` option (it does not work with ioredis' keyPrefix), so every queue of a node lives under
 * `<REDIS_PREFIX>bull:<queue>` and each test file or deployment stays apart.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { JournalEntry } from '../exchange/call-journal';

export const BILLING_QUEUE = 'billing';
export const FRAUD_QUEUE = 'fraud';

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

/** One billing job per ended call; the job id is the call id, so a call enqueued twice is one job. */
export async function enqueueBilling(queue: Queue, callIds: readonly string[]): Promise<void> {
  if (callIds.length === 0) return;
  await queue.addBulk(callIds.map((callId) => ({ name: 'call-ended', data: { callId }, opts: { jobId: callId } })));
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
 * The jobs owed for journal entries just committed to Postgres: billing for every ended call, fraud scoring for
 * every inbound call screened and ended. The recorder calls this before it acknowledges the entries.
 */
export async function enqueueForCommitted(queues: { billing: Queue; fraud: Queue }, entries: readonly JournalEntry[]): Promise<void> {
  const ended: string[] = [];
  const fraud: FraudItem[] = [];
  for (const e of entries) {
    if (e.type === 'ended') ended.push(e.callId);
    if (e.direction !== 'inbound') continue;
    if (e.type === 'decided' && e.audit) fraud.push({ callId: e.callId, stage: 'screening' });
    else if (e.type === 'ended') fraud.push({ callId: e.callId, stage: 'ended' });
  }
  await Promise.all([enqueueBilling(queues.billing, ended), enqueueFraud(queues.fraud, fraud)]);
}
