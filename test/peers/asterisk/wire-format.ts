/**
 * The JSON Asterisk 22 puts on the wire: channel, bridge and playback objects and the event envelope, with keys in
 * the order of the recorded sessions (test/fixtures/asterisk/recorded.json). Builders only: no state here.
 */

export interface CallerIdJson {
  name: string;
  number: string;
}

export interface DialplanJson {
  context: string;
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

export interface ChannelJson {
  id: string;
  name: string;
  state: string;
  protocol_id: string;
  caller: CallerIdJson;
  connected: CallerIdJson;
  accountcode: string;
  dialplan: DialplanJson;
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
}

export interface BridgeJson {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class: string;
  creator: string;
  name: string;
  channels: string[];
  creationtime: string;
  video_mode: string;
}

export interface PlaybackJson {
  id: string;
  media_uri: string;
  target_uri: string;
  language: string;
  state: 'queued' | 'playing' | 'continuing' | 'done' | 'failed';
}

export type EventJson = Record<string, unknown> & { type: string };

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Asterisk's ARI timestamp: `2026-11-24T09:07:50.955+0000` (we always report UTC). */
export function ariTimestamp(ms: number = Date.now()): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+0000`
  );
}

/**
 * An event envelope. Most events start with `type, timestamp`; ChannelVarset and ChannelHangupRequest carry their
 * own fields first (`variable, value` / `cause, soft`), as Asterisk merges them in before the common ones.
 */
export function eventJson(
  type: string,
  fields: Record<string, unknown>,
  ctx: { application: string; asteriskId: string; leading?: Record<string, unknown>; now?: number },
): EventJson {
  return {
    ...ctx.leading,
    type,
    timestamp: ariTimestamp(ctx.now),
    ...fields,
    asterisk_id: ctx.asteriskId,
    application: ctx.application,
  };
}

/** `"Name" <number>`, `Name <number>`, a bare number or a bare name, parsed as Asterisk's callerid parser does. */
export function parseCallerId(text: string | undefined): CallerIdJson {
  if (!text) return { name: '', number: '' };
  const angle = /^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*$/.exec(text);
  if (angle) return { name: (angle[1] ?? angle[2] ?? '').trim(), number: (angle[3] ?? '').trim() };
  const bare = text.trim().replace(/^"|"$/g, '');
  return /^[+\d*#()\s.-]+$/.test(bare) ? { name: '', number: bare.replace(/[\s().-]/g, '') } : { name: bare, number: '' };
}
