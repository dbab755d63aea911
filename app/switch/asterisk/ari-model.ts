/**
 * The ARI JSON the adapter reads (channels, bridges, events), and a guard that turns one WebSocket frame into an
 * event or a reason to ignore it: a malformed or unexpected frame must never throw out of the adapter.
 */

export interface AriCallerId {
  name: string;
  number: string;
}

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller: AriCallerId;
  connected?: AriCallerId;
  dialplan?: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  creationtime?: string;
  /** The variables listed in ari.conf `channelvars`. */
  channelvars?: Record<string, string>;
}

export interface AriBridge {
  id: string;
  name?: string;
  bridge_type?: string;
  channels: string[];
  creationtime?: string;
}

export interface AriPlayback {
  id: string;
  target_uri: string;
  state: string;
}

export interface AriEvent {
  type: string;
  timestamp?: string;
  application?: string;
  channel?: AriChannel;
  /** Dial events name the dialled channel `peer`. */
  peer?: AriChannel;
  bridge?: AriBridge;
  playback?: AriPlayback;
  args?: string[];
  cause?: number;
  tech_cause?: number;
  soft?: boolean;
  dialstatus?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function channelProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'is not an object';
  if (typeof v.id !== 'string' || v.id === '') return 'has no id';
  if (typeof v.state !== 'string') return 'has no state';
  if (v.caller !== undefined && !isObject(v.caller)) return 'has a malformed caller';
  if (v.channelvars !== undefined && v.channelvars !== null && !isObject(v.channelvars)) return 'has malformed channelvars';
  return undefined;
}

/**
 * Events no part of the adapter reads: the chatter a real switch sends about every channel (recording A-happy: 33
 * ChannelVarset, 1 ChannelConnectedLine and 2 ChannelLeftBridge of its 52 events; BRIDGEPEER, RTPAUDIOQOS... at
 * each bridge and hangup), and the bridge and dialplan moves it learns from other events. Once the app's event
 * filter is set (event-filter.ts) they no longer come; this is for an Asterisk without it (older than 16.3), and
 * for the moments before the filter is set.
 */
const UNREAD_TYPES = /"type"\s*:\s*"(?:ChannelVarset|ChannelConnectedLine|ChannelLeftBridge|ChannelDialplan|ChannelCallerId|BridgeCreated|PlaybackStarted)"/;

/**
 * True for a frame of a type the adapter never reads, told from its text without parsing it (about half the
 * event bytes of a call). Safe on the text alone: the only `"type"` key in an ARI event is the event's own (a
 * string value holding those characters is JSON-escaped, `\"type\"`, and never matches).
 */
export function isUnreadEvent(text: string): boolean {
  return UNREAD_TYPES.test(text);
}

/** Checks the fields the adapter relies on; anything else in the event is left as sent. */
export function parseEvent(text: string): { ok: true; event: AriEvent } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  if (typeof value.type !== 'string' || value.type === '') return { ok: false, reason: 'no event type' };
  for (const key of ['channel', 'peer'] as const) {
    if (value[key] === undefined) continue;
    const problem = channelProblem(value[key]);
    if (problem) return { ok: false, reason: `${value.type}: ${key} ${problem}` };
  }
  if (value.bridge !== undefined && (!isObject(value.bridge) || typeof value.bridge.id !== 'string' || !Array.isArray(value.bridge.channels))) {
    return { ok: false, reason: `${value.type}: malformed bridge` };
  }
  if (value.playback !== undefined && (!isObject(value.playback) || typeof value.playback.id !== 'string')) {
    return { ok: false, reason: `${value.type}: malformed playback` };
  }
  if (value.args !== undefined && (!Array.isArray(value.args) || value.args.some((a) => typeof a !== 'string'))) {
    return { ok: false, reason: `${value.type}: malformed args` };
  }
  for (const key of ['cause', 'tech_cause'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'number') return { ok: false, reason: `${value.type}: ${key} is not a number` };
  }
  return { ok: true, event: value as unknown as AriEvent };
}

/** An ARI timestamp (`2026-11-24T09:07:50.955+0000`) as a Date; undefined when it does not parse. */
export function ariTime(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** The event's time on the switch's clock, else now. */
export function eventTime(ev: AriEvent): Date {
  return ariTime(ev.timestamp) ?? new Date();
}

/** The channel an event is about, if any. */
export function eventChannel(ev: AriEvent): AriChannel | undefined {
  return ev.channel ?? ev.peer;
}
