/**
 * The consumer's leg of one call in Stasis (an inbound caller, or a consumer we called), as the pipeline drives
 * it. Its end is StasisEnd: a channel that entered Stasis from the dialplan never gets a ChannelDestroyed (its
 * subscription ends there); a consumer we originated does, and either ends the leg. Who hung up comes from the
 * ChannelHangupRequest: `soft` with cause 32 is our own DELETE; anything else is the consumer's phone (a CANCEL
 * is cause 127 / SIP 487). When a bridged buyer leaves, the leg hangs up the consumer and reports `buyer`.
 */
import type { CallLogger } from '../../observability/logger';
import type { BridgeOptions, BridgeOutcome, CallLeg, Destination, HangupCause, LegEnd } from '../port';
import { eventTime, type AriChannel, type AriEvent } from './ari-model';
import { isAriError } from './ari-rest';
import { BridgeAttempt, type CallerSide } from './bridge-attempt';
import { callerHangupCause, causeName } from './causes';
import type { EventOwner } from './channel-router';
import { buyerEndpoint } from './dial';
import { LegGoneError, type LegContext } from './leg-context';

const SAFE_SOUND = /^[A-Za-z0-9_./-]{1,200}$/;

export class AsteriskCallLeg implements CallLeg, CallerSide, EventOwner {
  private gone = false;
  private endFired = false;
  private lastEnd: LegEnd | undefined;
  private readonly endListeners: Array<(end: LegEnd) => void> = [];
  private endWaiters: Array<() => void> = [];
  private answeredAt: Date | undefined;
  private bridgedAt: Date | undefined;
  /** The cause we hung up with (hangup(), playAndHangup(), or after the buyer left). */
  private requested: HangupCause | undefined;
  private buyerLeft: HangupCause | undefined;
  private consumerHungUp = false;
  private consumerCause: HangupCause | undefined;
  private attempt: BridgeAttempt | undefined;
  private connection: BridgeAttempt | undefined;
  private readonly playbacks = new Map<string, (state: string | undefined) => void>();
  private hangupSent: Promise<void> | undefined;
  /** When we learnt the channel exists (its StasisStart, or the answer of our originate). */
  private readonly knownSince = Date.now();

  constructor(
    readonly id: string,
    private readonly ctx: LegContext,
    private readonly log: CallLogger,
    init: { answeredAt?: Date } = {},
  ) {
    this.answeredAt = init.answeredAt;
  }

  get ended(): boolean {
    return this.gone;
  }

  get goneCause(): HangupCause {
    return this.requested ?? this.consumerCause ?? 'NORMAL_CLEARING';
  }

  // ---- operations --------------------------------------------------------------------------------------------

  async answer(): Promise<void> {
    if (this.gone) throw new LegGoneError('answer', this.goneCause);
    if (this.answeredAt) return;
    try {
      await this.ctx.rest.answer(this.id);
    } catch (err) {
      if (isAriError(err, 'not_found')) {
        this.vanished('answer');
        throw new LegGoneError('answer', this.goneCause);
      }
      if (this.gone) throw new LegGoneError('answer', this.goneCause);
      this.log.warn({ err: (err as Error).message }, 'answer failed');
      throw err;
    }
    this.answeredAt ??= new Date();
  }

  async ensureAnswered(): Promise<boolean> {
    if (this.answeredAt) return !this.gone;
    try {
      await this.answer();
      return true;
    } catch {
      return false;
    }
  }

  async bridge(to: Destination, opts: BridgeOptions): Promise<BridgeOutcome> {
    if (this.gone) return { status: 'caller_gone', cause: this.goneCause };
    if (this.attempt) throw new Error('bridge: another bridge attempt is still running on this leg');
    if (this.connection) return { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'this leg is already bridged' };
    const endpoint = buyerEndpoint(to, this.ctx.buyerTrunk);
    if (!endpoint.ok) {
      this.log.warn({ uri: to.uri, reason: endpoint.reason }, 'bridge: destination refused');
      return { status: 'failed', cause: 'INVALID_NUMBER_FORMAT', detail: endpoint.reason };
    }
    const attempt = new BridgeAttempt(this.ctx, this, endpoint.value, opts, this.log);
    this.attempt = attempt;
    let outcome: BridgeOutcome;
    try {
      outcome = await attempt.run();
    } finally {
      this.attempt = undefined;
    }
    if (outcome.status !== 'bridged') return outcome;
    if (this.gone) {
      this.ctx.track(attempt.teardown());
      return { status: 'caller_gone', cause: this.goneCause };
    }
    this.connection = attempt;
    this.bridgedAt = attempt.bridgedAt;
    this.answeredAt ??= this.bridgedAt;
    this.log.info({ buyerChannel: attempt.buyerId, bridge: attempt.bridgeId }, 'bridged');
    return outcome;
  }

