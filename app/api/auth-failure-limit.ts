/**
 * Failed authentications (unknown or revoked keys) per source address per minute, counted in Redis so the limit holds across every node
 * (the client's keyPrefix keeps nodes of different deployments apart). An address that has failed `perMinute`
 * times this minute gets 429 `rate_limited` with Retry-After for the rest of the minute, whatever key it sends,
 * before its key is looked up: guessing keys costs the guesser, not Postgres. If Redis cannot answer, requests go
 * through (the limit protects the service; it must not take it down).
 *
 * `gate` goes before authentication, `count` (an error middleware) right after it: it counts the 401s of requests
 * that sent a key (unknown or revoked).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { ApiError } from './errors';

const WINDOW_MS = 60_000;
const SENT_KEY = /^Bearer\s+\S+$/i;

export interface AuthFailureLimit {
  gate(req: Request, res: Response, next: NextFunction): void;
  count(err: unknown, req: Request, res: Response, next: NextFunction): void;
}

export function authFailureLimit(redis: Redis, perMinute: number, log: Logger, now: () => number = Date.now): AuthFailureLimit {
  const address = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const counterKey = (ip: string, window: number): string => `authfail:${ip}:${window}`;

  return {
    gate(req, res, next) {
      if (perMinute <= 0) {
        next();
        return;
      }
      const at = now();
      const window = Math.floor(at / WINDOW_MS);
      redis.get(counterKey(address(req), window)).then(
        (value) => {
          if (Number(value ?? 0) < perMinute) {
            next();
            return;
          }
          res.setHeader('Retry-After', String(Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - at) / 1000))));
          next(new ApiError(429, 'rate_limited', `more than ${perMinute} failed authentications from this address in a minute; retry later`));
        },
        (err: unknown) => {
          log.warn({ err: (err as Error).message }, 'auth failure limit check failed; letting the request through');
          next();
        },
      );
    },

    count(err, req, _res, next) {
      // Only keys that were looked up and not found count: a request with no key costs no lookup.
      if (perMinute <= 0 || !(err instanceof ApiError) || err.status !== 401 || !SENT_KEY.test(req.get('authorization') ?? '')) {
        next(err);
        return;
      }
      const ip = address(req);
      const key = counterKey(ip, Math.floor(now() / WINDOW_MS));
      redis
        .multi()
        .incr(key)
        .pexpire(key, 2 * WINDOW_MS)
        .exec()
        .then(
          (replies) => {
            const failures = Number(replies?.[0]?.[1] ?? 0);
            if (failures === perMinute) log.warn({ ip, failures }, 'too many failed authentications from one address; refusing it for the rest of the minute');
          },
          (e: unknown) => log.warn({ err: (e as Error).message }, 'counting a failed authentication failed'),
        )
        .finally(() => next(err));
    },
  };
}
