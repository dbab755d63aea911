/**
 * Sellers' pings in Postgres (migration 021): the bids issued (rtb_seller_bids; the recorder links the call that
 * claims one), the campaign's payout rule a bid is quoted on, and the per-seller overrides of the ping limits (both
 * read into the config snapshot; a ping reads them there).
 */
import type { Pool } from 'pg';
import type { PayoutRule } from '../domain/billing';
import type { PingLimits } from '../cache/seller-ping-counts';

/** A seller's ping limits as overridden (null: the deployment's default for that window). */
export interface PingLimitOverrides {
  perMinute: number | null;
  perHour: number | null;
  perDay: number | null;
}

export const NO_OVERRIDES: PingLimitOverrides = { perMinute: null, perHour: null, perDay: null };

export function effectiveLimits(overrides: PingLimitOverrides, defaults: PingLimits): PingLimits {
  return { perMinute: overrides.perMinute ?? defaults.perMinute, perHour: overrides.perHour ?? defaults.perHour, perDay: overrides.perDay ?? defaults.perDay };
}

/**
 * What sellers' pings are quoted on, read with the config snapshot (config-repo): each campaign's payout rule, and
 * the sellers' ping limit overrides (a seller without a row has none).
 */
export interface PingTerms {
  payouts: ReadonlyMap<string, PayoutRule>;
  limits: ReadonlyMap<string, PingLimitOverrides>;
}

/** A campaigns row's payout rule (columns payout_cents, payout_percent, allow_negative_margin). */
export function payoutRuleOf(r: { payout_cents: unknown; payout_percent: unknown; allow_negative_margin: unknown }): PayoutRule {
  return { payoutCents: r.payout_cents === null ? null : Number(r.payout_cents), payoutPercent: r.payout_percent === null ? null : Number(r.payout_percent), allowNegativeMargin: r.allow_negative_margin === true };
}

/** An rtb_seller_ping_limits row's overrides. */
export function pingLimitOverridesOf(r: { per_minute: number | null; per_hour: number | null; per_day: number | null }): PingLimitOverrides {
  return { perMinute: r.per_minute, perHour: r.per_hour, perDay: r.per_day };
}

export async function loadPingLimits(pool: Pool, sellerAccountId: string): Promise<PingLimitOverrides> {
  const { rows } = await pool.query('SELECT per_minute, per_hour, per_day FROM rtb_seller_ping_limits WHERE seller_account_id = $1', [sellerAccountId]);
  const r = rows[0];
  return r ? pingLimitOverridesOf(r) : NO_OVERRIDES;
}

/** Sets the fields given (null: back to the default), keeps the others; answers the overrides now in force. */
export async function savePingLimits(pool: Pool, sellerAccountId: string, change: Partial<PingLimitOverrides>): Promise<PingLimitOverrides> {
  const has = (k: keyof PingLimitOverrides) => k in change;
  const { rows } = await pool.query(
    `INSERT INTO rtb_seller_ping_limits AS l (seller_account_id, per_minute, per_hour, per_day) VALUES ($1, $2, $3, $4)
     ON CONFLICT (seller_account_id) DO UPDATE SET
       per_minute = CASE WHEN $5 THEN EXCLUDED.per_minute ELSE l.per_minute END,
       per_hour = CASE WHEN $6 THEN EXCLUDED.per_hour ELSE l.per_hour END,
       per_day = CASE WHEN $7 THEN EXCLUDED.per_day ELSE l.per_day END,
       updated_at = now()
     RETURNING per_minute, per_hour, per_day`,
    [sellerAccountId, change.perMinute ?? null, change.perHour ?? null, change.perDay ?? null, has('perMinute'), has('perHour'), has('perDay')],
  );
  return pingLimitOverridesOf(rows[0]);
}

export interface IssuedSellerBid {
  id: string;
  sellerAccountId: string;
  campaignId: string;
  callerE164: string | null;
  zip: string | null;
  state: string | null;
  tags: Record<string, string>;
  trackingNumber: string;
  targetId: string;
  buyerAccountId: string;
  priceCents: number;
  payoutCents: number;
  reserved: boolean;
  issuedAt: Date;
  expiresAt: Date;
}

export async function insertSellerBid(pool: Pool, b: IssuedSellerBid): Promise<void> {
  await pool.query(
    `INSERT INTO rtb_seller_bids (id, seller_account_id, campaign_id, caller_e164, zip, state, tags, tracking_number, target_id, buyer_account_id,
       price_cents, payout_cents, reserved, issued_at, expires_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
    [b.id, b.sellerAccountId, b.campaignId, b.callerE164, b.zip, b.state, JSON.stringify(b.tags), b.trackingNumber, b.targetId, b.buyerAccountId,
      b.priceCents, b.payoutCents, b.reserved, b.issuedAt, b.expiresAt],
  );
}

/** Bids issued and claimed by calls for a seller over a period. */
export async function countSellerBids(pool: Pool, sellerAccountId: string, from: Date, to: Date): Promise<{ issued: number; reserved: number; claimed: number }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS issued, count(*) FILTER (WHERE reserved)::int AS reserved, count(claimed_call_id)::int AS claimed
     FROM rtb_seller_bids WHERE seller_account_id = $1 AND issued_at >= $2 AND issued_at < $3`,
    [sellerAccountId, from, to],
  );
  return rows[0];
}
