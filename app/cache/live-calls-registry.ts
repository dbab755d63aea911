import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../observability/logger';
import { LAST_BEAT_KEY, heartbeatKey, liveIncarnations } from './node-heartbeat';

/**
 * What another node needs to finish a call this node set up, if this node dies or stops: where the call is on
 * the switch, who pays whom, and the cap counters to give back.
 */
const CapCounterSchema = z.object({
  kind: z.enum(['concurrency', 'hourly', 'daily', 'monthly']),
  key: z.string().min(1),
  limit: z.number(),
  ttlSec: z.number(),
});

export const LiveCallSchema = z.object({
  callId: z.string().min(1),
  switchName: z.string().min(1),
  switchCallId: z.string(),
  state: z.enum(['setup', 'bridged']),
  direction: z.enum(['inbound', 'outbound']),
  ani: z.string(),
  dnis: z.string(),
  startedAt: z.string(),
  campaignId: z.string().optional(),
  sellerAccountId: z.string().optional(),
  winner: z.object({ targetId: z.string(), buyerAccountId: z.string(), priceCents: z.number().int() }).optional(),
  counters: z.array(CapCounterSchema),
  bridgedAt: z.string().optional(),
  /**
   * When the call was last known to be alive while no node watched it, in ms since the epoch: its dead owner's
   * last heartbeat, stamped on the entry when it is claimed. A bridged call gone from the switch ended no earlier.
   */
  lastSeenAt: z.number().optional(),
});

export type LiveCall = z.infer<typeof LiveCallSchema>;

/** Node incarnations that may hold registry entries (a set, so sweepers find dead ones). */
const NODES_KEY = 'live:nodes';
const callsKey = (incarnation: string): string => `live:calls:${incarnation}`;
/** Marks a call adopted without a registry entry (the registry was lost), so two nodes never both adopt it. */
const adoptionMarkKey = (callId: string): string => `live:adopting:${callId}`;

/**
 * Moves a dead incarnation's entries for the given switches into the claimer's hash, atomically: two sweepers
 * claiming one dead node split nothing, one gets each entry. The claimer has found the owner dead (see
 * LiveCallsRegistry.claim); its heartbeat key, if its process died on this host before the key expired, goes too,
 * so every node sees it dead. Each moved entry is stamped with the owner's last beat (`lastSeenAt`) unless it
 * already has one: an entry a claimer took but had not settled when it died keeps the time of its first owner,
 * since the claimer did not watch it. Entries that do not parse move too (the claimer logs and drops them) so a bad
 * one cannot pin a dead node; the owner leaves the node set, and its last beat goes, once it holds nothing.
 * KEYS: owner heartbeat, owner hash, claimer hash, node set, last beats. ARGV: owner incarnation, switch names...
 */
const CLAIM_SCRIPT = `
redis.call('DEL', KEYS[1])
local beat = redis.call('HGET', KEYS[5], ARGV[1])
local seen = beat and string.match(beat, '^%d+$')
local switches = {}
for i = 2, #ARGV do switches[ARGV[i]] = true end
local all = redis.call('HGETALL', KEYS[2])
local out = {}
for i = 1, #all, 2 do
  local raw = all[i + 1]
  local ok, e = pcall(cjson.decode, raw)
  if not ok or type(e) ~= 'table' or switches[e.switchName] then
    if ok and type(e) == 'table' and seen and e.lastSeenAt == nil and string.sub(raw, 1, 1) == '{' and e.callId then
      raw = '{"lastSeenAt":' .. seen .. ',' .. string.sub(raw, 2)
    end
    redis.call('HSET', KEYS[3], all[i], raw)
    redis.call('HDEL', KEYS[2], all[i])
    out[#out + 1] = raw
  end
end
if redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
end
return out`;

/**
 * Moves one call's entry from its owner's hash to the taker's (the owner found dead, or the taker itself), atomically:
 * answers the entry, or nil when another taker got it first.
 * KEYS: owner hash, taker hash. ARGV: call id.
 */
