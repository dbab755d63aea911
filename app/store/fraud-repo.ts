/**
 * Fraud in Postgres: the facts a call is scored on, its stored score, and the blocks and pauses it leads to,
 * each with an audit row in fraud_actions. Blocking reuses the compliance block list that screening reads.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { FraudFacts, FraudScore } from '../domain/fraud';
import { parseCaller } from '../domain/phone';
import { complianceKeys } from '../cache/compliance-keys';
import { blockNumber } from './compliance-repo';
import { preparedJsonQuery } from './pg-rows';

export interface ScoredCall {
  callId: string;
  dnis: string;
  sellerAccountId: string | null;
  /** when the call started (the seller's hour is counted back from it) */
  startedAtMs?: number;
  facts: FraudFacts;
}

/** One (call, stage) a fraud job asks to score, as loaded: its facts, or why there are none to score. */
export type FraudFactsRow =
  | { state: 'scored' }
  | { state: 'not_recorded' }
  | { state: 'to_score'; call: ScoredCall };

/**
 * The facts for many (call, stage) pairs in one statement, keyed `callId/stage`, with windows measured back from each
 * call's start: `scored` when the pair has a stored score (a repeated job), `not_recorded` when the call is not in
 * Postgres yet (or, for the ended stage, not ended yet). One statement per job instead of three per call (load,
 * score lookup, insert): the per-call statements were most of Postgres's work per call. The caller's windows are
 * counted in one walk of its day (they were four), and not at all for a pair already scored.
 * The seller's hour (sellerCallsLastHour, sellerShortCallsLastHour) is not here: the fraud worker counts it in
 * Redis (app/cache/seller-call-windows.ts), since counting it here walked every call of the seller's hour.
 */
export async function loadFraudFacts(pool: Pool, items: ReadonlyArray<{ callId: string; stage: 'screening' | 'ended' }>): Promise<Map<string, FraudFactsRow>> {
  const { rows } = await pool.query<FactsRow>({
    // Named (prepared once per connection, as the recorder's statements): planning this statement cost about as
    // much as running it. Its plan does not depend on the job's size (one index probe per item, see below).
    name: 'fraud_load_facts',
    // Each item is looked up by its keys (the OFFSET 0 keeps the lookup a per-item index probe: joined or hashed, the
    // planner may read all of calls and fraud_scores when their statistics are stale or the tables still small).
    text: `SELECT i.call_id, i.stage, c.scored, c.id IS NOT NULL AS recorded, c.ani, c.dnis, c.seller_account_id, c.attestation,
       floor(extract(epoch FROM c.started_at) * 1000)::float8 AS started_ms, c.ended, c.billable_sec, c.bridged, w.per_minute, w.per_hour, w.per_day, w.sellers
     FROM unnest($1::text[], $2::text[]) AS i(call_id, stage)
     LEFT JOIN LATERAL (
       SELECT c.id, c.ani, c.dnis, c.seller_account_id, c.attestation, c.started_at, (c.ended_at IS NOT NULL) AS ended, c.billable_sec, (c.bridged_at IS NOT NULL) AS bridged,
         coalesce((SELECT true FROM fraud_scores f WHERE f.call_id = c.id AND f.stage = i.stage), false) AS scored
       FROM calls c WHERE c.id = i.call_id OFFSET 0) c ON true
     LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE x.started_at > c.started_at - interval '1 minute')::int AS per_minute,
              count(*) FILTER (WHERE x.started_at > c.started_at - interval '1 hour')::int AS per_hour,
              count(*)::int AS per_day,
              count(DISTINCT x.seller_account_id)::int AS sellers
       FROM calls x WHERE x.ani = c.ani AND x.started_at > c.started_at - interval '1 day' AND x.started_at <= c.started_at) w ON NOT c.scored`,
    values: [items.map((i) => i.callId), items.map((i) => i.stage)],
  });
  const out = new Map<string, FraudFactsRow>();
  for (const r of rows) {
    const stage = r.stage as 'screening' | 'ended';
    const key = fraudKey(r.call_id, stage);
    if (r.scored) out.set(key, { state: 'scored' });
    else if (!r.recorded || (stage === 'ended' && !r.ended)) out.set(key, { state: 'not_recorded' });
    else out.set(key, { state: 'to_score', call: scoredCall(r, stage) });
  }
  return out;
}

