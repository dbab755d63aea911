/**
 * The seller's hour of many ended calls at once, for a fraud job: what SellerCallWindows.recordAndCount
 * (app/cache/seller-call-windows.ts) does for one call (add the call to its seller's sorted sets by its start, drop
 * entries older than the keep window, count the hour before its start), for a whole job in one Lua script, in the
 * job's order. Called per call, it was a MULTI of up to eight commands per ended call: a round trip and a pipeline
 * each, the most of the fraud worker's Redis traffic per call. Same keys, same rules: the two must stay in step (a
 * candidate to fold into SellerCallWindows).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SellerHour } from '../cache/seller-call-windows';

const HOUR_MS = 3_600_000;
/** how far back entries are kept: an hour's window, and room for calls scored late (as SellerCallWindows) */
const KEEP_MS = 3 * HOUR_MS;

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

/** Records each call in its seller's hour and answers the hour each saw, in the order given. `redis` is the node's prefixed client. */
export async function recordSellerHours(redis: Redis, calls: readonly SellerCall[]): Promise<SellerHour[]> {
  if (calls.length === 0) return [];
  const keys: string[] = [];
  const args: string[] = [String(KEEP_MS)];
  for (const c of calls) {
    keys.push(`fraud:seller-ended:${c.sellerId}`, `fraud:seller-short:${c.sellerId}`);
    args.push(c.callId, String(c.startedAtMs), `(${String(c.startedAtMs - HOUR_MS)}`, `(${String(c.startedAtMs - KEEP_MS)}`, c.short ? '1' : '0');
  }
  // EVALSHA, and the whole script only when Redis does not have it yet. Not defineCommand: defining a command on a
  // client that auto-pipelines (the node's) while one of its pipelines is open breaks that pipeline (ioredis#1931).
  const counts = (await redis.evalsha(SHA, keys.length, ...keys, ...args).catch((err: Error) => {
    if (!err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(RECORD_AND_COUNT, keys.length, ...keys, ...args);
  })) as number[];
  return calls.map((_c, i) => ({ calls: Number(counts[2 * i]), short: Number(counts[2 * i + 1]) }));
}
