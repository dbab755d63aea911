import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a test RTB buyer answers a ping: after `delayMs`, with `status` and `body` (an object as JSON, a string as is). */
export interface BuyerScript {
  delayMs?: number;
  status?: number;
  body?: unknown;
}

/**
 * Real RTB buyers for tests: one node:http server, one buyer per path (/name), each answering as its script says,
 * and every ping received kept (parsed JSON) per buyer.
 */
export class TestRtbBuyers {
  private readonly server: http.Server;
  private readonly scripts = new Map<string, BuyerScript>();
  readonly received = new Map<string, Array<Record<string, unknown>>>();
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const name = (req.url ?? '/').slice(1);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let ping: Record<string, unknown> = {};
        try {
          ping = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch { /* kept empty */ }
        const list = this.received.get(name) ?? [];
        list.push(ping);
        this.received.set(name, list);
        const s = this.scripts.get(name) ?? { status: 204 };
        setTimeout(() => {
          const body = s.body === undefined ? '' : typeof s.body === 'string' ? s.body : JSON.stringify(s.body);
          res.writeHead(s.status ?? 200, { 'content-type': 'application/json' });
          res.end(body);
        }, s.delayMs ?? 0);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(name: string): string {
    return `http://127.0.0.1:${this.port}/${name}`;
  }

  script(name: string, s: BuyerScript): void {
    this.scripts.set(name, s);
  }

  pings(name: string): Array<Record<string, unknown>> {
    return this.received.get(name) ?? [];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