export const fraudKey = (callId: string, stage: string): string => `${callId}/${stage}`;

interface FactsRow {
  call_id: string;
  stage: string;
  scored: boolean | null;
  recorded: boolean;
  ani: string;
  dnis: string;
  seller_account_id: string | null;
  attestation: 'A' | 'B' | 'C' | null;
  /** the start in epoch milliseconds, and whether the call has ended: no timestamps to parse into Dates per row */
  started_ms: number;
  ended: boolean | null;
  billable_sec: number | null;
  bridged: boolean;
  per_minute: number;
  per_hour: number;
  per_day: number;
  sellers: number;
}

function scoredCall(r: FactsRow, stage: 'screening' | 'ended'): ScoredCall {
  const facts: FraudFacts = {
    stage,
    ani: r.ani,
    dnis: r.dnis,
    aniValid: parseCaller(r.ani).ok,
    callsLastMinute: r.per_minute,
    callsLastHour: r.per_hour,
    callsLastDay: r.per_day,
    sellersLastDay: r.sellers,
  };
  if (r.attestation) facts.attestation = r.attestation;
  if (stage === 'ended') {
    facts.bridged = r.bridged;
    facts.billableSec = r.billable_sec ?? 0;
  }
  return { callId: r.call_id, dnis: r.dnis, sellerAccountId: r.seller_account_id, startedAtMs: r.started_ms, facts };
}

/** Stores the scores of many calls in one statement, each once per (call, stage): a repeated job's rows change nothing. */
export async function saveFraudScores(pool: Pool, scored: ReadonlyArray<{ call: ScoredCall; score: FraudScore }>): Promise<void> {
  if (scored.length === 0) return;
  await pool.query({
    name: 'fraud_save_scores',
    text: `INSERT INTO fraud_scores (call_id, stage, ani, seller_account_id, score, reasons, action)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::jsonb[], $7::text[])
     ON CONFLICT (call_id, stage) DO NOTHING`,
    values: [
      scored.map((s) => s.call.callId), scored.map((s) => s.call.facts.stage), scored.map((s) => s.call.facts.ani), scored.map((s) => s.call.sellerAccountId),
      scored.map((s) => s.score.score), scored.map((s) => JSON.stringify(s.score.reasons)), scored.map((s) => s.score.action),
    ],
  });
}

/**
 * Blocks the caller unless it already is (then nothing is written: one audit row per block). The block and its
 * audit row are one statement, so two jobs scoring the same caller at once (a call's screening and its end) cannot
 * both write a row, and the loser returns only after the winner's row is committed.
 */
export async function blockCaller(pool: Pool, redis: Redis, call: ScoredCall, score: FraudScore): Promise<boolean> {
  const { rowCount } = await pool.query(
    `WITH b AS (INSERT INTO blocked_numbers (number, reason) VALUES ($1, $2) ON CONFLICT (number) DO NOTHING RETURNING number)
     INSERT INTO fraud_actions (action, subject, call_id, score, reasons) SELECT 'block_caller', number, $3, $4, $5 FROM b`,
    [call.facts.ani, `fraud: ${score.reasons.join(', ')} (score ${score.score})`, call.callId, score.score, JSON.stringify(score.reasons)],
  );
  // The screening set, whoever blocked: a job retried after a failure here must still get the number into it.
  await redis.sadd(complianceKeys.blocked, call.facts.ani);
  return rowCount === 1;
}

/** Pauses the tracking number the call came in on; the caller must publish a config change afterwards. */
export async function pauseNumber(pool: Pool, call: ScoredCall, score: FraudScore): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE tracking_numbers SET active = false WHERE did = $1 AND active', [call.dnis]);
  if (rowCount === 0) return false;
  await pool.query('INSERT INTO fraud_actions (action, subject, call_id, score, reasons) VALUES ($1, $2, $3, $4, $5)', ['pause_number', call.dnis, call.callId, score.score, JSON.stringify(score.reasons)]);
  return true;
}

