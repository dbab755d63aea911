import type { Redis } from 'ioredis';
import type { CapCounter } from '../domain/caps';
import type { RankedBid } from '../domain/auction';
import { CONCURRENCY_LEASE_MS } from './cap-ledger';
import { FUNDS_LUA, fundKeys, type FundHold } from './fund-holds';

/**
 * Capacity held for a seller's bid (POST /rtb/ping) until the call arrives or the bid expires, in Redis, shared by
 * every node:
 * - the reservation itself is taken by the router like a call's (screen-and-reserve.ts, cap-ledger.ts) under the
 *   bid's id, with the bid's expiry as the lease of its concurrency slot and fund hold: those come back by
 *   themselves when it lapses, even if no node is left to give them back;
 * - `rtbres:<bid id>`: the reservation (the ranked bid, its counters and hold, who and where), kept an hour past
 *   the expiry so the sweeper can still give back its period counts;
 * - `rtbres:expiring`: the live reservations by expiry. A reservation leaves it exactly once (a Lua ZREM decides):
 *   claimed by a call, or given back by a node's sweep once expired (period counts too), never both;
 * - `rtbclaim:<tracking number>:<caller>`: the bid a call from that caller to that number claims (TTL: the expiry);
 * - `rtbping:<hash of seller, campaign, caller and tags>`: the bid a repeated ping gets back (TTL: the expiry).
 * A claimed reservation becomes the call's: its concurrency slot and fund hold move to the call id with a call's
 * lease, its period counts stay counted (the call is the one they were taken for).
 */
export interface SellerBidReservation {
  bidId: string;
  sellerAccountId: string;
  campaignId: string;
  trackingNumber: string;
  callerE164: string;
  bid: RankedBid;
  /** what the seller was quoted (its payout at the bid's price): a repeated ping gets it again */
  payoutCents: number;
  counters: CapCounter[];
  hold: FundHold;
  expiresAtMs: number;
}

const EXPIRING_KEY = 'rtbres:expiring';
/** How long a reservation's record outlives its expiry: time for a sweep to find it. */
const RECORD_GRACE_MS = 3600_000;

const recordKey = (bidId: string): string => `rtbres:${bidId}`;
const claimKey = (trackingNumber: string, callerE164: string): string => `rtbclaim:${trackingNumber}:${callerE164}`;

/**
 * Takes a reservation off `expiring` (only if it is still there and, for a claim, unexpired), then moves its
 * concurrency slots and fund hold to the call (claim) or gives them back with its period counts (release).
 * KEYS: 1 expiring, 2 the claim key, then the counters' keys, then the hold's two keys.
 * ARGV: 1 bid id, 2 mode ('claim' | 'release'), 3 now, 4 the call id, 5 the call's lease end, then each counter's kind.
 */
const TAKE_SCRIPT = `${FUNDS_LUA}
local bidId = ARGV[1]
local mode = ARGV[2]
local now = tonumber(ARGV[3])
local score = redis.call('ZSCORE', KEYS[1], bidId)
if not score then return 0 end
if mode == 'claim' and tonumber(score) <= now then return 0 end
redis.call('ZREM', KEYS[1], bidId)
if redis.call('GET', KEYS[2]) == bidId then redis.call('DEL', KEYS[2]) end
local n = #KEYS - 4
for i = 1, n do
  local key = KEYS[2 + i]
  local kind = ARGV[5 + i]
  if kind == 'concurrency' then
    redis.call('ZREM', key, bidId)
    if mode == 'claim' then redis.call('ZADD', key, tonumber(ARGV[5]), ARGV[4]) end
  elseif mode == 'release' then
    local v = tonumber(redis.call('GET', key) or '0')
    if v > 0 then redis.call('DECR', key) end
  end
end
local fk = KEYS[#KEYS - 1]
local lk = KEYS[#KEYS]
if mode == 'claim' then
  local cents = redis.call('HGET', fk, 'h:' .. bidId)
  fundsRelease(fk, lk, bidId)
  if cents then fundsHold(fk, lk, tonumber(ARGV[5]), ARGV[4], tonumber(cents)) end
else
  fundsRelease(fk, lk, bidId)
end
return 1`;

/**
 * A ping's bid becomes the one its repeats get, unless an identical ping's bid is still live (unclaimed, unexpired):
 * then that one's id is answered. KEYS: 1 the ping's repeat key, 2 expiring. ARGV: 1 bid id, 2 now, 3 TTL (ms).
 */
