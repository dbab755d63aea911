/**
 * GDPR for a phone number: export everything held about it, and erase it. Erasure replaces the number, wherever
 * it is personal data (calls, decision traces, the compliance audit, fraud scores, billing rows, the bodies of
 * webhooks about its calls), with
 * `erased:<hash>`, the same hash everywhere, so counts, money and duplicate checks stay consistent; consent
 * records are deleted. Suppression lists stay: a number on a DNC or block list keeps its entry there (keeping it
 * is what stops it being called again), and the export says so.
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { complianceKeys } from '../cache/compliance-keys';

export const erasedToken = (e164: string): string => `erased:${createHash('sha256').update(e164).digest('hex').slice(0, 24)}`;

export async function exportNumber(pool: Pool, e164: string) {
  const q = async (sql: string) => (await pool.query(sql, [e164])).rows;
  const [calls, attempts, decisions, audit, consent, revocations, dnc, blocked, fraud, billing, webhooks, sellerBids] = await Promise.all([
    q('SELECT * FROM calls WHERE ani = $1 ORDER BY started_at'),
    q('SELECT a.* FROM bridge_attempts a JOIN calls c ON c.id = a.call_id WHERE c.ani = $1 ORDER BY a.call_id, a.attempt_no'),
    q('SELECT d.call_id, d.decided_at, d.trace FROM call_decisions d JOIN calls c ON c.id = d.call_id WHERE c.ani = $1 ORDER BY d.decided_at'),
    q('SELECT * FROM compliance_audit_log WHERE ani = $1 ORDER BY checked_at'),
    q('SELECT * FROM consent_records WHERE number = $1 ORDER BY consented_at'),
    q('SELECT * FROM consent_revocations WHERE number = $1 ORDER BY received_at'),
    q('SELECT * FROM dnc_entries WHERE number = $1 ORDER BY added_at'),
    q('SELECT * FROM blocked_numbers WHERE number = $1'),
    q('SELECT * FROM fraud_scores WHERE ani = $1 ORDER BY scored_at'),
    q('SELECT * FROM call_billing WHERE ani = $1 ORDER BY started_at'),
    q(`SELECT w.id::text, w.event_id, w.event_type, w.call_id, w.account_id, w.url, w.status, w.created_at, w.body
       FROM webhook_deliveries w JOIN calls c ON c.id = w.call_id WHERE c.ani = $1 ORDER BY w.id`),
    q('SELECT * FROM rtb_seller_bids WHERE caller_e164 = $1 ORDER BY issued_at'),
  ]);
  return { number: e164, exportedAt: new Date().toISOString(), calls, bridgeAttempts: attempts, decisions, complianceAudit: audit, consentRecords: consent, consentRevocations: revocations, dncEntries: dnc, blocked, fraudScores: fraud, billing, webhookDeliveries: webhooks, sellerBids };
}

export async function eraseNumber(pool: Pool, redis: Redis, e164: string, reason: string, actor: string): Promise<Record<string, number>> {
  const token = erasedToken(e164);
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const run = async (sql: string, params: unknown[] = [e164, token]) => (await c.query(sql, params)).rowCount ?? 0;
    const counts: Record<string, number> = {
      // The trace is stored as json (migration 024): edited as jsonb, stored back as json.
      decisions: await run(`UPDATE call_decisions d SET trace = jsonb_set(jsonb_set(d.trace::jsonb, '{ani}', to_jsonb($2::text)), '{caller}', jsonb_build_object('ok', true, 'erased', true))::json
                            FROM calls c WHERE c.id = d.call_id AND c.ani = $1`),
      // Before calls: found through the call's number. The body is JSON text in which the number is a plain string.
      webhookDeliveries: await run('UPDATE webhook_deliveries w SET body = replace(w.body, $1, $2) FROM calls c WHERE c.id = w.call_id AND c.ani = $1'),
      calls: await run('UPDATE calls SET ani = $2, zip = NULL, lead_id = NULL WHERE ani = $1'),
      complianceAudit: await run('UPDATE compliance_audit_log SET ani = $2 WHERE ani = $1'),
      fraudScores: await run('UPDATE fraud_scores SET ani = $2 WHERE ani = $1'),
      billing: await run('UPDATE call_billing SET ani = $2 WHERE ani = $1'),
      // sellers' pings about the caller: the seller's free-form tags and the zip go with the number
      sellerBids: await run(`UPDATE rtb_seller_bids SET caller_e164 = $2, zip = NULL, tags = '{}' WHERE caller_e164 = $1`),
      consentRecords: await run('DELETE FROM consent_records WHERE number = $1', [e164]),
    };
    await c.query('INSERT INTO privacy_erasures (number_hash, reason, actor, counts) VALUES ($1, $2, $3, $4)', [token, reason, actor, JSON.stringify(counts)]);
    await c.query('COMMIT');
    // Consent lived in Redis too (screening reads it there): the expiry sorted sets (consent-until:) and the consent
    // times beside them (consent-since:). RND results and litigator lists are about the number, not the consumer: kept.
    const prefix = (redis.options.keyPrefix ?? '') as string;
    const scan = async (pattern: string): Promise<string[]> => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 500);
        cursor = next;
        keys.push(...found.map((k) => k.slice(prefix.length)));
      } while (cursor !== '0');
      return keys;
    };
    for (const k of await scan(complianceKeys.consent('*'))) await redis.zrem(k, e164);
    for (const k of await scan(complianceKeys.consentSince('*'))) await redis.hdel(k, e164);
    return counts;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
