import type { Redis } from 'ioredis';

/** A seller's ping limits per window; 0: no limit for that window. */
export interface PingLimits {
  perMinute: number;
  perHour: number;
  perDay: number;
}

export type PingWindow = 'minute' | 'hour' | 'day';

const WINDOWS: ReadonlyArray<{ window: PingWindow; ms: number }> = [
  { window: 'minute', ms: 60_000 },
  { window: 'hour', ms: 3600_000 },
  { window: 'day', ms: 86_400_000 },
];

/** How long a seller's daily outcome counts are kept (GET /v1/rtb/pings/stats reads them by UTC day). */
const STATS_RETENTION_SEC = 40 * 86_400;

/**
 * Checks every window and counts the ping in all of them, or in none: a refused ping does not use up the budget.
 * KEYS: the minute, hour and day counters. ARGV: their limits (0: none), then their TTLs in seconds.
 * Answers 0, or the index (1-3) of the first window that is full.
 */
const ADMIT_SCRIPT = `
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if limit > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then return i end
end
for i = 1, 3 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3 + i]))
end
return 0`;

type Client = Redis & { callxSellerPingAdmit(...args: Array<string | number>): Promise<number> };

const windowKey = (sellerId: string, w: { window: PingWindow; ms: number }, nowMs: number): string => `rtbrate:${sellerId}:${w.window}:${Math.floor(nowMs / w.ms)}`;
const statsKey = (sellerId: string, day: string): string => `rtbstats:${sellerId}:${day}`;

/**
 * Sellers' pings counted in Redis, across all nodes: the fixed-window rate limits (UTC minute, hour, day) and the
 * outcome counts per UTC day that the seller can read back.
 */
export class SellerPingCounts {
  private readonly client: Client;
  constructor(redis: Redis) {
    if (!('callxSellerPingAdmit' in redis)) redis.defineCommand('callxSellerPingAdmit', { lua: ADMIT_SCRIPT });
    this.client = redis as Client;
  }

  /** Admits a ping (and counts it) or names the window that is full and when it reopens. */
  async admit(sellerId: string, limits: PingLimits, nowMs: number): Promise<{ ok: true } | { ok: false; window: PingWindow; retryAfterSec: number }> {
    const keys = WINDOWS.map((w) => windowKey(sellerId, w, nowMs));
    const limitOf = { minute: limits.perMinute, hour: limits.perHour, day: limits.perDay };
    const full = await this.client.callxSellerPingAdmit(3, ...keys, ...WINDOWS.map((w) => limitOf[w.window]), ...WINDOWS.map((w) => Math.ceil(w.ms / 1000) + 60));
    if (full === 0) return { ok: true };
    const w = WINDOWS[full - 1]!;
    return { ok: false, window: w.window, retryAfterSec: Math.max(1, Math.ceil(((Math.floor(nowMs / w.ms) + 1) * w.ms - nowMs) / 1000)) };
  }

  /** Pings admitted in the current minute, hour and day. */
  async used(sellerId: string, nowMs: number): Promise<Record<PingWindow, number>> {
    const values = await this.client.mget(...WINDOWS.map((w) => windowKey(sellerId, w, nowMs)));
    return { minute: Number(values[0] ?? 0), hour: Number(values[1] ?? 0), day: Number(values[2] ?? 0) };
  }

  /** Counts one ping's outcome (`bid`, `repeat`, or a reject reason) on its UTC day. */
  async count(sellerId: string, outcome: string, nowMs: number): Promise<void> {
    const key = statsKey(sellerId, new Date(nowMs).toISOString().slice(0, 10));
    await this.client.multi().hincrby(key, outcome, 1).expire(key, STATS_RETENTION_SEC).exec();
  }

  /** One UTC day's outcome counts (YYYY-MM-DD). */
  async outcomes(sellerId: string, day: string): Promise<Record<string, number>> {
    const raw = await this.client.hgetall(statsKey(sellerId, day));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }
}
