/**
 * A seller's calls of the last hour, as the fraud rules on seller traffic count them (sellerCallsLastHour: its ended
 * calls; sellerShortCallsLastHour: those bridged and shorter than shortCallSec), each by the call's start. Counting
 * them in Postgres walked every call of the seller's hour for each ended call (6 ms with 1,800 calls in the hour;
 * at 100 calls/s an hour holds 360,000), so the cost per call grew with the traffic. Here two sorted sets per seller,
 * scored by start: each ended call adds itself, entries older than the keep window go, and the hour before its
 * start is counted. A call counts once its ended stage is scored; it is added by id, so a retried job adds nothing.
 *
 * A fraud job's calls go in one Lua script, in the job's order: a MULTI of up to eight commands per call was most of
 * the fraud worker's Redis traffic per call.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

const HOUR_MS = 3_600_000;
/** how far back entries are kept: an hour's window, and room for calls scored late */
const KEEP_MS = 3 * HOUR_MS;

export interface SellerHour {
  calls: number;
  short: number;
}

export interface SellerCall {
  sellerId: string;
  callId: string;
  startedAtMs: number;
  short: boolean;
}

// KEYS: per call, its seller's ended and short sets. ARGV: the keep window (ms), then per call: its id, its start,
// the hour's lower bound and the keep window's (exclusive, as strings: Lua would print big numbers in exponent form),
// and 1 if short. Returns per call its seller's calls and short calls in the hour before its start.
const RECORD_AND_COUNT = `
local keep = ARGV[1]
local out = {}
for i = 1, #KEYS / 2 do
  local ended, short = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 1 + (i - 1) * 5
  local id, at, from, oldest = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  redis.call('ZADD', ended, at, id)
  if ARGV[a + 5] == '1' then redis.call('ZADD', short, at, id) end
  redis.call('ZREMRANGEBYSCORE', ended, '-inf', oldest)
  redis.call('ZREMRANGEBYSCORE', short, '-inf', oldest)
  out[2 * i - 1] = redis.call('ZCOUNT', ended, from, at)
  out[2 * i] = redis.call('ZCOUNT', short, from, at)
  redis.call('PEXPIRE', ended, keep)
  redis.call('PEXPIRE', short, keep)
end
return out`;

const SHA = createHash('sha1').update(RECORD_AND_COUNT).digest('hex');

export class SellerCallWindows {
  /** `redis`: the node's prefixed client */
  constructor(private readonly redis: Redis) {}

  /** Records each call in its seller's hour and answers the hour each saw, in the order given. */
  async recordAndCount(calls: readonly SellerCall[]): Promise<SellerHour[]> {
    if (calls.length === 0) return [];
    const keys: string[] = [];
    const args: string[] = [String(KEEP_MS)];
    for (const c of calls) {
      keys.push(`fraud:seller-ended:${c.sellerId}`, `fraud:seller-short:${c.sellerId}`);
      args.push(c.callId, String(c.startedAtMs), `(${String(c.startedAtMs - HOUR_MS)}`, `(${String(c.startedAtMs - KEEP_MS)}`, c.short ? '1' : '0');
    }
    // EVALSHA, and the whole script only when Redis does not have it yet. Not defineCommand: defining a command on a
    // client that auto-pipelines (the node's) while one of its pipelines is open breaks that pipeline (ioredis#1931).
    const counts = (await this.redis.evalsha(SHA, keys.length, ...keys, ...args).catch((err: Error) => {
      if (!err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(RECORD_AND_COUNT, keys.length, ...keys, ...args);
    })) as number[];
    return calls.map((_c, i) => ({ calls: Number(counts[2 * i]), short: Number(counts[2 * i + 1]) }));
  }
}
