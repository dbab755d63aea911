/**
 * One buyer leg, from originate to the end of its bridge with the caller.
 *
 * Dialing: `POST /channels` with our own channel id and `appArgs=buyer,<caller id>` (so its StasisStart is not
 * taken for an inbound call). The buyer counts as answered on its state change to Up, not on StasisStart, which
 * can come first under load; the bridge needs both (a channel not in Stasis cannot join: 422). Busy and no answer
 * show only in ChannelDestroyed's cause (17, 19): such a leg never reaches StasisStart. An unknown endpoint is a
 * 500 `Allocation failed` on the originate itself: a buyer's fault when the buyer is a PJSIP endpoint of its own,
 * a switch fault when the leg goes out through the configured buyer trunk (the switch could not make a channel on
 * its own trunk: out of channels, or the trunk missing from pjsip.conf), which no other buyer would get past.
 * Connecting: an idle bridge from the pool (bridge-pool.ts), else a new mixing bridge with our id; then both
 * channels in one addChannel.
 * Bridged: the buyer leaving ends the call (the caller leg hangs up); teardown() hangs up the buyer, whichever
 * side ended first, and the bridge goes back to the pool once both legs are seen out of it (else it is destroyed).
 */
import type { CallLogger } from '../../observability/logger';
import type { BridgeOptions, BridgeOutcome, HangupCause } from '../port';
import { eventChannel, eventTime, type AriChannel, type AriEvent } from './ari-model';
import { isAriError } from './ari-rest';
import { attemptStatus, causeName } from './causes';
import type { EventOwner } from './channel-router';
import { callerIdParam, stasisArgs, tagVariables } from './dial';
import { logCleanupError, type LegContext } from './leg-context';
import { Latch } from '../../util/latch';

/** What the attempt needs from the caller leg. */
export interface CallerSide {
  readonly id: string;
  readonly ended: boolean;
  readonly goneCause: HangupCause;
  /** Answers the caller if it is not yet; false when the caller is gone. */
  ensureAnswered(): Promise<boolean>;
  /** The caller's channel was not found: end the leg with what is known. */
  vanished(during: string): void;
  /** The bridged buyer left: end the call. */
  buyerEnded(cause: HangupCause): void;
}

type Phase = 'dialing' | 'connecting' | 'bridged' | 'done';

export class BridgeAttempt implements EventOwner {
  readonly buyerId: string;
  bridgeId: string | undefined;
  bridgedAt: Date | undefined;
  private phase: Phase = 'dialing';
  private upAt: Date | undefined;
  private inStasis = false;
  /** The buyer's channel is hanging up or gone. */
  private buyerLeaving = false;
  private buyerDestroyed = false;
  private buyerHangupSent = false;
  private requestCause: number | undefined;
  private enteredAt: Date | undefined;
  private resolveOutcome: ((o: BridgeOutcome) => void) | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stasisTimer: NodeJS.Timeout | undefined;
  private teardownDone: Promise<void> | undefined;
  /** The buyer left Stasis, hence its bridge (StasisEnd or ChannelDestroyed seen, or it never got there). */
  private readonly buyerOut = new Latch();
  private readonly log: CallLogger;
  /** When we learnt the buyer channel exists (originate answered, or one of its events). */
  private knownSince: number | undefined;

  constructor(
    private readonly ctx: LegContext,
    private readonly caller: CallerSide,
    private readonly endpoint: string,
    private readonly opts: BridgeOptions,
    log: CallLogger,
  ) {
    this.buyerId = ctx.ids.next('b');
    this.log = log.child({ buyerChannel: this.buyerId, endpoint });
  }

  get isBridged(): boolean {
    return this.phase === 'bridged';
  }

