/**
 * The buyer side of a call adopted from the switch (set up by another node, or by this one before a restart): the
 * buyer leg and the mixing bridge found there. While the call talks they are never touched. The buyer hanging
 * up ends the call (the caller leg hangs up the caller); after the caller leaves, teardown() hangs up the buyer,
 * which Asterisk would otherwise keep bridged (fact 15: the buyer stays until the app acts). The bridge then goes to
 * the pool for the next call, as a bridge of our own calls does (bridge-attempt.ts), when it is known empty: it has
 * our app's id shape, held just the caller and the buyer when found, the caller's end was seen and the buyer is seen
 * leaving Stasis within `hangupMs`. Otherwise it is destroyed.
 */
import type { CallLogger } from '../../observability/logger';
import type { HangupCause } from '../port';
import type { AriChannel, AriEvent } from './ari-model';
import type { BuyerConnection } from './call-leg';
import { causeName } from './causes';
import type { EventOwner } from './channel-router';
import { logCleanupError, type LegContext } from './leg-context';
import { Latch } from '../../util/latch';

export class AdoptedBridge implements BuyerConnection, EventOwner {
  private buyerGone = false;
  private hangupSent = false;
  private requestCause: number | undefined;
  private teardownDone: Promise<void> | undefined;
  /** The buyer was seen leaving Stasis (so it is out of the bridge). */
  private readonly buyerOut = new Latch();

  constructor(
    private readonly ctx: LegContext,
    private readonly caller: { buyerEnded(cause: HangupCause): void },
    readonly buyerId: string | undefined,
    readonly bridgeId: string | undefined,
    private readonly log: CallLogger,
    /** Channels in the bridge when the call was found: only a bridge of exactly the caller and buyer is reused. */
    private readonly members = 2,
  ) {
    if (buyerId === undefined) {
      this.buyerGone = true;
      this.buyerOut.open();
    }
  }

  /** Routes the buyer's and the bridge's events here. */
  register(): void {
    if (this.buyerId) this.ctx.router.addChannel(this.buyerId, this);
    if (this.bridgeId) this.ctx.router.addBridge(this.bridgeId, this);
  }

  onEvent(ev: AriEvent): void {
    switch (ev.type) {
      case 'ChannelHangupRequest':
        if (!(this.hangupSent && ev.soft)) this.requestCause ??= ev.cause;
        this.buyerLeft(causeName(this.requestCause));
        return;
      case 'StasisEnd':
        this.buyerOut.open();
        this.buyerLeft(causeName(this.requestCause));
        return;
      case 'ChannelDestroyed':
        this.buyerGone = true;
        this.buyerOut.open();
        if (this.buyerId) this.ctx.router.removeChannel(this.buyerId, this);
        this.buyerLeft(causeName(ev.cause ?? this.requestCause));
        return;
      default:
        return;
    }
  }

  /** The buyer was found gone (no event seen): the call is over on its side. */
  buyerMissing(): void {
    this.buyerGone = true;
    this.buyerOut.open();
    if (this.buyerId) this.ctx.router.removeChannel(this.buyerId, this);
    this.buyerLeft('NORMAL_CLEARING');
  }

  private buyerLeft(cause: HangupCause): void {
    if (this.hangupSent) return;
    this.caller.buyerEnded(cause);
  }

  /** `callerOut`: the caller's end was seen (or it is gone from the switch), so it is out of the bridge. */
  teardown(callerOut = false): Promise<void> {
    if (this.teardownDone) return this.teardownDone;
    this.hangupSent = true;
    const work: Array<Promise<void>> = [];
    const buyerId = this.buyerId;
    if (buyerId && !this.buyerGone) work.push(this.ctx.rest.hangup(buyerId, 'NORMAL_CLEARING').catch((err: unknown) => logCleanupError(this.log, 'hanging up the adopted buyer leg', err)));
    const bridgeId = this.bridgeId;
    if (bridgeId) work.push(this.releaseBridge(bridgeId, callerOut));
    this.teardownDone = Promise.all(work).then(() => this.unregister());
    return this.teardownDone;
  }

  private async releaseBridge(bridgeId: string, callerOut: boolean): Promise<void> {
    const reusable = callerOut && this.members <= 2 && this.ctx.ids.isOurs(bridgeId);
    if (reusable && (await this.buyerOut.wait(this.ctx.timeouts.hangupMs))) {
      this.ctx.bridges.give(bridgeId); // the pool owns it from here (or destroys it)
      return;
    }
    await this.ctx.rest.destroyBridge(bridgeId).catch((err: unknown) => logCleanupError(this.log, 'destroying the adopted bridge', err));
  }

  detach(): void {
    this.hangupSent = true;
    this.teardownDone ??= Promise.resolve();
    this.unregister();
  }

  /** After a reconnect: the buyer ended while events were missed. */
  reconcile(live: Map<string, AriChannel>): void {
    if (this.hangupSent || this.buyerGone || !this.buyerId) return;
    if (!live.has(this.buyerId)) {
      this.log.warn('reconcile: the adopted buyer leg ended while events were missed');
      this.buyerMissing();
    }
  }

  private unregister(): void {
    if (this.buyerId) this.ctx.router.removeChannel(this.buyerId, this);
    if (this.bridgeId) this.ctx.router.removeBridge(this.bridgeId, this);
  }
}
