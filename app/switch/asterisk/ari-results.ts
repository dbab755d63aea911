/**
 * What every AriRest implementation shares: ARI error bodies mapped to an AriErrorKind, and result bodies reduced
 * to the plain AriChannel / AriBridge shapes the adapter reads (nothing else of the switch's JSON is kept).
 */
import type { AriBridge, AriChannel } from './ari-model';
import type { AriErrorKind } from './ari-rest';

/** The text of an ARI error body: `{"message": ...}`, or `{"error": ...}` (Allocation failed); else the text. */
export function bodyMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof body.message === 'string') return body.message;
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not a JSON body: use the text as is
  }
  return text;
}

/** The kind of an ARI error, from its message (and the status when known: 404 is always not_found). */
export function errorKind(message: string, status?: number): AriErrorKind {
  if (status === 404 || /not found/i.test(message)) return 'not_found';
  if (/not in Stasis/i.test(message)) return 'not_in_stasis';
  if (/Allocation failed/i.test(message)) return 'allocation_failed';
  if (/already exists/i.test(message)) return 'conflict';
  return 'other';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function plainChannel(o: unknown): AriChannel {
  const c = (o ?? {}) as Record<string, unknown>;
  const caller = (c.caller ?? {}) as Record<string, unknown>;
  const ch: AriChannel = { id: str(c.id), name: str(c.name), state: str(c.state), caller: { name: str(caller.name), number: str(caller.number) } };
  if (c.dialplan && typeof c.dialplan === 'object') ch.dialplan = { ...(c.dialplan as NonNullable<AriChannel['dialplan']>) };
  if (c.channelvars && typeof c.channelvars === 'object') ch.channelvars = { ...(c.channelvars as Record<string, string>) };
  if (typeof c.creationtime === 'string') ch.creationtime = c.creationtime;
  return ch;
}

export function plainBridge(o: unknown): AriBridge {
  const b = (o ?? {}) as Record<string, unknown>;
  const bridge: AriBridge = { id: str(b.id), name: str(b.name), bridge_type: str(b.bridge_type), channels: Array.isArray(b.channels) ? b.channels.map(String) : [] };
  if (typeof b.creationtime === 'string') bridge.creationtime = b.creationtime;
  return bridge;
}
