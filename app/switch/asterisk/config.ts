/**
 * Configuration of the Asterisk (ARI) adapter, and the time limit of every wait (none may wait forever).
 */
import type { Logger } from '../../observability/logger';

export interface AsteriskTimeouts {
  /** Any single REST request. */
  restMs: number;
  /** Loading the API description (resources.json and its declarations) at connect time. */
  connectMs: number;
  /** WebSocket handshake. */
  handshakeMs: number;
  /** How often the events socket is pinged, and how long a pong may take before the socket is dropped. */
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** Added to a bridge attempt's answer timeout before the adapter gives up on hearing the outcome. */
  bridgeMarginMs: number;
  /** From a buyer's answer (state Up) to its StasisStart, which the bridge needs. */
  stasisStartMs: number;
  /** Longest a prompt may play before the adapter hangs up anyway. */
  playbackMs: number;
  /** From our hangup request to the channel's StasisEnd before the leg is reported ended anyway. */
  hangupMs: number;
  /** On stop, how long calls in progress may go on (new ones are refused) before the adapter hangs them up. */
  stopDrainMs: number;
  /** Added to an originate's answer timeout before the adapter stops waiting for the consumer. */
  originateMarginMs: number;
  /** How long start() waits for the first connection before returning (it keeps trying afterwards). */
  startWaitMs: number;
  /**
   * How long the bridge pool keeps empty bridges beyond its size that a burst of calls left: a bridge still unused
   * over a whole period is destroyed (bridge-pool.ts).
   */
  bridgeLingerMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
}

export const DEFAULT_TIMEOUTS: AsteriskTimeouts = {
  restMs: 5_000,
  connectMs: 10_000,
  handshakeMs: 5_000,
  pingIntervalMs: 15_000,
  pongTimeoutMs: 5_000,
  bridgeMarginMs: 5_000,
  stasisStartMs: 5_000,
  playbackMs: 60_000,
  hangupMs: 5_000,
  stopDrainMs: 10_000,
  originateMarginMs: 5_000,
  startWaitMs: 10_000,
  bridgeLingerMs: 60_000,
  reconnectInitialMs: 500,
  reconnectMaxMs: 30_000,
};

export interface AsteriskAdapterConfig {
  /** ARI base URL, e.g. http://127.0.0.1:8088 (http.conf). */
  url: string;
  /** ari.conf user. */
  username: string;
  password: string;
  /** The Stasis application name (extensions.conf `Stasis(<app>)`). */
  app: string;
  /** PJSIP endpoint (pjsip.conf) that reaches buyers given as E.164 numbers or SIP URIs. */
  buyerTrunk?: string;
  /** PJSIP endpoint used to call consumers (originate); defaults to buyerTrunk. */
  consumerTrunk?: string;
  /** Prompt name -> sound file on the switch, without extension (e.g. no_buyer -> ss-noservice). */
  prompts: Record<string, string>;
  logger: Logger;
  timeouts?: Partial<AsteriskTimeouts>;
  /**
   * The REST client: `http`, our own over node:http (default), or `ari-client`, the npm library that builds its
   * API from the switch's Swagger description (ARI_REST_CLIENT).
   */
  restClient?: AriRestClientName;
  /**
   * Most empty bridges kept for the next call for longer than `bridgeLingerMs` (default DEFAULT_BRIDGE_POOL_MAX;
   * 0: a bridge per call, destroyed at its end). A reused bridge saves the call `POST /bridges` and
   * `DELETE /bridges` (bridge-pool.ts).
   */
  bridgePoolMax?: number;
}

export const DEFAULT_BRIDGE_POOL_MAX = 200;

export type AriRestClientName = 'http' | 'ari-client';