const TAKE_SCRIPT = `
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e then return nil end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], e)
return e`;

/**
 * Takes an incarnation out of the node set, with its last beat, if it holds no entries (a node whose start failed
 * before it took a call): one that holds some stays, for the sweepers to claim them once its heartbeat is gone.
 * KEYS: its hash, node set, last beats. ARGV: incarnation.
 */
const LEAVE_SCRIPT = `
if redis.call('HLEN', KEYS[1]) > 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1`;

/** Where the call path's registry writes go: the call journal's batches (see RedisCallJournal.write). */
export interface RegistryWriter {
  write(w: { op: 'hset'; key: string; field: string; value: string } | { op: 'hdel'; key: string; field: string }): Promise<void>;
}

type RegistryClient = Redis & {
  callxLiveClaim(...args: Array<string | number>): Promise<string[]>;
  callxLiveTake(...args: Array<string | number>): Promise<string | null>;
  callxLiveLeave(...args: Array<string | number>): Promise<number>;
};

/**
 * The live-call registry in Redis: every call this node routes, from its reservation to its journaled end, in
 * one hash per node incarnation (field: call id). The call path's writes (put, remove) are single commands sent
 * with the call's journal entries when a writer is given (else on the node's connection); it never waits for them.
 */
export class LiveCallsRegistry {
  private readonly client: RegistryClient;

  constructor(
    redis: Redis,
    readonly incarnation: string,
    private readonly logger: Logger,
    private readonly writer?: RegistryWriter,
  ) {
    if (!('callxLiveClaim' in redis)) {
      redis.defineCommand('callxLiveClaim', { lua: CLAIM_SCRIPT });
      redis.defineCommand('callxLiveTake', { lua: TAKE_SCRIPT });
      redis.defineCommand('callxLiveLeave', { lua: LEAVE_SCRIPT });
    }
    this.client = redis as RegistryClient;
  }

  /** Announces this incarnation as a holder of entries (once, at start). */
  async join(): Promise<void> {
    await this.client.sadd(NODES_KEY, this.incarnation);
  }

  /**
   * Undoes join() for a node whose start failed: answers whether it left (it does not while it holds entries: a
   * switch took calls before the start failed, and the sweepers must find them).
   */
  async leave(): Promise<boolean> {
    return (await this.client.callxLiveLeave(3, callsKey(this.incarnation), NODES_KEY, LAST_BEAT_KEY, this.incarnation)) === 1;
  }

  /** Records or updates a call of this node (not awaited on the call path; failures are logged). */
  put(call: LiveCall): void {
    const key = callsKey(this.incarnation);
    const value = JSON.stringify(call);
    const written = this.writer ? this.writer.write({ op: 'hset', key, field: call.callId, value }) : this.client.hset(key, call.callId, value);
    written.catch((err: Error) =>
      this.logger.error({ err: err.message, callId: call.callId }, 'live-call registry write failed; if this node dies the call is found only on the switch'),
    );
  }

  /** Removes a call whose end is journaled (not awaited on the call path; failures are logged). */
  remove(callId: string): void {
    const key = callsKey(this.incarnation);
    const removed = this.writer ? this.writer.write({ op: 'hdel', key, field: callId }) : this.client.hdel(key, callId);
    removed.catch((err: Error) => this.logger.error({ err: err.message, callId }, 'live-call registry removal failed; a sweeper will close the call again as node_lost'));
  }

  /** Incarnations that hold (or held) entries, this one included. */
  async nodes(): Promise<string[]> {
    return this.client.smembers(NODES_KEY);
  }

  /** Other incarnations holding entries that are dead: their heartbeat is gone, or their process is (see liveIncarnations). */
  async deadNodes(): Promise<string[]> {
    const others = (await this.nodes()).filter((n) => n !== this.incarnation);
    const alive = await liveIncarnations(this.client, others);
    return others.filter((n) => !alive.has(n));
  }

