/**
 * The billing sweep: finds ended calls that are not billed and whose billing job is gone, and enqueues the job
 * again. Billing jobs live only in Redis, which runs without persistence: a Redis restart, a flush or an
 * obliterated queue drops jobs the recorder enqueued after its commit, and nothing else would ever bill those
 * calls or settle their buyers' fund holds. (A recorder that dies between its commit and its enqueue loses nothing:
 * its journal entries are not acknowledged, so they are read and enqueued again.)
 *
 * Cost: a sweep reads the calls that ended since the last sweep (less a look-back for a late recorder) through the
 * calls_ended index, each checked against call_billing's key; the whole window (BILLING_SWEEP_MAX_AGE_DAYS) is read
 * only when Redis has no sweep state (first sweep, or Redis lost its data: exactly when jobs were lost) and once an
 * hour. The calls found unbilled past the grace age are kept in a Redis sorted set (the backlog, by end time) and
 * checked again at each sweep, so the backlog shown to operators stays true between full reads.
 *
 * One sweep at a time across processes: a Redis lock with an expiry, renewed between pages.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Logger } from '../observability/logger';
import { billedAmong, unbilledCallsPage, type UnbilledCall } from '../store/unbilled-calls-repo';
import { billingJobStates, enqueueBilling, pruneBillingIndex } from './queues';

/** Keys under the node's REDIS_PREFIX (the client passed in adds it). */
export const SWEEP_LOCK_KEY = 'billing:sweep:lock';
/** hash: checkedTo (ms, the end of the window the last sweep read), fullAt (ms, the last full read), sweptAt */
export const SWEEP_STATE_KEY = 'billing:sweep:state';
/** sorted set: ended calls past the grace age without a call_billing row, scored by ended_at (ms) */
export const UNBILLED_KEY = 'billing:unbilled';
const REBUILT_KEY = 'billing:unbilled:rebuilt';

export interface BillingSweepOptions {
  /** how often a process sweeps (BILLING_SWEEP_INTERVAL_MS) */
  intervalMs: number;
  /** a call is looked at once it ended this long ago: its own job has had time to be enqueued (BILLING_SWEEP_GRACE_MS) */
  graceMs: number;
  /** calls that ended longer ago are never swept (BILLING_SWEEP_MAX_AGE_DAYS) */
  maxAgeDays: number;
  /** how far before the last sweep's window a sweep reads again, for calls recorded late; 15 minutes */
  lookbackMs?: number;
  /** how often the whole window is read again; an hour */
  fullEveryMs?: number;
  /** calls per query */
  pageSize?: number;
  /** counts the calls whose job was enqueued again (callx_billing_swept_calls_total) */
  onSwept?: (calls: number) => void;
}

export interface SweepResult {
  full: boolean;
  /** unbilled calls past the grace age found in the window read */
  found: number;
  /** of those, the calls that had no billing job and got one again */
  swept: number;
  /** the backlog after the sweep: unbilled calls past the grace age, and the oldest one's end */
  unbilled: number;
  oldestEndedAt: Date | null;
  /** billing index entries no job will act on, taken off (full sweeps only: see pruneBillingIndex) */
  indexPruned: number;
}

export interface BillingBacklog {
  unbilled: number;
  oldestEndedAt: Date | null;
  /** when a sweep last finished, anywhere; null before the first one (or after Redis lost its data) */
  sweptAt: Date | null;
}

// Renews the lock only while it is still this sweep's (another may hold it once it lapsed).
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

const DAY_MS = 86_400_000;

export class BillingSweep {
  private timer: NodeJS.Timeout | undefined;
  private firstTimer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly lockMs: number;

  constructor(
    private readonly pool: Pool,
    /** the node's prefixed client */
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly log: Logger,
    private readonly opts: BillingSweepOptions,
  ) {
    this.lockMs = Math.max(opts.intervalMs, 30_000);
  }

