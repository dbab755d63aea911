/**
 * A minimal HTTP/1.1 keep-alive client for load generators: a pool of TCP connections, one request at a time on
 * each, requests written as one string and responses read by Content-Length. It does the least a client can do per
 * request, so a benchmark on a shared machine measures the server rather than its own HTTP machinery (node:http
 * cost the bench:api client ~200 us of CPU per request, most of it user space).
 *
 * What it does not do, it refuses loudly: a chunked or length-less response, or bytes after a response (nothing is
 * pipelined), fails the request with an error rather than being misread.
 */
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

interface Pending {
  resolve(status: number): void;
  reject(err: Error): void;
}

/** One keep-alive connection carrying one request at a time. */
class Connection {
  readonly socket: net.Socket;
  private head: Buffer | null = null;
  private status = 0;
  private bodyLeft = -1; // -1 while the head is being read
  private closeAfter = false;
  private pending: Pending | undefined;
  dead = false;

  constructor(host: string, port: number, private readonly onDone: (c: Connection) => void, onClose: (c: Connection) => void) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => {
      this.dead = true;
      this.finish(err);
    });
    this.socket.on('close', () => {
      this.dead = true;
      this.finish(new Error('connection closed by the server'));
      onClose(this);
    });
  }

  send(request: string, pending: Pending): void {
    this.pending = pending;
    this.head = null;
    this.bodyLeft = -1;
    this.socket.write(request, 'latin1');
  }

  private onData(chunk: Buffer): void {
    if (!this.pending) return this.protocolError('bytes arrived with no request outstanding');
    if (this.bodyLeft < 0) {
      const buf: Buffer = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        this.head = buf;
        return;
      }
      const head = buf.toString('latin1', 0, end);
      this.status = Number(head.slice(9, 12));
      if (/\r\ntransfer-encoding:/i.test(head)) return this.protocolError('a chunked response (this client reads Content-Length only)');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!length) return this.protocolError('a response without Content-Length');
      this.closeAfter = /\r\nconnection:\s*close/i.test(head);
      this.bodyLeft = Number(length[1]) - (buf.length - end - HEAD_END.length);
    } else {
      this.bodyLeft -= chunk.length;
    }
    if (this.bodyLeft < 0) return this.protocolError('more bytes than the response announced');
    if (this.bodyLeft === 0) {
      if (this.closeAfter) {
        this.dead = true;
        this.socket.end();
      }
      this.finish(undefined);
    }
  }

  private protocolError(what: string): void {
    this.dead = true;
    this.socket.destroy();
    this.finish(new Error(`unexpected HTTP from the server: ${what}`));
  }

  private finish(err: Error | undefined): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (err) p.reject(err);
    else p.resolve(this.status);
    this.onDone(this);
  }
}

export class RawHttpPool {
  private readonly host: string;
  private readonly port: number;
  private readonly idle: Connection[] = [];
  private readonly waiting: Array<{ request: string } & Pending> = [];
  private open = 0;

  constructor(base: string, private readonly maxConnections: number) {
    const url = new URL(base);
    if (url.protocol !== 'http:') throw new Error(`only http: is supported, not ${url.protocol}`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  /** Sends a request and resolves with the response's status once its whole body has arrived. */
  request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
    let text = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
    for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
    if (body !== undefined) text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    text += `\r\n${body ?? ''}`;
    return new Promise((resolve, reject) => {
      const c = this.idle.pop() ?? (this.open < this.maxConnections ? this.connect() : undefined);
      if (c) c.send(text, { resolve, reject });
      else this.waiting.push({ request: text, resolve, reject });
    });
  }

  close(): void {
    for (const c of this.idle.splice(0)) c.socket.end();
  }

  private connect(): Connection {
    this.open++;
    return new Connection(this.host, this.port, (c) => this.done(c), (c) => this.closed(c));
  }

  /** A request ended on c: give it the next waiting request or keep it for the next one. */
  private done(c: Connection): void {
    if (c.dead) return; // closed() takes it from here
    const next = this.waiting.shift();
    if (next) c.send(next.request, next);
    else this.idle.push(c);
  }

  /** c's socket closed (the server's keep-alive timeout, an error or Connection: close): open another if needed. */
  private closed(c: Connection): void {
    this.open--;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.waiting.shift();
    if (next) this.connect().send(next.request, next);
  }
}
