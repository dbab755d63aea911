/**
 * A simulated FreeSWITCH channel: its caller profile, state and variables, and the header lists FreeSWITCH builds
 * from them (switch_channel_event_set_data / switch_caller_profile_event_set_data), in the order seen in the
 * recorded 1.10.12 sessions.
 */
import { randomUUID } from 'node:crypto';
import { jsonMembers, plainLines, plainTail, putPlainLines, putVariables, type Header } from './wire';

/**
 * An event split in three: headers before the variables, the channel whose variables follow (serialized once
 * per change and reused), and headers after them.
 */
export interface EventParts {
  head: Header[];
  /** The channel whose caller-profile block (and, with `withVars`, variables) follow the head. */
  channel: PeerChannel | undefined;
  withVars: boolean;
  tail: Header[];
}

/** Identity of the simulated switch, as it appears at the top of every event. */
export interface SwitchIdentity {
  coreUuid: string;
  hostname: string;
  ipv4: string;
  ipv6: string;
}

export const defaultIdentity = (): SwitchIdentity => ({
  coreUuid: randomUUID(),
  hostname: 'fs1',
  ipv4: '127.0.0.1',
  ipv6: '::1',
});

/** Where an event was raised in the FreeSWITCH sources (Event-Calling-File/Function/Line-Number). */
const ORIGIN: Record<string, readonly [string, string, string]> = {
  CHANNEL_DATA: ['mod_event_socket.c', 'parse_command', '2021'],
  CHANNEL_EXECUTE: ['switch_core_session.c', 'switch_core_session_exec', '2944'],
  CHANNEL_EXECUTE_COMPLETE: ['switch_core_session.c', 'switch_core_session_exec', '2967'],
  CHANNEL_ANSWER: ['switch_channel.c', 'switch_channel_perform_mark_answered', '3846'],
  CHANNEL_PROGRESS: ['switch_channel.c', 'switch_channel_perform_mark_ring_ready_value', '3505'],
  CHANNEL_BRIDGE: ['switch_ivr_bridge.c', 'switch_ivr_multi_threaded_bridge', '1689'],
  CHANNEL_UNBRIDGE: ['switch_ivr_bridge.c', 'switch_ivr_multi_threaded_bridge', '1879'],
  CHANNEL_HANGUP: ['switch_channel.c', 'switch_channel_perform_hangup', '3445'],
  CHANNEL_HANGUP_COMPLETE: ['switch_core_state_machine.c', 'switch_core_session_reporting_state', '943'],
  CHANNEL_UNPARK: ['switch_ivr.c', 'switch_ivr_park', '1213'],
  CHANNEL_PARK: ['switch_ivr.c', 'switch_ivr_park', '1006'],
  CHANNEL_STATE: ['switch_channel.c', 'switch_channel_perform_set_running_state', '2408'],
  CHANNEL_CALLSTATE: ['switch_channel.c', 'switch_channel_perform_set_callstate', '301'],
  CHANNEL_OUTGOING: ['switch_core_session.c', 'switch_core_session_outgoing_channel', '768'],
  CHANNEL_CREATE: ['switch_core_state_machine.c', 'switch_core_session_run', '626'],
  CHANNEL_ORIGINATE: ['switch_core_state_machine.c', 'switch_core_session_run', '632'],
  CHANNEL_DESTROY: ['switch_core_session.c', 'switch_core_session_perform_destroy', '1770'],
  BACKGROUND_JOB: ['mod_event_socket.c', 'api_exec', '1572'],
};

/** Channel states and their numbers (switch_channel_state_t). */
export const STATE_NUMBER: Record<string, number> = {
  CS_NEW: 0,
  CS_INIT: 1,
  CS_ROUTING: 2,
  CS_SOFT_EXECUTE: 3,
  CS_EXECUTE: 4,
  CS_EXCHANGE_MEDIA: 5,
  CS_PARK: 6,
  CS_CONSUME_MEDIA: 7,
  CS_HIBERNATE: 8,
  CS_RESET: 9,
  CS_HANGUP: 10,
  CS_REPORTING: 11,
  CS_DESTROY: 12,
  CS_NONE: 13,
};

