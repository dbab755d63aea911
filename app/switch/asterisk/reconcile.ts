/**
 * After the events socket comes back, what happened meanwhile is not replayed: compare what we track with
 * `GET /channels` and `GET /bridges`. Tracked calls that ended get their end reported (and their other side
 * cleaned up). An untracked caller in our app is:
 * - a call in progress if it carries our call id (CALLX_CALL_ID): set up by another node or by this one before a
 *   restart. It is never taken for a new call, and neither it, its bridge nor its buyer leg is touched here: the
 *   node registry adopts it (adapter.adopt) or hands it to the fallback (adapter.releaseToFallback);
 * - else a call whose StasisStart we missed: handed to the pipeline as a new inbound call.
 * Leftovers we created that nothing tracks are removed: buyer legs whose caller is no longer on the switch (by its
 * channel, named in the buyer's Stasis args, or by the call id they share), and our bridges holding none of the
 * channels kept.
 */
import type { Logger } from '../../observability/logger';
import type { AriChannel } from './ari-model';
import type { AriRest } from './ari-rest';
import type { BridgePool } from './bridge-pool';
import { callerOfBuyer, callIdsOf, legRole, stasisOf } from './calls-on-switch';
import type { ChannelCallIds } from '../channel-call-ids';
import type { ChannelRouter, EventOwner } from './channel-router';
import { logCleanupError, type IdFactory } from './leg-context';

export interface Reconcilable extends EventOwner {
  /**
   * `snapshotAt`: when GET /channels was sent. A channel missing from the snapshot has ended only if we knew it
   * existed before then (an originate still in flight is simply not there yet).
   */
  reconcile(live: Map<string, AriChannel>, snapshotAt: number): void;
}

const isReconcilable = (o: EventOwner): o is Reconcilable => typeof (o as Partial<Reconcilable>).reconcile === 'function';

export interface ReconcileDeps {
  rest: AriRest;
  router: ChannelRouter;
  ids: IdFactory;
  app: string;
  /** Idle bridges kept for reuse: checked against the listing. */
  pool?: BridgePool;
  /** Call ids already asked for (without ari.conf channelvars), shared with the sweeps. */
  callIds?: ChannelCallIds;
  log: Logger;
  /** Hands a channel whose StasisStart we missed to the pipeline. */
  adopt(ch: AriChannel, args: string[]): void;
}

export interface ReconcileReport {
  channels: number;
  bridges: number;
  /** untracked callers handed to the pipeline as new calls (no call id) */
  adopted: number;
  /** untracked calls carrying a call id, left as they are for adoption */
  inProgress: number;
  orphanChannels: number;
  orphanBridges: number;
}

export async function reconcile(d: ReconcileDeps): Promise<ReconcileReport> {
  const snapshotAt = Date.now();
  const [channels, bridges] = await Promise.all([d.rest.listChannels(), d.rest.listBridges()]);
  const live = new Map(channels.map((c) => [c.id, c]));
  d.pool?.checkAgainst(bridges);
  for (const owner of d.router.owners()) {
    if (!isReconcilable(owner)) continue;
    try {
      owner.reconcile(live, snapshotAt);
    } catch (err) {
      d.log.error({ err: (err as Error).message }, 'reconcile: a tracked call threw');
    }
  }
  const report: ReconcileReport = { channels: channels.length, bridges: bridges.length, adopted: 0, inProgress: 0, orphanChannels: 0, orphanBridges: 0 };
  const untracked = channels.filter((ch) => !d.router.isTracked(ch.id) && !d.router.endedRecently(ch.id) && legRole(ch, d.app, d.ids) !== undefined);
  const callIds = await callIdsOf(d.rest, untracked, undefined, d.callIds);
  // Call ids of the callers on the switch (tracked or not): their buyer legs are not orphans.
  const liveCallIds = new Set<string>();
  for (const ch of untracked) if (legRole(ch, d.app, d.ids) === 'caller' && callIds.has(ch.id)) liveCallIds.add(callIds.get(ch.id) as string);
  for (const ch of channels) {
    const v = ch.channelvars?.CALLX_CALL_ID;
    if (v && d.router.isTracked(ch.id)) liveCallIds.add(v);
  }
  /** Channels nothing here may touch: calls in progress and their buyer legs. */
  const kept = new Set<string>();
  const cleanup: Array<Promise<void>> = [];
  for (const ch of untracked) {
    const callId = callIds.get(ch.id);
    if (legRole(ch, d.app, d.ids) === 'buyer') {
      const caller = callerOfBuyer(ch);
      if ((caller !== undefined && live.has(caller)) || (callId !== undefined && liveCallIds.has(callId))) {
        kept.add(ch.id);
        continue;
      }
      report.orphanChannels++;
      d.log.warn({ channel: ch.id, name: ch.name, callId }, 'reconcile: hanging up a buyer leg whose caller is gone');
      cleanup.push(d.rest.hangup(ch.id, 'NORMAL_CLEARING').catch((err: unknown) => logCleanupError(d.log, `hanging up orphan ${ch.id}`, err)));
    } else if (callId !== undefined) {
      kept.add(ch.id);
      report.inProgress++;
      d.log.info({ channel: ch.id, callId }, 'reconcile: a call in progress carrying a call id; left for adoption');
    } else {
      report.adopted++;
      d.log.warn({ channel: ch.id }, 'reconcile: a call entered Stasis while events were missed; handing it over');
      d.adopt(ch, stasisOf(ch)?.args ?? []);
    }
  }
  for (const b of bridges) {
    if (!d.ids.isOurs(b.id) || d.router.isTracked(b.id)) continue;
    if (b.channels.some((c) => kept.has(c) || d.router.isTracked(c))) continue;
    report.orphanBridges++;
    d.log.warn({ bridge: b.id, channels: b.channels }, 'reconcile: destroying a bridge nothing tracks');
    cleanup.push(d.rest.destroyBridge(b.id).catch((err: unknown) => logCleanupError(d.log, `destroying orphan bridge ${b.id}`, err)));
  }
  await Promise.all(cleanup);
  return report;
}
