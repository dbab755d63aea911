import type { Redis } from 'ioredis';
import type { CapCounter } from '../domain/caps';
import { CONCURRENCY_LEASE_MS, type Shortfall } from './cap-ledger';
import { FUNDS_LUA, fundKeys, type FundHold } from './fund-holds';
import { COMPLIANCE_LOADED_KEY, ComplianceCacheNotLoaded, complianceKeys, type ComplianceFacts } from './compliance-keys';
import { LISTS_LUA, listsArg, listsKeys, readListsFacts, type ListsOptions } from './lists-lua';
import { registryKindFor } from '../domain/lists';
import type { FrequencyLimit } from '../domain/frequency-limits';
import { FREQUENCY_LUA, frequencySpec } from './frequency-counter';

/**
 * The call path's single Redis round trip: the caller's compliance facts (DNC lists, block list, consent, and for
 * outbound calls the seller's internal DNC list and the frequency limits, counted here; see frequency-counter.ts),
 * the purchased lists (lists-lua.ts) and, only if they let the call through, the cap reservation of the first ranked candidate with room.
 * The auction runs in memory before this (it needs nothing from Redis), so one script answers both;
 * a caller on a DNC list never touches a buyer's counters.
 * Counter semantics are those of CapLedger (which releases and handles failover past these candidates), and so
 * are fund holds (fund-holds.ts): a candidate is reserved only if its caps have room and its buyer's funds, less
 * what its calls in progress hold, cover its price; then the caps and the hold are taken together.
 */
