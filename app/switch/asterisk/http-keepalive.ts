/**
 * A small HTTP/1.1 client for one origin (the switch's ARI), over kept-alive connections:
 * - a request is one write of its head and body; its response is read as a status line, headers, and a body
 *   delimited by Content-Length, the chunked transfer coding, or the end of the connection (1xx responses are
 *   skipped, 204 and 304 have no body);
 * - at most `maxSockets` connections at once, further requests wait in order; an idle connection goes out again
 *   most recently used first (spare ones age out), and is closed after `idleMs` idle (checked every second at most);
 *   a connection the server closes, or one whose response says `Connection: close`, is not reused;
 * - each request has a deadline (`timeoutMs`, counted from the call, queueing included): past it its connection
 *   is destroyed and the request rejects with HttpTimeoutError;
 * - a request whose reused connection closes or resets before any byte of the response is sent once more, on
 *   a new connection, within the same deadline (the server closed that idle connection as the request went out).
 * Other failures reject with the socket's error (its `code`: ECONNREFUSED, ECONNRESET...).
 *
 * Why not node:http: for six small requests a call, its per-request machinery (ClientRequest and IncomingMessage
 * streams, agent bookkeeping, header objects and checks, listeners added and removed on the socket) was a fifth of
 * the call node's CPU on the Asterisk path. Here a request costs one object, one timer and one promise.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface HttpResponse {
  status: number;
  text: string;
}

export interface KeepAliveOptions {
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** Header lines sent with every request (each ending in CRLF), after Host and before Connection. */
  headers: string;
  maxSockets: number;
  idleMs: number;
}

export class HttpTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'HttpTimeoutError';
  }
}

/** A connection that ended with no response: "socket hang up" with code ECONNRESET, as node:http says it. */
function hangUp(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('socket hang up');
  err.code = 'ECONNRESET';
  return err;
}

function protocolError(what: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`malformed HTTP response: ${what}`);
  err.code = 'HPE_INVALID';
  return err;
}

/** Longest response head accepted (status line and headers). */
const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

interface Pending {
  /** The request as written: head and body. */
  wire: string;
  timeoutMs: number;
  resolve(res: HttpResponse): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  connection: Connection | undefined;
  retried: boolean;
  settled: boolean;
}

/** How the body of the response being read ends. */
const enum Framing {
  Length,
  Chunked,
  Close,
}

