/**
 * Requests per API key per second, counted in Redis so the limit holds across every node. Over the limit: 429
 * `rate_limited` with Retry-After. If Redis cannot answer, the request goes through (the limit protects the
 * service; it must not take it down).
 *
 * A Redis round trip per request cost more than the rest of a cached read, so each node leases a share of a key's
 * budget for the current second in chunks (INCRBY of the chunk on the key's counter for that second, clamped so
 * the leases never add up to more than the limit) and serves requests from its lease until it runs out. The limit
 * is never exceeded; the tolerance is the other way: a key can be refused up to (nodes - 1) x (chunk - 1) requests
 * early, budget leased by other nodes but not used there. The chunk is a fiftieth of the limit (at least 1, so a
 * small limit is counted exactly, one request per lease, as before). RateLimit-Remaining is this node's view:
 * the budget not yet leased by any node as of its last lease, plus what is left of its own lease.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { ApiError } from './errors';

const SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], 2) end
return n`;

/** A chunk is this fraction of the per-second limit: 2% per other node is the most a key can be refused early. */
const LEASE_DIVISOR = 50;

/** takeNow: over the limit for the rest of this second. */
const REFUSED = Symbol('refused');
/** takeNow: this node's lease is used up; lease more from Redis first. */
const LEASE = Symbol('lease');

type Client = Redis & { callxRateLease(key: string, chunk: number): Promise<number> };

/** One key's lease on this node for one second. */
interface Window {
  second: number;
  /** Requests this node may still let through this second. */
  left: number;
  /** The key's counter in Redis (all nodes' leases) after this node's last lease. */
  total: number;
  /** Redis granted nothing: the key is over its limit for the rest of this second. */
  refused: boolean;
  lease?: Promise<void>;
}

export function rateLimit(redis: Redis, perSecond: number, log: Logger, now: () => number = Date.now) {
  if (!('callxRateLease' in redis)) redis.defineCommand('callxRateLease', { numberOfKeys: 1, lua: SCRIPT });
  const client = redis as Client;
  const chunk = Math.max(1, Math.floor(perSecond / LEASE_DIVISOR));
  const windows = new Map<string, Window>();
  const limitHeader = String(perSecond);

  const lease = async (keyId: string, w: Window): Promise<void> => {
    try {
      const total = await client.callxRateLease(`ratelimit:${keyId}:${w.second}`, chunk);
      const granted = Math.max(0, Math.min(chunk, perSecond - (total - chunk)));
      w.total = Math.max(w.total, total);
      w.left += granted;
      if (granted === 0) w.refused = true;
    } finally {
      w.lease = undefined;
    }
  };

  /**
   * Takes one request from the key's budget without waiting: how many remain, REFUSED when over the limit, or LEASE
   * when this node must lease more first (the only case that waits on Redis).
   */
  const takeNow = (keyId: string, second: number): number | typeof REFUSED | typeof LEASE => {
    let w = windows.get(keyId);
    if (!w || w.second < second) {
      if (windows.size > 10_000) windows.clear(); // old keys' windows; a guard, not a cache policy
      w = { second, left: 0, total: 0, refused: false };
      windows.set(keyId, w);
    }
    if (w.left > 0) {
      w.left--;
      return Math.max(0, perSecond - w.total) + w.left;
    }
    return w.refused ? REFUSED : LEASE;
  };

  /** takeNow, leasing (once for all the requests waiting on this key) until it answers. */
  const take = async (keyId: string, second: number): Promise<number | typeof REFUSED> => {
    for (;;) {
      const r = takeNow(keyId, second);
      if (r !== LEASE) return r;
      const w = windows.get(keyId)!;
      // Requests arriving while a lease is on its way wait for it instead of leasing again.
      w.lease ??= lease(keyId, w);
      await w.lease;
    }
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    const keyId = req.principal?.keyId;
    if (!keyId || perSecond <= 0) {
      next();
      return;
    }
    const answer = (remaining: number | typeof REFUSED): void => {
      res.setHeader('RateLimit-Limit', limitHeader);
      if (remaining === REFUSED) {
        res.setHeader('RateLimit-Remaining', '0');
        res.setHeader('Retry-After', '1');
        next(new ApiError(429, 'rate_limited', `more than ${perSecond} requests in a second with this API key; retry after a second`));
        return;
      }
      res.setHeader('RateLimit-Remaining', String(remaining));
      next();
    };
    const second = Math.floor(now() / 1000);
    // Most requests are served from this node's lease: answered at once, no promise.
    const r = takeNow(keyId, second);
    if (r !== LEASE) {
      answer(r);
      return;
    }
    take(keyId, second).then(answer, (err: unknown) => {
      log.warn({ err: (err as Error).message }, 'rate limit check failed; letting the request through');
      next();
    });
  };
}