/** Q.850 numbers of the causes the peer produces (switch_call_cause_t). */
export const Q850: Record<string, number> = {
  NONE: 0,
  UNALLOCATED_NUMBER: 1,
  NO_ROUTE_DESTINATION: 3,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  DESTINATION_OUT_OF_ORDER: 27,
  INVALID_NUMBER_FORMAT: 28,
  NORMAL_UNSPECIFIED: 31,
  NORMAL_CIRCUIT_CONGESTION: 34,
  NETWORK_OUT_OF_ORDER: 38,
  NORMAL_TEMPORARY_FAILURE: 41,
  SERVICE_UNAVAILABLE: 63,
  RECOVERY_ON_TIMER_EXPIRE: 102,
  ORIGINATOR_CANCEL: 487,
  ALLOTTED_TIMEOUT: 602,
  LOSE_RACE: 502,
};

/** SIP final responses that produce each cause (sofia's hangup_cause_to_sip, reversed for the peer). */
export const SIP_STATUS_FOR_CAUSE: Record<string, [number, string]> = {
  USER_BUSY: [486, 'Busy Here'],
  UNALLOCATED_NUMBER: [404, 'Not Found'],
  NO_ROUTE_DESTINATION: [404, 'Not Found'],
  CALL_REJECTED: [603, 'Decline'],
  NORMAL_TEMPORARY_FAILURE: [503, 'Service Unavailable'],
  SERVICE_UNAVAILABLE: [503, 'Service Unavailable'],
  DESTINATION_OUT_OF_ORDER: [502, 'Bad Gateway'],
  NORMAL_CIRCUIT_CONGESTION: [503, 'Service Unavailable'],
  INVALID_NUMBER_FORMAT: [484, 'Address Incomplete'],
  NO_USER_RESPONSE: [408, 'Request Timeout'],
  RECOVERY_ON_TIMER_EXPIRE: [408, 'Request Timeout'],
};

/** mod_sofia's hangup_cause_to_sip: the final response an unanswered inbound leg gets for its hangup cause. */
export function hangupCauseToSip(cause: string): number {
  switch (cause) {
    case 'UNALLOCATED_NUMBER':
    case 'NO_ROUTE_TRANSIT_NET':
    case 'NO_ROUTE_DESTINATION':
      return 404;
    case 'USER_BUSY':
      return 486;
    case 'NO_USER_RESPONSE':
      return 408;
    case 'CALL_REJECTED':
    case 'DECLINE':
      return 603;
    case 'DESTINATION_OUT_OF_ORDER':
    case 'INVALID_PROFILE':
      return 502;
    case 'INVALID_NUMBER_FORMAT':
    case 'INVALID_GATEWAY':
      return 484;
    case 'REQUESTED_CHAN_UNAVAIL':
    case 'NORMAL_CIRCUIT_CONGESTION':
    case 'NETWORK_OUT_OF_ORDER':
    case 'NORMAL_TEMPORARY_FAILURE':
    case 'SWITCH_CONGESTION':
    case 'GATEWAY_DOWN':
      return 503;
    case 'RECOVERY_ON_TIMER_EXPIRE':
      return 504;
    case 'ORIGINATOR_CANCEL':
      return 487;
    default:
      // NO_ANSWER, NORMAL_CLEARING, NORMAL_UNSPECIFIED and anything unlisted
      return 480;
  }
}

