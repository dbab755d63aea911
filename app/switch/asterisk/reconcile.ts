/**
 * After the events socket comes back, what happened meanwhile is not replayed: compare what we track with
 * `GET /channels` and `GET /bridges`. Tracked calls that ended get their end reported (and their other side
 * cleaned up); a call that entered Stasis while we were away is adopted as a new inbound call; leftovers we
 * created (ids with our app prefix: buyer legs, consumer legs, bridges) that nobody tracks are removed.
 */
import type { Logger } from '../../observability/logger';
import type { AriChannel } from './ari-model';
import type { AriRest } from './ari-rest';
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
  log: Logger;
  /** Hands a channel whose StasisStart we missed to the pipeline. */
  adopt(ch: AriChannel, args: string[]): void;
}

export interface ReconcileReport {
  channels: number;
  bridges: number;
  adopted: number;
  orphanChannels: number;
  orphanBridges: number;
}

/** The Stasis app and args a channel is running, from its dialplan snapshot (`Stasis` / `callx,arg1,...`). */
function stasisOf(ch: AriChannel): { app: string; args: string[] } | undefined {
  if (ch.dialplan?.app_name !== 'Stasis') return undefined;
  const [app = '', ...args] = ch.dialplan.app_data.split(',');
  return { app, args };
}

export async function reconcile(d: ReconcileDeps): Promise<ReconcileReport> {
  const snapshotAt = Date.now();
  const [channels, bridges] = await Promise.all([d.rest.listChannels(), d.rest.listBridges()]);
  const live = new Map(channels.map((c) => [c.id, c]));
  for (const owner of d.router.owners()) {
    if (!isReconcilable(owner)) continue;
    try {
      owner.reconcile(live, snapshotAt);
    } catch (err) {
      d.log.error({ err: (err as Error).message }, 'reconcile: a tracked call threw');
    }
  }
  const report: ReconcileReport = { channels: channels.length, bridges: bridges.length, adopted: 0, orphanChannels: 0, orphanBridges: 0 };
  const cleanup: Array<Promise<void>> = [];
  for (const ch of channels) {
    if (d.router.isTracked(ch.id) || d.router.endedRecently(ch.id)) continue;
    const stasis = stasisOf(ch);
    const ours = d.ids.isOurs(ch.id);
    const originatedByUs = ours || (stasis?.app === d.app && (stasis.args[0] === 'buyer' || stasis.args[0] === 'outbound'));
    if (originatedByUs) {
      report.orphanChannels++;
      d.log.warn({ channel: ch.id, name: ch.name }, 'reconcile: hanging up a leg we originated that nothing tracks');
      cleanup.push(d.rest.hangup(ch.id, 'normal').catch((err: unknown) => logCleanupError(d.log, `hanging up orphan ${ch.id}`, err)));
    } else if (stasis?.app === d.app) {
      report.adopted++;
      d.log.warn({ channel: ch.id }, 'reconcile: a call entered Stasis while events were missed; handing it over');
      d.adopt(ch, stasis.args);
    }
  }
  for (const b of bridges) {
    if (!d.ids.isOurs(b.id) || d.router.isTracked(b.id)) continue;
    report.orphanBridges++;
    d.log.warn({ bridge: b.id, channels: b.channels }, 'reconcile: destroying a bridge nothing tracks');
    cleanup.push(d.rest.destroyBridge(b.id).catch((err: unknown) => logCleanupError(d.log, `destroying orphan bridge ${b.id}`, err)));
  }
  await Promise.all(cleanup);
  return report;
}
