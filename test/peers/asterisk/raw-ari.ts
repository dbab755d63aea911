/**
 * A bare ARI client for testing the peer itself: plain HTTP requests and one events WebSocket that collects what
 * arrives. It makes no assumption the adapter makes.
 */
import WebSocket from 'ws';
import type { EventJson } from './wire-format';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export class RawAri {
  constructor(
    private readonly base: string,
    private readonly creds: { username: string; password: string },
  ) {}

  async request(method: string, path: string, opts: { body?: unknown; auth?: 'basic' | 'none' | 'api_key' } = {}): Promise<RawResponse> {
    const headers: Record<string, string> = {};
    let url = `${this.base}${path}`;
    const auth = opts.auth ?? 'basic';
    if (auth === 'basic') headers.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
    if (auth === 'api_key') url += `${url.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(`${this.creds.username}:${this.creds.password}`)}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  async events(app: string): Promise<EventSocket> {
    const url = `${this.base.replace(/^http/, 'ws')}/ari/events?app=${app}&api_key=${encodeURIComponent(`${this.creds.username}:${this.creds.password}`)}`;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new EventSocket(ws);
  }
}

export class EventSocket {
  readonly events: EventJson[] = [];
  /** Every text frame as received, parseable or not. */
  readonly frames: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData | string) => {
      const text = typeof data === 'string' ? data : data.toString();
      this.frames.push(text);
      try {
        this.events.push(JSON.parse(text) as EventJson);
      } catch {
        // kept in frames only
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Waits for the first event (after `from`) that matches; returns its index. */
  async waitFor(pred: (e: EventJson) => boolean, timeoutMs = 3000, from = 0): Promise<EventJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${this.events.map((e) => e.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** The channel id an event is about (`channel` or `peer`). */
export function channelIdOf(e: EventJson): string | undefined {
  const ch = (e.channel ?? e.peer) as { id?: string } | undefined;
  return ch?.id;
}
