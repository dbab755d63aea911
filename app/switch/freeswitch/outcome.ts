/**
 * Reading results off FreeSWITCH events: the outcome of a bridge attempt (from the bridge's
 * CHANNEL_EXECUTE_COMPLETE: variable_originate_disposition) and who ended the call.
 */
import type { BridgeOutcome, HangupCause, LegEnd } from '../port';
import type { EslHeaders } from './headers';

const NO_ANSWER_CAUSES = new Set([
  'NO_ANSWER',
  'NO_USER_RESPONSE',
  'ALLOTTED_TIMEOUT',
  'PROGRESS_TIMEOUT',
  'RECOVERY_ON_TIMER_EXPIRE',
  'MEDIA_TIMEOUT',
]);

/** Maps a failed originate cause to the port's attempt status. */
export function failureStatus(cause: string): 'busy' | 'no_answer' | 'failed' {
  if (cause === 'USER_BUSY') return 'busy';
  if (NO_ANSWER_CAUSES.has(cause)) return 'no_answer';
  return 'failed';
}

/**
 * The cause FreeSWITCH gives a bridge whose B-leg it could not create or send: the throttle (`Throttle Error!`),
 * max-sessions (`Over Session Limit!`) and sofia's own local failures all end the originate with
 * DESTINATION_OUT_OF_ORDER and DIALSTATUS INVALIDARGS before any SIP leaves (recording I). No SIP response from a
 * buyer maps to it, so it is never the buyer's failure.
 */
const SWITCH_REFUSED = 'DESTINATION_OUT_OF_ORDER';

/** Causes meaning the caller went away while the bridge was being set up. */
const CALLER_GONE = new Set(['ORIGINATOR_CANCEL', 'LOSE_RACE']);

/**
 * The outcome of a bridge that ended before CHANNEL_BRIDGE was seen, from its CHANNEL_EXECUTE_COMPLETE.
 * `callerDown` is true when the caller leg had already hung up.
 */
export function outcomeFromBridgeComplete(h: EslHeaders, callerDown: boolean): BridgeOutcome {
  const disposition = h.variable('originate_disposition') ?? h.variable('originate_failed_cause') ?? h.variable('DIALSTATUS');
  const answerState = h.get('Answer-State');
  if (disposition === 'SUCCESS') {
    return { status: 'bridged', answeredAt: h.micros('variable_bridge_uepoch') ?? h.micros('Caller-Channel-Bridged-Time') ?? h.eventTime() };
  }
  if (callerDown || answerState === 'hangup' || (disposition !== undefined && CALLER_GONE.has(disposition))) {
    return { status: 'caller_gone', cause: h.get('Hangup-Cause') ?? disposition ?? 'NORMAL_CLEARING' };
  }
  const cause: HangupCause = disposition ?? 'NORMAL_TEMPORARY_FAILURE';
  if (cause === SWITCH_REFUSED) {
    // The switch refused to create the buyer leg (fact 13): nothing reached the buyer.
    return { status: 'switch_fault', cause, detail: `the switch refused the buyer leg (DIALSTATUS ${h.variable('DIALSTATUS') ?? 'unknown'}): its session limits (sessions-per-second, max-sessions) or its configuration` };
  }
  const detail = h.variable('last_bridge_proto_specific_hangup_cause') ?? h.variable('sip_hangup_phrase');
  const outcome: BridgeOutcome = { status: failureStatus(cause), cause };
  if (detail) outcome.detail = detail;
  return outcome;
}

export interface HangupFacts {
  /** We asked for this hangup (hangup() or playAndHangup()). */
  requestedByUs: boolean;
  /** A buyer was bridged at some point. */
  wasBridged: boolean;
  /** CHANNEL_UNBRIDGE arrived before the caller's CHANNEL_HANGUP: the buyer side ended the bridge. */
  unbridgedFirst: boolean;
  /** variable_sip_hangup_disposition: recv_bye/recv_cancel/recv_refuse (the caller's side) or send_*. */
  sipDisposition: string | undefined;
}

export function hungUpBy(f: HangupFacts): LegEnd['hungUpBy'] {
  if (f.requestedByUs) return 'system';
  if (f.sipDisposition?.startsWith('recv_')) return 'caller';
  if (f.wasBridged && f.unbridgedFirst) return 'buyer';
  if (f.sipDisposition?.startsWith('send_')) return 'system';
  return 'unknown';
}
