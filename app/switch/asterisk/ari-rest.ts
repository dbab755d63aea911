/**
 * The REST operations the adapter needs from ARI, as an interface: the ari-client implementation sits behind it
 * (ari-client-rest.ts), so a thin fetch-based client could replace it without touching the call logic.
 * Every operation settles within the configured REST timeout.
 */
import type { HangupCause } from '../port';
import type { AriBridge, AriChannel } from './ari-model';

export type AriErrorKind =
  /** 404 (Channel/Bridge/Playback not found), or 400 `Channel not found` from addChannel: it is gone. */
  | 'not_found'
  /** 409/422 `Channel not in Stasis application`. */
  | 'not_in_stasis'
  /** 500 `{"error": "Allocation failed"}`: originate to an unknown endpoint or technology. */
  | 'allocation_failed'
  /** 409 already exists. */
  | 'conflict'
  | 'timeout'
  | 'other';

export class AriError extends Error {
  constructor(
    readonly kind: AriErrorKind,
    readonly operation: string,
    detail: string,
  ) {
    super(`${operation}: ${detail}`);
    this.name = 'AriError';
  }
}

export const isAriError = (err: unknown, ...kinds: AriErrorKind[]): err is AriError =>
  err instanceof AriError && (kinds.length === 0 || kinds.includes(err.kind));

export interface OriginateParams {
  endpoint: string;
  app: string;
  appArgs: string;
  callerId?: string;
  timeoutSec: number;
  channelId: string;
  variables?: Record<string, string>;
}

export interface AriRest {
  listChannels(): Promise<AriChannel[]>;
  getChannel(id: string): Promise<AriChannel>;
  listBridges(): Promise<AriBridge[]>;
  originate(p: OriginateParams): Promise<AriChannel>;
  answer(channelId: string): Promise<void>;
  /** Hangs up with the cause's Q.850 number (`reason_code`), or the closest `reason` word when it has none. */
  hangup(channelId: string, cause: HangupCause): Promise<void>;
  play(channelId: string, media: string, playbackId: string): Promise<void>;
  createBridge(bridgeId: string, name: string): Promise<AriBridge>;
  addChannels(bridgeId: string, channelIds: string[]): Promise<void>;
  destroyBridge(bridgeId: string): Promise<void>;
}
