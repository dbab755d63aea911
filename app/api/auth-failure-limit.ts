/**
 * Failed authentications (unknown or revoked keys) per source address per minute, counted in Redis so the limit holds across every node
 * (the client's keyPrefix keeps nodes of different deployments apart). An address that has failed `perMinute`
 * times this minute gets 429 `rate_limited` with Retry-After for the rest of the minute, whatever key it sends,
 * before its key is looked up: guessing keys costs the guesser, not Postgres. If Redis cannot answer, requests go
 * through (the limit protects the service; it must not take it down).
 *
 * `gate` goes before authentication, `count` (an error middleware) right after it: it counts the 401s of requests
 * that sent a key (unknown or revoked). The /live handshake uses the same counter (`counter`).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { ApiError } from './errors';

const WINDOW_MS = 60_000;
const SENT_KEY = /^Bearer\s+\S+$/i;

/**
 * The count itself, whatever the transport: the REST API's middleware below and the /live socket.io handshake
 * (app/realtime/live-calls.ts) share it, so an address has one budget of failed keys over both.
 */
export interface AuthFailureCounter {
  /**
   * The 429 for an address that has failed `perMinute` times this minute, with the seconds left in the minute;
   * undefined when it may try (limit off, under it, or Redis not answering: the limit must not take the service down).
   */
  refusal(address: string): Promise<{ error: ApiError; retryAfterSec: number } | undefined>;
  /** Counts one failed authentication (a key sent, and unknown or revoked). Never rejects. */
  record(address: string): Promise<void>;
}

export interface AuthFailureLimit {
  counter: AuthFailureCounter;
  gate(req: Request, res: Response, next: NextFunction): void;
  count(err: unknown, req: Request, res: Response, next: NextFunction): void;
}

export function authFailureCounter(redis: Redis, perMinute: number, log: Logger, now: () => number = Date.now): AuthFailureCounter {
  const counterKey = (ip: string, window: number): string => `authfail:${ip}:${window}`;
  return {
    async refusal(address) {
      if (perMinute <= 0) return undefined;
      const at = now();
      const window = Math.floor(at / WINDOW_MS);
      let value: string | null;
      try {
        value = await redis.get(counterKey(address, window));
      } catch (err) {
        log.warn({ err: (err as Error).message, ip: address }, 'auth failure limit check failed; letting the request through');
        return undefined;
      }
      if (Number(value ?? 0) < perMinute) return undefined;
      return {
        error: new ApiError(429, 'rate_limited', `more than ${perMinute} failed authentications from this address in a minute; retry later`),
        retryAfterSec: Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - at) / 1000)),
      };
    },

    async record(address) {
      if (perMinute <= 0) return;
      const key = counterKey(address, Math.floor(now() / WINDOW_MS));
      try {
        const replies = await redis.multi().incr(key).pexpire(key, 2 * WINDOW_MS).exec();
        const failures = Number(replies?.[0]?.[1] ?? 0);
        if (failures === perMinute) log.warn({ ip: address, failures }, 'too many failed authentications from one address; refusing it for the rest of the minute');
      } catch (err) {
        log.warn({ err: (err as Error).message, ip: address }, 'counting a failed authentication failed');
      }
    },
  };
}

export function authFailureLimit(redis: Redis, perMinute: number, log: Logger, now: () => number = Date.now): AuthFailureLimit {
  const counter = authFailureCounter(redis, perMinute, log, now);
  const address = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  return {
    counter,

    gate(req, res, next) {
      void counter.refusal(address(req)).then((refused) => {
        if (!refused) {
          next();
          return;
        }
        res.setHeader('Retry-After', String(refused.retryAfterSec));
        next(refused.error);
      });
    },

    count(err, req, _res, next) {
      // Only keys that were looked up and not found count: a request with no key costs no lookup.
      if (perMinute <= 0 || !(err instanceof ApiError) || err.status !== 401 || !SENT_KEY.test(req.get('authorization') ?? '')) {
        next(err);
        return;
      }
      void counter.record(address(req)).finally(() => next(err));
    },
  };
}
