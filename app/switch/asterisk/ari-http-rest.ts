/**
 * AriRest over HTTP/1.1: one request per operation, on kept-alive connections, with nothing in between (no API
 * description to load, no per-operation objects). What it sends is what Asterisk 22 was recorded accepting
 * (test/fixtures/asterisk): paths under `/ari`, parameters in the query string, URL-encoded
 * (`endpoint=PJSIP%2Fbuyer&app=...`), except originate's `variables`, which go in a JSON body
 * `{"variables": {...}}` as Asterisk documents. Basic auth on every request.
 *
 * - Every request has its own deadline (`restMs`): past it the request is destroyed and the call settles as
 *   AriError 'timeout'.
 * - Errors are mapped as in ari-client-rest.ts (ari-results.ts): 404 or `... not found` -> not_found,
 *   `not in Stasis` -> not_in_stasis, `Allocation failed` -> allocation_failed, `already exists` -> conflict,
 *   anything else (and a refused or reset connection) -> other; the message is the body's `message` or `error`.
 * - A request that fails with a reset or close on a reused connection, before any response, is sent once more
 *   (within the same deadline): the switch closed that idle connection as the request went out.
 * - `connect` checks the URL and the credentials with GET /ari/asterisk/info; 401 says the user was refused.
 *
 * The HTTP is undici's Pool (ari-http-pool.ts), the Node.js project's own HTTP client, driven through
 * `Pool#dispatch` with a small handler: a kept library rather than HTTP code of our own. Not fetch (its per-request
 * machinery cost about three times the CPU of http.request here), nor node:http (whose per-request objects and
 * streams were a fifth of the call node's CPU: 47-56 us of CPU per request in `npm run bench:ari-rest`). Through
 * the Pool: 22.7-25.0 us, against 15.7-16.6 us for the hand-written HTTP/1.1 client it replaced (alternated pairs).
 */
import type { Logger } from '../../observability/logger';
import type { HangupCause } from '../port';
import type { AriBridge, AriChannel } from './ari-model';
import { bodyMessage, errorKind, plainBridge, plainChannel } from './ari-results';
import { AriError, eventFilterBody, isVariableNotSet, type AriRest, type OriginateParams } from './ari-rest';
import { causeCode, hangupReason } from './causes';
import { AriHttpPool, HttpTimeoutError, type HttpResponse } from './ari-http-pool';

export interface AriHttpOptions {
  /** ARI base URL (http.conf), e.g. http://127.0.0.1:8088; requests go to `<url>/ari/...`. */
  url: string;
  username: string;
  password: string;
  /** Deadline of each request. */
  restMs: number;
  /**
   * Most connections open to the switch at once (default 64). A quiet call node has a handful of REST requests
   * in flight; when the machine is loaded and answers slow down, a few dozen, and a lower cap makes them queue
   * behind each other on top of the load. Asterisk's http.conf `sessionlimit` (default 100) counts every HTTP
   * connection, the events WebSocket included, so 64 fits a stock Asterisk; asterisk-conf/http.conf raises it to 400.
   */
  maxSockets?: number;
  /**
   * An idle kept-alive connection is closed after this long: shorter than Asterisk's `session_keep_alive`
   * (default 15 s), so the switch is rarely the one closing it under a request.
   */
  idleMs?: number;
}

/** A query string from parameters in order, each value URL-encoded; undefined values are left out. */
export function queryString(params: Array<[string, string | number | undefined]>): string {
  let q = '';
  for (const [k, v] of params) {
    if (v === undefined) continue;
    q += `${q === '' ? '?' : '&'}${k}=${encodeURIComponent(String(v))}`;
  }
  return q;
}

const seg = encodeURIComponent;

