/**
 * The consumer's leg of one call in Stasis (an inbound caller, or a consumer we called), as the pipeline drives
 * it. Its end is StasisEnd: a channel that entered Stasis from the dialplan never gets a ChannelDestroyed (its
 * subscription ends there); a consumer we originated does, and either ends the leg. Who hung up comes from the
 * ChannelHangupRequest: `soft` with cause 32 is our own DELETE; anything else is the consumer's phone (a CANCEL
 * is cause 127 / SIP 487). When a bridged buyer leaves, the leg hangs up the consumer and reports `buyer`.
 *
 * Like a carrier expects: an inbound caller hears ringing (POST ring, 180) from its first bridge attempt, and is
 * answered only when a buyer answers (the bridge attempt does it). A call the exchange does not bridge is never
 * answered: its prompt goes out as early media (progress, play) and the hangup carries the Q.850 cause as
 * `reason_code`, which the switch turns into the SIP final response (README, "Connecting a switch").
 */
import type { CallLogger } from '../../observability/logger';
import type { BridgeOptions, BridgeOutcome, CallLeg, Destination, HangupCause, LegEnd } from '../port';
import { eventTime, type AriChannel, type AriEvent } from './ari-model';
import { isAriError } from './ari-rest';
import { BridgeAttempt, type CallerSide } from './bridge-attempt';
import { CALL_ID_VAR } from './call-info';
import { callerHangupCause, causeName } from './causes';
import type { EventOwner } from './channel-router';
import { buyerEndpoint } from './dial';
import { LegGoneError, type LegContext } from './leg-context';

const SAFE_SOUND = /^[A-Za-z0-9_./-]{1,200}$/;
const SAFE_CALL_ID = /^[A-Za-z0-9._:@+-]{1,128}$/;

