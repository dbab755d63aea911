/**
 * The switch port: the only thing the call pipeline (app/exchange) knows about a switch.
 * FreeSWITCH (ESL), Asterisk (ARI) and a drachtio B2BUA each implement it in app/switch/<name>/.
 * No ESL or ARI type may appear here.
 */

/** Q.850-style hangup causes, named as FreeSWITCH names them; adapters map to and from their switch. */
export type HangupCause =
  | 'NORMAL_CLEARING'
  | 'USER_BUSY'
  | 'NO_ANSWER'
  | 'NO_USER_RESPONSE'
  | 'CALL_REJECTED'
  | 'ORIGINATOR_CANCEL'
  | 'NORMAL_TEMPORARY_FAILURE'
  | 'UNALLOCATED_NUMBER'
  | 'SERVICE_UNAVAILABLE'
  | 'DESTINATION_OUT_OF_ORDER'
  | 'RECOVERY_ON_TIMER_EXPIRE'
  | 'NO_ROUTE_DESTINATION'
  | (string & {});

/** What the switch tells us about a call when it hands it over. */
export interface CallInfo {
  /** The switch's id for the caller leg (FreeSWITCH Unique-ID, Asterisk channel id). */
  switchCallId: string;
  /** Which switch adapter delivered it, e.g. "freeswitch" or "asterisk". */
  switchName: string;
  /**
   * The consumer's number as received; may be "anonymous", empty or malformed: screening judges it.
   * Inbound: the caller (ANI). Outbound: the consumer we called.
   */
  ani: string;
  /** Inbound: the dialled tracking number (DNIS) as received. Outbound: the caller id we presented. */
  dnis: string;
  /** inbound: a consumer called a tracking number; outbound: the exchange called the consumer. */
  direction: 'inbound' | 'outbound';
  /** STIR/SHAKEN attestation if the carrier passed one (verstat or an attestation header). */
  attestation?: 'A' | 'B' | 'C';
  /**
   * Where the adapter read `attestation`: the switch's own verification ('switch'), a carrier's verstat in
   * P-Asserted-Identity/From ('verstat'), or a bare header such as X-Attestation ('header': believed only from a
   * trusted carrier trunk, see app/domain/attestation.ts). Absent with a level: treated as 'header'.
   */
  attestationSource?: 'switch' | 'verstat' | 'header';
  /** Who handed the call to the switch: its source address and the trunk (SIP profile, PJSIP endpoint) it came in on. */
  carrier?: { address?: string; trunk?: string };
  /** Optional zip supplied by the carrier, IVR or lead. */
  zip?: string;
  /** Optional lead id (consent lookups). */
  leadId?: string;
  /** For outbound calls: the campaign the call was placed for (inbound calls find it from the DNIS). */
  campaignId?: string;
  /** For outbound calls: our call id, given at originate and handed back by the adapter with the leg. */
  callId?: string;
  /** Any other SIP headers / channel variables worth keeping in the trace. */
  extra?: Record<string, string>;
}

/** Where to send a buyer leg. */
export interface Destination {
  /** A SIP URI (sip:user@host[:port]) or an E.164 number sent through the configured buyer gateway. */
  uri: string;
}

export interface BridgeOptions {
  /** Seconds to wait for the buyer to answer before giving up on this attempt. */
  answerTimeoutSec: number;
  /** Caller id presented to the buyer (normally the consumer's ANI). */
  callerIdNumber: string;
  /** Opaque tag for logs and variables on the buyer leg (our call id, target id). */
  tags?: Record<string, string>;
}

/**
 * The outcome of one bridge attempt.
 * `bridged`: the buyer answered and media flows; the call continues until one side hangs up ('ended').
 * Anything else: this buyer failed and the caller is still up (unless `caller_gone`), so failover may go on.
 */
export type BridgeOutcome =
  | { status: 'bridged'; answeredAt: Date }
  | { status: 'busy' | 'no_answer' | 'failed'; cause: HangupCause; detail?: string }
  /**
   * The switch itself refused the buyer leg before any SIP reached the buyer (its own session limits or
   * throttle: FreeSWITCH `Throttle Error!` -> DESTINATION_OUT_OF_ORDER with DIALSTATUS INVALIDARGS; Asterisk
   * originate 500 "Allocation failed" when the switch is out of channels). Not the buyer's fault: it is not
   * charged to the buyer and the flow does not walk the rest of the ladder into the same wall.
   */
  | { status: 'switch_fault'; cause: HangupCause; detail?: string }
  | { status: 'caller_gone'; cause: HangupCause };

