/**
 * Standing-bid updates, from REST or socket.io: checked against the caller's account, written to Postgres in one
 * statement per batch, then published so every node's next auction uses them (SnapshotSource applies them
 * without a reload).
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ApiPrincipal } from './api-keys';
import { publishBids } from '../exchange/snapshot-source';

export const BidUpdate = z.object({ targetId: z.string().min(1).max(100), bidCents: z.number().int().min(0).max(100_000_000) }).strict();
export type BidUpdate = z.infer<typeof BidUpdate>;
export const BID_BATCH_MAX = 5000;

export type BidResult = { targetId: string; ok: true; bidCents: number } | { targetId: string; ok: false; error: 'not_found' | 'duplicate_in_batch' };

export async function updateBids(pool: Pool, redis: Redis, redisPrefix: string, principal: ApiPrincipal, updates: readonly BidUpdate[]): Promise<BidResult[]> {
  if (updates.length === 0) return [];
  const firsts = new Map<string, number>();
  updates.forEach((u, i) => {
    if (!firsts.has(u.targetId)) firsts.set(u.targetId, i);
  });
  const unique = updates.filter((u, i) => firsts.get(u.targetId) === i);
  // One statement: only the buyer's own targets (admins: any), rows locked in id order so that batches touching
  // the same targets wait for each other instead of deadlocking; a target not returned is missing or not theirs.
  const { rows } = await pool.query<{ id: string }>(
    `WITH locked AS (
       SELECT t.id FROM buyer_targets t JOIN unnest($1::text[]) AS u(id) USING (id)
       WHERE $3::text IS NULL OR t.buyer_account_id = $3 ORDER BY t.id FOR NO KEY UPDATE OF t
     )
     UPDATE buyer_targets t SET bid_cents = u.bid, updated_at = now()
     FROM unnest($1::text[], $2::bigint[]) AS u(id, bid)
     WHERE t.id = u.id AND t.id IN (SELECT id FROM locked)
     RETURNING t.id`,
    [unique.map((u) => u.targetId), unique.map((u) => u.bidCents), principal.role === 'admin' ? null : principal.accountId ?? ''],
  );
  const applied = new Set(rows.map((r) => r.id));
  const results: BidResult[] = updates.map((u, i): BidResult => {
    if (firsts.get(u.targetId) !== i) return { targetId: u.targetId, ok: false, error: 'duplicate_in_batch' };
    return applied.has(u.targetId) ? { targetId: u.targetId, ok: true, bidCents: u.bidCents } : { targetId: u.targetId, ok: false, error: 'not_found' };
  });
  await publishBids(redis, redisPrefix, new Map(unique.filter((u) => applied.has(u.targetId)).map((u) => [u.targetId, u.bidCents])));
  return results;
}