/** The DIALSTATUS value FreeSWITCH sets for an originate cause. */
export function dialStatus(cause: string): string {
  switch (cause) {
    case 'SUCCESS':
      return 'SUCCESS';
    case 'USER_BUSY':
      return 'BUSY';
    case 'NO_ANSWER':
    case 'NO_USER_RESPONSE':
      return 'NOANSWER';
    case 'ORIGINATOR_CANCEL':
      return 'CANCEL';
    case 'DESTINATION_OUT_OF_ORDER':
    case 'INVALID_PROFILE':
      // switch_ivr_originate: a leg the switch itself could not create (throttle, session limit, bad profile).
      return 'INVALIDARGS';
    case 'UNALLOCATED_NUMBER':
    case 'NO_ROUTE_DESTINATION':
      return 'INVALIDARGS';
    case 'NORMAL_CIRCUIT_CONGESTION':
      return 'CONGESTION';
    default:
      return 'CHANUNAVAIL';
  }
}

/** FreeSWITCH's switch_true(): "true", "yes", "on", "enabled", "active", "allow", or a non-zero number. */
export function switchTrue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'on', 'enabled', 'active', 'allow', 't'].includes(v)) return true;
  return /^-?\d+$/.test(v) && Number(v) !== 0;
}

export type AnswerState = 'ringing' | 'early' | 'answered' | 'hangup';
export type CallState = 'DOWN' | 'RINGING' | 'EARLY' | 'ACTIVE' | 'HANGUP';

export interface CallerProfile {
  direction: 'inbound' | 'outbound';
  /** Differs from direction on a bridge's B-leg (outbound, logically inbound). */
  logicalDirection?: 'inbound' | 'outbound';
  username: string;
  dialplan: string;
  callerIdName: string;
  callerIdNumber: string;
  calleeIdName?: string;
  calleeIdNumber?: string;
  networkAddr: string;
  ani: string;
  destinationNumber: string;
  source: string;
  context: string;
  channelName: string;
}

/** Microsecond epoch timestamps as FreeSWITCH keeps them ("0" when not reached). */
export interface ChannelTimes {
  created: number;
  answered: number;
  progress: number;
  progressMedia: number;
  hangup: number;
  bridged: number;
}

export const nowMicros = (): number => Date.now() * 1000;

/** How much of the real variable list to carry: `full` matches the recordings, `lean` keeps what apps read. */
export type ChannelDetail = 'full' | 'lean';

export class PeerChannel {
  readonly uuid: string;
  readonly profile: CallerProfile;
  readonly vars = new Map<string, string>();
  private profileCache: { key: string; plain?: string; json?: string } = { key: '' };
  readonly times: ChannelTimes;
  state = 'CS_EXECUTE';
  /** FreeSWITCH reports the hangup state number (10) while the state name still says CS_EXECUTE. */
  stateNumberOverride: number | undefined;
  callState: CallState = 'RINGING';
  answerState: AnswerState = 'ringing';
  hangupCause: string | undefined;
  hitDialplan = true;
  hasMedia = true;
  /** The leg on the other side of the last bridge, and which role it played. */
  otherLeg: { channel: PeerChannel; type: 'originatee' | 'originator' } | undefined;

  constructor(uuid: string, profile: CallerProfile, readonly detail: ChannelDetail = 'full') {
    this.uuid = uuid;
    this.profile = profile;
    const t = nowMicros();
    this.times = { created: t, answered: 0, progress: 0, progressMedia: 0, hangup: 0, bridged: 0 };
  }

  get up(): boolean {
    return this.answerState !== 'hangup';
  }

  get answered(): boolean {
    return this.times.answered > 0;
  }

  /** Like switch_channel_set_variable: a re-set variable moves to the end of the list. */
  setVar(name: string, value: string | undefined): void {
    this.vars.delete(name);
    if (value !== undefined && value !== '') this.vars.set(name, value);
  }

  /** Sets a variable only in the full detail profile (cosmetic variables the app never reads). */
  setDetailVar(name: string, value: string): void {
    if (this.detail === 'full') this.setVar(name, value);
  }

  getVar(name: string): string | undefined {
    return this.vars.get(name);
  }

