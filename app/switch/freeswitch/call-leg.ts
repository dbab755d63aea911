/**
 * The caller leg of one FreeSWITCH call under outbound-socket control, as the pipeline drives it.
 * Commands go out with sendmsg; results come back as events of this channel:
 * - answer: its CHANNEL_EXECUTE_COMPLETE (matched by Application-UUID = the event-uuid we sent);
 * - bridge: CHANNEL_BRIDGE means bridged; otherwise the bridge's CHANNEL_EXECUTE_COMPLETE carries the failure in
 *   variable_originate_disposition (continue_on_fail=true keeps the caller up for the next buyer);
 * - the end: the `socket` application's CHANNEL_EXECUTE_COMPLETE on a channel that is down (delivered because we
 *   linger) carries the cause, the times and a received hangup's disposition; the leg then closes the socket
 *   (no `exit`: the channel is gone, so there is nothing to hand back). CHANNEL_HANGUP and
 *   CHANNEL_HANGUP_COMPLETE are understood too, should a switch send them. Every wait has a timeout, and a closed
 *   socket settles everything.
 */
import { randomUUID } from 'node:crypto';
import type { CallLogger } from '../../observability/logger';
import type { BridgeOptions, BridgeOutcome, CallLeg, Destination, HangupCause, LegEnd } from '../port';
import type { FreeSwitchTimeouts } from './config';
import { bridgeArgument, type DialConfig } from './dial-string';
import type { CallEventName } from './esl-socket';
import type { EslHeaders } from './headers';
import { hungUpBy, outcomeFromBridgeComplete } from './outcome';

/** What the leg needs from its connection (EslSocket provides it). */
export interface LegTransport {
  readonly isClosed: boolean;
  execute(uuid: string, app: string, arg: string | undefined, eventUuid: string, timeoutMs: number): Promise<unknown>;
  /** `api <cmd>` on the call's own connection; answers the response body. */
  api(cmd: string, timeoutMs: number): Promise<string>;
  hangup(uuid: string, cause: string, timeoutMs: number): Promise<unknown>;
  close(reason: string, level?: 'warn' | 'debug'): void;
}

export class LegGoneError extends Error {
  constructor(what: string, readonly hangupCause: HangupCause) {
    super(`${what}: the caller leg is gone (${hangupCause})`);
  }
}

export interface LegSettings {
  timeouts: FreeSwitchTimeouts;
  dial: DialConfig;
  prompts: Record<string, string>;
}

/**
 * Variables set once on the caller before its first bridge (unless the dialplan set them, as callx.xml does):
 * keep the caller up when a buyer fails, end the call when a bridged buyer hangs up, and send the carrier the
 * cause we hang up with rather than the last buyer's SIP status (sofia otherwise relays
 * last_bridge_proto_specific_hangup_cause: a 486 after every buyer was busy, issue 12 point 7).
 */
export const CALLER_VARIABLES: ReadonlyArray<readonly [string, string]> = [
  ['continue_on_fail', 'true'],
  ['hangup_after_bridge', 'true'],
  ['sip_ignore_remote_cause', 'true'],
];
const SAFE_CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const SAFE_CAUSE = /^[A-Z_]{3,40}$/;

/** The dialplan application that hands the call to us; its EXECUTE_COMPLETE on a channel that is down is the end. */
const SOCKET_APP = 'socket';

/**
 * At the `socket` application's completion FreeSWITCH has set sip_hangup_disposition only for a hangup it received
 * (recv_bye, recv_cancel: recordings A, D); one it sent (send_bye, send_refuse) is set later, in HANGUP_COMPLETE
 * (recordings B, I). So a hangup without one at that point was sent by the switch.
 */
const SENT_BY_SWITCH = 'send_';

interface ActiveBridge {
  eventUuid: string;
  settled: boolean;
  settle(o: BridgeOutcome): void;
}

