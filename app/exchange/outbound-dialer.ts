import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import type { CallInfo, HangupCause, SwitchAdapter } from '../switch/port';
import type { CallJournal, CallIdentity } from './call-journal';
import type { Router } from './router';
import type { SnapshotSource } from './snapshot-source';
import type { DecisionTrace } from './trace';
import type { OutboundClearances } from './outbound-clearances';

export interface OutboundRequest {
  campaignId: string;
  /** the consumer's number, E.164 */
  to: string;
  zip?: string;
  leadId?: string;
  answerTimeoutSec?: number;
}

export type OutboundResult =
  | { status: 'blocked'; callId: string; reason: string; reasons: string[]; detail?: string }
  | { status: 'answered'; callId: string }
  | { status: 'failed'; callId: string; cause: HangupCause; detail?: string };

/** How long past the answer timeout an answered leg may take to reach the call flow before its clearance lapses. */
const CLEARANCE_MARGIN_SEC = 30;

/**
 * Calls the exchange places to consumers (callbacks, lead transfers). The request is screened exactly as an
 * inbound call is (same router code: DNC, consent, attestation, plus calling hours in the consumer's zone);
 * a blocked request never reaches the switch. Once the consumer answers, the adapter hands the leg to the
 * call flow, which runs the same auction and bridge path as for an inbound call; the call flow takes the
 * request's clearance (its zip, lead id and calling-hours verdict) from `clearances`, so the decision made
 * before dialling stands for the answered call.
 */
export class OutboundDialer {
  constructor(
    private readonly deps: {
      router: Router;
      snapshots: SnapshotSource;
      journal: CallJournal;
      switches: () => readonly SwitchAdapter[];
      /** Shared with the call flow, which takes a call's clearance when its answered leg comes back. */
      clearances: OutboundClearances;
      logger: Logger;
      clock?: () => Date;
    },
  ) {}

  /**
   * Screens the request and, if it passes, starts dialing. Resolves `blocked` at once, or `dialing` with a
   * promise of the switch's answer, so an API can reply before the consumer picks up.
   */
  async request(req: OutboundRequest): Promise<{ status: 'blocked'; result: Extract<OutboundResult, { status: 'blocked' }> } | { status: 'dialing'; callId: string; done: Promise<OutboundResult> }> {
    const now = this.deps.clock?.() ?? new Date();
    const callId = randomUUID();
    const callerId = this.callerIdFor(req.campaignId);
    const sw = this.deps.switches().find((s) => s.originate && s.isConnected());
    const info: CallInfo = {
      switchCallId: '',
      switchName: sw?.name ?? 'none',
      ani: req.to,
      dnis: callerId ?? '',
      direction: 'outbound',
      campaignId: req.campaignId,
      callId,
      zip: req.zip,
      leadId: req.leadId,
    };
    const identity: CallIdentity = { callId, direction: 'outbound', ani: req.to, dnis: info.dnis, startedAt: now.toISOString(), switchName: info.switchName, switchCallId: '' };
    const log = this.deps.logger.child({ callId, campaignId: req.campaignId });

    const screened = await this.deps.router.screenRequest(callId, info, now);
    if (screened.outcome === 'reject') {
      const reasons = screened.trace.screening?.reasons ?? [];
      log.info({ reason: screened.reason, reasons }, 'outbound call request blocked');
      await this.record(identity, now, { outcome: 'rejected', rejectReason: screened.reason, trace: screened.trace, campaignId: req.campaignId });
      return { status: 'blocked', result: { status: 'blocked', callId, reason: screened.reason, reasons, detail: screened.trace.rejectDetail } };
    }
    const answerTimeoutSec = req.answerTimeoutSec ?? 30;
    const done = (async (): Promise<OutboundResult> => {
      if (!callerId || !sw?.originate) {
        // Nothing was dialled: the request does not count against the consumer's frequency limits.
        await this.deps.router.uncountOutbound(callId, screened.campaign, req.to).catch((err: Error) => log.warn({ err: err.message }, 'could not take back the frequency count of a call never dialled'));
        if (!callerId) return this.fail(identity, now, screened.trace, req.campaignId, 'NO_ROUTE_DESTINATION', 'campaign has no tracking number to present as caller id');
        return this.fail(identity, now, screened.trace, req.campaignId, 'SERVICE_UNAVAILABLE', 'no connected switch can place calls');
      }
      // Granted before the switch is asked: the answered leg can reach the call flow before originate resolves.
      this.deps.clearances.grant(callId, { zip: req.zip, leadId: req.leadId, callingHours: screened.outcome === 'pass' ? screened.callingHours : undefined, screenedAt: now }, (answerTimeoutSec + CLEARANCE_MARGIN_SEC) * 1000);
      try {
        const result = await sw.originate({ to: req.to, callerIdNumber: callerId, answerTimeoutSec, callId, campaignId: req.campaignId, zip: req.zip, leadId: req.leadId });
        if (result.status === 'answered') {
          log.info('consumer answered; the call enters the auction');
          return { status: 'answered', callId };
        }
        log.info({ cause: result.cause }, 'consumer call not answered');
        this.deps.clearances.forget(callId);
        return this.fail(identity, now, screened.trace, req.campaignId, result.cause, result.detail);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'originate failed');
        this.deps.clearances.forget(callId);
        return this.fail(identity, now, screened.trace, req.campaignId, 'NORMAL_TEMPORARY_FAILURE', (err as Error).message);
      }
    })();
    return { status: 'dialing', callId, done };
  }

  /** The campaign's first tracking number is what the consumer sees calling. */
  private callerIdFor(campaignId: string): string | undefined {
    for (const tn of this.deps.snapshots.current().trackingNumbers.values()) if (tn.campaignId === campaignId) return tn.did;
    return undefined;
  }

  private async fail(identity: CallIdentity, now: Date, trace: DecisionTrace, campaignId: string, cause: HangupCause, detail?: string): Promise<OutboundResult> {
    await this.record(identity, now, { outcome: 'consumer_unreachable', trace, campaignId, cause });
    return { status: 'failed', callId: identity.callId, cause, detail };
  }

  /** A request that never became a call still leaves a call row, its screening trace and audit entry. */
  private async record(identity: CallIdentity, now: Date, r: { outcome: string; rejectReason?: string; trace: DecisionTrace; campaignId: string; cause?: string }): Promise<void> {
    const screening = r.trace.screening;
    const at = now.toISOString();
    await this.deps.journal.append({
      ...identity,
      type: 'decided',
      campaignId: r.campaignId,
      outcome: 'rejected',
      rejectReason: r.rejectReason,
      decidedAt: at,
      trace: r.trace,
      audit: screening ? { decision: screening.pass ? 'pass' : 'block', reasons: screening.checks, checkedAt: at } : undefined,
    });
    await this.deps.journal.append({
      ...identity,
      type: 'ended',
      outcome: r.outcome,
      rejectReason: r.rejectReason,
      endReason: r.rejectReason ? `rejected:${r.rejectReason}` : 'consumer_unreachable',
      endedAt: (this.deps.clock?.() ?? new Date()).toISOString(),
      hangupCause: r.cause ?? 'CALL_REJECTED',
      hungUpBy: 'system',
      durationSec: 0,
      billableSec: 0,
    });
  }
}
