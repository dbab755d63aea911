/**
 * Ended calls that billing has not settled (no call_billing row), for the billing sweep (app/jobs/billing-sweep.ts).
 * Reads calls by ended_at through calls_ended (migrations/025): a sweep reads the calls that ended in its window,
 * in pages, each checked against call_billing's primary key.
 */
import type { Pool } from 'pg';

export interface UnbilledCall {
  callId: string;
  endedAt: Date;
}

/** Where a page starts: after this (ended_at, id), in that order. */
export type UnbilledCursor = { endedAt: Date; callId: string };

/**
 * Up to `limit` calls that ended in [from, to) and have no call_billing row, in (ended_at, id) order, after
 * `after` when given (keyset paging: the next page starts where the last one stopped).
 */
export async function unbilledCallsPage(pool: Pool, w: { from: Date; to: Date; after?: UnbilledCursor; limit: number }): Promise<UnbilledCall[]> {
  const { rows } = await pool.query(
    `SELECT c.id, c.ended_at FROM calls c
     WHERE c.ended_at >= $1 AND c.ended_at < $2 AND c.ended_at IS NOT NULL
       AND ($3::timestamptz IS NULL OR (c.ended_at, c.id) > ($3::timestamptz, $4::text))
       AND NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = c.id)
     ORDER BY c.ended_at, c.id LIMIT $5`,
    [w.from, w.to, w.after?.endedAt ?? null, w.after?.callId ?? null, w.limit],
  );
  return rows.map((r) => ({ callId: r.id as string, endedAt: r.ended_at as Date }));
}

/** Of these calls, the ones billed by now. */
export async function billedAmong(pool: Pool, callIds: readonly string[]): Promise<string[]> {
  if (callIds.length === 0) return [];
  const { rows } = await pool.query('SELECT call_id FROM call_billing WHERE call_id = ANY($1::text[])', [callIds]);
  return rows.map((r) => r.call_id as string);
}