class Connection {
  request: Pending | undefined;
  /** Requests sent on this connection before the current one. */
  served = 0;
  idleSince = 0;
  private data: Buffer | undefined;
  /** Response head read: its status and where its body starts in `data`. */
  private status = 0;
  private bodyAt = -1;
  private framing = Framing.Length;
  private length = 0;
  private keepAlive = true;
  private done = false;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: KeepAlivePool,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => this.fail(err));
    socket.on('close', () => this.onClose());
  }

  send(p: Pending): void {
    this.request = p;
    p.connection = this;
    this.socket.write(p.wire);
  }

  private onData(chunk: Buffer): void {
    if (this.request === undefined) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.socket.destroy();
      return;
    }
    this.data = this.data === undefined ? chunk : Buffer.concat([this.data, chunk]);
    try {
      this.read();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Reads as much of the response as has arrived; completes the request once the body is whole. */
  private read(): void {
    const data = this.data as Buffer;
    while (this.bodyAt === -1) {
      const end = data.indexOf(CRLFCRLF);
      if (end === -1) {
        if (data.length > MAX_HEAD) throw protocolError('head too long');
        return;
      }
      this.readHead(data.toString('latin1', 0, end));
      this.bodyAt = end + 4;
      if (this.status < 200) {
        // 100 Continue and other interim responses: the real one follows.
        this.data = data.subarray(this.bodyAt);
        this.bodyAt = -1;
        return this.data.length > 0 ? this.read() : undefined;
      }
    }
    let text: string | undefined;
    if (this.framing === Framing.Length) {
      if (data.length - this.bodyAt < this.length) return;
      text = data.toString('utf8', this.bodyAt, this.bodyAt + this.length);
      if (data.length - this.bodyAt > this.length) this.keepAlive = false; // more than asked for: not reusable
    } else if (this.framing === Framing.Chunked) {
      text = dechunk(data, this.bodyAt);
      if (text === undefined) return;
    } else {
      return; // read until the server closes
    }
    this.complete(text);
  }

  private readHead(head: string): void {
    const lineEnd = head.indexOf('\r\n');
    const statusLine = lineEnd === -1 ? head : head.slice(0, lineEnd);
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!m) throw protocolError(`status line '${statusLine.slice(0, 40)}'`);
    this.status = Number(m[2]);
    const http10 = m[1] === '0';
    let length = -1;
    let chunked = false;
    let connection = '';
    if (lineEnd !== -1) {
      for (const line of head.slice(lineEnd + 2).split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).toLowerCase();
        if (name === 'content-length') {
          const value = line.slice(colon + 1).trim();
          if (!/^\d+$/.test(value)) throw protocolError(`Content-Length '${value}'`);
          length = Number(value);
        } else if (name === 'transfer-encoding') {
          chunked = /(^|,)\s*chunked\s*$/i.test(line.slice(colon + 1));
        } else if (name === 'connection') {
          connection = line.slice(colon + 1).trim().toLowerCase();
        }
      }
    }
    this.keepAlive = http10 ? connection === 'keep-alive' : connection !== 'close';
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) {
      this.framing = Framing.Length;
      this.length = 0;
    } else if (chunked) {
      this.framing = Framing.Chunked;
    } else if (length >= 0) {
      this.framing = Framing.Length;
      this.length = length;
    } else {
      this.framing = Framing.Close;
      this.keepAlive = false;
    }
  }

  private complete(text: string): void {
    const p = this.request as Pending;
    const status = this.status;
    const reusable = this.keepAlive;
    this.reset();
    this.served++;
    if (reusable) this.pool.release(this);
    else this.drop();
    this.pool.settle(p, undefined, { status, text });
  }

  private reset(): void {
    this.request = undefined;
    this.data = undefined;
    this.bodyAt = -1;
    this.status = 0;
  }

  private onEnd(): void {
    if (this.request !== undefined && this.bodyAt !== -1 && this.framing === Framing.Close) {
      const data = this.data as Buffer;
      this.keepAlive = false;
      this.complete(data.toString('utf8', this.bodyAt));
      return;
    }
    this.fail(hangUp());
  }

  /** The connection failed: it is not used again, and the request on it (if any) fails or is retried. */
  fail(err: Error): void {
    const p = this.request;
    const responded = this.data !== undefined;
    const reused = this.served > 0;
    this.reset();
    this.drop();
    if (p === undefined || p.settled) return;
    const code = (err as NodeJS.ErrnoException).code;
    if (!responded && reused && !p.retried && (code === 'ECONNRESET' || code === 'EPIPE')) {
      p.retried = true;
      p.connection = undefined;
      this.pool.retry(p);
      return;
    }
    this.pool.settle(p, err);
  }

  /** Its deadline passed: the request is dropped with its connection. */
  abandon(): void {
    this.reset();
    this.drop();
  }

  /**
   * Destroys the socket and leaves the pool at once, not at its 'close' event: until then it would still count
   * toward maxSockets, or sit in the idle list and take a request onto a destroyed socket.
   */
  private drop(): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    this.pool.closed(this);
  }

  private onClose(): void {
    if (!this.done) this.fail(hangUp());
  }
}

/**
 * The body of a chunked response starting at `from`, or undefined while incomplete. Chunk extensions and
 * trailers are read past.
 */
export function dechunk(data: Buffer, from: number): string | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at, 'latin1');
    if (lineEnd === -1) return undefined;
    const sizeText = data.toString('latin1', at, lineEnd).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw protocolError(`chunk size '${sizeText.slice(0, 20)}'`);
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, if any, end with an empty line.
      for (;;) {
        const end = data.indexOf('\r\n', at, 'latin1');
        if (end === -1) return undefined;
        if (end === at) return Buffer.concat(parts).toString('utf8');
        at = end + 2;
      }
    }
    if (data.length < at + size + 2) return undefined;
    if (data[at + size] !== 13 || data[at + size + 1] !== 10) throw protocolError('chunk longer than its size');
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

function onDeadline(pool: KeepAlivePool, p: Pending): void {
  pool.expire(p);
}

