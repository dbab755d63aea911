import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Campaign } from '../domain/model';
import { sellerPayout } from '../domain/billing';
import { pingIdentity, sellerRejectCode, type SellerRejectCode } from '../domain/seller-ping';
import type { SellerBidReservation, SellerBidReservations } from '../cache/seller-bid-reservations';
import type { PingLimits, SellerPingCounts } from '../cache/seller-ping-counts';
import type { CapLedger } from '../cache/cap-ledger';
import { effectiveLimits, insertSellerBid, type PingLimitOverrides } from '../store/seller-bids-repo';
import type { Router } from './router';
import type { ConfigSnapshot } from './snapshot';
import type { SnapshotSource } from './snapshot-source';

/** A seller's ping: the call it means to send (POST /rtb/ping's body, validated). */
export interface SellerPing {
  sellerAccountId: string;
  campaignId: string;
  /** E.164; absent: the caller stays hidden until the call, and the bid is informational */
  callerE164?: string;
  zip?: string;
  state?: string;
  tags: Record<string, string>;
}

/** The answer (POST /rtb/ping's response body). Money in integer cents. */
export type SellerPingAnswer =
  | { bidId: string; bidAmountCents: number; phoneNumber: string; sipAddress?: string; expireInSeconds: number; reserved: boolean }
  | { bidId: null; bidAmountCents: 0; expireInSeconds: 0; rejectReason: SellerRejectCode; retryAfterSeconds?: number };

export interface SellerPingsDeps {
  router: Router;
  snapshots: SnapshotSource;
  reservations: SellerBidReservations;
  counts: SellerPingCounts;
  caps: CapLedger;
  /** where issued bids are stored (the ping's terms come from the snapshot) */
  pool: Pool;
  /** tells every node to reload its snapshot (publishConfigChanged on the node's Redis) */
  publishConfigChanged: (what: string) => Promise<void>;
  /** the deployment's ping limits (RTB_SELLER_PINGS_PER_MINUTE/_HOUR/_DAY), each seller's overrides on top */
  limits: PingLimits;
  /** how long a bid and its reservation last (RTB_SELLER_BID_TTL_SEC) */
  bidTtlSec: number;
  /** host[:port] sellers send SIP calls to (RTB_SELLER_SIP_HOST): bids then carry sip:<number>@host too */
  sipHost?: string;
  metrics?: Metrics;
  logger: Logger;
  clock?: () => Date;
}

/**
 * Answers sellers' pings: rate limit, then the router's decision on the call the seller describes (screening,
 * discovery, auction, the winner's capacity reserved under the bid's id until it expires), the bid stored and
 * counted. A repeated ping (same seller, campaign, caller and tags) before expiry gets the same bid back.
 */
export class SellerPings {
  private readonly clock: () => Date;
  /** each snapshot's first tracking number per campaign (the number a bid sends the call to) */
  private numbers = new WeakMap<ConfigSnapshot, Map<string, string>>();