export class FreeSwitchCallLeg implements CallLeg {
  private endedFlag = false;
  private endFired = false;
  private readonly endListeners: Array<(end: LegEnd) => void> = [];
  private readonly execWaiters = new Map<string, (h: EslHeaders | undefined) => void>();
  private activeBridge: ActiveBridge | undefined;
  private failoverSet = false;
  /**
   * When the switch will hang up a call still unbridged: the dialplan's park_timeout (N s, read by FreeSWITCH when
   * `socket` parks the call, right after `connect`; it fires on whole seconds, so up to one early). FreeSWITCH
   * checks it between our applications: a bridge attempt started before it runs to its end, but the caller is
   * hung up as soon as it returns. Bridge attempts are fitted within it.
   */
  private readonly setupDeadline: number | undefined;
  /** The caller carries our call id (callx_call_id), so any node can recognise the call later. */
  private callIdSet = false;
  /** That id, once the switch has it (the sweep need not ask the switch for it). */
  private taggedWith: string | undefined;
  private answeredAt: Date | undefined;
  private bridgedAt: Date | undefined;
  private wasBridged = false;
  private unbridgedFirst = false;
  private unbridged = false;
  /** Left on the switch at stop: the call goes on there; no end is reported from now on. */
  private released = false;
  private requestedHangup = false;
  private hangupEvent: EslHeaders | undefined;
  private hangupWaiters: Array<() => void> = [];
  private completeTimer: NodeJS.Timeout | undefined;
  private lastEnd: LegEnd | undefined;
  /** The end came from the `socket` application's EXECUTE_COMPLETE (see SENT_BY_SWITCH). */
  private socketEnded = false;

