/**
 * The `/ari/events` WebSocket, kept by us rather than by ari-client, whose handler parses frames without a guard
 * (one malformed event throws inside it) and reconnects on its own schedule. Here:
 * - every frame goes through parseEvent, but those of a type the adapter never reads (ChannelVarset...), dropped
 *   unparsed; handler errors are caught and logged;
 * - a dropped socket reconnects with Backoff; a socket that stops answering pings is dropped;
 * - `onOpen(reconnected)` tells the adapter when to reconcile (events missed meanwhile are not replayed).
 */
import WebSocket from 'ws';
import type { Logger } from '../../observability/logger';
import { Backoff } from '../../util/backoff';
import { isUnreadEvent, parseEvent, type AriEvent } from './ari-model';

export interface EventStreamSettings {
  url: string;
  app: string;
  username: string;
  password: string;
  handshakeMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
}

export interface EventStreamHandlers {
  onEvent(ev: AriEvent): void;
  onOpen(reconnected: boolean): void;
  onClose(): void;
}

export class AriEventStream {
  private ws: WebSocket | undefined;
  private open = false;
  private stopped = true;
  private everOpened = false;
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private openWaiters: Array<() => void> = [];
  /** Frames dropped by the guard (for metrics and tests). */
  rejectedFrames = 0;
  /** Frames of a type the adapter never reads, dropped unparsed. */
  unreadFrames = 0;

  constructor(
    private readonly s: EventStreamSettings,
    private readonly handlers: EventStreamHandlers,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff({ initialMs: s.reconnectInitialMs, maxMs: s.reconnectMaxMs });
  }

  isOpen(): boolean {
    return this.open;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Resolves true once the socket is open, false after `ms`. */
  waitOpen(ms: number): Promise<boolean> {
    if (this.open) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.openWaiters = this.openWaiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.openWaiters.push(done);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    const ws = this.ws;
    this.ws = undefined;
    this.open = false;
    if (!ws) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
    });
  }

  private wsUrl(): string {
    const base = this.s.url.replace(/\/+$/, '').replace(/^http/i, 'ws');
    const key = `${encodeURIComponent(this.s.username)}:${encodeURIComponent(this.s.password)}`;
    return `${base}/ari/events?app=${encodeURIComponent(this.s.app)}&api_key=${key}`;
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.wsUrl(), { handshakeTimeout: this.s.handshakeMs, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.open = true;
      this.backoff.reset();
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.log.info({ reconnected }, 'ARI events socket open');
      this.startPing(ws);
      for (const w of this.openWaiters.splice(0)) w();
      this.safely('onOpen', () => this.handlers.onOpen(reconnected));
    });
    ws.on('message', (data: WebSocket.RawData | string) => this.frame(typeof data === 'string' ? data : data.toString()));
    ws.on('pong', () => clearTimeout(this.pongTimer));
    ws.on('error', (err: Error) => {
      if (this.ws === ws) this.log.warn({ err: err.message }, 'ARI events socket error');
    });
    ws.on('close', (code: number) => {
      if (this.ws !== ws) return;
      const wasOpen = this.open;
      this.open = false;
      this.ws = undefined;
      this.stopPing();
      if (wasOpen) {
        this.log.warn({ code }, 'ARI events socket closed');
        this.safely('onClose', () => this.handlers.onClose());
      }
      this.scheduleReconnect();
    });
  }

  private frame(text: string): void {
    if (isUnreadEvent(text)) {
      this.unreadFrames++;
      return;
    }
    const parsed = parseEvent(text);
    if (!parsed.ok) {
      this.rejectedFrames++;
      this.log.warn({ reason: parsed.reason, frame: text.slice(0, 200) }, 'ARI event ignored');
      return;
    }
    this.safely(`handling ${parsed.event.type}`, () => this.handlers.onEvent(parsed.event));
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: (err as Error).message, stack: (err as Error).stack }, `ARI events: ${what} threw`);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    const delay = this.backoff.next();
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'ARI events socket reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private startPing(ws: WebSocket): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        this.log.warn({ pongTimeoutMs: this.s.pongTimeoutMs }, 'ARI events socket did not answer a ping; dropping it');
        ws.terminate();
      }, this.s.pongTimeoutMs);
      ws.ping();
    }, this.s.pingIntervalMs);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }
}
