import type { Pool, PoolClient } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { JOURNAL_GROUP, JOURNAL_STREAM, type JournalEntry } from '../exchange/call-journal';
import { Backoff, sleep } from '../util/backoff';

export const JOURNAL_DEAD_STREAM = 'journal:calls:dead';

export interface RecorderOptions {
  consumer: string;
  batchSize?: number;
  blockMs?: number;
  /** entries another consumer has held this long are taken over (that node probably died) */
  claimIdleMs?: number;
  onWritten?: (count: number) => void;
}

type StreamEntry = [id: string, fields: string[]];

/**
 * Copies the call journal (a Redis stream) into Postgres. An entry is acknowledged and deleted only after
 * the transaction that wrote it commits, so a crash anywhere loses nothing: unacknowledged entries are
 * re-read by this consumer on restart, or claimed by another node after `claimIdleMs`.
 * Writes are idempotent (upserts and ON CONFLICT DO NOTHING keyed by call id / attempt number), so an
 * entry written twice changes nothing, and order-independent, so entries of one call may be applied in
 * any order by different nodes.
 */
export class CallRecorder {
  private running = false;
  private drainClient: Redis | undefined;
  private loop: Promise<void> | undefined;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });

  constructor(
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly opts: RecorderOptions,
  ) {}

  async start(): Promise<void> {
    await ensureGroup(this.redis);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.drainClient?.disconnect();
  }

  /** Entries appended but not yet written (for metrics and tests). */
  async backlog(): Promise<number> {
    return this.redis.xlen(JOURNAL_STREAM);
  }

  /**
   * Returns once everything appended so far is in Postgres, whoever wrote it (this node's loop may be
   * writing a batch at the same time). Used by tests and at shutdown.
   */
  async drain(timeoutMs = 10_000): Promise<number> {
    this.drainClient ??= this.redis.duplicate(); // the loop's connection may be blocked in a read
    await ensureGroup(this.drainClient);
    const deadline = Date.now() + timeoutMs;
    let total = 0;
    for (;;) {
      const n = await this.step(0, this.drainClient);
      total += n;
      if (n === 0) {
        if ((await this.drainClient.xlen(JOURNAL_STREAM)) === 0) return total;
        if (Date.now() > deadline) throw new Error('call journal did not drain in time');
        await sleep(5);
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.step(this.opts.blockMs ?? 1000);
        this.backoff.reset();
      } catch (err) {
        const delay = this.backoff.next();
        this.logger.error({ err: (err as Error).message, retryInMs: delay }, 'call recorder failed; entries stay in the journal and will be retried');
        await sleep(delay);
      }
    }
  }

  /** One batch: our own pending entries first (left by a crash), then entries idle at other consumers, then new ones. */
  private async step(blockMs: number, redis: Redis = this.redis): Promise<number> {
    const count = this.opts.batchSize ?? 500;
    let entries = await this.read(redis, '0', count, 0);
    if (entries.length === 0) entries = await this.claimIdle(redis, count);
    if (entries.length === 0) entries = await this.read(redis, '>', count, blockMs);
    if (entries.length === 0) return 0;
    await this.write(entries);
    const ids = entries.map(([id]) => id);
    await redis.multi().xack(JOURNAL_STREAM, JOURNAL_GROUP, ...ids).xdel(JOURNAL_STREAM, ...ids).exec();
    this.opts.onWritten?.(entries.length);
    return entries.length;
  }

  private async read(redis: Redis, from: '0' | '>', count: number, blockMs: number): Promise<StreamEntry[]> {
    const args: Array<string | number> = ['GROUP', JOURNAL_GROUP, this.opts.consumer, 'COUNT', count];
    if (from === '>' && blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', JOURNAL_STREAM, from);
    const res = (await (redis as unknown as { xreadgroup(...a: Array<string | number>): Promise<unknown> }).xreadgroup(...args)) as Array<[string, StreamEntry[]]> | null;
    // A pending entry deleted elsewhere comes back with null fields: skip it.
    return (res?.[0]?.[1] ?? []).filter(([, fields]) => Array.isArray(fields));
  }

  private async claimIdle(redis: Redis, count: number): Promise<StreamEntry[]> {
    const res = (await redis.xautoclaim(JOURNAL_STREAM, JOURNAL_GROUP, this.opts.consumer, this.opts.claimIdleMs ?? 30_000, '0-0', 'COUNT', count)) as [string, StreamEntry[]];
    const claimed = (res?.[1] ?? []).filter(([, fields]) => Array.isArray(fields));
    if (claimed.length > 0) this.logger.warn({ claimed: claimed.length }, 'took over call journal entries left by another node');
    return claimed;
  }

  private async write(entries: StreamEntry[]): Promise<void> {
    const parsed: Array<{ id: string; entry: JournalEntry }> = [];
    for (const [id, fields] of entries) {
      try {
        parsed.push({ id, entry: JSON.parse(fields[1] ?? '') as JournalEntry });
      } catch (err) {
        await this.deadLetter(id, fields, `unparseable: ${(err as Error).message}`);
      }
    }
    try {
      await inTransaction(this.pool, async (c) => {
        for (const { entry } of parsed) await applyEntry(c, entry);
      });
    } catch (err) {
      if (!isDataError(err)) throw err; // Postgres down or similar: retry the whole batch later
      // One bad entry must not hold back the rest: write them one by one and set the bad one aside.
      for (const { id, entry } of parsed) {
        try {
          await inTransaction(this.pool, (c) => applyEntry(c, entry));
        } catch (e) {
          if (!isDataError(e)) throw e;
          await this.deadLetter(id, ['e', JSON.stringify(entry)], (e as Error).message);
        }
      }
    }
  }

  private async deadLetter(id: string, fields: string[], why: string): Promise<void> {
    this.logger.error({ entryId: id, why }, 'call journal entry could not be written; moved to the dead-letter stream');
    await this.redis.xadd(JOURNAL_DEAD_STREAM, '*', 'id', id, 'why', why, ...fields);
  }
}