  /** Caller profile headers with a prefix ("Caller", "Channel", "Other-Leg"); empty values are left out. */
  profileHeaders(prefix: string, out: Header[]): void {
    const p = this.profile;
    const t = this.times;
    const names = prefixedNames(prefix);
    const add = (name: string, value: string | undefined): void => {
      if (value !== undefined && value !== '') out.push([names(name), value]);
    };
    add('Direction', p.direction);
    add('Logical-Direction', p.logicalDirection ?? p.direction);
    add('Username', p.username);
    add('Dialplan', p.dialplan);
    add('Caller-ID-Name', p.callerIdName);
    add('Caller-ID-Number', p.callerIdNumber);
    add('Orig-Caller-ID-Name', p.callerIdName);
    add('Orig-Caller-ID-Number', p.callerIdNumber);
    add('Callee-ID-Name', p.calleeIdName);
    add('Callee-ID-Number', p.calleeIdNumber);
    add('Network-Addr', p.networkAddr);
    add('ANI', p.ani);
    add('Destination-Number', p.destinationNumber);
    add('Unique-ID', this.uuid);
    add('Source', p.source);
    add('Context', p.context);
    add('Channel-Name', p.channelName);
    if (prefix !== 'Other-Leg') add('Profile-Index', '1');
    add('Profile-Created-Time', String(t.created));
    add('Channel-Created-Time', String(t.created));
    add('Channel-Answered-Time', String(t.answered));
    add('Channel-Progress-Time', String(t.progress));
    add('Channel-Progress-Media-Time', String(t.progressMedia));
    add('Channel-Hangup-Time', String(t.hangup));
    add('Channel-Transfer-Time', '0');
    add('Channel-Resurrect-Time', '0');
    add('Channel-Bridged-Time', String(t.bridged));
    add('Channel-Last-Hold', '0');
    add('Channel-Hold-Accum', '0');
    add('Screen-Bit', 'true');
    add('Privacy-Hide-Name', 'false');
    add('Privacy-Hide-Number', 'false');
  }

  /** switch_channel_event_set_basic_data: state, names, answer state, codecs. */
  private basicHeaders(out: Header[]): void {
    out.push(
      ['Channel-State', this.state],
      ['Channel-Call-State', this.callState],
      ['Channel-State-Number', String(this.stateNumberOverride ?? STATE_NUMBER[this.state] ?? 0)],
      ['Channel-Name', this.profile.channelName],
      ['Unique-ID', this.uuid],
      ['Call-Direction', this.profile.direction],
      ['Presence-Call-Direction', this.profile.direction],
      ['Channel-HIT-Dialplan', this.hitDialplan ? 'true' : 'false'],
      ['Channel-Call-UUID', this.uuid],
      ['Answer-State', this.answerState],
    );
    if (this.hangupCause) out.push(['Hangup-Cause', this.hangupCause]);
    if (this.hasMedia) {
      out.push(
        ['Channel-Read-Codec-Name', 'PCMA'],
        ['Channel-Read-Codec-Rate', '8000'],
        ['Channel-Read-Codec-Bit-Rate', '64000'],
        ['Channel-Write-Codec-Name', 'PCMA'],
        ['Channel-Write-Codec-Rate', '8000'],
        ['Channel-Write-Codec-Bit-Rate', '64000'],
      );
    }
  }

  /** Caller-* headers, then Other-Type and Other-Leg-* when the channel has been bridged. */
  profileList(): Header[] {
    const out: Header[] = [];
    this.profileHeaders('Caller', out);
    if (this.otherLeg) {
      out.push(['Other-Type', this.otherLeg.type]);
      this.otherLeg.channel.profileHeaders('Other-Leg', out);
    }
    return out;
  }

