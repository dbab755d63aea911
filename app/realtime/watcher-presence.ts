/**
 * Whether anyone, on any node, is watching live calls. Sending a call event through the socket.io Redis adapter
 * costs a msgpack encoding and a PUBLISH per event, five per call: about a sixth of a busy call node's CPU, spent
 * for nobody when no dashboard is open. So a node sends events only while someone watches somewhere.
 *
 * A node with watchers says so to the other nodes (a server-side emit through the adapter) when its first
 * watcher connects and every `heartbeatMs` after; the others take it as true for three heartbeats. A node that
 * (re)connects to Redis asks, and nodes with watchers answer at once, so a new node does not wait for a heartbeat.
 */
import type { Server } from 'socket.io';

const WATCHING = 'live:watching';
const WHO_WATCHES = 'live:who-watches';
export const WATCHER_HEARTBEAT_MS = 5_000;

export class WatcherPresence {
  private local = 0;
  private remoteUntil = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly io: Server,
    private readonly opts: { heartbeatMs?: number } = {},
  ) {
    io.on(WATCHING, () => {
      this.remoteUntil = Date.now() + 3 * this.heartbeatMs;
    });
    io.on(WHO_WATCHES, () => {
      if (this.local > 0) this.announce();
    });
  }

  private get heartbeatMs(): number {
    return this.opts.heartbeatMs ?? WATCHER_HEARTBEAT_MS;
  }

  /** Ask the other nodes whether they have watchers (call once this node's adapter is subscribed). */
  ask(): void {
    if (!this.closed) this.io.serverSideEmit(WHO_WATCHES);
  }

  watcherJoined(): void {
    if (this.local++ > 0) return;
    this.announce();
    this.heartbeat = setInterval(() => this.announce(), this.heartbeatMs).unref();
  }

  watcherLeft(): void {
    if (--this.local > 0) return;
    this.local = 0;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  anyoneWatching(): boolean {
    return this.local > 0 || Date.now() < this.remoteUntil;
  }

  /** No more announcements or questions: the adapter's connections are about to close (a publish then would fail). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private announce(): void {
    if (!this.closed) this.io.serverSideEmit(WATCHING);
  }
}