  /** Sweeps soon after start (a restart after a Redis loss is when jobs are missing), then every interval. */
  start(): void {
    const tick = (): void => {
      this.running ??= this.sweep()
        .catch((err: Error) => this.log.warn({ err: err.message }, 'billing sweep failed; the next one will try again'))
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, this.opts.intervalMs);
    this.timer.unref();
    this.firstTimer = setTimeout(tick, Math.min(this.opts.intervalMs, 1000));
    this.firstTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.firstTimer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep, if no other process is sweeping (undefined then). `now` is the clock (tests move it on). */
  async sweep(now: Date = new Date()): Promise<SweepResult | undefined> {
    const token = randomBytes(8).toString('hex');
    if ((await this.redis.set(SWEEP_LOCK_KEY, token, 'PX', this.lockMs, 'NX')) !== 'OK') return undefined;
    try {
      return await this.sweepLocked(now, token);
    } finally {
      await this.redis.eval(RELEASE, 1, SWEEP_LOCK_KEY, token).catch(() => undefined);
    }
  }

  private async sweepLocked(now: Date, token: string): Promise<SweepResult> {
    const to = new Date(now.getTime() - this.opts.graceMs);
    const oldest = now.getTime() - this.opts.maxAgeDays * DAY_MS;
    const state = await this.redis.hmget(SWEEP_STATE_KEY, 'checkedTo', 'fullAt');
    const checkedTo = state[0] ? Number(state[0]) : undefined;
    const fullAt = state[1] ? Number(state[1]) : undefined;
    const full = checkedTo === undefined || fullAt === undefined || now.getTime() - fullAt >= (this.opts.fullEveryMs ?? 3_600_000);
    const from = new Date(full ? oldest : Math.max(oldest, checkedTo! - (this.opts.lookbackMs ?? 15 * 60_000)));

    let swept = 0;
    let oldestSwept: Date | undefined;
    const enqueueLost = async (calls: readonly UnbilledCall[]): Promise<void> => {
      const lost = await this.withoutJob(calls);
      await enqueueBilling(this.queue, lost.map((c) => c.callId));
      swept += lost.length;
      for (const c of lost) if (!oldestSwept || c.endedAt < oldestSwept) oldestSwept = c.endedAt;
    };

    // The backlog known so far: a full read rebuilds it aside (the backlog shown meanwhile stays whole); otherwise
    // billed ones leave it, and the others are checked for their jobs too (a queue emptied while Redis kept the
    // sweep's state loses the jobs of calls older than this sweep's window).
    const backlogKey = full ? REBUILT_KEY : UNBILLED_KEY;
    if (full) await this.redis.del(REBUILT_KEY);
    else await enqueueLost(await this.stillUnbilled(oldest));

    let found = 0;
    const pageSize = this.opts.pageSize ?? 1000;
    let after: UnbilledCall | undefined;
    for (;;) {
      const page = await unbilledCallsPage(this.pool, { from, to, after, limit: pageSize });
      if (page.length === 0) break;
      found += page.length;
      await enqueueLost(page);
      await this.redis.zadd(backlogKey, ...page.flatMap((c) => [String(c.endedAt.getTime()), c.callId]));
      if (page.length < pageSize) break;
      after = page[page.length - 1];
      await this.redis.eval(RENEW, 1, SWEEP_LOCK_KEY, token, this.lockMs);
    }
    if (full) await (found > 0 ? this.redis.rename(REBUILT_KEY, UNBILLED_KEY) : this.redis.del(UNBILLED_KEY));
    // Once an hour, with the full read: the index's entries for calls re-enqueued after their job completed.
    const indexPruned = full ? await pruneBillingIndex(this.queue, pageSize) : 0;
    await this.redis.hset(SWEEP_STATE_KEY, { checkedTo: to.getTime(), sweptAt: now.getTime(), ...(full ? { fullAt: now.getTime() } : {}) });

    const backlog = await readBillingBacklog(this.redis);
    if (swept > 0) {
      this.opts.onSwept?.(swept);
      this.log.warn({ swept, oldestEndedAt: oldestSwept, full, unbilled: backlog.unbilled }, 'billing sweep: ended calls had lost their billing jobs; enqueued again');
    } else if (found > 0) {
      this.log.info({ found, full, unbilled: backlog.unbilled, oldestEndedAt: backlog.oldestEndedAt }, 'billing sweep: unbilled calls past the grace age still have their jobs (retrying or failed)');
    }
    if (indexPruned > 0) this.log.info({ indexPruned }, 'billing sweep: took off the billing index the entries of calls whose jobs are done or gone');
    return { full, found, swept, ...backlog, indexPruned };
  }

  /** Drops the backlog's calls that are billed by now, or too old to sweep, and answers the others. */
  private async stillUnbilled(oldest: number): Promise<UnbilledCall[]> {
    await this.redis.zremrangebyscore(UNBILLED_KEY, '-inf', `(${String(oldest)}`);
    const known = await this.redis.zrange(UNBILLED_KEY, 0, '-1');
    const left: UnbilledCall[] = [];
    for (let i = 0; i < known.length; i += 1000) {
      const ids = known.slice(i, i + 1000);
      const billed = new Set(await billedAmong(this.pool, ids));
      if (billed.size > 0) await this.redis.zrem(UNBILLED_KEY, ...billed);
      const unbilled = ids.filter((id) => !billed.has(id));
      const ended = unbilled.length > 0 ? await this.redis.zmscore(UNBILLED_KEY, ...unbilled) : [];
      unbilled.forEach((callId, j) => left.push({ callId, endedAt: new Date(Number(ended[j])) }));
    }
    return left;
  }

  /**
   * The calls that have no billing job in Redis (by the billing index, queues.ts). A call whose job is waiting,
   * retrying, or failed for good (a dead letter, left to an operator: GET /v1/jobs/billing/failed) keeps it:
   * enqueuing it again would bill nothing more but count it as swept, saying a job was lost when it was not.
   */
  private async withoutJob(calls: readonly UnbilledCall[]): Promise<UnbilledCall[]> {
    // Usually none or a few (a whole page only after Redis lost its data): one HMGET, one state lookup per job.
    const states = await billingJobStates(this.queue, calls.map((c) => c.callId));
    const lost = calls.filter((_c, i) => states[i] === 'unknown');
    if (lost.length === 0) return lost;
    // The worker takes a call off the index once it is billed: one billed since its page was read has no entry now,
    // and is not lost. Asked after the index, this sees every such billing committed.
    const billed = new Set(await billedAmong(this.pool, lost.map((c) => c.callId)));
    return lost.filter((c) => !billed.has(c.callId));
  }
}

/** The unbilled backlog as the last sweep left it (any process's), for /metrics and the ops route. */
export async function readBillingBacklog(redis: Redis): Promise<BillingBacklog> {
  const [count, first, sweptAt] = await Promise.all([
    redis.zcard(UNBILLED_KEY),
    redis.zrange(UNBILLED_KEY, 0, '0'),
    redis.hget(SWEEP_STATE_KEY, 'sweptAt'),
  ]);
  const oldest = first[0] ? await redis.zscore(UNBILLED_KEY, first[0]) : null;
  return {
    unbilled: count,
    oldestEndedAt: oldest ? new Date(Number(oldest)) : null,
    sweptAt: sweptAt ? new Date(Number(sweptAt)) : null,
  };
}
