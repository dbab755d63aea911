import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, type VerifyResult } from '../../app/domain/webhook-signature';

/** One request a receiver got, as it arrived: the raw body (what a signature is checked on) and the headers. */
export interface Received {
  rawBody: string;
  headers: http.IncomingHttpHeaders;
  /** the status the receiver answered */
  answered: number;
}

/**
 * A webhook receiver on a real local HTTP port, as a customer would run one. `answer` decides each request's status
 * from the request and how many requests with the same event id came before it (to fail N times, then succeed).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private server?: http.Server;
  answer: (r: { eventId: string; previousTries: number }) => number = () => 200;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const eventId = String(req.headers['x-callx-event-id'] ?? '');
        const previousTries = this.received.filter((r) => r.headers['x-callx-event-id'] === eventId).length;
        const status = this.answer({ eventId, previousTries });
        this.received.push({ rawBody: Buffer.concat(chunks).toString('utf8'), headers: req.headers, answered: status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests of one event type (from its header), in arrival order. */
  ofType(type: string): Received[] {
    return this.received.filter((r) => r.headers['x-callx-event-type'] === type);
  }

  /** What a receiver does first: check the signature on the raw body with its secret, at its own clock. */
  static verify(r: Received, secret: string): VerifyResult {
    return verifyWebhookSignature(r.rawBody, r.headers['x-callx-signature'] as string | undefined, secret, { nowSec: Math.floor(Date.now() / 1000) });
  }
}
