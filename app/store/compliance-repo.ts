import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { complianceKeys, COMPLIANCE_LOADED_KEY, LEGACY_CONSENT_PATTERN } from '../cache/compliance-keys';
import { consentExpiry, DEFAULT_CONSENT_VALIDITY_DAYS, type CertificateKind, type RevocationChannel } from '../domain/consent';
import type { RegistryKind } from '../domain/lists';
import { inTransaction } from './db';
import { copyListId, currentRegistryCopies, registryMetaValue } from './registry-copies';
import { loadListsCache, refreshConsentSince } from './lists-repo';

/**
 * Writers of the compliance lists. Postgres is the record of truth; Redis holds the copy screening reads.
 * Every writer commits to Postgres first, then updates Redis, so a failure leaves Redis at worst behind
 * Postgres, and `loadComplianceCache` (run at start-up when Redis lost its copy) puts it right.
 */
/**
 * `seller:<id>`: a seller's internal DNC list, written by consent revocations (binds that seller's outbound calls).
 * `registry-copy:<kind>:<generation>`: a national registry copy's numbers (registry-copies.ts).
 */
export type DncListId = 'global' | 'registry' | `campaign:${string}` | `seller:${string}` | `registry-copy:${RegistryKind}:${string}`;

/** Where a list lives in Redis; a registry copy is written under its loading key, then renamed when complete. */
export const redisKeyForList = (listId: DncListId): string => {
  if (listId === 'global') return complianceKeys.dncGlobal;
  if (listId === 'registry') return complianceKeys.dncRegistry;
  if (listId.startsWith('seller:')) return complianceKeys.dncSeller(listId.slice('seller:'.length));
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

export interface ConsentInput {
  campaignId: string;
  number: string;
  leadId: string;
  source: string;
  consentedAt: Date;
  /** when it stops counting; default: consentedAt + DEFAULT_CONSENT_VALIDITY_DAYS */
  expiresAt?: Date;
  certificate?: { kind: CertificateKind; id: string };
  /** the consent language the consumer was shown */
  text?: string;
  ip?: string;
}

/**
 * Records a consent (Postgres, then the Redis sorted set screening reads, scored by the latest expiry of the
 * number's live records for the campaign); returns the record's id.
 */
export async function recordConsent(pool: Pool, redis: Redis, c: ConsentInput, validityDays = DEFAULT_CONSENT_VALIDITY_DAYS): Promise<string> {
  const expiresAt = consentExpiry(c.consentedAt, c.expiresAt, validityDays);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO consent_records (campaign_id, number, lead_id, source, consented_at, expires_at, certificate_kind, certificate_id, consent_text, ip)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id::text AS id`,
    [c.campaignId, c.number, c.leadId, c.source, c.consentedAt, expiresAt, c.certificate?.kind ?? null, c.certificate?.id ?? null, c.text ?? null, c.ip ?? null],
  );
  await redis.zadd(complianceKeys.consent(c.campaignId), 'GT', expiresAt.getTime(), c.number);
  await refreshConsentSince(pool, redis, c.campaignId, c.number);
  return rows[0]!.id;
}

export interface RevocationInput {
  sellerId: string;
  number: string;
  channel: RevocationChannel;
  receivedAt: Date;
  /** the campaign it was received on, when known */
  campaignId?: string;
  detail?: string;
}

export interface Revocation {
  id: string;
  sellerId: string;
  number: string;
  /** every campaign of the seller whose consent for the number was revoked */
  campaignIds: string[];
  recordsRevoked: number;
}

/**
 * A consumer's "stop calling me" (FCC 2024 revocation rule: by any reasonable means). In one transaction: every
 * live consent record the seller holds for the number, on every campaign, is revoked; the number goes on the
 * seller's internal DNC list (`seller:<id>`); the revocation itself is kept with how it arrived. Then Redis: the
 * number leaves every one of the seller's campaigns' consent sets and joins the seller's DNC set, so the next
 * call on any of the seller's campaigns, on any node, is refused.
 */
export async function revokeConsentForSeller(pool: Pool, redis: Redis, r: RevocationInput): Promise<Revocation> {
  const out = await inTransaction(pool, async (c) => {
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO consent_revocations (seller_account_id, number, channel, received_at, campaign_id, detail, records_revoked)
       VALUES ($1,$2,$3,$4,$5,$6,0) RETURNING id::text AS id`,
      [r.sellerId, r.number, r.channel, r.receivedAt, r.campaignId ?? null, r.detail ?? ''],
    );
    const id = rows[0]!.id;
    const revoked = await c.query<{ campaign_id: string }>(
      `UPDATE consent_records SET revoked_at = now(), revocation_id = $3
       WHERE number = $2 AND revoked_at IS NULL AND campaign_id IN (SELECT id FROM campaigns WHERE seller_account_id = $1)
       RETURNING campaign_id`,
      [r.sellerId, r.number, id],
    );
    await c.query('UPDATE consent_revocations SET records_revoked = $2 WHERE id = $1', [id, revoked.rowCount ?? 0]);
    await c.query(`INSERT INTO dnc_entries (list_id, number, source) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [`seller:${r.sellerId}`, r.number, `revocation:${id}`]);
    // Every campaign of the seller, not only those with a record: a consent set may hold the number from a record
    // written since (Redis is only ever behind Postgres), and removing an absent member costs nothing.
    const campaigns = await c.query<{ id: string }>('SELECT id FROM campaigns WHERE seller_account_id = $1', [r.sellerId]);
    return { id, recordsRevoked: revoked.rowCount ?? 0, revokedIn: [...new Set(revoked.rows.map((x) => x.campaign_id))].sort(), all: campaigns.rows.map((x) => x.id) };
  });
  const m = redis.multi();
  m.sadd(complianceKeys.dncSeller(r.sellerId), r.number);
  for (const campaignId of out.all) {
    m.zrem(complianceKeys.consent(campaignId), r.number);
    // no live record of the seller's is left for the number: no consent time for the reassignment check either
    m.hdel(complianceKeys.consentSince(campaignId), r.number);
  }
  await m.exec();
  return { id: out.id, sellerId: r.sellerId, number: r.number, campaignIds: out.revokedIn, recordsRevoked: out.recordsRevoked };
}

/** Deletes the v1 consent sets (see LEGACY_CONSENT_PATTERN); a Redis without them costs one empty scan. */
async function deleteLegacyConsentSets(redis: Redis): Promise<void> {
  const prefix = (redis.options.keyPrefix ?? '') as string;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}${LEGACY_CONSENT_PATTERN}`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
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
  const consent = await pool.query<{ campaign_id: string; number: string; until: string }>(
    `SELECT campaign_id, number, (extract(epoch FROM max(expires_at)) * 1000)::bigint::text AS until
     FROM consent_records WHERE revoked_at IS NULL AND expires_at > now() GROUP BY campaign_id, number`,
  );
  for (const r of consent.rows) await redis.zadd(complianceKeys.consent(r.campaign_id), 'GT', r.until, r.number);
  counts.consent = consent.rows.length;
  await deleteLegacyConsentSets(redis);
  for (const c of copies) await redis.hset(complianceKeys.nationalMeta, c.kind, registryMetaValue(c));
  Object.assign(counts, await loadListsCache(pool, redis));
  await redis.set(COMPLIANCE_LOADED_KEY, new Date().toISOString());
  return counts;
}
