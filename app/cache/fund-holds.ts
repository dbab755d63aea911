import type { Redis } from 'ioredis';

/**
 * Fund holds: what a buyer's calls in progress may still cost it, held against its available funds (balance +
 * credit) in Redis, so every node sees the same figures and a buyer can never take more calls at once than it can
 * pay for.
 *
 * Per buyer, two keys:
 * - `funds:<buyer>`, a hash: `a` the available funds (cents) as Postgres last said, `v` that figure's funds version
 *   (accounts.funds_version, bumped by every balance or credit change), `held` the running total of the holds, and
 *   one field `h:<call id>` per hold with its cents (so a release knows what to give back, and holding twice holds once);
 * - `funds:<buyer>:leases`, a sorted set of the held call ids scored by lease expiry: a safety net like the
 *   concurrency slots' (a hold its node never released is swept by the next reservation for that buyer, and the
 *   running total corrected), never a scan of all holds on the call path.
 *
 * A hold is taken in the same script as the call's cap reservation (screen-and-reserve.ts, cap-ledger.ts), released
 * with it when a bridge fails, and settled by billing: the script that writes the buyer's new figure (lowered by
 * the charge) releases the hold too, so there is no moment when neither the hold nor the charge counts.
 * A buyer whose figure is not in Redis (never loaded) cannot be held against: it is refused, like one out of funds.
 * So every load of all the figures (a node's snapshot load) writes a marker with them, in the same script: a Redis
 * that comes back empty (restarted, flushed, failed over) has no marker, and the node reloads the figures at once
 * (exchange-node.ts) instead of refusing every buyer until its next snapshot reload.
 */

/** Set with every buyer's figure by a full load; a Redis that lost its data has none. Not under `funds:` (a buyer id). */
export const FUNDS_LOADED_KEY = 'funds-loaded';

/** What a call holds against its buyer: kept with the call's cap counters, and all that is needed to release it. */
export interface FundHold {
  buyerId: string;
  cents: number;
}

/** A buyer's available funds as Postgres last said, with the version that orders the figures. */
export interface FundsFigure {
  cents: number;
  version: number;
}

/** The two keys of a buyer's holds (without the deployment's prefix): the hash, then the leases. */
export function fundKeys(buyerId: string): [string, string] {
  return [`funds:${buyerId}`, `funds:${buyerId}:leases`];
}

/**
 * Lua shared by every script that touches holds. `fk`/`lk` are a buyer's two keys.
 * fundsShort answers true when the call cannot be held (it sweeps expired leases first); fundsHold takes the hold
 * (call it only after fundsShort said false, in the same script). A call holds once per buyer: holding again sets
 * the hold to the new price (a failover to another target of the same buyer whose first hold Redis refused to
 * release), and needs funds only for what it adds.
 */
export const FUNDS_LUA = `
local function fundsRelease(fk, lk, callId)
  local cents = redis.call('HGET', fk, 'h:' .. callId)
  if cents then
    redis.call('HDEL', fk, 'h:' .. callId)
    redis.call('HINCRBY', fk, 'held', 0 - tonumber(cents)) -- not -x: Lua's -0 is not an integer to Redis
  end
  redis.call('ZREM', lk, callId)
end
local function fundsSweep(fk, lk, now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', lk, '-inf', now)) do fundsRelease(fk, lk, id) end
end
local function fundsShort(fk, lk, now, callId, cents)
  fundsSweep(fk, lk, now)
  local f = redis.call('HMGET', fk, 'a', 'held', 'h:' .. callId)
  local mine = tonumber(f[3] or '0')
  if f[3] and cents <= mine then return false end
  if not f[1] then return true end
  return tonumber(f[1]) - tonumber(f[2] or '0') + mine < cents
end
local function fundsHold(fk, lk, leaseUntil, callId, cents)
  local mine = redis.call('HGET', fk, 'h:' .. callId)
  if not mine or tonumber(mine) ~= cents then
    redis.call('HSET', fk, 'h:' .. callId, cents)
    redis.call('HINCRBY', fk, 'held', cents - tonumber(mine or '0'))
  end
  redis.call('ZADD', lk, leaseUntil, callId)
end
local function fundsSet(fk, cents, version)
  local v = tonumber(redis.call('HGET', fk, 'v') or '-1')
  if version <= v then return 0 end
  redis.call('HSET', fk, 'a', cents, 'v', version)
  return 1
end
`;

