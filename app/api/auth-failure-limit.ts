/**
 * Failed authentications (unknown or revoked keys) per source address per minute, counted in Redis so the limit holds across every node
 * (the client's keyPrefix keeps nodes of different deployments apart). An address that has failed `perMinute`
 * times this minute gets 429 `rate_limited` with Retry-After for the rest of the minute, whatever key it sends,
 * before its key is looked up: guessing keys costs the guesser, not Postgres. If Redis cannot answer, requests go
 * through (the limit protects the service; it must not take it down).
 *
 * `gate` goes before authentication, `count` (an error middleware) right after it: it counts the 401s of requests
 * that sent a key (unknown or revoked). The /live handshake uses the same counter (`counter`).
 *
 * With the node's subscriber (`channel`), an address's "under the limit" is trusted for ALLOWED_TTL_MS without asking
 * Redis, and the node counting the failure that reaches the limit announces the address over pub/sub before it
 * answers, so every node refuses it from the next request on. The tolerance: a node whose subscriber lost the
 * announcement lets the address try for at most ALLOWED_TTL_MS more (each key it tries is still counted, and the
 * count's reply refuses it on that node at once); a reconnected subscriber forgets every address.
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
  /**
   * What this node already knows without asking Redis: the 429 for an address refused this window, ALLOWED for one
   * trusted to be under the limit, or undefined when only `refusal` can tell.
   */
  known(address: string): { error: ApiError; retryAfterSec: number } | typeof ALLOWED | undefined;
  /** Counts one failed authentication (a key sent, and unknown or revoked). Never rejects. */
  record(address: string): Promise<void>;
  /** Settles once this node listens for addresses other nodes announce as over the limit. */
  subscribed: Promise<void>;
}

export interface AuthFailureLimit {
  counter: AuthFailureCounter;
  gate(req: Request, res: Response, next: NextFunction): void;
  count(err: unknown, req: Request, res: Response, next: NextFunction): void;
}

/**
 * How long this node trusts an address's "under the limit" without asking Redis again. An address crossing the
 * limit is announced to every node over pub/sub at once (see below); this bounds how late a node that missed the
 * announcement (its subscriber dropped and has not yet come back) keeps letting the address try.
 */
export const ALLOWED_TTL_MS = 1_000;

/** `known`: the address may try, as far as this node knows. */
export const ALLOWED = 'allowed';

/** Redis pub/sub: an address that just reached the limit, for the rest of a window (prefixed by hand). */
export const authRefusedChannel = (prefix: string): string => `${prefix}auth-refused`;

/** What this node knows of one address in one window. */
interface Seen {
  window: number;
  refused: boolean;
  /** when Redis last said the address was under the limit */
  checkedAt: number;
}

/**
 * The node's side of the counter's pub/sub: where addresses crossing the limit are announced and heard. Without it
 * (tests building a counter alone) every check asks Redis, as before.
 */
export interface AuthRefusedChannel {
  subscriber: Redis;
  prefix: string;
}

