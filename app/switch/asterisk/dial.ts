/**
 * What the adapter puts in an originate: the PJSIP dial string for a buyer or a consumer, the caller id and the
 * Stasis args. Values are checked, since a comma or slash in them would change what Asterisk dials or passes on.
 */
import { parseDestination } from '../../domain/destination';
import type { Destination } from '../port';

export type Built = { ok: true; value: string } | { ok: false; reason: string };

const SIP_URI = /^sips?:([A-Za-z0-9+._*#-]+)@([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/i;
const E164 = /^\+?[1-9]\d{6,14}$/;
const ENDPOINT_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const RAW_PJSIP = /^PJSIP\/[A-Za-z0-9+._@:-]+(?:\/sips?:[A-Za-z0-9+._*#@:-]+)?$/;
const SAFE_ARG = /^[A-Za-z0-9._:@+-]{1,128}$/;
const CALLER_ID = /^[+0-9*#]{1,32}$/;

function trunkName(trunk: string | undefined, what: string): Built {
  if (!trunk) return { ok: false, reason: `no PJSIP trunk configured to dial ${what}` };
  if (!ENDPOINT_NAME.test(trunk)) return { ok: false, reason: `bad PJSIP trunk name '${trunk}'` };
  return { ok: true, value: trunk };
}

/**
 * `PJSIP/<number>@<trunk>` for an E.164 number, `PJSIP/<trunk>/sip:user@host[:port]` for a SIP URI,
 * `PJSIP/<endpoint>` for a bare endpoint name (one pjsip.conf endpoint per buyer), or a checked `PJSIP/...`.
 */
export function buyerEndpoint(to: Destination, trunk: string | undefined): Built {
  const uri = to.uri.trim();
  // The one destination rule, the config API's too (app/domain/destination.ts), for SIP URIs and numbers. Asterisk's
  // own forms (PJSIP/..., a pjsip.conf endpoint name) are an operator's, set in the switch: the API never stores them.
  const checked = RAW_PJSIP.test(uri) || ENDPOINT_NAME.test(uri) ? undefined : parseDestination(uri);
  if (checked && !checked.ok) return checked;
  if (RAW_PJSIP.test(uri)) return { ok: true, value: uri };
  const sip = SIP_URI.exec(uri);
  if (sip) {
    const t = trunkName(trunk, uri);
    if (!t.ok) return t;
    const port = sip[3];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { ok: false, reason: `bad port in '${uri}'` };
    return { ok: true, value: `PJSIP/${t.value}/sip:${sip[1]}@${sip[2]}${port ? `:${port}` : ''}` };
  }
  const number = uri.replace(/^tel:/i, '');
  if (E164.test(number)) return consumerEndpoint(number, trunk);
  if (ENDPOINT_NAME.test(uri)) return { ok: true, value: `PJSIP/${uri}` };
  return { ok: false, reason: `'${to.uri}' is neither a SIP URI, an E.164 number nor a PJSIP endpoint name` };
}

/** `PJSIP/+<number>@<trunk>` for a consumer number. */
export function consumerEndpoint(number: string, trunk: string | undefined): Built {
  const n = number.trim().replace(/^tel:/i, '');
  if (!E164.test(n)) return { ok: false, reason: `'${number}' is not an E.164 number` };
  const t = trunkName(trunk, n);
  if (!t.ok) return t;
  return { ok: true, value: `PJSIP/${n.startsWith('+') ? n : `+${n}`}@${t.value}` };
}

/** The caller id to present, or undefined when it is not a plain number (Asterisk would parse it as a name). */
export function callerIdParam(number: string): string | undefined {
  const n = number.trim();
  return CALLER_ID.test(n) ? n : undefined;
}

/** Stasis args are comma-separated: only safe values go in. */
export function stasisArgs(parts: string[]): Built {
  for (const p of parts) if (!SAFE_ARG.test(p)) return { ok: false, reason: `unsafe Stasis argument '${p}'` };
  return { ok: true, value: parts.join(',') };
}

/** Tags become channel variables CALLX_<TAG> on the buyer leg (for CDRs and the switch's logs). */
export function tagVariables(tags: Record<string, string> | undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) {
    const name = `CALLX_${k.replace(/^callx_/i, '').toUpperCase()}`;
    if (/^[A-Z][A-Z0-9_]{0,40}$/.test(name) && SAFE_ARG.test(v)) vars[name] = v;
  }
  return vars;
}
