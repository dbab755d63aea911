/**
 * Pings RTB buyers over HTTP at decision time (issue 15): one `Bidder` per eligible RTB target, so the router's
 * collectBids cuts each off at the campaign's deadline (tmax) like any other bidder.
 *
 * - Connections are reused: one keep-alive agent for http and one for https.
 * - Per buyer account: at most `maxInFlightPerBuyer` pings out at once (more are skipped and counted), and a
 *   circuit breaker that opens after `breaker.failures` consecutive timeouts or errors and lets one trial ping
 *   through after `breaker.coolOffMs`.
 * - A ping is not cut at tmax: an answer that arrives within `lateGraceMs` after it is read (so the connection
 *   stays reusable), ignored, and counted as late; past that the request is aborted and counted as a timeout.
 * - Per target, this node keeps counts and the last response times for the API (GET /v1/targets/:id/rtb-stats).
 */
import http from 'node:http';
import https from 'node:https';
import type { Bid } from '../domain/auction';
import type { BuyerTarget } from '../domain/model';
import { isPrivateHost } from '../domain/address-scope';
import { publicOnlyLookup } from '../util/public-only-lookup';
import { breakerAllows, breakerPhase, breakerRecord, judgeRtbAnswer, newBreaker, rtbBidExpiresAtMs, type BreakerPhase, type BreakerSettings, type BreakerState, type RtbPingBody } from '../domain/rtb';
import type { Metrics } from '../observability/metrics';
import type { Bidder } from './bidders';

export interface RtbPingerOptions {
  /** salt of the hashed caller number (RTB_CALLER_HASH_SALT); empty: the hash is never sent */
  callerHashSalt: string;
  maxInFlightPerBuyer: number;
  breaker: BreakerSettings;
  lateGraceMs: number;
  /** RTB_ALLOW_PRIVATE_ADDRESSES: let pings go to loopback and private addresses (tests, a buyer on our network) */
  allowPrivateAddresses?: boolean;
  metrics?: Pick<Metrics, 'rtbPings' | 'rtbResponseSeconds'>;
  /** ms clock (tests) */
  now?: () => number;
}

/** Why a ping gave no bid, as the decision trace names it. */
export type RtbFailureReason = 'bid_error' | 'bid_invalid' | 'bid_skipped';

/** A ping that gave no bid: collectBids reports it as failed, and the router traces `reason` and the message. */
export class RtbPingError extends Error {
  constructor(readonly reason: RtbFailureReason, message: string) {
    super(message);
  }
}

export type PingOutcome = 'bid' | 'no_bid' | 'invalid' | 'error' | 'late' | 'timeout' | 'skipped_concurrency' | 'skipped_breaker';

/** What the API shows of one target's pings on this node. */
export interface RtbTargetStats {
  targetId: string;
  buyerAccountId: string;
  pings: number;
  bids: number;
  noBids: number;
  invalid: number;
  errors: number;
  late: number;
  timeouts: number;
  skipped: number;
  /** (late + timeouts) / pings sent; null before the first ping */
  timeoutRate: number | null;
  /** over the last RESPONSE_SAMPLES answers (late ones included) */
  responseMs: { samples: number; p50: number; p90: number; p99: number; max: number } | null;
  breaker: BreakerPhase;
}

const RESPONSE_SAMPLES = 512;

/** A target's rtbUrl parsed once. */
interface Endpoint {
  https: boolean;
  hostname: string;
  port?: number;
  path: string;
}
const MAX_ANSWER_BYTES = 16 * 1024;

class TargetStats {
  counts: Record<PingOutcome, number> = { bid: 0, no_bid: 0, invalid: 0, error: 0, late: 0, timeout: 0, skipped_concurrency: 0, skipped_breaker: 0 };
  readonly samples = new Float64Array(RESPONSE_SAMPLES);
  sampleCount = 0;
  constructor(readonly buyerAccountId: string) {}
  addSample(ms: number): void {
    this.samples[this.sampleCount++ % RESPONSE_SAMPLES] = ms;
  }
}

export class RtbPinger {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly inFlight = new Map<string, number>();
  private readonly breakers = new Map<string, BreakerState>();
  private readonly stats = new Map<string, TargetStats>();
  private readonly now: () => number;
  private readonly endpoints = new Map<string, Endpoint>();
  private lastBody?: RtbPingBody;
  private lastJson?: string;

