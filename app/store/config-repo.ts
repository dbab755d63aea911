import type { Pool } from 'pg';
import type { Account, BuyerTarget, Campaign, RtbEndpoint, RtbShareField, Schedule, Targeting, TrackingNumber } from '../domain/model';
import { payoutRuleOf, pingLimitOverridesOf, type PingTerms } from './seller-bids-repo';

/** Everything the call path needs from Postgres, read in one go to build a snapshot. */
export interface ConfigRows {
  accounts: Account[];
  campaigns: Campaign[];
  trackingNumbers: TrackingNumber[];
  targets: BuyerTarget[];
  /** Each target's bid version (bumped by every standing-bid write; see the bid writer), when read from Postgres. */
  bidVersions?: Map<string, number>;
  /** Each account's funds version (bumped with every balance or credit change, migration 012), when read from Postgres. */
  fundsVersions?: Map<string, number>;
  /** What sellers' pings are quoted on (POST /rtb/ping), when read from Postgres. */
  pingTerms?: PingTerms;
}

export async function loadConfigRows(pool: Pool): Promise<ConfigRows> {
  const [accounts, campaigns, numbers, targets] = await Promise.all([
    // with each seller's ping limit overrides (rtb_seller_ping_limits), so they cost no query of their own
    pool.query(
      `SELECT a.id, a.kind, a.name, a.active, a.balance_cents, a.credit_limit_cents, a.funds_version, l.seller_account_id AS limits_of, l.per_minute, l.per_hour, l.per_day
       FROM accounts a LEFT JOIN rtb_seller_ping_limits l ON l.seller_account_id = a.id`,
    ),
    pool.query('SELECT * FROM campaigns'),
    pool.query('SELECT did, campaign_id, seller_account_id FROM tracking_numbers WHERE active'),
    pool.query('SELECT * FROM buyer_targets'),
  ]);
  return {
    accounts: accounts.rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      name: r.name,
      active: r.active,
      balanceCents: Number(r.balance_cents),
      creditLimitCents: Number(r.credit_limit_cents),
    })),
    campaigns: campaigns.rows.map((r) => ({
      id: r.id,
      sellerAccountId: r.seller_account_id,
      name: r.name,
      active: r.active,
      routing: r.routing,
      floorCents: Number(r.floor_cents),
      requireConsent: r.require_consent,
      outboundConsentExempt: r.outbound_consent_exempt ?? false,
      blockLitigators: r.block_litigators ?? false,
      minAttestation: r.min_attestation ?? undefined,
      ...(Array.isArray(r.allowed_countries) && r.allowed_countries.length > 0 ? { allowedCountries: r.allowed_countries as string[] } : {}),
      noBuyerPrompt: r.no_buyer_prompt,
      bidDeadlineMs: r.bid_deadline_ms,
      ...(Array.isArray(r.rtb_share) && r.rtb_share.length > 0 ? { rtbShare: r.rtb_share as RtbShareField[] } : {}),
    })),
    trackingNumbers: numbers.rows.map((r) => ({ did: r.did, campaignId: r.campaign_id, sellerAccountId: r.seller_account_id })),
    targets: targets.rows.map((r) => ({
      id: r.id,
      buyerAccountId: r.buyer_account_id,
      campaignId: r.campaign_id,
      name: r.name,
      active: r.active,
      bidCents: Number(r.bid_cents),
      destination: r.destination ?? undefined,
      answerTimeoutSec: r.answer_timeout_sec,
      targeting: (r.targeting ?? {}) as Targeting,
      schedule: (r.schedule ?? undefined) as Schedule | undefined,
      caps: {
        concurrency: r.cap_concurrency ?? undefined,
        hourly: r.cap_hourly ?? undefined,
        daily: r.cap_daily ?? undefined,
        monthly: r.cap_monthly ?? undefined,
      },
      qualityScore: Number(r.quality_score),
      priority: r.priority,
      weight: r.weight,
      convertOnSeconds: r.convert_on_seconds,
      ...(r.rtb_url ? { rtb: rtbEndpointOf(r) } : {}),
    })),
    bidVersions: new Map(targets.rows.map((r) => [r.id as string, Number(r.bid_version ?? 0)])),
    fundsVersions: new Map(accounts.rows.map((r) => [r.id as string, Number(r.funds_version ?? 0)])),
    pingTerms: {
      payouts: new Map(campaigns.rows.map((r) => [r.id as string, payoutRuleOf(r)])),
      limits: new Map(accounts.rows.filter((r) => r.limits_of !== null).map((r) => [r.id as string, pingLimitOverridesOf(r)])),
    },
  };
}

function rtbEndpointOf(r: { rtb_url: string; rtb_min_bid_cents: string | null; rtb_max_bid_cents: string | null }): RtbEndpoint {
  return {
    url: r.rtb_url,
    ...(r.rtb_min_bid_cents != null ? { minBidCents: Number(r.rtb_min_bid_cents) } : {}),
    ...(r.rtb_max_bid_cents != null ? { maxBidCents: Number(r.rtb_max_bid_cents) } : {}),
  };
}
