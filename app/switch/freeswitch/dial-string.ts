/**
 * Builds the FreeSWITCH dial strings the adapter sends: the `bridge` argument for a buyer and the `originate`
 * command for a consumer. Everything that ends up in them is validated, since a comma, brace, space or newline in
 * a value would change what FreeSWITCH executes.
 */
import { parseDestination } from '../../domain/destination';
import type { BridgeOptions, Destination, OriginateRequest } from '../port';

export type Built = { ok: true; value: string } | { ok: false; reason: string };

const SIP_URI = /^sips?:([A-Za-z0-9+._*#-]+)@([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?((?:;transport=(?:udp|tcp|tls))?)$/i;
const E164 = /^\+?[1-9]\d{6,14}$/;
const SAFE_VALUE = /^[A-Za-z0-9+._:@-]{1,128}$/;
const SAFE_KEY = /^[a-z][a-z0-9_]{0,40}$/;
const SAFE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export interface DialConfig {
  sofiaProfile: string;
  /** Gateway for E.164 buyer numbers (sofia/gateway/<gw>/<number>). */
  buyerGateway?: string;
}

/** `sofia/<profile>/user@host[:port]` for a SIP URI, `sofia/gateway/<gw>/<number>` for an E.164 number. */
export function endpointFor(uri: string, cfg: DialConfig, gateway: string | undefined): Built {
  // The one destination rule, the config API's too (app/domain/destination.ts).
  const checked = parseDestination(uri);
  if (!checked.ok) return checked;
  const sip = SIP_URI.exec(uri.trim());
  if (sip) {
    if (!SAFE_NAME.test(cfg.sofiaProfile)) return { ok: false, reason: `bad sofia profile name '${cfg.sofiaProfile}'` };
    const [, user, host, port, params] = sip;
    const portNum = port === undefined ? undefined : Number(port);
    if (portNum !== undefined && (portNum < 1 || portNum > 65535)) return { ok: false, reason: `bad port in '${uri}'` };
    return { ok: true, value: `sofia/${cfg.sofiaProfile}/${user}@${host}${port ? `:${port}` : ''}${params ?? ''}` };
  }
  const number = uri.trim().replace(/^tel:/i, '');
  if (E164.test(number)) {
    if (!gateway) return { ok: false, reason: `no gateway configured to dial the number ${number}` };
    if (!SAFE_NAME.test(gateway)) return { ok: false, reason: `bad gateway name '${gateway}'` };
    return { ok: true, value: `sofia/gateway/${gateway}/${number.startsWith('+') ? number : `+${number}`}` };
  }
  return { ok: false, reason: `'${uri}' is neither a sip: URI nor an E.164 number` };
}

/** `{var=value,...}` with values checked; entries with an unsafe value are dropped (and reported). */
function varBlock(vars: Array<[string, string]>): { text: string; dropped: string[] } {
  const parts: string[] = [];
  const dropped: string[] = [];
  for (const [k, v] of vars) {
    if (SAFE_KEY.test(k) && SAFE_VALUE.test(v)) parts.push(`${k}=${v}`);
    else dropped.push(k);
  }
  return { text: `{${parts.join(',')}}`, dropped };
}

/** The channel variable a bridge tag becomes: `callx_<tag>`, lower case, never `callx_callx_...`. */
export function tagVariable(tag: string): string {
  const k = tag.toLowerCase();
  return k.startsWith('callx_') ? k : `callx_${k}`;
}

/** FreeSWITCH counts originate_timeout in whole seconds. */
const wholeSeconds = (sec: number): number => Math.max(1, Math.ceil(sec));

export function bridgeArgument(to: Destination, opts: BridgeOptions, cfg: DialConfig): Built & { dropped?: string[] } {
  if (!(Number.isFinite(opts.answerTimeoutSec) && opts.answerTimeoutSec > 0)) {
    return { ok: false, reason: `bad answer timeout ${opts.answerTimeoutSec}` };
  }
  const endpoint = endpointFor(to.uri, cfg, cfg.buyerGateway);
  if (!endpoint.ok) return endpoint;
  const vars: Array<[string, string]> = [
    ['origination_caller_id_number', opts.callerIdNumber],
    ['originate_timeout', String(wholeSeconds(opts.answerTimeoutSec))],
  ];
  // Tags become callx_* variables; a tag already named callx_* (the flow's callx_call_id) is not prefixed twice.
  for (const [k, v] of Object.entries(opts.tags ?? {})) vars.push([tagVariable(k), v]);
  const { text, dropped } = varBlock(vars);
  return { ok: true, value: `${text}${endpoint.value}`, dropped };
}

/** Where FreeSWITCH should connect for an answered originated call, and the `&socket(...)` application for it. */
/**
 * A zip or lead id with characters a dial string cannot carry is left off the leg (`dropped`): the node that dials
 * still has them (OutboundClearances); only a node that adopts the answered call would not.
 */
export function originateCommand(req: OriginateRequest, cfg: DialConfig & { consumerGateway?: string; socketAddress: string }): Built & { dropped?: string[] } {
  if (!(Number.isFinite(req.answerTimeoutSec) && req.answerTimeoutSec > 0)) {
    return { ok: false, reason: `bad answer timeout ${req.answerTimeoutSec}` };
  }
  const endpoint = endpointFor(req.to, cfg, cfg.consumerGateway ?? cfg.buyerGateway);
  if (!endpoint.ok) return endpoint;
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(cfg.socketAddress)) {
    return { ok: false, reason: `bad socket address '${cfg.socketAddress}'` };
  }
  const { text, dropped } = varBlock([
    ['origination_caller_id_number', req.callerIdNumber],
    ['originate_timeout', String(wholeSeconds(req.answerTimeoutSec))],
    ['ignore_early_media', 'true'],
    ['callx_call_id', req.callId],
    ['callx_campaign_id', req.campaignId],
    // Read back from the answered leg (channel-data.ts): a node that did not dial the call still knows them.
    ...(req.zip ? ([['callx_zip', req.zip]] as Array<[string, string]>) : []),
    ...(req.leadId ? ([['callx_lead_id', req.leadId]] as Array<[string, string]>) : []),
  ]);
  if (dropped.includes('callx_call_id') || dropped.includes('callx_campaign_id')) {
    return { ok: false, reason: `unsafe characters in ${dropped.join(', ')}` };
  }
  return { ok: true, value: `originate ${text}${endpoint.value} '&socket(${cfg.socketAddress} async full)'`, dropped };
}
