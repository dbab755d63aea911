import type { Redis } from 'ioredis';
import type { CapCounter } from '../domain/caps';
import { FUNDS_LUA, fundKeys, type FundHold } from './fund-holds';

/**
 * Global, atomic buyer caps in Redis. A reservation checks every counter of a target and takes all of them
 * or none, in one script, so two nodes can never both take the last slot.
 * - concurrency: a sorted set of call ids scored by lease expiry; release removes the call id (idempotent),
 *   and a lease left by a crashed node expires instead of holding the slot forever.
 * - hourly/daily/monthly: counters that expire after their period.
 * A reservation may carry a fund hold (fund-holds.ts): its buyer's two keys follow the counters' and its cents are
 * the last argument ('-' for none); a buyer that cannot cover it is refused with -1, after the caps were checked.
 */
const RESERVE_SCRIPT = `${FUNDS_LUA}
local now = tonumber(ARGV[1])
local leaseUntil = tonumber(ARGV[2])
local callId = ARGV[3]
local hold = tonumber(ARGV[#ARGV])
local n = #KEYS
if hold then n = n - 2 end
for i = 1, n do
  local limit = tonumber(ARGV[3 + i])
  local kind = ARGV[3 + n + i]
  local used
  if kind == 'concurrency' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    if redis.call('ZSCORE', KEYS[i], callId) then return 0 end
    used = redis.call('ZCARD', KEYS[i])
  else
    used = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
  if used >= limit then return i end
end
if hold then
  if fundsShort(KEYS[n + 1], KEYS[n + 2], now, callId, hold) then return -1 end
  fundsHold(KEYS[n + 1], KEYS[n + 2], leaseUntil, callId, hold)
end
for i = 1, n do
  local kind = ARGV[3 + n + i]
  if kind == 'concurrency' then
    redis.call('ZADD', KEYS[i], leaseUntil, callId)
  else
    redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3 + 2 * n + i]))
  end
end
return 0`;

const RELEASE_SCRIPT = `${FUNDS_LUA}
local callId = ARGV[1]
local n = #KEYS
if ARGV[#ARGV] == 'hold' then
  n = n - 2
  fundsRelease(KEYS[n + 1], KEYS[n + 2], callId)
end
for i = 1, n do
  local kind = ARGV[1 + i]
  if kind == 'concurrency' then
    redis.call('ZREM', KEYS[i], callId)
  else
    local v = tonumber(redis.call('GET', KEYS[i]) or '0')
    if v > 0 then redis.call('DECR', KEYS[i]) end
  end
end
return 1`;

type CapClient = Redis & {
  callxCapReserve(...args: Array<string | number>): Promise<number>;
  callxCapRelease(...args: Array<string | number>): Promise<number>;
};

/** Why a candidate could not be reserved: a cap that is full, or a buyer whose funds cannot cover the price. */
export type Shortfall = { kind: 'cap'; counter: CapCounter } | { kind: 'funds' };

export type Reservation = { ok: true; counters: CapCounter[]; hold?: FundHold } | { ok: false; short: Shortfall };

/**
 * A concurrency lease (and a call's fund hold's) is a safety net: a node's slots come back through its registry
 * entries when it dies, and this lease catches what those miss. A call still up has its lease renewed (LeaseRenewal,
 * every quarter lease), so a call longer than this keeps its slot.
 */
export const CONCURRENCY_LEASE_MS = 4 * 3600 * 1000;

/** What a live call holds that a lease guards: its concurrency slots (other counters are ignored) and its buyer's hold. */
export interface LeasedCall {
  callId: string;
  counters: readonly CapCounter[];
  /** the buyer whose funds hold the call's price, if any */
  holdBuyerId?: string;
}

/** Commands per pipeline when leases are renewed: a node's thousands of calls never make one huge batch. */
const RENEW_BATCH = 1_000;

/**
 * Where a bridged call's end sends its slot's release: the call journal's batch (see RedisCallJournal.write), so
 * the release, the end's entry and the registry removal leave in one pipeline instead of three round trips.
 */
