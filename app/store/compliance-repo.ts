import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { complianceKeys, COMPLIANCE_LOADED_KEY } from '../cache/compliance-keys';
import type { RegistryKind } from '../domain/lists';
import { copyListId, currentRegistryCopies, registryMetaValue } from './registry-copies';
import { loadListsCache, refreshConsentSince } from './lists-repo';

/**
 * Writers of the compliance lists. Postgres is the record of truth; Redis holds the copy screening reads.
 * Every writer commits to Postgres first, then updates Redis, so a failure leaves Redis at worst behind
 * Postgres, and `loadComplianceCache` (run at start-up when Redis lost its copy) puts it right.
 */
/** `registry-copy:<kind>:<generation>`: a national registry copy's numbers (registry-copies.ts). */
export type DncListId = 'global' | 'registry' | `campaign:${string}` | `registry-copy:${RegistryKind}:${string}`;

/** Where a list lives in Redis; a registry copy is written under its loading key, then renamed when complete. */
const redisKeyForList = (listId: DncListId): string => {
  if (listId === 'global') return complianceKeys.dncGlobal;
  if (listId === 'registry') return complianceKeys.dncRegistry;
  if (listId.startsWith('registry-copy:')) {
    const [, kind, generation] = listId.split(':') as [string, RegistryKind, string];
    return complianceKeys.nationalLoading(kind, generation);
  }
  return complianceKeys.dncCampaign(listId.slice('campaign:'.length));
};

/**
 * Adds numbers to a DNC list (a number already on it stays as it was). With `expectNew`, the rows are first
 * inserted plainly and only a duplicate (unique violation) makes the batch go again with ON CONFLICT DO NOTHING:
 * ON CONFLICT's speculative insertion costs Postgres about as much again per row, and a bulk import of a new
 * list rarely meets a number twice. Returns whether the batch met numbers already listed, and how many it added.
 */
export async function addDncNumbers(pool: Pool, redis: Redis, listId: DncListId, numbers: string[], source: string, opts: { expectNew?: boolean } = {}): Promise<{ hadDuplicates: boolean; added: number }> {
  if (numbers.length === 0) return { hadDuplicates: false, added: 0 };
  if (numbers.some((x) => x.includes(','))) throw new Error('a DNC number may not contain a comma (numbers are E.164)');
  // The numbers as one comma-joined text (E.164 has no commas): cheaper to send and to split than a text[] literal.
  const insert = `INSERT INTO dnc_entries (list_id, number, source) SELECT $1, unnest(string_to_array($2, ',')), $3`;
  const params = [listId, numbers.join(','), source];
  let hadDuplicates = false;
  let inserted = false;
  let added = numbers.length;
  if (opts.expectNew) {
    try {
      await pool.query(insert, params);
      inserted = true;
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
    }
  }
  if (!inserted) {
    const { rowCount } = await pool.query(`${insert} ON CONFLICT DO NOTHING`, params);
    added = rowCount ?? 0;
    hadDuplicates = added < numbers.length;
  }
  await redis.sadd(redisKeyForList(listId), ...numbers);
  return { hadDuplicates, added };
}

export async function removeDncNumber(pool: Pool, redis: Redis, listId: DncListId, number: string): Promise<void> {
  await pool.query('DELETE FROM dnc_entries WHERE list_id = $1 AND number = $2', [listId, number]);
  await redis.srem(redisKeyForList(listId), number);
}

export async function blockNumber(pool: Pool, redis: Redis, number: string, reason: string): Promise<void> {
  await pool.query('INSERT INTO blocked_numbers (number, reason) VALUES ($1, $2) ON CONFLICT (number) DO UPDATE SET reason = EXCLUDED.reason', [number, reason]);
  await redis.sadd(complianceKeys.blocked, number);
}

