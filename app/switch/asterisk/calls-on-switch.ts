/**
 * What the switch holds of ours, read with GET /channels and GET /bridges (touching nothing): which channel is a
 * caller and which a buyer leg, the exchange call id each carries (CALLX_CALL_ID, from the snapshot's
 * `channelvars` when ari.conf lists it, else GET .../variable), and the calls in progress built from them.
 */
import type { ChannelCallIds } from '../channel-call-ids';
import type { CallInProgress } from '../port';
import { ariTime, type AriBridge, type AriChannel } from './ari-model';
import { isAriError, type AriRest } from './ari-rest';
import { CALL_ID_VAR } from './call-info';
import type { IdFactory } from './leg-context';

/** The Stasis app and args a channel is running, from its dialplan snapshot (`Stasis` / `callx,arg1,...`). */
export function stasisOf(ch: AriChannel): { app: string; args: string[] } | undefined {
  if (ch.dialplan?.app_name !== 'Stasis') return undefined;
  const [app = '', ...args] = ch.dialplan.app_data.split(',');
  return { app, args };
}

/**
 * `buyer`: a buyer leg we originated (Stasis args `buyer,<caller channel>`, or our buyer id prefix, also while it
 * still rings outside Stasis); `caller`: an inbound caller or a consumer we called, in our app; else not ours.
 */
export function legRole(ch: AriChannel, app: string, ids: IdFactory): 'caller' | 'buyer' | undefined {
  const stasis = stasisOf(ch);
  if (ids.isBuyerLeg(ch.id) || (stasis?.app === app && stasis.args[0] === 'buyer')) return 'buyer';
  if (stasis?.app === app) return 'caller';
  return undefined;
}

/** The caller channel a buyer leg was dialled for (its Stasis args `buyer,<caller channel id>`). */
export function callerOfBuyer(ch: AriChannel): string | undefined {
  const stasis = stasisOf(ch);
  return stasis?.args[0] === 'buyer' ? stasis.args[1] : undefined;
}

/**
 * CALLX_CALL_ID of each channel given ('' or absent: none). Channels gone meanwhile are left out. At most
 * `parallel` variable requests at once, so a node coming back to thousands of calls does not flood the switch.
 * Without `channelvars`, a channel `known` has an id for is not asked again, and what is learnt is noted there.
 */
export async function callIdsOf(rest: AriRest, channels: AriChannel[], parallel = 16, known?: ChannelCallIds): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const ask: AriChannel[] = [];
  for (const ch of channels) {
    const vars = ch.channelvars;
    const learnt = known?.get(ch.id);
    if (vars && CALL_ID_VAR in vars) {
      if (vars[CALL_ID_VAR]) ids.set(ch.id, vars[CALL_ID_VAR] as string);
    } else if (learnt) ids.set(ch.id, learnt);
    else ask.push(ch);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ask.length) {
      const ch = ask[next++] as AriChannel;
      try {
        const value = await rest.getVariable(ch.id, CALL_ID_VAR);
        if (value) {
          ids.set(ch.id, value);
          known?.remember(ch.id, value); // unset may still change: only an id is noted
        }
      } catch (err) {
        if (!isAriError(err, 'not_found', 'not_in_stasis')) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, ask.length) }, worker));
  return ids;
}

/** Where an adopted call's other side is: the bridge holding the caller and the buyer leg in it. */
export interface Placement {
  bridgeId: string;
  buyerId: string | undefined;
  bridgedAt?: Date;
  /** How many channels the bridge held when listed (a call's bridge: the caller and its buyer). */
  members: number;
}

/**
 * The bridge holding `channelId`, and the other channel in it. Its creation time stands for the bridge time
 * only if the bridge was made after the caller appeared (`callerSince`): a bridge reused from the pool
 * (bridge-pool.ts) served earlier calls, and its creation says nothing of this one (unknown caller: nothing).
 */
export function placementOf(channelId: string, bridges: AriBridge[], callerSince?: Date): Placement | undefined {
  const bridge = bridges.find((b) => b.channels.includes(channelId));
  if (!bridge) return undefined;
  const placement: Placement = { bridgeId: bridge.id, buyerId: bridge.channels.find((c) => c !== channelId), members: bridge.channels.length };
  const at = ariTime(bridge.creationtime);
  if (at && callerSince && at.getTime() >= callerSince.getTime()) placement.bridgedAt = at;
  return placement;
}

export interface SwitchCalls {
  calls: CallInProgress[];
  /** caller channel id -> where its buyer is (bridged calls only) */
  placements: Map<string, Placement>;
}

/**
 * Every caller leg in our app that carries a call id, ours or another node's; bridged when a buyer shares its
 * bridge. `known` keeps the ids asked for across sweeps (without ari.conf `channelvars`).
 */
export async function listCallsInProgress(rest: AriRest, app: string, ids: IdFactory, known?: ChannelCallIds): Promise<SwitchCalls> {
  const [channels, bridges] = await Promise.all([rest.listChannels(), rest.listBridges()]);
  const callers = channels.filter((ch) => legRole(ch, app, ids) === 'caller');
  const live = new Set(channels.map((c) => c.id));
  known?.keepOnly(live);
  const callIds = await callIdsOf(rest, callers, undefined, known);
  const calls: CallInProgress[] = [];
  const placements = new Map<string, Placement>();
  for (const ch of callers) {
    const callId = callIds.get(ch.id);
    if (!callId) continue;
    const placement = placementOf(ch.id, bridges, ariTime(ch.creationtime));
    const bridged = placement?.buyerId !== undefined && live.has(placement.buyerId);
    const call: CallInProgress = { callId, switchCallId: ch.id, bridged };
    if (placement) placements.set(ch.id, placement);
    if (bridged && placement?.bridgedAt) call.bridgedAt = placement.bridgedAt;
    calls.push(call);
  }
  return { calls, placements };
}