/** An operator blocks a caller by hand (abuse reports, chargebacks); audited with the key that did it. */
export async function blockByOperator(pool: Pool, redis: Redis, number: string, reason: string, actor: string): Promise<void> {
  await blockNumber(pool, redis, number, reason);
  await pool.query("INSERT INTO fraud_actions (action, subject, actor, reasons) VALUES ('block_caller', $1, $2, $3)", [number, actor, JSON.stringify([reason])]);
}

/** Lifts a block on a caller number (whatever set it), with an audit row naming who lifted it. */
export async function liftBlock(pool: Pool, redis: Redis, number: string, actor: string): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM blocked_numbers WHERE number = $1', [number]);
  await redis.srem(complianceKeys.blocked, number);
  if (rowCount === 0) return false;
  await pool.query("INSERT INTO fraud_actions (action, subject, actor) VALUES ('lift_block', $1, $2)", [number, actor]);
  return true;
}

export interface BlockRow {
  number: string;
  reason: string;
  /** ISO 8601 text at full precision (the list's cursor is built from it) */
  addedAt: string;
}

/**
 * Blocked callers, newest first, `limit` at a time: `after` is the (addedAt, number) of the previous page's last
 * row. With `number`, at most that one block.
 */
export async function listBlocks(pool: Pool, opts: { limit?: number; after?: [string, string]; number?: string } = {}): Promise<BlockRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (opts.number !== undefined) {
    params.push(opts.number);
    where.push(`number = $${params.length}`);
  }
  if (opts.after) {
    params.push(opts.after[0], opts.after[1]);
    where.push(`(added_at, number) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(opts.limit ?? 1000);
  const { rows } = await pool.query<{ number: string; reason: string; added_at: string }>(
    preparedJsonQuery(
      `SELECT number, reason, added_at FROM blocked_numbers ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY added_at DESC, number DESC LIMIT $${params.length}`,
      params,
    ),
  );
  return rows.map((r) => ({ number: r.number, reason: r.reason, addedAt: r.added_at }));
}

/**
 * Resumes a tracking number that fraud paused, with an audit row naming who resumed it and why; false when the
 * number is not paused by fraud (active, unknown, or its last fraud action is already a resume). The resume and
 * its audit row are one statement, so two admins resuming at once write one row. The caller must publish a
 * config change afterwards (every node routes the number again at its next snapshot).
 */
export async function resumeNumber(pool: Pool, did: string, actor: string, reason: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `WITH r AS (
       UPDATE tracking_numbers SET active = true WHERE did = $1 AND NOT active
         AND (SELECT action FROM fraud_actions WHERE subject = $1 AND action IN ('pause_number', 'resume_number') ORDER BY id DESC LIMIT 1) = 'pause_number'
       RETURNING did)
     INSERT INTO fraud_actions (action, subject, actor, reasons) SELECT 'resume_number', did, $2, $3 FROM r`,
    [did, actor, JSON.stringify([reason])],
  );
  return rowCount === 1;
}

export interface PausedNumber {
  did: string;
  campaignId: string;
  sellerAccountId: string;
  /** the call whose score paused it, and the score's reasons */
  callId: string | null;
  reasons: string[];
  pausedAt: string;
}

/** Tracking numbers paused by fraud and not resumed since, most recently paused first. */
export async function listPausedNumbers(pool: Pool, limit = 1000): Promise<PausedNumber[]> {
  const { rows } = await pool.query(
    preparedJsonQuery(
      `SELECT t.did, t.campaign_id, t.seller_account_id, a.call_id, a.reasons, a.created_at
       FROM tracking_numbers t
       JOIN LATERAL (SELECT action, call_id, reasons, created_at FROM fraud_actions f
                     WHERE f.subject = t.did AND f.action IN ('pause_number', 'resume_number') ORDER BY f.id DESC LIMIT 1) a ON a.action = 'pause_number'
       WHERE NOT t.active ORDER BY a.created_at DESC, t.did LIMIT $1`,
      [limit],
    ),
  );
  return rows.map((r) => ({ did: r.did, campaignId: r.campaign_id, sellerAccountId: r.seller_account_id, callId: r.call_id, reasons: r.reasons ?? [], pausedAt: r.created_at }));
}