/** Records a consent (Postgres, then the Redis set screening reads); returns the record's id. */
export async function recordConsent(pool: Pool, redis: Redis, c: { campaignId: string; number: string; leadId: string; source: string; consentedAt: Date }): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO consent_records (campaign_id, number, lead_id, source, consented_at) VALUES ($1,$2,$3,$4,$5) RETURNING id::text AS id',
    [c.campaignId, c.number, c.leadId, c.source, c.consentedAt],
  );
  await redis.sadd(complianceKeys.consent(c.campaignId), c.number);
  await refreshConsentSince(pool, redis, c.campaignId, c.number);
  return rows[0]!.id;
}

/**
 * Revokes a consent record. The number leaves the campaign's consent set only when no other live record for
 * it remains (a lead may have consented twice). Returns the revoked record's campaign and number, or undefined
 * when there is no such live record.
 */
export async function revokeConsent(pool: Pool, redis: Redis, id: string): Promise<{ campaignId: string; number: string } | undefined> {
  const { rows } = await pool.query<{ campaign_id: string; number: string; live: boolean }>(
    `WITH r AS (UPDATE consent_records SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING campaign_id, number)
     SELECT r.campaign_id, r.number,
            EXISTS (SELECT 1 FROM consent_records o WHERE o.campaign_id = r.campaign_id AND o.number = r.number AND o.revoked_at IS NULL AND o.id <> $1) AS live
     FROM r`,
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  if (!r.live) await redis.srem(complianceKeys.consent(r.campaign_id), r.number);
  await refreshConsentSince(pool, redis, r.campaign_id, r.number);
  return { campaignId: r.campaign_id, number: r.number };
}

/**
 * Rebuilds the Redis copy of every compliance list from Postgres, in pages, then sets the marker that
 * screening checks. Until the marker is there, screening refuses calls rather than miss a DNC entry.
 */
export async function loadComplianceCache(pool: Pool, redis: Redis, pageSize = 50_000): Promise<{ dnc: number; blocked: number; consent: number; reassigned: number; litigators: number }> {
  const counts = { dnc: 0, blocked: 0, consent: 0, reassigned: 0, litigators: 0 };
  // A registry copy goes to its registry's key only if it is the current one (a replaced copy's rows may still be
  // being deleted; a loading one is renamed in when complete).
  const copies = await currentRegistryCopies(pool);
  const copyKeys = new Map<string, string>(copies.map((c) => [copyListId(c), complianceKeys.national(c.kind)]));
  let after: [string, string] = ['', ''];
  for (;;) {
    const { rows } = await pool.query<{ list_id: DncListId; number: string }>(
      'SELECT list_id, number FROM dnc_entries WHERE (list_id, number) > ($1, $2) ORDER BY list_id, number LIMIT $3',
      [after[0], after[1], pageSize],
    );
    if (rows.length === 0) break;
    const byKey = new Map<string, string[]>();
    for (const r of rows) {
      const key = r.list_id.startsWith('registry-copy:') ? copyKeys.get(r.list_id) : redisKeyForList(r.list_id);
      if (!key) continue;
      const list = byKey.get(key);
      if (list) list.push(r.number);
      else byKey.set(key, [r.number]);
    }
    for (const [key, numbers] of byKey) await redis.sadd(key, ...numbers);
    counts.dnc += rows.length;
    const last = rows[rows.length - 1]!;
    after = [last.list_id, last.number];
  }
  const blocked = await pool.query<{ number: string }>('SELECT number FROM blocked_numbers');
  if (blocked.rows.length) await redis.sadd(complianceKeys.blocked, ...blocked.rows.map((r) => r.number));
  counts.blocked = blocked.rows.length;
  const consent = await pool.query<{ campaign_id: string; number: string }>('SELECT DISTINCT campaign_id, number FROM consent_records WHERE revoked_at IS NULL');
  for (const r of consent.rows) await redis.sadd(complianceKeys.consent(r.campaign_id), r.number);
  counts.consent = consent.rows.length;
  for (const c of copies) await redis.hset(complianceKeys.nationalMeta, c.kind, registryMetaValue(c));
  Object.assign(counts, await loadListsCache(pool, redis));
  await redis.set(COMPLIANCE_LOADED_KEY, new Date().toISOString());
  return counts;
}
