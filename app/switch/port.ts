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

export interface SwitchAdapter {
  readonly name: string;
  /** Starts listening for calls; each answered/handed-over call goes to the handler. */
  start(onInboundCall: InboundCallHandler): Promise<void>;
  stop(): Promise<void>;
  /** For /ready and metrics: is the control connection to the switch up? */
  isConnected(): boolean;
  /**
   * Places a call to a consumer. When it is answered, the adapter hands the leg to the same inbound handler
   * with direction 'outbound' and the campaign id set. Optional: a switch without it cannot place calls.
   */
  originate?(req: OriginateRequest): Promise<OriginateResult>;
}
