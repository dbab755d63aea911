/**
 * The REST operations the adapter needs from ARI, as an interface: a thin client over node:http
 * (ari-http-rest.ts, the default) and the ari-client one (ari-client-rest.ts, ARI_REST_CLIENT=ari-client) sit
 * behind it, so the call logic does not know which. Every operation settles within the configured REST timeout.
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
  /** The switch has no such operation: an Asterisk older than the one that added it. */
  | 'unsupported'
  | 'timeout'
  | 'other';

export class AriError extends Error {
  constructor(
    readonly kind: AriErrorKind,
    readonly operation: string,
    /** What the switch said (the error body's message), or what went wrong on the way. */
    readonly detail: string,
    /** The HTTP status, when the client knows it (ari-client does not). */
    readonly status?: number,
  ) {
    super(`${operation}: ${detail}`);
    this.name = 'AriError';
  }
}

/** The 404 of GET .../variable for a variable that is not set, as opposed to a channel that is gone. */
export const isVariableNotSet = (err: unknown): boolean => err instanceof AriError && err.kind === 'not_found' && /variable was not found/i.test(err.message);

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
  /** `POST ring`: the unanswered caller hears ringing (180). */
  ring(channelId: string): Promise<void>;
  /** `POST progress`: 183 Session Progress, early media without answering (none if one was sent already). */
  progress(channelId: string): Promise<void>;
  /** A channel variable's value; undefined when it is not set (404 `Provided variable was not found`). */
  getVariable(channelId: string, name: string): Promise<string | undefined>;
  setVariable(channelId: string, name: string, value: string): Promise<void>;
  /** `POST continue`: the channel leaves Stasis and the dialplan goes on after `Stasis()` (its fallback). */
  continueInDialplan(channelId: string): Promise<void>;
  createBridge(bridgeId: string, name: string): Promise<AriBridge>;
  addChannels(bridgeId: string, channelIds: string[]): Promise<void>;
  destroyBridge(bridgeId: string): Promise<void>;
  /**
   * `PUT /applications/{app}/eventFilter` (Asterisk 13.26 / 16.3 and later): only events of these types go to the
   * app's WebSocket from now on (the disallowed list is emptied). The app exists while its WebSocket is connected,
   * so this is set after each connect.
   */
  setEventFilter(app: string, allowed: readonly string[]): Promise<void>;
  /** Lets go of the connections it keeps, if any (the adapter stopped). */
  close?(): void;
}

/** The eventFilter body: the allowed types, and an empty disallowed list (nothing we read kept from us). */
export function eventFilterBody(allowed: readonly string[]): { allowed: Array<{ type: string }>; disallowed: [] } {
  return { allowed: allowed.map((type) => ({ type })), disallowed: [] };
}