/** A request that got no HTTP response: AriError 'timeout' past its deadline, else 'other' with the socket's error. */
function requestError(err: unknown, operation: string): AriError {
  if (err instanceof HttpTimeoutError) return new AriError('timeout', operation, err.message);
  const e = err as NodeJS.ErrnoException;
  return new AriError('other', operation, e.code && !e.message.includes(e.code) ? `${e.code} ${e.message}` : e.message || 'request failed');
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class AriHttpRest implements AriRest {
  private readonly http: AriHttpPool;
  private readonly base: string;
  private readonly restMs: number;

  constructor(opts: AriHttpOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new Error(`ARI URL '${opts.url}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`ARI URL '${opts.url}' must be http:// or https://`);
    if (url.search !== '' || url.hash !== '') throw new Error(`ARI URL '${opts.url}' must not have a query or fragment`);
    this.base = `${url.pathname.replace(/\/+$/, '')}/ari`;
    this.restMs = opts.restMs;
    this.http = new AriHttpPool({
      origin: url.origin,
      headers: ['authorization', `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`],
      maxSockets: opts.maxSockets ?? 64,
      idleMs: opts.idleMs ?? 10_000,
    });
  }

  /**
   * A client checked against the switch: GET /ari/asterisk/info must answer 200 within `connectMs`. Rejects
   * with a plain Error saying what is wrong (unreachable, credentials refused, not an ARI server).
   */
  static async connect(opts: AriHttpOptions & { connectMs: number }, log?: Logger): Promise<AriHttpRest> {
    const rest = new AriHttpRest(opts);
    let res: HttpResponse;
    try {
      res = await rest.send('GET', '/asterisk/info', 'GET /asterisk/info', undefined, opts.connectMs);
    } catch (err) {
      rest.close();
      throw new Error(`ARI at ${opts.url} is unreachable: ${(err as Error).message}`);
    }
    if (res.status !== 200) {
      rest.close();
      if (res.status === 401) throw new Error(`ARI at ${opts.url} refused user '${opts.username}' (401 ${bodyMessage(res.text)}): check the ARI username and password (ari.conf)`);
      throw new Error(`ARI at ${opts.url} answered GET /ari/asterisk/info with ${res.status} ${bodyMessage(res.text).slice(0, 200)}: is it Asterisk with ARI enabled (http.conf, ari.conf)?`);
    }
    let version: unknown;
    try {
      version = (JSON.parse(res.text) as { system?: { version?: unknown } }).system?.version;
    } catch {
      rest.close();
      throw new Error(`ARI at ${opts.url} answered GET /ari/asterisk/info with something other than JSON`);
    }
    log?.info({ url: opts.url, asterisk: version }, 'ARI REST reachable (undici)');
    return rest;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.http.close();
  }

  /** Sends one request; resolves with any HTTP response, rejects with AriError 'timeout' or 'other' (network). */
  private async send(method: Method, path: string, operation: string, body: string | undefined, timeoutMs: number): Promise<HttpResponse> {
    try {
      return await this.http.request(method, this.base + path, body, timeoutMs);
    } catch (err) {
      throw requestError(err, operation);
    }
  }

  /** One operation: the parsed JSON of a 2xx response (undefined when empty), else an AriError of its kind. */
  private async call(method: Method, path: string, operation: string, body?: string): Promise<unknown> {
    let res: HttpResponse;
    try {
      res = await this.http.request(method, this.base + path, body, this.restMs);
    } catch (err) {
      throw requestError(err, operation);
    }
    if (res.status >= 200 && res.status < 300) {
      if (res.text === '') return undefined;
      try {
        return JSON.parse(res.text);
      } catch {
        throw new AriError('other', operation, `${res.status} with a body that is not JSON: ${res.text.slice(0, 100)}`);
      }
    }
    const message = res.text === '' ? `HTTP ${res.status}` : bodyMessage(res.text);
    throw new AriError(errorKind(message, res.status), operation, message, res.status);
  }

  async listChannels(): Promise<AriChannel[]> {
    const list = await this.call('GET', '/channels', 'GET /channels');
    return Array.isArray(list) ? list.map(plainChannel) : [];
  }

  async getChannel(id: string): Promise<AriChannel> {
    return plainChannel(await this.call('GET', `/channels/${seg(id)}`, `GET /channels/${id}`));
  }

  async listBridges(): Promise<AriBridge[]> {
    const list = await this.call('GET', '/bridges', 'GET /bridges');
    return Array.isArray(list) ? list.map(plainBridge) : [];
  }

  async originate(p: OriginateParams): Promise<AriChannel> {
    const query = queryString([
      ['endpoint', p.endpoint],
      ['app', p.app],
      ['appArgs', p.appArgs],
      ['callerId', p.callerId],
      ['timeout', p.timeoutSec],
      ['channelId', p.channelId],
    ]);
    const body = p.variables && Object.keys(p.variables).length > 0 ? JSON.stringify({ variables: p.variables }) : undefined;
    return plainChannel(await this.call('POST', `/channels${query}`, `POST /channels (${p.endpoint})`, body));
  }

  async answer(channelId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/answer`, `POST /channels/${channelId}/answer`);
  }

  async hangup(channelId: string, cause: HangupCause): Promise<void> {
    const code = causeCode(cause);
    const query = code !== undefined ? queryString([['reason_code', code]]) : queryString([['reason', hangupReason(cause)]]);
    await this.call('DELETE', `/channels/${seg(channelId)}${query}`, `DELETE /channels/${channelId}`);
  }

  async play(channelId: string, media: string, playbackId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/play${queryString([['media', media], ['playbackId', playbackId]])}`, `POST /channels/${channelId}/play`);
  }

  async ring(channelId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/ring`, `POST /channels/${channelId}/ring`);
  }

  async progress(channelId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/progress`, `POST /channels/${channelId}/progress`);
  }

  async getVariable(channelId: string, name: string): Promise<string | undefined> {
    try {
      const body = (await this.call('GET', `/channels/${seg(channelId)}/variable${queryString([['variable', name]])}`, `GET /channels/${channelId}/variable`)) as { value?: unknown } | undefined;
      return typeof body?.value === 'string' ? body.value : undefined;
    } catch (err) {
      if (isVariableNotSet(err)) return undefined;
      throw err;
    }
  }

  async setVariable(channelId: string, name: string, value: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/variable${queryString([['variable', name], ['value', value]])}`, `POST /channels/${channelId}/variable`);
  }

  async continueInDialplan(channelId: string): Promise<void> {
    await this.call('POST', `/channels/${seg(channelId)}/continue`, `POST /channels/${channelId}/continue`);
  }

  async createBridge(bridgeId: string, name: string): Promise<AriBridge> {
    return plainBridge(await this.call('POST', `/bridges${queryString([['type', 'mixing'], ['bridgeId', bridgeId], ['name', name]])}`, 'POST /bridges'));
  }

  async addChannels(bridgeId: string, channelIds: string[]): Promise<void> {
    await this.call('POST', `/bridges/${seg(bridgeId)}/addChannel${queryString([['channel', channelIds.join(',')]])}`, `POST /bridges/${bridgeId}/addChannel`);
  }

  async destroyBridge(bridgeId: string): Promise<void> {
    await this.call('DELETE', `/bridges/${seg(bridgeId)}`, `DELETE /bridges/${bridgeId}`);
  }

  async setEventFilter(app: string, allowed: readonly string[]): Promise<void> {
    const body = JSON.stringify(eventFilterBody(allowed));
    await this.call('PUT', `/applications/${seg(app)}/eventFilter`, `PUT /applications/${app}/eventFilter`, body);
  }
}
