import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { loadConfigRows, type ConfigRows } from '../store/config-repo';
import { ConfigSnapshot } from './snapshot';
import { fundsChannel } from '../jobs/funds';
import type { FundHolds, FundsFigure } from '../cache/fund-holds';
import type { PingLimitOverrides } from '../store/seller-bids-repo';

/** The Redis pub/sub channel (prefixed by hand: ioredis does not prefix channels) that says "config changed". */
export const configChannel = (prefix: string): string => `${prefix}config-changed`;

/** Bid messages arriving within this window rebuild the snapshot once. */
const BID_COALESCE_MS = 5;

/**
 * The channel that carries new standing bids, applied without a reload: {targetId: [bidCents, bidVersion]}
 * (a bare bidCents, from nodes that predate versions, is applied whatever the version).
 */
export const bidsChannel = (prefix: string): string => `${prefix}bids-changed`;

/** A standing bid as written: the amount and the row's bid version after the write. */
export interface WrittenBid {
  bidCents: number;
  version?: number;
}

/** Tells every node the new bids of some targets. Call after committing them to Postgres. */
export async function publishBids(redis: Redis, prefix: string, bids: ReadonlyMap<string, WrittenBid>): Promise<void> {
  if (bids.size === 0) return;
  const message: Record<string, number | [number, number]> = {};
  for (const [id, b] of bids) message[id] = b.version === undefined ? b.bidCents : [b.bidCents, b.version];
  await redis.publish(bidsChannel(prefix), JSON.stringify(message));
}

/** Tells every node to reload its snapshot. Call after committing a config change to Postgres. */
export async function publishConfigChanged(redis: Redis, prefix: string, what: string): Promise<void> {
  await redis.publish(configChannel(prefix), JSON.stringify({ what, at: new Date().toISOString() }));
}

/**
 * Holds the current snapshot and keeps it fresh: reloads on a config-changed message (coalescing bursts)
 * and on a slow timer as a safety net for a missed message (pub/sub is fire-and-forget).
 */
export class SnapshotSource {
  private snapshot = ConfigSnapshot.empty();
  /** The rows the current snapshot was built from, so a bid change can rebuild it without reading Postgres. */
  private rows: ConfigRows = { accounts: [], campaigns: [], trackingNumbers: [], targets: [] };
  /** Bids heard while a reload reads Postgres: the read may predate them, so they are applied on top of it. */
  private bidsDuringReload: Map<string, WrittenBid> | undefined;
  /** Ping limit overrides this node saved while a reload reads Postgres: the read may predate them (see applyPingLimits). */
  private limitsDuringReload: Map<string, PingLimitOverrides> | undefined;
  /** Bids heard in the last few milliseconds, applied together (one rebuild for a burst of single updates). */
  private pendingBids = new Map<string, WrittenBid>();
  /** The bid version of each target in the current rows: a bid message with an older one is a stale one. */
  private bidVersions = new Map<string, number>();
  /** Writers waiting for their committed bids to be in the snapshot (see applyCommittedBids). */
  private bidsApplied: Array<() => void> = [];
  private bidsTimer: NodeJS.Timeout | undefined;
  private version = 0;
  /**
   * Loads from Postgres completed. refreshNow waits on this, not on `version`: bids and ping limits applied in
   * place also make a new version, and one of those made during a load that read the old rows must not count.
   */
  private loads = 0;
  private reloading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<{ loads: number; resolve: () => void }>();
  /** Buyers' available funds published by billing since the snapshot was loaded (newer than the snapshot's). */
  private readonly funds = new Map<string, number>();