export interface LegEnd {
  endedAt: Date;
  cause: HangupCause;
  /** Who ended the call, when the switch tells: the consumer, the buyer, or us. */
  hungUpBy: 'caller' | 'buyer' | 'system' | 'unknown';
  /** When the caller leg was answered (our answer or the bridge), if it was. */
  answeredAt?: Date;
  /** When the buyer leg was bridged, if it was. */
  bridgedAt?: Date;
}

/** One call's caller leg, as the pipeline drives it. Every method must settle (no promise waits forever). */
export interface CallLeg {
  readonly id: string;
  /** True once the leg has ended (caller hung up, switch gone, or we hung up). */
  readonly ended: boolean;
  answer(): Promise<void>;
  bridge(to: Destination, opts: BridgeOptions): Promise<BridgeOutcome>;
  /** Plays a prompt (adapter maps the name to a sound file) then hangs up with the cause. */
  playAndHangup(prompt: string, cause: HangupCause): Promise<void>;
  hangup(cause: HangupCause): Promise<void>;
  /** Fires once when the caller leg is gone. */
  onEnded(listener: (end: LegEnd) => void): void;
}

export type InboundCallHandler = (leg: CallLeg, info: CallInfo) => void;

/** An originate request for a call the exchange places to a consumer. */
export interface OriginateRequest {
  /** Consumer number, E.164. */
  to: string;
  /** Caller id shown to the consumer (a tracking number of the campaign). */
  callerIdNumber: string;
  answerTimeoutSec: number;
  /** Our id for the call, so the adapter can tag the leg and hand it back to the handler. */
  callId: string;
  campaignId: string;
}

export type OriginateResult = { status: 'answered' } | { status: 'failed'; cause: HangupCause; detail?: string };

/**
 * A call in progress on the switch that carries an exchange call id (channel variable `callx_call_id` on
 * FreeSWITCH, `CALLX_CALL_ID` on Asterisk), whichever node set it up: this one, this one before a restart, or
 * another. Listing it touches nothing.
 */
export interface CallInProgress {
  callId: string;
  /** the caller leg (FreeSWITCH Unique-ID, Asterisk channel id) */
  switchCallId: string;
  /** true when the caller is bridged to a buyer leg */
  bridged: boolean;
  /** as the switch tells, when it does */
  answeredAt?: Date;
  bridgedAt?: Date;
}

export interface SwitchAdapter {
  readonly name: string;
  /** Starts listening for calls; each answered/handed-over call goes to the handler. */
  start(onInboundCall: InboundCallHandler): Promise<void>;
  /**
   * Graceful stop. New calls are refused at once (the dialplan falls back). Calls in progress go on with their
   * events for a bounded drain; then calls still in setup are handed to the switch's fallback on purpose, and
   * bridged calls are LEFT ON THE SWITCH untouched: never hung up, and their legs never report an end that
   * did not happen (their onEnded does not fire after stop). Another node, or this one restarted, adopts them.
   */
  stop(): Promise<void>;
  /**
   * Every call in progress on the switch that carries an exchange call id (see CallInProgress), ours or not.
   * Rejects when the switch cannot be asked (then nothing may be concluded from the absence of a call).
   */
  callsInProgress?(): Promise<CallInProgress[]>;
  /**
   * Takes over a bridged call found by callsInProgress: the returned leg reports the call's real end (caller or
   * buyer hangup, with the switch's cause and time) through onEnded, and cleans up what the switch needs
   * cleaned after it (Asterisk: the other leg and the bridge). The buyer leg is never touched while the call
   * talks. Resolves undefined when the call is already gone.
   */
  adopt?(call: CallInProgress): Promise<CallLeg | undefined>;
  /**
   * Hands an unbridged call found with a dead owner to the switch's fallback (Asterisk: continue in the
   * dialplan; FreeSWITCH: nothing to do, `socket_resume` already did). Never hangs up a bridged call.
   */
  releaseToFallback?(call: CallInProgress): Promise<void>;
  /** For /ready and metrics: is the control connection to the switch up? */
  isConnected(): boolean;
  /**
   * Places a call to a consumer. When it is answered, the adapter hands the leg to the same inbound handler
   * with direction 'outbound' and the campaign id set. Optional: a switch without it cannot place calls.
   */
  originate?(req: OriginateRequest): Promise<OriginateResult>;
}