  /** Originates the buyer leg and settles with the attempt's outcome (never rejects, never hangs). */
  run(): Promise<BridgeOutcome> {
    return new Promise<BridgeOutcome>((resolve) => {
      this.resolveOutcome = resolve;
      const limitMs = Math.max(1, Math.ceil(this.opts.answerTimeoutSec)) * 1000 + this.ctx.timeouts.bridgeMarginMs;
      this.deadline = setTimeout(() => {
        this.log.error({ limitMs }, 'bridge: no outcome from the switch in time; giving up on this buyer');
        this.fail({ status: 'failed', cause: 'RECOVERY_ON_TIMER_EXPIRE', detail: `no outcome within ${limitMs} ms` });
      }, limitMs);
      this.ctx.router.addChannel(this.buyerId, this);
      void this.originate();
    });
  }

  private async originate(): Promise<void> {
    const args = stasisArgs(['buyer', this.caller.id]);
    const callerId = callerIdParam(this.opts.callerIdNumber);
    try {
      await this.ctx.rest.originate({
        endpoint: this.endpoint,
        app: this.ctx.app,
        appArgs: args.ok ? args.value : 'buyer',
        ...(callerId ? { callerId } : {}),
        timeoutSec: Math.max(1, Math.ceil(this.opts.answerTimeoutSec)),
        channelId: this.buyerId,
        variables: tagVariables(this.opts.tags),
      });
      this.knownSince ??= Date.now();
    } catch (err) {
      if (this.phase === 'done') return;
      if (isAriError(err, 'allocation_failed')) {
        this.buyerDestroyed = true; // nothing was created
        if (this.viaBuyerTrunk()) {
          this.log.error({ endpoint: this.endpoint }, 'bridge: the switch refused a channel on the buyer trunk (Allocation failed): a switch fault');
          this.fail({ status: 'switch_fault', cause: 'SWITCH_CONGESTION', detail: 'Allocation failed on the buyer trunk' });
          return;
        }
        this.log.info({ endpoint: this.endpoint }, 'bridge: the switch could not create the buyer channel (Allocation failed)');
        this.fail({ status: 'failed', cause: 'NO_ROUTE_DESTINATION', detail: 'Allocation failed' });
        return;
      }
      this.log.warn({ endpoint: this.endpoint, err: (err as Error).message }, 'bridge: originate failed');
      this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: `originate failed: ${(err as Error).message}` });
    }
  }

  /** `PJSIP/<number>@<trunk>` or `PJSIP/<trunk>/sip:...`: dialled through the configured buyer trunk. */
  private viaBuyerTrunk(): boolean {
    const trunk = this.ctx.buyerTrunk;
    return trunk !== undefined && (this.endpoint.endsWith(`@${trunk}`) || this.endpoint.startsWith(`PJSIP/${trunk}/`));
  }

  onEvent(ev: AriEvent): void {
    this.knownSince ??= Date.now();
    switch (ev.type) {
      case 'ChannelStateChange':
      case 'Dial':
        if (eventChannel(ev)?.state === 'Up') this.answered(eventTime(ev));
        return;
      case 'StasisStart':
        this.inStasis = true;
        this.tryConnect();
        return;
      case 'ChannelEnteredBridge':
        this.enteredAt = eventTime(ev);
        return;
      case 'ChannelHangupRequest':
        if (!(this.buyerHangupSent && ev.soft)) this.requestCause ??= ev.cause;
        this.leaving();
        return;
      case 'StasisEnd':
        this.inStasis = false;
        this.leaving();
        this.buyerOut.open();
        return;
      case 'ChannelDestroyed':
        this.destroyed(ev.cause);
        this.buyerOut.open();
        return;
      default:
        return;
    }
  }

  private answered(at: Date): void {
    if (this.phase !== 'dialing' || this.upAt) return;
    this.upAt = at;
    if (!this.inStasis) {
      this.stasisTimer = setTimeout(() => {
        this.log.error({ waitedMs: this.ctx.timeouts.stasisStartMs }, 'bridge: the buyer answered but never entered Stasis');
        this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'buyer answered but never entered the Stasis app' });
      }, this.ctx.timeouts.stasisStartMs);
    }
    this.tryConnect();
  }

  private tryConnect(): void {
    if (this.phase !== 'dialing' || !this.upAt || !this.inStasis || this.buyerLeaving) return;
    this.phase = 'connecting';
    clearTimeout(this.stasisTimer);
    void this.connect();
  }

  private async connect(): Promise<void> {
    try {
      if (!(await this.caller.ensureAnswered())) return this.callerGone();
      if (this.phase !== 'connecting') return;
      const pooled = this.ctx.bridges.take();
      if (pooled) this.useBridge(pooled);
      else await this.newBridge();
      if (this.caller.ended) return this.callerGone();
      if (this.buyerLeaving) return this.buyerLeftBeforeBridge();
      await this.addBoth(pooled !== undefined);
      if (this.caller.ended) return this.callerGone();
      if (this.buyerLeaving) return this.buyerLeftBeforeBridge();
      if (this.phase !== 'connecting') return;
      this.phase = 'bridged';
      this.bridgedAt = this.enteredAt ?? new Date();
      clearTimeout(this.deadline);
      this.resolveOutcome?.({ status: 'bridged', answeredAt: this.upAt ?? this.bridgedAt });
    } catch (err) {
      if (this.phase !== 'connecting') return;
      if (this.caller.ended) return this.callerGone();
      if (isAriError(err, 'not_found', 'not_in_stasis')) {
        // One of the two channels vanished: find out which.
        if (await this.callerVanished()) return;
        this.log.warn({ err: (err as Error).message }, 'bridge: the buyer channel vanished before the bridge');
        this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'buyer channel vanished before the bridge' });
        return;
      }
      this.log.error({ err: (err as Error).message, bridgeId: this.bridgeId }, 'bridge: could not bridge the answered buyer');
      this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: `bridge failed: ${(err as Error).message}` });
    }
  }

  private useBridge(id: string): void {
    this.bridgeId = id;
    this.ctx.router.addBridge(id, this);
  }

  private async newBridge(): Promise<void> {
    this.useBridge(this.ctx.ids.next('br'));
    await this.ctx.rest.createBridge(this.bridgeId as string, this.ctx.app);
  }

  /** Both channels into the bridge; an idle bridge destroyed behind our back (404 Bridge not found) is replaced once. */
  private async addBoth(pooled: boolean): Promise<void> {
    try {
      await this.ctx.rest.addChannels(this.bridgeId as string, [this.caller.id, this.buyerId]);
    } catch (err) {
      if (!pooled || !isAriError(err, 'not_found') || !/bridge not found/i.test(err.message)) throw err;
      this.log.warn({ bridgeId: this.bridgeId }, 'bridge: the idle bridge is gone from the switch; creating a new one');
      this.ctx.router.removeBridge(this.bridgeId as string, this);
      await this.newBridge();
      if (this.caller.ended || this.buyerLeaving) return;
      await this.ctx.rest.addChannels(this.bridgeId as string, [this.caller.id, this.buyerId]);
    }
  }

  /** After a not-found from addChannel: true if it was the caller (the leg then ends and settles us). */
  private async callerVanished(): Promise<boolean> {
    try {
      await this.ctx.rest.getChannel(this.caller.id);
      return false;
    } catch (err) {
      if (!isAriError(err, 'not_found')) return false;
      this.caller.vanished('bridge');
      if (this.phase === 'connecting') this.callerGone();
      return true;
    }
  }

  private leaving(): void {
    this.buyerLeaving = true;
    if (this.phase === 'bridged' && !this.buyerHangupSent) this.caller.buyerEnded(causeName(this.requestCause));
  }

  private destroyed(cause: number | undefined): void {
    this.buyerLeaving = true;
    this.buyerDestroyed = true;
    this.ctx.router.removeChannel(this.buyerId, this);
    const code = cause ?? this.requestCause;
    if (this.phase === 'dialing') {
      const status = this.upAt ? 'failed' : attemptStatus(code);
      const outcome: BridgeOutcome = { status, cause: causeName(code, 'NORMAL_TEMPORARY_FAILURE') };
      if (this.upAt) outcome.detail = 'buyer hung up before the bridge';
      this.log.info({ status, cause: outcome.cause, q850: code }, 'bridge attempt failed');
      this.fail(outcome);
      return;
    }
    if (this.phase === 'bridged' && !this.buyerHangupSent) this.caller.buyerEnded(causeName(code));
  }

  private buyerLeftBeforeBridge(): void {
    this.log.info('bridge: the buyer hung up while the bridge was being set up');
    this.fail({ status: 'failed', cause: causeName(this.requestCause, 'NORMAL_CLEARING'), detail: 'buyer hung up before the bridge' });
  }

  /** The caller left before the bridge: settle and hang up the buyer. Called by the leg, too. */
  callerGone(): void {
    if (this.phase === 'done' || this.phase === 'bridged') return;
    this.fail({ status: 'caller_gone', cause: this.caller.goneCause });
  }

  /** Settles with a non-bridged outcome and cleans up what was created. */
  private fail(outcome: BridgeOutcome): void {
    if (this.phase === 'done' || this.phase === 'bridged') return;
    this.phase = 'done';
    clearTimeout(this.deadline);
    clearTimeout(this.stasisTimer);
    this.resolveOutcome?.(outcome);
    this.ctx.track(this.teardown());
  }

  /**
   * Hangs up the buyer (unless it is gone); idempotent, never rejects. The bridge goes back to the pool when
   * `callerOut` (the caller is known to have left it) and the buyer is seen leaving Stasis within `hangupMs`;
   * otherwise it is destroyed, which also takes out whatever is still in it.
   */
  teardown(callerOut = false): Promise<void> {
    if (this.teardownDone) return this.teardownDone;
    this.phase = 'done';
    clearTimeout(this.deadline);
    clearTimeout(this.stasisTimer);
    const hungUp = this.buyerDestroyed
      ? Promise.resolve()
      : ((this.buyerHangupSent = true), this.ctx.rest.hangup(this.buyerId, 'NORMAL_CLEARING').catch((err: unknown) => logCleanupError(this.log, 'hanging up the buyer leg', err)));
    const bridgeId = this.bridgeId;
    const released = bridgeId === undefined ? Promise.resolve() : this.releaseBridge(bridgeId, callerOut);
    this.teardownDone = Promise.all([hungUp, released]).then(() => {
      this.ctx.router.removeChannel(this.buyerId, this);
    });
    return this.teardownDone;
  }

  private async releaseBridge(bridgeId: string, callerOut: boolean): Promise<void> {
    if (callerOut && (this.buyerDestroyed || (await this.buyerOut.wait(this.ctx.timeouts.hangupMs)))) {
      this.ctx.bridges.give(bridgeId); // the pool owns it from here (or destroys it)
      return;
    }
    await this.ctx.rest.destroyBridge(bridgeId).catch((err: unknown) => logCleanupError(this.log, 'destroying the bridge', err));
    this.ctx.router.removeBridge(bridgeId, this);
  }

  /** Stop with the call bridged: forget the buyer and the bridge, leaving both on the switch. */
  detach(): void {
    this.phase = 'done';
    this.buyerHangupSent = true; // its later events must not end the caller
    this.teardownDone ??= Promise.resolve();
    clearTimeout(this.deadline);
    clearTimeout(this.stasisTimer);
    this.ctx.router.removeChannel(this.buyerId, this);
    if (this.bridgeId) this.ctx.router.removeBridge(this.bridgeId, this);
  }

  /** After a reconnect: catch up with what the switch says now. */
  reconcile(live: Map<string, AriChannel>, snapshotAt: number): void {
    if (this.phase === 'done') return;
    const snap = live.get(this.buyerId);
    if (!snap) {
      if (this.knownSince === undefined || this.knownSince > snapshotAt) return;
      this.log.warn({ phase: this.phase }, 'reconcile: the buyer channel ended while events were missed');
      this.buyerLeaving = true;
      this.buyerDestroyed = true;
      if (this.phase === 'bridged') this.caller.buyerEnded('NORMAL_CLEARING');
      else this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'buyer channel ended while events were missed' });
      return;
    }
    if (this.phase !== 'dialing') return;
    if (snap.dialplan?.app_name === 'Stasis') this.inStasis = true;
    if (snap.state === 'Up') this.answered(new Date());
    this.tryConnect();
  }
}
