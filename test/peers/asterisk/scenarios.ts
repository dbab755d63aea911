/**
 * The scripted world around the switch: carriers placing inbound calls that the dialplan sends to Stasis, and
 * far ends (buyers, consumers) answering, rejecting or ignoring what the app originates. Event sequences follow
 * the recorded Asterisk 22.10.1 sessions:
 * - inbound: StasisStart(args) in state Ring; a caller hangup is ChannelHangupRequest (no cause after answer,
 *   cause 127/tech 487 for a CANCEL), ChannelLeftBridge, StasisEnd, and no ChannelDestroyed;
 * - originate: 200 with the channel Down, then Dial "" ; answer: ChannelStateChange Ringing, Dial RINGING,
 *   ChannelStateChange Up, Dial ANSWER, StasisStart(args); busy: ChannelHangupRequest{17, 486}, Dial BUSY,
 *   ChannelDestroyed{17}; no answer: ChannelDestroyed{19, 480} when the originate timeout expires, nothing else.
 */
import { randomUUID } from 'node:crypto';
import { dialStatusFor, sipCodeFor } from './causes';
import { PeerChannel } from './model';
import { EndpointDirectory, type DialTarget, type EndpointScript } from './scripts';
import type { ChannelEnd, SwitchState } from './switch-state';
import type { CallerIdJson } from './wire-format';

export interface PlaceCallOptions {
  /** Caller number as the carrier sent it. */
  ani: string;
  /** The dialled tracking number (the extension that runs Stasis). */
  dnis: string;
  callerName?: string;
  /** Stasis app (default: the peer's). */
  app?: string;
  /** Stasis(<app>,<args...>). */
  args?: string[];
  /** Variables the dialplan set before Stasis (attestation, lead id, zip...). */
  channelVars?: Record<string, string>;
  /** The PJSIP endpoint the call came in on (default `carrier`). */
  carrier?: string;
  /** The caller hangs up this long after StasisStart: a CANCEL if not answered yet, else a BYE. */
  hangupAfterMs?: number;
  /** The caller hangs up this long after being answered. */
  hangupAfterAnswerMs?: number;
  /** The caller hangs up this long after being bridged to someone. */
  hangupAfterBridgeMs?: number;
}

export interface CallRecord {
  channelId: string;
  /** When StasisStart went out (ms since the epoch). */
  enteredAt: number;
  /** When the app dialled the first buyer for this caller (its first originate with `buyer,<caller id>`). */
  firstDialAt?: number;
  /** What the caller heard (the same list as the channel's `sip`): 180, 183, 200, a final code. */
  sip: number[];
  /** `failed`: the app had no WebSocket, Stasis returned at once and the dialplan took its fallback. */
  stasis: 'entered' | 'failed';
  answered: boolean;
  /** Channels it shared a bridge with. */
  bridgedWith: string[];
  endedBy?: ChannelEnd['by'] | 'fallback';
  /** The `reason` of the app's DELETE. */
  reason?: string;
  cause?: number;
}

export class InboundCall {
  readonly record: CallRecord;
  readonly finished: Promise<CallRecord>;
  private resolveFinished!: (r: CallRecord) => void;
  bridgeHangupScheduled = false;

  constructor(
    readonly channel: PeerChannel,
    readonly options: PlaceCallOptions,
    private readonly hangupNow: () => void,
  ) {
    this.record = { channelId: channel.id, enteredAt: Date.now(), sip: channel.sip, stasis: 'entered', answered: false, bridgedWith: [] };
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  get channelId(): string {
    return this.channel.id;
  }

  /** The caller hangs up now (BYE, or CANCEL before answer). */
  hangup(): void {
    this.hangupNow();
  }

  finish(): void {
    this.resolveFinished(this.record);
  }
}

/** A channel the app originated, for assertions (which far ends were dialled, and what they did). */
export interface OriginatedLeg {
  channelId: string;
  channel: PeerChannel;
  endpoint: string;
  target: DialTarget;
  script: EndpointScript;
  appArgs: string[];
  callerId: CallerIdJson;
  answered: boolean;
  endedBy?: ChannelEnd['by'];
  cause?: number;
}

export class Scenarios {
  /** Far ends for buyer legs; consumers are looked up first, then buyers, then the buyers' fallback. */
  readonly buyers = new EndpointDirectory({ kind: 'answer', afterMs: 5 });
  readonly consumers = new EndpointDirectory({ kind: 'answer', afterMs: 5 });
  readonly liveCalls = new Map<string, InboundCall>();
  readonly calls: InboundCall[] = [];
  readonly originated: OriginatedLeg[] = [];
  private readonly originatedById = new Map<string, OriginatedLeg>();
  record = true;

