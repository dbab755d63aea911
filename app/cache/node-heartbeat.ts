import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';

/** The key (without the deployment's prefix) that says an incarnation of a node is alive. */
export function heartbeatKey(incarnation: string): string {
  return `node:hb:${incarnation}`;
}

/** NODE_ID plus a suffix drawn at boot: a restarted node is a new incarnation, and its previous one is dead. */
export function newIncarnation(nodeId: string): string {
  return `${nodeId}:${randomBytes(4).toString('hex')}`;
}

/** Incarnations started in this process and not stopped (several nodes may share a process: tests, benches). */
const localIncarnations = new Set<string>();

/** What a heartbeat key holds: where its process runs, so a node restarted on the same host knows its predecessor is gone. */
interface Beat {
  host: string;
  pid: number;
  at: number;
}

export interface HeartbeatOptions {
  /** how long the key lives without a refresh: a node killed is seen dead this long after its last beat */
  ttlMs: number;
  /** how often the key is refreshed (a third of the TTL by default, so two missed beats are survivable) */
  everyMs?: number;
}

/**
 * One node incarnation's heartbeat in Redis: a key with a short TTL, refreshed on an unref'd timer. Whatever a
 * node holds in Redis on behalf of its calls (the live-call registry, concurrency slots) is reclaimed by the
 * other nodes once this key is gone: the node was killed (the key expires) or stopped (stop() deletes it).
 */
export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    readonly incarnation: string,
    private readonly opts: HeartbeatOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    localIncarnations.add(this.incarnation);
    await this.beat(true);
    this.timer = setInterval(() => void this.beat(), this.opts.everyMs ?? Math.max(100, Math.floor(this.opts.ttlMs / 3)));
    this.timer.unref();
  }

  /**
   * Stops beating and deletes the key, so the node's calls are taken over at once rather than after the TTL.
   * `keepKey` leaves the key to expire, as a killed node's does (tests and drills).
   */
  async stop(opts: { keepKey?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    localIncarnations.delete(this.incarnation);
    if (opts.keepKey) return;
    await this.redis.del(heartbeatKey(this.incarnation)).catch((err: Error) => this.logger.warn({ err: err.message, incarnation: this.incarnation }, 'could not delete the node heartbeat; it expires on its own'));
  }

  private async beat(first = false): Promise<void> {
    const key = heartbeatKey(this.incarnation);
    try {
      const beat: Beat = { host: os.hostname(), pid: process.pid, at: Date.now() };
      const value = JSON.stringify(beat);
      // XX: a key that is gone while we live means other nodes may have taken our calls for a dead node's. Said
      // loudly, since both may then finish them (the record keeps a real end over a node_lost close).
      if (first || (await this.redis.set(key, value, 'PX', this.opts.ttlMs, 'XX')) === null) {
        if (!first) this.logger.error({ incarnation: this.incarnation, ttlMs: this.opts.ttlMs }, 'node heartbeat had expired while this node was up (event loop stalled or Redis unreachable); other nodes may have taken over its calls');
        await this.redis.set(key, value, 'PX', this.opts.ttlMs);
      }
      if (this.failing) this.logger.info({ incarnation: this.incarnation }, 'node heartbeat restored');
      this.failing = false;
    } catch (err) {
      // Logged once per outage: past the TTL other nodes take this node's calls over.
      if (!this.failing) this.logger.error({ err: (err as Error).message, incarnation: this.incarnation, ttlMs: this.opts.ttlMs }, 'node heartbeat failed; other nodes adopt our calls once it expires');
      this.failing = true;
    }
  }
}

/**
 * Which of these incarnations are alive: their heartbeat key is there, and, for one that ran on this host, its
 * process still is (a node restarted on the same host, as after a crash, need not wait for its predecessor's key
 * to expire: that process is gone, or is this one under a new incarnation). One pipelined round trip.
 */
export async function liveIncarnations(redis: Redis, incarnations: readonly string[]): Promise<Set<string>> {
  if (incarnations.length === 0) return new Set();
  const pipeline = redis.pipeline();
  for (const i of incarnations) pipeline.get(heartbeatKey(i));
  const results = (await pipeline.exec()) ?? [];
  const alive = new Set<string>();
  incarnations.forEach((inc, i) => {
    const [err, value] = results[i] ?? [];
    // An unanswered check counts as alive: nothing may be taken from a node we could not look at.
    if (err || (typeof value === 'string' && beatIsAlive(inc, value))) alive.add(inc);
  });
  return alive;
}

function beatIsAlive(incarnation: string, value: string): boolean {
  let beat: Partial<Beat>;
  try {
    beat = JSON.parse(value) as Partial<Beat>;
  } catch {
    return true;
  }
  if (beat.host !== os.hostname() || typeof beat.pid !== 'number') return true;
  if (beat.pid === process.pid) return localIncarnations.has(incarnation);
  try {
    process.kill(beat.pid, 0); // signal 0: does the process exist (a reused pid errs on the side of alive)
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