// ARGV[7] packs every candidate's counters into one string ("count,hold,limit,kind,ttl,...,count,..."; hold is the
// cents to hold, or '-'): ioredis spends more time encoding arguments than Redis spends running the script, so
// fewer arguments is faster. A candidate with a hold has its buyer's two keys after its counters'.
//
// KEYS: 1-6 the compliance sets and the loaded marker, 7 the seller's DNC set, 8 the consumer's frequency count,
// 9 a seller's bid's claim key (seller-bid-reservations.ts), then every candidate's keys from 10, then the purchased
// lists' five keys (lists-lua.ts) last of all.
// ARGV: 1 number, 2 now, 3 lease end, 4 call id, 5 may reserve, 6 consent required, 7 candidates, 8 outbound (0/1),
// 9 frequency spec ('' = none), 10 the lists' packed argument, 11 look the claim key up (0/1).
// result: 1-6 the facts and loaded, 7 the candidate reserved, 8 seller DNC, 9 frequency (0 or the limit reached),
// 10-15 the lists' six facts, 16 the seller's bid id (nil: none, or not asked); skipped candidates follow from
// result[17] (res[16] in JS). The claim key is read first, whatever the screening says: a refused caller's bid is
// given back at once (router.ts).
const SCRIPT = `${FUNDS_LUA}${FREQUENCY_LUA}${LISTS_LUA}
local n = ARGV[1]
local now = tonumber(ARGV[2])
local lk = {KEYS[#KEYS - 4], KEYS[#KEYS - 3], KEYS[#KEYS - 2], KEYS[#KEYS - 1], KEYS[#KEYS]}
local lopts = {}
for field in string.gmatch(ARGV[10], '[^,]+') do lopts[#lopts + 1] = field end
local lf = listsFacts(lk, n, lopts, ARGV[6])
local loaded = redis.call('EXISTS', KEYS[6])
local g = redis.call('SISMEMBER', KEYS[1], n)
local c = redis.call('SISMEMBER', KEYS[2], n)
local r = redis.call('SISMEMBER', KEYS[3], n)
local b = redis.call('SISMEMBER', KEYS[4], n)
local consentUntil = redis.call('ZSCORE', KEYS[5], n)
local consent = 0
if consentUntil and tonumber(consentUntil) > now then consent = 1 end
-- outbound only (ARGV[8] = '1'): the seller's internal DNC list, then the frequency limits (ARGV[9]), counted here
local sd = 0
if ARGV[8] == '1' then sd = redis.call('SISMEMBER', KEYS[7], n) end
local sellerBid = false
if ARGV[11] == '1' then sellerBid = redis.call('GET', KEYS[9]) end
local result = {g, c, r, b, consent, loaded, 0, sd, 0, lf[1], lf[2], lf[3], lf[4], lf[5], lf[6], sellerBid}
if loaded == 0 or g == 1 or c == 1 or r == 1 or b == 1 or sd == 1 or (ARGV[6] == '1' and consent == 0) or listsBlock(lf, lopts, ARGV[6]) then
  return result
end
-- a call every rule admits is counted even when nothing is reserved (an outbound request is screened before dialling)
if ARGV[9] ~= '' then result[9] = frequencyTake(KEYS[8], ARGV[9], now, ARGV[4]) end
if ARGV[5] == '0' or result[9] ~= 0 then return result end
local leaseUntil = tonumber(ARGV[3])
local callId = ARGV[4]
local spec = {}
for field in string.gmatch(ARGV[7], '[^,]+') do spec[#spec + 1] = field end
local ki = 10 -- the first candidate key, after the 9 fixed ones
local si = 1
local cand = 0
while si <= #spec do
  cand = cand + 1
  local nc = tonumber(spec[si])
  local hold = tonumber(spec[si + 1])
  si = si + 2
  local full = 0
  for j = 0, nc - 1 do
    local key = KEYS[ki + j]
    local limit = tonumber(spec[si + 3 * j])
    local kind = spec[si + 3 * j + 1]
    local used
    if kind == 'c' then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
      used = redis.call('ZCARD', key)
    else
      used = tonumber(redis.call('GET', key) or '0')
    end
    if used >= limit then
      full = j + 1
      break
    end
  end
  if full == 0 and hold and fundsShort(KEYS[ki + nc], KEYS[ki + nc + 1], now, callId, hold) then full = -1 end
  if full == 0 then
    if hold then fundsHold(KEYS[ki + nc], KEYS[ki + nc + 1], leaseUntil, callId, hold) end
    for j = 0, nc - 1 do
      local key = KEYS[ki + j]
      if spec[si + 3 * j + 1] == 'c' then
        redis.call('ZADD', key, leaseUntil, callId)
      else
        redis.call('INCR', key)
        redis.call('EXPIRE', key, tonumber(spec[si + 3 * j + 2]))
      end
    end
    result[7] = cand
    return result
  end
  table.insert(result, full)
  ki = ki + nc
  if hold then ki = ki + 2 end
  si = si + 3 * nc
end
return result`;

export interface ReserveCandidate {
  counters: CapCounter[];
  hold?: FundHold;
}

export interface ScreenAndReserveResult {
  facts: ComplianceFacts;
  /** index into the candidates of the one reserved, or -1 (blocked, not asked, or every candidate full) */
  reserved: number;
  /** for each candidate tried and skipped, in order: the counter that was full, or its buyer's funds */
  skipped: Shortfall[];
  /** the id of the seller's bid under `sellerBidKey`, when asked and there is one */
  sellerBidId?: string;
}

/** The frequency limits in force for an outbound call, and the subject its consumer's calls are counted under. */
export interface OutboundFrequency {
  subject: string;
  limits: FrequencyLimit[];
  retentionSec: number;
}

type Client = Redis & { callxScreenAndReserve(...args: Array<string | number>): Promise<Array<number | string | null>> };

/** A claim key no bid is ever made under: KEYS[9] when the call does not ask (the script then does not read it). */
const NO_SELLER_BID_KEY = 'rtbclaim:-';

export class ScreenAndReserve {
  private readonly client: Client;
  constructor(redis: Redis) {
    if (!('callxScreenAndReserve' in redis)) redis.defineCommand('callxScreenAndReserve', { lua: SCRIPT });
    this.client = redis as Client;
  }