  constructor(private readonly s: SwitchState) {
    s.onChannelEnd = (ch, end) => this.channelEnded(ch, end);
    s.onBridged = (ch, bridge) => {
      const call = this.liveCalls.get(ch.id);
      if (!call) return;
      for (const other of bridge.channels) if (other !== ch.id && !call.record.bridgedWith.includes(other)) call.record.bridgedWith.push(other);
      const after = call.options.hangupAfterBridgeMs;
      if (after !== undefined && !call.bridgeHangupScheduled) {
        call.bridgeHangupScheduled = true;
        ch.later(after, () => this.callerHangup(ch));
      }
    };
  }

  /** A carrier call reaches the dialplan, which runs Stasis(<app>[,args]). */
  placeCall(opts: PlaceCallOptions): InboundCall {
    const app = opts.app ?? this.s.options.app;
    const args = opts.args ?? [];
    const carrier = opts.carrier ?? 'carrier';
    const { id, name, seq } = this.s.nextChannelIdentity(carrier);
    const ch = new PeerChannel(id, name, 'dialplan', { name: opts.callerName ?? '', number: opts.ani }, `${seq}-${randomUUID().slice(0, 8)}@127.0.0.1`, Date.now(), {
      state: 'Ring',
      dialplan: { context: 'from-carrier', exten: opts.dnis, priority: 1, app_name: 'Stasis', app_data: [app, ...args].join(',') },
    }, carrier);
    for (const [k, v] of Object.entries(opts.channelVars ?? {})) ch.vars.set(k, v);
    const call = new InboundCall(ch, opts, () => this.callerHangup(ch));
    if (this.record) this.calls.push(call);
    if (!this.s.hub.isActive(app)) {
      // No WebSocket for the app: Stasis() fails at once (STASISSTATUS=FAILED) and the dialplan carries on.
      // extensions.conf's fallback: the prompt as early media, then Hangup(41), which pjsip sends as 603.
      call.record.stasis = 'failed';
      call.record.endedBy = 'fallback';
      ch.respond(183);
      ch.respond(603);
      call.finish();
      return call;
    }
    this.s.channels.set(id, ch);
    this.liveCalls.set(id, call);
    ch.subscribedApp = app;
    ch.inStasis = true;
    ch.stasisArgs = args;
    this.s.emitChannel(ch, 'StasisStart', { args });
    if (opts.hangupAfterMs !== undefined) ch.later(opts.hangupAfterMs, () => this.callerHangup(ch));
    return call;
  }

  /** The caller's phone hangs up: a BYE once answered, else a CANCEL (cause 127, SIP 487). */
  callerHangup(ch: PeerChannel): void {
    const answered = ch.state === 'Up';
    if (!answered && ch.origin === 'dialplan' && !ch.hungUp) ch.respond(487);
    this.s.endChannel(ch, { request: answered ? {} : { cause: 127, tech_cause: 487 }, cause: answered ? 16 : 127, by: 'caller' });
  }

  /** `POST /channels/{id}/answer` on a channel in Stasis. */
  answer(ch: PeerChannel): void {
    if (ch.state === 'Up') return;
    if (ch.origin === 'dialplan') ch.respond(200);
    this.s.setState(ch, 'Up');
    const call = this.liveCalls.get(ch.id);
    if (!call) return;
    call.record.answered = true;
    const after = call.options.hangupAfterAnswerMs;
    if (after !== undefined) ch.later(after, () => this.callerHangup(ch));
  }

  /** The far end of an originated channel hangs up (BYE); a caller hangs up as a caller does. */
  farEndHangup(ch: PeerChannel, cause = 16): void {
    if (ch.origin === 'dialplan') {
      this.callerHangup(ch);
      return;
    }
    this.s.endChannel(ch, { request: {}, cause, dialStatus: dialStatusFor(cause), by: 'far_end' });
  }

  /** Looks up what the dialled far end does. */
  scriptFor(target: DialTarget): EndpointScript {
    return this.consumers.find(target) ?? this.buyers.find(target) ?? this.buyers.fallback;
  }

