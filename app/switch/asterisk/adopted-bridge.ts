/**
 * The buyer side of a call adopted from the switch (set up by another node, or by this one before a restart): the
 * buyer leg and the mixing bridge found there. While the call talks they are never touched. The buyer hanging
 * up ends the call (the caller leg hangs up the caller); after the caller leaves, teardown() hangs up the buyer and
 * destroys the bridge, which Asterisk would otherwise keep (fact 15: the buyer stays bridged until the app acts).
 */
import type { CallLogger } from '../../observability/logger';
import type { HangupCause } from '../port';
import type { AriChannel, AriEvent } from './ari-model';
import type { BuyerConnection } from './call-leg';
import { causeName } from './causes';
import type { EventOwner } from './channel-router';
import { logCleanupError, type LegContext } from './leg-context';

export class AdoptedBridge implements BuyerConnection, EventOwner {
  private buyerGone = false;
  private hangupSent = false;
  private requestCause: number | undefined;
  private teardownDone: Promise<void> | undefined;

  constructor(
    private readonly ctx: LegContext,
    private readonly caller: { buyerEnded(cause: HangupCause): void },
    readonly buyerId: string | undefined,
    readonly bridgeId: string | undefined,
    private readonly log: CallLogger,
  ) {
    if (buyerId === undefined) this.buyerGone = true;
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
        this.buyerLeft(causeName(this.requestCause));
        return;
      case 'ChannelDestroyed':
        this.buyerGone = true;
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
    if (this.buyerId) this.ctx.router.removeChannel(this.buyerId, this);
    this.buyerLeft('NORMAL_CLEARING');
  }

  private buyerLeft(cause: HangupCause): void {
    if (this.hangupSent) return;
    this.caller.buyerEnded(cause);
  }

  teardown(): Promise<void> {
    if (this.teardownDone) return this.teardownDone;
    this.hangupSent = true;
    const work: Array<Promise<void>> = [];
    const buyerId = this.buyerId;
    if (buyerId && !this.buyerGone) work.push(this.ctx.rest.hangup(buyerId, 'NORMAL_CLEARING').catch((err: unknown) => logCleanupError(this.log, 'hanging up the adopted buyer leg', err)));
    const bridgeId = this.bridgeId;
    if (bridgeId) work.push(this.ctx.rest.destroyBridge(bridgeId).catch((err: unknown) => logCleanupError(this.log, 'destroying the adopted bridge', err)));
    this.teardownDone = Promise.all(work).then(() => this.unregister());
    return this.teardownDone;
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