const REMEMBER_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local score = redis.call('ZSCORE', KEYS[2], cur)
  if score and tonumber(score) > tonumber(ARGV[2]) then return cur end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false`;

type Client = Redis & {
  callxSellerBidTake(...args: Array<string | number>): Promise<number>;
  callxSellerBidRemember(...args: Array<string | number>): Promise<string | null>;
};

export class SellerBidReservations {
  private readonly client: Client;
  constructor(redis: Redis) {
    if (!('callxSellerBidTake' in redis)) {
      redis.defineCommand('callxSellerBidTake', { lua: TAKE_SCRIPT });
      redis.defineCommand('callxSellerBidRemember', { lua: REMEMBER_SCRIPT });
    }
    this.client = redis as Client;
  }

  /** Records a reservation the router took under the bid's id, and makes it claimable by the caller's call. */
  async put(r: SellerBidReservation, nowMs: number): Promise<void> {
    const ttl = Math.max(1, r.expiresAtMs - nowMs);
    await this.client
      .multi()
      .set(recordKey(r.bidId), JSON.stringify(r), 'PX', ttl + RECORD_GRACE_MS)
      .zadd(EXPIRING_KEY, r.expiresAtMs, r.bidId)
      .set(claimKey(r.trackingNumber, r.callerE164), r.bidId, 'PX', ttl)
      .exec();
  }

  /** The live (unclaimed, unexpired) reservation of a bid, if any. */
  async live(bidId: string, nowMs: number): Promise<SellerBidReservation | undefined> {
    const [[, score], [, raw]] = (await this.client.multi().zscore(EXPIRING_KEY, bidId).get(recordKey(bidId)).exec()) as unknown as [[unknown, string | null], [unknown, string | null]];
    if (score === null || Number(score) <= nowMs || raw === null) return undefined;
    return JSON.parse(raw) as SellerBidReservation;
  }

  /**
   * Where the id of the bid a call to `trackingNumber` from `callerE164` would claim is kept: the call path reads it
   * inside its screening script (screen-and-reserve.ts).
   */
  claimKeyFor(trackingNumber: string, callerE164: string): string {
    return claimKey(trackingNumber, callerE164);
  }

  /**
   * Claims a bid for a call: its reservation, moved to the call, or undefined when it is no longer live (expired,
   * claimed by another call) and the call is auctioned.
   */
  async claim(bidId: string, callId: string, nowMs: number): Promise<SellerBidReservation | undefined> {
    const raw = await this.client.get(recordKey(bidId));
    if (!raw) return undefined;
    const r = JSON.parse(raw) as SellerBidReservation;
    const taken = await this.take(r, 'claim', nowMs, callId, nowMs + CONCURRENCY_LEASE_MS);
    return taken ? r : undefined;
  }

  /** Gives an unclaimed bid's reservation back now (its caller was refused), if it is still there. */
  async releaseById(bidId: string, nowMs: number): Promise<boolean> {
    const raw = await this.client.get(recordKey(bidId));
    return raw ? this.release(JSON.parse(raw) as SellerBidReservation, nowMs) : false;
  }

  /** Gives an unclaimed reservation back (expired), once: answers false when it was already claimed or given back. */
  async release(r: SellerBidReservation, nowMs: number): Promise<boolean> {
    return this.take(r, 'release', nowMs, '-', 0);
  }

  /**
   * Gives back every reservation that expired unclaimed (period counts included; slots and holds lapse by
   * themselves too). Safe on every node at once: each reservation is given back once. Answers how many.
   */
  async sweep(nowMs: number, max = 200): Promise<number> {
    const ids = await this.client.zrangebyscore(EXPIRING_KEY, '-inf', nowMs, 'LIMIT', 0, max);
    let released = 0;
    for (const bidId of ids) {
      const raw = await this.client.get(recordKey(bidId));
      if (!raw) {
        await this.client.zrem(EXPIRING_KEY, bidId); // its record is gone: its slot and hold lapsed by their leases
        continue;
      }
      if (await this.release(JSON.parse(raw) as SellerBidReservation, nowMs)) released += 1;
    }
    return released;
  }

  /** The bid an identical earlier ping got, if it was remembered (repeat pings get the same bid). */
  async repeatOf(pingKey: string): Promise<string | undefined> {
    return (await this.client.get(`rtbping:${pingKey}`)) ?? undefined;
  }

  /**
   * Makes `bidId` the bid repeats of this ping get, unless an identical ping's bid is live (another node answered
   * it a moment ago): then answers that one's id, and the caller gives its own reservation back. (Two identical
   * pings within the moment between this and `put` may still both reserve; the spare one expires.)
   */
  async rememberPing(pingKey: string, bidId: string, nowMs: number, ttlMs: number): Promise<string | undefined> {
    return (await this.client.callxSellerBidRemember(2, `rtbping:${pingKey}`, EXPIRING_KEY, bidId, nowMs, Math.max(1, ttlMs))) ?? undefined;
  }

  /** Forgets a ping's bid (it could not be stored): its repeats are decided anew. */
  async forgetPing(pingKey: string, bidId: string): Promise<void> {
    if ((await this.client.get(`rtbping:${pingKey}`)) === bidId) await this.client.del(`rtbping:${pingKey}`);
  }

  private async take(r: SellerBidReservation, mode: 'claim' | 'release', nowMs: number, callId: string, leaseUntil: number): Promise<boolean> {
    const keys = [EXPIRING_KEY, claimKey(r.trackingNumber, r.callerE164), ...r.counters.map((c) => c.key), ...fundKeys(r.hold.buyerId)];
    const done = await this.client.callxSellerBidTake(keys.length, ...keys, r.bidId, mode, nowMs, callId, leaseUntil, ...r.counters.map((c) => c.kind));
    return done === 1;
  }
}
