/**
 * The billing worker: BullMQ jobs of many ended calls each (queues.ts), settled in batches. Jobs handed to the
 * worker at about the same time (it runs many at once) are gathered for a few milliseconds and billed in one
 * Postgres transaction; each job completes when its batch commits and its calls have left the billing index. A
 * call not yet recorded as ended fails its job, which BullMQ retries with backoff (the retry finds the job's other
 * calls billed and skips them); a batch that fails as a whole fails each of its jobs the same way.
 */
import { Worker, type Job } from 'bullmq';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { billEndedCalls } from '../store/ledger-repo';
import { BILLING_INDEX, BILLING_QUEUE, billingCallsOf, bullConnection, bullPrefix, type BillingJobData, type QueueSettings } from './queues';
import { publishFunds } from './funds';

export interface BillingWorkerOptions extends QueueSettings {
  /** jobs in progress at once, and the most calls a batch holds (a batch holds at least one job, however many calls) */
  concurrency?: number;
  /** how long a batch gathers jobs before it is written */
  gatherMs?: number;
  onBatch?: (stats: { calls: number; converted: number; ms: number }) => void;
  /** how long a job's lock lasts, and how often stalled jobs (their worker died) are taken back; BullMQ's defaults otherwise */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

type Waiter = { callIds: string[]; resolve: () => void; reject: (err: Error) => void };

export class BillingWorker {
  private worker: Worker | undefined;
  private pending: Waiter[] = [];
  private pendingCalls = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    /** the node's prefixed client, for the funds cache */
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly opts: BillingWorkerOptions,
  ) {}

  start(): void {
    this.worker = new Worker(BILLING_QUEUE, (job: Job<BillingJobData>) => this.enqueue(billingCallsOf(job.data)), {
      connection: bullConnection(this.opts),
      prefix: bullPrefix(this.opts),
      concurrency: this.opts.concurrency ?? 200,
      ...(this.opts.lockDurationMs ? { lockDuration: this.opts.lockDurationMs } : {}),
      ...(this.opts.stalledIntervalMs ? { stalledInterval: this.opts.stalledIntervalMs } : {}),
    });
    this.worker.on('failed', (job, err) => {
      const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
      const calls = job ? billingCallsOf(job.data) : [];
      this.log[final ? 'error' : 'warn']({ job: job?.id, calls: calls.length, callIds: calls.slice(0, 5), attempt: job?.attemptsMade, err: err.message }, final ? 'billing job failed for good; it stays in the failed set' : 'billing job failed; it will be retried');
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'billing worker error'));
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }

  private enqueue(callIds: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ callIds, resolve, reject });
      this.pendingCalls += callIds.length;
      if (this.pendingCalls >= (this.opts.concurrency ?? 200)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.gatherMs ?? 5);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingCalls = 0;
    if (batch.length === 0) return;
    const started = Date.now();
    const calls = batch.flatMap((w) => w.callIds);
    billEndedCalls(this.pool, calls)
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
        // Billed calls need no job: they leave the index (the sweep's view of which calls have one) before their
        // jobs complete. If Redis refuses, the jobs fail and their retry removes them.
        let indexError: Error | undefined;
        const billed = calls.filter((id) => !notReady.has(id));
        if (!settleError && billed.length > 0) await this.unindex(billed).catch((err: Error) => (indexError = err));
        for (const w of batch) {
          const waiting = w.callIds.filter((id) => notReady.has(id));
          if (waiting.length > 0) w.reject(new Error(waiting.length === 1 ? `call ${waiting[0]!} is not recorded as ended yet` : `${waiting.length} calls are not recorded as ended yet: ${waiting.slice(0, 3).join(', ')}`));
          else if (settleError) w.reject(new Error(`${w.callIds.length === 1 ? `call ${w.callIds[0]!} is` : `${w.callIds.length} calls are`} billed but fund holds are not settled: ${settleError.message}`));
          else if (indexError) w.reject(new Error(`calls billed but not taken off the billing index: ${indexError.message}`));
          else w.resolve();
        }
        this.opts.onBatch?.({ calls: calls.length, converted: r.converted, ms: Date.now() - started });
      })
      .catch((err: Error) => {
        this.log.error({ err: err.message, calls: calls.length }, 'billing batch failed; its jobs will be retried');
        for (const w of batch) w.reject(err);
      });
  }

  private async unindex(callIds: readonly string[]): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const client = await worker.getBackend().client;
    await client.hdel(worker.toKey(BILLING_INDEX), ...callIds);
  }
}
