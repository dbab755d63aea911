/**
 * The fraud worker: scores each inbound call when it is screened and when it ends (BullMQ jobs of many calls), stores
 * the score, and acts on it: a caller over the block score is put on the block list screening reads (its next
 * call is refused), a seller whose traffic turns anomalous has the tracking number paused. Every action leaves an
 * audit row; a repeated job finds its score stored and does nothing again. A job's calls are loaded and their scores
 * stored one statement each, and its ended calls' seller hours counted in one Redis script (SellerCallWindows), not
 * one per call.
 */
import { Worker, type Job } from 'bullmq';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { scoreCall, type FraudRules, type FraudScore } from '../domain/fraud';
import { blockCaller, fraudKey, loadFraudFacts, pauseNumber, saveFraudScores, type FraudFactsRow, type ScoredCall } from '../store/fraud-repo';
import { SellerCallWindows, type SellerCall, type SellerHour } from '../cache/seller-call-windows';
import { publishConfigChanged } from '../exchange/snapshot-source';
import { FRAUD_QUEUE, bullConnection, bullPrefix, type FraudItem, type QueueSettings } from './queues';

export interface FraudWorkerOptions extends QueueSettings {
  rules: FraudRules;
  /** jobs in progress at once */
  concurrency?: number;
  /** calls of one job scored at once */
  lanes?: number;
  onScored?: () => void;
}

export class FraudWorker {
  private worker: Worker | undefined;

  constructor(
    private readonly pool: Pool,
    /** the node's prefixed client: the block list lives under its prefix */
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly opts: FraudWorkerOptions,
  ) {}

  start(): void {
    this.worker = new Worker(FRAUD_QUEUE, (job: Job<{ items: FraudItem[] }>) => this.scoreAll(job.data.items), {
      connection: bullConnection(this.opts),
      prefix: bullPrefix(this.opts),
      concurrency: this.opts.concurrency ?? 4,
    });
    this.worker.on('failed', (job, err) => this.log.warn({ job: job?.id, calls: job?.data.items.length, attempt: job?.attemptsMade, err: err.message }, 'fraud job failed; it will be retried'));
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'fraud worker error'));
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }

  /**
   * Scores a job's calls: their facts (and whether each is scored already) in one statement, then each call's score
   * and its action, several calls at a time, then every new score in one statement. Act first, store the scores
   * last: a job that fails in between is retried and acts again (both actions are safe to repeat), rather than
   * finding its scores stored and never acting. The job fails (and is retried whole: calls already scored are
   * skipped) if any call could not be scored.
   */
  async scoreAll(job: readonly FraudItem[]): Promise<void> {
    const items = [...new Map(job.map((i) => [fraudKey(i.callId, i.stage), i])).values()]; // a call's stage once
    const failures: string[] = [];
    const facts = await loadFraudFacts(this.pool, items);
    const hours = await this.sellerHours(items, facts);
    const scored: Array<{ call: ScoredCall; score: FraudScore }> = [];
    const lanes = Math.min(this.opts.lanes ?? 8, items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < items.length) {
          const item = items[next++]!;
          const row = facts.get(fraudKey(item.callId, item.stage));
          if (row?.state === 'scored') continue; // a repeated job
          if (row?.state !== 'to_score') {
            failures.push(`${item.callId}/${item.stage}: call ${item.callId} is not recorded (${item.stage}) yet`);
            continue;
          }
          await this.score(row.call, hours.get(item.callId))
            .then((score) => scored.push({ call: row.call, score }))
            .catch((err: Error) => failures.push(`${item.callId}/${item.stage}: ${err.message}`));
        }
      }),
    );
    await saveFraudScores(this.pool, scored);
    for (let i = 0; i < scored.length; i++) this.opts.onScored?.();
    if (failures.length > 0) throw new Error(`${failures.length} of ${items.length} calls not scored: ${failures.slice(0, 3).join('; ')}`);
  }

  /**
   * The seller's hour of each ended call to score (with a seller and a start), counted in Redis for the whole job
   * at once, in the job's order; each call is added to it there. If Redis refuses, the job fails and is retried
   * (a call added twice counts once).
   */
  private async sellerHours(items: readonly FraudItem[], facts: ReadonlyMap<string, FraudFactsRow>): Promise<Map<string, SellerHour>> {
    const calls: SellerCall[] = [];
    for (const item of items) {
      if (item.stage !== 'ended') continue;
      const row = facts.get(fraudKey(item.callId, item.stage));
      if (row?.state !== 'to_score' || !row.call.sellerAccountId || row.call.startedAtMs === undefined) continue;
      const f = row.call.facts;
      calls.push({ sellerId: row.call.sellerAccountId, callId: item.callId, startedAtMs: row.call.startedAtMs, short: f.bridged === true && (f.billableSec ?? 0) < this.opts.rules.shortCallSec });
    }
    const hours = await new SellerCallWindows(this.redis).recordAndCount(calls);
    return new Map(calls.map((c, i) => [c.callId, hours[i]!]));
  }

  /** Scores one call not scored before and acts on the score (the caller stores it); `hour` is its seller's hour (ended stage). */
  private async score(call: ScoredCall, hour: SellerHour = { calls: 0, short: 0 }): Promise<FraudScore> {
    const { callId, facts: f } = call;
    if (f.stage === 'ended') {
      f.sellerCallsLastHour = hour.calls;
      f.sellerShortCallsLastHour = hour.short;
    }
    const score = scoreCall(f, this.opts.rules);
    // The logger's child only when there is something to log: built for every call, it was most of this method's time.
    const log = () => this.log.child({ callId, stage: f.stage, ani: f.ani, score: score.score, reasons: score.reasons });
    if (score.action === 'block_caller') {
      if (await blockCaller(this.pool, this.redis, call, score)) log().warn('caller blocked by fraud rules');
    } else if (score.action === 'pause_number' && (await pauseNumber(this.pool, call, score))) {
      await publishConfigChanged(this.redis, this.opts.redisPrefix, `fraud paused ${call.dnis}`);
      log().warn({ dnis: call.dnis }, 'tracking number paused by fraud rules');
    }
    return score;
  }
}