  /** Starts dialling an originated channel (after its 200 went out). */
  dial(ch: PeerChannel, target: DialTarget, opts: { app: string | undefined; args: string[]; timeoutSec: number; callerId: CallerIdJson }): void {
    const script = this.scriptFor(target);
    const leg: OriginatedLeg = { channelId: ch.id, channel: ch, endpoint: target.endpoint, target, script, appArgs: opts.args, callerId: opts.callerId, answered: false };
    const caller = opts.args[0] === 'buyer' ? this.liveCalls.get(opts.args[1] ?? '') : undefined;
    if (caller) caller.record.firstDialAt ??= Date.now();
    if (this.record) this.originated.push(leg);
    this.originatedById.set(ch.id, leg);
    ch.dialing = true;
    ch.dialstring = target.resource;
    const timeoutMs = Math.max(1, opts.timeoutSec) * 1000 * this.s.options.timeScale;
    setImmediate(() => {
      if (ch.hungUp) return;
      this.s.emitChannel(ch, 'Dial', { dialstatus: '', forward: '', dialstring: ch.dialstring }, { key: 'peer' });
      this.play(ch, script, timeoutMs, opts.app, opts.args);
    });
  }

  private play(ch: PeerChannel, script: EndpointScript, timeoutMs: number, app: string | undefined, args: string[]): void {
    const noAnswer = (): void => this.s.endChannel(ch, { cause: 19, techCause: 480, by: 'switch' });
    switch (script.kind) {
      case 'answer': {
        if (script.ring !== false) this.ringing(ch);
        const after = script.afterMs ?? 5;
        if (after >= timeoutMs) ch.later(timeoutMs, noAnswer);
        else ch.later(after, () => this.answered(ch, script, app, args));
        return;
      }
      case 'busy':
        if (script.ring) this.ringing(ch);
        ch.later(script.afterMs ?? 5, () => this.rejected(ch, 17));
        return;
      case 'no_answer':
        this.ringing(ch);
        ch.later(timeoutMs, noAnswer);
        return;
      case 'fail':
        ch.later(script.afterMs ?? 5, () => this.rejected(ch, script.cause));
        return;
    }
  }

  private ringing(ch: PeerChannel): void {
    this.s.setState(ch, 'Ringing');
    this.s.emitChannel(ch, 'Dial', { dialstatus: 'RINGING', forward: '', dialstring: ch.dialstring }, { key: 'peer' });
  }

  private rejected(ch: PeerChannel, cause: number): void {
    const tech = sipCodeFor(cause);
    const request: { cause: number; tech_cause?: number } = { cause };
    if (tech !== undefined) request.tech_cause = tech;
    this.s.endChannel(ch, { request, cause, techCause: tech, dialStatus: dialStatusFor(cause), by: 'far_end' });
  }

  private answered(ch: PeerChannel, script: Extract<EndpointScript, { kind: 'answer' }>, app: string | undefined, args: string[]): void {
    const goUp = (): void => {
      if (ch.hungUp) return;
      this.s.setState(ch, 'Up');
      this.s.emitChannel(ch, 'Dial', { dialstatus: 'ANSWER', forward: '', dialstring: ch.dialstring }, { key: 'peer' });
      ch.dialing = false;
      const leg = this.originatedById.get(ch.id);
      if (leg) leg.answered = true;
      if (script.hangupAfterMs !== undefined) ch.later(script.hangupAfterMs, () => this.farEndHangup(ch));
    };
    const enter = (): void => {
      if (!ch.hungUp && app !== undefined) this.s.enterStasis(ch, app, args);
    };
    if (script.stasisFirstMs !== undefined) {
      // Seen under load: the StasisStart of an originated leg overtakes its Up state change.
      enter();
      ch.later(script.stasisFirstMs, goUp);
    } else {
      goUp();
      enter();
    }
  }

  private channelEnded(ch: PeerChannel, end: ChannelEnd): void {
    const leg = this.originatedById.get(ch.id);
    if (leg) {
      this.originatedById.delete(ch.id);
      leg.endedBy = end.by;
      leg.cause = end.cause;
    }
    const call = this.liveCalls.get(ch.id);
    if (!call) return;
    this.liveCalls.delete(ch.id);
    call.record.endedBy = end.by;
    call.record.cause = end.cause;
    if (end.reason !== undefined) call.record.reason = end.reason;
    call.finish();
  }
}