  constructor(private readonly opts: RtbPingerOptions) {
    this.now = opts.now ?? Date.now;
    // No socket cap per host: buyers may share a host (or a load balancer), and a queue in the agent would make
    // pings late; the per-buyer in-flight limit bounds the sockets instead. Idle sockets are kept for reuse.
    // A host name is judged on the address it resolves to, when the connection is made (app/util/public-only-lookup.ts).
    const lookup = opts.allowPrivateAddresses ? undefined : publicOnlyLookup;
    const agentOpts = { keepAlive: true, keepAliveMsecs: 10_000, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' as const, ...(lookup ? { lookup } : {}) };
    this.httpAgent = new http.Agent(agentOpts);
    this.httpsAgent = new https.Agent(agentOpts);
  }

  get callerHashSalt(): string {
    return this.opts.callerHashSalt;
  }

  /** The bidder that pings this target for this call. `body` is the call's ping, shared by every target's. */
  bidderFor(target: BuyerTarget, body: RtbPingBody): Bidder {
    return { name: rtbBidderName(target.id), bid: () => this.ping(target, body) };
  }

  /** The call's ping as JSON once, and each target's by splicing its id in (20 buyers: 1 stringify, not 20). */
  private payloadFor(body: RtbPingBody, targetId: string): string {
    let json = this.lastBody === body ? this.lastJson : undefined;
    if (json === undefined) {
      json = JSON.stringify(body);
      this.lastBody = body;
      this.lastJson = json;
    }
    return `{"targetId":${JSON.stringify(targetId)},${json.slice(1)}`;
  }

  /** The target's rtbUrl parsed (once), or why no ping may go there. */
  private endpointOf(target: BuyerTarget): Endpoint | string {
    const url = target.rtb!.url;
    let e = this.endpoints.get(url);
    if (!e) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return `the target's rtbUrl is not a URL: ${url.slice(0, 100)}`;
      }
      if (!this.opts.allowPrivateAddresses && isPrivateHost(u.hostname)) return `the target's rtbUrl is a private address (${u.hostname}); RTB_ALLOW_PRIVATE_ADDRESSES allows it`;
      e = { https: u.protocol === 'https:', hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : undefined, path: `${u.pathname}${u.search}` };
      if (this.endpoints.size > 10_000) this.endpoints.clear(); // URLs of deleted targets do not pile up
      this.endpoints.set(url, e);
    }
    return e;
  }

  private ping(target: BuyerTarget, body: RtbPingBody): Promise<Bid[]> {
    const buyer = target.buyerAccountId;
    const stats = this.statsOf(target);
    const breaker = this.breakerOf(buyer);
    const startedAt = this.now();
    if (!breakerAllows(breaker, startedAt, this.opts.breaker)) {
      this.count(stats, buyer, 'skipped_breaker');
      throw new RtbPingError('bid_skipped', `circuit open for buyer ${buyer} after ${breaker.consecutiveFailures} timeouts or errors in a row`);
    }
    const out = this.inFlight.get(buyer) ?? 0;
    if (out >= this.opts.maxInFlightPerBuyer) {
      if (breaker.trialInFlight) breaker.trialInFlight = false; // the trial was not sent: let the next one be it
      this.count(stats, buyer, 'skipped_concurrency');
      throw new RtbPingError('bid_skipped', `buyer ${buyer} already has ${out} pings in flight (limit ${this.opts.maxInFlightPerBuyer})`);
    }
    const endpoint = this.endpointOf(target);
    if (typeof endpoint === 'string') {
      breakerRecord(breaker, false, startedAt, this.opts.breaker);
      this.count(stats, buyer, 'error');
      throw new RtbPingError('bid_error', endpoint);
    }
    this.inFlight.set(buyer, out + 1);
    const tmax = body.tmax;
    const payload = this.payloadFor(body, target.id);
    return new Promise<Bid[]>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: PingOutcome, result: { bids?: Bid[]; error?: RtbPingError }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(hardStop);
        this.inFlight.set(buyer, (this.inFlight.get(buyer) ?? 1) - 1);
        const elapsed = this.now() - startedAt;
        // An answer after tmax is ignored (collectBids has moved on) and counted as late.
        const late = outcome !== 'timeout' && outcome !== 'error' && elapsed > tmax;
        const final: PingOutcome = late ? 'late' : outcome;
        if (final !== 'timeout' && final !== 'error') {
          stats.addSample(elapsed);
          this.opts.metrics?.rtbResponseSeconds.observe({ buyer }, elapsed / 1000);
        }
        breakerRecord(breaker, final !== 'timeout' && final !== 'error' && final !== 'late', this.now(), this.opts.breaker);
        this.count(stats, buyer, final);
        if (result.error) reject(result.error);
        else resolve(result.bids ?? []);
      };
      const req = (endpoint.https ? https : http).request({
        hostname: endpoint.hostname,
        port: endpoint.port,
        path: endpoint.path,
        method: 'POST',
        agent: endpoint.https ? this.httpsAgent : this.httpAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-callx-tmax': String(tmax) },
      });
      const hardStop = setTimeout(() => {
        finish('timeout', { error: new RtbPingError('bid_error', `no answer within ${tmax + this.opts.lateGraceMs} ms`) });
        req.destroy();
      }, tmax + this.opts.lateGraceMs);
      req.on('error', (err) => finish('error', { error: new RtbPingError('bid_error', `ping failed: ${err.message}`) }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) {
            finish('error', { error: new RtbPingError('bid_error', `answer larger than ${MAX_ANSWER_BYTES} bytes`) });
            req.destroy();
          } else chunks.push(c);
        });
        res.on('error', (err) => finish('error', { error: new RtbPingError('bid_error', `answer failed: ${err.message}`) }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 204) return finish('no_bid', { bids: [] });
          if (status < 200 || status >= 300) return finish('error', { error: new RtbPingError('bid_error', `HTTP ${status}`) });
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return finish('error', { error: new RtbPingError('bid_error', 'answer is not JSON') });
          }
          const verdict = judgeRtbAnswer(json, target);
          if (verdict.kind === 'no_bid') return finish('no_bid', { bids: [] });
          if (verdict.kind === 'invalid') return finish('invalid', { error: new RtbPingError('bid_invalid', verdict.detail) });
          finish('bid', { bids: [rtbBid(target, verdict.bidCents, verdict.destination, rtbBidExpiresAtMs(startedAt, verdict.expiresInSeconds))] });
        });
      });
      req.end(payload);
    });
  }

  /** This node's figures for one target; undefined when it was never pinged here. */
  targetStats(targetId: string): RtbTargetStats | undefined {
    const s = this.stats.get(targetId);
    return s ? this.view(targetId, s) : undefined;
  }

  /** This node's figures for every target it pinged, optionally only one buyer's. */
  allStats(buyerAccountId?: string): RtbTargetStats[] {
    const out: RtbTargetStats[] = [];
    for (const [id, s] of this.stats) if (!buyerAccountId || s.buyerAccountId === buyerAccountId) out.push(this.view(id, s));
    return out.sort((a, b) => (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private view(targetId: string, s: TargetStats): RtbTargetStats {
    const c = s.counts;
    const sent = c.bid + c.no_bid + c.invalid + c.error + c.late + c.timeout;
    const n = Math.min(s.sampleCount, RESPONSE_SAMPLES);
    const sorted = Array.from(s.samples.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(n - 1, Math.floor(q * n))]! * 10) / 10;
    return {
      targetId,
      buyerAccountId: s.buyerAccountId,
      pings: sent,
      bids: c.bid,
      noBids: c.no_bid,
      invalid: c.invalid,
      errors: c.error,
      late: c.late,
      timeouts: c.timeout,
      skipped: c.skipped_concurrency + c.skipped_breaker,
      timeoutRate: sent > 0 ? (c.late + c.timeout) / sent : null,
      responseMs: n > 0 ? { samples: n, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(sorted[n - 1]! * 10) / 10 } : null,
      breaker: breakerPhase(this.breakerOf(s.buyerAccountId), this.now(), this.opts.breaker),
    };
  }

  private statsOf(target: BuyerTarget): TargetStats {
    let s = this.stats.get(target.id);
    if (!s) this.stats.set(target.id, (s = new TargetStats(target.buyerAccountId)));
    return s;
  }

  private breakerOf(buyer: string): BreakerState {
    let b = this.breakers.get(buyer);
    if (!b) this.breakers.set(buyer, (b = newBreaker()));
    return b;
  }

  private count(stats: TargetStats, buyer: string, outcome: PingOutcome): void {
    stats.counts[outcome]++;
    this.opts.metrics?.rtbPings.inc({ buyer, outcome });
  }
}

export const rtbBidderName = (targetId: string): string => `rtb:${targetId}`;

/** An RTB answer as an auction bid: the target's ranking settings, the answer's amount, destination and expiry. */
function rtbBid(target: BuyerTarget, bidCents: number, destination: string, expiresAtMs: number | undefined): Bid {
  return {
    targetId: target.id,
    buyerAccountId: target.buyerAccountId,
    bidCents,
    qualityScore: target.qualityScore,
    priority: target.priority,
    weight: target.weight,
    destination,
    answerTimeoutSec: target.answerTimeoutSec,
    source: 'rtb',
    expiresAtMs,
  };
}