/**
 * Sets figures (each only over an older version), then releases holds. KEYS: one hash per figure, then a hash and
 * its leases per release. ARGV: the number of figures, cents and version per figure, then the released call ids.
 * Answers how many figures were written.
 */
const SETTLE_SCRIPT = `${FUNDS_LUA}
local nf = tonumber(ARGV[1])
local written = 0
for i = 1, nf do
  written = written + fundsSet(KEYS[i], tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1]))
end
local r = 0
for i = 2 + 2 * nf, #ARGV do
  fundsRelease(KEYS[nf + 2 * r + 1], KEYS[nf + 2 * r + 2], ARGV[i])
  r = r + 1
end
return written`;

/**
 * Every buyer's figure, then the marker that says Redis has them all (one script: never the marker without the
 * figures). KEYS: one hash per figure, then the marker. ARGV: cents and version per figure, then the marker's value.
 */
const LOAD_SCRIPT = `${FUNDS_LUA}
local nf = #KEYS - 1
for i = 1, nf do
  fundsSet(KEYS[i], tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i]))
end
redis.call('SET', KEYS[#KEYS], ARGV[#ARGV])
return nf`;

type Client = Redis & {
  callxFundsSettle(...args: Array<string | number>): Promise<number>;
  callxFundsLoad(...args: Array<string | number>): Promise<number>;
};

export class FundHolds {
  private readonly client: Client;
  constructor(redis: Redis) {
    if (!('callxFundsSettle' in redis)) {
      redis.defineCommand('callxFundsSettle', { lua: SETTLE_SCRIPT });
      redis.defineCommand('callxFundsLoad', { lua: LOAD_SCRIPT });
    }
    this.client = redis as Client;
  }

  /**
   * Writes buyers' figures (each only over an older version) and, in the same script, releases holds: billing
   * passes the figures its postings produced and the calls they settle. Answers how many figures were written.
   */
  async settle(figures: ReadonlyMap<string, FundsFigure>, released: ReadonlyArray<{ callId: string; buyerId: string }> = []): Promise<number> {
    if (figures.size === 0 && released.length === 0) return 0;
    const keys: string[] = [];
    const args: Array<string | number> = [figures.size];
    for (const [buyerId, f] of figures) {
      keys.push(fundKeys(buyerId)[0]);
      args.push(f.cents, f.version);
    }
    for (const r of released) {
      keys.push(...fundKeys(r.buyerId));
      args.push(r.callId);
    }
    return this.client.callxFundsSettle(keys.length, ...keys, ...args);
  }

  /**
   * Writes every buyer's figure (each only over an older version, so a billing write that raced the read wins) and
   * marks the figures loaded. Only for a load of all buyers: the marker tells a node Redis has them all.
   */
  async loadAll(figures: ReadonlyMap<string, FundsFigure>): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const [buyerId, f] of figures) {
      keys.push(fundKeys(buyerId)[0]);
      args.push(f.cents, f.version);
    }
    keys.push(FUNDS_LOADED_KEY);
    args.push(new Date().toISOString());
    await this.client.callxFundsLoad(keys.length, ...keys, ...args);
  }

  /** Whether Redis holds every buyer's figure (false after it came back empty, until the next full load). */
  async loaded(): Promise<boolean> {
    return (await this.client.exists(FUNDS_LOADED_KEY)) === 1;
  }

  /** Gives back one call's hold (idempotent: a second release, or one for a call that holds nothing, does nothing). */
  async release(callId: string, buyerId: string): Promise<void> {
    await this.settle(new Map(), [{ callId, buyerId }]);
  }

  /** The sum of a buyer's holds right now (a read; expired leases are swept by the next reservation). */
  async heldFor(buyerId: string): Promise<number> {
    return Number((await this.client.hget(fundKeys(buyerId)[0], 'held')) ?? 0);
  }

  /** A buyer's figure as Redis has it, and what its holds take from it; undefined when never loaded. */
  async funds(buyerId: string): Promise<{ availableCents: number; version: number; heldCents: number } | undefined> {
    const [a, v, held] = await this.client.hmget(fundKeys(buyerId)[0], 'a', 'v', 'held');
    if (a === null) return undefined;
    return { availableCents: Number(a), version: Number(v), heldCents: Number(held ?? 0) };
  }
}