  constructor(private readonly deps: SellerPingsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Undefined when the campaign does not exist (the route answers 404; ownership is checked there too). */
  campaign(campaignId: string): Campaign | undefined {
    return this.deps.snapshots.current().campaigns.get(campaignId);
  }

  async ping(p: SellerPing): Promise<SellerPingAnswer> {
    const now = this.clock();
    const nowMs = now.getTime();
    // The campaign's payout rule and the seller's limits, from the snapshot (no Postgres read on a ping).
    const snapshot = this.deps.snapshots.current();
    const payoutRule = snapshot.payoutRule(p.campaignId);
    // A paused campaign bids no more, a repeat of a bid it made before the pause included.
    if (!payoutRule || !snapshot.campaigns.get(p.campaignId)?.active) return this.zero(p, 'disabled', nowMs);
    const admitted = await this.deps.counts.admit(p.sellerAccountId, effectiveLimits(snapshot.pingLimitOverrides(p.sellerAccountId), this.deps.limits), nowMs);
    if (!admitted.ok) return this.zero(p, 'rate_limited', nowMs, admitted.retryAfterSec);
    const trackingNumber = this.trackingNumberOf(p.campaignId);
    if (!trackingNumber) return this.zero(p, 'disabled', nowMs);

    const identity = p.callerE164 ? pingIdentity({ sellerAccountId: p.sellerAccountId, campaignId: p.campaignId, callerE164: p.callerE164, tags: p.tags }) : undefined;
    if (identity) {
      const repeat = await this.liveBid(identity, nowMs);
      if (repeat) return this.answerRepeat(p, repeat, nowMs);
    }

    const bidId = randomUUID();
    const expiresAtMs = nowMs + this.deps.bidTtlSec * 1000;
    const quote = await this.deps.router.quote(bidId, { campaignId: p.campaignId, trackingNumber, ani: p.callerE164, zip: p.zip, state: p.state, leaseUntilMs: expiresAtMs }, now);
    if (quote.outcome === 'reject') {
      const t = quote.trace;
      return this.zero(p, sellerRejectCode({ reason: quote.reason, skipped: t.ranked.reason, excluded: t.excluded.reason }), nowMs);
    }
    const payoutCents = sellerPayout(quote.bid.priceCents, payoutRule);
    const reserved = quote.reserved;
    const r: SellerBidReservation | undefined = reserved && identity
      ? { bidId, sellerAccountId: p.sellerAccountId, campaignId: p.campaignId, trackingNumber, callerE164: p.callerE164!, bid: reserved.bid, payoutCents, counters: reserved.counters, hold: reserved.hold, expiresAtMs }
      : undefined;
    if (r && identity) {
      const first = await this.deps.reservations.rememberPing(identity, bidId, nowMs, expiresAtMs - nowMs).catch(async (err: Error) => {
        await this.deps.caps.release(bidId, r.counters, r.hold).catch(() => undefined);
        throw err;
      });
      if (first) {
        // An identical ping on another node got its bid in first: that one stands, ours is given back.
        await this.deps.caps.release(bidId, r.counters, r.hold);
        const theirs = await this.deps.reservations.live(first, nowMs);
        return theirs ? this.answerRepeat(p, theirs, nowMs) : this.zero(p, 'no_capacity', nowMs);
      }
    }
    try {
      await insertSellerBid(this.deps.pool, {
        id: bidId, sellerAccountId: p.sellerAccountId, campaignId: p.campaignId, callerE164: p.callerE164 ?? null, zip: p.zip ?? null, state: p.state ?? null,
        tags: p.tags, trackingNumber, targetId: quote.bid.targetId, buyerAccountId: quote.bid.buyerAccountId, priceCents: quote.bid.priceCents, payoutCents,
        reserved: r !== undefined, issuedAt: now, expiresAt: new Date(expiresAtMs),
      });
      if (r) await this.deps.reservations.put(r, nowMs);
    } catch (err) {
      if (r && identity) {
        await this.deps.caps.release(bidId, r.counters, r.hold).catch(() => undefined);
        await this.deps.reservations.forgetPing(identity, bidId).catch(() => undefined);
      }
      throw err;
    }
    await this.count(p.sellerAccountId, r ? 'bid' : 'informational', nowMs);
    return { bidId, bidAmountCents: payoutCents, ...this.destination(trackingNumber), expireInSeconds: this.deps.bidTtlSec, reserved: r !== undefined };
  }

  /**
   * A seller's ping limit overrides, just saved to Postgres: this node's next ping is held to them (they go into its
   * snapshot at once), and every other node reloads its snapshot.
   */
  async limitsSaved(sellerAccountId: string, overrides: PingLimitOverrides): Promise<void> {
    this.deps.snapshots.applyPingLimits(sellerAccountId, overrides);
    await this.deps.publishConfigChanged(`ping limits ${sellerAccountId}`);
  }

  /** Gives back the reservations of bids that expired unclaimed (every node runs it; each is given back once). */
  async sweep(): Promise<number> {
    const n = await this.deps.reservations.sweep(this.clock().getTime());
    if (n > 0) this.deps.metrics?.sellerBidsExpired.inc(n);
    return n;
  }

  private async liveBid(identity: string, nowMs: number): Promise<SellerBidReservation | undefined> {
    const bidId = await this.deps.reservations.repeatOf(identity);
    return bidId ? this.deps.reservations.live(bidId, nowMs) : undefined;
  }

  private async answerRepeat(p: SellerPing, r: SellerBidReservation, nowMs: number): Promise<SellerPingAnswer> {
    await this.count(p.sellerAccountId, 'repeat', nowMs);
    return { bidId: r.bidId, bidAmountCents: r.payoutCents, ...this.destination(r.trackingNumber), expireInSeconds: Math.max(1, Math.floor((r.expiresAtMs - nowMs) / 1000)), reserved: true };
  }

  /** Where the seller sends the call: the tracking number, and its SIP address when the deployment has one. */
  private destination(trackingNumber: string): { phoneNumber: string; sipAddress?: string } {
    return this.deps.sipHost ? { phoneNumber: trackingNumber, sipAddress: `sip:${trackingNumber}@${this.deps.sipHost}` } : { phoneNumber: trackingNumber };
  }

  private async zero(p: SellerPing, code: SellerRejectCode, nowMs: number, retryAfterSec?: number): Promise<SellerPingAnswer> {
    await this.count(p.sellerAccountId, code, nowMs);
    return { bidId: null, bidAmountCents: 0, expireInSeconds: 0, rejectReason: code, ...(retryAfterSec ? { retryAfterSeconds: retryAfterSec } : {}) };
  }

  private async count(sellerAccountId: string, outcome: string, nowMs: number): Promise<void> {
    this.deps.metrics?.sellerPings.inc({ outcome });
    await this.deps.counts.count(sellerAccountId, outcome, nowMs).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'could not count a seller ping'));
  }

  /** The campaign's tracking number a bid sends the call to: its lowest, so every node answers the same. */
  private trackingNumberOf(campaignId: string): string | undefined {
    const snapshot = this.deps.snapshots.current();
    let byCampaign = this.numbers.get(snapshot);
    if (!byCampaign) {
      byCampaign = new Map();
      for (const n of snapshot.trackingNumbers.values()) {
        const had = byCampaign.get(n.campaignId);
        if (had === undefined || n.did < had) byCampaign.set(n.campaignId, n.did);
      }
      this.numbers.set(snapshot, byCampaign);
    }
    return byCampaign.get(campaignId);
  }
}