export class KeepAlivePool {
  private readonly all = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly waiting: Pending[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private readonly hostHeader: string;

  constructor(private readonly o: KeepAliveOptions) {
    const host = net.isIPv6(o.host) ? `[${o.host}]` : o.host;
    const defaultPort = o.protocol === 'https:' ? 443 : 80;
    this.hostHeader = `Host: ${o.port === defaultPort ? host : `${host}:${o.port}`}\r\n${o.headers}Connection: keep-alive\r\n`;
  }

  /** Sends a request (`target`: the path and query); JSON `body` if given. Resolves with any HTTP response. */
  request(method: string, target: string, body: string | undefined, timeoutMs: number): Promise<HttpResponse> {
    let wire = `${method} ${target} HTTP/1.1\r\n${this.hostHeader}`;
    if (body !== undefined) wire += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    else if (method === 'POST' || method === 'PUT') wire += 'Content-Length: 0\r\n\r\n';
    else wire += '\r\n';
    return new Promise<HttpResponse>((resolve, reject) => {
      const p: Pending = { wire, timeoutMs, resolve, reject, timer: undefined, connection: undefined, retried: false, settled: false };
      p.timer = setTimeout(onDeadline, timeoutMs, this, p);
      this.dispatch(p);
    });
  }

  /** Closes every connection; requests in flight or waiting fail ("socket hang up"). Later requests open new ones. */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const p of this.waiting.splice(0)) this.settle(p, hangUp());
    this.idle.length = 0;
    for (const c of this.all) {
      const p = c.request;
      c.abandon();
      if (p) this.settle(p, hangUp());
    }
    this.all.clear();
  }

  private dispatch(p: Pending, first = false): void {
    if (p.retried) {
      // A retry goes out on a fresh connection: another idle one may be closing as well. At the cap, the oldest
      // idle connection makes room; with none idle, it waits first in line.
      if (this.all.size >= this.o.maxSockets && this.idle.length > 0) (this.idle.shift() as Connection).abandon();
      if (this.all.size < this.o.maxSockets) this.connect().send(p);
      else this.waiting.unshift(p);
      return;
    }
    const c = this.idle.pop() ?? (this.all.size < this.o.maxSockets ? this.connect() : undefined);
    if (c) c.send(p);
    else if (first) this.waiting.unshift(p);
    else this.waiting.push(p);
  }

  private connect(): Connection {
    const { host, port } = this.o;
    const socket =
      this.o.protocol === 'https:' ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    const c = new Connection(socket, this);
    this.all.add(c);
    return c;
  }

  /** A connection done with its response: the next waiting request, else the idle list. */
  release(c: Connection): void {
    if (this.waiting[0]?.retried) {
      c.abandon(); // makes room for a fresh connection for the retry (closed() sends it)
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      c.send(next);
      return;
    }
    c.idleSince = Date.now();
    this.idle.push(c);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.o.idleMs));
      this.sweeper.unref();
    }
  }

  retry(p: Pending): void {
    this.dispatch(p, true);
  }

  /** A connection closed (called once): forget it, and open another for a waiting request. */
  closed(c: Connection): void {
    if (!this.all.delete(c)) return;
    const i = this.idle.indexOf(c);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.waiting.length > 0) this.dispatch(this.waiting.shift() as Pending, true);
  }

  expire(p: Pending): void {
    if (p.settled) return;
    const c = p.connection;
    if (c) c.abandon();
    else {
      const i = this.waiting.indexOf(p);
      if (i !== -1) this.waiting.splice(i, 1);
    }
    p.timer = undefined;
    this.settle(p, new HttpTimeoutError(p.timeoutMs));
  }

  settle(p: Pending, err: Error | undefined, res?: HttpResponse): void {
    if (p.settled) return;
    p.settled = true;
    p.connection = undefined;
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(res as HttpResponse);
  }

  /** Closes connections idle for `idleMs` or more (the oldest are first in the list). */
  private sweep(): void {
    const cutoff = Date.now() - this.o.idleMs;
    while (this.idle.length > 0 && (this.idle[0] as Connection).idleSince <= cutoff) (this.idle.shift() as Connection).abandon();
    if (this.idle.length === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