  async playAndHangup(prompt: string, cause: HangupCause): Promise<void> {
    if (this.gone) return;
    const file = this.ctx.prompts[prompt];
    if (file === undefined || !SAFE_SOUND.test(file)) {
      this.log.warn({ prompt, file }, 'playAndHangup: no usable sound file for this prompt; hanging up without it');
      await this.hangup(cause);
      return;
    }
    if (!this.answeredAt && !(await this.ensureAnswered())) return;
    if (this.gone) return;
    const playbackId = this.ctx.ids.next('pb');
    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<string | undefined>((resolve) => {
      this.playbacks.set(playbackId, resolve);
      timer = setTimeout(() => resolve('timeout'), this.ctx.timeouts.playbackMs);
    });
    try {
      await this.ctx.rest.play(this.id, `sound:${file}`, playbackId);
      const state = await finished;
      if (state === 'failed') this.log.warn({ prompt, file }, 'playAndHangup: the switch could not play the prompt');
      if (state === 'timeout') this.log.warn({ prompt, file }, 'playAndHangup: the prompt did not finish in time');
    } catch (err) {
      if (isAriError(err, 'not_found')) {
        this.vanished('play');
        return;
      }
      if (!this.gone) this.log.warn({ prompt, file, err: (err as Error).message }, 'playAndHangup: play failed');
    } finally {
      clearTimeout(timer);
      this.playbacks.delete(playbackId);
    }
    await this.hangup(cause);
  }

  async hangup(cause: HangupCause): Promise<void> {
    if (this.endFired) return;
    if (this.requested === undefined && !this.consumerHungUp) {
      this.requested = cause;
      this.markGone();
      this.hangupSent = this.ctx.rest.hangup(this.id, cause).catch((err: unknown) => {
        if (isAriError(err, 'not_found')) this.vanished('hangup');
        else this.log.error({ err: (err as Error).message, cause }, 'hangup request failed');
      });
    }
    await this.hangupSent;
    if (await this.waitEnd(this.ctx.timeouts.hangupMs)) return;
    this.log.error({ cause, waitedMs: this.ctx.timeouts.hangupMs }, 'hangup: no StasisEnd from the switch; reporting the leg ended');
    this.finish(new Date());
  }

  onEnded(listener: (end: LegEnd) => void): void {
    this.endListeners.push(listener);
    const end = this.lastEnd;
    if (end) queueMicrotask(() => this.notify(listener, end));
  }

  // ---- what the bridge attempt and the adapter tell us ------------------------------------------------------

  vanished(during: string): void {
    if (this.endFired) return;
    this.log.warn({ during }, 'the channel vanished (not found on the switch); ending the leg');
    this.finish(new Date());
  }

  buyerEnded(cause: HangupCause): void {
    if (this.gone || this.buyerLeft) return;
    this.buyerLeft = cause;
    this.log.info({ cause }, 'the buyer hung up; hanging up the caller');
    void this.hangup('NORMAL_CLEARING');
  }

  onEvent(ev: AriEvent): void {
    switch (ev.type) {
      case 'ChannelStateChange':
        if (ev.channel?.state === 'Up') this.answeredAt ??= eventTime(ev);
        return;
      case 'ChannelHangupRequest':
        // Our DELETE shows as soft with cause 32; anything else is the consumer's side.
        if (!(this.requested !== undefined && ev.soft)) {
          this.consumerHungUp = true;
          this.consumerCause ??= callerHangupCause(ev.cause, ev.tech_cause);
        }
        this.markGone();
        return;
      case 'StasisEnd':
        this.finish(eventTime(ev));
        return;
      case 'ChannelDestroyed':
        this.consumerCause ??= causeName(ev.cause);
        this.finish(eventTime(ev));
        return;
      case 'PlaybackFinished':
        if (ev.playback) this.playbacks.get(ev.playback.id)?.(ev.playback.state);
        return;
      default:
        return;
    }
  }

  /** After a reconnect: the channel ended while events were missed, or catch up with its state. */
  reconcile(live: Map<string, AriChannel>, snapshotAt: number): void {
    if (this.endFired) return;
    const snap = live.get(this.id);
    if (!snap) {
      if (this.knownSince > snapshotAt) return;
      this.log.warn('reconcile: the channel ended while events were missed');
      this.finish(new Date());
      return;
    }
    if (snap.state === 'Up') this.answeredAt ??= new Date();
    // The buyer side (attempt or bridged connection) owns the buyer channel and is reconciled on its own.
  }

  // ---- the end -----------------------------------------------------------------------------------------------

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.attempt?.callerGone();
    for (const settle of this.playbacks.values()) settle(undefined);
  }

  private waitEnd(ms: number): Promise<boolean> {
    if (this.endFired) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.endFired), ms);
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private finish(at: Date): void {
    if (this.endFired) return;
    this.markGone();
    this.endFired = true;
    this.ctx.router.removeChannel(this.id, this);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) this.ctx.track(connection.teardown());
    const end: LegEnd = {
      endedAt: at,
      cause: this.buyerLeft ?? this.requested ?? this.consumerCause ?? 'NORMAL_CLEARING',
      hungUpBy: this.buyerLeft !== undefined ? 'buyer' : this.requested !== undefined ? 'system' : this.consumerHungUp ? 'caller' : 'unknown',
    };
    if (this.answeredAt) end.answeredAt = this.answeredAt;
    if (this.bridgedAt) end.bridgedAt = this.bridgedAt;
    this.lastEnd = end;
    this.log.info({ cause: end.cause, hungUpBy: end.hungUpBy }, 'call leg ended');
    for (const w of this.endWaiters.splice(0)) w();
    for (const fn of this.endListeners) this.notify(fn, end);
  }

  private notify(fn: (end: LegEnd) => void, end: LegEnd): void {
    try {
      fn(end);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'onEnded listener threw');
    }
  }
}
