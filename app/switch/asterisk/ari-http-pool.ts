/**
 * The ARI client's HTTP: undici's Pool (kept-alive HTTP/1.1 connections to one origin, at most `maxSockets`, idle
 * ones closed after `idleMs`), driven through `Pool#dispatch` with one small handler per request that gathers the
 * body as text. What this module adds to undici:
 * - a deadline per request counted from the call, queueing included: past it the request is aborted (its
 *   connection destroyed if it was sent, never sent if it was still waiting) and rejects with HttpTimeoutError;
 * - a request that fails with a reset or close on a reused connection before any response is sent once more,
 *   within the same deadline (the server closed that idle connection as the request went out).
 * Other failures reject with undici's or the socket's error (its `code`: ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...).
 *
 * Why dispatch and not `Pool#request`: request wraps every response in a Readable stream and an async resource,
 * and a deadline there needs an AbortController per request; the handler here is one object, one timer, one promise.
 */
import { Pool, buildConnector } from 'undici';
import type { Dispatcher } from 'undici';

export interface HttpResponse {
  status: number;
  text: string;
}

export interface AriHttpPoolOptions {
  /** e.g. http://127.0.0.1:8088 */
  origin: string;
  /** Header name/value pairs sent with every request (Authorization). */
  headers: string[];
  maxSockets: number;
  idleMs: number;
}

export class HttpTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'HttpTimeoutError';
  }
}

/** Bytes the connection had read before it failed: more than none means it was reused (it carried a response). */
const kBytesRead = Symbol('bytesRead');
type SocketFailure = Error & { code?: string; socket?: { bytesRead?: number }; [kBytesRead]?: number };

/** A failure that is the server closing an idle kept-alive connection under the request. */
function closedUnderRequest(err: SocketFailure): boolean {
  if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE' && err.code !== 'UND_ERR_SOCKET') return false;
  return (err.socket?.bytesRead ?? err[kBytesRead] ?? 0) > 0;
}

const JSON_HEADERS = ['content-type', 'application/json'];

class PendingRequest implements Dispatcher.DispatchHandlers {
  private abort: ((err?: Error) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private status = 0;
  private chunks: Buffer[] = [];
  private settled = false;
  private retried = false;

  constructor(
    private readonly http: AriHttpPool,
    readonly options: Dispatcher.DispatchOptions,
    private readonly timeoutMs: number,
    private readonly resolve: (res: HttpResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.timer = setTimeout(onDeadline, timeoutMs, this);
  }

  expire(): void {
    if (this.settled) return;
    this.abort?.(new HttpTimeoutError(this.timeoutMs));
    this.settle(new HttpTimeoutError(this.timeoutMs));
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) abort(new HttpTimeoutError(this.timeoutMs)); // its deadline passed while it waited
    else this.abort = abort;
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode >= 200) this.status = statusCode; // 1xx: the real response follows
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    // Settled once undici has put the connection back: it does so in a setImmediate queued after this returns,
    // and a request sent before that would find the connection busy and open another.
    process.nextTick(afterComplete, this);
  }

  /** The response, once its connection is free again. */
  complete(): void {
    const text = this.chunks.length === 1 ? (this.chunks[0] as Buffer).toString('utf8') : Buffer.concat(this.chunks).toString('utf8');
    this.settle(undefined, { status: this.status, text });
  }

  onError(err: Error): void {
    if (this.settled) return;
    if (this.status === 0 && !this.retried && closedUnderRequest(err)) {
      this.retried = true;
      this.abort = undefined;
      this.http.send(this);
      return;
    }
    this.settle(err);
  }

  private settle(err: Error | undefined, res?: HttpResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.abort = undefined;
    clearTimeout(this.timer);
    if (err) this.reject(err);
    else this.resolve(res as HttpResponse);
  }
}

function onDeadline(p: PendingRequest): void {
  p.expire();
}

function afterComplete(p: PendingRequest): void {
  setImmediate(completeNow, p);
}

function completeNow(p: PendingRequest): void {
  p.complete();
}

export class AriHttpPool {
  private pool: Pool;

  constructor(private readonly o: AriHttpPoolOptions) {
    this.pool = this.open();
  }

  /** Sends a request (`path`: path and query); JSON `body` if given. Resolves with any HTTP response. */
  request(method: Dispatcher.HttpMethod, path: string, body: string | undefined, timeoutMs: number): Promise<HttpResponse> {
    const options: Dispatcher.DispatchOptions = body === undefined ? { method, path, headers: this.o.headers } : { method, path, headers: [...this.o.headers, ...JSON_HEADERS], body };
    return new Promise<HttpResponse>((resolve, reject) => this.send(new PendingRequest(this, options, timeoutMs, resolve, reject)));
  }

  send(p: PendingRequest): void {
    this.pool.dispatch(p.options, p);
  }

  /** Closes every connection; requests in flight or waiting fail. Later requests open new connections. */
  close(): void {
    const old = this.pool;
    this.pool = this.open();
    old.destroy().catch(() => undefined);
  }

  private open(): Pool {
    const connector = buildConnector({});
    return new Pool(this.o.origin, {
      connections: this.o.maxSockets,
      keepAliveTimeout: this.o.idleMs,
      keepAliveMaxTimeout: this.o.idleMs,
      // Each socket's errors carry how much it had read before (undici's own SocketError carries its socket's).
      connect: (opts, callback) =>
        connector(opts, (err, socket) => {
          socket?.on('error', (e: SocketFailure) => {
            e[kBytesRead] = socket.bytesRead;
          });
          callback(err, socket as never);
        }),
    });
  }
}
