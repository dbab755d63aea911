/**
 * The CallInfo of a call handed to the pipeline, read off the StasisStart channel snapshot: ANI from the caller
 * number, DNIS from the dialplan extension, and what the dialplan put in channel variables (ari.conf
 * `channelvars` makes Asterisk send them with every snapshot; see asterisk-conf/).
 */
import type { CallInfo } from '../port';
import type { AriChannel } from './ari-model';

/** Channel variables the dialplan sets before Stasis (asterisk-conf/extensions.conf). */
export const CHANNEL_VARS = {
  /** the carrier's X-Attestation header (older dialplans: the P-Asserted-Identity when no header came) */
  attestation: 'CALLX_ATTESTATION',
  /** the carrier's P-Asserted-Identity, whose verstat= parameter is read */
  identity: 'CALLX_IDENTITY',
  leadId: 'CALLX_LEAD_ID',
  zip: 'CALLX_ZIP',
} as const;

/**
 * The exchange's call id, on every leg of a call (the caller: POST .../variable before its first buyer is
 * dialled; buyer and consumer legs: the originate's `variables`), so that any node recognises a call that is
 * already ours (asterisk-conf/ari.conf lists it in `channelvars`, which puts it in every channel snapshot).
 */
export const CALL_ID_VAR = 'CALLX_CALL_ID';

const LEVEL = /^\s*([ABC])\s*$/i;
const VERSTAT_LEVEL = /TN-Validation-Passed-([ABC])\b/i;

/** `A`, `B`, `C`, or a verstat such as `TN-Validation-Passed-B`; anything else gives no attestation. */
export function readAttestation(value: string | undefined): CallInfo['attestation'] {
  if (!value) return undefined;
  const m = LEVEL.exec(value) ?? VERSTAT_LEVEL.exec(value);
  return m?.[1] ? (m[1].toUpperCase() as 'A' | 'B' | 'C') : undefined;
}

/**
 * The attestation and where it came from: a verstat (in CALLX_IDENTITY, or in CALLX_ATTESTATION from an older
 * dialplan) before a bare header level, which the exchange believes only from a trusted trunk.
 */
export function attestationOf(identity: string | undefined, header: string | undefined): Pick<CallInfo, 'attestation' | 'attestationSource'> {
  for (const v of [identity, header]) {
    const m = v ? VERSTAT_LEVEL.exec(v) : null;
    if (m?.[1]) return { attestation: m[1].toUpperCase() as 'A' | 'B' | 'C', attestationSource: 'verstat' };
  }
  const m = header ? LEVEL.exec(header) : null;
  return m?.[1] ? { attestation: m[1].toUpperCase() as 'A' | 'B' | 'C', attestationSource: 'header' } : {};
}

/** The PJSIP endpoint a channel came in on: `PJSIP/carrier-0000001a` -> `carrier`. */
const ENDPOINT = /^PJSIP\/(.+)-[0-9a-f]+$/i;

export function inboundCallInfo(ch: AriChannel, args: string[]): CallInfo {
  const vars = ch.channelvars ?? {};
  const value = (name: string): string | undefined => {
    const v = vars[name]?.trim();
    return v ? v : undefined;
  };
  const info: CallInfo = {
    switchCallId: ch.id,
    switchName: 'asterisk',
    ani: ch.caller?.number ?? '',
    dnis: ch.dialplan?.exten ?? '',
    direction: 'inbound',
  };
  const { attestation, attestationSource } = attestationOf(value(CHANNEL_VARS.identity), value(CHANNEL_VARS.attestation));
  if (attestation) info.attestation = attestation;
  if (attestationSource) info.attestationSource = attestationSource;
  const trunk = ENDPOINT.exec(ch.name ?? '')?.[1];
  if (trunk) info.carrier = { trunk };
  const leadId = value(CHANNEL_VARS.leadId);
  if (leadId) info.leadId = leadId;
  const zip = value(CHANNEL_VARS.zip);
  if (zip) info.zip = zip;
  const extra: Record<string, string> = { channel: ch.name };
  if (ch.caller?.name) extra.caller_name = ch.caller.name;
  if (args.length > 0) extra.stasis_args = args.join(',');
  const rawAttestation = value(CHANNEL_VARS.attestation);
  if (rawAttestation && !attestation) extra.attestation_raw = rawAttestation;
  info.extra = extra;
  return info;
}
