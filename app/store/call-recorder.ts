import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { Redis } from 'ioredis';
import { inTransaction } from './db';
import type { Logger } from '../observability/logger';
import { JOURNAL_GROUP, JOURNAL_STREAM, type JournalEntry } from '../exchange/call-journal';
import { decodeJournalEntry } from '../exchange/journal-wire';
import { Backoff, sleep } from '../util/backoff';

export const JOURNAL_DEAD_STREAM = 'journal:calls:dead';

export interface RecorderOptions {
  consumer: string;
  batchSize?: number;
  blockMs?: number;
  /** entries another consumer has held this long are taken over (that node probably died) */
  claimIdleMs?: number;
  onWritten?: (count: number) => void;
  /**
   * after a batch smaller than batchSize, wait this long before reading again (default 100 ms: in bench:cps at 300
   * calls/s the recorder used ~25% less CPU, and Postgres ~33% less, than at 20 ms; a call reaches Postgres up to
   * that much later, while its live events are not delayed)
   */
  gatherMs?: number;
  /**
   * Called with the entries just committed, before they are acknowledged: if it throws, the entries are read
   * and applied again (harmless) and it is called again. Billing and fraud jobs are enqueued here.
   */
  onCommitted?: (entries: JournalEntry[]) => Promise<void>;
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
  /**
   * This consumer may hold entries it read but did not acknowledge: true at start (a crash may have left some) and
   * after a failed write or acknowledgement; false once a look at them found none. Only then is the own-pending
   * read worth its round trip; a busy recorder used to pay it, and a claim, on every batch.
   */
  private ownPendingMayExist = true;
  private lastClaimAt = 0;

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
      const n = await this.step(0, this.drainClient, true);
      total += n;
      if (n === 0) {
        if ((await this.drainClient.xlen(JOURNAL_STREAM)) === 0) return total;
        if (Date.now() > deadline) throw new Error('call journal did not drain in time');
        await sleep(5);
      }
    }
  }

  private async run(): Promise<void> {
    const gatherMs = this.opts.gatherMs ?? 100;
    while (this.running) {
      try {
        const n = await this.step(this.opts.blockMs ?? 1000, this.redis, false);
        this.backoff.reset();
        // A short batch means the journal is nearly caught up: let entries gather for a moment, so a busy node
        // commits a few large transactions a second rather than hundreds of tiny ones.
        if (n > 0 && n < (this.opts.batchSize ?? 500) && gatherMs > 0) await sleep(gatherMs);
      } catch (err) {
        const delay = this.backoff.next();
        this.logger.error({ err: (err as Error).message, retryInMs: delay }, 'call recorder failed; entries stay in the journal and will be retried');
        await sleep(delay);
      }
    }
  }

  /**
   * One batch: our own pending entries first (left by a crash or a failed write), then entries idle at any
   * consumer, then new ones. The first two are looked for every time when `thorough` (drain), else only when
   * there may be some: own pending at start and after a failure, idle ones every half `claimIdleMs` (at most 5 s).
   */
  private async step(blockMs: number, redis: Redis, thorough: boolean): Promise<number> {
    const count = this.opts.batchSize ?? 500;
    let entries: StreamEntry[] = [];
    if (thorough || this.ownPendingMayExist) {
      entries = await this.read(redis, '0', count, 0);
      if (entries.length === 0 && !thorough) this.ownPendingMayExist = false; // the loop's flag; drain always looks
    }
    const claimIdleMs = this.opts.claimIdleMs ?? 30_000;
    if (entries.length === 0 && (thorough || Date.now() - this.lastClaimAt >= Math.min(claimIdleMs / 2, 5_000))) {
      this.lastClaimAt = Date.now();
      entries = await this.claimIdle(redis, count);
    }
    if (entries.length === 0) entries = await this.read(redis, '>', count, blockMs);
    if (entries.length === 0) return 0;
    try {
      await this.write(entries);
      const ids = entries.map(([id]) => id);
      await redis.multi().xack(JOURNAL_STREAM, JOURNAL_GROUP, ...ids).xdel(JOURNAL_STREAM, ...ids).exec();
    } catch (err) {
      // The batch stays pending for this consumer: the loop's next step reads it again (after a drain's failure
      // too; if that races with the loop finding nothing pending, the idle claim picks the batch up).
      this.ownPendingMayExist = true;
      throw err;
    }
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
        const entry = JSON.parse(fields[1] ?? '') as JournalEntry | null;
        if (!entry || typeof entry !== 'object' || typeof entry.callId !== 'string' || typeof entry.type !== 'string') {
          await this.deadLetter(id, fields, 'not a journal entry (no callId or type)');
          continue;
        }
        parsed.push({ id, entry: decodeJournalEntry(entry) }); // either form: entries of an older node may still be here
      } catch (err) {
        await this.deadLetter(id, fields, `unparseable: ${(err as Error).message}`);
      }
    }
    const written: JournalEntry[] = [];
    try {
      await inTransaction(this.pool, (c) => applyBatch(c, parsed.map((p) => p.entry)));
      for (const p of parsed) written.push(p.entry);
    } catch (err) {
      if (!isDataError(err)) throw err; // Postgres down or similar: retry the whole batch later
      // One bad entry must not hold back the rest: write them one by one and set the bad one aside.
      for (const { id, entry } of parsed) {
        try {
          await inTransaction(this.pool, (c) => applyBatch(c, [entry]));
          written.push(entry);
        } catch (e) {
          if (!isDataError(e)) throw e;
          await this.deadLetter(id, ['e', JSON.stringify(entry)], (e as Error).message);
        }
      }
    }
    if (written.length > 0 && this.opts.onCommitted) await this.opts.onCommitted(written);
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