export async function ensureGroup(redis: Redis): Promise<void> {
  try {
    await redis.xgroup('CREATE', JOURNAL_STREAM, JOURNAL_GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
}

async function inTransaction(pool: Pool, fn: (c: PoolClient) => Promise<void>): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await fn(c);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (constraint violation): the entry is bad, not the database. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

const IDENTITY_SQL = `INSERT INTO calls (id, direction, ani, dnis, started_at, switch_name, switch_call_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`;

async function applyEntry(c: PoolClient, e: JournalEntry): Promise<void> {
  await c.query(IDENTITY_SQL, [e.callId, e.direction, e.ani, e.dnis, e.startedAt, e.switchName, e.switchCallId]);
  switch (e.type) {
    case 'decided':
      await c.query(
        `UPDATE calls SET campaign_id = $2, seller_account_id = $3, attestation = $4, zip = $5, lead_id = $6,
           outcome = CASE WHEN ended_at IS NULL THEN $7 ELSE outcome END,
           reject_reason = CASE WHEN ended_at IS NULL THEN $8 ELSE reject_reason END,
           winner_target_id = CASE WHEN ended_at IS NULL THEN $9 ELSE winner_target_id END,
           winner_buyer_id = CASE WHEN ended_at IS NULL THEN $10 ELSE winner_buyer_id END,
           price_cents = CASE WHEN ended_at IS NULL THEN $11::bigint ELSE price_cents END,
           decided_at = $12, decision_us = $13
         WHERE id = $1`,
        [e.callId, e.campaignId ?? null, e.sellerAccountId ?? null, e.attestation ?? null, e.zip ?? null, e.leadId ?? null,
          e.outcome, e.rejectReason ?? null, e.winnerTargetId ?? null, e.winnerBuyerId ?? null, e.priceCents ?? null, e.decidedAt, e.trace.decisionUs],
      );
      await c.query('INSERT INTO call_decisions (call_id, decided_at, trace) VALUES ($1, $2, $3) ON CONFLICT (call_id) DO NOTHING', [e.callId, e.decidedAt, JSON.stringify(e.trace)]);
      if (e.audit) {
        await c.query(
          `INSERT INTO compliance_audit_log (call_id, campaign_id, ani, decision, reasons, checked_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_id) DO NOTHING`,
          [e.callId, e.campaignId ?? null, e.ani, e.audit.decision, JSON.stringify(e.audit.reasons), e.audit.checkedAt],
        );
      }
      return;
    case 'attempt':
      await c.query(
        `INSERT INTO bridge_attempts (call_id, attempt_no, target_id, buyer_id, destination, started_at, ended_at, status, cause)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (call_id, attempt_no) DO NOTHING`,
        [e.callId, e.attemptNo, e.targetId, e.buyerAccountId, e.destination, e.attemptStartedAt, e.attemptEndedAt, e.status, e.cause ?? null],
      );
      return;
    case 'ended':
      // The end is final: it overrides the decision's outcome and winner (failover may have moved the call
      // to another buyer, or no buyer took it), whichever of the two entries is applied first.
      await c.query(
        `UPDATE calls SET outcome = $2, end_reason = $3, ended_at = $4, answered_at = $5, bridged_at = $6,
           hangup_cause = $7, hung_up_by = $8, duration_sec = $9, billable_sec = $10,
           winner_target_id = $11, winner_buyer_id = $12, price_cents = $13, reject_reason = $14
         WHERE id = $1`,
        [e.callId, e.outcome, e.endReason, e.endedAt, e.answeredAt ?? null, e.bridgedAt ?? null, e.hangupCause, e.hungUpBy,
          e.durationSec, e.billableSec, e.winnerTargetId ?? null, e.winnerBuyerId ?? null, e.priceCents ?? null, e.rejectReason ?? null],
      );
      return;
    default:
      throw Object.assign(new Error(`unknown journal entry type ${(e as { type?: string }).type}`), { code: '22000' });
  }
}