  /**
   * @param mayReserve false when a pure rule (caller, attestation, calling hours) already blocked the call:
   *   the facts are still fetched for the audit log, but nothing is reserved.
   * @param country, areaCode the number's (which national registry applies, and whether its copy covers it)
   * @param lists the purchased lists' options: the call's direction and the campaign's and deployment's settings
   * @param outbound for a call the exchange places: the seller's internal DNC list is checked and, when `frequency`
   *   is given, the consumer's call count is checked against its limits and the call counted if it passes the lot.
   */
  async run(p: {
    e164: string;
    country: string;
    areaCode?: string;
    campaignId: string;
    requireConsent: boolean;
    mayReserve: boolean;
    callId: string;
    nowMs: number;
    candidates: ReserveCandidate[];
    lists: ListsOptions;
    outbound?: { sellerId: string; frequency?: OutboundFrequency };
    /** when the reservation's concurrency slot and fund hold lapse; default a call's lease (a seller's bid: its expiry) */
    leaseUntilMs?: number;
    /**
     * a seller's bid's claim key to read in the same script (SellerBidReservations.claimKeyFor): an inbound call
     * learns whether a bid awaits it without a command of its own
     */
    sellerBidKey?: string;
  }): Promise<ScreenAndReserveResult> {
    const freq = p.outbound?.frequency;
    const keys: string[] = [
      complianceKeys.dncGlobal,
      complianceKeys.dncCampaign(p.campaignId),
      complianceKeys.dncRegistry,
      complianceKeys.blocked,
      complianceKeys.consent(p.campaignId),
      COMPLIANCE_LOADED_KEY,
      complianceKeys.dncSeller(p.outbound?.sellerId ?? '-'),
      complianceKeys.frequency(freq?.subject ?? '-', p.e164),
      p.sellerBidKey ?? NO_SELLER_BID_KEY,
    ];
    let spec = '';
    for (const cand of p.candidates) {
      spec += `${cand.counters.length},${cand.hold ? cand.hold.cents : '-'},`;
      for (const counter of cand.counters) {
        keys.push(counter.key);
        spec += `${counter.limit},${counter.kind[0]},${counter.ttlSec},`;
      }
      if (cand.hold) keys.push(...fundKeys(cand.hold.buyerId));
    }
    keys.push(...listsKeys(p.campaignId, registryKindFor(p.country)));
    const args: Array<string | number> = [p.e164, p.nowMs, p.leaseUntilMs ?? p.nowMs + CONCURRENCY_LEASE_MS, p.callId, p.mayReserve ? '1' : '0', p.requireConsent ? '1' : '0', spec,
      p.outbound ? '1' : '0', freq ? frequencySpec(freq.limits, freq.retentionSec) : '', listsArg(p.country, p.areaCode, p.nowMs, p.lists), p.sellerBidKey ? '1' : '0'];
    const reply = await this.client.callxScreenAndReserve(keys.length, ...keys, ...args);
    const sellerBidId = reply[15];
    const res = reply as number[]; // every other answer is a number
    if (res[5] !== 1) throw new ComplianceCacheNotLoaded();
    const facts: ComplianceFacts = {
      dnc: { global: res[0] === 1, campaign: res[1] === 1, registry: res[2] === 1, seller: res[7] === 1 },
      blocked: res[3] === 1,
      consent: res[4] === 1,
      lists: readListsFacts(res.slice(9, 15)),
    };
    if (freq && freq.limits.length > 0) facts.frequency = res[8] ? { allowed: false, limit: freq.limits[res[8] - 1]! } : { allowed: true };
    const skipped = res.slice(16).map((counterIndex, i): Shortfall => (counterIndex < 0 ? { kind: 'funds' } : { kind: 'cap', counter: p.candidates[i]!.counters[counterIndex - 1]! }));
    return { facts, reserved: (res[6] ?? 0) - 1, skipped, ...(typeof sellerBidId === 'string' ? { sellerBidId } : {}) };
  }

  /** Takes back an outbound call counted against a consumer's frequency limits that was never dialled. */
  async uncount(subject: string, e164: string, callId: string): Promise<void> {
    await this.client.zrem(complianceKeys.frequency(subject, e164), callId);
  }
}
