import type { CallLogger } from '../observability/logger';
import type { LegEnd } from '../switch/port';
import type { CapLedger } from '../cache/cap-ledger';
import type { LiveCall, LiveCallsRegistry } from '../cache/live-calls-registry';
import type { CallIdentity } from './call-journal';
import type { CallEnding } from './call-ending';
import { LEFT, type Left } from './running-calls';

/** The funds module's hold release (FundHolds.release), for a lost node's call that never bridged. */
export interface FundHoldRelease {
  release(callId: string, buyerAccountId: string): Promise<void>;
}

export interface AdoptionDeps {
  caps: CapLedger;
  ending: CallEnding;
  registry?: LiveCallsRegistry;
  fundHolds?: FundHoldRelease;
  clock: () => Date;
}

/** How a bridged call's end reads in the record. */
export function endReasonOf(end: LegEnd): string {
  return end.hungUpBy === 'buyer' ? 'buyer_hangup' : end.hungUpBy === 'caller' ? 'caller_hangup' : 'hangup';
}

export function identityOf(call: LiveCall): CallIdentity {
  return { callId: call.callId, direction: call.direction, ani: call.ani, dnis: call.dnis, startedAt: call.startedAt, switchName: call.switchName, switchCallId: call.switchCallId };
}

/**
 * An adopted bridged call, from adoption to its real end: the end and duration the switch reports are recorded
 * (billed once: billing is keyed by call id, and settles the call's fund hold with its charge), then its
 * concurrency slot is given back and its registry entry removed. Let go again at stop (LEFT), it records nothing and keeps all of that for the next adopter.
 */
export async function finishAdoptedCall(deps: AdoptionDeps, call: LiveCall, ended: Promise<LegEnd | Left>, log: CallLogger): Promise<void> {
  const end = await ended;
  if (end === LEFT) {
    log.info('adopted call left on the switch at stop; the next node adopts it');
    return;
  }
  const bridgedAt = end.bridgedAt ?? (call.bridgedAt ? new Date(call.bridgedAt) : undefined);
  await deps.ending.recordEnd(identityOf(call), { ...end, bridgedAt }, log, {
    outcome: 'bridged',
    endReason: endReasonOf(end),
    winner: call.winner,
    sellerAccountId: call.sellerAccountId,
  });
  await releaseWhatItHeld(deps, call, 'bridged', log);
  deps.registry?.remove(call.callId);
  log.info({ cause: end.cause, hungUpBy: end.hungUpBy }, 'adopted call ended');
}

/**
 * A lost node's call with nothing left to adopt: gone from the switch (its real end is unknown: the record keeps
 * its bridge time, bills nothing) or, still in setup, handed to the switch's fallback. Recorded as `node_lost`,
 * its slots and hold given back, its entry removed.
 */
export async function closeLostCall(deps: AdoptionDeps, call: LiveCall, how: 'gone' | 'released', log: CallLogger): Promise<void> {
  const bridged = call.state === 'bridged';
  const end: LegEnd = {
    endedAt: deps.clock(),
    cause: 'NORMAL_TEMPORARY_FAILURE',
    hungUpBy: how === 'released' ? 'system' : 'unknown',
    bridgedAt: bridged && call.bridgedAt ? new Date(call.bridgedAt) : undefined,
  };
  await deps.ending.recordEnd(identityOf(call), end, log, {
    outcome: 'node_lost',
    endReason: 'node_lost',
    winner: bridged ? call.winner : undefined,
    sellerAccountId: call.sellerAccountId,
    endUnknown: true,
  });
  await releaseWhatItHeld(deps, call, call.state, log);
  deps.registry?.remove(call.callId);
  log.warn({ how, state: call.state }, how === 'gone' ? 'call of a lost node is gone from the switch; closed as node_lost' : 'call of a lost node was still in setup; handed to the fallback and closed as node_lost');
}

/**
 * A bridged call counted toward its buyer's period caps: only its concurrency slot comes back, and its fund hold
 * stays for billing to settle with the charge (as for any bridged call). A call that never bridged gives back
 * everything its reservation took, its fund hold included.
 */
async function releaseWhatItHeld(deps: AdoptionDeps, call: LiveCall, state: LiveCall['state'], log: CallLogger): Promise<void> {
  const release = state === 'bridged' ? deps.caps.endCall(call.callId, call.counters) : deps.caps.release(call.callId, call.counters);
  await release.catch((err: Error) => log.error({ err: err.message }, 'failed to release the cap reservation of a call of a lost node'));
  if (state !== 'bridged' && call.winner && deps.fundHolds) {
    await deps.fundHolds.release(call.callId, call.winner.buyerAccountId).catch((err: Error) => log.error({ err: err.message, buyerAccountId: call.winner?.buyerAccountId }, 'failed to release the fund hold of a call of a lost node'));
  }
}
