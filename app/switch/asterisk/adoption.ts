/**
 * Adopting a bridged call found on the switch (set up by another node, or by this one before a restart): the
 * caller leg becomes an AsteriskCallLeg again, already bridged to an AdoptedBridge (the buyer leg and the bridge,
 * never touched while the call talks). Its events are routed to them first; then the switch is asked whether the
 * channels are still there, since an end between the listing and now would otherwise go unseen:
 * - the caller gone: the call is over; its buyer leg is hung up, its bridge pooled or destroyed (adopted-bridge.ts),
 *   and undefined is returned;
 * - the buyer gone: the buyer hung up unseen; the caller is hung up and the leg reports it (hungUpBy buyer).
 */
import type { CallLogger } from '../../observability/logger';
import type { CallInProgress } from '../port';
import { AdoptedBridge } from './adopted-bridge';
import { isAriError } from './ari-rest';
import { AsteriskCallLeg } from './call-leg';
import { placementOf, type Placement } from './calls-on-switch';
import type { LegContext } from './leg-context';

/** `placement`: where its buyer is, when the listing said so; else the bridges are listed again. */
export async function adoptCall(ctx: LegContext, call: CallInProgress, placement: Placement | undefined, log: CallLogger): Promise<AsteriskCallLeg | undefined> {
  const where = placement ?? placementOf(call.switchCallId, await ctx.rest.listBridges());
  // Our flow answers the caller as the buyer answers, just before the bridge: the bridge's creation time stands
  // for both when the call does not say.
  const bridgedAt = call.bridgedAt ?? where?.bridgedAt;
  const leg = new AsteriskCallLeg(call.switchCallId, ctx, log, { answeredAt: call.answeredAt ?? bridgedAt, bridgedAt, callIdTagged: true });
  const buyer = where ? new AdoptedBridge(ctx, leg, where.buyerId, where.bridgeId, log, where.members) : undefined;
  ctx.router.addChannel(call.switchCallId, leg);
  if (buyer) {
    leg.attachAdopted(buyer);
    buyer.register();
  }
  if (!(await stillThere(ctx, call.switchCallId))) {
    log.info('adopt: the caller is gone already; cleaning up its buyer leg and bridge');
    ctx.router.removeChannel(call.switchCallId, leg);
    await buyer?.teardown(true); // the caller is gone from the switch, so out of the bridge
    return undefined;
  }
  if (!buyer) {
    log.warn('adopt: the call is not bridged; the leg reports its end, nothing else (releaseToFallback is for calls in setup)');
  } else if (!where?.buyerId || !(await stillThere(ctx, where.buyerId))) {
    log.info({ buyerChannel: where?.buyerId }, 'adopt: the buyer leg is gone; hanging up the caller');
    buyer.buyerMissing();
  } else {
    log.info({ buyerChannel: where.buyerId, bridge: where.bridgeId }, 'adopted a bridged call; the buyer leg is left as it is');
  }
  return leg;
}

/** Whether a channel still exists (a REST failure other than 404 counts as yes: nothing is concluded from it). */
async function stillThere(ctx: LegContext, channelId: string): Promise<boolean> {
  try {
    await ctx.rest.getChannel(channelId);
    return true;
  } catch (err) {
    return !isAriError(err, 'not_found');
  }
}
