import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { complianceKeys, FREQUENCY_LOADED_KEY } from '../cache/compliance-keys';
import { frequencyRetentionSec, frequencySubjectOf, type FrequencyPolicy } from '../domain/frequency-limits';

/**
 * Rebuilds the consumers' outbound call counts (frequency-counter.ts) from the calls Postgres recorded, when Redis
 * lost them: every outbound call within the retention that was not refused counts, by its start time. A request
 * that failed before reaching a switch counts too (the record does not always say): after a Redis loss a consumer
 * may get fewer calls than allowed, never more. Calls placed but not yet recorded (the journal is in Redis too) are
 * lost with it. Then sets the marker, so each node loads once.
 */
export async function loadFrequencyCounts(pool: Pool, redis: Redis, policy: FrequencyPolicy, now = new Date()): Promise<{ calls: number }> {
  const retentionSec = frequencyRetentionSec(policy);
  const { rows } = await pool.query<{ id: string; ani: string; campaign_id: string; seller_account_id: string; at: string }>(
    `SELECT c.id, c.ani, c.campaign_id, cam.seller_account_id, (extract(epoch FROM c.started_at) * 1000)::bigint::text AS at
     FROM calls c JOIN campaigns cam ON cam.id = c.campaign_id
     WHERE c.direction = 'outbound' AND c.started_at > $1 AND c.outcome IS DISTINCT FROM 'rejected' AND c.ani LIKE '+%'`,
    [new Date(now.getTime() - retentionSec * 1000)],
  );
  for (let i = 0; i < rows.length; i += 1000) {
    const m = redis.multi();
    for (const r of rows.slice(i, i + 1000)) {
      const key = complianceKeys.frequency(frequencySubjectOf({ id: r.campaign_id, sellerAccountId: r.seller_account_id }, policy.subject), r.ani);
      m.zadd(key, r.at, r.id);
      m.pexpire(key, retentionSec * 1000);
    }
    await m.exec();
  }
  await redis.set(FREQUENCY_LOADED_KEY, now.toISOString());
  return { calls: rows.length };
}
