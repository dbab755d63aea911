import type { Pool } from 'pg';
import { randomUUID } from 'node:crypto';

/** An ended call as the recorder writes it, for billing tests. */
export async function insertEndedCall(
  pool: Pool,
  c: { id?: string; campaignId: string; sellerId: string; ani: string; startedAt?: Date; bridged?: boolean; billableSec: number; targetId?: string; buyerId?: string; priceCents?: number },
): Promise<string> {
  const id = c.id ?? randomUUID();
  const started = c.startedAt ?? new Date();
  const bridged = c.bridged ?? true;
  await pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, started_at, campaign_id, seller_account_id, outcome, winner_target_id, winner_buyer_id,
       price_cents, ended_at, duration_sec, billable_sec, bridged_at, hung_up_by, end_reason, hangup_cause)
     VALUES ($1, 'inbound', $2, '+18885550100', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'caller', 'caller_hangup', 'NORMAL_CLEARING')`,
    [id, c.ani, started, c.campaignId, c.sellerId, bridged ? 'bridged' : 'no_buyer_answered', bridged ? c.targetId : null, bridged ? c.buyerId : null,
      bridged ? c.priceCents : null, new Date(started.getTime() + (c.billableSec + 5) * 1000), c.billableSec + 5, bridged ? c.billableSec : 0,
      bridged ? new Date(started.getTime() + 5000) : null],
  );
  return id;
}

export async function balances(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query('SELECT id, balance_cents FROM accounts ORDER BY id');
  return Object.fromEntries(rows.map((r) => [r.id, Number(r.balance_cents)]));
}
