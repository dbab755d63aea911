import type { Bid } from '../domain/auction';
import type { Campaign } from '../domain/model';
import type { ConsumerLocation } from '../domain/geo';

/** What a bidder is told about a call. */
export interface BidRequest {
  callId: string;
  campaign: Campaign;
  callerE164: string;
  location: ConsumerLocation;
  areaCode?: string;
  zip?: string;
  now: Date;
}

/**
 * A source of bids. Standing bids answer synchronously; a real-time bidder (HTTP ping/post) returns a
 * promise and is cut off at the campaign's deadline. Bids from every source are validated in one place
 * (the router) before they enter the auction.
 */
export interface Bidder {
  readonly name: string;
  bid(req: BidRequest): Bid[] | Promise<Bid[]>;
}

export interface CollectedBids {
  bids: Bid[];
  /** bidders that did not answer before the deadline */
  late: string[];
  /** bidders that failed, with the message and, when the error carries one, the trace reason (e.g. bid_invalid) */
  failed: Array<{ bidder: string; error: string; reason?: string }>;
}

/**
 * Asks every bidder at once and keeps what arrives before the deadline. When every bidder answers
 * synchronously (standing bids only) nothing is awaited, so the common path costs no timer and no tick.
 */
export function collectBids(bidders: readonly Bidder[], req: BidRequest, deadlineMs: number): CollectedBids | Promise<CollectedBids> {
  const out: CollectedBids = { bids: [], late: [], failed: [] };
  const pending: Array<{ name: string; promise: Promise<Bid[]> }> = [];
  for (const bidder of bidders) {
    try {
      const r = bidder.bid(req);
      if (Array.isArray(r)) out.bids.push(...r);
      else pending.push({ name: bidder.name, promise: r });
    } catch (err) {
      out.failed.push(failure(bidder.name, err));
    }
  }
  if (pending.length === 0) return out;
  return new Promise<CollectedBids>((resolve) => {
    let open = pending.length;
    let done = false;
    const settled = new Set<string>();
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const p of pending) if (!settled.has(p.name)) out.late.push(p.name);
      resolve(out);
    };
    const timer = setTimeout(finish, deadlineMs);
    for (const p of pending) {
      p.promise.then(
        (bids) => {
          if (done || settled.has(p.name)) return;
          settled.add(p.name);
          out.bids.push(...bids);
          if (--open === 0) finish();
        },
        (err: unknown) => {
          if (done || settled.has(p.name)) return;
          settled.add(p.name);
          out.failed.push(failure(p.name, err));
          if (--open === 0) finish();
        },
      );
    }
  });
}

function failure(bidder: string, err: unknown): { bidder: string; error: string; reason?: string } {
  const reason = (err as { reason?: unknown })?.reason;
  return { bidder, error: (err as Error)?.message ?? String(err), ...(typeof reason === 'string' ? { reason } : {}) };
}
