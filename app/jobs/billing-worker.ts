/**
 * The billing worker: one BullMQ job per ended call, settled in batches. Jobs handed to the worker at about the
 * same time (it runs many at once) are gathered for a few milliseconds and billed in one Postgres transaction;
 * each job completes when its batch commits. A call not yet recorded as ended fails its job, which BullMQ retries
 * with backoff; a batch that fails as a whole fails each of its jobs the same way.
 */
import { Worker, type Job } from 'bullmq';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { billEndedCalls } from '../store/ledger-repo';
import { BILLING_QUEUE, bullConnection, bullPrefix, type QueueSettings } from './queues';
import { publishFunds } from './funds';

export interface BillingWorkerOptions extends QueueSettings {
  /** jobs in progress at once: the most a batch can hold */
  concurrency?: number;
  /** how long a batch gathers jobs before it is written */
  gatherMs?: number;
  onBatch?: (stats: { calls: number; converted: number; ms: number }) => void;
  /** how long a job's lock lasts, and how often stalled jobs (their worker died) are taken back; BullMQ's defaults otherwise */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

type Waiter = { callId: string; resolve: () => void; reject: (err: Error) => void };

export class BillingWorker {
  private worker: Worker | undefined;
  private pending: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    /** the node's prefixed client, for the funds cache */
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly opts: BillingWorkerOptions,
  ) {}

  start(): void {
    this.worker = new Worker(BILLING_QUEUE, (job: Job<{ callId: string }>) => this.enqueue(job.data.callId), {
      connection: bullConnection(this.opts),
      prefix: bullPrefix(this.opts),
      concurrency: this.opts.concurrency ?? 200,
      ...(this.opts.lockDurationMs ? { lockDuration: this.opts.lockDurationMs } : {}),
      ...(this.opts.stalledIntervalMs ? { stalledInterval: this.opts.stalledIntervalMs } : {}),
    });
    this.worker.on('failed', (job, err) => {
      const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
      this.log[final ? 'error' : 'warn']({ callId: job?.data.callId, attempt: job?.attemptsMade, err: err.message }, final ? 'billing job failed for good; it stays in the failed set' : 'billing job failed; it will be retried');
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'billing worker error'));
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }

  private enqueue(callId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ callId, resolve, reject });
      if (this.pending.length >= (this.opts.concurrency ?? 200)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.gatherMs ?? 5);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const started = Date.now();
    billEndedCalls(this.pool, batch.map((w) => w.callId))
      .then(async (r) => {
        // The calls' fund holds are released in the script that writes their buyers' lowered figures, before any
        // job completes. If Redis refuses it, the holds stay and the ended calls' jobs fail: their retry finds
        // them billed and settles the holds then (a hold never goes before its charge counts).
        let settleError: Error | undefined;
        await publishFunds(this.redis, this.opts.redisPrefix, r.funds, [...r.settled, ...r.tried]).catch((err: Error) => {
          settleError = err;
          this.log.warn({ err: err.message, calls: r.settled.length }, 'could not write buyer funds and settle fund holds; the jobs will be retried');
        });
        const notReady = new Set(r.notReady);
        for (const w of batch) {
          if (notReady.has(w.callId)) w.reject(new Error(`call ${w.callId} is not recorded as ended yet`));
          else if (settleError) w.reject(new Error(`call ${w.callId} is billed but its fund hold is not settled: ${settleError.message}`));
          else w.resolve();
        }
        this.opts.onBatch?.({ calls: batch.length, converted: r.converted, ms: Date.now() - started });
      })
      .catch((err: Error) => {
        this.log.error({ err: err.message, calls: batch.length }, 'billing batch failed; its jobs will be retried');
        for (const w of batch) w.reject(err);
      });
  }
}
