/**
 * Q.850 hangup causes as Asterisk names them in ChannelDestroyed.cause_txt, and the `reason` values of
 * `DELETE /channels/{id}` (res_ari_channels) with the cause each one sets.
 */

const CAUSE_TEXT: Record<number, string> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  3: 'No route to destination',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  27: 'Destination out of order',
  28: 'Invalid number format',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  41: 'Temporary failure',
  42: 'Switching equipment congestion',
  58: 'Bearer capability not available',
  102: 'Recovery on timer expiry',
  127: 'Interworking, unspecified',
};

export function causeText(cause: number): string {
  return CAUSE_TEXT[cause] ?? 'Unknown';
}

export const HANGUP_REASONS: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

/** The Dial event's final `dialstatus` for a far end that failed with `cause`. */
export function dialStatusFor(cause: number): string {
  if (cause === 17) return 'BUSY';
  if (cause === 18 || cause === 19) return 'NOANSWER';
  if (cause === 34 || cause === 42 || cause === 41) return 'CONGESTION';
  return 'CHANUNAVAIL';
}

/** The SIP response a far end sends for a cause (tech_cause in the events). */
export function sipCodeFor(cause: number): number | undefined {
  const map: Record<number, number> = { 1: 404, 3: 404, 17: 486, 19: 480, 21: 603, 27: 502, 34: 503, 38: 500, 41: 503, 42: 503 };
  return map[cause];
}

/**
 * The final response chan_pjsip sends an unanswered caller that the app hangs up with a Q.850 cause
 * (hangup_cause2sip). Recorded on Asterisk 22.10.1 (fact 16): 17 -> 486, 21 -> 403, 34 -> 503, 1 -> 404; a cause
 * with no entry (16 normal, 41 temporary failure, none) gets pjsip's default 603 Decline.
 */
const REJECT_RESPONSE: Record<number, number> = {
  1: 404,
  2: 404,
  3: 404,
  17: 486,
  18: 408,
  19: 480,
  20: 480,
  21: 403,
  22: 410,
  27: 502,
  28: 484,
  29: 501,
  31: 480,
  34: 503,
  38: 500,
  42: 503,
  58: 488,
  66: 503,
  127: 500,
};

export function rejectResponseFor(cause: number): number {
  return REJECT_RESPONSE[cause] ?? 603;
}
