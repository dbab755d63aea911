import type { Pool } from 'pg';

/** Test data writers: rows in Postgres (and the Redis mirrors screening reads), with sensible defaults. */
export async function seedAccount(pool: Pool, a: { id: string; kind: 'buyer' | 'seller'; balanceCents?: number; creditLimitCents?: number; active?: boolean }): Promise<void> {
  await pool.query('INSERT INTO accounts (id, kind, name, balance_cents, credit_limit_cents, active) VALUES ($1,$2,$3,$4,$5,$6)', [
    a.id, a.kind, `${a.kind} ${a.id}`, a.balanceCents ?? 1_000_000, a.creditLimitCents ?? 0, a.active ?? true,
  ]);
}

export interface CampaignSeed {
  id: string;
  sellerId: string;
  dids: string[];
  routing?: 'first_price' | 'second_price' | 'priority_weight';
  floorCents?: number;
  requireConsent?: boolean;
  minAttestation?: 'A' | 'B';
  active?: boolean;
  payoutCents?: number;
  payoutPercent?: number;
  duplicateWindowDays?: number;
  /** outbound calls need no consent record (issue 14: an admin's exemption) */
  outboundConsentExempt?: boolean;
  /** RTB (issue 15): the deadline RTB buyers answer under, and the call facts a ping shares */
  bidDeadlineMs?: number;
  rtbShare?: string[];
}

export async function seedCampaign(pool: Pool, c: CampaignSeed): Promise<void> {
  await pool.query(
    `INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents, require_consent, min_attestation, active, payout_cents, payout_percent, duplicate_window_days, outbound_consent_exempt)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
    [c.id, c.sellerId, `campaign ${c.id}`, c.routing ?? 'second_price', c.floorCents ?? 0, c.requireConsent ?? false, c.minAttestation ?? null, c.active ?? true,
      c.payoutCents ?? null, c.payoutPercent ?? null, c.duplicateWindowDays ?? 30, c.outboundConsentExempt ?? false],
  );
  if (c.bidDeadlineMs !== undefined || c.rtbShare !== undefined) {
    await pool.query('UPDATE campaigns SET bid_deadline_ms = coalesce($2, bid_deadline_ms), rtb_share = coalesce($3, rtb_share) WHERE id = $1', [c.id, c.bidDeadlineMs ?? null, c.rtbShare ? JSON.stringify(c.rtbShare) : null]);
  }
  for (const did of c.dids) await pool.query('INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1,$2,$3)', [did, c.id, c.sellerId]);
}

export interface TargetSeed {
  id: string;
  buyerId: string;
  campaignId: string;
  bidCents: number;
  destination?: string | null;
  qualityScore?: number;
  targeting?: object;
  schedule?: object | null;
  capConcurrency?: number;
  capHourly?: number;
  capDaily?: number;
  capMonthly?: number;
  priority?: number;
  weight?: number;
  answerTimeoutSec?: number;
  convertOnSeconds?: number;
  /** RTB (issue 15): the endpoint pinged at each call and the bounds of its answers */
  rtbUrl?: string;
  rtbMinBidCents?: number;
  rtbMaxBidCents?: number;
  active?: boolean;
}

export async function seedTarget(pool: Pool, t: TargetSeed): Promise<void> {
  await pool.query(
    `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, quality_score, targeting, schedule,
       cap_concurrency, cap_hourly, cap_daily, cap_monthly, priority, weight, answer_timeout_sec, convert_on_seconds)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`,
    [t.id, t.buyerId, t.campaignId, `target ${t.id}`, t.bidCents, t.destination === undefined ? `sip:${t.id}@buyers.example` : t.destination,
      t.qualityScore ?? 1, JSON.stringify(t.targeting ?? {}), t.schedule ? JSON.stringify(t.schedule) : null,
      t.capConcurrency ?? null, t.capHourly ?? null, t.capDaily ?? null, t.capMonthly ?? null, t.priority ?? 1, t.weight ?? 1, t.answerTimeoutSec ?? 20,
      t.convertOnSeconds ?? 60],
  );
  if (t.rtbUrl !== undefined || t.active !== undefined) {
    await pool.query('UPDATE buyer_targets SET rtb_url = $2, rtb_min_bid_cents = $3, rtb_max_bid_cents = $4, active = coalesce($5, active) WHERE id = $1', [t.id, t.rtbUrl ?? null, t.rtbMinBidCents ?? null, t.rtbMaxBidCents ?? null, t.active ?? null]);
  }
}