  /** Is this incarnation dead (heartbeat or process gone)? */
  async isDead(incarnation: string): Promise<boolean> {
    return incarnation !== this.incarnation && !(await liveIncarnations(this.client, [incarnation])).has(incarnation);
  }

  /** The call ids every incarnation's entries list (one pipelined round trip). */
  async allCallIds(): Promise<Set<string>> {
    const owners = await this.nodes();
    const ids = new Set<string>();
    if (owners.length === 0) return ids;
    const pipeline = this.client.pipeline();
    for (const o of owners) pipeline.hkeys(callsKey(o));
    for (const [err, keys] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      for (const k of keys as string[]) ids.add(k);
    }
    return ids;
  }

  /**
   * Claims the entries of a dead incarnation for the given switches: none while it is alive (its heartbeat is there
   * and, on this host, its process too: see liveIncarnations).
   */
  async claim(owner: string, switchNames: readonly string[]): Promise<LiveCall[]> {
    if (owner === this.incarnation || switchNames.length === 0 || !(await this.isDead(owner))) return [];
    const raw = await this.client.callxLiveClaim(5, heartbeatKey(owner), callsKey(owner), callsKey(this.incarnation), NODES_KEY, LAST_BEAT_KEY, owner, ...switchNames);
    return this.parseAll(raw, owner);
  }

  /** Where a call's entry is, whoever holds it. */
  async find(callId: string): Promise<{ owner: string; call: LiveCall } | undefined> {
    const owners = await this.nodes();
    if (owners.length === 0) return undefined;
    const pipeline = this.client.pipeline();
    for (const o of owners) pipeline.hget(callsKey(o), callId);
    const results = (await pipeline.exec()) ?? [];
    for (let i = 0; i < owners.length; i++) {
      const [err, raw] = results[i] ?? [];
      if (err) throw err;
      if (typeof raw === 'string') {
        const call = this.parse(raw, owners[i]!);
        if (call) return { owner: owners[i]!, call };
      }
    }
    return undefined;
  }

  /** Takes one call's entry into this node's hash if its owner is dead or is this node; undefined otherwise. */
  async take(callId: string, owner: string): Promise<LiveCall | undefined> {
    if (owner !== this.incarnation && !(await this.isDead(owner))) return undefined;
    const raw = await this.client.callxLiveTake(2, callsKey(owner), callsKey(this.incarnation), callId);
    return raw ? this.parse(raw, owner) : undefined;
  }

  /**
   * For a call found on the switch with no entry anywhere: marks it as being adopted by this node. Only one node
   * gets true; the mark outlives any call.
   */
  async markAdopting(callId: string): Promise<boolean> {
    return (await this.client.set(adoptionMarkKey(callId), this.incarnation, 'EX', 24 * 3600, 'NX')) === 'OK';
  }

  /** This incarnation's entries (tests and the drill look). */
  async own(): Promise<LiveCall[]> {
    const all = await this.client.hvals(callsKey(this.incarnation));
    return this.parseAll(all, this.incarnation);
  }

  private parseAll(raw: readonly string[], owner: string): LiveCall[] {
    const out: LiveCall[] = [];
    for (const r of raw) {
      const call = this.parse(r, owner);
      if (call) out.push(call);
    }
    return out;
  }

  private parse(raw: string, owner: string): LiveCall | undefined {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const parsed = LiveCallSchema.safeParse(json);
    if (parsed.success) return parsed.data;
    this.logger.error({ owner, raw: raw.slice(0, 500), issues: parsed.error?.issues.slice(0, 3) }, 'live-call registry entry is not valid; dropped');
    const callId = (json as { callId?: unknown } | undefined)?.callId;
    if (typeof callId === 'string') void this.client.hdel(callsKey(this.incarnation), callId).catch(() => undefined);
    return undefined;
  }
}
