/**
 * Writers of the Reassigned Numbers Database results and the litigator lists (issue 14, features 4 and 5), and
 * the consent times the reassignment check compares against. Postgres first, then the Redis copy screening reads
 * (compliance-keys.ts); loadListsCache rebuilds that copy.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { complianceKeys } from '../cache/compliance-keys';

const dayMs = (yyyyMmDd: string): number => Date.parse(`${yyyyMmDd}T00:00:00Z`);
const PAGE = 10_000;

export interface RndResult {
  number: string;
  /** YYYY-MM-DD: the last permanent disconnection the RND reports */
  disconnectedOn: string;
}

/**
 * Records RND results. A number keeps its latest disconnection: an older result imported later does not undo a
 * newer one. Returns how many rows changed.
 */
export async function recordRndResults(pool: Pool, redis: Redis, given: RndResult[], source: string): Promise<number> {
  // One row per number (its latest date): an upsert may not touch a row twice.
  const latest = new Map<string, string>();
  for (const r of given) if ((latest.get(r.number) ?? '') < r.disconnectedOn) latest.set(r.number, r.disconnectedOn);
  const results = [...latest].map(([number, disconnectedOn]) => ({ number, disconnectedOn }));
  if (results.length === 0) return 0;
  const { rows } = await pool.query<{ number: string; disconnected_on: string }>(
    `INSERT INTO reassigned_numbers (number, disconnected_on, source)
     SELECT * FROM unnest($1::text[], $2::date[], array_fill($3::text, ARRAY[cardinality($1::text[])]))
     ON CONFLICT (number) DO UPDATE SET disconnected_on = EXCLUDED.disconnected_on, source = EXCLUDED.source, recorded_at = now()
       WHERE reassigned_numbers.disconnected_on < EXCLUDED.disconnected_on
     RETURNING number, to_char(disconnected_on, 'YYYY-MM-DD') AS disconnected_on`,
    [results.map((r) => r.number), results.map((r) => r.disconnectedOn), source],
  );
  if (rows.length) await redis.hset(complianceKeys.reassigned, ...rows.flatMap((r) => [r.number, String(dayMs(r.disconnected_on))]));
  return rows.length;
}

/** Adds numbers to a litigator list (source) as of `listedOn`; a number already on that source's list is re-dated. */
export async function addLitigators(pool: Pool, redis: Redis, numbers: string[], source: string, listedOn: string): Promise<number> {
  if (numbers.length === 0) return 0;
  const { rowCount } = await pool.query(
    `INSERT INTO litigator_numbers (number, source, listed_on) SELECT unnest($1::text[]), $2, $3
     ON CONFLICT (number, source) DO UPDATE SET listed_on = EXCLUDED.listed_on`,
    [numbers, source, listedOn],
  );
  await redis.sadd(complianceKeys.litigators, ...numbers);
  return rowCount ?? 0;
}

/** A number's entries on the litigator lists: each source and the date it listed the number. */
export async function litigatorEntries(pool: Pool, number: string): Promise<Array<{ source: string; listedOn: string }>> {
  const { rows } = await pool.query<{ source: string; listed_on: string }>(
    `SELECT source, to_char(listed_on, 'YYYY-MM-DD') AS listed_on FROM litigator_numbers WHERE number = $1 ORDER BY source`,
    [number],
  );
  return rows.map((r) => ({ source: r.source, listedOn: r.listed_on }));
}

/**
 * Takes a number off one source's list (or every list when no source is named). It stays blocked while another
 * source still lists it. Returns the sources still listing it.
 */
export async function removeLitigator(pool: Pool, redis: Redis, number: string, source?: string): Promise<string[]> {
  await pool.query('DELETE FROM litigator_numbers WHERE number = $1 AND ($2::text IS NULL OR source = $2)', [number, source ?? null]);
  const left = (await litigatorEntries(pool, number)).map((e) => e.source);
  if (left.length === 0) await redis.srem(complianceKeys.litigators, number);
  return left;
}

/**
 * Writes the latest live (unrevoked, unexpired: the consent screening admits by) consent's time for a campaign and
 * number to Redis (or removes it when none is live):
 * call after every consent write, so screening compares the RND's date with the consent it relies on.
 */
export async function refreshConsentSince(pool: Pool, redis: Redis, campaignId: string, number: string): Promise<void> {
  const { rows } = await pool.query<{ at: Date | null }>(
    'SELECT max(consented_at) AS at FROM consent_records WHERE campaign_id = $1 AND number = $2 AND revoked_at IS NULL AND expires_at > now()',
    [campaignId, number],
  );
  const at = rows[0]?.at;
  if (at) await redis.hset(complianceKeys.consentSince(campaignId), number, String(at.getTime()));
  else await redis.hdel(complianceKeys.consentSince(campaignId), number);
}

/** Copies the RND results, the litigator lists and the consent times into Redis (part of loadComplianceCache). */
export async function loadListsCache(pool: Pool, redis: Redis): Promise<{ reassigned: number; litigators: number }> {
  let reassigned = 0;
  for (let after = ''; ;) {
    const { rows } = await pool.query<{ number: string; ms: string }>(
      `SELECT number, (extract(epoch FROM disconnected_on::timestamp) * 1000)::bigint AS ms FROM reassigned_numbers WHERE number > $1 ORDER BY number LIMIT $2`,
      [after, PAGE],
    );
    if (rows.length === 0) break;
    await redis.hset(complianceKeys.reassigned, ...rows.flatMap((r) => [r.number, r.ms]));
    reassigned += rows.length;
    after = rows[rows.length - 1]!.number;
  }
  let litigators = 0;
  for (let after = ''; ;) {
    const { rows } = await pool.query<{ number: string }>('SELECT DISTINCT number FROM litigator_numbers WHERE number > $1 ORDER BY number LIMIT $2', [after, PAGE]);
    if (rows.length === 0) break;
    await redis.sadd(complianceKeys.litigators, ...rows.map((r) => r.number));
    litigators += rows.length;
    after = rows[rows.length - 1]!.number;
  }
  const since = await pool.query<{ campaign_id: string; number: string; ms: string }>(
    `SELECT campaign_id, number, (extract(epoch FROM max(consented_at)) * 1000)::bigint AS ms FROM consent_records WHERE revoked_at IS NULL AND expires_at > now() GROUP BY campaign_id, number`,
  );
  for (const r of since.rows) await redis.hset(complianceKeys.consentSince(r.campaign_id), r.number, r.ms);
  return { reassigned, litigators };
}
