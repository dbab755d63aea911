/**
 * What the peer keeps per channel, bridge and playback, and their JSON snapshots.
 */
import { ariTimestamp, type BridgeJson, type CallerIdJson, type ChannelJson, type DialplanJson, type PlaybackJson } from './wire-format';

export type ChannelState = 'Down' | 'Ring' | 'Ringing' | 'Up';

/**
 * `dialplan`: a call that came in and entered Stasis from the dialplan; its app subscription ends at StasisEnd,
 * so it never gets a ChannelDestroyed. `originate`: created by `POST /channels` with `app=`; subscribed from the
 * start, so it gets Dial events and a ChannelDestroyed.
 */
export type ChannelOrigin = 'dialplan' | 'originate';

export class PeerChannel {
  state: ChannelState;
  connected: CallerIdJson;
  dialplan: DialplanJson;
  readonly vars = new Map<string, string>();
  /** The app that receives this channel's events (undefined: nobody is subscribed). */
  subscribedApp: string | undefined;
  inStasis = false;
  stasisArgs: string[] = [];
  bridgeId: string | undefined;
  /** Set once a hangup started: no further state changes. */
  hungUp = false;
  /** Originated and still ringing (Dial events apply). */
  dialing = false;
  /** What was dialled after the technology (the Dial event's `dialstring`). */
  dialstring = '';
  /** Timers of scripted behaviour, cleared on hangup. */
  readonly timers = new Set<NodeJS.Timeout>();
  /** The playback in progress, if any. */
  playbackId: string | undefined;
  /**
   * What the SIP far end of a channel that called in heard from us, in order: 180 (ring), 183 (progress or early
   * media), 200 (answer), a final code when we rejected it unanswered (fact 16), 487 for its own CANCEL.
   */
  readonly sip: number[] = [];
  /** Connected-line re-INVITEs sent to this (originated) channel's far end after it was bridged (fact 17). */
  reinvites = 0;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly origin: ChannelOrigin,
    readonly caller: CallerIdJson,
    readonly protocolId: string,
    readonly creationtime: number,
    init: { state: ChannelState; dialplan: DialplanJson; connected?: CallerIdJson },
    /** The PJSIP endpoint it runs on (pjsip.conf section). */
    readonly endpoint = '',
  ) {
    this.state = init.state;
    this.dialplan = init.dialplan;
    this.connected = init.connected ?? { name: '', number: '' };
  }

  /** The snapshot Asterisk sends; `channelvars` only when ari.conf lists some. */
  json(channelvars: readonly string[]): ChannelJson {
    const j: ChannelJson = {
      id: this.id,
      name: this.name,
      state: this.state,
      protocol_id: this.protocolId,
      caller: { ...this.caller },
      connected: { ...this.connected },
      accountcode: '',
      dialplan: { ...this.dialplan },
      creationtime: ariTimestamp(this.creationtime),
      language: 'en',
    };
    if (channelvars.length > 0) {
      const vars: Record<string, string> = {};
      for (const v of channelvars) vars[v] = this.vars.get(v) ?? '';
      j.channelvars = vars;
    }
    return j;
  }

  /** Sends a provisional or final SIP response to the caller, once each for 180 and 183. */
  respond(code: number): void {
    if ((code === 180 || code === 183) && this.sip.includes(code)) return;
    this.sip.push(code);
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export class PeerBridge {
  readonly channels: string[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly bridgeType: string,
    /** The app that created it (gets BridgeDestroyed). */
    readonly app: string,
    readonly creationtime: number,
  ) {}

  json(): BridgeJson {
    return {
      id: this.id,
      technology: 'simple_bridge',
      bridge_type: this.bridgeType,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: this.name,
      channels: [...this.channels],
      creationtime: ariTimestamp(this.creationtime),
      video_mode: 'talker',
    };
  }
}

export class PeerPlayback {
  state: PlaybackJson['state'] = 'queued';
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    readonly mediaUri: string,
    readonly channelId: string,
    readonly app: string,
  ) {}

  json(): PlaybackJson {
    return { id: this.id, media_uri: this.mediaUri, target_uri: `channel:${this.channelId}`, language: 'en', state: this.state };
  }
}