/** SQLSTATE classes 22 (data exception) and 23 (constraint violation): the entry is bad, not the database. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * A named (prepared) statement: Postgres parses and plans each of the recorder's few statements once per connection,
 * not once per batch (planning alone was ~25 us per call at 100 calls/s). Their plans do not depend on the batch's
 * size: each joins its unnest to rows by primary key.
 */
function named(name: string, text: string, values: unknown[]): QueryConfig {
  return { name: `recorder_${name}`, text, values };
}

/** Collects one array per column, for set-based statements over `unnest` (one round trip per kind of entry). */
function columns<E>(entries: readonly E[], pick: ReadonlyArray<(e: E) => unknown>): unknown[][] {
  const cols: unknown[][] = pick.map(() => []);
  for (const e of entries) for (let i = 0; i < pick.length; i++) cols[i]!.push(pick[i]!(e) ?? null);
  return cols;
}

type Decided = Extract<JournalEntry, { type: 'decided' }>;

/**
 * One end per call in a batch (an UPDATE takes an arbitrary one of two source rows for a target row): a real end
 * is kept over a node_lost close, which the sweeper journals when the call's node died before leaving the
 * live-call registry.
 */
function addEnd(ended: Map<string, Ended>, e: Ended): void {
  const had = ended.get(e.callId);
  if (!had || had.endReason === 'node_lost') ended.set(e.callId, e);
}
type Attempt = Extract<JournalEntry, { type: 'attempt' }>;

/** A \u0000 escape not preceded by an escaped backslash: text jsonb cannot hold. */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * The decisions' traces as one JSON array. A trace with a \u0000 in a string is refused as bad data (SQLSTATE
 * 22P05, as jsonb refused it before migration 024): json would store it, but the privacy erasure edits traces as
 * jsonb and would then fail for that number; so the entry goes to the dead-letter stream, as it always did.
 */
function tracesJson(decided: readonly Decided[]): string {
  let out = '[';
  for (let i = 0; i < decided.length; i++) {
    const e = decided[i]!;
    const json = JSON.stringify(e.trace);
    if (json.includes('\\u0000') && NUL_ESCAPE.test(json)) {
      throw Object.assign(new Error(`the decision trace of call ${e.callId} holds a \\u0000, which jsonb cannot store`), { code: '22P05' });
    }
    out += i === 0 ? json : `,${json}`;
  }
  return `${out}]`;
}
type Ended = Extract<JournalEntry, { type: 'ended' }>;

/**
 * Applies a batch of entries with one statement per table and kind instead of several per entry: at hundreds
 * of calls per second the per-statement cost was most of Postgres's CPU. A call new to Postgres is inserted whole
 * (start, decision and end, as far as the batch has them); for calls recorded before, decisions are applied before
 * ends, and each statement is idempotent and order-independent on its own (see the class comment).
 */