  constructor(
    readonly id: string,
    private readonly transport: LegTransport,
    private readonly settings: LegSettings,
    private readonly log: CallLogger,
    /** The channel data, for the answered state at hand-over (originated legs arrive answered). */
    channelData: EslHeaders,
  ) {
    this.answeredAt = channelData.micros('Caller-Channel-Answered-Time');
    // The dialplan may already have set the failover variables (ours does); then no multiset is needed.
    this.failoverSet = CALLER_VARIABLES.every(([k, v]) => channelData.variable(k) === v);
    this.taggedWith = channelData.variable('callx_call_id');
    this.callIdSet = this.taggedWith !== undefined;
    const parkSec = Number.parseInt(channelData.variable('park_timeout') ?? '', 10);
    // One second for FreeSWITCH's whole-second clock, half a second for the time between its park and our handover.
    if (Number.isFinite(parkSec) && parkSec > 0) this.setupDeadline = Date.now() + (parkSec - 1) * 1000 - 500;
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  /** The call id the caller leg carries on the switch (callx_call_id), when this leg knows it is set. */
  get taggedCallId(): string | undefined {
    return this.taggedWith;
  }

  private get t(): FreeSwitchTimeouts {
    return this.settings.timeouts;
  }

  private get goneCause(): HangupCause {
    return this.hangupEvent?.get('Hangup-Cause') ?? 'NORMAL_CLEARING';
  }

  // ---- operations ------------------------------------------------------------------------------------------

  async answer(): Promise<void> {
    if (this.endedFlag) throw new LegGoneError('answer', this.goneCause);
    if (this.answeredAt) return;
    const done = await this.runApp('answer', undefined, this.t.answerMs);
    if (!done && this.endedFlag) throw new LegGoneError('answer', this.goneCause);
    if (!done) throw new Error(`answer: no CHANNEL_EXECUTE_COMPLETE within ${this.t.answerMs} ms`);
    this.answeredAt ??= done.micros('Caller-Channel-Answered-Time') ?? done.eventTime();
  }

  async bridge(to: Destination, opts: BridgeOptions): Promise<BridgeOutcome> {
    if (this.endedFlag) return { status: 'caller_gone', cause: this.goneCause };
    if (this.activeBridge && !this.activeBridge.settled) throw new Error('bridge: another bridge is still running on this leg');
    const timeLeft = this.setupTimeLeftSec();
    if (timeLeft !== undefined && timeLeft < 1) {
      this.log.warn({ uri: to.uri }, "bridge: the switch's park_timeout leaves no time for another buyer");
      return { status: 'switch_fault', cause: 'RECOVERY_ON_TIMER_EXPIRE', detail: "no time left within the switch's park_timeout (callx_setup_timeout)" };
    }
    if (timeLeft !== undefined && timeLeft < opts.answerTimeoutSec) {
      this.log.info({ uri: to.uri, answerTimeoutSec: opts.answerTimeoutSec, timeLeft }, "bridge: answer timeout shortened to fit the switch's park_timeout");
      opts = { ...opts, answerTimeoutSec: timeLeft };
    }
    const arg = bridgeArgument(to, opts, this.settings.dial);
    if (!arg.ok) {
      this.log.warn({ uri: to.uri, reason: arg.reason }, 'bridge: destination refused');
      return { status: 'failed', cause: 'INVALID_NUMBER_FORMAT', detail: arg.reason };
    }
    if (arg.dropped && arg.dropped.length > 0) this.log.warn({ dropped: arg.dropped }, 'bridge: unsafe channel variables left out');
    const eventUuid = randomUUID();
    const limitMs = opts.answerTimeoutSec * 1000 + this.t.bridgeMarginMs;
    return new Promise<BridgeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        if (active.settled) return;
        this.log.error({ uri: to.uri, limitMs }, 'bridge: no result from the switch in time; hanging up');
        active.settle({ status: 'failed', cause: 'RECOVERY_ON_TIMER_EXPIRE', detail: `no bridge result within ${limitMs} ms` });
        void this.hangup('RECOVERY_ON_TIMER_EXPIRE');
      }, limitMs);
      const active: ActiveBridge = {
        eventUuid,
        settled: false,
        settle: (o) => {
          if (active.settled) return;
          active.settled = true;
          clearTimeout(timer);
          resolve(o);
        },
      };
      this.activeBridge = active;
      // The variables and the bridge go out together. `api uuid_setvar_multi` runs in the connection's own thread as
      // it is read, so the variables are set before the bridge that follows it is queued; unlike a `multiset`
      // application it fires no EXECUTE/EXECUTE_COMPLETE (nor needs a filter to drop them).
      const send = async (): Promise<void> => {
        const sent: Array<Promise<unknown>> = [];
        const { assignments, tagging } = this.callerAssignments(opts.tags?.callx_call_id);
        if (assignments !== '') {
          sent.push(
            this.setVariables(assignments).then(() => {
              if (tagging !== undefined) this.taggedWith = tagging;
            }),
          );
        }
        sent.push(this.transport.execute(this.id, 'bridge', arg.value, eventUuid, this.t.commandMs));
        await Promise.all(sent);
      };
      send().catch((err: Error) => {
        if (this.endedFlag) active.settle({ status: 'caller_gone', cause: this.goneCause });
        else active.settle({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: `bridge not sent: ${err.message}` });
      });
    });
  }

  /** Whole seconds left before the switch's park_timeout hangs the unbridged caller up (undefined: no limit). */
  private setupTimeLeftSec(): number | undefined {
    if (this.setupDeadline === undefined) return undefined;
    return Math.floor((this.setupDeadline - Date.now()) / 1000);
  }

  /** Sets `k=v;k=v` on the caller (values are checked: no ';', spaces or line breaks). */
  private async setVariables(assignments: string): Promise<void> {
    const body = await this.transport.api(`uuid_setvar_multi ${this.id} ${assignments}`, this.t.commandMs);
    if (!body.startsWith('+OK')) throw new Error(`uuid_setvar_multi: ${body.trim().slice(0, 80)}`);
  }

  /**
   * What the caller still needs before a bridge: the failover variables and our call id, as `k=v;k=v`, and the
   * call id when it is among them.
   */
  private callerAssignments(callId: string | undefined): { assignments: string; tagging: string | undefined } {
    let tagging: string | undefined;
    const parts: string[] = [];
    if (!this.failoverSet) {
      this.failoverSet = true;
      for (const [k, v] of CALLER_VARIABLES) parts.push(`${k}=${v}`);
    }
    if (!this.callIdSet && callId !== undefined) {
      this.callIdSet = true;
      if (SAFE_CALL_ID.test(callId)) {
        parts.push(`callx_call_id=${callId}`);
        tagging = callId;
      } else this.log.warn('bridge: call id has unsafe characters; the caller leg is not tagged with it');
    }
    return { assignments: parts.join(';'), tagging };
  }

  async playAndHangup(prompt: string, cause: HangupCause): Promise<void> {
    if (this.endedFlag) return;
    const file = this.settings.prompts[prompt];
    if (file === undefined) {
      this.log.warn({ prompt }, 'playAndHangup: no sound file configured for this prompt; hanging up without it');
    } else if (/[\r\n]/.test(file)) {
      this.log.warn({ prompt }, 'playAndHangup: sound file name has a line break; hanging up without it');
    } else {
      const played = await this.runApp('playback', file, this.t.playbackMs).catch((err: Error) => {
        this.log.warn({ prompt, err: err.message }, 'playAndHangup: playback not sent');
        return undefined;
      });
      if (played === undefined && !this.endedFlag) this.log.warn({ prompt, file }, 'playAndHangup: playback did not finish in time');
      else if (played) {
        const response = played.get('Application-Response');
        if (response && response !== 'FILE PLAYED') this.log.warn({ prompt, file, response }, 'playAndHangup: playback failed');
      }
    }
    await this.hangup(cause);
  }

  async hangup(cause: HangupCause): Promise<void> {
    if (this.endedFlag) return;
    const safeCause = SAFE_CAUSE.test(cause) ? cause : 'NORMAL_CLEARING';
    this.requestedHangup = true;
    const gone = new Promise<void>((resolve) => this.hangupWaiters.push(resolve));
    try {
      await this.transport.hangup(this.id, safeCause, this.t.commandMs);
    } catch (err) {
      if (!this.endedFlag) this.log.warn({ err: (err as Error).message, cause: safeCause }, 'hangup: command failed');
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      gone.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.t.hangupMs))),
    ]);
    clearTimeout(timer);
    if (timedOut && !this.endedFlag) {
      this.log.error({ cause: safeCause }, `hangup: not confirmed by the switch within ${this.t.hangupMs} ms; dropping the connection`);
      this.transport.close('hangup not confirmed by the switch');
      this.finish(undefined, safeCause);
    }
  }

  /** The caller is bridged to a buyer right now (CHANNEL_BRIDGE seen, no UNBRIDGE, not ended). */
  get talking(): boolean {
    return this.wasBridged && !this.unbridged && !this.endedFlag;
  }

  /**
   * Graceful stop, for a bridged call: it goes on on the switch (closing its socket does not end it, fact 12) and
   * another node, or this one restarted, adopts it. Its end is not known here, so none is reported.
   */
  leaveOnSwitch(): void {
    this.released = true;
    this.log.info('stopping: the bridged call is left on the switch');
  }

  /** Graceful stop, for a call still in setup: we let go on purpose (the dialplan's fallback takes it). */
  handToFallback(): void {
    this.requestedHangup = true;
    this.log.info('stopping: the call in setup is handed to the dialplan fallback');
  }

  onEnded(listener: (end: LegEnd) => void): void {
    this.endListeners.push(listener);
    if (this.endFired && this.lastEnd) {
      const end = this.lastEnd;
      queueMicrotask(() => listener(end));
    }
  }

  /** Runs an application and waits for its CHANNEL_EXECUTE_COMPLETE; undefined on timeout or hangup. */
  private async runApp(app: string, arg: string | undefined, timeoutMs: number): Promise<EslHeaders | undefined> {
    const eventUuid = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const completed = new Promise<EslHeaders | undefined>((resolve) => {
      this.execWaiters.set(eventUuid, resolve);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      await this.transport.execute(this.id, app, arg, eventUuid, this.t.commandMs);
      return await completed;
    } finally {
      clearTimeout(timer);
      this.execWaiters.delete(eventUuid);
    }
  }

  // ---- events ----------------------------------------------------------------------------------------------

  handleEvent(name: CallEventName, h: EslHeaders): void {
    if (h.get('Unique-ID') !== this.id) return; // another channel's event (no filter on a shared listener)
    switch (name) {
      case 'CHANNEL_BRIDGE':
        this.wasBridged = true;
        this.bridgedAt = h.eventTime();
        this.answeredAt ??= this.bridgedAt;
        if (this.activeBridge && !this.activeBridge.settled) this.activeBridge.settle({ status: 'bridged', answeredAt: this.bridgedAt });
        return;
      case 'CHANNEL_UNBRIDGE':
        this.unbridged = true;
        // The buyer's side ended the bridge if the caller was still up when it ended.
        if (!this.endedFlag && h.get('Answer-State') !== 'hangup') this.unbridgedFirst = true;
        return;
      case 'CHANNEL_EXECUTE_COMPLETE':
        if (h.get('Application') === SOCKET_APP) this.socketComplete(h);
        else this.executeComplete(h);
        return;
      case 'CHANNEL_HANGUP':
        this.channelGone(h, true);
        return;
      case 'CHANNEL_HANGUP_COMPLETE':
        this.channelGone(h, false);
        this.finish(h);
        return;
    }
  }

  /**
   * The `socket` application returned. On a channel that is down this is the end, with the final facts: FreeSWITCH
   * stamps it at the channel's end_uepoch and it carries Hangup-Cause, the answered and bridged times and, for a
   * hangup it received, sip_hangup_disposition (recordings A, D). On a live channel the dialplan took the call
   * back (transfer, or our own `exit` at stop): its end will come, if at all, as the connection closes.
   */
  private socketComplete(h: EslHeaders): void {
    const down = h.get('Answer-State') === 'hangup' || h.get('Hangup-Cause') !== undefined;
    if (!down) return;
    this.socketEnded = true;
    this.channelGone(h, false);
    this.finish(h);
  }

  private executeComplete(h: EslHeaders): void {
    const appUuid = h.get('Application-UUID');
    if (!appUuid) return;
    const waiter = this.execWaiters.get(appUuid);
    if (waiter) {
      waiter(h);
      return;
    }
    const b = this.activeBridge;
    if (b && b.eventUuid === appUuid && !b.settled) {
      const outcome = outcomeFromBridgeComplete(h, this.endedFlag);
      if (outcome.status !== 'bridged' && outcome.status !== 'caller_gone') {
        this.log.info({ status: outcome.status, cause: outcome.cause, detail: outcome.detail }, 'bridge attempt failed');
      }
      b.settle(outcome);
    }
  }

  /** CHANNEL_HANGUP (or HANGUP_COMPLETE first): the caller leg is gone; settle everything that waits on it. */
  private channelGone(h: EslHeaders, completeFollows: boolean): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    this.hangupEvent = h;
    const cause = this.goneCause;
    if (this.activeBridge && !this.activeBridge.settled) this.activeBridge.settle({ status: 'caller_gone', cause });
    for (const w of this.execWaiters.values()) w(undefined);
    for (const w of this.hangupWaiters.splice(0)) w();
    if (!completeFollows) return;
    // With linger, HANGUP_COMPLETE follows with the final variables; do not wait for it forever.
    this.completeTimer = setTimeout(() => {
      this.log.warn(`no CHANNEL_HANGUP_COMPLETE within ${this.t.hangupCompleteMs} ms; ending the leg with what is known`);
      this.finish(undefined);
      this.transport.close('no CHANNEL_HANGUP_COMPLETE after hangup');
    }, this.t.hangupCompleteMs);
  }

  /** The connection is gone: whatever was not reported yet ends here. */
  handleClosed(reason: string): void {
    if (!this.endedFlag) {
      // Expected when we let go at stop (left on the switch, or exit to the fallback); otherwise worth a warning.
      if (this.released || this.requestedHangup) this.log.debug({ reason }, 'connection closed; the call goes on without us');
      else this.log.warn({ reason }, 'connection closed while the call was up');
      this.endedFlag = true;
      if (this.activeBridge && !this.activeBridge.settled) this.activeBridge.settle({ status: 'caller_gone', cause: 'NORMAL_TEMPORARY_FAILURE' });
      for (const w of this.execWaiters.values()) w(undefined);
      for (const w of this.hangupWaiters.splice(0)) w();
    }
    this.finish(undefined, this.hangupEvent ? undefined : 'NORMAL_TEMPORARY_FAILURE');
  }

  /** Reports the end once, from HANGUP_COMPLETE when we have it, else from CHANNEL_HANGUP or a fallback cause. */
  private finish(complete: EslHeaders | undefined, fallbackCause?: HangupCause): void {
    if (this.endFired) return;
    this.endedFlag = true;
    this.endFired = true;
    clearTimeout(this.completeTimer);
    for (const w of this.hangupWaiters.splice(0)) w();
    if (this.released) return; // the call is not over: it was left on the switch
    const h = complete ?? this.hangupEvent;
    const cause = h?.variable('hangup_cause') ?? h?.get('Hangup-Cause') ?? fallbackCause ?? 'NORMAL_CLEARING';
    const end: LegEnd = {
      endedAt: h?.micros('variable_end_uepoch') ?? h?.eventTime() ?? new Date(),
      cause,
      hungUpBy: h
        ? hungUpBy({
            requestedByUs: this.requestedHangup,
            wasBridged: this.wasBridged,
            unbridgedFirst: this.unbridgedFirst,
            sipDisposition: h.variable('sip_hangup_disposition') ?? this.hangupEvent?.variable('sip_hangup_disposition') ?? (this.socketEnded ? SENT_BY_SWITCH : undefined),
          })
        : this.requestedHangup
          ? 'system'
          : 'unknown',
    };
    const answeredAt = h?.micros('variable_answer_uepoch') ?? h?.micros('Caller-Channel-Answered-Time') ?? this.answeredAt;
    const bridgedAt = h?.micros('variable_bridge_uepoch') ?? h?.micros('Caller-Channel-Bridged-Time') ?? this.bridgedAt;
    if (answeredAt) end.answeredAt = answeredAt;
    if (bridgedAt) end.bridgedAt = bridgedAt;
    this.lastEnd = end;
    // Every call ends: a routine line at debug (the call's record has it), not a line per call at info.
    this.log.debug({ cause: end.cause, hungUpBy: end.hungUpBy }, 'call leg ended');
    for (const fn of this.endListeners) {
      try {
        fn(end);
      } catch (err) {
        this.log.error({ err }, 'onEnded listener threw');
      }
    }
    // The channel is gone and its end is in: nothing to hand back to the dialplan, so no `exit` round trip.
    if (complete && !this.transport.isClosed) this.transport.close('the call ended', 'debug');
  }
}