  /** The profile block serialized, cached while the times, callee and other leg stay the same. */
  profileBlock(format: 'plain' | 'json'): string {
    const t = this.times;
    const o = this.otherLeg?.channel;
    const key = `${t.answered},${t.progress},${t.progressMedia},${t.bridged},${t.hangup},${this.profile.calleeIdNumber ?? ''},${this.profile.callerIdNumber}${
      o ? `|${o.uuid},${o.times.answered},${o.times.progress},${o.times.hangup}` : ''
    }`;
    if (this.profileCache.key !== key) this.profileCache = { key };
    const cached = this.profileCache[format];
    if (cached !== undefined) return cached;
    const list = this.profileList();
    const text = format === 'plain' ? plainLines(list) : jsonMembers(list);
    this.profileCache[format] = text;
    return text;
  }

  private variableHeaders(out: Header[]): void {
    for (const [name, value] of this.vars) out.push([`variable_${name}`, value]);
  }

  /**
   * An event about this channel, in parts.
   * `leading` goes right after Event-Sequence (Bridge-A/B-Unique-ID, the first Hangup-Cause of HANGUP_COMPLETE);
   * `trailing` goes after the variables (Application, Application-UUID ...).
   */
  eventParts(
    ident: SwitchIdentity,
    name: string,
    seq: number,
    opts: { leading?: Header[]; trailing?: Header[]; withVariables?: boolean } = {},
  ): EventParts {
    const head = eventBase(ident, name, seq);
    if (opts.leading) head.push(...opts.leading);
    this.basicHeaders(head);
    return { head, channel: this, withVars: opts.withVariables !== false, tail: opts.trailing ?? [] };
  }

  /** `api uuid_dump <uuid>`: CHANNEL_DATA raised by mod_commands, the basic data, profiles and variables. */
  dumpHeaders(ident: SwitchIdentity, seq: number): Header[] {
    const out = eventBase(ident, 'CHANNEL_DATA', seq).map((h): Header => {
      if (h[0] === 'Event-Calling-File') return [h[0], 'mod_commands.c'];
      if (h[0] === 'Event-Calling-Function') return [h[0], 'uuid_dump_function'];
      if (h[0] === 'Event-Calling-Line-Number') return [h[0], '6468'];
      return h;
    });
    this.basicHeaders(out);
    out.push(...this.profileList());
    this.variableHeaders(out);
    return out;
  }

  /** One row of `show channels as json`, with the columns of the recorded 1.10.12 reply (no variables). */
  showChannelsRow(hostname: string): Record<string, string> {
    const p = this.profile;
    const created = new Date(Math.floor(this.times.created / 1000));
    const bridgedTo = this.otherLeg?.channel;
    const isB = p.direction === 'outbound' && this.otherLeg?.type === 'originator';
    const codec = this.hasMedia ? 'PCMA' : '';
    return {
      uuid: this.uuid,
      direction: p.direction,
      created: localStamp(created),
      created_epoch: String(Math.floor(created.getTime() / 1000)),
      name: p.channelName,
      state: this.state,
      cid_name: p.callerIdName,
      cid_num: p.callerIdNumber,
      ip_addr: p.networkAddr,
      dest: p.destinationNumber,
      application: isB ? '' : (this.getVar('current_application') ?? ''),
      application_data: isB ? '' : (this.getVar('current_application_data') ?? ''),
      dialplan: p.dialplan,
      context: p.context,
      read_codec: codec,
      read_rate: codec ? '8000' : '',
      read_bit_rate: codec ? '64000' : '',
      write_codec: codec,
      write_rate: codec ? '8000' : '',
      write_bit_rate: codec ? '64000' : '',
      secure: '',
      hostname,
      presence_id: '',
      presence_data: '',
      accountcode: '',
      callstate: this.callState,
      callee_name: p.calleeIdName ?? '',
      callee_num: p.calleeIdNumber ?? '',
      callee_direction: p.calleeIdNumber ? 'SEND' : '',
      // A B-leg's call uuid is its originator's, ringing or bridged (recorded: the buyer row names the caller).
      call_uuid: this.getVar('call_uuid') ?? this.uuid,
      sent_callee_name: isB && bridgedTo ? bridgedTo.profile.callerIdName : (this.getVar('last_sent_callee_id_name') ?? ''),
      sent_callee_num: isB && bridgedTo ? bridgedTo.profile.callerIdNumber : (this.getVar('last_sent_callee_id_number') ?? ''),
      initial_cid_name: p.callerIdName,
      initial_cid_num: p.callerIdNumber,
      initial_ip_addr: p.networkAddr,
      initial_dest: p.destinationNumber,
      initial_dialplan: p.dialplan,
      initial_context: p.context,
    };
  }