  private readonly safetyReloadMs: number;
  /** Where every load writes the buyers' funds figures for the fund holds (see writeFunds). */
  private readonly fundHolds: FundHolds | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    opts: { safetyReloadMs?: number; fundHolds?: FundHolds } = {},
  ) {
    this.safetyReloadMs = opts.safetyReloadMs ?? 60_000;
    this.fundHolds = opts.fundHolds;
  }

  current(): ConfigSnapshot {
    return this.snapshot;
  }

  /** A buyer's available funds (balance + credit) as billing last published them, if it did since the snapshot. */
  availableFunds(buyerAccountId: string): number | undefined {
    return this.funds.size === 0 ? undefined : this.funds.get(buyerAccountId);
  }

  async start(): Promise<void> {
    await this.reload('start');
    const channel = configChannel(this.prefix);
    const funds = fundsChannel(this.prefix);
    const bids = bidsChannel(this.prefix);
    this.subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) this.requestReload('config-changed');
      else if (ch === funds) this.applyFunds(message);
      else if (ch === bids) this.applyBids(message);
    });
    await this.subscriber.subscribe(channel, funds, bids);
    this.timer = setInterval(() => this.requestReload('timer'), this.safetyReloadMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.bidsTimer);
    this.flushBids(); // bids heard or committed but not yet applied: applied, and their writers answered
    await this.subscriber.unsubscribe().catch(() => undefined);
    await this.reloading;
  }

  /** Resolves once a snapshot loaded after this call is in place (tests and the API use it). */
  async refreshNow(): Promise<void> {
    // A load already under way may have read the old rows: wait for the one after it.
    const target = this.loads + (this.reloading ? 2 : 1);
    this.requestReload('explicit');
    await new Promise<void>((resolve) => {
      if (this.loads >= target) resolve();
      else this.waiters.add({ loads: target, resolve });
    });
  }

  private applyFunds(message: string): void {
    try {
      for (const [id, cents] of Object.entries(JSON.parse(message) as Record<string, unknown>)) {
        if (typeof cents === 'number' && Number.isFinite(cents)) this.funds.set(id, cents);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'ignoring a malformed funds message');
    }
  }

  /**
   * New standing bids: a new snapshot from the rows in memory with those targets' bids replaced (a thousand
   * targets take well under a millisecond), swapped in whole like any snapshot.
   */
  private applyBids(message: string): void {
    let bids: Record<string, unknown>;
    try {
      bids = JSON.parse(message) as Record<string, unknown>;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'ignoring a malformed bids message');
      return;
    }
    for (const [id, value] of Object.entries(bids)) {
      const [bid, version] = Array.isArray(value) ? value : [value, undefined];
      if (typeof bid !== 'number' || !Number.isInteger(bid) || bid < 0) continue;
      if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version))) continue;
      this.noteBid(id, { bidCents: bid, version });
    }
    this.bidsTimer ??= setTimeout(() => this.flushBids(), BID_COALESCE_MS);
  }

  /**
   * Bids this node just committed: resolves once they are in this node's snapshot (the next coalesced rebuild,
   * within BID_COALESCE_MS), so the bid writer answers the buyer only when the next auction here uses them, and
   * statements committed close together share one rebuild. (Their message, when it comes back, changes nothing.)
   */
  applyCommittedBids(bids: ReadonlyMap<string, WrittenBid>): Promise<void> {
    if (bids.size === 0) return Promise.resolve();
    for (const [id, bid] of bids) this.noteBid(id, bid);
    this.bidsTimer ??= setTimeout(() => this.flushBids(), BID_COALESCE_MS);
    return new Promise<void>((resolve) => this.bidsApplied.push(resolve));
  }

  /**
   * A seller's ping limit overrides this node just saved: in this node's snapshot at once, so the next ping here is
   * held to them (as when pings read them from Postgres). Other nodes reload on the config-changed message the
   * writer publishes after this.
   */
  applyPingLimits(sellerAccountId: string, overrides: PingLimitOverrides): void {
    const saved = new Map([[sellerAccountId, overrides]]);
    this.limitsDuringReload?.set(sellerAccountId, overrides);
    this.rows = withPingLimits(this.rows, saved);
    this.version += 1;
    this.snapshot = new ConfigSnapshot(this.rows, new Date(), this.version);
  }

  /** Queues a bid for the next flush (and for the reload in progress, if any), keeping the later of two for a target. */
  private noteBid(id: string, bid: WrittenBid): void {
    keepLater(this.pendingBids, id, bid);
    if (this.bidsDuringReload) keepLater(this.bidsDuringReload, id, bid);
  }

  private flushBids(): void {
    this.bidsTimer = undefined;
    const applied = this.bidsApplied;
    this.bidsApplied = [];
    const bids = this.pendingBids;
    this.pendingBids = new Map();
    try {
      const rows = withBids(this.rows, this.bidVersions, bids);
      if (rows === this.rows) return;
      this.rows = rows;
      this.version += 1;
      this.snapshot = new ConfigSnapshot(this.rows, new Date(), this.version);
    } finally {
      for (const resolve of applied) resolve();
    }
  }

  /**
   * Every buyer's available funds, as this load read them, into Redis for the fund holds: at start-up for every
   * buyer, then at each reload (a new buyer, a changed credit limit, a figure a failed publish never wrote). Each
   * figure carries its funds version, so a load that read before a billing posting never puts the older figure back.
   * The write marks the figures loaded (FundHolds.loadAll): a Redis that lost them is noticed and refilled at once.
   */
  private async writeFunds(rows: ConfigRows): Promise<void> {
    if (!this.fundHolds) return;
    const figures = new Map<string, FundsFigure>();
    for (const a of rows.accounts) {
      if (a.kind === 'buyer') figures.set(a.id, { cents: a.balanceCents + a.creditLimitCents, version: rows.fundsVersions?.get(a.id) ?? 0 });
    }
    await this.fundHolds.loadAll(figures);
  }

  private requestReload(why: string): void {
    if (this.reloading) {
      this.again = true; // a change arrived mid-load: load once more after, so it is not missed
      return;
    }
    this.reloading = this.reload(why).finally(() => {
      this.reloading = null;
      if (this.again) {
        this.again = false;
        this.requestReload('coalesced');
      }
    });
  }

  private async reload(why: string): Promise<void> {
    const started = Date.now();
    try {
      this.bidsDuringReload = new Map();
      this.limitsDuringReload = new Map();
      const loaded = await loadConfigRows(this.pool);
      await this.writeFunds(loaded);
      const versions = loaded.bidVersions ?? new Map<string, number>();
      // Bids heard while reading: only those newer than what the read saw (a version tells; unversioned ones apply).
      const rows = withPingLimits(withBids(loaded, versions, this.bidsDuringReload), this.limitsDuringReload);
      this.bidsDuringReload = undefined;
      this.limitsDuringReload = undefined;
      this.bidVersions = versions;
      this.version += 1;
      this.loads += 1;
      this.rows = rows;
      this.snapshot = new ConfigSnapshot(rows, new Date(), this.version);
      // The new snapshot read the balances as of now: older published figures no longer add anything.
      this.funds.clear();
      this.logger.info({ why, version: this.version, campaigns: rows.campaigns.length, targets: rows.targets.length, ms: Date.now() - started }, 'config snapshot loaded');
      for (const w of this.waiters) {
        if (this.loads >= w.loads) {
          this.waiters.delete(w);
          w.resolve();
        }
      }
    } catch (err) {
      this.bidsDuringReload = undefined;
      this.limitsDuringReload = undefined;
      // Keep routing on the last good snapshot; the next message or timer tries again.
      this.logger.error({ why, err: (err as Error).message }, 'config snapshot reload failed; keeping the previous one');
      if (why === 'start') throw err;
    }
  }
}

