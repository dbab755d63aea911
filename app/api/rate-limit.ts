/**
 * Requests per API key per second, counted in Redis so the limit holds across every node: one INCR per request
 * on a counter that expires with its second. Over the limit: 429 `rate_limited` with Retry-After. If Redis cannot
 * answer, the request goes through (the limit protects the service; it must not take it down).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { ApiError } from './errors';

const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], 2) end
return n`;

type Client = Redis & { callxRateCount(key: string): Promise<number> };

export function rateLimit(redis: Redis, perSecond: number, log: Logger, now: () => number = Date.now) {
  if (!('callxRateCount' in redis)) redis.defineCommand('callxRateCount', { numberOfKeys: 1, lua: SCRIPT });
  const client = redis as Client;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const keyId = req.principal?.keyId;
    if (!keyId || perSecond <= 0) {
      next();
      return;
    }
    const second = Math.floor(now() / 1000);
    let count: number;
    try {
      count = await client.callxRateCount(`ratelimit:${keyId}:${second}`);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'rate limit check failed; letting the request through');
      next();
      return;
    }
    res.setHeader('RateLimit-Limit', String(perSecond));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, perSecond - count)));
    if (count > perSecond) {
      res.setHeader('Retry-After', '1');
      next(new ApiError(429, 'rate_limited', `more than ${perSecond} requests in a second with this API key; retry after a second`));
      return;
    }
    next();
  };
}
