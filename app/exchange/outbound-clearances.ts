import type { CallingHoursVerdict } from '../domain/calling-hours';

/** What was known and decided about a consumer call before it was dialled. */
export interface OutboundClearance {
  zip?: string;
  leadId?: string;
  /** The calling-hours verdict the call was dialled on (always allowed: a refused request is never dialled). */
  callingHours?: CallingHoursVerdict;
  /** When that verdict was reached. */
  screenedAt: Date;
}

/**
 * Calls this node is dialling, by call id, until the consumer's answered leg comes back through the switch and
 * the call flow takes its clearance. The switch hands an answered leg back to the node that placed it (the
 * FreeSWITCH originate names this node's socket; Asterisk's originate runs on this node's ARI connection), so a
 * process-local map is enough. An entry nobody takes (the consumer never answered, or the leg was lost) expires.
 */
export class OutboundClearances {
  private readonly byCallId = new Map<string, { clearance: OutboundClearance; timer: NodeJS.Timeout }>();

  grant(callId: string, clearance: OutboundClearance, ttlMs: number): void {
    this.forget(callId);
    const timer = setTimeout(() => this.byCallId.delete(callId), ttlMs);
    timer.unref();
    this.byCallId.set(callId, { clearance, timer });
  }

  /** The clearance of a call being answered, once: a second leg with the same id gets nothing. */
  take(callId: string): OutboundClearance | undefined {
    const e = this.byCallId.get(callId);
    if (!e) return undefined;
    this.forget(callId);
    return e.clearance;
  }

  forget(callId: string): void {
    const e = this.byCallId.get(callId);
    if (!e) return;
    clearTimeout(e.timer);
    this.byCallId.delete(callId);
  }

  get size(): number {
    return this.byCallId.size;
  }
}