/** The buyer side of a bridged call: a bridge attempt that succeeded, or a bridge adopted from the switch. */
export interface BuyerConnection {
  readonly buyerId: string | undefined;
  readonly bridgeId: string | undefined;
  /**
   * Hangs up the buyer leg (unless gone) and lets go of the bridge; never rejects. `callerOut`: the caller is
   * known to have left the bridge (its StasisEnd, or it is gone from the switch), so the bridge may be reused.
   */
  teardown(callerOut?: boolean): Promise<void>;
  /** Lets go of the buyer and the bridge without touching them (stop: the call stays on the switch). */
  detach(): void;
}

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
  private connection: BuyerConnection | undefined;
  /** CALLX_CALL_ID was written on the channel (or it already carried it). */
  private callIdTagged = false;
  private ringSent = false;
  /** Let go of on stop while bridged: the call goes on on the switch and this leg reports nothing more. */
  private detached = false;
  private readonly playbacks = new Map<string, (state: string | undefined) => void>();
  private hangupSent: Promise<void> | undefined;
  /** When we learnt the channel exists (its StasisStart, or the answer of our originate). */
  private readonly knownSince = Date.now();

  constructor(
    readonly id: string,
    private readonly ctx: LegContext,
    private readonly log: CallLogger,
    init: { answeredAt?: Date; bridgedAt?: Date; callIdTagged?: boolean } = {},
  ) {
    this.answeredAt = init.answeredAt;
    this.bridgedAt = init.bridgedAt;
    this.callIdTagged = init.callIdTagged ?? false;
  }

  /** Bridged to a buyer (by this leg's bridge(), or adopted that way). */
  get isBridged(): boolean {
    return this.connection !== undefined;
  }

  /** An adopted call: the leg is already bridged to `connection` on the switch. */
  attachAdopted(connection: BuyerConnection): void {
    this.connection = connection;
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
    // Sent alongside the originate, not before it: the buyer's answer is far later than either request.
    const prepared = this.prepareForBuyers(opts.tags?.callx_call_id);
    const attempt = new BridgeAttempt(this.ctx, this, endpoint.value, opts, this.log);
    this.attempt = attempt;
    let outcome: BridgeOutcome;
    try {
      outcome = await attempt.run();
      await prepared;
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
    this.log.debug({ buyerChannel: attempt.buyerId, bridge: attempt.bridgeId }, 'bridged'); // routine: the record has it
    return outcome;
  }

  /**
   * As the first buyer is dialled: the call id goes on the caller's channel (so a node that finds the call later
   * knows it is ours, and never takes it for a new one), and an unanswered caller hears ringing. A failure of
   * either is logged and the call goes on; a caller found gone ends the leg (and so the attempt).
   */
  private async prepareForBuyers(callId: string | undefined): Promise<void> {
    const work: Array<Promise<void>> = [];
    if (callId !== undefined && !this.callIdTagged && SAFE_CALL_ID.test(callId)) {
      this.callIdTagged = true;
      work.push(this.ctx.rest.setVariable(this.id, CALL_ID_VAR, callId).catch((err: unknown) => this.prepareFailed('tagging the caller with the call id', err)));
    }
    if (!this.answeredAt && !this.ringSent) {
      this.ringSent = true;
      work.push(this.ctx.rest.ring(this.id).catch((err: unknown) => this.prepareFailed('ringing the caller', err)));
    }
    await Promise.all(work);
  }

  private prepareFailed(what: string, err: unknown): void {
    if (isAriError(err, 'not_found')) this.vanished(what);
    else if (!this.gone) this.log.warn({ err: (err as Error).message }, `${what} failed`);
  }

  async playAndHangup(prompt: string, cause: HangupCause): Promise<void> {
    if (this.gone) return;
    const file = this.ctx.prompts[prompt];
    if (file === undefined || !SAFE_SOUND.test(file)) {
      this.log.warn({ prompt, file }, 'playAndHangup: no usable sound file for this prompt; hanging up without it');
      await this.hangup(cause);
      return;
    }
    // Never answered for a prompt: it goes out as early media (183), so the carrier does not bill a call we reject.
    if (!this.answeredAt) {
      try {
        await this.ctx.rest.progress(this.id);
      } catch (err) {
        if (isAriError(err, 'not_found')) {
          this.vanished('progress');
          return;
        }
        if (!this.gone) this.log.warn({ prompt, err: (err as Error).message }, 'playAndHangup: progress (early media) failed; playing anyway');
      }
    }
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
    if (this.endFired || this.detached) return;
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
    this.finish(new Date(), false);
  }

  /**
   * Hands a call in setup to the dialplan's fallback (POST continue), on stop or for a call whose owner is gone
   * (a consumer we called is hung up instead): a bridge attempt in flight settles caller_gone and hangs up its buyer. The leg reports its end as ours
   * (NORMAL_TEMPORARY_FAILURE, system) once the channel has left Stasis. Never used on a bridged call.
   */
  async releaseToFallback(): Promise<void> {
    if (this.endFired || this.detached || this.gone || this.connection) return;
    // A consumer we called was originated into Stasis: there is no dialplan behind it to fall back to.
    if (this.ctx.ids.isOurs(this.id)) return this.hangup('NORMAL_TEMPORARY_FAILURE');
    this.requested = 'NORMAL_TEMPORARY_FAILURE';
    this.markGone();
    try {
      await this.ctx.rest.continueInDialplan(this.id);
    } catch (err) {
      if (isAriError(err, 'not_found')) {
        this.vanished('continue');
        return;
      }
      this.log.error({ err: (err as Error).message }, 'handing the call to the dialplan fallback failed');
    }
    if (await this.waitEnd(this.ctx.timeouts.hangupMs)) return;
    this.log.warn({ waitedMs: this.ctx.timeouts.hangupMs }, 'continue: no StasisEnd from the switch; reporting the leg ended');
    this.finish(new Date(), false);
  }

  /**
   * Stop with the call bridged: the call stays on the switch untouched (caller, buyer and bridge), and the leg lets
   * go of it without reporting an end that did not happen; another node, or this one restarted, adopts it.
   */
  detach(): void {
    if (this.endFired || this.detached) return;
    this.detached = true;
    this.ctx.router.removeChannel(this.id, this);
    this.connection?.detach();
    for (const w of this.endWaiters.splice(0)) w();
    this.log.info({ buyerChannel: this.connection?.buyerId, bridge: this.connection?.bridgeId }, 'stopping: the bridged call is left on the switch');
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
    if (this.gone || this.buyerLeft || this.detached) return;
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

  /** `callerOut`: the caller's end was seen (or it is gone from the switch), so it is out of any bridge. */
  private finish(at: Date, callerOut = true): void {
    if (this.endFired || this.detached) return;
    this.markGone();
    this.endFired = true;
    this.ctx.router.removeChannel(this.id, this);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) this.ctx.track(connection.teardown(callerOut));
    const end: LegEnd = {
      endedAt: at,
      cause: this.buyerLeft ?? this.requested ?? this.consumerCause ?? 'NORMAL_CLEARING',
      hungUpBy: this.buyerLeft !== undefined ? 'buyer' : this.requested !== undefined ? 'system' : this.consumerHungUp ? 'caller' : 'unknown',
    };
    if (this.answeredAt) end.answeredAt = this.answeredAt;
    if (this.bridgedAt) end.bridgedAt = this.bridgedAt;
    this.lastEnd = end;
    this.log.debug({ cause: end.cause, hungUpBy: end.hungUpBy }, 'call leg ended'); // routine: the record has it
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
