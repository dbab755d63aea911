/**
 * ARI's HTTP side: Basic auth or `api_key` on every request (401 `Authentication required` with
 * `WWW-Authenticate: Basic realm="Asterisk REST Interface"`), the api-docs, the REST routes, 404
 * `Resource not found` for an unknown path and 405 `Invalid method` for a known path with the wrong method.
 * The `/ari/events` upgrade goes to the event hub.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiDocs } from './api-docs';
import { AUTH_REALM, AUTH_REQUIRED_BODY, isAuthorized, type Credentials, type EventHub } from './event-hub';
import type { RestRequest, RestResult } from './rest-handlers';

export type Handler = (req: RestRequest) => RestResult;

export interface Route {
  /** Matched against the path after `/ari`; groups become `params`. */
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
}

const COMMON_HEADERS = { Server: 'Asterisk/22.10.1', 'Cache-Control': 'no-cache, no-store' };

export class AriHttpServer {
  private readonly server: http.Server;
  /** While set, every connection is reset: the switch is unreachable. */
  unreachable = false;
  readonly requests: RequestLogEntry[] = [];
  record = true;
  /** REST requests answered, counted even when not recording (the CPS benchmark reads it). */
  requestCount = 0;

  constructor(
    private readonly routes: Route[],
    private readonly docs: ApiDocs,
    private readonly creds: Credentials,
    hub: EventHub,
  ) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      if (this.unreachable) socket.destroy();
      else hub.handleUpgrade(req, socket, head);
    });
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.unreachable) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.respond(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        this.send(req, res, { status: 500, body: { message: `peer error: ${(err as Error).message}` } });
      }
    });
  }

  private respond(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    const url = new URL(req.url ?? '/', 'http://peer');
    if (!isAuthorized(req, url.searchParams, this.creds)) {
      this.log(req, 401);
      res.writeHead(401, { ...COMMON_HEADERS, 'WWW-Authenticate': AUTH_REALM, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(AUTH_REQUIRED_BODY) });
      res.end(AUTH_REQUIRED_BODY);
      return;
    }
    const path = url.pathname;
    if (path.startsWith('/ari/api-docs/') && req.method === 'GET') {
      const doc = this.docs.get(path.slice('/ari/api-docs/'.length), req.headers.host ?? '127.0.0.1:8088');
      if (doc !== undefined) {
        this.log(req, 200);
        res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(doc) });
        res.end(doc);
        return;
      }
    }
    // Asterisk reads a body only when its Content-Type (parameters aside) is application/json; else it is ignored.
    let body: unknown = undefined;
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.toLowerCase();
    if (contentType === 'application/json' && rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        this.send(req, res, { status: 400, body: { message: 'Error parsing request body' } });
        return;
      }
    }
    const sub = path.startsWith('/ari/') ? path.slice(4) : undefined;
    for (const route of sub === undefined ? [] : this.routes) {
      const m = route.pattern.exec(sub as string);
      if (!m) continue;
      const handler = route.methods[req.method as keyof Route['methods']];
      if (!handler) {
        this.send(req, res, { status: 405, body: { message: 'Invalid method' } });
        return;
      }
      const params = m.slice(1).filter((p): p is string => p !== undefined).map((p) => decodeURIComponent(p));
      const result = handler({ params, query: url.searchParams, body });
      this.send(req, res, result);
      if (result.after) setImmediate(result.after);
      return;
    }
    this.send(req, res, { status: 404, body: { message: 'Resource not found' } });
  }

  private send(req: IncomingMessage, res: ServerResponse, result: RestResult): void {
    this.log(req, result.status);
    if (result.body === undefined) {
      res.writeHead(result.status, COMMON_HEADERS);
      res.end();
      return;
    }
    const text = JSON.stringify(result.body);
    res.writeHead(result.status, { ...COMMON_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private log(req: IncomingMessage, status: number): void {
    this.requestCount++;
    if (this.record) this.requests.push({ method: req.method ?? '', path: req.url ?? '', status });
  }
}
