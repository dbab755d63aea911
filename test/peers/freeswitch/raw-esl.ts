/**
 * A bare ESL endpoint for tests: reads frames exactly as they come off the wire and writes commands by hand, so
 * the peer can be checked against the protocol without any ESL library in between.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { FrameReader, fsUrlDecode, splitHeaderLine, type Header } from './wire';

export interface WireFrame {
  headers: Header[];
  body: string | null;
  /** The exact bytes of the frame (headers, blank line, body). */
  raw: string;
}

export interface ParsedEvent {
  format: 'plain' | 'json';
  /** Decoded headers in order (plain: URL-decoded lines; json: object entries). */
  headers: Header[];
  body: string | null;
  get(name: string): string | undefined;
}

export function frameHeader(f: WireFrame, name: string): string | undefined {
  return f.headers.find(([h]) => h.toLowerCase() === name.toLowerCase())?.[1];
}

/** Reads a text/event-plain or text/event-json frame's body into headers. */
export function parseEvent(f: WireFrame): ParsedEvent {
  const type = frameHeader(f, 'Content-Type');
  let headers: Header[] = [];
  let body: string | null = null;
  if (type === 'text/event-json') {
    const obj = JSON.parse(f.body ?? '{}') as Record<string, string>;
    body = obj._body ?? null;
    headers = Object.entries(obj).filter(([k]) => k !== '_body');
  } else {
    const text = f.body ?? '';
    const end = text.indexOf('\n\n');
    const head = end < 0 ? text : text.slice(0, end);
    headers = head.split('\n').filter((l) => l !== '').map((l) => {
      const [n, v] = splitHeaderLine(l);
      return [n, fsUrlDecode(v)] as Header;
    });
    const cl = headers.find(([n]) => n === 'Content-Length');
    if (cl && end >= 0) body = text.slice(end + 2, end + 2 + Number(cl[1]));
  }
  return {
    format: type === 'text/event-json' ? 'json' : 'plain',
    headers,
    body,
    get: (name) => headers.find(([h]) => h.toLowerCase() === name.toLowerCase())?.[1],
  };
}

/** One ESL socket with a frame queue. */
export class RawEsl {
  readonly frames: WireFrame[] = [];
  closed = false;
  private readonly reader = new FrameReader();
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const headerText = f.lines.join('\n');
        const body = f.body ? f.body.toString('utf8') : null;
        this.frames.push({
          headers: f.lines.map(splitHeaderLine),
          body,
          raw: `${headerText}\n\n${body ?? ''}`,
        });
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawEsl> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawEsl(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  send(line: string, headers: Record<string, string> = {}): void {
    let s = `${line}\n`;
    for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\n`;
    this.socket.write(`${s}\n`);
  }

  /** Waits for the first unread frame matching `pred` (and everything before it is consumed). */
  async next(pred: (f: WireFrame) => boolean = () => true, timeoutMs = 5000): Promise<WireFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(0, i + 1)[i] as WireFrame;
      if (this.closed) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a command and returns its command/reply or api/response. */
  async command(line: string, headers: Record<string, string> = {}): Promise<WireFrame> {
    this.send(line, headers);
    return this.next((f) => /^(command\/reply|api\/response)$/.test(frameHeader(f, 'Content-Type') ?? ''));
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket did not close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A one-shot outbound socket server: the peer's call connects to it and the test drives it by hand. */
export class RawAppServer {
  private server: Server | undefined;
  private readonly accepted: RawEsl[] = [];
  private waiters: Array<() => void> = [];

  async listen(): Promise<number> {
    const server = createServer((s) => {
      this.accepted.push(new RawEsl(s));
      const w = this.waiters;
      this.waiters = [];
      for (const fn of w) fn();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  async accept(timeoutMs = 5000): Promise<RawEsl> {
    const deadline = Date.now() + timeoutMs;
    while (this.accepted.length === 0) {
      if (Date.now() > deadline) throw new Error('no connection');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.accepted.shift() as RawEsl;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
