/**
 * Discovery of a call's standing bids from a campaign's book (its targets as the snapshot judged them, and their
 * index), and the book's caches of recent exclusions and rankings that let calls like recent ones share them.
 */
import type { Bid, RankedBid } from '../domain/auction';
import type { ConsumerGeo } from '../domain/discovery';
import type { TargetMatches } from '../domain/target-index';
import type { CampaignBook } from './snapshot';
import { addExclusion, type DecisionTrace } from './trace';

/** Which of a book's open targets bid in one call's auction (a bitset over `open`), and how many. */
export interface StandingBids {
  members: Int32Array;
  count: number;
}

/**
 * Discovery of standing bids for one call: the campaign's targets whose geography and open hours admit it (from
 * the book's index) and whose buyer can still pay (`availableFunds`: billing's latest figure, if newer than the
 * snapshot), as a set (their bids, in auction order, from standingBidsOf, only if the ranking is not cached). Every
 * other target enters the trace's exclusions, with why, in the book's order (the closed ones first), as the linear
 * scan did. Only the eligible targets are visited; the exclusions of a call like a recent one are that call's,
 * shared (the trace copies them before adding any).
 */
export function discoverStandingBids(
  book: CampaignBook,
  geo: ConsumerGeo,
  now: Date,
  availableFunds: (buyerAccountId: string) => number | undefined,
  trace: DecisionTrace,
): StandingBids {
  const matches = book.index.match(geo, now);
  const open = book.open;
  const eligible = matches.eligibleBits;
  const members = new Int32Array(eligible.length);
  let count = 0;
  let short = false;
  for (let w = 0; w < eligible.length; w++) {
    let x = eligible[w]!;
    while (x !== 0) {
      const bit = x & -x;
      x ^= bit;
      const { target } = open[(w << 5) + 31 - Math.clz32(bit)]!;
      const funds = availableFunds(target.buyerAccountId);
      if (funds !== undefined && funds < target.bidCents) {
        short = true;
        continue;
      }
      members[w] |= bit;
      count += 1;
    }
  }
  if (!short && trace.excluded.targetId.length === 0) trace.excluded = book.exclusions.get(matches.key, () => freezeColumns(exclusionsOf(book, matches)));
  else addExclusionsInOrder(trace, book, matches, members, availableFunds);
  return { members, count };
}

/** The standing bids of a discovery's targets, in auction order. */
export function standingBidsOf(book: CampaignBook, standing: StandingBids): Bid[] {
  const bids: Bid[] = new Array(standing.count);
  let k = 0;
  const { members } = standing;
  for (let w = 0; w < members.length; w++) {
    let x = members[w]!;
    while (x !== 0) {
      const bit = x & -x;
      x ^= bit;
      bids[k++] = book.open[(w << 5) + 31 - Math.clz32(bit)]!.bid;
    }
  }
  return bids;
}

/** The closed targets and those the index kept out, in book order, as trace columns. */
function exclusionsOf(book: CampaignBook, matches: TargetMatches): DecisionTrace['excluded'] {
  const x: DecisionTrace['excluded'] = { targetId: [], buyerAccountId: [], bidCents: [], source: [], reason: [], detail: [] };
  addExclusionsInOrder({ excluded: x }, book, matches, matches.eligibleBits, () => undefined);
  return x;
}

