/**
 * State shared by every part of the peer: the switch identity, the event bus, live channels, scripted far ends
 * and the knobs tests turn.
 */
import { defaultIdentity, type ChannelDetail, type PeerChannel, type SwitchIdentity } from './channel';
import { EventBus } from './event-bus';
import { EndpointDirectory } from './scripts';
import type { EslCommand } from './commands';
import type { Header } from './wire';

export interface PeerOptions {
  /** `full` (default) carries the ~160 channel variables of the recordings; `lean` only what apps read. */
  detail?: ChannelDetail;
  identity?: Partial<SwitchIdentity>;
  /** How long a `playback` takes unless a prompt has its own duration (ms). */
  playbackMs?: number;
  /**
   * Without `linger`, FreeSWITCH closes the socket right after CHANNEL_HANGUP and queued events are lost (seen in
   * the esl-library recording). Set false to deliver them anyway (seen in another recording).
   */
  noLingerDropsEvents?: boolean;
  /** A listener whose socket has more than this many bytes unsent is killed, like FreeSWITCH's full event queue. */
  maxQueuedBytes?: number;
  /** Keep a per-call record of commands and delivered events (default true; turn off for load runs). */
  record?: boolean;
  /**
   * switch.conf.xml `sessions-per-second` (also `fsctl sps N`). Unset: no throttle. As on 1.10.12, N allows N-1 new
   * sessions (caller or buyer legs) per wall-clock second; a refused one is `Throttle Error!`.
   */
  sessionsPerSecond?: number;
  /** switch.conf.xml `max-sessions` (also `fsctl max_sessions N`): `Over Session Limit!` past it. Unset: none. */
  maxSessions?: number;
}

/** A live channel `uuid_kill` can hang up; a controlled session also takes `sendmsg <uuid>` from elsewhere. */
export interface Killable {
  channel: PeerChannel;
  hangup(cause: string): void;
  receiveMessage?(cmd: EslCommand): void;
}

export class PeerCore {
  readonly identity: SwitchIdentity;
  readonly bus = new EventBus();
  /** Far ends reached by `bridge` (buyers). */
  readonly buyers = new EndpointDirectory({ kind: 'answer', afterMs: 5 });
  /** Far ends reached by `originate` (consumers). */
  readonly consumers = new EndpointDirectory({ kind: 'answer', afterMs: 5 });
  /** Prompt file -> playback duration (ms); a file mapped to -1 is "not found". */
  readonly prompts = new Map<string, number>();
  readonly live = new Map<string, Killable>();
  readonly startedAt = Date.now();
  sessionsSinceStartup = 0;
  peakSessions = 0;
  /** Every SIP INVITE the peer sent (buyer and consumer dial targets), in order. */
  readonly invitesSent: string[] = [];
  /** Sessions the limits refused (throttle or max sessions). */
  refusedSessions = 0;
  /**
   * What crossed the wire, counted even with `record: false` (the CPS benchmark reads it): commands the apps sent
   * and events delivered to them (each event once per listener it went to), with the events' bytes.
   */
  readonly wire = { commands: 0, events: 0, eventBytes: 0 };
  private sequence = 1000;
  private sps: number | undefined;
  private pendingSps: { n: number | undefined; from: number } | undefined;
  private spsSecond = -1;
  private spsCount = 0;

  /** Opens an outbound-socket session for an answered originated channel (set by the peer facade). */
  startSocketSession: (channel: PeerChannel, target: string, script: { hangupAfterMs?: number }) => void = () => undefined;

  constructor(readonly options: PeerOptions = {}) {
    this.identity = { ...defaultIdentity(), ...options.identity };
    this.sps = options.sessionsPerSecond;
  }

  /**
   * `fsctl sps N`: the new rate applies from the next one-second tick (fact 13). Tests pass `now` to apply it at
   * once (e.g. 1: every new session is refused from now on).
   */
  setSessionsPerSecond(n: number | undefined, now = false): void {
    if (now) {
      this.sps = n;
      this.pendingSps = undefined;
      return;
    }
    this.pendingSps = { n, from: Math.floor(Date.now() / 1000) + 1 };
  }

  /**
   * switch_core_session_request's limits: false when a new session (an inbound INVITE or a B-leg) is refused, by
   * max-sessions or by the sessions-per-second throttle.
   */
  admitSession(): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (this.pendingSps && second >= this.pendingSps.from) {
      this.sps = this.pendingSps.n;
      this.pendingSps = undefined;
    }
    if (second !== this.spsSecond) {
      this.spsSecond = second;
      this.spsCount = 0;
    }
    const max = this.options.maxSessions;
    if ((max !== undefined && this.live.size >= max) || (this.sps !== undefined && this.spsCount >= this.sps - 1)) {
      this.refusedSessions++;
      return false;
    }
    this.spsCount++;
    return true;
  }

  get detail(): ChannelDetail {
    return this.options.detail ?? 'full';
  }

  nextSequence(): number {
    return ++this.sequence;
  }

  register(k: Killable): void {
    if (!this.live.has(k.channel.uuid)) this.sessionsSinceStartup++;
    this.live.set(k.channel.uuid, k);
    this.peakSessions = Math.max(this.peakSessions, this.live.size);
  }

  unregister(uuid: string): void {
    this.live.delete(uuid);
  }

  /** Fires an event about a channel if anybody may want it. */
  fire(
    channel: PeerChannel,
    name: string,
    opts: { leading?: Header[]; trailing?: Header[]; withVariables?: boolean } = {},
  ): void {
    if (!this.bus.hasListenersFor(channel.uuid)) return;
    this.bus.publish({
      name,
      uniqueId: channel.uuid,
      build: () => channel.eventParts(this.identity, name, this.nextSequence(), opts),
    });
  }
}
