/**
 * Hangup causes: Asterisk reports Q.850 numbers (ChannelDestroyed.cause, ChannelHangupRequest.cause); the port
 * speaks FreeSWITCH-style names; ARI's DELETE /channels takes a `reason` word.
 */
import type { BridgeOutcome, HangupCause } from '../port';

const NAMES: Record<number, HangupCause> = {
  1: 'UNALLOCATED_NUMBER',
  2: 'NO_ROUTE_TRANSIT_NET',
  3: 'NO_ROUTE_DESTINATION',
  16: 'NORMAL_CLEARING',
  17: 'USER_BUSY',
  18: 'NO_USER_RESPONSE',
  19: 'NO_ANSWER',
  20: 'SUBSCRIBER_ABSENT',
  21: 'CALL_REJECTED',
  22: 'NUMBER_CHANGED',
  26: 'ANSWERED_ELSEWHERE',
  27: 'DESTINATION_OUT_OF_ORDER',
  28: 'INVALID_NUMBER_FORMAT',
  29: 'FACILITY_REJECTED',
  31: 'NORMAL_UNSPECIFIED',
  34: 'NORMAL_CIRCUIT_CONGESTION',
  38: 'NETWORK_OUT_OF_ORDER',
  41: 'NORMAL_TEMPORARY_FAILURE',
  42: 'SWITCH_CONGESTION',
  47: 'RESOURCE_UNAVAILABLE',
  58: 'BEARERCAPABILITY_NOTAVAIL',
  63: 'SERVICE_UNAVAILABLE',
  66: 'CHAN_NOT_IMPLEMENTED',
  88: 'INCOMPATIBLE_DESTINATION',
  102: 'RECOVERY_ON_TIMER_EXPIRE',
  127: 'INTERWORKING',
};

/** The port's name for a Q.850 cause (undefined or 0: unknown). */
export function causeName(code: number | undefined, fallback: HangupCause = 'NORMAL_CLEARING'): HangupCause {
  if (code === undefined || code === 0) return fallback;
  return NAMES[code] ?? `Q850_${code}`;
}

/** A failed buyer leg's status: 17 busy; 18/19 no answer; anything else failed. */
export function attemptStatus(code: number | undefined): Extract<BridgeOutcome, { status: 'busy' | 'no_answer' | 'failed' }>['status'] {
  if (code === 17) return 'busy';
  if (code === 18 || code === 19) return 'no_answer';
  return 'failed';
}

const CODES: Record<string, number> = Object.fromEntries(Object.entries(NAMES).map(([code, name]) => [name, Number(code)]));

/** The Q.850 number of a port cause, for DELETE /channels `reason_code` (Asterisk 20.7+, 21.2+, 22). */
export function causeCode(cause: HangupCause): number | undefined {
  return CODES[cause];
}

/** ARI hangup `reason` for a cause without a Q.850 number (the closest of the words ARI knows). */
const REASONS: Record<string, string> = {
  NORMAL_CLEARING: 'normal',
  USER_BUSY: 'busy',
  NO_ANSWER: 'no_answer',
  NO_USER_RESPONSE: 'timeout',
  CALL_REJECTED: 'rejected',
  UNALLOCATED_NUMBER: 'unallocated',
  NO_ROUTE_DESTINATION: 'unallocated',
  INVALID_NUMBER_FORMAT: 'number_incomplete',
  NORMAL_UNSPECIFIED: 'normal_unspecified',
  NORMAL_TEMPORARY_FAILURE: 'congestion',
  NORMAL_CIRCUIT_CONGESTION: 'congestion',
  SWITCH_CONGESTION: 'congestion',
  SERVICE_UNAVAILABLE: 'congestion',
  RECOVERY_ON_TIMER_EXPIRE: 'timeout',
  DESTINATION_OUT_OF_ORDER: 'failure',
  NETWORK_OUT_OF_ORDER: 'failure',
  BEARERCAPABILITY_NOTAVAIL: 'codec_mismatch',
  ANSWERED_ELSEWHERE: 'answered_elsewhere',
  INTERWORKING: 'interworking',
  ORIGINATOR_CANCEL: 'normal',
};

export function hangupReason(cause: HangupCause): string {
  return REASONS[cause] ?? 'normal';
}

/** The cause of a caller's own hangup: a CANCEL before answer arrives as 127 with SIP 487. */
export function callerHangupCause(code: number | undefined, techCause: number | undefined): HangupCause {
  if (code === 127 && techCause === 487) return 'ORIGINATOR_CANCEL';
  return causeName(code);
}
