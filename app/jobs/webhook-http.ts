/**
 * One webhook POST over node:http(s), with keep-alive agents, a deadline, no redirects followed, and (unless
 * private addresses are allowed) a refusal to connect to any address that is not public: the check runs on the
 * addresses the connection really uses (in the socket's DNS lookup, and on a literal IP in the URL), so a name that
 * resolves to a private address, or starts to (DNS rebinding), is refused too.
 */
import http from 'node:http';
import https from 'node:https';
import { isPrivateHost } from '../domain/address-scope';
import { publicOnlyLookup } from '../util/public-only-lookup';

export interface PostOptions {
  timeoutMs: number;
  /** allow loopback and private addresses (tests, a receiver inside the exchange's own network) */
  allowPrivate: boolean;
}

export class WebhookHttp {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly opts: PostOptions) {
    const lookup = opts.allowPrivate ? undefined : publicOnlyLookup;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 50, ...(lookup ? { lookup } : {}) }),
      https: new https.Agent({ keepAlive: true, maxSockets: 50, ...(lookup ? { lookup } : {}) }),
    };
  }

  /** The receiver's status code; rejects on a refused address, a network error or the deadline. */
  post(url: string, headers: Record<string, string>, body: string): Promise<number> {
    const u = new URL(url);
    // A literal IP is connected to without a lookup: check it here.
    if (!this.opts.allowPrivate && isPrivateHost(u.hostname)) {
      return Promise.reject(Object.assign(new Error(`${u.hostname} is not a public address`), { code: 'ENOTPUBLIC' }));
    }
    const secure = u.protocol === 'https:';
    return new Promise<number>((resolve, reject) => {
      const req = (secure ? https : http).request(u, {
        method: 'POST',
        agent: secure ? this.agents.https : this.agents.http,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      }, (res) => {
        res.resume(); // the answer's body is not read, only its status
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${this.opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.opts.timeoutMs);
      req.on('error', reject);
      req.on('close', () => clearTimeout(timer));
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
