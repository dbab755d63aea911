/**
 * Where a buyer's calls go: the one rule for destinations, applied where a destination is accepted (the config
 * API) and where it is dialled (both switch adapters), so the API never stores what a switch would refuse.
 *
 * A destination is a SIP URI `sip:user@host[:port]` (or `sips:`) with a plain user part (letters, digits and
 * `+ . _ * # -`) and a host name, IPv4 or bracketed IPv6 address, or an E.164 number (`+` optional, `tel:`
 * allowed). Nothing else: no URI parameters or headers, no spaces, braces, commas, quotes or newlines, since each
 * switch writes the destination into a dial string where those characters change what it executes (a
 * FreeSWITCH `{var=value}` block, an Asterisk `PJSIP/...` argument list).
 */
export type Destination =
  | { kind: 'sip'; scheme: 'sip' | 'sips'; user: string; host: string; port?: number }
  | { kind: 'number'; e164: string };

export type DestinationCheck = ({ ok: true } & Destination) | { ok: false; reason: string };

const SIP_URI = /^(sips?):([A-Za-z0-9+._*#-]{1,64})@([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::(\d{1,5}))?$/i;
const E164 = /^\+?[1-9]\d{6,14}$/;

export function parseDestination(raw: string): DestinationCheck {
  const uri = raw.trim();
  if (uri.length === 0) return { ok: false, reason: 'the destination is empty' };
  if (uri.length > 300) return { ok: false, reason: 'the destination is longer than 300 characters' };
  const sip = SIP_URI.exec(uri);
  if (sip) {
    const [, scheme, user, host, port] = sip;
    if (port === undefined) return { ok: true, kind: 'sip', scheme: scheme!.toLowerCase() as 'sip' | 'sips', user: user!, host: host! };
    const portNum = Number(port);
    if (portNum < 1 || portNum > 65535) return { ok: false, reason: `bad port in '${uri}'` };
    return { ok: true, kind: 'sip', scheme: scheme!.toLowerCase() as 'sip' | 'sips', user: user!, host: host!, port: portNum };
  }
  const number = uri.replace(/^tel:/i, '');
  if (E164.test(number)) return { ok: true, kind: 'number', e164: number.startsWith('+') ? number : `+${number}` };
  if (/^sips?:/i.test(uri)) return { ok: false, reason: `'${clip(uri)}' is not a plain SIP URI sip:user@host[:port] (no parameters, headers or special characters)` };
  return { ok: false, reason: `'${clip(uri)}' is neither a sip: URI nor an E.164 number` };
}

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 80)}...` : s);
