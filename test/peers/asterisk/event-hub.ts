/**
 * The `/ari/events` WebSocket: upgrade checks as Asterisk 22 does them (400 text/html without `app`, 401 JSON
 * without valid credentials), one registration per Stasis application, and event delivery. Events for an app
 * with no socket are dropped, as Asterisk does not replay them, and so are those of a type the app's event
 * filter (`PUT /applications/{app}/eventFilter`, event-filter.ts) keeps from it. The filter belongs to the
 * registered app: a new socket replacing the app's keeps it; the app's last socket closing drops it (Asterisk
 * may keep an app with calls in it across a reconnect, filter and all; a client sets it again on each
 * connection either way).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { AppEventFilter } from './event-filter';
import type { EventJson } from './wire-format';

export interface Credentials {
  username: string;
  password: string;
}

const MISSING_APP_BODY =
  '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n<title>400 Bad Request</title>\r\n</head><body>\r\n' +
  '<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n<hr />\r\n<address>Asterisk/22.10.1</address>\r\n</body></html>\r\n';

export const AUTH_REQUIRED_BODY = '{"message":"Authentication required"}';
export const AUTH_REALM = 'Basic realm="Asterisk REST Interface"';

/** Basic auth or `api_key=user:pass`, as ARI accepts either. */
export function isAuthorized(req: IncomingMessage, query: URLSearchParams, creds: Credentials): boolean {
  const apiKey = query.get('api_key');
  if (apiKey !== null) return apiKey === `${creds.username}:${creds.password}`;
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  return decoded === `${creds.username}:${creds.password}`;
}

function rawResponse(socket: Duplex, status: string, contentType: string, body: string, extra: string[] = []): void {
  const head = [
    `HTTP/1.1 ${status}`,
    'Server: Asterisk/22.10.1',
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...extra,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

export class EventHub {
  private readonly wss = new WebSocket.Server({ noServer: true, perMessageDeflate: false });
  private readonly byApp = new Map<string, Set<WebSocket>>();
  private readonly filters = new Map<string, AppEventFilter>();
  private readonly all = new Set<WebSocket>();
  /** While set, upgrade requests are reset (the switch is unreachable). */
  refusing = false;
  /** While set, events are lost on the way although the app stays registered (a socket dying unnoticed). */
  discarding = false;
  /**
   * Every event the switch emitted for an app, with the app (for assertions; off for load runs), and whether it
   * went on a socket (`delivered`: the app was connected and its event filter let the type through).
   */
  readonly sent: Array<{ app: string; event: EventJson; delivered: boolean }> = [];
  record = true;
  /**
   * Load runs: the events a socket is sent in one turn of the event loop leave in one write (the socket is corked
   * until setImmediate) instead of a write each. The frames and their order are the same; only their packing into
   * TCP writes differs, which no client may depend on. Saves the load generator a system call per event.
   */
  coalesce = false;
  /** Events sent to app sockets and their bytes, counted even when not recording (the CPS benchmark reads it). */
  readonly wire = { events: 0, eventBytes: 0 };
  private readonly rawSockets = new WeakMap<WebSocket, Duplex>();
  private readonly corked = new Set<Duplex>();

  constructor(
    private readonly creds: Credentials,
    private readonly asteriskId: string,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refusing) {
      socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://peer');
    if (url.pathname !== '/ari/events') {
      rawResponse(socket, '404 Not Found', 'application/json', '{"message":"Resource not found"}');
      return;
    }
    const apps = (url.searchParams.get('app') ?? '').split(',').filter((a) => a !== '');
    if (apps.length === 0) {
      rawResponse(socket, '400 Bad Request', 'text/html', MISSING_APP_BODY);
      return;
    }
    if (!isAuthorized(req, url.searchParams, this.creds)) {
      rawResponse(socket, '401 Unauthorized', 'application/json', AUTH_REQUIRED_BODY, [`WWW-Authenticate: ${AUTH_REALM}`]);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.rawSockets.set(ws, socket);
      this.register(ws, apps);
    });
  }

  private register(ws: WebSocket, apps: string[]): void {
    this.all.add(ws);
    for (const app of apps) {
      const existing = this.byApp.get(app);
      if (existing) {
        // A second registration replaces the first one (Asterisk sends it ApplicationReplaced).
        // It goes through the app's event filter like any other message (res_ari's stasis_app_message_handler).
        if (this.wants(app, 'ApplicationReplaced')) for (const old of existing) this.sendTo(old, { type: 'ApplicationReplaced', timestamp: new Date().toISOString(), application: app });
        existing.clear();
      }
      this.byApp.set(app, new Set([ws]));
    }
    ws.on('close', () => {
      this.all.delete(ws);
      for (const [app, set] of this.byApp) {
        set.delete(ws);
        if (set.size === 0) this.filters.delete(app);
      }
    });
    ws.on('error', () => ws.terminate());
  }

  isActive(app: string): boolean {
    return (this.byApp.get(app)?.size ?? 0) > 0;
  }

  /** The event filter of a connected app, made on first use; undefined when the app is not registered. */
  filterOf(app: string): AppEventFilter | undefined {
    if (!this.isActive(app)) return undefined;
    let filter = this.filters.get(app);
    if (!filter) {
      filter = new AppEventFilter();
      this.filters.set(app, filter);
    }
    return filter;
  }

  /** Whether an event of `type` for `app` would go on a socket: the app is connected and its filter allows it. */
  wants(app: string, type: string): boolean {
    return this.isActive(app) && (this.filters.get(app)?.allows(type) ?? true);
  }

  get asterisk(): string {
    return this.asteriskId;
  }

  send(app: string, event: EventJson): void {
    if (this.discarding) return;
    const delivered = this.wants(app, event.type);
    if (this.record) this.sent.push({ app, event, delivered });
    if (!delivered) return;
    const sockets = this.byApp.get(app) as Set<WebSocket>;
    const text = JSON.stringify(event);
    for (const ws of sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (this.coalesce) this.corkUntilNextTurn(ws);
      this.wire.events++;
      this.wire.eventBytes += text.length;
      ws.send(text);
    }
  }

  private corkUntilNextTurn(ws: WebSocket): void {
    const socket = this.rawSockets.get(ws);
    if (!socket || this.corked.has(socket)) return;
    this.corked.add(socket);
    socket.cork();
    setImmediate(() => {
      this.corked.delete(socket);
      socket.uncork();
    });
  }

  private sendTo(ws: WebSocket, event: unknown): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(event));
  }

  /** Sends text as is to every socket (malformed or unknown events). */
  sendRaw(text: string): void {
    for (const ws of this.all) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  /** Drops every event socket at once (TCP reset, no close frame), like a network cut. */
  dropAll(): void {
    const sockets = [...this.all];
    this.all.clear();
    this.byApp.clear();
    this.filters.clear();
    for (const ws of sockets) ws.terminate();
  }

  get connections(): number {
    return this.all.size;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