export interface SlotReleaseWriter {
  write(w: { op: 'zrem'; key: string; member: string }): Promise<void>;
}

export class CapLedger {
  private readonly client: CapClient;
  constructor(
    redis: Redis,
    private readonly endWriter?: SlotReleaseWriter,
  ) {
    if (!('callxCapReserve' in redis)) {
      redis.defineCommand('callxCapReserve', { lua: RESERVE_SCRIPT });
      redis.defineCommand('callxCapRelease', { lua: RELEASE_SCRIPT });
    }
    this.client = redis as CapClient;
  }

  /** `leaseUntilMs`: when the slot and hold lapse if never released; default a call's lease (a seller's bid: its expiry). */
  async reserve(callId: string, counters: CapCounter[], nowMs: number, hold?: FundHold, leaseUntilMs?: number): Promise<Reservation> {
    if (counters.length === 0 && !hold) return { ok: true, counters };
    const keys = counters.map((c) => c.key);
    if (hold) keys.push(...fundKeys(hold.buyerId));
    const failed = await this.client.callxCapReserve(
      keys.length,
      ...keys,
      nowMs,
      leaseUntilMs ?? nowMs + CONCURRENCY_LEASE_MS,
      callId,
      ...counters.map((c) => c.limit),
      ...counters.map((c) => c.kind),
      ...counters.map((c) => c.ttlSec),
      hold ? hold.cents : '-',
    );
    if (failed === 0) return hold ? { ok: true, counters, hold } : { ok: true, counters };
    return { ok: false, short: failed < 0 ? { kind: 'funds' } : { kind: 'cap', counter: counters[failed - 1]! } };
  }

  /** Gives back what a reservation took (a bridge that failed, a caller who left before the bridge), its fund hold included. */
  async release(callId: string, counters: CapCounter[], hold?: FundHold): Promise<void> {
    if (counters.length === 0 && !hold) return;
    const keys = counters.map((c) => c.key);
    if (hold) keys.push(...fundKeys(hold.buyerId));
    await this.client.callxCapRelease(keys.length, ...keys, callId, ...counters.map((c) => c.kind), hold ? 'hold' : '-');
  }

  /**
   * Ends a bridged call: only the concurrency slot comes back; the call still counts toward its period caps, and
   * its fund hold stays until billing settles it (FundHolds.settle).
   */
  async endCall(callId: string, counters: CapCounter[]): Promise<void> {
    const slots = counters.filter((c) => c.kind === 'concurrency');
    // A concurrency slot's release is a ZREM (the release script's whole work for it): it can ride a batch.
    if (this.endWriter) await Promise.all(slots.map((c) => this.endWriter!.write({ op: 'zrem', key: c.key, member: callId })));
    else await this.release(callId, slots);
  }

  /**
   * Extends the leases of calls still up to `untilMs`: their concurrency slots and fund holds. ZADD XX GT: a slot or
   * hold given back meanwhile is not taken again, and a lease is never shortened. Answers how many leases moved.
   */
  async renewLeases(calls: readonly LeasedCall[], untilMs: number): Promise<number> {
    const leases: Array<[key: string, callId: string]> = [];
    for (const c of calls) {
      for (const counter of c.counters) if (counter.kind === 'concurrency') leases.push([counter.key, c.callId]);
      if (c.holdBuyerId) leases.push([fundKeys(c.holdBuyerId)[1], c.callId]);
    }
    let moved = 0;
    for (let i = 0; i < leases.length; i += RENEW_BATCH) {
      const pipeline = this.client.pipeline();
      for (const [key, callId] of leases.slice(i, i + RENEW_BATCH)) pipeline.zadd(key, 'XX', 'GT', 'CH', untilMs, callId);
      for (const [err, n] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        moved += n as number;
      }
    }
    return moved;
  }

  async concurrentCalls(targetId: string, nowMs: number): Promise<number> {
    return this.client.zcount(`cap:${targetId}:conc`, nowMs, '+inf');
  }
}