/** Appends the call's exclusions in book order: closed targets, then those kept out by the index or short of funds. */
function addExclusionsInOrder(
  trace: Pick<DecisionTrace, 'excluded'>,
  book: CampaignBook,
  matches: TargetMatches,
  members: Int32Array,
  availableFunds: (buyerAccountId: string) => number | undefined,
): void {
  for (const c of book.closed) addExclusion(trace, { targetId: c.target.id, buyerAccountId: c.target.buyerAccountId, bidCents: c.target.bidCents, source: 'standing', reason: c.reason, detail: c.detail });
  const open = book.open;
  for (let p = 0; p < open.length; p++) {
    if ((members[p >>> 5]! & (1 << (p & 31))) !== 0) continue;
    const { target } = open[p]!;
    if (!matches.isEligible(p)) {
      addExclusion(trace, { targetId: target.id, buyerAccountId: target.buyerAccountId, bidCents: target.bidCents, source: 'standing', reason: matches.reason(p) });
      continue;
    }
    const funds = availableFunds(target.buyerAccountId)!;
    addExclusion(trace, { targetId: target.id, buyerAccountId: target.buyerAccountId, bidCents: target.bidCents, source: 'standing', reason: 'insufficient_funds', detail: `available ${funds} < bid ${target.bidCents}` });
  }
}

/** How many calls' exclusions a book remembers (a few kinds of caller, in one minute, per campaign). */
const EXCLUSIONS_KEPT = 32;

/** The exclusions of recent calls by the index's answer key (which, with the book, decides them). */
export class ExclusionCache {
  private readonly entries = new Map<string, DecisionTrace['excluded']>();

  get(key: string, build: () => DecisionTrace['excluded']): DecisionTrace['excluded'] {
    let columns = this.entries.get(key);
    if (!columns) {
      columns = build();
      if (this.entries.size >= EXCLUSIONS_KEPT) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, columns);
    }
    return columns;
  }
}

function freezeColumns<T extends object>(columns: T): T {
  for (const column of Object.values(columns)) Object.freeze(column);
  return columns;
}

/** How many auctions a book remembers: calls from one place in one minute find the same targets eligible. */
const RANKINGS_KEPT = 16;

/**
 * The last few auctions among a book's standing bids alone, by the set of targets that took part. A price auction
 * is a pure function of its bids, routing and floor (fixed for a book), so the same set gives the same ranking;
 * it is kept frozen and shared by the decisions (nothing changes a ranked bid), with its trace columns. This is
 * what keeps a thousand-bid auction from allocating a thousand ranked bids per call.
 */
export class RankingCache {
  private entries: Array<{ members: Int32Array; ranked: readonly RankedBid[] }> = [];

  get(standing: StandingBids, auction: () => RankedBid[]): RankedBid[] {
    for (const e of this.entries) if (sameBits(e.members, standing.members)) return e.ranked as RankedBid[];
    const ranked = auction();
    for (const r of ranked) Object.freeze(r);
    Object.freeze(ranked);
    rankingColumnsMemo.set(ranked, frozenColumns(ranked));
    if (this.entries.length >= RANKINGS_KEPT) this.entries.shift();
    this.entries.push({ members: standing.members, ranked });
    return ranked;
  }
}

/** The ranking's trace columns that no decision changes (status and reason are per decision). */
export type RankingColumns = Pick<DecisionTrace['ranked'], 'targetId' | 'buyerAccountId' | 'bidCents' | 'score' | 'priceCents' | 'source'>;

const rankingColumnsMemo = new WeakMap<readonly RankedBid[], RankingColumns>();

/** A ranking's columns for the trace: shared (frozen) for a cached ranking, else made at their size. */
export function rankingColumns(ranked: readonly RankedBid[]): RankingColumns {
  return rankingColumnsMemo.get(ranked) ?? columnsOf(ranked);
}

function columnsOf(ranked: readonly RankedBid[]): RankingColumns {
  return {
    targetId: ranked.map((r) => r.targetId),
    buyerAccountId: ranked.map((r) => r.buyerAccountId),
    bidCents: ranked.map((r) => r.bidCents),
    score: ranked.map((r) => r.score),
    priceCents: ranked.map((r) => r.priceCents),
    source: ranked.map((r) => r.source),
  };
}

function frozenColumns(ranked: readonly RankedBid[]): RankingColumns {
  return freezeColumns(columnsOf(ranked));
}

function sameBits(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let w = 0; w < a.length; w++) if (a[w] !== b[w]) return false;
  return true;
}