export function authFailureCounter(redis: Redis, perMinute: number, log: Logger, now: () => number = Date.now, channel?: AuthRefusedChannel): AuthFailureCounter {
  const counterKey = (ip: string, window: number): string => `authfail:${ip}:${window}`;
  // A Redis GET for every request cost a round trip on every API call, almost all of them from addresses far
  // under the limit: an address's "under the limit" is kept for ALLOWED_TTL_MS, and the node that counts the
  // failure that reaches the limit tells every node before it answers that request.
  const seen = new Map<string, Seen>();
  let subscribed: Promise<void> = Promise.resolve();
  const remember = (address: string, s: Seen): void => {
    if (seen.size > 10_000) seen.clear(); // a guard, not a cache policy
    seen.set(address, s);
  };
  const markRefused = (address: string, window: number): void => remember(address, { window, refused: true, checkedAt: 0 });
  const refusalOf = (at: number, window: number) => ({
    error: new ApiError(429, 'rate_limited', `more than ${perMinute} failed authentications from this address in a minute; retry later`),
    retryAfterSec: Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - at) / 1000)),
  });
  if (channel && perMinute > 0) {
    const name = authRefusedChannel(channel.prefix);
    let connectedOnce = channel.subscriber.status === 'ready';
    channel.subscriber.on('message', (ch: string, message: string) => {
      if (ch !== name) return;
      const m = /^(\d+) (.+)$/.exec(message);
      if (m) markRefused(m[2]!, Number(m[1]));
    });
    // A reconnection may have lost announcements: ask Redis again for every address.
    channel.subscriber.on('ready', () => {
      if (connectedOnce) seen.clear();
      connectedOnce = true;
    });
    subscribed = channel.subscriber.subscribe(name).then(
      () => undefined,
      (err: Error) => log.warn({ err: err.message }, 'could not subscribe to auth failure announcements; addresses are checked in Redis every second'),
    );
  }
  const knownNow = (address: string): ReturnType<AuthFailureCounter['known']> => {
    if (perMinute <= 0) return ALLOWED;
    const at = now();
    const window = Math.floor(at / WINDOW_MS);
    const known = seen.get(address);
    if (known && known.window === window) {
      if (known.refused) return refusalOf(at, window);
      if (channel && at - known.checkedAt < ALLOWED_TTL_MS) return ALLOWED;
    }
    return undefined;
  };

  return {
    subscribed,
    known: knownNow,

    async refusal(address) {
      const known = knownNow(address);
      if (known !== undefined) return known === ALLOWED ? undefined : known;
      const at = now();
      const window = Math.floor(at / WINDOW_MS);
      let value: string | null;
      try {
        value = await redis.get(counterKey(address, window));
      } catch (err) {
        log.warn({ err: (err as Error).message, ip: address }, 'auth failure limit check failed; letting the request through');
        return undefined;
      }
      if (Number(value ?? 0) < perMinute) {
        // Not over an announcement heard while the GET was on its way.
        if (!seen.get(address)?.refused) remember(address, { window, refused: false, checkedAt: at });
        return undefined;
      }
      markRefused(address, window);
      return refusalOf(at, window);
    },

    async record(address) {
      if (perMinute <= 0) return;
      const window = Math.floor(now() / WINDOW_MS);
      const key = counterKey(address, window);
      try {
        const replies = await redis.multi().incr(key).pexpire(key, 2 * WINDOW_MS).exec();
        const failures = Number(replies?.[0]?.[1] ?? 0);
        if (failures >= perMinute) markRefused(address, window);
        if (failures === perMinute) {
          log.warn({ ip: address, failures }, 'too many failed authentications from one address; refusing it for the rest of the minute');
          // Awaited: every node hears it before this request's answer goes out.
          if (channel) await redis.publish(authRefusedChannel(channel.prefix), `${window} ${address}`);
        }
      } catch (err) {
        log.warn({ err: (err as Error).message, ip: address }, 'counting a failed authentication failed');
      }
    },
  };
}

export function authFailureLimit(redis: Redis, perMinute: number, log: Logger, now: () => number = Date.now, channel?: AuthRefusedChannel): AuthFailureLimit {
  const counter = authFailureCounter(redis, perMinute, log, now, channel);
  const address = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  return {
    counter,

    gate(req, res, next) {
      const refuse = (refused: { error: ApiError; retryAfterSec: number } | undefined): void => {
        if (!refused) {
          next();
          return;
        }
        res.setHeader('Retry-After', String(refused.retryAfterSec));
        next(refused.error);
      };
      // Almost every request comes from an address this node already knows: answered at once, no promise.
      const ip = address(req);
      const known = counter.known(ip);
      if (known !== undefined) refuse(known === ALLOWED ? undefined : known);
      else void counter.refusal(ip).then(refuse);
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
