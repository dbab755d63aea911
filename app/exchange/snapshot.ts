import type { Account, BuyerTarget, Campaign, TrackingNumber } from '../domain/model';
import type { ConfigRows } from '../store/config-repo';
import { normalizeE164 } from '../domain/phone';
import { compareBids, type Bid } from '../domain/auction';
import { judgeTargetStatic, rtbMayBid, type ExclusionReason } from '../domain/discovery';
import { TargetIndex } from '../domain/target-index';
import { ExclusionCache, RankingCache } from './snapshot-discovery';
import type { PayoutRule } from '../domain/billing';
import { NO_OVERRIDES, type PingLimitOverrides } from '../store/seller-bids-repo';

/**
 * A campaign's buyer targets judged on what the config alone decides (activity, destination, floor, funds),
 * once per snapshot: a call then only checks geography and open hours of the `open` ones.
 */
export interface CampaignBook {
  /** targets that may take calls, with their standing bids, in auction order */
  open: Array<{ target: BuyerTarget; bid: Bid }>;
  /** targets that may not, with why */
  closed: Array<{ target: BuyerTarget; reason: ExclusionReason; detail?: string }>;
  /** active targets of active buyers with an RTB endpoint: pinged per call (also in `open` when their standing bid stands) */
  rtb: BuyerTarget[];
  /** the `open` targets' geography and open hours, indexed (positions are those of `open`) */
  index: TargetIndex;
  /** recent auctions among standing bids only, by the set of targets that took part */
  rankings: RankingCache;
  /** recent calls' exclusions (the closed targets and those the index kept out), by the index's answer key */
  exclusions: ExclusionCache;
}

/**
 * An immutable, indexed copy of the routing config. The call path reads only this (and Redis); a refresh
 * builds a new snapshot and swaps it in whole, so a decision never sees half an update.
 */
export class ConfigSnapshot {
  readonly campaigns = new Map<string, Campaign>();
  readonly trackingNumbers = new Map<string, TrackingNumber>();
  readonly targetsByCampaign = new Map<string, BuyerTarget[]>();
  readonly targets = new Map<string, BuyerTarget>();
  /** Each target's standing bid, built once per snapshot (immutable), so a call allocates none. */
  readonly standingBids = new Map<string, Bid>();
  readonly accounts = new Map<string, Account>();
  private readonly books = new Map<string, CampaignBook>();
  /** Each campaign's payout rule and each seller's ping limit overrides: what a seller's ping is quoted on. */
  private readonly payouts: ReadonlyMap<string, PayoutRule>;
  private readonly pingLimits: ReadonlyMap<string, PingLimitOverrides>;

  constructor(rows: ConfigRows, readonly loadedAt: Date, readonly version: number) {
    this.payouts = rows.pingTerms?.payouts ?? new Map();
    this.pingLimits = rows.pingTerms?.limits ?? new Map();
    for (const a of rows.accounts) this.accounts.set(a.id, a);
    for (const c of rows.campaigns) this.campaigns.set(c.id, c);
    for (const n of rows.trackingNumbers) this.trackingNumbers.set(n.did, n);
    for (const t of rows.targets) {
      this.targets.set(t.id, t);
      if (t.destination) {
        this.standingBids.set(t.id, Object.freeze({
          targetId: t.id,
          buyerAccountId: t.buyerAccountId,
          bidCents: t.bidCents,
          qualityScore: t.qualityScore,
          priority: t.priority,
          weight: t.weight,
          destination: t.destination,
          answerTimeoutSec: t.answerTimeoutSec,
          source: 'standing',
        }));
      }
      const list = this.targetsByCampaign.get(t.campaignId);
      if (list) list.push(t);
      else this.targetsByCampaign.set(t.campaignId, [t]);
    }
    // Kept in auction order, so the per-call auction sorts an already sorted list (one pass).
    for (const list of this.targetsByCampaign.values()) list.sort((a, b) => compareBids({ bidCents: a.bidCents, qualityScore: a.qualityScore, targetId: a.id }, { bidCents: b.bidCents, qualityScore: b.qualityScore, targetId: b.id }));
  }

  /** The campaign's targets split into those that may take calls and those that may not (built on first use). */
  book(campaign: Campaign): CampaignBook {
    let book = this.books.get(campaign.id);
    if (!book) {
      const open: CampaignBook['open'] = [];
      const closed: CampaignBook['closed'] = [];
      const rtb: BuyerTarget[] = [];
      for (const target of this.targetsByCampaign.get(campaign.id) ?? []) {
        const verdict = judgeTargetStatic(target, this.accounts.get(target.buyerAccountId), campaign.floorCents);
        if (target.rtb && rtbMayBid(target, this.accounts.get(target.buyerAccountId))) {
          // An RTB target is pinged whatever its standing bid; that bid stands beside it only when it is one (> 0).
          rtb.push(target);
          if (verdict.eligible && target.bidCents > 0) open.push({ target, bid: this.standingBids.get(target.id)! });
          continue;
        }
        if (verdict.eligible) open.push({ target, bid: this.standingBids.get(target.id)! });
        else closed.push({ target, reason: verdict.reason, detail: verdict.detail });
      }
      book = { open, closed, rtb, index: new TargetIndex(open.map((o) => o.target)), rankings: new RankingCache(), exclusions: new ExclusionCache() };
      this.books.set(campaign.id, book);
    }
    return book;
  }

  /** The campaign's payout rule (undefined: no such campaign in this snapshot). */
  payoutRule(campaignId: string): PayoutRule | undefined {
    return this.payouts.get(campaignId);
  }

  /** The seller's ping limit overrides (none: the deployment's defaults). */
  pingLimitOverrides(sellerAccountId: string): PingLimitOverrides {
    return this.pingLimits.get(sellerAccountId) ?? NO_OVERRIDES;
  }

  static empty(): ConfigSnapshot {
    return new ConfigSnapshot({ accounts: [], campaigns: [], trackingNumbers: [], targets: [] }, new Date(0), 0);
  }

  /** The tracking number for a dialled number as a switch hands it over (with or without +1). */
  findTrackingNumber(dnis: string): TrackingNumber | undefined {
    const direct = this.trackingNumbers.get(dnis);
    if (direct) return direct;
    const e164 = normalizeE164(dnis);
    return e164 ? this.trackingNumbers.get(e164) : undefined;
  }
}