async function applyBatch(c: PoolClient, batch: readonly JournalEntry[]): Promise<void> {
  const decided: Decided[] = [];
  const attempts: Attempt[] = [];
  const endedById = new Map<string, Ended>();
  const identities = new Map<string, JournalEntry>();
  for (const e of batch) {
    identities.set(e.callId, e);
    if (e.type === 'decided') decided.push(e);
    else if (e.type === 'attempt') attempts.push(e);
    else if (e.type === 'ended') addEnd(endedById, e);
    else throw Object.assign(new Error(`unknown journal entry type ${(e as { type?: string }).type}`), { code: '22000' });
  }
  const decidedById = new Map(decided.map((e) => [e.callId, e]));
  // Each call of the batch is inserted with what the batch knows of it: its decision and its end too when they are
  // here (a call's start and decision usually travel together; short calls bring their end). Only calls already
  // recorded, by an earlier batch or another node, take the UPDATEs below: one row version per call, not three.
  const { rows: inserted } = await c.query<{ id: string }>(named('insert_calls',
    `INSERT INTO calls (id, direction, ani, dnis, started_at, switch_name, switch_call_id, campaign_id, seller_account_id, attestation,
       zip, lead_id, decided_at, decision_us, outcome, reject_reason, winner_target_id, winner_buyer_id, price_cents, end_reason,
       ended_at, answered_at, bridged_at, hangup_cause, hung_up_by, duration_sec, billable_sec, end_is_lower_bound)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::integer[], $15::text[], $16::text[], $17::text[], $18::text[],
       $19::bigint[], $20::text[], $21::timestamptz[], $22::timestamptz[], $23::timestamptz[], $24::text[], $25::text[], $26::integer[],
       $27::integer[], $28::boolean[])
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    columns(
      [...identities.values()].map((e) => ({ e, d: decidedById.get(e.callId), x: endedById.get(e.callId) })),
      [
        ({ e }) => e.callId, ({ e }) => e.direction, ({ e }) => e.ani, ({ e }) => e.dnis, ({ e }) => e.startedAt, ({ e }) => e.switchName, ({ e }) => e.switchCallId,
        ({ d }) => d?.campaignId, ({ d }) => d?.sellerAccountId, ({ d }) => d?.attestation, ({ d }) => d?.zip, ({ d }) => d?.leadId,
        ({ d }) => d?.decidedAt, ({ d }) => d?.trace.decisionUs,
        // The end is final: its outcome and winner override the decision's (see the ended UPDATE below).
        ({ d, x }) => (x ?? d)?.outcome, ({ d, x }) => (x ?? d)?.rejectReason, ({ d, x }) => (x ?? d)?.winnerTargetId,
        ({ d, x }) => (x ?? d)?.winnerBuyerId, ({ d, x }) => (x ?? d)?.priceCents,
        ({ x }) => x?.endReason, ({ x }) => x?.endedAt, ({ x }) => x?.answeredAt, ({ x }) => x?.bridgedAt, ({ x }) => x?.hangupCause,
        ({ x }) => x?.hungUpBy, ({ x }) => x?.durationSec, ({ x }) => x?.billableSec, ({ x }) => x?.endIsLowerBound === true,
      ],
    ),
  ));
  const fresh = new Set(inserted.map((r) => r.id));
  const toDecide = decided.filter((e) => !fresh.has(e.callId));
  const ended = [...endedById.values()].filter((e) => !fresh.has(e.callId));
  if (toDecide.length > 0) {
    await c.query(named('decide_calls',
      `UPDATE calls SET campaign_id = d.campaign_id, seller_account_id = d.seller_account_id, attestation = d.attestation,
         zip = d.zip, lead_id = d.lead_id,
         outcome = CASE WHEN calls.ended_at IS NULL THEN d.outcome ELSE calls.outcome END,
         reject_reason = CASE WHEN calls.ended_at IS NULL THEN d.reject_reason ELSE calls.reject_reason END,
         winner_target_id = CASE WHEN calls.ended_at IS NULL THEN d.winner_target_id ELSE calls.winner_target_id END,
         winner_buyer_id = CASE WHEN calls.ended_at IS NULL THEN d.winner_buyer_id ELSE calls.winner_buyer_id END,
         price_cents = CASE WHEN calls.ended_at IS NULL THEN d.price_cents ELSE calls.price_cents END,
         decided_at = d.decided_at, decision_us = d.decision_us
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::bigint[], $12::timestamptz[], $13::integer[])
         AS d(id, campaign_id, seller_account_id, attestation, zip, lead_id, outcome, reject_reason, winner_target_id,
              winner_buyer_id, price_cents, decided_at, decision_us)
       WHERE calls.id = d.id`,
      columns(toDecide, [
        (e) => e.callId, (e) => e.campaignId, (e) => e.sellerAccountId, (e) => e.attestation, (e) => e.zip, (e) => e.leadId,
        (e) => e.outcome, (e) => e.rejectReason, (e) => e.winnerTargetId, (e) => e.winnerBuyerId, (e) => e.priceCents,
        (e) => e.decidedAt, (e) => e.trace.decisionUs,
      ]),
    ));
  }
  if (decided.length > 0) {
    // The traces go as one JSON array, not as a text[] whose every quote pg would escape in JS (a 4 KB trace is
    // mostly quotes); json_array_elements hands each element's text on unchanged, matched to its call by position.
    await c.query(named('insert_decisions',
      `INSERT INTO call_decisions (call_id, decided_at, trace)
       SELECT d.call_id, d.decided_at, t.trace
       FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS d(call_id, decided_at, n)
         JOIN json_array_elements($3::json) WITH ORDINALITY AS t(trace, n) USING (n)
       ON CONFLICT (call_id) DO NOTHING`,
      [...columns(decided, [(e) => e.callId, (e) => e.decidedAt]), tracesJson(decided)],
    ));
    // A call that claimed a seller's bid: the bid names its call (once; a replayed entry changes nothing).
    const claims = decided.filter((e) => e.trace.sellerBid);
    if (claims.length > 0) {
      await c.query(named('claim_seller_bids',
        `UPDATE rtb_seller_bids b SET claimed_call_id = d.call_id, claimed_at = d.decided_at
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS d(bid_id, call_id, decided_at)
         WHERE b.id = d.bid_id AND b.claimed_call_id IS NULL`,
        columns(claims, [(e) => e.trace.sellerBid!.bidId, (e) => e.callId, (e) => e.decidedAt]),
      ));
    }
    const audited = decided.filter((e) => e.audit);
    if (audited.length > 0) {
      await c.query(named('insert_audit',
        `INSERT INTO compliance_audit_log (call_id, campaign_id, ani, decision, reasons, checked_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[])
         ON CONFLICT (call_id) DO NOTHING`,
        // An entry without the audit's reasons or time audits the trace's screening checks at the decision time.
        columns(audited, [(e) => e.callId, (e) => e.campaignId, (e) => e.ani, (e) => e.audit!.decision, (e) => JSON.stringify(e.audit!.reasons ?? e.trace.screening?.checks ?? []), (e) => e.audit!.checkedAt ?? e.decidedAt]),
      ));
    }
  }
  if (attempts.length > 0) {
    await c.query(named('insert_attempts',
      `INSERT INTO bridge_attempts (call_id, attempt_no, target_id, buyer_id, destination, started_at, ended_at, status, cause)
       SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[])
       ON CONFLICT (call_id, attempt_no) DO NOTHING`,
      columns(attempts, [
        (e) => e.callId, (e) => e.attemptNo, (e) => e.targetId, (e) => e.buyerAccountId, (e) => e.destination,
        (e) => e.attemptStartedAt, (e) => e.attemptEndedAt, (e) => e.status, (e) => e.cause,
      ]),
    ));
  }
  if (ended.length > 0) {
    // The end is final: it overrides the decision's outcome and winner (failover may have moved the call
    // to another buyer, or no buyer took it), whichever of the two entries is applied first.
    await c.query(named('end_calls',
      `UPDATE calls SET outcome = d.outcome, end_reason = d.end_reason, ended_at = d.ended_at, answered_at = d.answered_at,
         bridged_at = d.bridged_at, hangup_cause = d.hangup_cause, hung_up_by = d.hung_up_by, duration_sec = d.duration_sec,
         billable_sec = d.billable_sec, winner_target_id = d.winner_target_id, winner_buyer_id = d.winner_buyer_id,
         price_cents = d.price_cents, reject_reason = d.reject_reason, end_is_lower_bound = d.end_is_lower_bound
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[],
                   $9::integer[], $10::integer[], $11::text[], $12::text[], $13::bigint[], $14::text[], $15::boolean[])
         AS d(id, outcome, end_reason, ended_at, answered_at, bridged_at, hangup_cause, hung_up_by, duration_sec, billable_sec,
              winner_target_id, winner_buyer_id, price_cents, reject_reason, end_is_lower_bound)
       WHERE calls.id = d.id
         -- A node_lost close (the sweeper found no call on the switch) never replaces a real end: the node that
         -- journaled the real end may have died before removing the call from the live-call registry.
         AND (d.end_reason IS DISTINCT FROM 'node_lost' OR calls.ended_at IS NULL OR calls.end_reason = 'node_lost')`,
      columns(ended, [
        (e) => e.callId, (e) => e.outcome, (e) => e.endReason, (e) => e.endedAt, (e) => e.answeredAt, (e) => e.bridgedAt,
        (e) => e.hangupCause, (e) => e.hungUpBy, (e) => e.durationSec, (e) => e.billableSec, (e) => e.winnerTargetId,
        (e) => e.winnerBuyerId, (e) => e.priceCents, (e) => e.rejectReason, (e) => e.endIsLowerBound === true,
      ]),
    ));
  }
}