function keepLater(queue: Map<string, WrittenBid>, id: string, bid: WrittenBid): void {
  const queued = queue.get(id);
  if (queued?.version !== undefined && bid.version !== undefined && queued.version > bid.version) return;
  queue.set(id, bid);
}

/**
 * The rows with some targets' bids replaced (the same object when nothing changes). A bid with a version replaces
 * only an older one, and its version is recorded in `versions` (updated in place); one without applies as it is.
 */
function withBids(rows: ConfigRows, versions: Map<string, number>, bids: ReadonlyMap<string, WrittenBid>): ConfigRows {
  if (bids.size === 0) return rows;
  let changed = false;
  const targets = rows.targets.map((t) => {
    const b = bids.get(t.id);
    if (b === undefined) return t;
    if (b.version !== undefined) {
      if (b.version <= (versions.get(t.id) ?? 0)) return t; // this write, or an older one, is already in
      versions.set(t.id, b.version);
    }
    if (b.bidCents === t.bidCents) return t;
    changed = true;
    return { ...t, bidCents: b.bidCents };
  });
  return changed ? { ...rows, targets } : rows;
}

/** The rows with some sellers' ping limit overrides replaced (the same object when there are none). */
function withPingLimits(rows: ConfigRows, saved: ReadonlyMap<string, PingLimitOverrides>): ConfigRows {
  if (saved.size === 0) return rows;
  const limits = new Map(rows.pingTerms?.limits);
  for (const [id, overrides] of saved) limits.set(id, overrides);
  return { ...rows, pingTerms: { payouts: rows.pingTerms?.payouts ?? new Map(), limits } };
}