  /**
   * The `connect` reply of an outbound socket, serialized as switch_event_serialize writes it (URL-encoded lines):
   * CHANNEL_DATA with the Channel- profile, basic data, Caller-/Other-Leg- profiles and variables, then the reply
   * headers. Rendered as pieces and joined once; the variables go straight from the channel to their cached lines.
   */
  channelDataPlain(ident: SwitchIdentity, seq: number, socketMode: 'async' | 'static', control: 'full' | 'single-channel'): string {
    const head = this.channelDataHead(ident, seq);
    const tail = connectReplyTail(socketMode, control);
    const out = new Array<string>(head.length + 1 + this.vars.size + tail.length + 1);
    let n = putPlainLines(out, 0, head);
    out[n++] = this.profileBlock('plain');
    n = putVariables(out, n, this.vars, 'plain');
    n = putPlainLines(out, n, tail);
    out[n] = plainTail();
    return out.join('');
  }

  private channelDataHead(ident: SwitchIdentity, seq: number): Header[] {
    const out = eventBase(ident, 'CHANNEL_DATA', seq);
    this.profileHeaders('Channel', out);
    this.basicHeaders(out);
    return out;
  }
}

const connectReplyTail = (socketMode: string, control: string): Header[] => [
  ['Content-Type', 'command/reply'],
  ['Reply-Text', '+OK\n'],
  ['Socket-Mode', socketMode],
  ['Control', control],
];

/** `<prefix>-<name>` header names, made once per prefix and name rather than per event. */
const PREFIXED = new Map<string, Map<string, string>>();
function prefixedNames(prefix: string): (name: string) => string {
  let names = PREFIXED.get(prefix);
  if (!names) PREFIXED.set(prefix, (names = new Map()));
  const table = names;
  return (name) => {
    let full = table.get(name);
    if (full === undefined) table.set(name, (full = `${prefix}-${name}`));
    return full;
  };
}

/** The headers every event starts with. */
let dateCache = { ms: -1, local: '', gmt: '', micros: '' };

/** The three date headers, computed once per millisecond. */
function eventDates(): typeof dateCache {
  const ms = Date.now();
  if (dateCache.ms !== ms) {
    const d = new Date(ms);
    dateCache = { ms, local: localStamp(d), gmt: d.toUTCString(), micros: String(ms * 1000) };
  }
  return dateCache;
}

export function eventBase(ident: SwitchIdentity, name: string, seq: number): Header[] {
  const dates = eventDates();
  const origin = ORIGIN[name] ?? ['switch_event.c', 'switch_event_fire_detailed', '0'];
  return [
    ['Event-Name', name],
    ['Core-UUID', ident.coreUuid],
    ['FreeSWITCH-Hostname', ident.hostname],
    ['FreeSWITCH-Switchname', ident.hostname],
    ['FreeSWITCH-IPv4', ident.ipv4],
    ['FreeSWITCH-IPv6', ident.ipv6],
    ['Event-Date-Local', dates.local],
    ['Event-Date-GMT', dates.gmt],
    ['Event-Date-Timestamp', dates.micros],
    ['Event-Calling-File', origin[0]],
    ['Event-Calling-Function', origin[1]],
    ['Event-Calling-Line-Number', origin[2]],
    ['Event-Sequence', String(seq)],
  ];
}

/** "YYYY-MM-DD HH:MM:SS" (the peer's switch runs on UTC). */
export function localStamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
