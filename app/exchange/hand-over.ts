import type { CallLogger } from '../observability/logger';
import type { CallInfo, CallLeg, LegEnd } from '../switch/port';
import type { LiveCall, LiveCallsRegistry } from '../cache/live-calls-registry';
import { PROMPTS } from './router';
import { closeLostCall, type AdoptionDeps } from './adopted-call';
import type { Left } from './running-calls';

/** What the database knows of a call: its record as an entry to finish, and whether its end is recorded. */
export type KnownCallLookup = (callId: string) => Promise<{ ended: boolean; call: LiveCall } | undefined>;

export interface HandOverDeps {
  registry?: LiveCallsRegistry;
  knownCall?: KnownCallLookup;
  adoption: AdoptionDeps;
}

type FinishAdopted = (call: LiveCall, ended: Promise<LegEnd | Left>) => Promise<void>;

/**
 * A switch handed over an inbound call that already carries our call id (Asterisk's reconcile after a restart
 * does, for a caller still in Stasis). Such a call is never auctioned again:
 * - its registry entry has a dead owner (or this node, not running it): taken and finished here; a bridged call
 *   as an adopted one, a call that was still in setup gets the error prompt and is closed as node_lost;
 * - a live node owns it: left alone (that node is steering it);
 * - no entry, but the database has its open record: marked as ours (only one node can) and adopted;
 * - its record is closed, or another node is adopting it: left alone.
 * Only a call id nobody knows is routed as a new call.
 */
export async function handOver(
  deps: HandOverDeps,
  leg: CallLeg,
  info: CallInfo,
  ended: Promise<LegEnd | Left>,
  log: CallLogger,
  finishAdopted: FinishAdopted,
  routeAsNew: () => Promise<void>,
): Promise<void> {
  const callId = info.callId!;
  try {
    const found = await deps.registry?.find(callId);
    if (found) {
      const taken = await deps.registry!.take(callId, found.owner);
      if (!taken) {
        log.warn({ owner: found.owner }, 'a switch handed over a call that a live node is running; left alone');
        return;
      }
      return await finishTaken(deps, leg, taken, ended, log, finishAdopted);
    }
    const known = await deps.knownCall?.(callId);
    if (known) {
      if (known.ended) {
        log.warn('a switch handed over a call whose record is closed; left alone');
        return;
      }
      if (!deps.registry || !(await deps.registry.markAdopting(callId))) {
        log.warn('a switch handed over a call that another node is adopting; left alone');
        return;
      }
      const call = { ...known.call, switchCallId: info.switchCallId || known.call.switchCallId };
      deps.registry.put(call);
      return await finishTaken(deps, leg, call, ended, log, finishAdopted);
    }
  } catch (err) {
    // Without the registry's word the call might be another node's: touching it could cut a live call.
    log.error({ err: (err as Error).message }, 'could not look up a handed-over call with our call id; left alone');
    return;
  }
  log.info('a switch handed over a call with a call id nobody knows; routed as a new call');
  await routeAsNew();
}

async function finishTaken(deps: HandOverDeps, leg: CallLeg, call: LiveCall, ended: Promise<LegEnd | Left>, log: CallLogger, finishAdopted: FinishAdopted): Promise<void> {
  if (call.state === 'bridged') return finishAdopted(call, ended);
  // Set up by a node now gone, never bridged: no buyer holds it and it may not be auctioned again.
  if (!leg.ended) await leg.playAndHangup(PROMPTS.error, 'NORMAL_TEMPORARY_FAILURE').catch((err: Error) => log.warn({ err: err.message }, 'play error prompt failed'));
  await closeLostCall(deps.adoption, call, 'released', log);
}
